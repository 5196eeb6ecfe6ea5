/*
 * cli_util.c: small helpers shared by the commands: opening the store, reading options.
 */
#include "cli.h"

#include "minga/client.h"
#include "minga/config.h"
#include "minga/curve.h"
#include "minga/jobview.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

int minga_cli_open_store(minga_cli_t *cli, unsigned flags, minga_store_t **store)
{
    return minga_store_open(store, cli->store_dir, flags) == 0 ? 0 : MINGA_EXIT_FAIL;
}

int minga_cli_opt(const char *cmd, int argc, char **argv, int *i, const char *name,
                  const char **value)
{
    size_t n = strlen(name);
    const char *a = argv[*i];
    if (strncmp(a, name, n) != 0)
        return 0;
    if (a[n] == '=') {
        *value = a + n + 1;
        return 1;
    }
    if (a[n] != '\0')
        return 0;
    if (*i + 1 >= argc) {
        minga_cli_usage(cmd, "%s needs a value", name);
        return -1;
    }
    *value = argv[++*i];
    return 1;
}

int minga_cli_job_args(int argc, char **argv, uint64_t *id, bool *json)
{
    const char *name = argv[0];
    *id = 0;
    *json = false;
    for (int i = 1; i < argc; i++) {
        if (strcmp(argv[i], "--json") == 0)
            *json = true;
        else if (argv[i][0] == '-')
            return minga_cli_usage(name, "unknown option '%s'", argv[i]);
        else if (*id)
            return minga_cli_usage(name, "one job id only");
        else if (minga_jobview_parse_id(argv[i], id) != 0)
            return minga_cli_usage(name, "'%s' is not a job id", argv[i]);
    }
    if (!*id)
        return minga_cli_usage(name, "which job? (minga %s ID)", name);
    return 0;
}

/* ---- global settings: client, curve, store, log ---- */

/* The settings of this process (their strings live as long as it does). */
static minga_client_config_t s_client;
static minga_curve_t s_curve;
static minga_common_config_t s_common;

/* The setting of a global option (without "--"), with the struct it fills; --store and
 * --timeout are the caller's. */
static const minga_cfg_t *s_global_setting(const char *flag, void **dst)
{
    size_t n = 0;
    const minga_cfg_t *t, *s = NULL;
    if (strcmp(flag, "broker") == 0) {
        t = minga_client_config_table(&n);
        *dst = &s_client;
        return minga_config_find_flag(t, n, flag);
    }
    t = minga_curve_config_table(MINGA_CURVE_CLIENT, &n);
    *dst = &s_curve;
    if ((s = minga_config_find_flag(t, n, flag)) || strcmp(flag, "store") == 0)
        return s;
    t = minga_common_config_table(&n);
    *dst = &s_common;
    return minga_config_find_flag(t, n, flag);
}

bool minga_cli_is_global(const char *name, bool *flag_only)
{
    void *dst;
    *flag_only = strcmp(name, "--no-curve") == 0;
    return *flag_only || strcmp(name, "--server-key") == 0 || strcmp(name, "--set") == 0 ||
           (strncmp(name, "--", 2) == 0 && s_global_setting(name + 2, &dst) != NULL);
}

/* Loads the four sections of file. */
static int s_load_settings(const char *file, char *err, size_t errcap)
{
    size_t n;
    const minga_cfg_t *t = minga_client_config_table(&n);
    int rc = minga_config_load(file, t, n, &s_client, err, errcap);
    t = minga_curve_config_table(MINGA_CURVE_CLIENT, &n);
    if (rc == 0)
        rc = minga_config_load(file, t, n, &s_curve, err, errcap);
    t = minga_common_config_table(&n);
    if (rc == 0)
        rc = minga_config_load(file, t, n, &s_common, err, errcap);
    return rc;
}

int minga_cli_settings(minga_cli_t *cli, bool store_given, bool timeout_given)
{
    char err[1024];
    minga_curve_init(&s_curve);
    s_client.timeout_s = 10;
    bool sets = false;
    for (int i = 0; i < cli->nglobals; i++)
        if (strcmp(cli->globals[i][0], "--set") == 0) {
            if (minga_config_override(cli->globals[i][1], err, sizeof err) != 0)
                return minga_cli_usage(NULL, "%s", err);
            sets = true;
        }
    /* an override applies where a file is read: without --config, an empty one */
    if (sets && !cli->config_file)
        cli->config_file = "/dev/null";
    if (cli->config_file && s_load_settings(cli->config_file, err, sizeof err) != 0) {
        fprintf(stderr, "minga: %s\n", err);
        return MINGA_EXIT_USAGE;
    }
    for (int i = 0; i < cli->nglobals; i++) {
        const char *name = cli->globals[i][0], *value = cli->globals[i][1];
        char *argv[] = {(char *)name, (char *)value, NULL};
        int at = 0;
        if (strcmp(name, "--set") == 0 || minga_curve_flag(&s_curve, value ? 2 : 1, argv, &at) == 1)
            continue;
        void *dst = NULL;
        const minga_cfg_t *s = s_global_setting(name + 2, &dst);
        if (!s)
            return minga_cli_usage(NULL, "unknown option '%s'", name);
        if (minga_config_set(s, dst, value, err, sizeof err) != 0)
            return minga_cli_usage(NULL, "%s: %s", name, err);
    }
    if (minga_common_config_apply(&s_common, err, sizeof err) != 0) {
        fprintf(stderr, "minga: %s\n", err);
        return MINGA_EXIT_USAGE;
    }
    if (!store_given && !(getenv("MINGA_STORE") && *getenv("MINGA_STORE")) && s_common.store_path &&
        *s_common.store_path)
        cli->store_dir = s_common.store_path;
    if (!timeout_given)
        cli->timeout_s = (double)s_client.timeout_s;
    if (s_client.broker && minga_curve_on(&s_curve, s_client.broker)) {
        /* the key files are checked now: a missing one is a usage error, not a failed call */
        zsock_t *probe = zsock_new(ZMQ_DEALER);
        int rc = minga_curve_client_setup(probe, s_client.broker, &s_curve, err, sizeof err);
        zsock_destroy(&probe);
        if (rc != 0) {
            fprintf(stderr, "minga: usage error: %s\n", err);
            return MINGA_EXIT_USAGE;
        }
    }
    if (minga_client_set_defaults(s_client.broker, &s_curve) != 0) {
        fprintf(stderr, "minga: out of memory\n");
        return MINGA_EXIT_FAIL;
    }
    return 0;
}
