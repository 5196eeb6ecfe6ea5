/*
 * auth.c: the ZAP handler actor (auth.h). It binds inproc://zeromq.zap.01 in czmq's context,
 * so that every socket of the process that asks for ZAP gets its answer here; certificates are
 * looked up in one czmq zcertstore per domain (each reloads its directory when it changes).
 *
 *   request (RFC 27)                                    answer
 *   CURVE, domain minga-clients, key in client_certs    200, User-Id = the key
 *   CURVE, domain minga-workers, key in worker_certs    200, User-Id = the key
 *   NULL, no domain (a socket without CURVE)            200
 *   anything else (other key, domain or mechanism)      400 No access
 */
#include "minga/auth.h"

#include "minga/curve.h"
#include "minga/log.h"

#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>

#define S_ZAP_ENDPOINT "inproc://zeromq.zap.01"

typedef struct {
    const char *client_certs, *worker_certs;
    int rc; /* set by the actor before it signals */
} s_args_t;

typedef struct {
    zsock_t *pipe, *handler;
    zcertstore_t *clients, *workers;
    uint64_t allowed, denied;
} s_self_t;

/* The store of domain, or NULL. */
static zcertstore_t *s_store(s_self_t *self, const char *domain)
{
    if (strcmp(domain, MINGA_CURVE_DOMAIN_CLIENTS) == 0)
        return self->clients;
    if (strcmp(domain, MINGA_CURVE_DOMAIN_WORKERS) == 0)
        return self->workers;
    return NULL;
}

/* Answers one ZAP request. */
static void s_handle(s_self_t *self)
{
    zmsg_t *req = zmsg_recv(self->handler);
    if (!req)
        return;
    char *version = zmsg_popstr(req), *seq = zmsg_popstr(req), *domain = zmsg_popstr(req);
    char *address = zmsg_popstr(req), *identity = zmsg_popstr(req);
    char *mechanism = zmsg_popstr(req);
    zframe_t *cred = zmsg_pop(req);
    char key[41] = "";
    bool ok = false;
    if (version && strcmp(version, "1.0") == 0 && domain && mechanism) {
        if (strcmp(mechanism, "CURVE") == 0 && cred && zframe_size(cred) == 32) {
            zmq_z85_encode(key, zframe_data(cred), 32);
            zcertstore_t *store = s_store(self, domain);
            ok = store && zcertstore_lookup(store, key) != NULL;
            if (!ok)
                minga_warn("refused a CURVE connection from %s to %s: key %s is not allowed there",
                           address ? address : "?", domain, key);
        } else if (strcmp(mechanism, "NULL") == 0 && domain[0] == 0) {
            ok = true;
        } else {
            minga_warn("refused a %s connection from %s (domain '%s')", mechanism,
                       address ? address : "?", domain);
        }
    }
    if (ok)
        self->allowed++;
    else
        self->denied++;
    zmsg_t *reply = zmsg_new();
    zmsg_addstr(reply, "1.0");
    zmsg_addstr(reply, seq ? seq : "");
    zmsg_addstr(reply, ok ? "200" : "400");
    zmsg_addstr(reply, ok ? "OK" : "No access");
    zmsg_addstr(reply, ok ? key : "");
    zmsg_addmem(reply, "", 0);
    zmsg_send(&reply, self->handler);
    zframe_destroy(&cred);
    zstr_free(&version);
    zstr_free(&seq);
    zstr_free(&domain);
    zstr_free(&address);
    zstr_free(&identity);
    zstr_free(&mechanism);
    zmsg_destroy(&req);
}

/* One command of the owner: $TERM or COUNTS. Returns false on $TERM. */
static bool s_command(s_self_t *self)
{
    zmsg_t *msg = zmsg_recv(self->pipe);
    if (!msg)
        return false;
    char *cmd = zmsg_popstr(msg);
    bool go_on = cmd && strcmp(cmd, "$TERM") != 0;
    if (cmd && strcmp(cmd, "COUNTS") == 0)
        zsock_send(self->pipe, "88", self->allowed, self->denied);
    zstr_free(&cmd);
    zmsg_destroy(&msg);
    return go_on;
}

static void s_actor(zsock_t *pipe, void *arg)
{
    s_args_t *args = arg; /* the caller's: valid only until the signal below */
    s_self_t self = {.pipe = pipe};
    int rc = -1;
    self.handler = zsock_new(ZMQ_REP);
    if (self.handler && zsock_bind(self.handler, S_ZAP_ENDPOINT) == 0) {
        if (args->client_certs)
            self.clients = zcertstore_new(args->client_certs);
        if (args->worker_certs)
            self.workers = zcertstore_new(args->worker_certs);
        rc = 0;
    }
    args->rc = rc;
    zsock_signal(pipe, 0);
    zpoller_t *poller = rc == 0 ? zpoller_new(pipe, self.handler, NULL) : NULL;
    while (poller) {
        zsock_t *which = zpoller_wait(poller, -1);
        if (which == self.handler)
            s_handle(&self);
        else if (which != pipe || !s_command(&self))
            break;
    }
    zpoller_destroy(&poller);
    if (rc != 0) { /* wait for $TERM */
        char *term = zstr_recv(pipe);
        zstr_free(&term);
    }
    zcertstore_destroy(&self.clients);
    zcertstore_destroy(&self.workers);
    zsock_destroy(&self.handler);
}

/* A directory setting must name a directory that exists. */
static int s_check_dir(const char *dir, const char *what, char *err, size_t errcap)
{
    struct stat st;
    if (!dir)
        return 0;
    if (stat(dir, &st) != 0) {
        snprintf(err, errcap, "%s %s: %s", what, dir, strerror(errno));
        return -1;
    }
    if (!S_ISDIR(st.st_mode)) {
        snprintf(err, errcap, "%s %s: not a directory", what, dir);
        return -1;
    }
    return 0;
}

zactor_t *minga_auth_new(const char *client_certs, const char *worker_certs, char *err,
                         size_t errcap)
{
    if (s_check_dir(client_certs, "--client-certs (curve/client_certs)", err, errcap) != 0 ||
        s_check_dir(worker_certs, "--worker-certs (curve/worker_certs)", err, errcap) != 0)
        return NULL;
    s_args_t args = {client_certs, worker_certs, -1};
    zactor_t *actor = zactor_new(s_actor, &args);
    if (actor && args.rc != 0) {
        zactor_destroy(&actor);
        snprintf(err, errcap, "cannot start the ZAP handler on %s (is another one running?)",
                 S_ZAP_ENDPOINT);
    } else if (!actor)
        snprintf(err, errcap, "cannot start the ZAP handler: out of memory");
    return actor;
}

void minga_auth_counts(zactor_t *auth, uint64_t *allowed, uint64_t *denied)
{
    *allowed = *denied = 0;
    if (zstr_send(auth, "COUNTS") == 0)
        zsock_recv(auth, "88", allowed, denied);
}
