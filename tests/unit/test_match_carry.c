/*
 * test_match_carry.c: carried scoring runs without the broker (match_carry.h and the carried
 * functions of match_store.h) on the default Jornada: a carried run from nothing (prepare,
 * blob unpacked, shards scored from the blob alone, merged in reverse order) exports what a
 * classic run exports, and a classic re-score after it (and a carried one after that) writes
 * nothing, so the stored candidates are byte for byte equal; 1 and 7 shards agree; a run older
 * than the one in place changes nothing; truncated, bit-flipped and other-layout blobs, and
 * shard results that are truncated, repeated, missing or of another run are errors with a
 * message, never a crash.
 */
#include "demo_store.h"
#include "minga/demo.h"
#include "minga/error.h"
#include "minga/match_carry.h"
#include "minga/match_store.h"
#include "minga/proto.h"

#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <cmocka.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static char s_dir[64];
static minga_store_t *s_store;

static int s_setup(void **state)
{
    (void)state;
    return minga_test_demo_store(s_dir, sizeof s_dir, 1.0, MINGA_DEMO_EVENT, &s_store) ? -1 : 0;
}

static int s_teardown(void **state)
{
    (void)state;
    return minga_test_store_remove(s_dir, &s_store);
}

/* Job i of n of run gen, cut as `minga rueda score` cuts. */
static minga_match_shard_t s_job(uint64_t gen, uint32_t i, uint32_t n, char **ids, size_t nids)
{
    minga_match_shard_t job = {.event = MINGA_DEMO_EVENT, .gen = gen, .shard = i, .shards = n};
    minga_match_config_defaults(&job.cfg);
    job.from = i == 0 ? NULL : ids[nids * i / n];
    job.to = i + 1 == n ? NULL : ids[nids * (i + 1) / n];
    return job;
}

static char *s_export(size_t *len)
{
    char *buf = NULL;
    FILE *f = open_memstream(&buf, len);
    size_t rows;
    assert_int_equal(minga_match_export(s_store, MINGA_DEMO_EVENT, false, f, &rows), 0);
    fclose(f);
    assert_true(rows > 1100);
    return buf;
}

/* The blob of run gen (the caller frees it). */
static msgpack_sbuffer s_blob(uint64_t gen)
{
    msgpack_sbuffer b;
    msgpack_sbuffer_init(&b);
    minga_match_shard_t job = {.event = MINGA_DEMO_EVENT, .gen = gen, .shards = 1};
    minga_match_config_defaults(&job.cfg);
    minga_match_shard_result_t r;
    char err[256];
    assert_int_equal(minga_match_prepare(s_store, &job, &b, &r, err, sizeof err), 0);
    assert_int_equal(r.demands, 1100);
    return b;
}

/* A carried run of n shards, merged with the results in reverse order; returns the merge's
 * result. */
static minga_match_shard_result_t s_carried(uint64_t gen, uint32_t n)
{
    size_t nids;
    char **ids = minga_test_demand_ids(s_store, &nids), err[512];
    assert_non_null(ids);
    msgpack_sbuffer blob = s_blob(gen);
    minga_match_carried_t *c;
    assert_int_equal(
        minga_match_carry_unpack((const uint8_t *)blob.data, blob.size, &c, err, sizeof err), 0);
    assert_int_equal(c->d.ndemands, 1100);
    msgpack_sbuffer *res = calloc(n, sizeof *res);
    const uint8_t **ptr = calloc(n, sizeof *ptr);
    size_t *len = calloc(n, sizeof *len), kept = 0;
    for (uint32_t i = 0; i < n; i++) {
        minga_match_shard_t job = s_job(gen, i, n, ids, nids);
        minga_match_shard_result_t r;
        msgpack_sbuffer_init(&res[i]);
        assert_int_equal(minga_match_score_carried(c, &job, &res[i], &r, err, sizeof err), 0);
        kept += r.demands;
        ptr[n - 1 - i] = (const uint8_t *)res[i].data;
        len[n - 1 - i] = res[i].size;
    }
    assert_int_equal(kept, 1100);
    minga_match_shard_t job = s_job(gen, 0, n, ids, nids);
    minga_match_shard_result_t r;
    int rc = minga_match_merge_carried(s_store, &job, ptr, len, n, &r, err, sizeof err);
    if (rc)
        fail_msg("merge: %s", err);
    for (uint32_t i = 0; i < n; i++)
        msgpack_sbuffer_destroy(&res[i]);
    free(res);
    free(ptr);
    free(len);
    minga_match_carry_destroy(&c);
    msgpack_sbuffer_destroy(&blob);
    for (size_t i = 0; i < nids; i++)
        free(ids[i]);
    free(ids);
    return r;
}

static minga_match_shard_result_t s_classic(uint64_t gen, uint32_t n)
{
    size_t nids;
    char **ids = minga_test_demand_ids(s_store, &nids), err[512];
    assert_non_null(ids);
    minga_match_shard_result_t r, last;
    memset(&last, 0, sizeof last);
    for (uint32_t i = 0; i < n; i++) {
        minga_match_shard_t job = s_job(gen, i, n, ids, nids);
        assert_int_equal(minga_match_run_shard(s_store, &job, NULL, NULL, &r, err, sizeof err), 0);
        if (r.merged)
            last = r;
    }
    for (size_t i = 0; i < nids; i++)
        free(ids[i]);
    free(ids);
    return last;
}

static void test_equal(void **state)
{
    (void)state;
    minga_match_shard_result_t r = s_carried(10, 5);
    assert_true(r.merged);
    assert_int_equal(r.total_demands, 1100);
    assert_true(r.merge_puts > 1100);
    size_t la, lb;
    char *a = s_export(&la);
    /* a classic re-score finds every candidate in place, byte for byte */
    r = s_classic(11, 4);
    assert_true(r.merged);
    assert_int_equal(r.merge_puts, 0);
    assert_int_equal(r.merge_dels, 0);
    char *b = s_export(&lb);
    assert_int_equal(la, lb);
    assert_memory_equal(a, b, la);
    free(b);
    /* and carried after classic, in 1 and in 7 shards */
    for (uint32_t n = 1; n <= 7; n += 6) {
        r = s_carried(12 + n, n);
        assert_true(r.merged);
        assert_int_equal(r.merge_puts, 0);
        assert_int_equal(r.merge_dels, 0);
        b = s_export(&lb);
        assert_int_equal(la, lb);
        assert_memory_equal(a, b, la);
        free(b);
    }
    /* an older run changes nothing */
    r = s_carried(5, 2);
    assert_true(r.already);
    assert_false(r.merged);
    free(a);
}

static void test_hostile_blob(void **state)
{
    (void)state;
    msgpack_sbuffer blob = s_blob(100);
    char err[512];
    minga_match_carried_t *c = NULL;
    /* every truncation */
    size_t step = blob.size / 997 + 1;
    for (size_t n = 0; n < blob.size; n += step) {
        int rc = minga_match_carry_unpack((const uint8_t *)blob.data, n, &c, err, sizeof err);
        assert_int_not_equal(rc, 0);
        assert_null(c);
        assert_true(strstr(err, "carried match data") != NULL);
    }
    /* bit flips: an error with a message, or a blob that still unpacks */
    uint8_t *copy = malloc(blob.size);
    srand(7);
    for (int i = 0; i < 400; i++) {
        memcpy(copy, blob.data, blob.size);
        size_t at = (size_t)rand() % blob.size;
        copy[at] ^= (uint8_t)(1u << (rand() % 8));
        int rc = minga_match_carry_unpack(copy, blob.size, &c, err, sizeof err);
        if (rc)
            assert_true(err[0] != 0);
        minga_match_carry_destroy(&c);
    }
    free(copy);
    /* another layout: refused as such */
    msgpack_sbuffer other;
    msgpack_sbuffer_init(&other);
    msgpack_packer pk;
    msgpack_packer_init(&pk, &other, msgpack_sbuffer_write);
    msgpack_pack_map(&pk, 2);
    minga_pk_kv_uint(&pk, "v", MINGA_MATCH_CARRY_VERSION);
    minga_pk_kv_uint(&pk, "layout", minga_match_carry_layout() ^ 1);
    assert_int_equal(
        minga_match_carry_unpack((const uint8_t *)other.data, other.size, &c, err, sizeof err),
        MINGA_EVERSION);
    assert_true(strstr(err, "another Minga build") != NULL);
    msgpack_sbuffer_destroy(&other);
    msgpack_sbuffer_destroy(&blob);
}

static void test_hostile_results(void **state)
{
    (void)state;
    size_t nids;
    char **ids = minga_test_demand_ids(s_store, &nids), err[512];
    assert_non_null(ids);
    msgpack_sbuffer blob = s_blob(200);
    minga_match_carried_t *c;
    assert_int_equal(
        minga_match_carry_unpack((const uint8_t *)blob.data, blob.size, &c, err, sizeof err), 0);
    msgpack_sbuffer res[2];
    const uint8_t *ptr[3];
    size_t len[3];
    for (uint32_t i = 0; i < 2; i++) {
        minga_match_shard_t job = s_job(200, i, 2, ids, nids);
        minga_match_shard_result_t r;
        msgpack_sbuffer_init(&res[i]);
        assert_int_equal(minga_match_score_carried(c, &job, &res[i], &r, err, sizeof err), 0);
        ptr[i] = (const uint8_t *)res[i].data;
        len[i] = res[i].size;
    }
    minga_match_shard_t job = s_job(200, 0, 2, ids, nids);
    minga_match_shard_result_t r;
    /* a shard of another run than the carried data */
    minga_match_shard_t other = s_job(201, 0, 2, ids, nids);
    msgpack_sbuffer x;
    msgpack_sbuffer_init(&x);
    assert_int_equal(minga_match_score_carried(c, &other, &x, &r, err, sizeof err), MINGA_EINVAL);
    /* missing, repeated, truncated */
    assert_int_equal(minga_match_merge_carried(s_store, &job, ptr, len, 1, &r, err, sizeof err),
                     MINGA_EINVAL);
    const uint8_t *twice[2] = {ptr[0], ptr[0]};
    size_t tl[2] = {len[0], len[0]};
    assert_int_equal(minga_match_merge_carried(s_store, &job, twice, tl, 2, &r, err, sizeof err),
                     MINGA_EFORMAT);
    assert_true(strstr(err, "given twice") != NULL);
    size_t step = len[1] / 499 + 1;
    for (size_t n = 0; n < len[1]; n += step) {
        size_t cut[2] = {len[0], n};
        int rc = minga_match_merge_carried(s_store, &job, ptr, cut, 2, &r, err, sizeof err);
        assert_int_equal(rc, MINGA_EFORMAT);
        assert_true(strstr(err, "result 2") != NULL);
    }
    /* the results of another run's merge */
    minga_match_shard_t later = s_job(202, 0, 2, ids, nids);
    assert_int_equal(minga_match_merge_carried(s_store, &later, ptr, len, 2, &r, err, sizeof err),
                     MINGA_EFORMAT);
    /* the right ones merge */
    assert_int_equal(minga_match_merge_carried(s_store, &job, ptr, len, 2, &r, err, sizeof err), 0);
    assert_true(r.merged);
    for (int i = 0; i < 2; i++)
        msgpack_sbuffer_destroy(&res[i]);
    msgpack_sbuffer_destroy(&x);
    msgpack_sbuffer_destroy(&blob);
    minga_match_carry_destroy(&c);
    for (size_t i = 0; i < nids; i++)
        free(ids[i]);
    free(ids);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_equal),
        cmocka_unit_test(test_hostile_blob),
        cmocka_unit_test(test_hostile_results),
    };
    return cmocka_run_group_tests(tests, s_setup, s_teardown);
}
