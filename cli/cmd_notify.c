/*
 * cmd_notify.c: `minga notify EVENT [--party ID] [--dry-run DIR] [--shards N] [--detach]`,
 * the agenda e-mails of an event.
 *
 * With an SMTP relay in the section "smtp" of --config, it enqueues notify.agenda jobs (one per
 * shard of the participants, or one for --party) as a batch for the minga-notify-worker
 * processes, waits for them with progress and prints what was sent; --detach prints the job
 * ids instead. A dry run (--dry-run DIR, or no relay configured: STORE/mail/EVENT/) renders the
 * same messages here, in this process, into DIR/PARTY-vVERSION.eml and writes nothing to the
 * store; it needs no broker.
 */
#include "cli.h"

#include "minga/client.h"
#include "minga/error.h"
#include "minga/jobview.h"
#include "minga/notify.h"
#include "minga/proto.h"
#include "minga/record.h"

#include <inttypes.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#define S_SHARDS_DEFAULT 4

typedef struct {
    const char *event, *party, *dry_run;
    unsigned shards;
    bool detach;
    minga_smtp_config_t smtp;
} s_notify_t;

static int s_parse(s_notify_t *s, minga_cli_t *cli, int argc, char **argv)
{
    s->shards = S_SHARDS_DEFAULT;
    for (int i = 1; i < argc; i++) {
        const char *v = NULL;
        int r;
        if (strcmp(argv[i], "--wait") == 0) {
            continue;
        } else if (strcmp(argv[i], "--detach") == 0) {
            s->detach = true;
        } else if ((r = minga_cli_opt("notify", argc, argv, &i, "--party", &v)) != 0) {
            if (r < 0)
                return MINGA_EXIT_USAGE;
            s->party = v;
        } else if ((r = minga_cli_opt("notify", argc, argv, &i, "--dry-run", &v)) != 0) {
            if (r < 0)
                return MINGA_EXIT_USAGE;
            s->dry_run = v;
        } else if ((r = minga_cli_opt("notify", argc, argv, &i, "--shards", &v)) != 0) {
            char *end;
            long n = r > 0 ? strtol(v, &end, 10) : 0;
            if (r < 0 || !*v || *end || n < 1 || n > 1000)
                return r < 0 ? MINGA_EXIT_USAGE
                             : minga_cli_usage("notify", "--shards takes 1..1000, not '%s'", v);
            s->shards = (unsigned)n;
        } else if (argv[i][0] == '-') {
            return minga_cli_usage("notify", "unknown option '%s'", argv[i]);
        } else if (s->event) {
            return minga_cli_usage("notify", "one event only");
        } else {
            s->event = argv[i];
        }
    }
    if (!s->event)
        return minga_cli_usage("notify", "which event? (minga notify EVENT)");
    if (!minga_id_valid(s->event))
        return minga_cli_usage("notify", "'%s' is not an event id", s->event);
    if (s->party && (strlen(s->party) > MINGA_KEY_ID || !*s->party))
        return minga_cli_usage("notify", "'%s' is not a party id", s->party);
    if (s->party)
        s->shards = 1;
    char err[512];
    if (minga_smtp_config_load(&s->smtp, cli->config_file, err, sizeof err) != 0 ||
        minga_smtp_config_check(&s->smtp, err, sizeof err) != 0) {
        fprintf(stderr, "minga notify: %s\n", err);
        return MINGA_EXIT_FAIL;
    }
    return 0;
}

/* ---- dry run, in this process ---- */

static void s_dry_progress(uint64_t done, uint64_t total, const char *text, void *arg)
{
    (void)arg;
    if (isatty(2))
        fprintf(stderr, "\rnotificando: %" PRIu64 "/%" PRIu64 " participantes (%s)", done, total,
                text);
    else if (done == total)
        fprintf(stderr, "notificando: %" PRIu64 "/%" PRIu64 " participantes (%s)\n", done, total,
                text);
}

static int s_dry(s_notify_t *s, minga_cli_t *cli)
{
    minga_store_t *store;
    if (minga_cli_open_store(cli, MINGA_STORE_RDONLY, &store))
        return MINGA_EXIT_FAIL;
    char dir[PATH_MAX];
    bool own = !s->dry_run;
    if (own)
        snprintf(dir, sizeof dir, "%s/mail/%s", minga_store_realpath(store), s->event);
    else
        snprintf(dir, sizeof dir, "%s", s->dry_run);
    if (own)
        fprintf(stderr,
                "minga notify: no hay un relé SMTP configurado (sección «smtp» de --config): "
                "simulación, los mensajes se escriben en %s/\n",
                dir);
    minga_notify_job_t job = {s->event, s->party, 0, 1, dir, &s->smtp, NULL, 0};
    minga_notify_result_t res;
    char err[1024] = "";
    int rc = minga_notify_run(store, &job, s_dry_progress, NULL, &res, err, sizeof err);
    if (isatty(2))
        fputc('\n', stderr);
    minga_store_destroy(&store);
    if (rc) {
        fprintf(stderr, "minga notify: %s\n", err);
        return MINGA_EXIT_FAIL;
    }
    printf("%s: %zu agendas escritas en %s/ (simulación: no se envió nada)%s\n", s->event,
           res.written, dir, res.failed ? "" : "");
    if (res.failed)
        printf("%zu participantes sin dirección de correo válida: no se escribió su mensaje\n",
               res.failed);
    return MINGA_EXIT_OK;
}

/* ---- through the broker ---- */

typedef struct {
    unsigned i, n;
    bool tty;
} s_wait_t;

static void s_on_progress(uint64_t id, minga_job_state_t state, const minga_progress_t *p,
                          void *arg)
{
    (void)id;
    (void)state;
    s_wait_t *w = arg;
    if (w->tty && p)
        fprintf(stderr, "\rnotificando: fragmento %u/%u: %u/%u participantes%s%s        ", w->i + 1,
                w->n, p->done, p->total, p->text ? ", " : "", p->text ? p->text : "");
}

static int s_wait_all(minga_client_t *client, const uint64_t *ids, unsigned n, minga_job_t *jobs)
{
    s_wait_t w = {0, n, isatty(2)};
    int status = MINGA_EXIT_OK;
    for (unsigned i = 0; i < n; i++) {
        w.i = i;
        minga_job_t *job = &jobs[i];
        if (minga_client_wait(client, ids[i], 0, s_on_progress, &w, job) != 0) {
            fprintf(stderr, "%sminga notify: %s\n", w.tty ? "\n" : "", minga_client_error(client));
            return MINGA_EXIT_FAIL;
        }
        if (job->state != MINGA_JOB_DONE) {
            if (w.tty)
                fputc('\n', stderr);
            status = minga_jobview_exit_status(job, "minga notify");
        }
        if (!w.tty)
            fprintf(stderr, "notificando: fragmento %u/%u terminado (trabajo %" PRIu64 ", %s)\n",
                    i + 1, n, ids[i], minga_job_state_name(job->state));
    }
    if (w.tty)
        fputc('\n', stderr);
    return status;
}

static int s_send(s_notify_t *s, minga_cli_t *cli)
{
    minga_client_t *client = NULL;
    minga_jobspec_t *specs = calloc(s->shards, sizeof *specs);
    uint64_t *ids = calloc(s->shards, sizeof *ids);
    minga_job_t *jobs = calloc(s->shards, sizeof *jobs);
    int rc = MINGA_EXIT_FAIL;
    for (unsigned i = 0; specs && jobs && i < s->shards; i++) {
        minga_jobspec_init(&specs[i]);
        minga_job_init(&jobs[i]);
    }
    for (unsigned i = 0; specs && ids && jobs && i < s->shards; i++)
        if (minga_notify_jobspec(s->event, s->party, i, s->shards, NULL, &specs[i]) != 0)
            goto done;
    if (!specs || !ids || !jobs ||
        minga_client_new_store(&client, cli->store_dir, (int)(cli->timeout_s * 1000)) != 0)
        goto done;
    if (minga_client_batch(client, specs, s->shards, ids) != 0) {
        fprintf(stderr, "minga notify: %s\n", minga_client_error(client));
        goto done;
    }
    if (s->detach) {
        for (unsigned i = 0; i < s->shards; i++)
            printf("%" PRIu64 "\n", ids[i]);
        rc = MINGA_EXIT_OK;
        goto done;
    }
    fprintf(stderr, "minga notify: %s: agendas por %s:%u en %u fragmento%s\n", s->event,
            s->smtp.host, (unsigned)s->smtp.port, s->shards, s->shards == 1 ? "" : "s");
    rc = s_wait_all(client, ids, s->shards, jobs);
    if (rc == MINGA_EXIT_OK)
        minga_notify_summary_print(stdout, s->event, jobs, s->shards);
done:
    for (unsigned i = 0; specs && i < s->shards; i++)
        minga_jobspec_clear(&specs[i]);
    for (unsigned i = 0; jobs && i < s->shards; i++)
        minga_job_clear(&jobs[i]);
    free(jobs);
    free(specs);
    free(ids);
    minga_client_destroy(&client);
    return rc;
}

static int s_notify(minga_cli_t *cli, int argc, char **argv)
{
    s_notify_t s;
    memset(&s, 0, sizeof s);
    int rc = s_parse(&s, cli, argc, argv);
    if (rc == 0)
        rc = s.dry_run || !s.smtp.host || !*s.smtp.host ? s_dry(&s, cli) : s_send(&s, cli);
    minga_smtp_config_free(&s.smtp);
    return rc;
}

MINGA_COMMAND(notify, "notify", 70, s_notify, "envía a cada participante su agenda por correo",
              "Uso: minga notify EVENTO [--party ID] [--dry-run DIR] [--shards N] [--wait]\n"
              "                    [--detach]\n"
              "\n"
              "Envía a cada participante del EVENTO (o solo a --party ID) su agenda: un correo\n"
              "en español (texto y HTML) con sus reuniones —día, hora, mesa, contraparte,\n"
              "demanda, oferta y por qué coinciden— y el archivo agenda.ics para su calendario.\n"
              "Cada versión de una agenda se envía una sola vez: solo reciben un correo nuevo\n"
              "los participantes cuya agenda cambió desde la última versión (por ejemplo, tras\n"
              "minga rueda reschedule); las reuniones canceladas desde entonces aparecen como\n"
              "canceladas. El estado de cada mensaje se ve con minga outbox --event EVENTO.\n"
              "\n"
              "El relé SMTP sale de la sección «smtp» de --config (host, port, starttls, user,\n"
              "password, from, from_name, domain, rate, timeout_ms, tries, backoff_ms). Los\n"
              "trabajos notify.agenda (N fragmentos, 4 por omisión) los atienden los\n"
              "minga-notify-worker en marcha (minga up --notify-workers N); un error temporal\n"
              "del relé (4xx, sin conexión) se reintenta con espera creciente, uno permanente\n"
              "(5xx) marca ese mensaje como fallido y se sigue con los demás.\n"
              "\n"
              "--dry-run DIR  no envía nada: escribe cada mensaje en DIR/PARTICIPANTE-vN.eml,\n"
              "               sin tocar el almacén ni usar el broker. Sin relé configurado,\n"
              "               minga notify hace esta simulación en ALMACÉN/mail/EVENTO/.\n"
              "\n"
              "Espera el final mostrando el progreso (--wait se acepta y no cambia nada) y\n"
              "escribe un resumen; con --detach escribe los ids de los trabajos, uno por\n"
              "línea, y vuelve enseguida.\n"
              "\n"
              "Estado de salida: 0 todo enviado (o escrito); 1 el evento no existe, el broker\n"
              "no respondió o algún trabajo terminó dead o cancelled; 2 error de uso.\n")
