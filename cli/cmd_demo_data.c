/*
 * cmd_demo_data.c: `minga demo-data --out DIR [--seed N] [--scale S]` — writes the embedded
 * Jornada data set (demo.h) as the seven CSV files that `minga import` loads, in load order.
 * Nothing goes to stdout; a one-line Spanish summary goes to stderr.
 */
#include "cli.h"

#include "minga/demo.h"
#include "minga/error.h"

#include <errno.h>
#include <inttypes.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define S_NAME "demo-data"

/* The value of option argv[*i] (as "--opt VALUE" or "--opt=VALUE") if it is opt; advances
 * *i past it. NULL when argv[*i] is another option; *missing set when the value is absent. */
static const char *s_option(int argc, char **argv, int *i, const char *opt, int *missing)
{
    size_t n = strlen(opt);
    if (strncmp(argv[*i], opt, n) != 0)
        return NULL;
    if (argv[*i][n] == '=')
        return argv[*i] + n + 1;
    if (argv[*i][n] != '\0')
        return NULL;
    if (*i + 1 >= argc) {
        *missing = 1;
        return NULL;
    }
    return argv[++*i];
}

/* Parses a decimal unsigned 64-bit seed; 0 on success. */
static int s_parse_seed(const char *text, uint64_t *seed)
{
    if (!text[0] || text[0] == '-' || text[0] == '+')
        return -1;
    for (const char *p = text; *p; p++)
        if (*p < '0' || *p > '9')
            return -1;
    errno = 0;
    char *end;
    unsigned long long v = strtoull(text, &end, 10);
    if (errno || *end)
        return -1;
    *seed = (uint64_t)v;
    return 0;
}

static int s_parse_scale(const char *text, double *scale)
{
    char *end;
    errno = 0;
    double v = strtod(text, &end);
    if (!text[0] || errno || *end || !isfinite(v) || v < MINGA_DEMO_SCALE_MIN ||
        v > MINGA_DEMO_SCALE_MAX)
        return -1;
    *scale = v;
    return 0;
}

static int s_demo_data(minga_cli_t *cli, int argc, char **argv)
{
    (void)cli;
    const char *out = NULL;
    uint64_t seed = MINGA_DEMO_SEED;
    double scale = 1.0;
    for (int i = 1; i < argc; i++) {
        int missing = 0;
        const char *v;
        if ((v = s_option(argc, argv, &i, "--out", &missing))) {
            if (!v[0])
                return minga_cli_usage(S_NAME, "--out needs a directory");
            out = v;
        } else if ((v = s_option(argc, argv, &i, "--seed", &missing))) {
            if (s_parse_seed(v, &seed) != 0)
                return minga_cli_usage(S_NAME,
                                       "--seed takes an integer from 0 to %" PRIu64 ", not '%s'",
                                       UINT64_MAX, v);
        } else if ((v = s_option(argc, argv, &i, "--scale", &missing))) {
            if (s_parse_scale(v, &scale) != 0)
                return minga_cli_usage(S_NAME, "--scale takes a number from %g to %g, not '%s'",
                                       MINGA_DEMO_SCALE_MIN, MINGA_DEMO_SCALE_MAX, v);
        } else if (missing) {
            return minga_cli_usage(S_NAME, "%s needs a value", argv[i]);
        } else {
            return minga_cli_usage(S_NAME, "unknown argument '%s'", argv[i]);
        }
    }
    if (!out)
        return minga_cli_usage(S_NAME, "--out DIR is required");
    char err[4200];
    minga_demo_counts_t n;
    int rc = minga_demo_write(out, seed, scale, &n, err, sizeof err);
    if (rc) {
        fprintf(stderr, "minga %s: %s\n", S_NAME, err);
        return MINGA_EXIT_FAIL;
    }
    fprintf(stderr,
            "Datos de demostración en %s: %zu GAD, %zu cooperantes, %zu ofertas, %zu demandas, "
            "%zu evento, %zu participantes y %zu preferencias de %s (semilla %" PRIu64
            ", escala %g).\n",
            out, n.gads, n.cooperantes, n.offers, n.demands, n.events, n.participants,
            n.preferences, MINGA_DEMO_EVENT, seed, scale);
    return MINGA_EXIT_OK;
}

MINGA_COMMAND(
    demo_data, S_NAME, 20, s_demo_data,
    "escribe el conjunto de datos de la Jornada (CSV) en un directorio",
    "Uso: minga demo-data --out DIR [--seed N] [--scale S]\n"
    "\n"
    "Escribe en DIR (que se crea si no existe) el conjunto de datos de demostración de\n"
    "la Jornada de Cooperación Internacional: los 221 GAD municipales reales y un SIOC\n"
    "sintético y verosímil (cooperantes, ofertas y demandas de los PDOT), el evento\n"
    "jornada-2026 con sus participantes y preferencias. Los archivos son CSV (UTF-8 con\n"
    "BOM, separados por «;») y se cargan en este orden:\n"
    "\n"
    "  gads.csv  cooperantes.csv  offers.csv  demands.csv  events.csv\n"
    "  participants.csv  preferences.csv   (estos dos con --event jornada-2026)\n"
    "\n"
    "Los nombres, títulos y montos son ficticios: ninguna fila describe la oferta de una\n"
    "agencia real. La misma semilla y la misma escala dan archivos idénticos byte a byte.\n"
    "\n"
    "Opciones:\n"
    "  --out DIR     directorio de salida (obligatorio)\n"
    "  --seed N      semilla, entero de 0 a 2^64-1 (por omisión 2026)\n"
    "  --scale S     multiplica cooperantes (~500), ofertas (~1.500) y demandas (~1.100);\n"
    "                número positivo de 0.001 a 1000 (por omisión 1). Los GAD siguen\n"
    "                siendo 221; las mesas del evento crecen con la escala.\n"
    "  -h, --help    esta ayuda\n"
    "\n"
    "No escribe nada en la salida estándar; un resumen en español va a la salida de\n"
    "errores.\n"
    "\n"
    "Estado de salida: 0 éxito, 1 no se pudo escribir un archivo (se nombra), 2 error\n"
    "de uso.\n")
