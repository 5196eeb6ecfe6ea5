/*
 * main.c: the minga-broker command. Reads the configuration (defaults, then --config FILE,
 * then flags: the sections broker, curve, store and log), starts the ZAP handler when a tcp://
 * endpoint is a CurveZMQ one, prepares STORE/run (mode 0700) and STORE/log, takes the exclusive
 * lock on STORE/run/minga-broker.pid before anything else (a second broker on the same store exits
 * 1), opens the store and serves until SIGTERM or SIGINT.
 */
#include "broker.h"

#include "minga/auth.h"
#include "minga/curve.h"
#include "minga/error.h"
#include "minga/launch.h"
#include "minga/log.h"
#include "minga/proto.h"
#include "minga/store.h"

#include <czmq.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

enum { S_EXIT_OK = 0, S_EXIT_FAIL = 1, S_EXIT_USAGE = 2 };

static volatile sig_atomic_t s_stop;

static void s_on_signal(int sig)
{
    (void)sig;
    s_stop = 1;
}

static void s_usage(FILE *out)
{
    size_t n;
    fprintf(out,
            "Uso: minga-broker [--store DIR] [--config ARCHIVO] [--clients EP] [--workers EP]\n"
            "                  [--events EP] [--curve on|off | --no-curve] [--cert ARCHIVO]\n"
            "                  [--client-certs DIR] [--worker-certs DIR] [--AJUSTE VALOR]...\n"
            "\n"
            "El broker de trabajos de Minga. Sin extremos escucha en ipc://ALMACÉN/run/clients,\n"
            "ipc://ALMACÉN/run/workers e ipc://ALMACÉN/run/events. Un extremo tcp:// usa\n"
            "CurveZMQ salvo con --curve off: necesita el --cert del broker y admite a los\n"
            "clientes (clients, events) y trabajadores cuyos certificados públicos están en\n"
            "--client-certs y --worker-certs (ver `minga keygen`). Ajustes (también claves del\n"
            "archivo de configuración):\n");
    fprintf(out, "  --%-22s %s (%s)\n", "store",
            "directorio del almacén ($MINGA_STORE o ./minga-data)", "store/path");
    fprintf(out, "  --%-22s %s\n", "config",
            "archivo de configuración (ZPL; deploy/minga.cfg.example)");
    minga_config_print_flags(out, broker_config_table, broker_config_count);
    const minga_cfg_t *curve = minga_curve_config_table(MINGA_CURVE_BROKER, &n);
    minga_config_print_flags(out, curve, n);
    fprintf(out, "  --%-22s %s\n", "no-curve", "lo mismo que --curve off");
    const minga_cfg_t *common = minga_common_config_table(&n);
    minga_config_print_flags(out, common + 1, n - 1);
}

typedef struct {
    const char *store;
    const char *config;
    minga_curve_t curve;
    minga_common_config_t common;
} s_args_t;

/* First pass: --help and --config (the file is read before the flags, which win). */
static int s_args_global(int argc, char **argv, s_args_t *a)
{
    for (int i = 1; i < argc; i++) {
        const char *arg = argv[i];
        if (strcmp(arg, "--help") == 0 || strcmp(arg, "-h") == 0) {
            s_usage(stdout);
            exit(S_EXIT_OK);
        }
        if (strcmp(arg, "--config") == 0 && i + 1 < argc)
            a->config = argv[++i];
        else if (strncmp(arg, "--config=", 9) == 0)
            a->config = arg + 9;
    }
    return 0;
}

/* The setting of flag in the broker's tables, with the struct it fills. */
static const minga_cfg_t *s_find_setting(const char *flag, broker_config_t *cfg, s_args_t *a,
                                         void **dst)
{
    size_t n;
    const minga_cfg_t *t;
    const minga_cfg_t *s = minga_config_find_flag(broker_config_table, broker_config_count, flag);
    *dst = cfg;
    if (!s) {
        t = minga_curve_config_table(MINGA_CURVE_BROKER, &n);
        s = minga_config_find_flag(t, n, flag);
        *dst = &a->curve;
    }
    if (!s) {
        const minga_cfg_t *common = minga_common_config_table(&n);
        s = minga_config_find_flag(common + 1, n - 1, flag);
        *dst = &a->common;
    }
    return s;
}

/* Second pass: every flag ("--flag VALUE" or "--flag=VALUE") is a setting. */
static int s_args_settings(int argc, char **argv, broker_config_t *cfg, s_args_t *a)
{
    for (int i = 1; i < argc; i++) {
        const char *arg = argv[i];
        if (strcmp(arg, "--no-curve") == 0) {
            a->curve.enabled = 0;
            continue;
        }
        if (strncmp(arg, "--", 2) != 0) {
            fprintf(stderr, "minga-broker: usage error: unexpected argument '%s'\n", arg);
            return S_EXIT_USAGE;
        }
        char flag[64];
        const char *eq = strchr(arg, '='), *value;
        snprintf(flag, sizeof flag, "%.*s", (int)(eq ? (size_t)(eq - arg - 2) : strlen(arg + 2)),
                 arg + 2);
        if (eq)
            value = eq + 1;
        else if (i + 1 < argc)
            value = argv[++i];
        else {
            fprintf(stderr, "minga-broker: usage error: %s needs a value\n", arg);
            return S_EXIT_USAGE;
        }
        if (!strcmp(flag, "store")) {
            a->store = value;
            continue;
        }
        if (!strcmp(flag, "config"))
            continue;
        void *dst;
        const minga_cfg_t *s = s_find_setting(flag, cfg, a, &dst);
        if (!s) {
            fprintf(stderr, "minga-broker: usage error: unknown option --%s (see --help)\n", flag);
            return S_EXIT_USAGE;
        }
        char err[256];
        if (minga_config_set(s, dst, value, err, sizeof err) != 0) {
            fprintf(stderr, "minga-broker: usage error: --%s: %s\n", flag, err);
            return S_EXIT_USAGE;
        }
    }
    return 0;
}

/* Reads the configuration file into cfg and a. Returns 0 or S_EXIT_USAGE after a message
 * naming file, line and key. */
static int s_load_config(s_args_t *a, broker_config_t *cfg)
{
    char err[1024];
    size_t nc, nk;
    const minga_cfg_t *curve = minga_curve_config_table(MINGA_CURVE_BROKER, &nc);
    const minga_cfg_t *common = minga_common_config_table(&nk);
    if (a->config && (minga_config_load(a->config, broker_config_table, broker_config_count, cfg,
                                        err, sizeof err) != 0 ||
                      minga_config_load(a->config, curve, nc, &a->curve, err, sizeof err) != 0 ||
                      minga_config_load(a->config, common, nk, &a->common, err, sizeof err) != 0)) {
        minga_error("%s", err);
        return S_EXIT_USAGE;
    }
    return 0;
}

/* An empty string setting means "not set". */
static void s_empty_is_null(char **p)
{
    if (*p && !**p) {
        free(*p);
        *p = NULL;
    }
}

static int s_mkdir(const char *path, mode_t mode)
{
    if (mkdir(path, mode) != 0 && errno != EEXIST) {
        minga_error("cannot create %s: %s", path, strerror(errno));
        return -errno;
    }
    return 0;
}

/* Creates STORE, STORE/run (0700) and STORE/log; *real receives STORE resolved (malloc). */
static int s_prepare_dirs(const char *store, char **real)
{
    if (s_mkdir(store, 0755) != 0)
        return MINGA_EIO;
    *real = realpath(store, NULL);
    if (!*real) {
        minga_error("store %s: %s", store, strerror(errno));
        return MINGA_EIO;
    }
    char path[PATH_MAX];
    snprintf(path, sizeof path, "%s/run", *real);
    if (s_mkdir(path, 0700) != 0 || chmod(path, 0700) != 0) {
        minga_error("cannot make %s mode 0700: %s", path, strerror(errno));
        return MINGA_EIO;
    }
    snprintf(path, sizeof path, "%s/log", *real);
    return s_mkdir(path, 0755) == 0 ? 0 : MINGA_EIO;
}

/* Takes the exclusive lock on STORE/run/minga-broker.pid (launch.h, shared with `minga up`)
 * and writes our pid; returns the descriptor (kept open for the life of the process) or -1. */
static int s_lock_pidfile(const char *real)
{
    char path[PATH_MAX];
    snprintf(path, sizeof path, "%s/run/minga-broker.pid", real);
    int fd = -1;
    pid_t holder = 0;
    int rc = minga_pidfile_lock(path, &fd, &holder);
    if (rc == MINGA_EBUSY) {
        minga_error("minga-broker already running for %s (pid %ld; lock held on %s)", real,
                    (long)holder, path);
        return -1;
    }
    if (rc != 0) {
        minga_error("cannot lock %s: %s", path, minga_strerror(rc));
        return -1;
    }
    return fd;
}

/* The endpoint to bind: the given one (an ipc path is checked for length) or the default. */
static int s_endpoint(const char *given, const char *real, const char *name, char *dst, size_t cap)
{
    char err[PATH_MAX + 200];
    if (!given) {
        if (minga_proto_ipc_endpoint(real, name, dst, cap, err, sizeof err) != 0) {
            minga_error("%s", err);
            return MINGA_EINVAL;
        }
        return 0;
    }
    if (strncmp(given, "ipc://", 6) == 0 && strlen(given + 6) > MINGA_PROTO_IPC_PATH_MAX) {
        minga_error("socket path %s is %zu bytes, longer than the limit of %d bytes for a socket",
                    given + 6, strlen(given + 6), MINGA_PROTO_IPC_PATH_MAX);
        return MINGA_EINVAL;
    }
    snprintf(dst, cap, "%s", given);
    return 0;
}

static void s_signals(void)
{
    zsys_handler_set(NULL);
    struct sigaction sa;
    memset(&sa, 0, sizeof sa);
    sa.sa_handler = s_on_signal;
    sigemptyset(&sa.sa_mask);
    sigaction(SIGTERM, &sa, NULL);
    sigaction(SIGINT, &sa, NULL);
    signal(SIGPIPE, SIG_IGN);
}

/* Starts the ZAP handler when a tcp:// endpoint is a CurveZMQ one. Returns 0 or -1. */
static int s_auth_start(const s_args_t *a, const char *const eps[3], zactor_t **auth)
{
    *auth = NULL;
    bool on = false;
    for (int i = 0; i < 3; i++)
        on |= minga_curve_on(&a->curve, eps[i]);
    if (!on)
        return 0;
    char err[1024];
    *auth = minga_auth_new(a->curve.client_certs, a->curve.worker_certs, err, sizeof err);
    if (!*auth) {
        minga_error("%s", err);
        return -1;
    }
    if (!a->curve.client_certs)
        minga_warn("CurveZMQ on and no --client-certs: no client is let in");
    if (!a->curve.worker_certs)
        minga_warn("CurveZMQ on and no --worker-certs: no worker is let in");
    return 0;
}

/* Everything after the arguments: returns the exit status. */
static int s_serve(const s_args_t *a, broker_config_t *cfg)
{
    char *real = NULL;
    minga_store_t *store = NULL;
    broker_t *broker = NULL;
    zactor_t *auth = NULL;
    int status = S_EXIT_FAIL, fd = -1;
    char clients[PATH_MAX + 16], workers[PATH_MAX + 16], events[PATH_MAX + 16];
    const char *dir = minga_store_default_dir(a->store);
    if (s_prepare_dirs(dir, &real) != 0)
        goto done;
    if ((fd = s_lock_pidfile(real)) < 0)
        goto done;
    if (s_endpoint(cfg->clients, real, "clients", clients, sizeof clients) != 0 ||
        s_endpoint(cfg->workers, real, "workers", workers, sizeof workers) != 0 ||
        s_endpoint(cfg->events, real, "events", events, sizeof events) != 0)
        goto done;
    const char *const eps[3] = {clients, workers, events};
    if (s_auth_start(a, eps, &auth) != 0)
        goto done;
    if (minga_store_open(&store, real, MINGA_STORE_CREATE) != 0)
        goto done;
    s_signals();
    cfg->curve = &a->curve;
    if (broker_new(&broker, store, cfg, clients, workers, events) != 0)
        goto done;
    minga_info("serving store %s: clients %s, workers %s, events %s%s", real, clients, workers,
               events, auth ? " (CurveZMQ on tcp://)" : "");
    if (broker_run(broker, &s_stop) == 0)
        status = S_EXIT_OK;
done:
    broker_destroy(&broker);
    zactor_destroy(&auth);
    minga_store_destroy(&store);
    if (fd >= 0)
        close(fd);
    free(real);
    return status;
}

int main(int argc, char **argv)
{
    minga_log_set_program("minga-broker");
    s_args_t a = {0};
    broker_config_t cfg;
    size_t nk;
    const minga_cfg_t *common = minga_common_config_table(&nk);
    minga_curve_init(&a.curve);
    int status = s_args_global(argc, argv, &a);
    if (status != 0)
        return status;
    if (broker_config_defaults(&cfg) != 0)
        return S_EXIT_FAIL;
    char err[1024];
    if ((status = s_load_config(&a, &cfg)) != 0 ||
        (status = s_args_settings(argc, argv, &cfg, &a)) != 0)
        goto done;
    if (minga_common_config_apply(&a.common, err, sizeof err) != 0) {
        minga_error("%s", err);
        status = S_EXIT_USAGE;
        goto done;
    }
    s_empty_is_null(&cfg.clients);
    s_empty_is_null(&cfg.workers);
    s_empty_is_null(&cfg.events);
    s_empty_is_null(&a.curve.cert);
    s_empty_is_null(&a.curve.client_certs);
    s_empty_is_null(&a.curve.worker_certs);
    status = s_serve(&a, &cfg);
done:
    minga_config_free(broker_config_table, broker_config_count, &cfg);
    minga_config_free(common, nk, &a.common);
    minga_curve_free(&a.curve);
    return status;
}
