/*
 * cmd_up.c: `minga up`: starts, for a store, what is not running yet — the broker, then the
 * workers of each family whose binary stands next to `minga` — as background processes with
 * their pid in STORE/run/NAME.pid and their log in STORE/log/NAME.log. What runs is judged by
 * the pid files' locks (launch.h), never by a pid alone. Returns once the broker answers.
 * Each process gets --store, the --config file (every program reads its own sections of it)
 * and the global --log-level and --map-max when given.
 */
#include "cli.h"

#include "minga/client.h"
#include "minga/error.h"
#include "minga/launch.h"

#include <czmq.h>
#include <errno.h>
#include <libgen.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

/* The worker families `minga up` knows, in start order. */
static const struct {
    const char *binary;
    const char *option;
} s_families[] = {
    {"minga-match-worker", "--match-workers"},
    {"minga-notify-worker", "--notify-workers"},
    {"minga-report-worker", "--report-workers"},
    {"minga-test-worker", "--test-workers"},
};
#define S_NFAMILIES (sizeof s_families / sizeof s_families[0])

typedef struct {
    char store[PATH_MAX];  /* absolute, resolved */
    char bindir[PATH_MAX]; /* where minga and the others are */
    char config[PATH_MAX]; /* absolute --config, or "" */
    const char *pass[8];   /* global options every process takes: --log-level V, --map-max V */
    int npass;
    int count[S_NFAMILIES]; /* workers wanted per family */
    int started, running;
} s_up_t;

static int s_parse(s_up_t *up, int argc, char **argv)
{
    for (size_t f = 0; f < S_NFAMILIES; f++)
        up->count[f] = 1;
    for (int i = 1; i < argc; i++) {
        size_t f = 0;
        const char *v = NULL;
        int r = 0;
        while (f < S_NFAMILIES &&
               (r = minga_cli_opt("up", argc, argv, &i, s_families[f].option, &v)) == 0)
            f++;
        if (r < 0)
            return MINGA_EXIT_USAGE;
        if (f == S_NFAMILIES)
            return minga_cli_usage("up", "unexpected '%s'", argv[i]);
        char *end;
        long n = strtol(v, &end, 10);
        if (!*v || *end || n < 0 || n > 256)
            return minga_cli_usage("up", "%s takes a number from 0 to 256, not '%s'",
                                   s_families[f].option, v);
        up->count[f] = (int)n;
    }
    return 0;
}

/* Creates the store directory, STORE/run (0700) and STORE/log; resolves the paths. */
static int s_prepare(s_up_t *up, minga_cli_t *cli)
{
    char path[PATH_MAX + 16], exe[PATH_MAX];
    if (mkdir(cli->store_dir, 0755) == -1 && errno != EEXIST)
        goto fail_store;
    if (!realpath(cli->store_dir, up->store))
        goto fail_store;
    char ep[256], err[512];
    if (minga_proto_ipc_endpoint(up->store, "clients", ep, sizeof ep, err, sizeof err) != 0) {
        fprintf(stderr, "minga up: %s\n", err);
        return -1;
    }
    snprintf(path, sizeof path, "%s/run", up->store);
    if ((mkdir(path, 0700) == -1 && errno != EEXIST) || chmod(path, 0700) == -1)
        goto fail_store;
    snprintf(path, sizeof path, "%s/log", up->store);
    if (mkdir(path, 0755) == -1 && errno != EEXIST)
        goto fail_store;
    ssize_t n = readlink("/proc/self/exe", exe, sizeof exe - 1);
    if (n <= 0) {
        fprintf(stderr, "minga up: cannot find where minga is: %s\n", strerror(errno));
        return -1;
    }
    exe[n] = 0;
    snprintf(up->bindir, sizeof up->bindir, "%s", dirname(exe));
    up->config[0] = 0;
    for (int i = 0; i < cli->nglobals && up->npass < 8; i++)
        if ((strcmp(cli->globals[i][0], "--log-level") == 0 ||
             strcmp(cli->globals[i][0], "--map-max") == 0) &&
            cli->globals[i][1]) {
            up->pass[up->npass++] = cli->globals[i][0];
            up->pass[up->npass++] = cli->globals[i][1];
        }
    if (cli->config_file && !realpath(cli->config_file, up->config)) {
        fprintf(stderr, "minga up: configuration %s: %s\n", cli->config_file, strerror(errno));
        return -1;
    }
    return 0;
fail_store:
    fprintf(stderr, "minga up: store %s: %s\n", cli->store_dir, strerror(errno));
    return -1;
}

/* Prints the last lines of a log after a process failed to start. */
static void s_log_tail(const char *log)
{
    FILE *f = fopen(log, "r");
    if (!f)
        return;
    char lines[8][512];
    int n = 0;
    while (fgets(lines[n % 8], sizeof lines[0], f))
        n++;
    fclose(f);
    for (int i = n > 8 ? n - 8 : 0; i < n; i++)
        fprintf(stderr, "  | %s", lines[i % 8]);
}

/* Waits up to 10 s for the pid file to be locked by the process started as pid. */
static int s_wait_locked(const char *pidfile, pid_t pid)
{
    for (int waited = 0; waited < 10000; waited += 20) {
        if (minga_pidfile_running(pidfile, NULL) == 1)
            return 0;
        if (waited > 200 && kill(pid, 0) == -1 && minga_pidfile_running(pidfile, NULL) != 1)
            return -1;
        zclock_sleep(20);
    }
    return -1;
}

/* Starts NAME (binary bin) unless its pid file is locked. extra: more arguments, NULL-ended. */
static int s_start(s_up_t *up, const char *name, const char *bin, const char *const *extra)
{
    char pidfile[PATH_MAX + 64], log[PATH_MAX + 64], exe[PATH_MAX + 64];
    snprintf(pidfile, sizeof pidfile, "%s/run/%s.pid", up->store, name);
    snprintf(log, sizeof log, "%s/log/%s.log", up->store, name);
    snprintf(exe, sizeof exe, "%s/%s", up->bindir, bin);
    pid_t pid = 0;
    if (minga_pidfile_running(pidfile, &pid) == 1) {
        printf("%s ya estaba en marcha (pid %ld)\n", name, (long)pid);
        up->running++;
        return 0;
    }
    unlink(pidfile);
    const char *argv[24] = {exe, "--store", up->store};
    int argc = 3;
    for (int i = 0; extra && extra[i] && argc < 12; i++)
        argv[argc++] = extra[i];
    for (int i = 0; i < up->npass; i++)
        argv[argc++] = up->pass[i];
    if (up->config[0]) {
        argv[argc++] = "--config";
        argv[argc++] = up->config;
    }
    argv[argc] = NULL;
    int rc = minga_launch_daemon((char *const *)argv, log, &pid);
    if (rc) {
        fprintf(stderr, "minga up: cannot start %s: %s\n", exe, minga_strerror(rc));
        return -1;
    }
    if (s_wait_locked(pidfile, pid) != 0) {
        fprintf(stderr, "minga up: %s (pid %ld) did not start; the end of %s:\n", name, (long)pid,
                log);
        s_log_tail(log);
        return -1;
    }
    minga_pidfile_running(pidfile, &pid);
    printf("%s iniciado (pid %ld, registro %s)\n", name, (long)pid, log);
    up->started++;
    return 0;
}

/* Waits until the broker answers PING, within the global --timeout. */
static int s_wait_broker(minga_cli_t *cli, s_up_t *up)
{
    minga_client_t *client = NULL;
    if (minga_client_new_store(&client, up->store, 500) != 0)
        return -1;
    int64_t deadline = zclock_mono() + (int64_t)(cli->timeout_s * 1000);
    int rc;
    json_t *reply = NULL;
    while ((rc = minga_client_ping(client, &reply)) == MINGA_ETIMEOUT && zclock_mono() < deadline) {
        minga_client_destroy(&client);
        if (minga_client_new_store(&client, up->store, 500) != 0)
            return -1;
    }
    if (rc)
        fprintf(stderr, "minga up: %s (see %s/log/minga-broker.log)\n", minga_client_error(client),
                up->store);
    json_decref(reply);
    minga_client_destroy(&client);
    return rc ? -1 : 0;
}

static bool s_exists(const s_up_t *up, const char *bin)
{
    char exe[PATH_MAX + 64];
    snprintf(exe, sizeof exe, "%s/%s", up->bindir, bin);
    return access(exe, X_OK) == 0;
}

static int s_run_up(minga_cli_t *cli, int argc, char **argv)
{
    s_up_t up;
    memset(&up, 0, sizeof up);
    int rc = s_parse(&up, argc, argv);
    if (rc)
        return rc;
    if (s_prepare(&up, cli) != 0)
        return MINGA_EXIT_FAIL;
    if (!s_exists(&up, "minga-broker")) {
        fprintf(stderr, "minga up: %s/minga-broker not found\n", up.bindir);
        return MINGA_EXIT_FAIL;
    }
    if (s_start(&up, "minga-broker", "minga-broker", NULL) != 0 || s_wait_broker(cli, &up) != 0)
        return MINGA_EXIT_FAIL;
    for (size_t f = 0; f < S_NFAMILIES; f++) {
        if (!s_exists(&up, s_families[f].binary))
            continue;
        for (int i = 1; i <= up.count[f]; i++) {
            char name[128], pidfile[PATH_MAX + 200];
            snprintf(name, sizeof name, "%s-%d", s_families[f].binary, i);
            snprintf(pidfile, sizeof pidfile, "%s/run/%s.pid", up.store, name);
            const char *extra[] = {"--name", name, "--pid-file", pidfile, NULL};
            if (s_start(&up, name, s_families[f].binary, extra) != 0)
                return MINGA_EXIT_FAIL;
        }
    }
    fflush(stdout);
    fprintf(stderr, "minga up: %d iniciado(s), %d ya en marcha; almacén %s\n", up.started,
            up.running, up.store);
    return MINGA_EXIT_OK;
}

MINGA_COMMAND(up, "up", 120, s_run_up, "arranca el broker y los trabajadores del almacén",
              "Uso: minga up [--match-workers N] [--notify-workers N] [--report-workers N]\n"
              "              [--test-workers N]\n"
              "\n"
              "Arranca en segundo plano lo que aún no corre para el almacén (--store): primero\n"
              "minga-broker, y cuando ya responde, los trabajadores de cada familia cuyo\n"
              "programa está junto a minga (minga-match-worker, minga-notify-worker,\n"
              "minga-report-worker; en una compilación con pruebas, minga-test-worker),\n"
              "numerados desde 1: minga-match-worker-1, minga-match-worker-2...\n"
              "\n"
              "Cada proceso guarda su pid en ALMACÉN/run/NOMBRE.pid y lo mantiene bloqueado\n"
              "(flock) mientras corre; su registro va a ALMACÉN/log/NOMBRE.log. Lo que ya\n"
              "corre no se arranca de nuevo: «minga up» dos veces no inicia nada la segunda.\n"
              "\n"
              "Opciones (1 de cada familia por omisión):\n"
              "  --match-workers N    trabajadores de emparejamiento (match.*)\n"
              "  --notify-workers N   trabajadores de notificaciones (notify.*)\n"
              "  --report-workers N   trabajadores de informes (report.*)\n"
              "  --test-workers N     trabajadores de prueba (test.echo)\n"
              "\n"
              "Estado de salida: 0 todo en marcha; 1 algo no arrancó (se muestra el final de su\n"
              "registro) o el broker no respondió a tiempo (--timeout); 2 error de uso.\n")
