/*
 * cmd_cancel.c: `minga cancel ID`: cancels a job that has not ended (and its waiting
 * children).
 */
#include "cli.h"

#include "minga/client.h"
#include "minga/jobview.h"

#include <inttypes.h>
#include <stdio.h>

static int s_run_cancel(minga_cli_t *cli, int argc, char **argv)
{
    uint64_t id = 0;
    if (argc != 2 || argv[1][0] == '-' || minga_jobview_parse_id(argv[1], &id) != 0)
        return minga_cli_usage("cancel", "expected one job id (minga cancel ID)");
    minga_client_t *client = NULL;
    if (minga_client_new_store(&client, cli->store_dir, (int)(cli->timeout_s * 1000)) != 0)
        return MINGA_EXIT_FAIL;
    minga_job_t job;
    minga_job_init(&job);
    int rc = MINGA_EXIT_OK;
    if (minga_client_cancel(client, id, &job) != 0) {
        fprintf(stderr, "minga cancel: %s\n", minga_client_error(client));
        rc = MINGA_EXIT_FAIL;
    } else {
        printf("%" PRIu64 " %s\n", job.id, minga_job_state_name(job.state));
    }
    minga_job_clear(&job);
    minga_client_destroy(&client);
    return rc;
}

MINGA_COMMAND(cancel, "cancel", 104, s_run_cancel, "cancela un trabajo",
              "Uso: minga cancel ID\n"
              "\n"
              "Cancela el trabajo ID si aún no terminó (waiting, queued, failed o leased); los\n"
              "trabajos que esperaban por él quedan cancelados también. Si un trabajador lo\n"
              "tenía, el broker se lo retira. Escribe «ID cancelled».\n"
              "\n"
              "Estado de salida: 0 cancelado; 1 no existe, ya había terminado (invalid_state) o\n"
              "el broker no respondió; 2 error de uso.\n")
