/*
 * cmd_rueda.c: `minga rueda STEP EVENT`, the operator's steps of a rueda. So far:
 *
 *   minga rueda score EVENT [--shards N] [--wait] [--detach]
 *
 * cuts the event's demands into N ranges of ids (from the store, at enqueue time), enqueues
 * one match.score job per range as one batch (all carrying the same run number and the
 * weights of the section "match" of --config), waits for them with progress (on a terminal a
 * line redrawn in place, else one line per finished shard) and prints the summary of the
 * candidates that replaced the event's previous ones. --detach prints the job ids instead.
 * Subcommands are a table: the later steps (run, reschedule) join it.
 */
#include "cli.h"

#include "minga/client.h"
#include "minga/error.h"
#include "minga/jobview.h"
#include "minga/match_store.h"
#include "minga/proto.h"

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
        return minga_cli_usage("rueda", "which event? (minga rueda score EVENT)");
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

/* The body of shard i: event, run, range and weights. */
static int s_body(const s_score_t *s, uint64_t gen, unsigned i, minga_jobspec_t *spec)
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
    msgpack_pack_map(&pb.pk, 7);
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
    spec->type = strdup("match.score");
    spec->lease_ms = S_LEASE_MS;
    spec->body = malloc(pb.sbuf.size);
    if (spec->body)
        memcpy(spec->body, pb.sbuf.data, pb.sbuf.size);
    spec->body_len = pb.sbuf.size;
    minga_pbuf_clear(&pb);
    return spec->type && spec->body ? 0 : MINGA_ENOMEM;
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
            fprintf(stderr, "\rpuntuando: [%-30.*s] %u/%u fragmentos (%u %%)",
                    (int)(pct * 30 / 100), "==============================", i + 1, n, pct);
        else
            fprintf(stderr, "puntuando: fragmento %u/%u terminado (trabajo %" PRIu64 ", %s)\n",
                    i + 1, n, ids[i], minga_job_state_name(job.state));
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
    specs = calloc(s.shards, sizeof *specs);
    ids = calloc(s.shards, sizeof *ids);
    uint64_t gen = minga_now_ms() << 12 | ((uint64_t)getpid() & 0xfff);
    for (unsigned i = 0; specs && i < s.shards; i++)
        minga_jobspec_init(&specs[i]);
    for (unsigned i = 0; specs && ids && i < s.shards; i++)
        if (s_body(&s, gen, i, &specs[i]) != 0)
            goto done;
    if (!specs || !ids ||
        minga_client_new_store(&client, cli->store_dir, (int)(cli->timeout_s * 1000)) != 0)
        goto done;
    if (minga_client_batch(client, specs, s.shards, ids) != 0) {
        fprintf(stderr, "minga rueda score: %s\n", minga_client_error(client));
        goto done;
    }
    if (s.detach) {
        for (unsigned i = 0; i < s.shards; i++)
            printf("%" PRIu64 "\n", ids[i]);
        rc = MINGA_EXIT_OK;
        goto done;
    }
    fprintf(stderr, "minga rueda score: %s: %zu demandas en %u fragmentos (corrida %" PRIu64 ")\n",
            s.event, s.nids, s.shards, gen);
    rc = s_wait_all(client, ids, s.shards);
    if (rc == MINGA_EXIT_OK)
        s_summary(cli, s.event);
done:
    for (unsigned i = 0; specs && i < s.shards; i++)
        minga_jobspec_clear(&specs[i]);
    free(specs);
    free(ids);
    for (size_t i = 0; i < s.nids; i++)
        free(s.ids[i]);
    free(s.ids);
    minga_client_destroy(&client);
    return rc;
}

static const struct {
    const char *name;
    minga_command_fn *fn;
} s_steps[] = {
    {"score", s_score},
};

static int s_run_rueda(minga_cli_t *cli, int argc, char **argv)
{
    if (argc < 2)
        return minga_cli_usage("rueda", "which step? (minga rueda score EVENT)");
    for (size_t i = 0; i < sizeof s_steps / sizeof s_steps[0]; i++)
        if (strcmp(argv[1], s_steps[i].name) == 0)
            return s_steps[i].fn(cli, argc, argv);
    return minga_cli_usage("rueda", "unknown step '%s' (steps: score)", argv[1]);
}

MINGA_COMMAND(rueda, "rueda", 60, s_run_rueda, "ejecuta los pasos de la rueda (score)",
              "Uso: minga rueda score EVENTO [--shards N] [--wait] [--detach]\n"
              "\n"
              "score: puntúa todas las demandas del EVENTO contra todas las ofertas y guarda\n"
              "los mejores candidatos de cada demanda y de cada oferta, con sus motivos. Las\n"
              "demandas se reparten en N fragmentos (8 por omisión), un trabajo match.score\n"
              "por fragmento, encolados juntos; los atienden los minga-match-worker en marcha.\n"
              "Cuando termina el último fragmento, los candidatos nuevos reemplazan a los\n"
              "anteriores del evento de una sola vez. Los pesos y K salen de la sección\n"
              "«match» de --config (ver deploy/match.cfg.example).\n"
              "\n"
              "Espera el final mostrando el progreso (--wait se acepta y no cambia nada) y\n"
              "escribe un resumen; con --detach escribe los ids de los trabajos, uno por\n"
              "línea, y vuelve enseguida.\n"
              "\n"
              "Estado de salida: 0 todo puntuado; 1 el evento no existe, el broker no respondió\n"
              "o algún fragmento terminó dead o cancelled; 2 error de uso.\n")
