/*
 * curve.c: CurveZMQ settings and socket options (curve.h). Certificates are read with czmq's
 * zcert; a certificate path may name either file of a pair (NAME.cert or NAME.cert_secret).
 */
#include "minga/curve.h"

#include "minga/error.h"

#include <errno.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#define S_NO_SECRET "0000000000000000000000000000000000000000"

static void s_err(char *err, size_t errcap, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

static void s_err(char *err, size_t errcap, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(err, errcap, fmt, ap);
    va_end(ap);
}

void minga_curve_init(minga_curve_t *c)
{
    memset(c, 0, sizeof *c);
    c->enabled = 1;
}

void minga_curve_free(minga_curve_t *c)
{
    free(c->cert);
    free(c->broker_key);
    free(c->client_certs);
    free(c->worker_certs);
    c->cert = c->broker_key = c->client_certs = c->worker_certs = NULL;
}

#define S_ENABLED                                                                                  \
    {                                                                                              \
        "curve/enabled", "curve", MINGA_CFG_BOOL, offsetof(minga_curve_t, enabled), 0, 1,          \
            "CurveZMQ en los extremos tcp:// (on|off; --no-curve = off)"                           \
    }
#define S_STR(path, flag, field, help)                                                             \
    {                                                                                              \
        path, flag, MINGA_CFG_STR, offsetof(minga_curve_t, field), 0, 0, help                      \
    }

static const minga_cfg_t s_broker_table[] = {
    S_ENABLED,
    S_STR("curve/broker_cert", "cert", cert, "certificado propio del broker (ARCHIVO.cert)"),
    S_STR("curve/client_certs", "client-certs", client_certs,
          "directorio de certificados públicos de clientes admitidos"),
    S_STR("curve/worker_certs", "worker-certs", worker_certs,
          "directorio de certificados públicos de trabajadores admitidos"),
};
static const minga_cfg_t s_client_table[] = {
    S_ENABLED,
    S_STR("curve/broker_key", "broker-key", broker_key,
          "certificado público del broker (alias --server-key)"),
    S_STR("curve/client_cert", "cert", cert, "certificado propio del cliente (ARCHIVO.cert)"),
};
static const minga_cfg_t s_worker_table[] = {
    S_ENABLED,
    S_STR("curve/broker_key", "broker-key", broker_key,
          "certificado público del broker (alias --server-key)"),
    S_STR("curve/worker_cert", "cert", cert, "certificado propio del trabajador (ARCHIVO.cert)"),
};

const minga_cfg_t *minga_curve_config_table(minga_curve_role_t role, size_t *n)
{
    switch (role) {
    case MINGA_CURVE_BROKER:
        *n = sizeof s_broker_table / sizeof s_broker_table[0];
        return s_broker_table;
    case MINGA_CURVE_CLIENT:
        *n = sizeof s_client_table / sizeof s_client_table[0];
        return s_client_table;
    default:
        *n = sizeof s_worker_table / sizeof s_worker_table[0];
        return s_worker_table;
    }
}

int minga_curve_flag(minga_curve_t *c, int argc, char **argv, int *i)
{
    const char *a = argv[*i];
    if (strcmp(a, "--no-curve") == 0) {
        c->enabled = 0;
        return 1;
    }
    const char *value = NULL;
    if (strncmp(a, "--server-key=", 13) == 0)
        value = a + 13;
    else if (strcmp(a, "--server-key") == 0) {
        if (*i + 1 >= argc)
            return -1;
        value = argv[++*i];
    } else
        return 0;
    char *copy = strdup(value);
    if (!copy)
        return -1;
    free(c->broker_key);
    c->broker_key = copy;
    return 1;
}

bool minga_curve_on(const minga_curve_t *c, const char *endpoint)
{
    return c->enabled && endpoint && strncmp(endpoint, "tcp://", 6) == 0;
}

/* Loads the certificate at path (either file of the pair); with_secret: its secret key must be
 * there too. what names the setting in errors. */
static zcert_t *s_load(const char *path, bool with_secret, const char *what, char *err,
                       size_t errcap)
{
    char pub[4096];
    snprintf(pub, sizeof pub, "%s", path);
    size_t len = strlen(pub);
    if (len > 7 && strcmp(pub + len - 7, "_secret") == 0)
        pub[len - 7] = 0;
    if (access(pub, R_OK) != 0) {
        s_err(err, errcap, "%s %s: %s", what, pub, strerror(errno));
        return NULL;
    }
    zcert_t *cert = zcert_load(pub);
    if (!cert) {
        s_err(err, errcap, "%s %s: not a czmq certificate (minga keygen writes them)", what, pub);
        return NULL;
    }
    if (with_secret && strcmp(zcert_secret_txt(cert), S_NO_SECRET) == 0) {
        s_err(err, errcap, "%s %s: its secret key %s_secret is missing or unreadable", what, pub,
              pub);
        zcert_destroy(&cert);
    }
    return cert;
}

int minga_curve_client_setup(zsock_t *sock, const char *endpoint, const minga_curve_t *c, char *err,
                             size_t errcap)
{
    if (!minga_curve_on(c, endpoint))
        return 0;
    if (!c->broker_key || !*c->broker_key || !c->cert || !*c->cert) {
        s_err(err, errcap,
              "%s: CurveZMQ is on for TCP endpoints: give --broker-key FILE (curve/broker_key) and "
              "--cert FILE, or turn it off with --no-curve (curve/enabled = 0)",
              endpoint);
        return MINGA_EINVAL;
    }
    zcert_t *mine = s_load(c->cert, true, "--cert", err, errcap);
    if (!mine)
        return MINGA_EINVAL;
    zcert_t *broker = s_load(c->broker_key, false, "--broker-key", err, errcap);
    if (!broker) {
        zcert_destroy(&mine);
        return MINGA_EINVAL;
    }
    zcert_apply(mine, sock);
    zsock_set_curve_serverkey(sock, zcert_public_txt(broker));
    zcert_destroy(&mine);
    zcert_destroy(&broker);
    return 0;
}

int minga_curve_server_setup(zsock_t *sock, const char *endpoint, const char *domain,
                             const minga_curve_t *c, char *err, size_t errcap)
{
    if (!minga_curve_on(c, endpoint))
        return 0;
    if (!c->cert || !*c->cert) {
        s_err(err, errcap,
              "%s: CurveZMQ is on for TCP endpoints: give the broker's --cert FILE "
              "(curve/broker_cert), or turn it off with --curve off (curve/enabled = 0)",
              endpoint);
        return MINGA_EINVAL;
    }
    zcert_t *mine = s_load(c->cert, true, "--cert", err, errcap);
    if (!mine)
        return MINGA_EINVAL;
    zcert_apply(mine, sock);
    zsock_set_curve_server(sock, 1);
    zsock_set_zap_domain(sock, domain);
    zcert_destroy(&mine);
    return 0;
}

int minga_curve_keygen(const char *dir, const char *name, char *public_txt, char *err,
                       size_t errcap)
{
    char path[4096], secret[4200];
    snprintf(path, sizeof path, "%s/%s.cert", dir, name);
    snprintf(secret, sizeof secret, "%s_secret", path);
    if (access(path, F_OK) == 0 || access(secret, F_OK) == 0) {
        s_err(err, errcap, "%s: already exists (a key pair is never overwritten)",
              access(path, F_OK) == 0 ? path : secret);
        return MINGA_EEXIST;
    }
    zcert_t *cert = zcert_new();
    if (!cert) {
        s_err(err, errcap, "%s: cannot make a key pair", path);
        return MINGA_ENOMEM;
    }
    zcert_set_meta(cert, "name", "%s", name);
    mode_t old = umask(077);
    int rc = zcert_save(cert, path);
    umask(old);
    if (rc == 0 && (chmod(secret, 0600) != 0 || chmod(path, 0644) != 0))
        rc = -1;
    if (rc == 0)
        ;
    else
        s_err(err, errcap, "%s: cannot write: %s", path, strerror(errno));
    if (rc == 0 && public_txt)
        snprintf(public_txt, 41, "%s", zcert_public_txt(cert));
    zcert_destroy(&cert);
    return rc == 0 ? 0 : MINGA_EIO;
}
