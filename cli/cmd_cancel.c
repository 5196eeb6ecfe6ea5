/*
 * cmd_cancel.c: the commands that change one job's state by id — `minga cancel ID` cancels a
 * job that has not ended (and its waiting children); `minga retry ID` queues a dead or
 * cancelled job again, attempts from 0. One body, a table of the client calls.
 */
#include "cli.h"

#include "minga/client.h"
#include "minga/jobview.h"

#include <inttypes.h>
#include <stdio.h>

typedef int(s_job_call_fn)(minga_client_t *client, uint64_t id, minga_job_t *job);

/* Runs `minga NAME ID` through call and prints "ID STATE". */
static int s_job_op(minga_cli_t *cli, int argc, char **argv, s_job_call_fn *call)
{
    const char *name = argv[0];
    uint64_t id = 0;
    if (argc != 2 || argv[1][0] == '-' || minga_jobview_parse_id(argv[1], &id) != 0)
        return minga_cli_usage(name, "expected one job id (minga %s ID)", name);
    minga_client_t *client = NULL;
    if (minga_client_new_store(&client, cli->store_dir, (int)(cli->timeout_s * 1000)) != 0)
        return MINGA_EXIT_FAIL;
    minga_job_t job;
    minga_job_init(&job);
    int rc = MINGA_EXIT_OK;
    if (call(client, id, &job) != 0) {
        fprintf(stderr, "minga %s: %s\n", name, minga_client_error(client));
        rc = MINGA_EXIT_FAIL;
    } else {
        printf("%" PRIu64 " %s\n", job.id, minga_job_state_name(job.state));
    }
    minga_job_clear(&job);
    minga_client_destroy(&client);
    return rc;
}

static int s_run_cancel(minga_cli_t *cli, int argc, char **argv)
{
    return s_job_op(cli, argc, argv, minga_client_cancel);
}

static int s_run_retry(minga_cli_t *cli, int argc, char **argv)
{
    return s_job_op(cli, argc, argv, minga_client_retry);
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
