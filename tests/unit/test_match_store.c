/*
 * test_match_store.c: scoring runs in the store without the broker (match_store.h) — the
 * default Jornada imported into a temporary store, scored in 1 shard and in 5 shards run in
 * reverse order: identical exports; a shard run again after its run merged changes nothing; an
 * older run never replaces a newer one; a run half done leaves the old candidates in place
 * until its last shard; abandoned runs leave no staging record behind; bad jobs and a missing
 * event are errors; the JSON export holds the CSV's rows; an offer changed between runs is
 * seen although the worker keeps the last run's offers; re-scoring compares instead of
 * rewriting (nothing written when nothing changed) and gives, after a changed offer, another
 * K, or a run whose shards compared against candidates that another run replaced meanwhile,
 * what a copy of the store with its candidates dropped gives when scored from nothing.
 */
#include "demo_store.h"
#include "minga/demo.h"
#include "minga/error.h"
#include "minga/io.h"
#include "minga/match_store.h"

#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <cmocka.h>

#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

static char s_dir[64];
static minga_store_t *s_store;

static int s_setup(void **state)
{
    (void)state;
    if (minga_test_demo_store(s_dir, sizeof s_dir, 1.0, MINGA_DEMO_EVENT, &s_store) != 0)
        return -1;
    return 0;
}

static int s_teardown(void **state)
{
    (void)state;
    return minga_test_store_remove(s_dir, &s_store);
}

/* Runs shard i of n of run gen in store with k_demand k (0: the default); returns the result. */
static minga_match_shard_result_t s_shard_in(minga_store_t *store, uint64_t gen, uint32_t i,
                                             uint32_t n, unsigned k, int want_rc)
{
    size_t nids;
    char **ids = minga_test_demand_ids(s_store, &nids);
    assert_non_null(ids);
    minga_match_shard_t job = {.event = MINGA_DEMO_EVENT, .gen = gen, .shard = i, .shards = n};
    minga_match_config_defaults(&job.cfg);
    if (k)
        job.cfg.k_demand = k;
    job.from = i == 0 ? NULL : ids[nids * i / n];
    job.to = i + 1 == n ? NULL : ids[nids * (i + 1) / n];
    minga_match_shard_result_t res;
    char err[256];
    assert_int_equal(minga_match_run_shard(store, &job, NULL, NULL, &res, err, sizeof err),
                     want_rc);
    for (size_t j = 0; j < nids; j++)
        free(ids[j]);
    free(ids);
    return res;
}

static minga_match_shard_result_t s_shard(uint64_t gen, uint32_t i, uint32_t n, int want_rc)
{
    return s_shard_in(s_store, gen, i, n, 0, want_rc);
}

/* Every shard of run gen in n shards with k_demand k; returns the last one's result. */
static minga_match_shard_result_t s_run(uint64_t gen, uint32_t n, unsigned k)
{
    minga_match_shard_result_t r;
    for (uint32_t i = 0; i < n; i++) {
        r = s_shard_in(s_store, gen, i, n, k, 0);
        assert_int_equal(r.merged, i + 1 == n);
    }
    return r;
}

static char *s_export_of(minga_store_t *store, bool json, size_t *rows)
{
    char *buf = NULL;
    size_t len = 0;
    FILE *f = open_memstream(&buf, &len);
    assert_int_equal(minga_match_export(store, MINGA_DEMO_EVENT, json, f, rows), 0);
    fclose(f);
    return buf;
}

static char *s_export(bool json, size_t *rows)
{
    return s_export_of(s_store, json, rows);
}

static int s_drop_candidates(MDB_txn *txn, void *arg)
{
    return mdb_drop(txn, minga_store_dbi(arg, MINGA_DB_CANDIDATE), 0);
}

/* The export of a copy of s_store whose candidates are dropped, scored in one shard with
 * k_demand k: the candidates from nothing. */
static char *s_scratch_export(unsigned k)
{
    char dir[64], cmd[96];
    snprintf(dir, sizeof dir, "/tmp/minga-XXXXXX");
    assert_non_null(mkdtemp(dir));
    assert_int_equal(mdb_env_copy(minga_store_env(s_store), dir), 0);
    minga_store_t *copy = NULL;
    assert_int_equal(minga_store_open(&copy, dir, 0), 0);
    assert_int_equal(minga_store_write(copy, s_drop_candidates, copy), 0);
    minga_match_shard_result_t r = s_shard_in(copy, 1, 0, 1, k, 0);
    assert_true(r.merged);
    size_t rows;
    char *out = s_export_of(copy, false, &rows);
    assert_int_equal(rows, r.total_candidates);
    minga_store_destroy(&copy);
    snprintf(cmd, sizeof cmd, "rm -rf %s", dir);
    assert_int_equal(system(cmd), 0);
    return out;
}

/* Imports offer id as a national offer of modality mod valid for years. */
static void s_change_offer(const char *id, const char *mod)
{
    char csv[1024];
    snprintf(csv, sizeof csv,
             "id;cooperante;título;competencias;sectores_cad;modalidad;monto_mín;"
             "monto_máx;ámbito;regiones;provincias;cantones;población_máx;"
             "cofinanciamiento_requerido;válida_desde;válida_hasta\n"
             "%s;coop-00072;Oferta cambiada;b;43032;%s;;;"
             "nacional;;;;;no;2025-01-01;2030-12-31\n",
             id, mod);
    minga_import_opts_t opts = {0};
    minga_import_report_t rep;
    assert_int_equal(minga_import_buffer(s_store, &minga_rtype_offer, "offer.csv", csv, strlen(csv),
                                         &opts, &rep),
                     0);
    assert_int_equal(rep.updated, 1);
    minga_import_report_clear(&rep);
}

static uint64_t s_gen(void)
{
    minga_match_summary_t s;
    assert_int_equal(minga_match_summary(s_store, MINGA_DEMO_EVENT, &s), 0);
    return s.gen;
}

static size_t s_staging_records(void)
{
    MDB_txn *txn;
    MDB_cursor *cur;
    size_t n = 0;
    assert_int_equal(minga_store_read_begin(s_store, &txn), 0);
    assert_int_equal(mdb_cursor_open(txn, minga_store_dbi(s_store, MINGA_DB_CANDIDATE), &cur), 0);
    MDB_val k, v;
    for (int rc = mdb_cursor_get(cur, &k, &v, MDB_FIRST); rc == 0;
         rc = mdb_cursor_get(cur, &k, &v, MDB_NEXT))
        n += k.mv_size > MINGA_KEY_ID && ((const uint8_t *)k.mv_data)[MINGA_KEY_ID] == 0x01;
    mdb_cursor_close(cur);
    mdb_txn_abort(txn);
    return n;
}

static void test_runs(void **state)
{
    (void)state;
    minga_match_summary_t sum;
    assert_int_equal(minga_match_summary(s_store, MINGA_DEMO_EVENT, &sum), MINGA_ENOTFOUND);
    minga_match_shard_result_t r = s_shard(10, 0, 1, 0);
    assert_true(r.merged);
    assert_int_equal(r.demands, 1100);
    size_t rows1;
    char *a = s_export(false, &rows1);
    assert_int_equal(rows1, r.total_candidates);
    assert_true(rows1 > 1100);

    /* 5 shards in reverse order: the same candidates */
    for (int i = 4; i >= 0; i--) {
        r = s_shard(11, (uint32_t)i, 5, 0);
        assert_int_equal(r.merged, i == 0);
    }
    assert_int_equal(s_gen(), 11);
    size_t rows;
    char *b = s_export(false, &rows);
    assert_string_equal(a, b);
    free(b);

    /* a shard of a merged run again; a shard of an older run: nothing written */
    r = s_shard(11, 3, 5, 0);
    assert_true(r.already);
    r = s_shard(9, 0, 1, 0);
    assert_true(r.already);
    assert_false(r.merged);
    assert_int_equal(s_gen(), 11);

    /* half a run: the old candidates stay until its last shard */
    s_shard(12, 0, 3, 0);
    s_shard(12, 2, 3, 0);
    assert_int_equal(s_gen(), 11);
    b = s_export(false, &rows);
    assert_string_equal(a, b);
    free(b);
    r = s_shard(12, 1, 3, 0);
    assert_true(r.merged);
    assert_int_equal(r.total_demands, 1100);
    assert_int_equal(s_gen(), 12);
    b = s_export(false, &rows);
    assert_string_equal(a, b);
    free(b);

    /* an abandoned run leaves nothing once a newer one merges */
    s_shard(13, 0, 2, 0);
    assert_int_equal(s_staging_records(), 1);
    s_shard(14, 0, 1, 0);
    assert_int_equal(s_staging_records(), 0);
    assert_int_equal(s_gen(), 14);

    /* JSON: the same rows */
    char *j = s_export(true, &rows);
    json_error_t je;
    json_t *arr = json_loads(j, 0, &je);
    assert_non_null(arr);
    assert_int_equal(json_array_size(arr), rows1);
    json_t *first = json_array_get(arr, 0);
    assert_int_equal(json_integer_value(json_object_get(first, "rank")), 1);
    assert_true(json_is_number(json_object_get(first, "score")));
    assert_true(json_array_size(json_object_get(first, "reasons")) > 0);
    json_decref(arr);
    free(j);
    free(a);
}

/* A changed offer is seen by the next run although the offers of the last one are kept. */
static void test_cache(void **state)
{
    (void)state;
    minga_match_cache_clear();
    s_shard(20, 0, 1, 0);
    size_t rows;
    char *before = s_export(false, &rows);
    /* of-000001 becomes a national capacitación offer valid for years */
    const char *csv = "id;cooperante;título;competencias;sectores_cad;modalidad;monto_mín;"
                      "monto_máx;ámbito;regiones;provincias;cantones;población_máx;"
                      "cofinanciamiento_requerido;válida_desde;válida_hasta\n"
                      "of-000001;coop-00072;Capacitación en espacio público;b;43032;capacitacion;;;"
                      "nacional;;;;;no;2025-01-01;2030-12-31\n";
    minga_import_opts_t opts = {0};
    minga_import_report_t rep;
    assert_int_equal(minga_import_buffer(s_store, &minga_rtype_offer, "offer.csv", csv, strlen(csv),
                                         &opts, &rep),
                     0);
    assert_int_equal(rep.updated, 1);
    minga_import_report_clear(&rep);
    s_shard(21, 0, 2, 0);
    s_shard(21, 1, 2, 0);
    char *cached = s_export(false, &rows);
    assert_string_not_equal(before, cached);
    minga_match_cache_clear();
    s_shard(22, 0, 1, 0);
    char *fresh = s_export(false, &rows);
    assert_string_equal(cached, fresh);
    free(before);
    free(cached);
    free(fresh);
}

/* Re-scoring compares: nothing written when nothing changed, a little after a change, and
 * always what scoring from nothing gives. */
static void test_incremental(void **state)
{
    (void)state;
    s_run(40, 3, 0);
    minga_match_shard_result_t r = s_run(41, 4, 0);
    assert_int_equal(r.merge_puts, 0);
    assert_int_equal(r.merge_dels, 0);
    size_t rows;
    char *now = s_export(false, &rows), *want = s_scratch_export(0);
    assert_string_equal(now, want);
    free(now);
    free(want);

    s_change_offer("of-000002", "capacitacion");
    r = s_run(42, 4, 0);
    assert_true(r.merge_puts > 0);
    assert_true(r.merge_puts + r.merge_dels < r.total_candidates / 4);
    now = s_export(false, &rows);
    want = s_scratch_export(0);
    assert_string_equal(now, want);
    free(now);
    free(want);

    /* another K: every own list changes length, the extras move */
    r = s_run(43, 2, 3);
    now = s_export(false, &rows);
    assert_int_equal(rows, r.total_candidates);
    want = s_scratch_export(3);
    assert_string_equal(now, want);
    free(now);
    free(want);
    r = s_run(44, 5, 0);
    now = s_export(false, &rows);
    want = s_scratch_export(0);
    assert_string_equal(now, want);
    free(now);
    free(want);
}

/* Two shards of run 61 compare against the candidates of K 10 in place; run 60 (K 3) then
 * replaces them; the last shard of run 61 completes it: its first shards' comparisons are
 * stale and every list of theirs is compared again. */
static void test_stale(void **state)
{
    (void)state;
    s_run(50, 2, 0);
    s_shard_in(s_store, 61, 0, 3, 0, 0);
    s_shard_in(s_store, 61, 1, 3, 0, 0);
    assert_true(s_shard_in(s_store, 60, 0, 1, 3, 0).merged);
    size_t rows;
    char *k3 = s_export(false, &rows);
    minga_match_shard_result_t r = s_shard_in(s_store, 61, 2, 3, 0, 0);
    assert_true(r.merged);
    assert_int_equal(s_gen(), 61);
    char *now = s_export(false, &rows), *want = s_scratch_export(0);
    assert_string_not_equal(k3, now);
    assert_string_equal(now, want);
    free(k3);
    free(now);
    free(want);
}

static void test_bad_jobs(void **state)
{
    (void)state;
    minga_match_shard_t job = {.event = MINGA_DEMO_EVENT, .gen = 1, .shard = 0, .shards = 0};
    minga_match_config_defaults(&job.cfg);
    minga_match_shard_result_t res;
    char err[256];
    assert_int_equal(minga_match_run_shard(s_store, &job, NULL, NULL, &res, err, sizeof err),
                     MINGA_EINVAL);
    job.shards = 2;
    job.shard = 2;
    assert_int_equal(minga_match_run_shard(s_store, &job, NULL, NULL, &res, err, sizeof err),
                     MINGA_EINVAL);
    job.shard = 0;
    job.event = "no-such-event";
    assert_int_equal(minga_match_run_shard(s_store, &job, NULL, NULL, &res, err, sizeof err),
                     MINGA_ENOTFOUND);
    assert_non_null(strstr(err, "no-such-event"));
    job.event = "bad id!";
    assert_int_equal(minga_match_run_shard(s_store, &job, NULL, NULL, &res, err, sizeof err),
                     MINGA_EINVAL);
    job.event = MINGA_DEMO_EVENT;
    job.cfg.k_demand = 0;
    assert_int_equal(minga_match_run_shard(s_store, &job, NULL, NULL, &res, err, sizeof err),
                     MINGA_EINVAL);
    char buf[16];
    assert_string_equal(minga_match_score_text(8725, buf, sizeof buf), "87.25");
    assert_string_equal(minga_match_score_text(10000, buf, sizeof buf), "100.00");
    assert_string_equal(minga_match_score_text(5, buf, sizeof buf), "0.05");
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_runs),        cmocka_unit_test(test_cache),
        cmocka_unit_test(test_incremental), cmocka_unit_test(test_stale),
        cmocka_unit_test(test_bad_jobs),
    };
    return cmocka_run_group_tests(tests, s_setup, s_teardown);
}
