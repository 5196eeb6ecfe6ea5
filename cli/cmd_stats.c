/*
 * cmd_stats.c: `minga stats [--json]`: the broker's queues, totals and store use.
 */
#include "cli.h"

#include "minga/client.h"
#include "minga/jobview.h"

#include <stdio.h>
#include <string.h>

static long long s_int(const json_t *o, const char *key)
{
    return (long long)json_integer_value(json_object_get(o, key));
}

static void s_print(const json_t *s)
{
    const char *type;
    json_t *q, *v;
    printf("broker en marcha desde hace %.1f s; %lld trabajador(es) registrado(s)\n\n",
           (double)s_int(s, "uptime_ms") / 1000.0, s_int(s, "workers"));
    printf("%-20s %9s %9s %9s %9s\n", "TIPO", "WAITING", "QUEUED", "LEASED", "FAILED");
    json_object_foreach((json_t *)json_object_get(s, "queues"), type, q)
    {
        printf("%-20s %9lld %9lld %9lld %9lld\n", type, s_int(q, "waiting"), s_int(q, "queued"),
               s_int(q, "leased"), s_int(q, "failed"));
    }
    printf("\ntotales desde el arranque:");
    json_object_foreach((json_t *)json_object_get(s, "totals"), type, v)
    {
        printf(" %s %lld", type, (long long)json_integer_value(v));
    }
    const json_t *st = json_object_get(s, "store");
    printf("\nalmacén: %.1f MiB usados de un mapa de %.1f MiB\n",
           (double)s_int(st, "used_bytes") / 1048576.0, (double)s_int(st, "map_size") / 1048576.0);
}

static int s_run_stats(minga_cli_t *cli, int argc, char **argv)
{
    bool json = false;
    for (int i = 1; i < argc; i++) {
        if (strcmp(argv[i], "--json") == 0)
            json = true;
        else
            return minga_cli_usage("stats", "unexpected '%s'", argv[i]);
    }
    minga_client_t *client = NULL;
    if (minga_client_new_store(&client, cli->store_dir, (int)(cli->timeout_s * 1000)) != 0)
        return MINGA_EXIT_FAIL;
    json_t *reply = NULL;
    int rc = MINGA_EXIT_OK;
    if (minga_client_stats(client, &reply) != 0) {
        fprintf(stderr, "minga stats: %s\n", minga_client_error(client));
        rc = MINGA_EXIT_FAIL;
    } else if (json) {
        minga_jobview_json_line(stdout, reply);
    } else {
        s_print(reply);
    }
    json_decref(reply);
    minga_client_destroy(&client);
    return rc;
}

MINGA_COMMAND(stats, "stats", 107, s_run_stats, "estadísticas del broker y sus colas",
              "Uso: minga stats [--json]\n"
              "\n"
              "Muestra cuánto lleva el broker en marcha, cuántos trabajadores tiene, los\n"
              "trabajos de cada tipo por estado (waiting, queued, leased, failed), los totales\n"
              "desde el arranque (encolados, terminados, reintentados, muertos...) y el uso\n"
              "del almacén.\n"
              "\n"
              "Opciones:\n"
              "  --json   un objeto JSON en una línea, con los nombres de campo de\n"
              "           schemas/PROTOCOL.md (uptime_ms, queues, totals, workers, store)\n"
              "\n"
              "Estado de salida: 0 bien, 1 el broker no respondió, 2 error de uso.\n")
