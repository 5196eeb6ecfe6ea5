/*
 * client.c: the client API (client.h) on one DEALER socket, and the JSON conversions the
 * command line needs. Each request carries a fresh rid; a reply whose rid is not the one
 * awaited (the late answer to a call that timed out) is dropped. WAIT is sent again every few
 * seconds so that the client notices a broker that went away within its time-out.
 */
#include "minga/client.h"

#include "minga/error.h"
#include "minga/log.h"

#include <czmq.h>
#include <inttypes.h>
#include <math.h>
#include <stddef.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* The longest WAIT asked of the broker at once, ms. */
#define S_WAIT_SLICE_MS 5000
/* WAITs in a row that may go unanswered while PING is answered (a restarted broker). */
#define S_WAIT_RECOVERIES 3

struct minga_client_t {
    zsock_t *dealer;
    char *endpoint;
    int timeout_ms;
    uint64_t rid;
    minga_perr_t perr;
    char error[1024];
    minga_pbuf_t pb;
};

/* ---------------------------------------------------------------- settings */

static const minga_cfg_t s_config_table[] = {
    {"client/broker", "broker", MINGA_CFG_STR, offsetof(minga_client_config_t, broker), 0, 0,
     "extremo de clientes del broker (por omisión ipc://ALMACÉN/run/clients)"},
    {"client/timeout_s", "timeout", MINGA_CFG_UINT, offsetof(minga_client_config_t, timeout_s), 1,
     86400, "espera máxima de una respuesta del broker, s (10)"},
};

const minga_cfg_t *minga_client_config_table(size_t *n)
{
    *n = sizeof s_config_table / sizeof s_config_table[0];
    return s_config_table;
}

/* The process's defaults (minga_client_set_defaults). */
static char *s_endpoint;
static minga_curve_t s_curve = {.enabled = 1};

int minga_client_set_defaults(const char *endpoint, const minga_curve_t *curve)
{
    free(s_endpoint);
    s_endpoint = endpoint && *endpoint ? strdup(endpoint) : NULL;
    minga_curve_free(&s_curve);
    minga_curve_init(&s_curve);
    if (curve) {
        s_curve.enabled = curve->enabled;
        s_curve.cert = curve->cert ? strdup(curve->cert) : NULL;
        s_curve.broker_key = curve->broker_key ? strdup(curve->broker_key) : NULL;
        if ((curve->cert && !s_curve.cert) || (curve->broker_key && !s_curve.broker_key))
            return MINGA_ENOMEM;
    }
    return endpoint && *endpoint && !s_endpoint ? MINGA_ENOMEM : 0;
}

/* ---------------------------------------------------------------- life cycle */

int minga_client_new(minga_client_t **self_p, const char *endpoint, int timeout_ms)
{
    *self_p = NULL;
    minga_client_t *self = calloc(1, sizeof *self);
    if (!self)
        return MINGA_ENOMEM;
    minga_pbuf_init(&self->pb);
    self->timeout_ms = timeout_ms > 0 ? timeout_ms : 10000;
    self->rid = (uint64_t)zclock_mono() & 0xffffffu;
    self->endpoint = strdup(endpoint);
    self->dealer = zsock_new(ZMQ_DEALER);
    if (!self->endpoint || !self->dealer) {
        minga_client_destroy(&self);
        return MINGA_ENOMEM;
    }
    zsock_set_linger(self->dealer, 0);
    zsock_set_sndhwm(self->dealer, 0);
    zsock_set_rcvhwm(self->dealer, 0);
    char err[1024];
    if (minga_curve_client_setup(self->dealer, endpoint, &s_curve, err, sizeof err) != 0) {
        minga_error("broker %s: %s", endpoint, err);
        minga_client_destroy(&self);
        return MINGA_EINVAL;
    }
    if (zsock_connect(self->dealer, "%s", endpoint) != 0) {
        minga_error("broker %s: cannot connect: %s", endpoint, zmq_strerror(zmq_errno()));
        minga_client_destroy(&self);
        return MINGA_EINVAL;
    }
    *self_p = self;
    return 0;
}

int minga_client_new_store(minga_client_t **self_p, const char *store_dir, int timeout_ms)
{
    char endpoint[256], err[512];
    *self_p = NULL;
    if (s_endpoint)
        return minga_client_new(self_p, s_endpoint, timeout_ms);
    int rc =
        minga_proto_ipc_endpoint(store_dir, "clients", endpoint, sizeof endpoint, err, sizeof err);
    if (rc) {
        minga_error("%s", err);
        return rc;
    }
    return minga_client_new(self_p, endpoint, timeout_ms);
}

void minga_client_destroy(minga_client_t **self_p)
{
    minga_client_t *self = *self_p;
    if (!self)
        return;
    zsock_destroy(&self->dealer);
    free(self->endpoint);
    minga_pbuf_clear(&self->pb);
    free(self);
    *self_p = NULL;
}

const char *minga_client_endpoint(const minga_client_t *self)
{
    return self->endpoint;
}

const char *minga_client_error(const minga_client_t *self)
{
    return self->error;
}

minga_perr_t minga_client_error_code(const minga_client_t *self)
{
    return self->perr;
}

static int s_fail(minga_client_t *self, int rc, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

static int s_fail(minga_client_t *self, int rc, const char *fmt, ...)
{
    va_list ap;
    int n = snprintf(self->error, sizeof self->error, "broker %s: ", self->endpoint);
    va_start(ap, fmt);
    vsnprintf(self->error + n, sizeof self->error - (size_t)n, fmt, ap);
    va_end(ap);
    return rc;
}

/* ---------------------------------------------------------------- one request */

/* Starts a request body: the map header of n + 1 entries and the rid. */
static msgpack_packer *s_begin(minga_client_t *self, uint32_t n)
{
    minga_pbuf_reset(&self->pb);
    self->rid++;
    msgpack_pack_map(&self->pb.pk, n + 1);
    minga_pk_kv_uint(&self->pb.pk, "rid", self->rid);
    return &self->pb.pk;
}

/* Receives the next message for the current rid within deadline (zclock_mono ms) into *m.
 * Returns 0, MINGA_ETIMEOUT or MINGA_EPROTO. An ERROR reply is MINGA_EREJECTED with the
 * broker's code and message kept. */
static int s_recv(minga_client_t *self, minga_cmd_t cmd, int64_t deadline, minga_pmsg_t *m)
{
    while (true) {
        int64_t left = deadline - zclock_mono();
        if (left <= 0)
            return s_fail(self, MINGA_ETIMEOUT,
                          "no reply to %s within %.1f s; is the broker running?",
                          minga_cmd_name(cmd), (double)self->timeout_ms / 1000.0);
        zmq_pollitem_t item = {zsock_resolve(self->dealer), 0, ZMQ_POLLIN, 0};
        int rc = zmq_poll(&item, 1, (long)left);
        if (rc < 0 && zmq_errno() == EINTR)
            return s_fail(self, MINGA_ETIMEOUT, "interrupted while waiting for %s",
                          minga_cmd_name(cmd));
        if (rc <= 0)
            continue;
        zmsg_t *zm = zmsg_recv(self->dealer);
        minga_perr_t perr;
        char err[256];
        minga_pmsg_clear(m);
        if (minga_pmsg_decode(m, &zm, false, 0, &perr, err, sizeof err) != 0) {
            minga_warn("broker %s: dropped a malformed reply: %s", self->endpoint, err);
            continue;
        }
        if (!m->has_rid || m->rid != self->rid)
            continue;
        if (m->cmd == MINGA_CMD_ERROR) {
            char *code = minga_pobj_strdup(minga_pobj_get(m->root, "code"));
            char *msg = minga_pobj_strdup(minga_pobj_get(m->root, "message"));
            self->perr = code ? minga_perr_parse(code) : MINGA_PERR_INTERNAL;
            s_fail(self, 0, "%s: %s", code ? code : "error", msg ? msg : "");
            free(code);
            free(msg);
            return MINGA_EREJECTED;
        }
        return 0;
    }
}

/* Sends the body built in self->pb as cmd and receives its reply (cmd or PROGRESS) into *m
 * (initialised by the caller, cleared by the caller). extra_ms lengthens the wait (WAIT). */
static int s_call(minga_client_t *self, minga_cmd_t cmd, int extra_ms, minga_pmsg_t *m)
{
    self->perr = MINGA_PERR_NONE;
    self->error[0] = 0;
    if (minga_proto_send(self->dealer, NULL, true, cmd, self->pb.sbuf.data, self->pb.sbuf.size) !=
        0)
        return s_fail(self, MINGA_EIO, "cannot send %s: %s", minga_cmd_name(cmd),
                      zmq_strerror(zmq_errno()));
    return s_recv(self, cmd, zclock_mono() + self->timeout_ms + extra_ms, m);
}

/* Reads the reply's "job" into *job. */
static int s_reply_job(minga_client_t *self, const minga_pmsg_t *m, minga_job_t *job)
{
    char err[256];
    if (minga_job_from_object(minga_pobj_get(m->root, "job"), job, err, sizeof err) != 0)
        return s_fail(self, MINGA_EPROTO, "malformed job in the reply: %s", err);
    return 0;
}

/* ---------------------------------------------------------------- commands */

int minga_client_enqueue(minga_client_t *self, const minga_jobspec_t *spec, uint64_t *id,
                         minga_job_state_t *state, bool *created)
{
    msgpack_packer *pk = s_begin(self, (uint32_t)minga_jobspec_count(spec));
    if (minga_jobspec_pack_fields(spec, pk) != 0)
        return MINGA_ENOMEM;
    minga_pmsg_t m;
    minga_pmsg_init(&m);
    int rc = s_call(self, MINGA_CMD_ENQUEUE, 0, &m);
    if (rc == 0) {
        char *st = minga_pobj_strdup(minga_pobj_get(m.root, "state"));
        int s = st ? minga_job_state_parse(st) : -1;
        free(st);
        if (id)
            *id = minga_pobj_uint(minga_pobj_get(m.root, "id"), 0);
        if (state)
            *state = s < 0 ? MINGA_JOB_QUEUED : (minga_job_state_t)s;
        if (created)
            *created = minga_pobj_bool(minga_pobj_get(m.root, "created"), true);
    }
    minga_pmsg_clear(&m);
    return rc;
}

int minga_client_batch(minga_client_t *self, const minga_jobspec_t *specs, size_t n, uint64_t *ids)
{
    msgpack_packer *pk = s_begin(self, 1);
    minga_pk_str(pk, "jobs");
    msgpack_pack_array(pk, n);
    for (size_t i = 0; i < n; i++) {
        msgpack_pack_map(pk, minga_jobspec_count(&specs[i]));
        if (minga_jobspec_pack_fields(&specs[i], pk) != 0)
            return MINGA_ENOMEM;
    }
    minga_pmsg_t m;
    minga_pmsg_init(&m);
    int rc = s_call(self, MINGA_CMD_BATCH, 0, &m);
    const msgpack_object *jobs = rc == 0 ? minga_pobj_get(m.root, "jobs") : NULL;
    if (rc == 0 && (!jobs || jobs->type != MSGPACK_OBJECT_ARRAY || jobs->via.array.size != n))
        rc = s_fail(self, MINGA_EPROTO, "the BATCH reply does not list %zu jobs", n);
    for (size_t i = 0; rc == 0 && i < n; i++)
        ids[i] = minga_pobj_uint(minga_pobj_get(&jobs->via.array.ptr[i], "id"), 0);
    minga_pmsg_clear(&m);
    return rc;
}

/* STATUS, CANCEL, RETRY: {id} -> {job}. */
static int s_job_call(minga_client_t *self, minga_cmd_t cmd, uint64_t id, minga_job_t *job)
{
    msgpack_packer *pk = s_begin(self, 1);
    minga_pk_kv_uint(pk, "id", id);
    minga_pmsg_t m;
    minga_pmsg_init(&m);
    int rc = s_call(self, cmd, 0, &m);
    if (rc == 0)
        rc = s_reply_job(self, &m, job);
    minga_pmsg_clear(&m);
    return rc;
}

int minga_client_status(minga_client_t *self, uint64_t id, minga_job_t *job)
{
    return s_job_call(self, MINGA_CMD_STATUS, id, job);
}

int minga_client_cancel(minga_client_t *self, uint64_t id, minga_job_t *job)
{
    return s_job_call(self, MINGA_CMD_CANCEL, id, job);
}

int minga_client_retry(minga_client_t *self, uint64_t id, minga_job_t *job)
{
    return s_job_call(self, MINGA_CMD_RETRY, id, job);
}

/* A PROGRESS {id, state, progress} during WAIT: passes it to fn. */
static void s_on_progress(const minga_pmsg_t *m, minga_client_progress_fn *fn, void *arg)
{
    if (!fn)
        return;
    char *st = minga_pobj_strdup(minga_pobj_get(m->root, "state"));
    int state = st ? minga_job_state_parse(st) : -1;
    free(st);
    const msgpack_object *p = minga_pobj_get(m->root, "progress");
    minga_progress_t progress = {0, 0, NULL};
    bool has = p && p->type == MSGPACK_OBJECT_MAP;
    if (has) {
        progress.done = (uint32_t)minga_pobj_uint(minga_pobj_get(p, "done"), 0);
        progress.total = (uint32_t)minga_pobj_uint(minga_pobj_get(p, "total"), 0);
        progress.text = minga_pobj_strdup(minga_pobj_get(p, "text"));
    }
    fn(minga_pobj_uint(minga_pobj_get(m->root, "id"), 0),
       state < 0 ? MINGA_JOB_LEASED : (minga_job_state_t)state, has ? &progress : NULL, arg);
    free(progress.text);
}

/* One WAIT of at most slice_ms: 0 with *job set, and *ended when the broker did not time out. */
static int s_wait_once(minga_client_t *self, uint64_t id, uint64_t slice_ms,
                       minga_client_progress_fn *fn, void *arg, minga_job_t *job, bool *ended)
{
    msgpack_packer *pk = s_begin(self, 3);
    minga_pk_kv_uint(pk, "id", id);
    minga_pk_kv_uint(pk, "timeout_ms", slice_ms);
    minga_pk_kv_bool(pk, "progress", true);
    minga_pmsg_t m;
    minga_pmsg_init(&m);
    int rc = s_call(self, MINGA_CMD_WAIT, (int)slice_ms, &m);
    int64_t deadline = zclock_mono() + self->timeout_ms + (int64_t)slice_ms;
    while (rc == 0 && m.cmd == MINGA_CMD_PROGRESS) {
        s_on_progress(&m, fn, arg);
        rc = s_recv(self, MINGA_CMD_WAIT, deadline, &m);
    }
    if (rc == 0 && m.cmd != MINGA_CMD_WAIT)
        rc = s_fail(self, MINGA_EPROTO, "answered WAIT with %s", m.cmd_text);
    if (rc == 0) {
        minga_job_clear(job);
        rc = s_reply_job(self, &m, job);
        *ended = !minga_pobj_bool(minga_pobj_get(m.root, "timeout"), false) ||
                 minga_job_state_is_end(job->state);
    }
    minga_pmsg_clear(&m);
    return rc;
}

/* After a WAIT got no answer: does the broker answer PING now (it restarted, and the WAIT
 * went to the one that died)? Keeps the WAIT's error when it does not. */
static bool s_broker_back(minga_client_t *self)
{
    char error[sizeof self->error];
    memcpy(error, self->error, sizeof error);
    json_t *reply = NULL;
    int rc = minga_client_ping(self, &reply);
    json_decref(reply);
    if (rc)
        memcpy(self->error, error, sizeof error);
    return rc == 0;
}

int minga_client_wait(minga_client_t *self, uint64_t id, uint64_t wait_ms,
                      minga_client_progress_fn *on_progress, void *arg, minga_job_t *job)
{
    int64_t start = zclock_mono();
    int recoveries = 0;
    while (true) {
        uint64_t slice = S_WAIT_SLICE_MS;
        if (wait_ms) {
            int64_t left = (int64_t)wait_ms - (zclock_mono() - start);
            if (left <= 0)
                return s_fail(self, MINGA_ETIMEOUT, "job %" PRIu64 " did not end within %.1f s", id,
                              (double)wait_ms / 1000.0);
            if ((uint64_t)left < slice)
                slice = (uint64_t)left;
        }
        bool ended = false;
        int rc = s_wait_once(self, id, slice ? slice : 1, on_progress, arg, job, &ended);
        if (rc == MINGA_ETIMEOUT && recoveries < S_WAIT_RECOVERIES && s_broker_back(self)) {
            recoveries++; /* the broker restarted and lost the WAIT: ask again */
            continue;
        }
        if (rc || ended)
            return rc;
        recoveries = 0;
    }
}

int minga_client_list(minga_client_t *self, const char *state, const char *type, uint64_t after,
                      unsigned limit, minga_job_t **jobs, size_t *n, uint64_t *next)
{
    *jobs = NULL;
    *n = 0;
    *next = 0;
    msgpack_packer *pk = s_begin(self, 2u + (state != NULL) + (type != NULL));
    if (state)
        minga_pk_kv_str(pk, "state", state);
    if (type)
        minga_pk_kv_str(pk, "type", type);
    minga_pk_kv_uint(pk, "after", after);
    minga_pk_kv_uint(pk, "limit", limit ? limit : 100);
    minga_pmsg_t m;
    minga_pmsg_init(&m);
    int rc = s_call(self, MINGA_CMD_LIST, 0, &m);
    const msgpack_object *arr = rc == 0 ? minga_pobj_get(m.root, "jobs") : NULL;
    if (rc == 0 && (!arr || arr->type != MSGPACK_OBJECT_ARRAY))
        rc = s_fail(self, MINGA_EPROTO, "the LIST reply has no job list");
    if (rc == 0 && arr->via.array.size) {
        *jobs = calloc(arr->via.array.size, sizeof **jobs);
        if (!*jobs)
            rc = MINGA_ENOMEM;
    }
    for (uint32_t i = 0; rc == 0 && i < arr->via.array.size; i++) {
        char err[256];
        minga_job_init(&(*jobs)[i]);
        *n = i + 1;
        if (minga_job_from_object(&arr->via.array.ptr[i], &(*jobs)[i], err, sizeof err) != 0)
            rc = s_fail(self, MINGA_EPROTO, "malformed job in the LIST reply: %s", err);
    }
    if (rc == 0)
        *next = minga_pobj_uint(minga_pobj_get(m.root, "next"), 0);
    if (rc) {
        minga_client_jobs_free(*jobs, *n);
        *jobs = NULL;
        *n = 0;
    }
    minga_pmsg_clear(&m);
    return rc;
}

void minga_client_jobs_free(minga_job_t *jobs, size_t n)
{
    for (size_t i = 0; jobs && i < n; i++)
        minga_job_clear(&jobs[i]);
    free(jobs);
}

/* A request with no field but rid; the reply as JSON without rid. */
static int s_json_call(minga_client_t *self, minga_cmd_t cmd, json_t **reply)
{
    *reply = NULL;
    s_begin(self, 0);
    minga_pmsg_t m;
    minga_pmsg_init(&m);
    int rc = s_call(self, cmd, 0, &m);
    if (rc == 0) {
        *reply = minga_msgpack_to_json(m.root);
        json_object_del(*reply, "rid");
    }
    minga_pmsg_clear(&m);
    return rc;
}

int minga_client_stats(minga_client_t *self, json_t **reply)
{
    return s_json_call(self, MINGA_CMD_STATS, reply);
}

int minga_client_workers(minga_client_t *self, json_t **reply)
{
    return s_json_call(self, MINGA_CMD_WORKERS, reply);
}

int minga_client_ping(minga_client_t *self, json_t **reply)
{
    return s_json_call(self, MINGA_CMD_PING, reply);
}

/* ---------------------------------------------------------------- JSON */

static json_t *s_json_str(const char *p, size_t n)
{
    json_t *s = json_stringn(p, n);
    return s ? s : json_null();
}

static json_t *s_json_map(const msgpack_object *o)
{
    json_t *obj = json_object();
    for (uint32_t i = 0; i < o->via.map.size; i++) {
        const msgpack_object *k = &o->via.map.ptr[i].key;
        json_t *v = minga_msgpack_to_json(&o->via.map.ptr[i].val);
        char *key = NULL;
        if (k->type == MSGPACK_OBJECT_STR || k->type == MSGPACK_OBJECT_BIN)
            key = minga_pobj_strdup(k);
        if (!key) {
            json_t *kj = minga_msgpack_to_json(k);
            key = json_dumps(kj, JSON_ENCODE_ANY | JSON_COMPACT);
            json_decref(kj);
        }
        if (key)
            json_object_set_new(obj, key, v);
        else
            json_decref(v);
        free(key);
    }
    return obj;
}

json_t *minga_msgpack_to_json(const msgpack_object *o)
{
    if (!o)
        return json_null();
    switch (o->type) {
    case MSGPACK_OBJECT_BOOLEAN:
        return json_boolean(o->via.boolean);
    case MSGPACK_OBJECT_POSITIVE_INTEGER:
        return o->via.u64 > INT64_MAX ? json_real((double)o->via.u64)
                                      : json_integer((json_int_t)o->via.u64);
    case MSGPACK_OBJECT_NEGATIVE_INTEGER:
        return json_integer((json_int_t)o->via.i64);
    case MSGPACK_OBJECT_FLOAT32:
    case MSGPACK_OBJECT_FLOAT64:
        return isfinite(o->via.f64) ? json_real(o->via.f64) : json_null();
    case MSGPACK_OBJECT_STR:
        return s_json_str(o->via.str.ptr, o->via.str.size);
    case MSGPACK_OBJECT_BIN:
        return s_json_str(o->via.bin.ptr, o->via.bin.size);
    case MSGPACK_OBJECT_ARRAY: {
        json_t *arr = json_array();
        for (uint32_t i = 0; i < o->via.array.size; i++)
            json_array_append_new(arr, minga_msgpack_to_json(&o->via.array.ptr[i]));
        return arr;
    }
    case MSGPACK_OBJECT_MAP:
        return s_json_map(o);
    default:
        return json_null();
    }
}

json_t *minga_msgpack_bytes_to_json(const uint8_t *data, size_t len)
{
    if (!data || len == 0 || minga_mp_validate(data, len, MINGA_PROTO_MAX_DEPTH) != 0)
        return json_null();
    msgpack_unpacked up;
    msgpack_unpacked_init(&up);
    json_t *j = json_null();
    if (msgpack_unpack_next(&up, (const char *)data, len, NULL) == MSGPACK_UNPACK_SUCCESS) {
        json_decref(j);
        j = minga_msgpack_to_json(&up.data);
    }
    msgpack_unpacked_destroy(&up);
    return j;
}

static json_t *s_str_or_null(const char *s)
{
    return s ? json_string(s) : json_null();
}

json_t *minga_job_to_json(const minga_job_t *job, bool with_body)
{
    json_t *o = json_object();
    json_t *parents = json_array();
    for (size_t i = 0; i < job->nparents; i++)
        json_array_append_new(parents, json_integer((json_int_t)job->parents[i]));
    json_object_set_new(o, "id", json_integer((json_int_t)job->id));
    json_object_set_new(o, "type", s_str_or_null(job->type));
    json_object_set_new(o, "state", json_string(minga_job_state_name(job->state)));
    json_object_set_new(o, "attempts", json_integer(job->attempts));
    json_object_set_new(o, "max_attempts", json_integer(job->max_attempts));
    json_object_set_new(o, "priority", json_integer(job->priority));
    json_object_set_new(o, "parents", parents);
    if (job->has_progress)
        json_object_set_new(o, "progress",
                            json_pack("{s:I,s:I,s:s}", "done", (json_int_t)job->progress.done,
                                      "total", (json_int_t)job->progress.total, "text",
                                      job->progress.text ? job->progress.text : ""));
    else
        json_object_set_new(o, "progress", json_null());
    json_object_set_new(o, "result", minga_msgpack_bytes_to_json(job->result, job->result_len));
    if (job->error_code)
        json_object_set_new(o, "error",
                            json_pack("{s:s,s:s}", "code", job->error_code, "message",
                                      job->error_message ? job->error_message : ""));
    else
        json_object_set_new(o, "error", json_null());
    json_object_set_new(o, "key", s_str_or_null(job->key));
    json_object_set_new(o, "not_before", json_integer((json_int_t)job->not_before));
    json_object_set_new(o, "lease_ms", json_integer(job->lease_ms));
    json_object_set_new(o, "worker", s_str_or_null(job->worker));
    json_object_set_new(o, "created_at", json_integer((json_int_t)job->created_at));
    json_object_set_new(o, "updated_at", json_integer((json_int_t)job->updated_at));
    json_object_set_new(o, "finished_at",
                        job->finished_at ? json_integer((json_int_t)job->finished_at)
                                         : json_null());
    if (with_body)
        json_object_set_new(o, "body", minga_msgpack_bytes_to_json(job->body, job->body_len));
    return o;
}

/* Packs a JSON value. Returns 0 or -1. */
static int s_pack_json(msgpack_packer *pk, const json_t *j)
{
    switch (json_typeof(j)) {
    case JSON_OBJECT: {
        const char *key;
        json_t *v;
        if (msgpack_pack_map(pk, json_object_size(j)) != 0)
            return -1;
        json_object_foreach((json_t *)j, key, v)
        {
            if (minga_pk_str(pk, key) != 0 || s_pack_json(pk, v) != 0)
                return -1;
        }
        return 0;
    }
    case JSON_ARRAY: {
        size_t i;
        json_t *v;
        if (msgpack_pack_array(pk, json_array_size(j)) != 0)
            return -1;
        json_array_foreach(j, i, v)
        {
            if (s_pack_json(pk, v) != 0)
                return -1;
        }
        return 0;
    }
    case JSON_STRING:
        return minga_pk_strn(pk, json_string_value(j), json_string_length(j));
    case JSON_INTEGER:
        return json_integer_value(j) >= 0 ? msgpack_pack_uint64(pk, (uint64_t)json_integer_value(j))
                                          : msgpack_pack_int64(pk, json_integer_value(j));
    case JSON_REAL:
        return msgpack_pack_double(pk, json_real_value(j));
    case JSON_TRUE:
        return msgpack_pack_true(pk);
    case JSON_FALSE:
        return msgpack_pack_false(pk);
    default:
        return msgpack_pack_nil(pk);
    }
}

int minga_json_to_msgpack(const char *text, uint8_t **data, size_t *len, char *err, size_t errcap)
{
    json_error_t jerr;
    *data = NULL;
    *len = 0;
    json_t *j = json_loads(text, JSON_DECODE_ANY | JSON_REJECT_DUPLICATES, &jerr);
    if (!j) {
        snprintf(err, errcap, "line %d, column %d: %s", jerr.line, jerr.column, jerr.text);
        return MINGA_EFORMAT;
    }
    minga_pbuf_t pb;
    minga_pbuf_init(&pb);
    int rc = s_pack_json(&pb.pk, j) == 0 ? 0 : MINGA_ENOMEM;
    json_decref(j);
    if (rc == 0) {
        *len = pb.sbuf.size;
        *data = (uint8_t *)msgpack_sbuffer_release(&pb.sbuf);
    }
    minga_pbuf_clear(&pb);
    return rc;
}
