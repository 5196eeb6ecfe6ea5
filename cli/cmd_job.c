/*
 * cmd_job.c: `minga job ID [--json]`: one job, for a person or as one JSON object.
 */
#include "cli.h"

#include "minga/client.h"
#include "minga/jobview.h"

#include <stdio.h>
#include <string.h>

static int s_run_job(minga_cli_t *cli, int argc, char **argv)
{
    uint64_t id;
    bool json;
    int usage = minga_cli_job_args(argc, argv, &id, &json);
    if (usage)
        return usage;
    minga_client_t *client = NULL;
    if (minga_client_new_store(&client, cli->store_dir, (int)(cli->timeout_s * 1000)) != 0)
        return MINGA_EXIT_FAIL;
    minga_job_t job;
    minga_job_init(&job);
    int rc = MINGA_EXIT_OK;
    if (minga_client_status(client, id, &job) != 0) {
        fprintf(stderr, "minga job: %s\n", minga_client_error(client));
        rc = MINGA_EXIT_FAIL;
    } else if (json) {
        minga_jobview_json(stdout, &job, true);
    } else {
        minga_jobview_print(stdout, &job);
    }
    minga_job_clear(&job);
    minga_client_destroy(&client);
    return rc;
}

MINGA_COMMAND(job, "job", 102, s_run_job, "muestra un trabajo",
              "Uso: minga job ID [--json]\n"
              "\n"
              "Muestra el trabajo ID: tipo, estado, intentos, prioridad, dependencias,\n"
              "progreso, entrada, resultado y último error.\n"
              "\n"
              "Opciones:\n"
              "  --json    un objeto JSON en una línea, con los nombres de campo de\n"
              "            schemas/PROTOCOL.md (id, type, state, attempts, priority, parents,\n"
              "            progress, result, error...)\n"
              "\n"
              "Estado de salida: 0 bien, 1 no existe o el broker no respondió, 2 error de uso.\n")
