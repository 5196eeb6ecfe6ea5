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
 *
 * Carried runs (`minga rueda score|run EVENT --carry`, match_carry.h): a match.score body with
 * stage "prepare" packs the event into a blob, its result; match.shard jobs (children of that
 * one) score their range from the blob alone — fetched from the broker once per batch and
 * process (minga_task_fetch) and kept unpacked, with its kernel, by the prepare job's id — and
 * return their lists as their result; a match.score body with stage "merge" (a child of every
 * shard) fetches the shards' results and replaces the event's candidates with them in one
 * transaction. Body of a match.shard job: event, gen, shard, shards, from, to as above, and
 * weights (optional; when given they must be those the blob was prepared with). Failures of a
 * shard: a blob of another Minga build (carry_layout) or a malformed one (bad_data), a job
 * without exactly one parent (bad_body) end the job at once; a fetch that timed out is retried.
 *
 * Remote mode (--remote, or --broker given with neither --store nor $MINGA_STORE): the worker
 * serves match.shard only and never opens a store, for hosts that do not share it. A local
 * worker serves match.score, match.schedule and match.shard (--no-shards: the first two only,
 * leaving the shards to remote workers).
 */
#include "match_schedule.h"

#include "minga/error.h"
#include "minga/log.h"
#include "minga/match_carry.h"
#include "minga/match_store.h"
#include "minga/proto.h"
#include "minga/worker.h"

#include <pthread.h>
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

/* The stages of a match.score job (body field "stage"). */
typedef enum { S_STAGE_SCORE, S_STAGE_PREPARE, S_STAGE_MERGE } s_stage_t;

static bool s_stage_find(const msgpack_object *o, s_stage_t *stage)
{
    static const char *const names[] = {"score", "prepare", "merge"};
    for (int i = 0; i < 3; i++)
        if (minga_pobj_str_eq(o, names[i])) {
            *stage = (s_stage_t)i;
            return true;
        }
    return false;
}

/* Reads the body into *job (strings borrowed from up, or copied into bufs). */
static const char *s_parse(const msgpack_object *root, minga_match_shard_t *job, char *bufs[3],
                           s_stage_t *stage, char *err, size_t errcap)
{
    static const minga_pfield_t fields[] = {
        {"event", MINGA_PF_STR, true, 1, MINGA_KEY_ID},
        {"gen", MINGA_PF_UINT, true, 1, UINT64_MAX},
        {"shard", MINGA_PF_UINT, false, 0, MINGA_PROTO_MAX_BATCH - 1},
        {"shards", MINGA_PF_UINT, false, 1, MINGA_PROTO_MAX_BATCH},
        {"from", MINGA_PF_STR, false, 0, MINGA_KEY_ID},
        {"to", MINGA_PF_STR, false, 0, MINGA_KEY_ID},
        {"weights", MINGA_PF_MAP, false, 0, 0},
        {"stage", MINGA_PF_STR, false, 1, 16},
    };
    const msgpack_object *v[8];
    if (minga_pfields(root, fields, 8, v, false, err, errcap) != 0)
        return err;
    *stage = S_STAGE_SCORE;
    if (v[7] && !s_stage_find(v[7], stage))
        return "stage: must be score, prepare or merge";
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

/* Fails the task after a failed run: not_found, bad_body, store_full, bad_data, too_big end
 * it; anything else (a fetch that timed out too) is retried. */
static void s_fail_rc(minga_task_t *task, int rc, const char *err)
{
    if (rc == MINGA_ENOTFOUND || rc == MINGA_EINVAL)
        minga_task_fail(task, false, rc == MINGA_ENOTFOUND ? "not_found" : "bad_body", "%s", err);
    else if (rc == MINGA_EMAPFULL)
        minga_task_fail(task, false, "store_full", "the store is full: %s", err);
    else if (rc == MINGA_EFORMAT)
        minga_task_fail(task, false, "bad_data", "%s", err);
    else if (rc == MINGA_ETOOBIG)
        minga_task_fail(task, false, "too_big", "%s", err);
    else
        minga_task_fail(task, true, "match_error", "%s", err);
}

static void s_log_shard(const char *what, const minga_match_shard_t *job,
                        const minga_match_shard_result_t *res)
{
    minga_info("%s %s shard %u/%u: %zu demands, %zu kept%s (read %llu ms, score %llu "
               "ms, pack %llu ms, store %llu ms, merge %llu ms, cpu %llu ms: %zu written, %zu "
               "deleted)",
               what, job->event, job->shard + 1, job->shards, res->demands, res->pairs_kept,
               res->merged    ? ", run merged"
               : res->already ? ", run already merged"
                              : "",
               (unsigned long long)res->read_ms, (unsigned long long)res->score_ms,
               (unsigned long long)res->pack_ms, (unsigned long long)res->store_ms,
               (unsigned long long)res->merge_ms, (unsigned long long)res->merge_cpu_ms,
               res->merge_puts, res->merge_dels);
}

/* Stage "score" (a classic shard) and "prepare": both read the store. */
static int s_score_stage(minga_task_t *task, minga_store_t *store, const minga_match_shard_t *job,
                         s_stage_t stage, char *err, size_t errcap)
{
    minga_match_shard_result_t res;
    int rc;
    if (stage == S_STAGE_PREPARE) {
        minga_task_progress(task, 0, 1, "preparando los datos del evento para los fragmentos");
        msgpack_sbuffer blob;
        msgpack_sbuffer_init(&blob);
        rc = minga_match_prepare(store, job, &blob, &res, err, errcap);
        if (rc == 0 &&
            (rc = minga_task_set_result(task, (const uint8_t *)blob.data, blob.size)) != 0)
            snprintf(err, errcap, "the carried data (%zu bytes): %s", blob.size,
                     minga_strerror(rc));
        if (rc == 0) {
            char text[128];
            snprintf(text, sizeof text, "datos del evento preparados: %zu ofertas, %zu demandas",
                     res.offers, res.demands);
            minga_task_progress(task, 1, 1, text);
            minga_info("match.score %s prepare: %zu offers, %zu demands, %zu bytes (read %llu ms, "
                       "pack %llu ms)",
                       job->event, res.offers, res.demands, blob.size,
                       (unsigned long long)res.read_ms, (unsigned long long)res.pack_ms);
        }
        msgpack_sbuffer_destroy(&blob);
        return rc;
    }
    s_run_t run = {task, job->shard};
    rc = minga_match_run_shard(store, job, s_progress, &run, &res, err, errcap);
    if (rc == 0) {
        s_result(task, job, &res);
        s_log_shard("match.score", job, &res);
    }
    return rc;
}

/* Stage "merge": the shards' results, fetched from the broker, into the store. */
static int s_merge_stage(minga_task_t *task, minga_store_t *store, const minga_match_shard_t *job,
                         char *err, size_t errcap)
{
    uint64_t ids[MINGA_PROTO_MAX_PARENTS];
    size_t n = minga_task_parents(task, ids, MINGA_PROTO_MAX_PARENTS);
    if (n != job->shards) {
        snprintf(err, errcap, "merge of %u shards with %zu parent jobs", job->shards, n);
        return MINGA_EINVAL;
    }
    const uint8_t **data = calloc(n + 1, sizeof *data);
    size_t *lens = calloc(n + 1, sizeof *lens);
    int rc = data && lens ? 0 : MINGA_ENOMEM;
    uint64_t t0 = minga_now_ms(), bytes = 0;
    for (size_t i = 0; i < n && rc == 0; i++) {
        minga_task_progress(task, i, n + 1, "recibiendo los resultados de los fragmentos");
        rc = minga_task_fetch(task, ids[i], &data[i], &lens[i], err, errcap);
        bytes += rc == 0 ? lens[i] : 0;
    }
    if (rc == 0)
        minga_info("match.score merge %s: %zu shard results, %llu bytes, fetched in %llu ms",
                   job->event, n, (unsigned long long)bytes,
                   (unsigned long long)(minga_now_ms() - t0));
    minga_match_shard_result_t res;
    if (rc == 0) {
        minga_task_progress(task, n, n + 1, "guardando candidatos");
        rc = minga_match_merge_carried(store, job, data, lens, n, &res, err, errcap);
    }
    if (rc == 0) {
        res.demands = res.total_demands;
        res.pairs_kept = res.total_candidates;
        s_result(task, job, &res);
        s_log_shard("match.score merge", job, &res);
        minga_task_progress(task, n + 1, n + 1, "candidatos del evento reemplazados");
    }
    free(data);
    free(lens);
    return rc;
}

/* A match job's body, read: the decoded message and the shard it describes. */
typedef struct {
    msgpack_unpacked up;
    msgpack_object *root;
    char *bufs[3];
    minga_match_shard_t job;
    s_stage_t stage;
} s_body_t;

/* Reads task's body into *bd (then s_body_free() it, whatever the outcome). Returns 0, or
 * MINGA_EFORMAT with the task failed for good (bad_body, naming type). */
static int s_body_read(minga_task_t *task, const char *type, s_body_t *bd)
{
    memset(bd, 0, sizeof *bd);
    msgpack_unpacked_init(&bd->up);
    bd->stage = S_STAGE_SCORE;
    size_t len;
    const uint8_t *body = minga_task_body(task, &len);
    char err[512] = "";
    const char *bad = NULL;
    if (minga_proto_body_decode(body, len, &bd->up, &bd->root, err, sizeof err) != 0)
        bad = err;
    else
        bad = s_parse(bd->root, &bd->job, bd->bufs, &bd->stage, err, sizeof err);
    if (!bad)
        return 0;
    minga_task_fail(task, false, "bad_body", "%s: %s", type, bad);
    return MINGA_EFORMAT;
}

static void s_body_free(s_body_t *bd)
{
    for (int i = 0; i < 3; i++)
        free(bd->bufs[i]);
    msgpack_unpacked_destroy(&bd->up);
}

static int s_score(minga_task_t *task, void *arg)
{
    (void)arg;
    s_body_t bd;
    char err[512] = "";
    int rc = s_body_read(task, "match.score", &bd);
    if (rc) {
        s_body_free(&bd);
        return rc;
    }
    minga_store_t *store = NULL;
    if ((rc = minga_store_open(&store, s_store_dir, 0)) != 0) {
        minga_task_fail(task, true, "store", "cannot open the store %s: %s", s_store_dir,
                        minga_strerror(rc));
        s_body_free(&bd);
        return rc;
    }
    if (bd.stage == S_STAGE_MERGE)
        rc = s_merge_stage(task, store, &bd.job, err, sizeof err);
    else
        rc = s_score_stage(task, store, &bd.job, bd.stage, err, sizeof err);
    minga_store_destroy(&store);
    if (rc)
        s_fail_rc(task, rc, err);
    s_body_free(&bd);
    return rc;
}

/* ---- match.shard ---- */

/* The unpacked blob of the last carried batch, by its prepare job's id. Shards take turns on
 * it (the kernel keeps per-call state). */
static struct {
    pthread_mutex_t lock;
    uint64_t parent;
    minga_match_carried_t *c;
} s_carry = {.lock = PTHREAD_MUTEX_INITIALIZER};

/* Makes s_carry hold the blob of job parent (lock held). Fails the task when it cannot. */
static int s_carry_get(minga_task_t *task, uint64_t parent, char *err, size_t errcap)
{
    if (s_carry.c && s_carry.parent == parent)
        return 0;
    minga_match_carry_destroy(&s_carry.c);
    const uint8_t *data;
    size_t len;
    minga_task_progress(task, 0, 3, "recibiendo los datos del evento");
    uint64_t t0 = minga_now_ms();
    int rc = minga_task_fetch(task, parent, &data, &len, err, errcap);
    uint64_t t1 = minga_now_ms();
    if (rc == MINGA_ETIMEOUT) {
        minga_task_fail(task, true, "fetch_timeout", "%s", err);
        return rc;
    }
    if (rc) {
        minga_task_fail(task, rc == MINGA_ENOMEM, "fetch_failed", "%s", err);
        return rc;
    }
    rc = minga_match_carry_unpack(data, len, &s_carry.c, err, errcap);
    if (rc == MINGA_EVERSION)
        minga_task_fail(task, false, "carry_layout", "the data of job %llu: %s",
                        (unsigned long long)parent, err);
    else if (rc)
        minga_task_fail(task, rc == MINGA_ENOMEM, "bad_data", "the data of job %llu: %s",
                        (unsigned long long)parent, err);
    else
        s_carry.parent = parent;
    if (rc == 0)
        minga_info("match.shard: the data of job %llu: %zu bytes, fetched in %llu ms, unpacked in "
                   "%llu ms",
                   (unsigned long long)parent, len, (unsigned long long)(t1 - t0),
                   (unsigned long long)(minga_now_ms() - t1));
    return rc;
}

/* Checks that the shard's weights, when given, are those of the blob. */
static bool s_same_weights(const msgpack_object *root, const minga_match_shard_t *job,
                           const minga_match_carried_t *c)
{
    return !minga_pobj_get(root, "weights") || memcmp(&job->cfg, &c->cfg, sizeof c->cfg) == 0;
}

/* For the tests: MINGA_MATCH_CRASH_SHARD=N SIGKILLs the worker on the first attempt of shard N
 * of a carried run, once it is scored and before it is answered. */
static void s_crash_point(minga_task_t *task, uint32_t shard)
{
    const char *crash = getenv("MINGA_MATCH_CRASH_SHARD");
    if (crash && *crash && minga_task_attempt(task) == 1 && strtoul(crash, NULL, 10) == shard)
        kill(getpid(), SIGKILL);
}

static int s_shard_run(minga_task_t *task, const msgpack_object *root,
                       const minga_match_shard_t *job, char *err, size_t errcap)
{
    uint64_t parents[2];
    if (minga_task_parents(task, parents, 2) != 1) {
        minga_task_fail(task, false, "bad_body",
                        "match.shard: needs exactly one parent, the prepare stage of its run");
        return MINGA_EINVAL;
    }
    pthread_mutex_lock(&s_carry.lock);
    int rc = s_carry_get(task, parents[0], err, errcap);
    msgpack_sbuffer out;
    msgpack_sbuffer_init(&out);
    minga_match_shard_result_t res;
    if (rc == 0 && !s_same_weights(root, job, s_carry.c)) {
        rc = MINGA_EINVAL;
        minga_task_fail(task, false, "bad_body",
                        "match.shard: its weights are not those job %llu prepared the data with",
                        (unsigned long long)parents[0]);
    }
    if (rc == 0) {
        minga_task_progress(task, 1, 3, "puntuando");
        rc = minga_match_score_carried(s_carry.c, job, &out, &res, err, errcap);
        if (rc)
            s_fail_rc(task, rc, err);
    }
    pthread_mutex_unlock(&s_carry.lock);
    if (rc == 0) {
        s_crash_point(task, job->shard);
        rc = minga_task_set_result(task, (const uint8_t *)out.data, out.size);
        if (rc)
            minga_task_fail(task, true, "match_error", "the shard's result (%zu bytes): %s",
                            out.size, minga_strerror(rc));
    }
    if (rc == 0) {
        s_log_shard("match.shard", job, &res);
        minga_task_progress(task, 3, 3, "fragmento listo");
    }
    msgpack_sbuffer_destroy(&out);
    return rc;
}

static int s_shard(minga_task_t *task, void *arg)
{
    (void)arg;
    s_body_t bd;
    char err[512] = "";
    int rc = s_body_read(task, "match.shard", &bd);
    if (rc == 0)
        rc = s_shard_run(task, bd.root, &bd.job, err, sizeof err);
    s_body_free(&bd);
    return rc;
}

static minga_handler_t s_local[] = {{"match.score", s_score, NULL},
                                    {"match.schedule", minga_match_schedule_handler, NULL},
                                    {"match.shard", s_shard, NULL},
                                    {NULL, NULL, NULL}};
static const minga_handler_t s_remote[] = {{"match.shard", s_shard, NULL}, {NULL, NULL, NULL}};

/* Takes the options of this worker (not the runtime's) out of argv. */
static int s_own_options(int *argc, char **argv, bool *remote, bool *no_shards)
{
    int n = 1;
    for (int i = 1; i < *argc; i++) {
        if (strcmp(argv[i], "--remote") == 0)
            *remote = true;
        else if (strcmp(argv[i], "--no-shards") == 0)
            *no_shards = true;
        else
            argv[n++] = argv[i];
    }
    *argc = n;
    argv[n] = NULL;
    if (*remote && *no_shards) {
        fprintf(stderr, "minga-match-worker: usage error: --remote serves only match.shard, "
                        "--no-shards none of them\n");
        return 2;
    }
    return 0;
}

static void s_help(void)
{
    printf("\nOpciones de minga-match-worker:\n"
           "  --remote              modo remoto: solo atiende match.shard (los fragmentos de\n"
           "                        una puntuación con «minga rueda score|run --carry»), con\n"
           "                        los datos que trae el broker; nunca abre un almacén. Es el\n"
           "                        modo por omisión cuando se da --broker sin --store ni\n"
           "                        $MINGA_STORE.\n"
           "  --no-shards           no atiende match.shard: deja los fragmentos a los\n"
           "                        trabajadores remotos\n"
           "\nTrabajos: match.score (un fragmento, o las etapas prepare y merge de una\n"
           "puntuación llevada), match.schedule y match.shard.\n");
}

int main(int argc, char **argv)
{
    bool remote = false, no_shards = false, help = false;
    for (int i = 1; i < argc; i++)
        help |= strcmp(argv[i], "--help") == 0 || strcmp(argv[i], "-h") == 0;
    if (s_own_options(&argc, argv, &remote, &no_shards) != 0)
        return 2;
    s_store_dir = minga_worker_option_peek(argc, argv, "--store");
    if (!remote && !s_store_dir && !getenv("MINGA_STORE") &&
        minga_worker_option_peek(argc, argv, "--broker"))
        remote = true;
    if (!s_store_dir)
        s_store_dir = minga_store_default_dir(NULL);
    s_local[1].arg = (void *)s_store_dir;
    if (no_shards)
        s_local[2] = (minga_handler_t){NULL, NULL, NULL};
    char err[512];
    if (minga_match_config_load(&s_cfg, minga_worker_option_peek(argc, argv, "--config"), err,
                                sizeof err) != 0) {
        fprintf(stderr, "minga-match-worker: %s\n", err);
        return 2;
    }
    int rc = minga_worker_main("minga-match-worker", remote ? s_remote : s_local, argc, argv);
    if (help && rc == 0)
        s_help();
    return rc;
}
