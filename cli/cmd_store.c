/*
 * cmd_store.c: `minga init` creates a store; `minga store info` prints its sizes and the
 * records of each kind.
 */
#include "cli.h"

#include "minga/error.h"

#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

static int s_init(minga_cli_t *cli, int argc, char **argv)
{
    if (argc > 1)
        return minga_cli_usage("init", "unexpected argument '%s'", argv[1]);
    char probe[4096];
    snprintf(probe, sizeof probe, "%s/data.mdb", cli->store_dir);
    struct stat st;
    bool existed = stat(probe, &st) == 0;
    minga_store_t *store;
    if (minga_cli_open_store(cli, MINGA_STORE_CREATE, &store))
        return MINGA_EXIT_FAIL;
    printf("%s: %s\n", existed ? "El almacén ya existía en" : "Almacén creado en",
           minga_store_realpath(store));
    minga_store_destroy(&store);
    return MINGA_EXIT_OK;
}

MINGA_COMMAND(init, "init", 10, s_init, "crea el almacén (LMDB) en el directorio de --store",
              "Uso: minga [--store DIR] init\n\n"
              "Crea el almacén de Minga (un entorno LMDB) en DIR, o en $MINGA_STORE, o en\n"
              "./minga-data. Si ya existe, no lo toca y lo dice.\n")

static const char *s_human(uint64_t bytes, char *buf, size_t cap)
{
    const char *units[] = {"B", "KiB", "MiB", "GiB", "TiB"};
    double v = (double)bytes;
    int u = 0;
    while (v >= 1024 && u < 4)
        v /= 1024, u++;
    snprintf(buf, cap, u ? "%.1f %s" : "%.0f %s", v, units[u]);
    return buf;
}

static int s_info(minga_cli_t *cli, int argc, char **argv)
{
    bool json = false;
    for (int i = 1; i < argc; i++) {
        if (strcmp(argv[i], "--json") == 0)
            json = true;
        else if (strcmp(argv[i], "info") != 0 || i != 1)
            return minga_cli_usage("store", "unexpected argument '%s'", argv[i]);
    }
    if (argc < 2 || strcmp(argv[1], "info") != 0)
        return minga_cli_usage("store", "the only subcommand is 'info'");
    minga_store_t *store;
    if (minga_cli_open_store(cli, MINGA_STORE_RDONLY, &store))
        return MINGA_EXIT_FAIL;
    minga_store_info_t info;
    int rc = minga_store_info(store, &info);
    if (rc) {
        fprintf(stderr, "minga store info: store %s: %s\n", cli->store_dir, minga_strerror(rc));
        minga_store_destroy(&store);
        return MINGA_EXIT_FAIL;
    }
    if (json) {
        json_t *o = json_pack(
            "{s:s, s:I, s:I, s:I, s:I, s:I, s:i}", "path", minga_store_realpath(store), "map_size",
            (json_int_t)info.map_size, "map_max", (json_int_t)info.map_max, "used_bytes",
            (json_int_t)info.used_bytes, "file_bytes", (json_int_t)info.file_bytes, "page_size",
            (json_int_t)info.page_size, "readers", (int)info.readers);
        json_t *dbs = json_object();
        for (int d = 0; d < MINGA_DB_COUNT; d++)
            json_object_set_new(dbs, minga_store_db_name(d),
                                json_pack("{s:I, s:I}", "entries", (json_int_t)info.db[d].entries,
                                          "bytes", (json_int_t)info.db[d].bytes));
        json_object_set_new(o, "kinds", dbs);
        char *text = json_dumps(o, JSON_PRESERVE_ORDER | JSON_COMPACT);
        printf("%s\n", text);
        free(text);
        json_decref(o);
    } else {
        char a[32], b[32], c[32], d[32];
        printf("Almacén:   %s\n", minga_store_realpath(store));
        printf("Mapa:      %s (máximo %s), en uso %s, archivo %s\n",
               s_human(info.map_size, a, sizeof a), s_human(info.map_max, b, sizeof b),
               s_human(info.used_bytes, c, sizeof c), s_human(info.file_bytes, d, sizeof d));
        printf("Lectores:  %u de %u\n\n", info.readers, info.max_readers);
        printf("%-16s %12s %12s\n", "tipo", "registros", "tamaño");
        for (int k = 0; k < MINGA_DB_COUNT; k++)
            printf("%-16s %12llu %12s\n", minga_store_db_name(k),
                   (unsigned long long)info.db[k].entries, s_human(info.db[k].bytes, a, sizeof a));
    }
    minga_store_destroy(&store);
    return MINGA_EXIT_OK;
}

MINGA_COMMAND(store, "store", 11, s_info, "información del almacén: tamaños y registros por tipo",
              "Uso: minga [--store DIR] store info [--json]\n\n"
              "Muestra el tamaño del mapa LMDB, el espacio en uso y, para cada tipo de\n"
              "registro, cuántos hay y cuánto ocupan. Con --json, un objeto JSON.\n")
