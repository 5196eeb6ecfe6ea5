/*
 * match_worker.c: minga-match-worker, the worker of `match.score` — one shard of a scoring run
 * (a range of demands of an event) scored against every offer and stored; the shard that
 * completes its run replaces the event's candidates atomically (match_store.h).
 *
 * Body of a match.score job (a msgpack map; `minga rueda score` writes it):
 *   event    str    the event's id (required)
 *   gen      uint   the run's generation number (required, >= 1)
 *   shard    uint   this shard's number, 0..shards-1 (default 0)
 *   shards   uint   shards in the run (default 1)
 *   from, to str    demand ids: from <= id < to; absent or "": no bound
 *   weights  map    match settings by name (sector_dac, ..., k_demand, k_offer); absent ones
 *                   come from the section "match" of this worker's --config, else the defaults
 * Result: {event, gen, shard, shards, demands, offers, active_offers, kept, merged, candidates}
 * (candidates: the run's total, when merged). Failures: a body that is wrong, or an event
 * that does not exist, ends the job at once (bad_body, not_found); a full store too
 * (store_full); anything else is retried.
 *
 * For the tests, MINGA_MATCH_CRASH_SHARD=N makes the first attempt of shard N kill the worker
 * between scoring and storing (see s_progress).
 *
 * The worker shares the store with the broker: it opens the store given by --store (or
 * $MINGA_STORE, or ./minga-data) for each job, in the handler's thread.
 */
#include "match_schedule.h"

#include "minga/error.h"
#include "minga/log.h"
#include "minga/match_store.h"
#include "minga/proto.h"
#include "minga/worker.h"

#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

static const char *s_store_dir;
static minga_match_config_t s_cfg;

typedef struct {
    minga_task_t *task;
    uint32_t shard;
} s_run_t;

/* Reports progress. For the tests: with MINGA_MATCH_CRASH_SHARD=N in the environment, the
 * first attempt of shard N SIGKILLs the worker once its candidates are scored and before they
 * are stored (a worker dying mid-shard). */
static void s_progress(uint64_t done, uint64_t total, const char *text, void *arg)
{
    s_run_t *run = arg;
    const char *crash = getenv("MINGA_MATCH_CRASH_SHARD");
    if (crash && *crash && done == 2 && minga_task_attempt(run->task) == 1 &&
        strtoul(crash, NULL, 10) == run->shard)
        kill(getpid(), SIGKILL);
    minga_task_progress(run->task, done, total, text);
}

/* Applies the body's "weights" map over cfg. Returns NULL or what is wrong. */
static const char *s_weights(const msgpack_object *w, minga_match_config_t *cfg, char *err,
                             size_t errcap)
{
    if (!w)
        return NULL;
    if (w->type != MSGPACK_OBJECT_MAP)
        return "weights: not a map";
    size_t n;
    const minga_cfg_t *table = minga_match_config_table(&n);
    for (uint32_t i = 0; i < w->via.map.size; i++) {
        const msgpack_object *k = &w->via.map.ptr[i].key, *v = &w->via.map.ptr[i].val;
        char name[64];
        if (k->type != MSGPACK_OBJECT_STR || k->via.str.size >= sizeof name)
            return "weights: a key is not a setting name";
        snprintf(name, sizeof name, "%.*s", (int)k->via.str.size, k->via.str.ptr);
        const minga_cfg_t *s = minga_config_find_flag(table, n, name);
        if (!s) {
            snprintf(err, errcap, "weights: unknown setting '%s'", name);
            return err;
        }
        char text[32];
        snprintf(text, sizeof text, "%llu",
                 v->type == MSGPACK_OBJECT_POSITIVE_INTEGER ? (unsigned long long)v->via.u64
                                                            : 0ull);
        if (v->type != MSGPACK_OBJECT_POSITIVE_INTEGER ||
            minga_config_set(s, cfg, text, err, errcap) != 0) {
            snprintf(err, errcap, "weights: %s must be an integer %llu..%llu", name,
                     (unsigned long long)s->min, (unsigned long long)s->max);
            return err;
        }
    }
    return NULL;
}

/* Reads the body into *job (strings borrowed from up, or copied into bufs). */
static const char *s_parse(const msgpack_object *root, minga_match_shard_t *job, char *bufs[3],
                           char *err, size_t errcap)
{
    static const minga_pfield_t fields[] = {
        {"event", MINGA_PF_STR, true, 1, MINGA_KEY_ID},
        {"gen", MINGA_PF_UINT, true, 1, UINT64_MAX},
        {"shard", MINGA_PF_UINT, false, 0, MINGA_PROTO_MAX_BATCH - 1},
        {"shards", MINGA_PF_UINT, false, 1, MINGA_PROTO_MAX_BATCH},
        {"from", MINGA_PF_STR, false, 0, MINGA_KEY_ID},
        {"to", MINGA_PF_STR, false, 0, MINGA_KEY_ID},
        {"weights", MINGA_PF_MAP, false, 0, 0},
    };
    const msgpack_object *v[7];
    if (minga_pfields(root, fields, 7, v, false, err, errcap) != 0)
        return err;
    bufs[0] = minga_pobj_strdup(v[0]);
    bufs[1] = minga_pobj_strdup(v[4]);
    bufs[2] = minga_pobj_strdup(v[5]);
    job->event = bufs[0];
    job->gen = minga_pobj_uint(v[1], 0);
    job->shard = (uint32_t)minga_pobj_uint(v[2], 0);
    job->shards = (uint32_t)minga_pobj_uint(v[3], 1);
    job->from = bufs[1];
    job->to = bufs[2];
    job->cfg = s_cfg;
    if (!bufs[0])
        return "out of memory";
    if (job->shard >= job->shards)
        return "shard must be below shards";
    return s_weights(v[6], &job->cfg, err, errcap);
}

static void s_result(minga_task_t *task, const minga_match_shard_t *job,
                     const minga_match_shard_result_t *r)
{
    minga_pbuf_t b;
    minga_pbuf_init(&b);
    msgpack_pack_map(&b.pk, 10);
    minga_pk_kv_str(&b.pk, "event", job->event);
    minga_pk_kv_uint(&b.pk, "gen", job->gen);
    minga_pk_kv_uint(&b.pk, "shard", job->shard);
    minga_pk_kv_uint(&b.pk, "shards", job->shards);
    minga_pk_kv_uint(&b.pk, "demands", r->demands);
    minga_pk_kv_uint(&b.pk, "offers", r->offers);
    minga_pk_kv_uint(&b.pk, "active_offers", r->active_offers);
    minga_pk_kv_uint(&b.pk, "kept", r->pairs_kept);
    minga_pk_kv_bool(&b.pk, "merged", r->merged);
    minga_pk_kv_uint(&b.pk, "candidates", r->total_candidates);
    minga_task_set_result(task, (const uint8_t *)b.sbuf.data, b.sbuf.size);
    minga_pbuf_clear(&b);
}

static int s_score(minga_task_t *task, void *arg)
{
    (void)arg;
    size_t len;
    const uint8_t *body = minga_task_body(task, &len);
    msgpack_unpacked up;
    msgpack_unpacked_init(&up);
    msgpack_object *root = NULL;
    char err[512] = "", *bufs[3] = {NULL, NULL, NULL};
    minga_match_shard_t job;
    memset(&job, 0, sizeof job);
    const char *bad = NULL;
    int rc = MINGA_EFORMAT;
    if (minga_proto_body_decode(body, len, &up, &root, err, sizeof err) != 0)
        bad = err;
    else
        bad = s_parse(root, &job, bufs, err, sizeof err);
    if (bad) {
        minga_task_fail(task, false, "bad_body", "match.score: %s", bad);
        goto done;
    }
    minga_store_t *store = NULL;
    if ((rc = minga_store_open(&store, s_store_dir, 0)) != 0) {
        minga_task_fail(task, true, "store", "cannot open the store %s: %s", s_store_dir,
                        minga_strerror(rc));
        goto done;
    }
    minga_match_shard_result_t res;
    s_run_t run = {task, job.shard};
    rc = minga_match_run_shard(store, &job, s_progress, &run, &res, err, sizeof err);
    minga_store_destroy(&store);
    if (rc == 0) {
        s_result(task, &job, &res);
        minga_info("match.score %s shard %u/%u: %zu demands, %zu kept%s (read %llu ms, score %llu "
                   "ms, pack %llu ms, store %llu ms, merge %llu ms, cpu %llu ms: %zu written, %zu "
                   "deleted)",
                   job.event, job.shard + 1, job.shards, res.demands, res.pairs_kept,
                   res.merged    ? ", run merged"
                   : res.already ? ", run already merged"
                                 : "",
                   (unsigned long long)res.read_ms, (unsigned long long)res.score_ms,
                   (unsigned long long)res.pack_ms, (unsigned long long)res.store_ms,
                   (unsigned long long)res.merge_ms, (unsigned long long)res.merge_cpu_ms,
                   res.merge_puts, res.merge_dels);
    } else if (rc == MINGA_ENOTFOUND || rc == MINGA_EINVAL) {
        minga_task_fail(task, false, rc == MINGA_ENOTFOUND ? "not_found" : "bad_body", "%s", err);
    } else if (rc == MINGA_EMAPFULL) {
        minga_task_fail(task, false, "store_full", "the store is full: %s", err);
    } else {
        minga_task_fail(task, true, "match_error", "%s", err);
    }
done:
    for (int i = 0; i < 3; i++)
        free(bufs[i]);
    msgpack_unpacked_destroy(&up);
    return rc;
}

static minga_handler_t s_handlers[] = {{"match.score", s_score, NULL},
                                       {"match.schedule", minga_match_schedule_handler, NULL},
                                       {NULL, NULL, NULL}};

int main(int argc, char **argv)
{
    s_store_dir = minga_worker_option_peek(argc, argv, "--store");
    if (!s_store_dir)
        s_store_dir = minga_store_default_dir(NULL);
    s_handlers[1].arg = (void *)s_store_dir;
    char err[512];
    if (minga_match_config_load(&s_cfg, minga_worker_option_peek(argc, argv, "--config"), err,
                                sizeof err) != 0) {
        fprintf(stderr, "minga-match-worker: %s\n", err);
        return 2;
    }
    return minga_worker_main("minga-match-worker", s_handlers, argc, argv);
}
