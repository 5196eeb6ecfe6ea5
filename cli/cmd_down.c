/*
 * cmd_down.c: `minga down`: stops the processes `minga up` started for a store — the workers
 * first (SIGTERM drains them while the broker still takes their answers), then the broker —
 * waiting up to the drain time-out before SIGKILL, and removes their pid files.
 */
#include "cli.h"

#include "minga/launch.h"

#include <dirent.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

typedef struct {
    char *paths[512];
    char *names[512];
    int n;
} s_group_t;

static void s_group_free(s_group_t *g)
{
    for (int i = 0; i < g->n; i++) {
        free(g->paths[i]);
        free(g->names[i]);
    }
    g->n = 0;
}

/* Collects STORE/run/ *.pid into workers (all but minga-broker) and broker. */
static int s_collect(const char *run, s_group_t *workers, s_group_t *broker)
{
    DIR *d = opendir(run);
    if (!d)
        return -1;
    struct dirent *e;
    while ((e = readdir(d))) {
        size_t len = strlen(e->d_name);
        if (len < 5 || strcmp(e->d_name + len - 4, ".pid") != 0)
            continue;
        s_group_t *g = strcmp(e->d_name, "minga-broker.pid") == 0 ? broker : workers;
        if (g->n >= 512)
            continue;
        char path[PATH_MAX + 300];
        snprintf(path, sizeof path, "%s/%s", run, e->d_name);
        g->paths[g->n] = strdup(path);
        g->names[g->n] = strndup(e->d_name, len - 4);
        g->n++;
    }
    closedir(d);
    return 0;
}

/* Stops a group; prints what it did. Returns how many were running. */
static int s_stop(s_group_t *g, int drain_ms)
{
    bool killed[512];
    bool running[512];
    int nrunning = 0;
    for (int i = 0; i < g->n; i++)
        nrunning += running[i] = minga_pidfile_running(g->paths[i], NULL) == 1;
    minga_launch_stop(g->paths, g->n, drain_ms, killed);
    for (int i = 0; i < g->n; i++) {
        if (killed[i])
            fprintf(stderr, "minga down: %s did not stop within %d s: killed (SIGKILL)\n",
                    g->names[i], drain_ms / 1000);
        else if (running[i])
            printf("%s detenido\n", g->names[i]);
    }
    return nrunning;
}

static int s_run_down(minga_cli_t *cli, int argc, char **argv)
{
    int drain_s = 30;
    for (int i = 1; i < argc; i++) {
        const char *v = NULL;
        int r = minga_cli_opt("down", argc, argv, &i, "--drain-timeout", &v);
        if (r < 0)
            return MINGA_EXIT_USAGE;
        if (r == 0)
            return minga_cli_usage("down", "unexpected '%s'", argv[i]);
        char *end;
        long n = strtol(v, &end, 10);
        if (!*v || *end || n < 0 || n > 86400)
            return minga_cli_usage("down", "--drain-timeout takes seconds (0 to 86400), not '%s'",
                                   v);
        drain_s = (int)n;
    }
    char run[PATH_MAX];
    snprintf(run, sizeof run, "%s/run", cli->store_dir);
    s_group_t workers = {.n = 0}, broker = {.n = 0};
    if (s_collect(run, &workers, &broker) != 0) {
        fprintf(stderr, "minga down: nothing to stop: no %s directory\n", run);
        return MINGA_EXIT_OK;
    }
    int n = s_stop(&workers, drain_s * 1000);
    n += s_stop(&broker, drain_s * 1000);
    if (n == 0)
        fprintf(stderr, "minga down: nothing was running for %s\n", cli->store_dir);
    s_group_free(&workers);
    s_group_free(&broker);
    return MINGA_EXIT_OK;
}

MINGA_COMMAND(down, "down", 121, s_run_down, "detiene el broker y los trabajadores del almacén",
              "Uso: minga down [--drain-timeout SEG]\n"
              "\n"
              "Detiene los procesos que «minga up» arrancó para el almacén (--store): primero\n"
              "los trabajadores, que al recibir SIGTERM terminan o devuelven sus trabajos, y\n"
              "después el broker. Al que no termina dentro del plazo se le envía SIGKILL (sus\n"
              "trabajos se vuelven a encolar). Borra los archivos de pid de ALMACÉN/run.\n"
              "\n"
              "Opciones:\n"
              "  --drain-timeout SEG   plazo para terminar tras SIGTERM (30 s)\n"
              "\n"
              "Estado de salida: 0 todo detenido (o nada corría), 2 error de uso.\n")
