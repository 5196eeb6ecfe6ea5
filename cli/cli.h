/*
 * cli.h: how a `minga` command is written.
 *
 * Each command lives in its own cli/cmd_NAME.c and registers itself with MINGA_COMMAND(), so
 * that the command table is built from the files present (no central list to edit). The table
 * drives dispatch, `minga --help` (sorted by the order number) and `minga COMMAND --help`.
 *
 * Conventions (DESIGN.md §11): exit status 0 on success, 1 when the operation fails, 2 for a
 * usage error; data on stdout, diagnostics on stderr; help texts in Spanish.
 */
#ifndef MINGA_CLI_H
#define MINGA_CLI_H

#include <stdbool.h>

enum { MINGA_EXIT_OK = 0, MINGA_EXIT_FAIL = 1, MINGA_EXIT_USAGE = 2 };

/* What every command receives: the global options, already taken out of argv. */
typedef struct {
    const char *store_dir;   /* --store DIR, else $MINGA_STORE, else ./minga-data */
    const char *config_file; /* --config FILE, or NULL */
    double timeout_s;        /* --timeout SECONDS (default 10) */
    const char *argv0;
    /* the other global options as given ("--broker", "tcp://..."), for minga_cli_settings() */
    const char *globals[32][2];
    int nglobals;
} minga_cli_t;

/* True when name ("--broker") is a global option with a value beyond --store, --config and
 * --timeout (client, CurveZMQ, store and log settings); *flag_only is set for a global option
 * without a value (--no-curve). */
bool minga_cli_is_global(const char *name, bool *flag_only);

/* Reads the sections client, curve, store and log of --config, then the global options,
 * which win; sets cli->store_dir (when no --store) and cli->timeout_s (when no --timeout) from
 * them and the client defaults of client.h (endpoint, CurveZMQ). Returns 0, or
 * MINGA_EXIT_USAGE after a message naming the file, line and key or the option. */
int minga_cli_settings(minga_cli_t *cli, bool store_given, bool timeout_given);

/* A command: argv[0] is the command's name; returns the exit status. */
typedef int(minga_command_fn)(minga_cli_t *cli, int argc, char **argv);

typedef struct {
    const char *name; /* "import" */
    int order;        /* position in `minga --help` */
    minga_command_fn *fn;
    const char *summary; /* one line, Spanish */
    const char *help;    /* the whole `minga NAME --help` text, Spanish, ends with \n */
} minga_command_t;

void minga_command_register(const minga_command_t *cmd);

#define MINGA_COMMAND(ident, name_, order_, fn_, summary_, help_)                                  \
    static const minga_command_t s_cmd_##ident = {name_, order_, fn_, summary_, help_};            \
    __attribute__((constructor)) static void s_register_##ident(void)                              \
    {                                                                                              \
        minga_command_register(&s_cmd_##ident);                                                    \
    }

/* Prints "minga NAME: usage error: MSG" and a hint to `minga NAME --help` on stderr; returns
 * MINGA_EXIT_USAGE. */
int minga_cli_usage(const char *cmd, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

/* True if any of argv[1..] is --help or -h. */
bool minga_cli_wants_help(int argc, char **argv);

/* Prints the help text of the command called name on stdout. */
void minga_cli_print_help(const char *name);

/* Runs the command argv[0] with argv[1..] as the command line would (argv NULL-terminated),
 * for a command built of others (`minga demo`). Returns its exit status, or MINGA_EXIT_USAGE
 * when no command of that name is registered. */
int minga_cli_run(minga_cli_t *cli, int argc, char **argv);

/* True when a command of that name is registered. */
bool minga_cli_has(const char *name);

#include "minga/store.h"

#include <stdint.h>

/* Opens the store of cli->store_dir (flags as minga_store_open). On failure the store module
 * has already named the directory and the reason on stderr; returns MINGA_EXIT_FAIL, else 0. */
int minga_cli_open_store(minga_cli_t *cli, unsigned flags, minga_store_t **store);

/* Arguments of a command that takes one job id and an optional --json (`minga job`, `minga
 * wait`): fills *id and *json and returns 0, or the usage exit status after a message. */
int minga_cli_job_args(int argc, char **argv, uint64_t *id, bool *json);

/* Option parsing helper: if argv[*i] is "--name VALUE" or "--name=VALUE", stores VALUE in
 * *value, advances *i past it and returns 1; returns -1 (after a usage message for cmd) when
 * the value is missing; 0 when argv[*i] is not this option. */
int minga_cli_opt(const char *cmd, int argc, char **argv, int *i, const char *name,
                  const char **value);

#endif
