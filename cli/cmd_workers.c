/*
 * cmd_workers.c: `minga workers [--json]`: the workers registered with the broker.
 */
#include "cli.h"

#include "minga/client.h"
#include "minga/jobview.h"

#include <stdio.h>
#include <string.h>

/* The types of a worker, joined with ",". */
static void s_types(const json_t *w, char *buf, size_t size)
{
    size_t i, used = 0;
    json_t *t;
    buf[0] = 0;
    json_array_foreach(json_object_get(w, "types"), i, t)
    {
        int n = snprintf(buf + used, size - used, "%s%s", i ? "," : "",
                         json_is_string(t) ? json_string_value(t) : "?");
        if (n < 0 || (size_t)n >= size - used)
            break;
        used += (size_t)n;
    }
}

static void s_print_table(const json_t *workers)
{
    size_t i;
    json_t *w;
    printf("%-36s %-24s %-9s %-8s %s\n", "NOMBRE", "TIPOS", "CAPACIDAD", "OCUPADO", "SILENCIO");
    json_array_foreach(workers, i, w)
    {
        char types[256];
        s_types(w, types, sizeof types);
        const char *name = json_string_value(json_object_get(w, "name"));
        printf("%-36s %-24s %-9lld %-8zu %lld ms\n", name && *name ? name : "(sin nombre)", types,
               (long long)json_integer_value(json_object_get(w, "capacity")),
               json_array_size(json_object_get(w, "held")),
               (long long)json_integer_value(json_object_get(w, "idle_ms")));
    }
}

static int s_run_workers(minga_cli_t *cli, int argc, char **argv)
{
    bool json = false;
    for (int i = 1; i < argc; i++) {
        if (strcmp(argv[i], "--json") == 0)
            json = true;
        else
            return minga_cli_usage("workers", "unexpected '%s'", argv[i]);
    }
    minga_client_t *client = NULL;
    if (minga_client_new_store(&client, cli->store_dir, (int)(cli->timeout_s * 1000)) != 0)
        return MINGA_EXIT_FAIL;
    json_t *reply = NULL;
    int rc = MINGA_EXIT_OK;
    if (minga_client_workers(client, &reply) != 0) {
        fprintf(stderr, "minga workers: %s\n", minga_client_error(client));
        rc = MINGA_EXIT_FAIL;
    } else if (json) {
        size_t i;
        json_t *w;
        json_array_foreach(json_object_get(reply, "workers"), i, w)
        {
            minga_jobview_json_line(stdout, w);
        }
    } else {
        s_print_table(json_object_get(reply, "workers"));
    }
    json_decref(reply);
    minga_client_destroy(&client);
    return rc;
}

MINGA_COMMAND(workers, "workers", 106, s_run_workers, "lista los trabajadores conectados",
              "Uso: minga workers [--json]\n"
              "\n"
              "Lista los trabajadores registrados en el broker: nombre, tipos de trabajo que\n"
              "atienden, capacidad (trabajos a la vez), trabajos que tienen ahora y tiempo\n"
              "desde su último mensaje.\n"
              "\n"
              "Opciones:\n"
              "  --json   un objeto JSON por trabajador y línea, con los nombres de campo de\n"
              "           schemas/PROTOCOL.md (id, name, types, capacity, held, idle_ms,\n"
              "           joined_at)\n"
              "\n"
              "Estado de salida: 0 bien, 1 el broker no respondió, 2 error de uso.\n")
