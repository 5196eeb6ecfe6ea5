/*
 * fuzz_carry.c: the unpacker of a carried run's data (minga_match_carry_unpack) on hostile
 * blobs, as a remote match worker receives them from the broker.
 *
 * An unpack may fail (with a message), but must not crash, leak or read out of bounds; when it
 * succeeds, every demand carried is scored against every offer carried as one shard (the kernel
 * and the packing of the shard's lists run on what passed the checks), which must succeed.
 */
#include "minga/match_carry.h"
#include "minga/match_store.h"

#include <stdint.h>
#include <stdlib.h>
#include <string.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    minga_match_carried_t *c = NULL;
    char err[512];
    int rc = minga_match_carry_unpack(data, size, &c, err, sizeof err);
    if (rc) {
        if (c || !err[0])
            abort();
        return 0;
    }
    minga_match_shard_t job = {.event = c->event, .gen = c->gen, .shard = 0, .shards = 1};
    job.cfg = c->cfg;
    msgpack_sbuffer out;
    msgpack_sbuffer_init(&out);
    minga_match_shard_result_t res;
    if (minga_match_score_carried(c, &job, &out, &res, err, sizeof err) != 0 ||
        res.demands != c->d.ndemands)
        abort();
    msgpack_sbuffer_destroy(&out);
    minga_match_carry_destroy(&c);
    return 0;
}
