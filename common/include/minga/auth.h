/*
 * auth.h: the broker's ZAP handler (rfc.zeromq.org/spec:27) for CurveZMQ. One actor answers
 * the ZAP requests of every socket of the process: a CURVE client of the domain
 * MINGA_CURVE_DOMAIN_CLIENTS is let in when its public key is in the directory of allowed
 * client certificates, one of MINGA_CURVE_DOMAIN_WORKERS when it is in the directory of
 * allowed worker certificates — a client's key never opens the workers' socket nor the other
 * way round. Any other domain or mechanism is refused, except NULL on a socket without a ZAP
 * domain (the ipc:// sockets). The directories are czmq zcertstores: certificates added to or
 * removed from them count from the next connection, without a restart.
 *
 * czmq's zauth actor keeps one certificate store for all domains, so this actor takes its
 * place; it speaks the same ZAP protocol on inproc://zeromq.zap.01 and answers, like zauth,
 * with the client's public key as User-Id.
 */
#ifndef MINGA_AUTH_H
#define MINGA_AUTH_H

#include <czmq.h>

/* Starts the ZAP handler for the two directories (copied; either may be NULL: that domain then
 * admits nobody). A directory that does not exist is an error naming it. Returns the actor
 * (the caller's, to zactor_destroy() after the sockets it guards are closed), or NULL with err
 * set. */
zactor_t *minga_auth_new(const char *client_certs, const char *worker_certs, char *err,
                         size_t errcap);

/* Counts of the handler's answers so far: admitted and refused. Asked of the actor (blocks
 * until it answers). */
void minga_auth_counts(zactor_t *auth, uint64_t *allowed, uint64_t *denied);

#endif
