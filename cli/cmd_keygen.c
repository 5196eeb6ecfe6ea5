/*
 * cmd_keygen.c: `minga keygen NAME [--dir D]`: a new CurveZMQ key pair in czmq's format,
 * D/NAME.cert (public, to copy into the broker's directory of allowed clients or workers, or
 * to give clients and workers as the broker's key) and D/NAME.cert_secret (mode 0600).
 */
#include "cli.h"

#include "minga/curve.h"
#include "minga/error.h"

#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>

/* A key pair's name: 1..64 of [A-Za-z0-9._-], not starting with a dot. */
static bool s_name_ok(const char *name)
{
    size_t n = strlen(name);
    if (n == 0 || n > 64 || name[0] == '.')
        return false;
    return strspn(name, "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789._-") == n;
}

static int s_run_keygen(minga_cli_t *cli, int argc, char **argv)
{
    (void)cli;
    const char *dir = ".", *name = NULL, *v;
    for (int i = 1; i < argc; i++) {
        int r = minga_cli_opt("keygen", argc, argv, &i, "--dir", &v);
        if (r < 0)
            return MINGA_EXIT_USAGE;
        if (r > 0)
            dir = v;
        else if (argv[i][0] == '-')
            return minga_cli_usage("keygen", "unknown option '%s'", argv[i]);
        else if (name)
            return minga_cli_usage("keygen", "one name only ('%s' and '%s')", name, argv[i]);
        else
            name = argv[i];
    }
    if (!name)
        return minga_cli_usage("keygen", "which name? (minga keygen NAME [--dir D])");
    if (!s_name_ok(name))
        return minga_cli_usage("keygen",
                               "'%s' is not a key name (1 to 64 of A-Z a-z 0-9 . _ -, not "
                               "starting with a dot)",
                               name);
    if (mkdir(dir, 0755) != 0 && errno != EEXIST) {
        fprintf(stderr, "minga keygen: cannot create %s: %s\n", dir, strerror(errno));
        return MINGA_EXIT_FAIL;
    }
    char err[1024], pub[41];
    if (minga_curve_keygen(dir, name, pub, err, sizeof err) != 0) {
        fprintf(stderr, "minga keygen: %s\n", err);
        return MINGA_EXIT_FAIL;
    }
    printf("%s/%s.cert\n%s/%s.cert_secret\n", dir, name, dir, name);
    fprintf(stderr, "minga keygen: clave pública %s\n", pub);
    return MINGA_EXIT_OK;
}

MINGA_COMMAND(keygen, "keygen", 125, s_run_keygen, "crea un par de claves CurveZMQ",
              "Uso: minga keygen NOMBRE [--dir DIRECTORIO]\n"
              "\n"
              "Crea un par de claves CurveZMQ en el formato de czmq: DIRECTORIO/NOMBRE.cert\n"
              "(la clave pública) y DIRECTORIO/NOMBRE.cert_secret (la secreta, modo 0600).\n"
              "Nunca sobrescribe un par existente. Imprime las dos rutas, una por línea.\n"
              "\n"
              "Con CurveZMQ (por omisión en los extremos tcp://), el broker usa su propio par\n"
              "(minga-broker --cert broker.cert) y admite a los clientes y trabajadores cuyos\n"
              "certificados públicos están en sus directorios --client-certs y --worker-certs;\n"
              "un cliente o trabajador da su par con --cert y el certificado público del broker\n"
              "con --broker-key. Copie solo el archivo .cert (nunca el _secret) a otra máquina.\n"
              "\n"
              "Opciones:\n"
              "  --dir DIRECTORIO   dónde escribir el par (por omisión el directorio actual;\n"
              "                     se crea si no existe)\n"
              "\n"
              "Estado de salida: 0 par creado; 1 no se pudo escribir o ya existe; 2 error de\n"
              "uso.\n")
