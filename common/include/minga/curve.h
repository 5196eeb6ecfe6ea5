/*
 * curve.h: CurveZMQ for the broker's sockets (DESIGN.md §5): the settings of each side, the
 * socket options that put them in force, and the key pairs of `minga keygen`.
 *
 * CURVE is on by default for tcp:// endpoints and never used for ipc:// ones (the local
 * broker's sockets live in STORE/run, mode 0700); curve/enabled = 0 (--curve off, --no-curve)
 * turns it off for TCP too. Certificates are czmq's zcert files: NAME.cert holds the public
 * key, NAME.cert_secret beside it the secret one. The broker holds its own pair and two
 * directories of allowed public certificates, one for clients and one for workers, checked by
 * the ZAP handler of auth.h under two ZAP domains; clients and workers hold their own pair and
 * the broker's public certificate.
 *
 *     curve
 *         enabled = 1
 *         broker_cert = "/etc/minga/keys/broker.cert"
 *         client_certs = "/etc/minga/clients"
 */
#ifndef MINGA_CURVE_H
#define MINGA_CURVE_H

#include "minga/config.h"

#include <czmq.h>
#include <stdbool.h>

typedef struct {
    uint64_t enabled;   /* curve/enabled: 1 CURVE on tcp:// endpoints, 0 never */
    char *cert;         /* this program's certificate (public file; its _secret beside it) */
    char *broker_key;   /* curve/broker_key: the broker's public certificate (clients, workers) */
    char *client_certs; /* curve/client_certs: the broker's directory of allowed clients */
    char *worker_certs; /* curve/worker_certs: the broker's directory of allowed workers */
} minga_curve_t;

typedef enum { MINGA_CURVE_BROKER, MINGA_CURVE_CLIENT, MINGA_CURVE_WORKER } minga_curve_role_t;

/* The ZAP domains of the broker's sockets: clients and events, and workers. */
#define MINGA_CURVE_DOMAIN_CLIENTS "minga-clients"
#define MINGA_CURVE_DOMAIN_WORKERS "minga-workers"

/* Fills c with the defaults (enabled, no files). Free with minga_curve_free(). */
void minga_curve_init(minga_curve_t *c);

/* Frees the strings of c. */
void minga_curve_free(minga_curve_t *c);

/* The settings of one side, for config.h (static): the broker's are curve/enabled (--curve),
 * curve/broker_cert (--cert), curve/client_certs, curve/worker_certs; a client's
 * curve/enabled, curve/broker_key (--broker-key), curve/client_cert (--cert); a worker's the
 * same with curve/worker_cert. */
const minga_cfg_t *minga_curve_config_table(minga_curve_role_t role, size_t *n);

/* Handles the flags every side shares beyond its table: "--no-curve" (curve/enabled = 0) and
 * "--server-key FILE" (DESIGN.md §5's name of --broker-key). Returns 1 when argv[*i] was one
 * of them (advancing *i past a value), 0 when not, -1 when a value is missing. */
int minga_curve_flag(minga_curve_t *c, int argc, char **argv, int *i);

/* True when CURVE applies to endpoint: enabled and a tcp:// endpoint. */
bool minga_curve_on(const minga_curve_t *c, const char *endpoint);

/* Makes sock (not yet connected) a CURVE client of the broker at endpoint when CURVE applies
 * to it: loads this side's certificate (with its secret) and the broker's public one. Returns
 * 0 (also when CURVE does not apply), or MINGA_EINVAL with err naming the missing setting or
 * the file that cannot be read. */
int minga_curve_client_setup(zsock_t *sock, const char *endpoint, const minga_curve_t *c, char *err,
                             size_t errcap);

/* Makes sock (not yet bound) a CURVE server for endpoint in ZAP domain when CURVE applies to
 * it, with the broker's certificate. Returns 0 or MINGA_EINVAL with err as above. */
int minga_curve_server_setup(zsock_t *sock, const char *endpoint, const char *domain,
                             const minga_curve_t *c, char *err, size_t errcap);

/* Writes a new key pair: DIR/NAME.cert (public) and DIR/NAME.cert_secret (mode 0600), in
 * czmq's format, with metadata name = NAME. An existing file is never overwritten
 * (MINGA_EEXIST). The public key's Z85 text goes to public_txt (41 bytes) if not NULL. Returns
 * 0 or a negative code with err naming the file. */
int minga_curve_keygen(const char *dir, const char *name, char *public_txt, char *err,
                       size_t errcap);

#endif
