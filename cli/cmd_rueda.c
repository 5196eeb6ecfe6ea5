/*
 * cmd_rueda.c: `minga rueda STEP EVENT`, the operator's steps of a rueda:
 *
 *   minga rueda score EVENT [--shards N] [--carry] [--wait] [--detach]
 *   minga rueda schedule EVENT [--method flow|greedy] [--wait] [--detach]
 *   minga rueda reschedule EVENT [--wait] [--detach]
 *   minga rueda run EVENT [--shards N] [--carry] [--wait] [--detach]
 *
 * score
 * cuts the event's demands into N ranges of ids (from the store, at enqueue time), enqueues
 * one match.score job per range as one batch (all carrying the same run number and the
 * weights of the section "match" of --config), waits for them with progress (on a terminal a
 * line redrawn in place, else one line per finished shard) and prints the summary of the
 * candidates that replaced the event's previous ones. --detach prints the job ids instead.
 * With --carry the run is carried (match_carry.h), for match workers on hosts without the
 * store: a match.score job with stage "prepare", then the N match.shard jobs after it (any
 * match worker, remote ones too), then a match.score job with stage "merge" after all of them.
 * schedule enqueues one match.schedule job (a whole new timetable), reschedule one that keeps
 * the meetings still valid and fills the holes; both wait and print the Spanish summary.
 * run enqueues the whole pipeline as one batch: the stages of s_stages (score shards, then the
 * schedule that depends on all of them, then the notify and report jobs, each depending on
 * the schedule: DESIGN.md §4), waits stage by stage and prints each stage's summary.
 * Subcommands and stages are tables.
 */
#include "cli.h"

#include "minga/client.h"
#include "minga/error.h"
#include "minga/jobview.h"
#include "minga/match_store.h"
#include "minga/notify.h"
#include "minga/proto.h"
#include "minga/report.h"
#include "minga/schedule_store.h"

#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#define S_SHARDS_DEFAULT 8
#define S_LEASE_MS 600000 /* a shard of a large event, and the merge, take a while */

typedef struct {
    const char *event;
    unsigned shards;
    bool detach;
    bool carry; /* a carried run: prepare, shards, merge */
    minga_match_config_t cfg;
    char **ids; /* the event's demand ids, in key order */
    size_t nids;
} s_score_t;

static int s_parse(s_score_t *s, minga_cli_t *cli, int argc, char **argv)
{
    s->shards = S_SHARDS_DEFAULT;
    for (int i = 2; i < argc; i++) {
        const char *v = NULL;
        int r;
        if (strcmp(argv[i], "--wait") == 0) {
            continue;
        } else if (strcmp(argv[i], "--detach") == 0) {
            s->detach = true;
        } else if (strcmp(argv[i], "--carry") == 0) {
            s->carry = true;
        } else if ((r = minga_cli_opt("rueda", argc, argv, &i, "--shards", &v)) != 0) {
            char *end;
            long n = r > 0 ? strtol(v, &end, 10) : 0;
            if (r < 0 || !*v || *end || n < 1 || n > 1000)
                return r < 0 ? MINGA_EXIT_USAGE
                             : minga_cli_usage("rueda", "--shards takes 1..1000, not '%s'", v);
            s->shards = (unsigned)n;
        } else if (argv[i][0] == '-') {
            return minga_cli_usage("rueda", "unknown option '%s'", argv[i]);
        } else if (s->event) {
            return minga_cli_usage("rueda", "one event only");
        } else {
            s->event = argv[i];
        }
    }
    if (!s->event)
        return minga_cli_usage("rueda", "which event? (minga rueda %s EVENT)", argv[1]);
    if (!minga_id_valid(s->event))
        return minga_cli_usage("rueda", "'%s' is not an event id", s->event);
    char err[512];
    if (minga_match_config_load(&s->cfg, cli->config_file, err, sizeof err) != 0) {
        fprintf(stderr, "minga rueda: %s\n", err);
        return MINGA_EXIT_FAIL;
    }
    return 0;
}

/* Reads the demand ids and checks that the event exists. */
static int s_read_ids(s_score_t *s, minga_cli_t *cli)
{
    minga_store_t *store;
    if (minga_cli_open_store(cli, MINGA_STORE_RDONLY, &store))
        return MINGA_EXIT_FAIL;
    MDB_txn *txn = NULL;
    MDB_cursor *cur = NULL;
    uint8_t key[MINGA_KEY_ID];
    minga_key_id(key, s->event);
    MDB_val k = {MINGA_KEY_ID, key}, v;
    int rc = minga_store_read_begin(store, &txn);
    if (rc == 0 &&
        (rc = mdb_get(txn, minga_store_dbi(store, MINGA_DB_EVENT), &k, &v)) == MDB_NOTFOUND) {
        fprintf(stderr, "minga rueda: event %s does not exist (minga import events FILE)\n",
                s->event);
        rc = MINGA_ENOTFOUND;
    }
    if (rc == 0)
        rc = mdb_cursor_open(txn, minga_store_dbi(store, MINGA_DB_DEMAND), &cur);
    for (int c = rc ? rc : mdb_cursor_get(cur, &k, &v, MDB_FIRST); c == 0 && rc == 0;
         c = mdb_cursor_get(cur, &k, &v, MDB_NEXT)) {
        char **g = realloc(s->ids, (s->nids + 1) * sizeof *g);
        char *id = g ? strndup(k.mv_data, k.mv_size) : NULL;
        if (g)
            s->ids = g;
        if (!id)
            rc = MINGA_ENOMEM;
        else
            s->ids[s->nids++] = id;
    }
    if (cur)
        mdb_cursor_close(cur);
    if (txn)
        mdb_txn_abort(txn);
    minga_store_destroy(&store);
    if (rc && rc != MINGA_ENOTFOUND)
        fprintf(stderr, "minga rueda: %s\n", minga_strerror(rc));
    return rc ? MINGA_EXIT_FAIL : 0;
}

/* The job of shard i, of type type: event, run, range, weights, and stage when not NULL. */
static int s_body(const s_score_t *s, uint64_t gen, unsigned i, const char *type, const char *stage,
                  minga_jobspec_t *spec)
{
    size_t a = s->nids * i / s->shards, b = s->nids * (i + 1) / s->shards;
    const char *from = "", *to = "";
    if (s->nids > 0) {
        from = i == 0 ? "" : a < s->nids ? s->ids[a] : s->ids[s->nids - 1];
        to = i + 1 == s->shards ? "" : b < s->nids ? s->ids[b] : s->ids[s->nids - 1];
        if (a == b && i > 0)
            to = from; /* empty range */
    }
    size_t n;
    const minga_cfg_t *table = minga_match_config_table(&n);
    minga_pbuf_t pb;
    minga_pbuf_init(&pb);
    msgpack_pack_map(&pb.pk, stage ? 8 : 7);
    if (stage)
        minga_pk_kv_str(&pb.pk, "stage", stage);
    minga_pk_kv_str(&pb.pk, "event", s->event);
    minga_pk_kv_uint(&pb.pk, "gen", gen);
    minga_pk_kv_uint(&pb.pk, "shard", i);
    minga_pk_kv_uint(&pb.pk, "shards", s->shards);
    minga_pk_kv_str(&pb.pk, "from", from);
    minga_pk_kv_str(&pb.pk, "to", to);
    minga_pk_str(&pb.pk, "weights");
    msgpack_pack_map(&pb.pk, (uint32_t)n);
    for (size_t j = 0; j < n; j++)
        minga_pk_kv_uint(&pb.pk, table[j].flag,
                         *(const uint64_t *)((const char *)&s->cfg + table[j].offset));
    spec->type = strdup(type);
    spec->lease_ms = S_LEASE_MS;
    spec->body = malloc(pb.sbuf.size);
    if (spec->body)
        memcpy(spec->body, pb.sbuf.data, pb.sbuf.size);
    spec->body_len = pb.sbuf.size;
    minga_pbuf_clear(&pb);
    return spec->type && spec->body ? 0 : MINGA_ENOMEM;
}

/* The number of jobs of a score: the shards, and the prepare and merge stages when carried. */
static unsigned s_njobs(const s_score_t *s)
{
    return s->shards + (s->carry ? 2 : 0);
}

/* Every spec in specs[from, to) depends on the jobs at batch positions [pfirst, pend). */
static int s_depend(minga_jobspec_t *specs, size_t from, size_t to, size_t pfirst, size_t pend)
{
    for (size_t i = from; i < to; i++) {
        specs[i].after = malloc((pend - pfirst) * sizeof *specs[i].after);
        if (!specs[i].after)
            return MINGA_ENOMEM;
        for (size_t j = pfirst; j < pend; j++)
            specs[i].after[specs[i].nafter++] = (uint32_t)j;
    }
    return 0;
}

/* The s_njobs(s) specs of a score into specs (base: the batch position of specs[0]). */
static int s_score_specs(const s_score_t *s, uint64_t gen, minga_jobspec_t *specs, size_t base)
{
    unsigned n = s->shards;
    if (!s->carry) {
        for (unsigned i = 0; i < n; i++)
            if (s_body(s, gen, i, "match.score", NULL, &specs[i]) != 0)
                return MINGA_ENOMEM;
        return 0;
    }
    if (s_body(s, gen, 0, "match.score", "prepare", &specs[0]) != 0 ||
        s_body(s, gen, 0, "match.score", "merge", &specs[n + 1]) != 0)
        return MINGA_ENOMEM;
    for (unsigned i = 0; i < n; i++)
        if (s_body(s, gen, i, "match.shard", NULL, &specs[1 + i]) != 0)
            return MINGA_ENOMEM;
    if (s_depend(specs, 1, n + 1, base, base + 1) != 0 ||
        s_depend(specs, n + 1, n + 2, base + 1, base + n + 1) != 0)
        return MINGA_ENOMEM;
    return 0;
}

/* Waits for every shard; returns the exit status. */
static int s_wait_all(minga_client_t *client, const uint64_t *ids, unsigned n)
{
    bool tty = isatty(2);
    int status = MINGA_EXIT_OK;
    for (unsigned i = 0; i < n; i++) {
        minga_job_t job;
        minga_job_init(&job);
        if (minga_client_wait(client, ids[i], 0, NULL, NULL, &job) != 0) {
            fprintf(stderr, "%sminga rueda: %s\n", tty ? "\n" : "", minga_client_error(client));
            minga_job_clear(&job);
            return MINGA_EXIT_FAIL;
        }
        if (job.state != MINGA_JOB_DONE) {
            if (tty)
                fputc('\n', stderr);
            status = minga_jobview_exit_status(&job, "minga rueda score");
        }
        unsigned pct = (i + 1) * 100 / n;
        if (tty)
            fprintf(stderr, "\rpuntuando: [%-30.*s] %u/%u trabajos (%u %%)", (int)(pct * 30 / 100),
                    "==============================", i + 1, n, pct);
        else
            fprintf(stderr, "puntuando: trabajo %u/%u terminado (trabajo %" PRIu64 ", %s)\n", i + 1,
                    n, ids[i], minga_job_state_name(job.state));
        minga_job_clear(&job);
    }
    if (tty)
        fputc('\n', stderr);
    return status;
}

static void s_summary(minga_cli_t *cli, const char *event)
{
    minga_store_t *store;
    minga_match_summary_t sum;
    if (minga_cli_open_store(cli, MINGA_STORE_RDONLY, &store))
        return;
    if (minga_match_summary(store, event, &sum) == 0)
        printf("%s: %" PRIu64 " candidatos para %" PRIu64 " demandas (%" PRIu64
               " fragmentos, corrida %" PRIu64 ")\n"
               "Véalos con: minga export candidates --event %s   o   minga candidates --event "
               "%s --gad CÓDIGO\n",
               event, sum.candidates, sum.demands, sum.shards, sum.gen, event, event);
    minga_store_destroy(&store);
}

static int s_score(minga_cli_t *cli, int argc, char **argv)
{
    s_score_t s;
    memset(&s, 0, sizeof s);
    minga_client_t *client = NULL;
    minga_jobspec_t *specs = NULL;
    uint64_t *ids = NULL;
    int rc = s_parse(&s, cli, argc, argv);
    if (rc || (rc = s_read_ids(&s, cli)) != 0)
        goto done;
    rc = MINGA_EXIT_FAIL;
    unsigned njobs = s_njobs(&s);
    specs = calloc(njobs, sizeof *specs);
    ids = calloc(njobs, sizeof *ids);
    uint64_t gen = minga_now_ms() << 12 | ((uint64_t)getpid() & 0xfff);
    for (unsigned i = 0; specs && i < njobs; i++)
        minga_jobspec_init(&specs[i]);
    if (!specs || !ids || s_score_specs(&s, gen, specs, 0) != 0 ||
        minga_client_new_store(&client, cli->store_dir, (int)(cli->timeout_s * 1000)) != 0)
        goto done;
    if (minga_client_batch(client, specs, njobs, ids) != 0) {
        fprintf(stderr, "minga rueda score: %s\n", minga_client_error(client));
        goto done;
    }
    if (s.detach) {
        for (unsigned i = 0; i < njobs; i++)
            printf("%" PRIu64 "\n", ids[i]);
        rc = MINGA_EXIT_OK;
        goto done;
    }
    fprintf(
        stderr, "minga rueda score: %s: %zu demandas en %u fragmentos%s (corrida %" PRIu64 ")\n",
        s.event, s.nids, s.shards,
        s.carry ? ", con los datos llevados por el broker (preparación y fusión aparte)" : "", gen);
    rc = s_wait_all(client, ids, njobs);
    if (rc == MINGA_EXIT_OK)
        s_summary(cli, s.event);
done:
    for (unsigned i = 0; specs && i < s_njobs(&s); i++)
        minga_jobspec_clear(&specs[i]);
    free(specs);
    free(ids);
    for (size_t i = 0; i < s.nids; i++)
        free(s.ids[i]);
    free(s.ids);
    minga_client_destroy(&client);
    return rc;
}

/* ---- schedule, reschedule ---- */

#define S_SCHEDULE_LEASE_MS 600000

/* The body of a match.schedule job into spec. */
static int s_schedule_spec(const char *event, bool reschedule, const char *method,
                           minga_jobspec_t *spec)
{
    minga_pbuf_t pb;
    minga_pbuf_init(&pb);
    msgpack_pack_map(&pb.pk, 3);
    minga_pk_kv_str(&pb.pk, "event", event);
    minga_pk_kv_bool(&pb.pk, "reschedule", reschedule);
    minga_pk_kv_str(&pb.pk, "method", method ? method : "flow");
    spec->type = strdup("match.schedule");
    spec->lease_ms = S_SCHEDULE_LEASE_MS;
    spec->body = malloc(pb.sbuf.size);
    if (spec->body)
        memcpy(spec->body, pb.sbuf.data, pb.sbuf.size);
    spec->body_len = pb.sbuf.size;
    minga_pbuf_clear(&pb);
    return spec->type && spec->body ? 0 : MINGA_ENOMEM;
}

/* Prints the summary held in a match.schedule job's result. */
static void s_schedule_summary(const minga_job_t *job, const char *event)
{
    msgpack_unpacked up;
    msgpack_unpacked_init(&up);
    size_t off = 0;
    if (job->result && msgpack_unpack_next(&up, (const char *)job->result, job->result_len, &off) ==
                           MSGPACK_UNPACK_SUCCESS)
        minga_schedule_summary_print(stdout, &up.data);
    msgpack_unpacked_destroy(&up);
    printf("Véalo con: minga export meetings --event %s   o   minga agenda --event %s --party "
           "ID\n",
           event, event);
}

/* Checks that event exists (a message on stderr when it does not). */
static int s_event_exists(minga_cli_t *cli, const char *event)
{
    minga_store_t *store;
    if (minga_cli_open_store(cli, MINGA_STORE_RDONLY, &store))
        return MINGA_EXIT_FAIL;
    minga_event_t ev;
    int rc = minga_event_load(store, NULL, event, &ev);
    minga_store_destroy(&store);
    minga_record_clear(&minga_rtype_event, &ev);
    if (rc == MINGA_ENOTFOUND)
        fprintf(stderr, "minga rueda: event %s does not exist (minga import events FILE)\n", event);
    else if (rc)
        fprintf(stderr, "minga rueda: event %s: %s\n", event, minga_strerror(rc));
    return rc ? MINGA_EXIT_FAIL : 0;
}

static int s_one_schedule(minga_cli_t *cli, int argc, char **argv, bool reschedule)
{
    const char *who = reschedule ? "minga rueda reschedule" : "minga rueda schedule";
    const char *event = NULL, *method = "flow";
    bool detach = false;
    for (int i = 2; i < argc; i++) {
        int r;
        if (strcmp(argv[i], "--wait") == 0) {
            continue;
        } else if (strcmp(argv[i], "--detach") == 0) {
            detach = true;
        } else if (!reschedule &&
                   (r = minga_cli_opt("rueda", argc, argv, &i, "--method", &method)) != 0) {
            if (r < 0)
                return MINGA_EXIT_USAGE;
            if (strcmp(method, "flow") != 0 && strcmp(method, "greedy") != 0)
                return minga_cli_usage("rueda", "--method takes flow or greedy, not '%s'", method);
        } else if (argv[i][0] == '-') {
            return minga_cli_usage("rueda", "unknown option '%s'", argv[i]);
        } else if (event) {
            return minga_cli_usage("rueda", "one event only");
        } else {
            event = argv[i];
        }
    }
    if (!event)
        return minga_cli_usage("rueda", "which event? (minga rueda %s EVENT)", argv[1]);
    if (!minga_id_valid(event))
        return minga_cli_usage("rueda", "'%s' is not an event id", event);
    int rc = s_event_exists(cli, event);
    if (rc)
        return rc;
    minga_client_t *client = NULL;
    minga_jobspec_t spec;
    minga_jobspec_init(&spec);
    minga_job_t job;
    minga_job_init(&job);
    uint64_t id = 0;
    rc = MINGA_EXIT_FAIL;
    if (s_schedule_spec(event, reschedule, method, &spec) != 0 ||
        minga_client_new_store(&client, cli->store_dir, (int)(cli->timeout_s * 1000)) != 0)
        goto done;
    if (minga_client_enqueue(client, &spec, &id, NULL, NULL) != 0) {
        fprintf(stderr, "%s: %s\n", who, minga_client_error(client));
        goto done;
    }
    if (detach) {
        printf("%" PRIu64 "\n", id);
        rc = MINGA_EXIT_OK;
        goto done;
    }
    fprintf(stderr, "%s: %s (trabajo %" PRIu64 ")\n", who, event, id);
    if (minga_jobview_wait(client, id, who, &job) != 0)
        goto done;
    rc = minga_jobview_exit_status(&job, who);
    if (rc == MINGA_EXIT_OK)
        s_schedule_summary(&job, event);
done:
    minga_job_clear(&job);
    minga_jobspec_clear(&spec);
    minga_client_destroy(&client);
    return rc;
}

static int s_schedule(minga_cli_t *cli, int argc, char **argv)
{
    return s_one_schedule(cli, argc, argv, false);
}

static int s_reschedule(minga_cli_t *cli, int argc, char **argv)
{
    return s_one_schedule(cli, argc, argv, true);
}

/* ---- run: the whole pipeline as one batch ---- */

typedef struct {
    minga_cli_t *cli;
    s_score_t score; /* event, shards, weights, demand ids */
    uint64_t gen;
    minga_jobspec_t *specs;
    size_t n, cap;
} s_run_t;

/* A stage of `rueda run`: add appends its jobs' specs to run (their dependencies on the stage
 * before are set by s_run); summary prints what its jobs did (jobs[0..n), all done). Later
 * stages (notify, report) join the table. */
typedef struct {
    const char *name;  /* "score" */
    const char *label; /* Spanish, for the progress lines */
    int parent;        /* the stage whose jobs this one's wait for, or -1 */
    int (*add)(s_run_t *run);
    void (*summary)(s_run_t *run, const minga_job_t *jobs, size_t n);
} s_stage_t;

static minga_jobspec_t *s_run_next(s_run_t *run)
{
    if (run->n == run->cap) {
        size_t cap = run->cap ? 2 * run->cap : 16;
        minga_jobspec_t *g = realloc(run->specs, cap * sizeof *g);
        if (!g)
            return NULL;
        run->specs = g;
        run->cap = cap;
    }
    minga_jobspec_t *spec = &run->specs[run->n++];
    minga_jobspec_init(spec);
    return spec;
}

static int s_stage_score_add(s_run_t *run)
{
    size_t base = run->n;
    for (unsigned i = 0; i < s_njobs(&run->score); i++)
        if (!s_run_next(run))
            return MINGA_ENOMEM;
    return s_score_specs(&run->score, run->gen, &run->specs[base], base);
}

static void s_stage_score_summary(s_run_t *run, const minga_job_t *jobs, size_t n)
{
    (void)jobs;
    (void)n;
    s_summary(run->cli, run->score.event);
}

static int s_stage_schedule_add(s_run_t *run)
{
    minga_jobspec_t *spec = s_run_next(run);
    return spec ? s_schedule_spec(run->score.event, false, "flow", spec) : MINGA_ENOMEM;
}

static void s_stage_schedule_summary(s_run_t *run, const minga_job_t *jobs, size_t n)
{
    if (n)
        s_schedule_summary(&jobs[n - 1], run->score.event);
}

static int s_stage_notify_add(s_run_t *run)
{
    minga_jobspec_t *spec = s_run_next(run);
    return spec ? minga_notify_jobspec(run->score.event, NULL, 0, 1, NULL, spec) : MINGA_ENOMEM;
}

static void s_stage_notify_summary(s_run_t *run, const minga_job_t *jobs, size_t n)
{
    minga_notify_summary_print(stdout, run->score.event, jobs, n);
}

static int s_stage_report_add(s_run_t *run)
{
    minga_jobspec_t *spec = s_run_next(run);
    return spec ? minga_report_jobspec(run->score.event, MINGA_REPORT_ALL, spec) : MINGA_ENOMEM;
}

static void s_stage_report_summary(s_run_t *run, const minga_job_t *jobs, size_t n)
{
    (void)run;
    if (n)
        minga_report_summary_print(stdout, jobs[n - 1].result, jobs[n - 1].result_len);
}

static const s_stage_t s_stages[] = {
    {"score", "puntuación", -1, s_stage_score_add, s_stage_score_summary},
    {"schedule", "cronograma", 0, s_stage_schedule_add, s_stage_schedule_summary},
    {"notify", "agendas por correo", 1, s_stage_notify_add, s_stage_notify_summary},
    {"report", "informes", 1, s_stage_report_add, s_stage_report_summary},
};
#define S_NSTAGES (sizeof s_stages / sizeof s_stages[0])

/* Every spec in [first, end) depends on every spec in [pfirst, pend). */
static int s_after(s_run_t *run, size_t pfirst, size_t pend, size_t first)
{
    for (size_t i = first; i < run->n; i++) {
        minga_jobspec_t *spec = &run->specs[i];
        spec->after = malloc((pend - pfirst ? pend - pfirst : 1) * sizeof *spec->after);
        if (!spec->after)
            return MINGA_ENOMEM;
        for (size_t j = pfirst; j < pend; j++)
            spec->after[spec->nafter++] = (uint32_t)j;
    }
    return 0;
}

/* Waits for every job of the run, stage by stage, with progress; returns the exit status. */
static int s_run_wait(s_run_t *run, minga_client_t *client, const uint64_t *ids,
                      const size_t *first, minga_job_t *jobs)
{
    bool tty = isatty(2);
    for (size_t st = 0; st < S_NSTAGES; st++) {
        size_t n = first[st + 1] - first[st];
        for (size_t k = 0; k < n; k++) {
            size_t i = first[st] + k;
            if (minga_client_wait(client, ids[i], 0, NULL, NULL, &jobs[i]) != 0) {
                fprintf(stderr, "%sminga rueda run: %s\n", tty ? "\n" : "",
                        minga_client_error(client));
                return MINGA_EXIT_FAIL;
            }
            if (jobs[i].state != MINGA_JOB_DONE) {
                if (tty)
                    fputc('\n', stderr);
                return minga_jobview_exit_status(&jobs[i], "minga rueda run");
            }
            unsigned pct = (unsigned)((k + 1) * 100 / n);
            if (tty)
                fprintf(stderr, "\retapa %zu/%zu %-12s [%-30.*s] %zu/%zu trabajos (%u %%)", st + 1,
                        S_NSTAGES, s_stages[st].label, (int)(pct * 30 / 100),
                        "==============================", k + 1, n, pct);
            else
                fprintf(stderr,
                        "etapa %zu/%zu %s: trabajo %zu/%zu terminado (trabajo %" PRIu64 ")\n",
                        st + 1, S_NSTAGES, s_stages[st].label, k + 1, n, ids[i]);
        }
        if (tty)
            fputc('\n', stderr);
    }
    for (size_t st = 0; st < S_NSTAGES; st++)
        s_stages[st].summary(run, &jobs[first[st]], first[st + 1] - first[st]);
    return MINGA_EXIT_OK;
}

static int s_run(minga_cli_t *cli, int argc, char **argv)
{
    s_run_t run;
    memset(&run, 0, sizeof run);
    run.cli = cli;
    minga_client_t *client = NULL;
    uint64_t *ids = NULL;
    minga_job_t *jobs = NULL;
    size_t first[S_NSTAGES + 1];
    int rc = s_parse(&run.score, cli, argc, argv);
    if (rc || (rc = s_read_ids(&run.score, cli)) != 0)
        goto done;
    rc = MINGA_EXIT_FAIL;
    run.gen = minga_now_ms() << 12 | ((uint64_t)getpid() & 0xfff);
    for (size_t st = 0; st < S_NSTAGES; st++) {
        first[st] = run.n;
        int parent = s_stages[st].parent;
        if (s_stages[st].add(&run) != 0 ||
            (parent >= 0 && s_after(&run, first[parent], first[parent + 1], first[st]) != 0))
            goto done;
    }
    first[S_NSTAGES] = run.n;
    ids = calloc(run.n, sizeof *ids);
    jobs = calloc(run.n, sizeof *jobs);
    if (!ids || !jobs)
        goto done;
    for (size_t i = 0; i < run.n; i++)
        minga_job_init(&jobs[i]);
    if (minga_client_new_store(&client, cli->store_dir, (int)(cli->timeout_s * 1000)) != 0)
        goto done;
    if (minga_client_batch(client, run.specs, run.n, ids) != 0) {
        fprintf(stderr, "minga rueda run: %s\n", minga_client_error(client));
        goto done;
    }
    if (run.score.detach) {
        for (size_t i = 0; i < run.n; i++)
            printf("%" PRIu64 "\n", ids[i]);
        rc = MINGA_EXIT_OK;
        goto done;
    }
    fprintf(stderr,
            "minga rueda run: %s: %zu demandas en %u fragmentos, luego el cronograma "
            "(%zu trabajos en un lote)\n",
            run.score.event, run.score.nids, run.score.shards, run.n);
    rc = s_run_wait(&run, client, ids, first, jobs);
done:
    for (size_t i = 0; jobs && i < run.n; i++)
        minga_job_clear(&jobs[i]);
    free(jobs);
    for (size_t i = 0; i < run.n; i++)
        minga_jobspec_clear(&run.specs[i]);
    free(run.specs);
    free(ids);
    for (size_t i = 0; i < run.score.nids; i++)
        free(run.score.ids[i]);
    free(run.score.ids);
    minga_client_destroy(&client);
    return rc;
}

static const struct {
    const char *name;
    minga_command_fn *fn;
} s_steps[] = {
    {"score", s_score},
    {"schedule", s_schedule},
    {"reschedule", s_reschedule},
    {"run", s_run},
};

static int s_run_rueda(minga_cli_t *cli, int argc, char **argv)
{
    if (argc < 2)
        return minga_cli_usage("rueda", "which step? (score, schedule, reschedule, run)");
    for (size_t i = 0; i < sizeof s_steps / sizeof s_steps[0]; i++)
        if (strcmp(argv[1], s_steps[i].name) == 0)
            return s_steps[i].fn(cli, argc, argv);
    return minga_cli_usage("rueda", "unknown step '%s' (steps: score, schedule, reschedule, run)",
                           argv[1]);
}

MINGA_COMMAND(rueda, "rueda", 60, s_run_rueda,
              "ejecuta los pasos de la rueda (score, schedule, reschedule, run)",
              "Uso: minga rueda score EVENTO [--shards N] [--carry] [--wait] [--detach]\n"
              "     minga rueda schedule EVENTO [--method flow|greedy] [--wait] [--detach]\n"
              "     minga rueda reschedule EVENTO [--wait] [--detach]\n"
              "     minga rueda run EVENTO [--shards N] [--carry] [--wait] [--detach]\n"
              "\n"
              "score: puntúa todas las demandas del EVENTO contra todas las ofertas y guarda\n"
              "los mejores candidatos de cada demanda y de cada oferta, con sus motivos. Las\n"
              "demandas se reparten en N fragmentos (8 por omisión), un trabajo match.score\n"
              "por fragmento, encolados juntos; los atienden los minga-match-worker en marcha.\n"
              "Cuando termina el último fragmento, los candidatos nuevos reemplazan a los\n"
              "anteriores del evento de una sola vez. Los pesos y K salen de la sección\n"
              "«match» de --config (ver deploy/match.cfg.example).\n"
              "Con --carry los fragmentos no leen el almacén: un trabajo prepara los datos del\n"
              "evento, el broker se los lleva a cada trabajador (también a los remotos, en\n"
              "otras máquinas: minga-match-worker --remote) y otro trabajo guarda al final los\n"
              "resultados de todos; los candidatos son los mismos que sin --carry.\n"
              "\n"
              "schedule: arma el cronograma del EVENTO con sus candidatos (un trabajo\n"
              "match.schedule): elige las reuniones asegurando primero el mínimo de cada GAD\n"
              "y después el mayor puntaje total, y las ubica en turnos y mesas respetando la\n"
              "disponibilidad y el máximo de cada participante; cada cooperante tiene tantas\n"
              "mesas propias como representantes. Reemplaza el cronograma anterior y escribe\n"
              "un resumen: reuniones, puntaje, uso de turnos y mesas, y los GAD que quedan\n"
              "bajo su mínimo con el motivo. --method greedy usa el método simple de\n"
              "referencia (para comparar).\n"
              "\n"
              "reschedule: tras cambios de último momento (importe de nuevo los participantes),\n"
              "mantiene en su turno y su mesa cada reunión que sigue siendo válida, cancela\n"
              "las que ya no lo son (quedan en el historial) y solo llena los huecos.\n"
              "\n"
              "run: encola toda la rueda como un lote: los fragmentos de score y el cronograma,\n"
              "que espera a que terminen todos; muestra el avance por etapa y los resúmenes.\n"
              "\n"
              "Todos esperan el final mostrando el progreso (--wait se acepta y no cambia\n"
              "nada); con --detach escriben los ids de los trabajos, uno por línea, y vuelven\n"
              "enseguida.\n"
              "\n"
              "Estado de salida: 0 terminado; 1 el evento no existe, el broker no respondió o\n"
              "algún trabajo terminó dead o cancelled; 2 error de uso.\n")
