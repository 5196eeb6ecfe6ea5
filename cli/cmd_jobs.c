/*
 * cmd_jobs.c: `minga jobs [--state S] [--type T] [--limit N] [--json]`: lists jobs in id
 * order, page by page (LIST), as a table or one JSON object per line.
 */
#include "cli.h"

#include "minga/client.h"
#include "minga/jobview.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

typedef struct {
    const char *state, *type;
    unsigned long long limit; /* 0: all */
    bool json;
} s_jobs_t;

static int s_parse(s_jobs_t *o, int argc, char **argv)
{
    for (int i = 1; i < argc; i++) {
        const char *v = NULL;
        int r;
        if (strcmp(argv[i], "--json") == 0) {
            o->json = true;
        } else if ((r = minga_cli_opt("jobs", argc, argv, &i, "--state", &v)) != 0) {
            if (r < 0)
                return MINGA_EXIT_USAGE;
            if (minga_job_state_parse(v) < 0)
                return minga_cli_usage("jobs",
                                       "--state takes waiting, queued, leased, done, failed, "
                                       "dead or cancelled, not '%s'",
                                       v);
            o->state = v;
        } else if ((r = minga_cli_opt("jobs", argc, argv, &i, "--type", &v)) != 0) {
            if (r < 0)
                return MINGA_EXIT_USAGE;
            if (!minga_job_type_valid(v, strlen(v)))
                return minga_cli_usage("jobs", "'%s' is not a job type", v);
            o->type = v;
        } else if ((r = minga_cli_opt("jobs", argc, argv, &i, "--limit", &v)) != 0) {
            char *end;
            if (r < 0)
                return MINGA_EXIT_USAGE;
            o->limit = strtoull(v, &end, 10);
            if (!*v || *end || *v == '-' || o->limit == 0)
                return minga_cli_usage("jobs", "--limit takes a number >= 1, not '%s'", v);
        } else {
            return minga_cli_usage("jobs", "unexpected '%s'", argv[i]);
        }
    }
    return 0;
}

static int s_run_jobs(minga_cli_t *cli, int argc, char **argv)
{
    s_jobs_t o = {NULL, NULL, 0, false};
    int rc = s_parse(&o, argc, argv);
    if (rc)
        return rc;
    minga_client_t *client = NULL;
    if (minga_client_new_store(&client, cli->store_dir, (int)(cli->timeout_s * 1000)) != 0)
        return MINGA_EXIT_FAIL;
    if (!o.json)
        minga_jobview_table_header(stdout);
    uint64_t after = 0;
    unsigned long long shown = 0;
    do {
        minga_job_t *jobs = NULL;
        size_t n = 0;
        unsigned page = 1000;
        if (o.limit && o.limit - shown < page)
            page = (unsigned)(o.limit - shown);
        if (minga_client_list(client, o.state, o.type, after, page, &jobs, &n, &after) != 0) {
            fprintf(stderr, "minga jobs: %s\n", minga_client_error(client));
            rc = MINGA_EXIT_FAIL;
            break;
        }
        for (size_t i = 0; i < n; i++) {
            if (o.json)
                minga_jobview_json(stdout, &jobs[i], false);
            else
                minga_jobview_table_row(stdout, &jobs[i]);
        }
        shown += n;
        minga_client_jobs_free(jobs, n);
    } while (after && (!o.limit || shown < o.limit));
    minga_client_destroy(&client);
    return rc;
}

MINGA_COMMAND(jobs, "jobs", 101, s_run_jobs, "lista los trabajos",
              "Uso: minga jobs [--state ESTADO] [--type TIPO] [--limit N] [--json]\n"
              "\n"
              "Lista los trabajos del broker en orden de id: id, tipo, estado, intentos,\n"
              "prioridad y progreso o último error.\n"
              "\n"
              "Opciones:\n"
              "  --state ESTADO   solo los de ese estado: waiting, queued, leased, done,\n"
              "                   failed, dead o cancelled\n"
              "  --type TIPO      solo los de ese tipo (match.score, test.echo...)\n"
              "  --limit N        a lo sumo N trabajos (por omisión, todos)\n"
              "  --json           un objeto JSON por línea, con los nombres de campo de\n"
              "                   schemas/PROTOCOL.md (sin entrada ni resultado)\n"
              "\n"
              "Estado de salida: 0 bien, 1 el broker no respondió o rechazó la consulta,\n"
              "2 error de uso.\n")
