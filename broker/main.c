/*
 * main.c: the minga-broker command. Reads the configuration (defaults, then --config FILE,
 * then flags), prepares STORE/run (mode 0700) and STORE/log, takes the exclusive lock on
 * STORE/run/minga-broker.pid before anything else (a second broker on the same store exits 1),
 * opens the store and serves until SIGTERM or SIGINT.
 */
#include "broker.h"

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
    fprintf(out, "usage: minga-broker [--store DIR] [--config FILE] [--clients EP] [--workers EP]\n"
                 "                    [--events EP] [--curve off] [--SETTING VALUE]...\n"
                 "\n"
                 "The Minga job broker. Without endpoints it binds ipc://STORE/run/clients,\n"
                 "ipc://STORE/run/workers and ipc://STORE/run/events. Settings (also keys of\n"
                 "the configuration file):\n");
    minga_config_print_flags(out, broker_config_table, broker_config_count);
}

typedef struct {
    const char *store;
    const char *config;
    const char *curve;
} s_args_t;

/* First pass: --store, --config, --curve and --help; the rest is checked in the second. */
static int s_args_global(int argc, char **argv, s_args_t *a)
{
    for (int i = 1; i < argc; i += 2) {
        const char *arg = argv[i];
        if (strcmp(arg, "--help") == 0 || strcmp(arg, "-h") == 0) {
            s_usage(stdout);
            exit(S_EXIT_OK);
        }
        if (strncmp(arg, "--", 2) != 0) {
            fprintf(stderr, "minga-broker: usage error: unexpected argument '%s'\n", arg);
            return S_EXIT_USAGE;
        }
        if (i + 1 >= argc) {
            fprintf(stderr, "minga-broker: usage error: %s needs a value\n", arg);
            return S_EXIT_USAGE;
        }
        if (strcmp(arg, "--store") == 0)
            a->store = argv[i + 1];
        else if (strcmp(arg, "--config") == 0)
            a->config = argv[i + 1];
        else if (strcmp(arg, "--curve") == 0)
            a->curve = argv[i + 1];
    }
    return 0;
}

/* Second pass: every other flag is a setting. */
static int s_args_settings(int argc, char **argv, broker_config_t *cfg)
{
    for (int i = 1; i + 1 < argc; i += 2) {
        const char *flag = argv[i] + 2;
        if (!strcmp(flag, "store") || !strcmp(flag, "config") || !strcmp(flag, "curve"))
            continue;
        const minga_cfg_t *s =
            minga_config_find_flag(broker_config_table, broker_config_count, flag);
        if (!s) {
            fprintf(stderr, "minga-broker: usage error: unknown option --%s (see --help)\n", flag);
            return S_EXIT_USAGE;
        }
        char err[256];
        if (minga_config_set(s, cfg, argv[i + 1], err, sizeof err) != 0) {
            fprintf(stderr, "minga-broker: usage error: --%s: %s\n", flag, err);
            return S_EXIT_USAGE;
        }
    }
    return 0;
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

/* Everything after the arguments: returns the exit status. */
static int s_serve(const s_args_t *a, broker_config_t *cfg)
{
    char *real = NULL;
    minga_store_t *store = NULL;
    broker_t *broker = NULL;
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
    if (minga_store_open(&store, real, MINGA_STORE_CREATE) != 0)
        goto done;
    s_signals();
    if (broker_new(&broker, store, cfg, clients, workers, events) != 0)
        goto done;
    minga_info("serving store %s: clients %s, workers %s, events %s", real, clients, workers,
               events);
    if (broker_run(broker, &s_stop) == 0)
        status = S_EXIT_OK;
done:
    broker_destroy(&broker);
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
    int status = s_args_global(argc, argv, &a);
    if (status != 0)
        return status;
    if (broker_config_defaults(&cfg) != 0)
        return S_EXIT_FAIL;
    if (a.curve && strcmp(a.curve, "off") != 0) {
        fprintf(stderr, "minga-broker: --curve %s: only 'off' is supported by this version\n",
                a.curve);
        status = strcmp(a.curve, "on") == 0 ? S_EXIT_FAIL : S_EXIT_USAGE;
        goto done;
    }
    char err[1024];
    if (a.config && minga_config_load(a.config, broker_config_table, broker_config_count, &cfg, err,
                                      sizeof err) != 0) {
        minga_error("%s", err);
        status = S_EXIT_FAIL;
        goto done;
    }
    if ((status = s_args_settings(argc, argv, &cfg)) != 0)
        goto done;
    status = s_serve(&a, &cfg);
done:
    minga_config_free(broker_config_table, broker_config_count, &cfg);
    return status;
}
