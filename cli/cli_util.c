/*
 * cli_util.c: small helpers shared by the commands: opening the store, reading options.
 */
#include "cli.h"

#include "minga/jobview.h"

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
