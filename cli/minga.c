/*
 * minga.c: the operator's command line. Takes the global options (which may stand before or
 * after the command), finds the command in the table the cmd_*.c files register, and runs it.
 */
#include "cli.h"

#include "minga/log.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define MINGA_MAX_COMMANDS 64

static const minga_command_t *s_commands[MINGA_MAX_COMMANDS];
static int s_ncommands;

void minga_command_register(const minga_command_t *cmd)
{
    if (s_ncommands < MINGA_MAX_COMMANDS)
        s_commands[s_ncommands++] = cmd;
}

static const minga_command_t *s_find(const char *name)
{
    for (int i = 0; i < s_ncommands; i++)
        if (strcmp(s_commands[i]->name, name) == 0)
            return s_commands[i];
    return NULL;
}

static int s_by_order(const void *a, const void *b)
{
    const minga_command_t *x = *(const minga_command_t *const *)a;
    const minga_command_t *y = *(const minga_command_t *const *)b;
    return x->order != y->order ? (x->order > y->order) - (x->order < y->order)
                                : strcmp(x->name, y->name);
}

static void s_print_main_help(void)
{
    qsort(s_commands, (size_t)s_ncommands, sizeof s_commands[0], s_by_order);
    printf("Uso: minga [--store DIR] [--config ARCHIVO] [--timeout SEG] ORDEN [opciones]\n\n"
           "Minga organiza la Rueda de Negocios de Cooperación Internacional: registro SIOC,\n"
           "demandas de los GAD municipales, emparejamiento, agenda de reuniones e informes.\n\n"
           "Opciones globales (antes o después de la orden):\n"
           "  --store DIR        directorio del almacén (por omisión $MINGA_STORE o ./minga-data)\n"
           "  --config ARCHIVO   archivo de configuración (formato ZPL)\n"
           "  --timeout SEG      espera máxima de una respuesta del broker (10 s)\n"
           "  --broker EXTREMO   broker remoto (tcp://HOST:PUERTO) en vez del del almacén\n"
           "  --broker-key ARCHIVO  certificado público del broker (CurveZMQ; alias\n"
           "                     --server-key)\n"
           "  --cert ARCHIVO     certificado propio (ARCHIVO.cert, con ARCHIVO.cert_secret)\n"
           "  --curve on|off     CurveZMQ en extremos tcp:// (on); --no-curve = off\n"
           "  --log-level NIVEL  debug, info, warn o error (info)\n"
           "  --map-max BYTES    tamaño máximo del mapa del almacén (64 GiB)\n"
           "  --set SECCIÓN/CLAVE=VALOR  cualquier ajuste de --config (p. ej. los pesos:\n"
           "                     --set match/sector_dac=4000); gana al archivo\n"
           "  -h, --help         esta ayuda; «minga ORDEN --help» describe cada orden\n"
           "  --version          versión de Minga\n\n"
           "Órdenes:\n");
    for (int i = 0; i < s_ncommands; i++)
        printf("  %-12s %s\n", s_commands[i]->name, s_commands[i]->summary);
    printf("\nEstado de salida: 0 éxito, 1 la operación falló, 2 error de uso.\n");
}

void minga_cli_print_help(const char *name)
{
    const minga_command_t *cmd = s_find(name);
    if (cmd)
        fputs(cmd->help, stdout);
}

int minga_cli_run(minga_cli_t *cli, int argc, char **argv)
{
    const minga_command_t *cmd = argc > 0 ? s_find(argv[0]) : NULL;
    return cmd ? cmd->fn(cli, argc, argv) : MINGA_EXIT_USAGE;
}

bool minga_cli_has(const char *name)
{
    return s_find(name) != NULL;
}

bool minga_cli_wants_help(int argc, char **argv)
{
    for (int i = 1; i < argc; i++)
        if (strcmp(argv[i], "--help") == 0 || strcmp(argv[i], "-h") == 0)
            return true;
    return false;
}

int minga_cli_usage(const char *cmd, const char *fmt, ...)
{
    char msg[1024];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(msg, sizeof msg, fmt, ap);
    va_end(ap);
    if (cmd) {
        fprintf(stderr, "minga %s: usage error: %s\n", cmd, msg);
        fprintf(stderr, "Vea «minga %s --help».\n", cmd);
    } else {
        fprintf(stderr, "minga: usage error: %s\n", msg);
        fprintf(stderr, "Vea «minga --help».\n");
    }
    return MINGA_EXIT_USAGE;
}

/* Takes the global options out of argv wherever they stand; returns the new argc, or -1 after
 * a usage message. Everything after a lone "--" is left alone. --store, --config and --timeout
 * are read here; the others are kept in cli->globals for minga_cli_settings(). */
static int s_take_globals(minga_cli_t *cli, int argc, char **argv, bool *store, bool *timeout)
{
    int out = 1;
    for (int i = 1; i < argc; i++) {
        const char *a = argv[i];
        const char **target = NULL;
        const char *value = NULL;
        char name[64];
        bool flag_only = false;
        snprintf(name, sizeof name, "%.*s", (int)strcspn(a, "="), a);
        if (strcmp(a, "--") == 0) {
            while (i < argc)
                argv[out++] = argv[i++];
            break;
        }
        bool basic = strcmp(name, "--store") == 0 || strcmp(name, "--config") == 0 ||
                     strcmp(name, "--timeout") == 0;
        if (!basic && !minga_cli_is_global(name, &flag_only)) {
            argv[out++] = argv[i];
            continue;
        }
        if (flag_only) {
            value = NULL;
        } else if (a[strlen(name)] == '=') {
            value = a + strlen(name) + 1;
        } else if (i + 1 >= argc) {
            minga_cli_usage(NULL, "%s needs a value", a);
            return -1;
        } else {
            value = argv[++i];
        }
        if (!basic) {
            if (cli->nglobals >= 32) {
                minga_cli_usage(NULL, "too many global options");
                return -1;
            }
            static char names[32][64];
            snprintf(names[cli->nglobals], sizeof names[0], "%s", name);
            cli->globals[cli->nglobals][0] = names[cli->nglobals];
            cli->globals[cli->nglobals++][1] = value;
            continue;
        }
        if (strcmp(name, "--store") == 0) {
            target = &cli->store_dir;
            *store = true;
        } else if (strcmp(name, "--config") == 0)
            target = &cli->config_file;
        if (target) {
            *target = value;
        } else {
            char *end;
            *timeout = true;
            cli->timeout_s = strtod(value, &end);
            if (*end || cli->timeout_s <= 0) {
                minga_cli_usage(NULL, "--timeout takes a positive number of seconds, not '%s'",
                                value);
                return -1;
            }
        }
    }
    argv[out] = NULL;
    return out;
}

int main(int argc, char **argv)
{
    minga_log_set_program("minga");
    minga_cli_t cli = {.store_dir = NULL, .config_file = NULL, .timeout_s = 10.0, .argv0 = argv[0]};
    bool store_given = false, timeout_given = false;
    argc = s_take_globals(&cli, argc, argv, &store_given, &timeout_given);
    if (argc < 0)
        return MINGA_EXIT_USAGE;
    int settings = minga_cli_settings(&cli, store_given, timeout_given);
    if (settings != 0)
        return settings;
    if (!cli.store_dir)
        cli.store_dir = getenv("MINGA_STORE") && *getenv("MINGA_STORE") ? getenv("MINGA_STORE")
                                                                        : "./minga-data";
    if (argc < 2) {
        s_print_main_help();
        return MINGA_EXIT_USAGE;
    }
    if (strcmp(argv[1], "--help") == 0 || strcmp(argv[1], "-h") == 0 ||
        strcmp(argv[1], "help") == 0) {
        if (argc > 2 && s_find(argv[2])) {
            minga_cli_print_help(argv[2]);
            return MINGA_EXIT_OK;
        }
        s_print_main_help();
        return MINGA_EXIT_OK;
    }
    if (strcmp(argv[1], "--version") == 0) {
        printf("minga %s\n", MINGA_VERSION);
        return MINGA_EXIT_OK;
    }
    const minga_command_t *cmd = s_find(argv[1]);
    if (!cmd)
        return minga_cli_usage(NULL, "unknown command '%s'", argv[1]);
    if (minga_cli_wants_help(argc - 1, argv + 1)) {
        fputs(cmd->help, stdout);
        return MINGA_EXIT_OK;
    }
    return cmd->fn(&cli, argc - 1, argv + 1);
}
