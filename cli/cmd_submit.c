/*
 * cmd_submit.c: `minga submit TYPE [--json BODY] [--key K] [--after ID...] [--priority P]
 * [--wait]`: enqueues one job and prints its id alone, or with --wait waits for it and exits
 * as `minga wait` does.
 */
#include "cli.h"

#include "minga/client.h"
#include "minga/error.h"
#include "minga/jobview.h"

#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

typedef struct {
    minga_jobspec_t spec;
    bool wait;
} s_submit_t;

static bool s_is_id(const char *a)
{
    uint64_t id;
    return minga_jobview_parse_id(a, &id) == 0;
}

/* --after ID... : ids separated by commas, or several arguments, each >= 1. */
static int s_add_parents(s_submit_t *s, const char *list)
{
    char *copy = strdup(list), *save = NULL;
    int rc = copy ? 0 : MINGA_ENOMEM;
    for (char *tok = copy ? strtok_r(copy, ",", &save) : NULL; tok && rc == 0;
         tok = strtok_r(NULL, ",", &save)) {
        uint64_t id;
        uint64_t *grown = NULL;
        if (minga_jobview_parse_id(tok, &id) != 0)
            rc = minga_cli_usage("submit", "--after takes job ids, not '%s'", tok);
        else if (!(grown = realloc(s->spec.parents, (s->spec.nparents + 1) * sizeof *grown)))
            rc = MINGA_ENOMEM;
        else {
            s->spec.parents = grown;
            s->spec.parents[s->spec.nparents++] = id;
        }
    }
    free(copy);
    return rc;
}

static int s_uint_opt(const char *opt, const char *v, uint64_t max, uint64_t *out)
{
    char *end;
    unsigned long long n = strtoull(v, &end, 10);
    if (!*v || *end || *v == '-' || n > max)
        return minga_cli_usage("submit", "%s takes a number from 0 to %" PRIu64 ", not '%s'", opt,
                               max, v);
    *out = n;
    return 0;
}

static int s_body(s_submit_t *s, const char *json)
{
    char err[256];
    if (minga_json_to_msgpack(json, &s->spec.body, &s->spec.body_len, err, sizeof err) != 0)
        return minga_cli_usage("submit", "--json: not valid JSON: %s", err);
    return 0;
}

/* Reads argv into *s; returns 0 or an exit status. */
static int s_parse(s_submit_t *s, int argc, char **argv)
{
    for (int i = 1; i < argc; i++) {
        const char *v = NULL;
        uint64_t n = 0;
        int r;
        if (strcmp(argv[i], "--wait") == 0) {
            s->wait = true;
        } else if ((r = minga_cli_opt("submit", argc, argv, &i, "--json", &v)) != 0) {
            if (r < 0 || s_body(s, v))
                return MINGA_EXIT_USAGE;
        } else if ((r = minga_cli_opt("submit", argc, argv, &i, "--key", &v)) != 0) {
            if (r < 0 || !*v || strlen(v) > MINGA_PROTO_MAX_KEY)
                return r < 0 ? MINGA_EXIT_USAGE
                             : minga_cli_usage("submit", "--key takes 1 to 256 bytes");
            free(s->spec.key);
            s->spec.key = strdup(v);
        } else if ((r = minga_cli_opt("submit", argc, argv, &i, "--after", &v)) != 0) {
            if (r < 0 || s_add_parents(s, v))
                return MINGA_EXIT_USAGE;
            while (i + 1 < argc && s_is_id(argv[i + 1]))
                if (s_add_parents(s, argv[++i]))
                    return MINGA_EXIT_USAGE;
        } else if ((r = minga_cli_opt("submit", argc, argv, &i, "--priority", &v)) != 0) {
            if (r < 0 || s_uint_opt("--priority", v, 255, &n))
                return MINGA_EXIT_USAGE;
            s->spec.priority = (int)n;
        } else if ((r = minga_cli_opt("submit", argc, argv, &i, "--max-attempts", &v)) != 0) {
            if (r < 0 || s_uint_opt("--max-attempts", v, MINGA_PROTO_MAX_ATTEMPTS, &n))
                return MINGA_EXIT_USAGE;
            s->spec.max_attempts = (uint32_t)n;
        } else if ((r = minga_cli_opt("submit", argc, argv, &i, "--lease-ms", &v)) != 0) {
            if (r < 0 || s_uint_opt("--lease-ms", v, MINGA_PROTO_MAX_LEASE_MS, &n))
                return MINGA_EXIT_USAGE;
            s->spec.lease_ms = (uint32_t)n;
        } else if ((r = minga_cli_opt("submit", argc, argv, &i, "--delay-ms", &v)) != 0) {
            if (r < 0 || s_uint_opt("--delay-ms", v, MINGA_PROTO_MAX_DELAY_MS, &n))
                return MINGA_EXIT_USAGE;
            s->spec.delay_ms = n;
        } else if (argv[i][0] == '-' && argv[i][1]) {
            return minga_cli_usage("submit", "unknown option '%s'", argv[i]);
        } else if (s->spec.type) {
            return minga_cli_usage("submit", "one job type only ('%s' and '%s')", s->spec.type,
                                   argv[i]);
        } else {
            s->spec.type = strdup(argv[i]);
        }
    }
    if (!s->spec.type)
        return minga_cli_usage("submit", "which job type? (e.g. minga submit test.echo)");
    if (!minga_job_type_valid(s->spec.type, strlen(s->spec.type)))
        return minga_cli_usage("submit", "'%s' is not a job type (1 to 64 of a-z 0-9 . _ -)",
                               s->spec.type);
    return 0;
}

static int s_run_submit(minga_cli_t *cli, int argc, char **argv)
{
    s_submit_t s;
    memset(&s, 0, sizeof s);
    minga_jobspec_init(&s.spec);
    minga_client_t *client = NULL;
    minga_job_t job;
    minga_job_init(&job);
    int rc = s_parse(&s, argc, argv);
    if (rc)
        goto done;
    rc = MINGA_EXIT_FAIL;
    if (minga_client_new_store(&client, cli->store_dir, (int)(cli->timeout_s * 1000)) != 0)
        goto done;
    uint64_t id;
    if (minga_client_enqueue(client, &s.spec, &id, NULL, NULL) != 0) {
        fprintf(stderr, "minga submit: %s\n", minga_client_error(client));
        goto done;
    }
    printf("%" PRIu64 "\n", id);
    fflush(stdout);
    rc = MINGA_EXIT_OK;
    if (s.wait) {
        rc = MINGA_EXIT_FAIL;
        if (minga_jobview_wait(client, id, "minga submit", &job) == 0)
            rc = minga_jobview_exit_status(&job, "minga submit");
    }
done:
    minga_job_clear(&job);
    minga_client_destroy(&client);
    minga_jobspec_clear(&s.spec);
    return rc;
}

MINGA_COMMAND(submit, "submit", 100, s_run_submit, "encola un trabajo y escribe su id",
              "Uso: minga submit TIPO [--json CUERPO] [--key CLAVE] [--after ID...]\n"
              "                   [--priority P] [--wait]\n"
              "\n"
              "Encola un trabajo del TIPO dado (match.score, match.schedule, notify.agenda,\n"
              "report.event, test.echo...) en el broker del almacén y escribe su id, solo, en\n"
              "la salida estándar. Con --wait espera a que termine, mostrando su progreso.\n"
              "\n"
              "Opciones:\n"
              "  --json CUERPO        entrada del trabajo, en JSON (se envía como msgpack)\n"
              "  --key CLAVE          clave de idempotencia: encolar de nuevo la misma clave\n"
              "                       devuelve el mismo trabajo, sin crear otro\n"
              "  --after ID...        espera a que estos trabajos terminen bien (done); uno o\n"
              "                       varios ids, separados por comas o espacios\n"
              "  --priority P         0 a 255, menor primero (128)\n"
              "  --max-attempts N     intentos antes de darlo por muerto (dead)\n"
              "  --lease-ms MS        tiempo que tiene un trabajador para cada intento\n"
              "  --delay-ms MS        no empezar antes de MS milisegundos\n"
              "  --wait               esperar el final, como «minga wait»\n"
              "\n"
              "Ejemplo:\n"
              "  minga submit test.echo --json '{\"sleep_ms\": 100}' --wait\n"
              "\n"
              "Estado de salida: 0 encolado (con --wait: terminó bien), 1 el broker lo rechazó,\n"
              "no respondió a tiempo, o (con --wait) el trabajo terminó dead o cancelled;\n"
              "2 error de uso.\n")
