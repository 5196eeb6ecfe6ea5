/*
 * cmd_report.c: `minga report EVENT [--format csv,html,pdf] [--wait] [--detach]` — enqueues
 * one report.event job for the event, waits for it with progress (as `minga wait` does, and
 * exits as it does), and prints the paths of what was written, one per line, from the
 * records the worker left in the store. --detach prints the job id and returns.
 */
#include "cli.h"

#include "minga/client.h"
#include "minga/error.h"
#include "minga/jobview.h"
#include "minga/report.h"

#include <inttypes.h>
#include <stdio.h>
#include <string.h>

typedef struct {
    size_t n;
    uint64_t job;
} s_print_t;

static int s_print(const minga_report_record_t *r, void *arg)
{
    s_print_t *p = arg;
    if (p->job && r->job != p->job)
        return 0; /* a file of an earlier run, in formats not asked this time */
    if (strcmp(r->kind, "agendas") == 0)
        fprintf(stderr, "  agendas en PDF: %" PRIu64 " archivos en %s/\n", r->files, r->path);
    printf("%s%s\n", r->path, strcmp(r->kind, "agendas") == 0 ? "/" : "");
    p->n++;
    return 0;
}

/* Prints the paths recorded for event by job (all of event's when job is 0). */
static int s_paths(minga_cli_t *cli, const char *event, uint64_t job)
{
    minga_store_t *store;
    if (minga_cli_open_store(cli, MINGA_STORE_RDONLY, &store))
        return MINGA_EXIT_FAIL;
    s_print_t p = {0, job};
    fprintf(stderr, "Informes de %s:\n", event);
    int rc = minga_report_records_each(store, event, s_print, &p);
    minga_store_destroy(&store);
    if (rc) {
        fprintf(stderr, "minga report: the reports of %s cannot be listed: %s\n", event,
                minga_strerror(rc));
        return MINGA_EXIT_FAIL;
    }
    return MINGA_EXIT_OK;
}

static int s_run_report(minga_cli_t *cli, int argc, char **argv)
{
    const char *event = NULL, *fmt = "csv,html,pdf";
    bool detach = false;
    for (int i = 1; i < argc; i++) {
        const char *v = NULL;
        int r;
        if (strcmp(argv[i], "--wait") == 0)
            continue;
        if (strcmp(argv[i], "--detach") == 0)
            detach = true;
        else if ((r = minga_cli_opt("report", argc, argv, &i, "--format", &v)) != 0) {
            if (r < 0)
                return MINGA_EXIT_USAGE;
            fmt = v;
        } else if (argv[i][0] == '-')
            return minga_cli_usage("report", "unknown option '%s'", argv[i]);
        else if (event)
            return minga_cli_usage("report", "one event only");
        else
            event = argv[i];
    }
    if (!event)
        return minga_cli_usage("report", "which event? (minga report EVENT)");
    if (!minga_id_valid(event))
        return minga_cli_usage("report", "'%s' is not an event id", event);
    unsigned formats;
    char err[256];
    if (minga_report_formats_parse(fmt, &formats, err, sizeof err) != 0)
        return minga_cli_usage("report", "--format: %s", err);

    minga_jobspec_t spec;
    minga_jobspec_init(&spec);
    minga_client_t *client = NULL;
    minga_job_t job;
    minga_job_init(&job);
    uint64_t id = 0;
    minga_job_state_t state;
    bool created;
    int rc = MINGA_EXIT_FAIL;
    if (minga_report_jobspec(event, formats, &spec) != 0 ||
        minga_client_new_store(&client, cli->store_dir, (int)(cli->timeout_s * 1000)) != 0)
        goto done;
    if (minga_client_enqueue(client, &spec, &id, &state, &created) != 0) {
        fprintf(stderr, "minga report: %s\n", minga_client_error(client));
        goto done;
    }
    if (detach) {
        printf("%" PRIu64 "\n", id);
        rc = MINGA_EXIT_OK;
        goto done;
    }
    fprintf(stderr, "minga report: %s: informes %s (trabajo %" PRIu64 ")\n", event, fmt, id);
    if (minga_jobview_wait(client, id, "minga report", &job) != 0)
        goto done;
    rc = minga_jobview_exit_status(&job, "minga report");
    if (rc == MINGA_EXIT_OK)
        rc = s_paths(cli, event, id);
done:
    minga_job_clear(&job);
    minga_jobspec_clear(&spec);
    minga_client_destroy(&client);
    return rc;
}

MINGA_COMMAND(report, "report", 64, s_run_report,
              "escribe los informes del evento (CSV, HTML, PDF)",
              "Uso: minga report EVENTO [--format csv,html,pdf] [--wait] [--detach]\n"
              "\n"
              "Encola un trabajo report.event que un minga-report-worker atiende: escribe en\n"
              "ALMACÉN/reports/EVENTO/ los informes de la rueda en los formatos pedidos (los\n"
              "tres por omisión):\n"
              "  csv   reuniones.csv, candidatos.csv, agendas.csv y brecha.csv (UTF-8 con BOM,\n"
              "        separados por «;», coma decimal: se abren en Excel en español)\n"
              "  html  informe.html: el informe del evento con gráficos, en un solo archivo\n"
              "  pdf   agendas/PARTICIPANTE.pdf (una agenda por participante) y grilla.pdf\n"
              "        (la grilla de franjas por mesas para el local, A4 apaisado)\n"
              "La brecha de cobertura son las demandas para las que ninguna oferta pasó los\n"
              "filtros, por competencia COOTAD y provincia.\n"
              "\n"
              "Espera el final mostrando el progreso (--wait se acepta y no cambia nada) y\n"
              "escribe las rutas de los archivos, una por línea; con --detach escribe el id\n"
              "del trabajo y vuelve enseguida.\n"
              "\n"
              "Estado de salida: 0 informes escritos; 1 el evento no existe, el broker no\n"
              "respondió o el trabajo terminó dead o cancelled; 2 error de uso.\n")
