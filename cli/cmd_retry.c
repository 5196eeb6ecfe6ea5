/*
 * cmd_retry.c: `minga retry ID`: queues a dead or cancelled job again, attempts from 0.
 */
#include "cli.h"

#include "minga/client.h"
#include "minga/jobview.h"

#include <inttypes.h>
#include <stdio.h>

static int s_run_retry(minga_cli_t *cli, int argc, char **argv)
{
    uint64_t id = 0;
    if (argc != 2 || argv[1][0] == '-' || minga_jobview_parse_id(argv[1], &id) != 0)
        return minga_cli_usage("retry", "expected one job id (minga retry ID)");
    minga_client_t *client = NULL;
    if (minga_client_new_store(&client, cli->store_dir, (int)(cli->timeout_s * 1000)) != 0)
        return MINGA_EXIT_FAIL;
    minga_job_t job;
    minga_job_init(&job);
    int rc = MINGA_EXIT_OK;
    if (minga_client_retry(client, id, &job) != 0) {
        fprintf(stderr, "minga retry: %s\n", minga_client_error(client));
        rc = MINGA_EXIT_FAIL;
    } else {
        printf("%" PRIu64 " %s\n", job.id, minga_job_state_name(job.state));
    }
    minga_job_clear(&job);
    minga_client_destroy(&client);
    return rc;
}

MINGA_COMMAND(retry, "retry", 105, s_run_retry, "reintenta un trabajo muerto o cancelado",
              "Uso: minga retry ID\n"
              "\n"
              "Vuelve a encolar el trabajo ID, que terminó dead o cancelled, con sus intentos\n"
              "a cero y sin error (queda waiting si alguno de sus padres aún no terminó).\n"
              "Escribe «ID ESTADO». Si un padre está dead o cancelled, reintente antes el\n"
              "padre.\n"
              "\n"
              "Estado de salida: 0 reencolado; 1 no existe, no está dead ni cancelled\n"
              "(invalid_state) o el broker no respondió; 2 error de uso.\n")
