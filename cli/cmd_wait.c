/*
 * cmd_wait.c: `minga wait ID`: follows a job until it ends, with a live progress bar on a
 * terminal (plain lines otherwise); exits 1 when it ends dead or cancelled.
 */
#include "cli.h"

#include "minga/client.h"
#include "minga/jobview.h"

#include <inttypes.h>
#include <stdio.h>
#include <string.h>

static int s_run_wait(minga_cli_t *cli, int argc, char **argv)
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
    int rc = MINGA_EXIT_FAIL;
    if (minga_jobview_wait(client, id, "minga wait", &job) == 0) {
        if (json)
            minga_jobview_json(stdout, &job, false);
        else
            printf("%" PRIu64 " %s\n", job.id, minga_job_state_name(job.state));
        rc = minga_jobview_exit_status(&job, "minga wait");
    }
    minga_job_clear(&job);
    minga_client_destroy(&client);
    return rc;
}

MINGA_COMMAND(wait, "wait", 103, s_run_wait, "espera a que un trabajo termine",
              "Uso: minga wait ID [--json]\n"
              "\n"
              "Sigue el trabajo ID hasta que termine (done, dead o cancelled). En una terminal\n"
              "muestra una barra de progreso en la salida de errores; si no, una línea por cada\n"
              "cambio. Al final escribe «ID ESTADO» en la salida estándar (con --json, el\n"
              "trabajo como objeto JSON en una línea).\n"
              "\n"
              "Estado de salida: 0 el trabajo terminó bien (done); 1 terminó dead o cancelled,\n"
              "no existe, o el broker no respondió a tiempo; 2 error de uso.\n")
