/*
 * broker.c: minga-broker's engine. It receives client and worker messages (PROTOCOL.md),
 * changes jobs in memory (index.h), and writes every change to the store with group commit:
 * each turn of the loop drains up to batch_max messages, runs timers and dispatch, and hands
 * everything pending to the committer thread, which writes it in one write transaction while
 * the loop goes on collecting the next group; only once a group is written does the loop send
 * what depends on it (ENQUEUE replies, JOB messages, events, WAIT answers). See "the committer
 * thread" below.
 *
 * Job state machine (PROTOCOL.md §6); each transition is one function (c: commands.c):
 *
 *   from             event                              to                 function
 *   (new)            enqueue, parents done / none       queued             s_enqueue_prepare (c)
 *   (new)            enqueue, a parent active           waiting            s_enqueue_prepare (c)
 *   (new)            enqueue, a parent dead/cancelled   dead / cancelled   s_enqueue_prepare (c)
 *   waiting          the last parent done               queued             s_cascade
 *   waiting          a parent dead / cancelled          dead / cancelled   s_cascade
 *   queued, failed   leased (due, a worker's credit)    leased, att. + 1   s_lease
 *   leased           DONE                               done               bk_job_done
 *   leased           FAIL, lease expiry, worker lost    failed or dead     bk_job_fail
 *   leased           RELEASE, worker DISCONNECT         queued, att. - 1   bk_job_release
 *   waiting..leased  CANCEL                             cancelled          s_job_cancel (c)
 *   dead, cancelled  RETRY                              queued / waiting   s_job_retry (c)
 *
 * Invariants:
 *  1. Every job that is not in an end state is in the index (jobs), with per-type counts;
 *     queued/failed jobs are in their type's ready heap (due <= now) or delayed heap; leased
 *     jobs are in the lease heap, keyed by lease deadline; waiting jobs in no heap, listed
 *     under each active parent in children.
 *  2. A job that ends stays in the index until the commit that stores its end (the "ended"
 *     list), so lookups never miss a job whose end is not yet readable from the store.
 *  3. Nothing is sent that depends on an uncommitted change: ENQUEUE/BATCH replies, JOB
 *     messages (a lease), events, CANCEL/RETRY replies and WAIT answers go out after commit.
 *  4. A failed commit keeps every change but new jobs in memory, to be written by a later
 *     commit; new jobs are refused (store_full / internal) and not admitted.
 *  5. A worker's held count equals the number of leased jobs whose worker is its slot.
 */
#include "broker_int.h"

#include "minga/error.h"
#include "minga/log.h"
#include "minga/proto.h"

#include <czmq.h>
#include <errno.h>
#include <inttypes.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <sys/eventfd.h>
#include <unistd.h>

#define S_LIST_SCAN_MAX 100000
#define S_PURGE_BATCH 1000
#define S_COMMIT_RETRY_MS 200
#define S_TICK_MS 5 /* longest sleep of the loop */

/* ---- small helpers ---- */

static void s_ids_destroy(void **item)
{
    bk_ids_t *ids = *item;
    if (ids) {
        free(ids->v);
        free(ids);
    }
    *item = NULL;
}

static void s_free_item(void **item)
{
    free(*item);
    *item = NULL;
}

void bk_req_destroy(bk_req_t **req_p)
{
    if (*req_p) {
        zframe_destroy(&(*req_p)->routing);
        free(*req_p);
        *req_p = NULL;
    }
}

bk_req_t *bk_req_new(const minga_pmsg_t *m)
{
    bk_req_t *req = calloc(1, sizeof *req);
    if (!req)
        return NULL;
    req->routing = zframe_dup(m->routing);
    req->delimiter = m->delimiter;
    req->has_rid = m->has_rid;
    req->rid = m->rid;
    req->cmd = m->cmd;
    req->state = -1;
    return req;
}

void bk_enq_destroy(bk_enq_t **enq_p)
{
    bk_enq_t *enq = *enq_p;
    if (!enq)
        return;
    for (size_t i = 0; i < enq->n; i++)
        minga_job_clear(&enq->jobs[i]);
    free(enq->jobs);
    free(enq->created);
    free(enq->lease_slot);
    zframe_destroy(&enq->req.routing);
    free(enq);
    *enq_p = NULL;
}

static void s_idkey(char *dst, size_t cap, uint64_t id)
{
    snprintf(dst, cap, "%" PRIu64, id);
}

/* Logs a bad message, the first ones in full and then one in a thousand. */
void bk_log_bad(broker_t *self, const char *where, const minga_pmsg_t *m, const char *err)
{
    self->bad_messages++;
    if (self->bad_messages <= 20 || self->bad_messages % 1000 == 0)
        minga_warn("%s: bad message (%s, %u so far): %s", where, m->cmd_text[0] ? m->cmd_text : "?",
                   self->bad_messages, err);
}

/* ---- types ---- */

int bk_type_find(broker_t *self, const char *name, size_t len)
{
    for (size_t i = 0; i < self->ntypes; i++)
        if (strlen(self->types[i].name) == len && memcmp(self->types[i].name, name, len) == 0)
            return (int)i;
    return -1;
}

int bk_type_add(broker_t *self, const char *name, size_t len, bool known)
{
    int i = bk_type_find(self, name, len);
    if (i >= 0)
        return i;
    if (self->ntypes >= BK_MAX_TYPES || len > MINGA_PROTO_MAX_TYPE)
        return -1;
    bk_type_t *t = &self->types[self->ntypes];
    memset(t, 0, sizeof *t);
    memcpy(t->name, name, len);
    t->known = known;
    bx_heap_init(&t->ready, BX_HEAP_READY);
    bx_heap_init(&t->delayed, BX_HEAP_DELAYED);
    return (int)self->ntypes++;
}

static int s_types_configure(broker_t *self, const char *list)
{
    const char *p = list ? list : "";
    while (*p) {
        size_t skip = strspn(p, " ,\t");
        p += skip;
        size_t len = strcspn(p, " ,\t");
        if (len == 0)
            break;
        if (!minga_job_type_valid(p, len)) {
            minga_error("broker/job_types (configuration file or --job-types): '%.*s' is not a "
                        "job type (1..64 of [a-z0-9._-], the first a letter or digit)",
                        (int)len, p);
            return MINGA_EINVAL;
        }
        if (bk_type_add(self, p, len, true) < 0)
            return MINGA_EINVAL;
        p += len;
    }
    if (self->ntypes == 0) {
        minga_error("job_types: no job type configured");
        return MINGA_EINVAL;
    }
    return 0;
}

/* ---- job index and state ---- */

void bk_count(broker_t *self, const bx_job_t *j, int delta)
{
    if (j->state < MINGA_JOB_STATE_COUNT)
        self->types[j->type].count[j->state] += (uint64_t)(int64_t)delta;
}

static bx_heap_t *s_heap_of(broker_t *self, const bx_job_t *j)
{
    switch (j->heap) {
    case BX_HEAP_READY:
        return &self->types[j->type].ready;
    case BX_HEAP_DELAYED:
        return &self->types[j->type].delayed;
    case BX_HEAP_LEASE:
        return &self->leases;
    default:
        return NULL;
    }
}

static void s_heap_out(broker_t *self, uint32_t idx)
{
    bx_heap_t *h = s_heap_of(self, BX_JOB(&self->jobs, idx));
    if (h)
        bx_heap_remove(h, &self->jobs, idx);
}

/* Puts a queued or failed job in its ready or delayed heap. */
void bk_to_heap(broker_t *self, uint32_t idx)
{
    bx_job_t *j = BX_JOB(&self->jobs, idx);
    bk_type_t *t = &self->types[j->type];
    bk_metrics_on_ready(self, idx);
    if (bx_heap_push(j->due <= self->now ? &t->ready : &t->delayed, &self->jobs, idx) != 0)
        minga_error("job %" PRIu64 ": out of memory queueing it", j->id);
}

/* Appends the patch that stores j's new state; returns it for the caller's extra fields, or
 * NULL when out of memory (logged: the change then lives in memory only). */
bk_patch_t *bk_patch_as(broker_t *self, const bx_job_t *j, minga_job_state_t st, unsigned flags)
{
    bk_patch_t p = {0};
    p.id = j->id;
    p.flags = flags;
    p.state = (uint8_t)st;
    p.attempts = j->attempts;
    p.at = self->now;
    if (BK_PUSH(self->patches, p) != 0) {
        minga_error("job %" PRIu64 ": out of memory recording a change", j->id);
        return NULL;
    }
    return &self->patches.v[self->patches.n - 1];
}

bk_patch_t *bk_patch(broker_t *self, const bx_job_t *j, unsigned flags)
{
    return bk_patch_as(self, j, (minga_job_state_t)j->state, flags);
}

void bk_set_state(broker_t *self, bx_job_t *j, minga_job_state_t st)
{
    bk_count(self, j, -1);
    j->state = (uint8_t)st;
    bk_count(self, j, +1);
}

static void s_set_error(bk_patch_t *p, const char *code, const char *message)
{
    if (!p)
        return;
    p->flags |= BP_ERROR;
    p->error_code = strdup(code);
    p->error_message = strdup(message ? message : "");
}

void bk_unlease(broker_t *self, uint32_t idx)
{
    bx_job_t *j = BX_JOB(&self->jobs, idx);
    s_heap_out(self, idx);
    if (j->worker != BX_NIL && j->worker < self->wslots.n && self->wslots.v[j->worker] &&
        self->wslots.v[j->worker]->held > 0)
        self->wslots.v[j->worker]->held--;
    j->worker = BX_NIL;
}

static void s_cascade(broker_t *self, uint64_t parent, minga_job_state_t st);

/* Moves job idx to end state st (after the caller set up its patch p). */
void bk_end(broker_t *self, uint32_t idx, minga_job_state_t st)
{
    bx_job_t *j = BX_JOB(&self->jobs, idx);
    s_heap_out(self, idx);
    bk_set_state(self, j, st);
    bk_metrics_on_end(self, idx, st);
    if (st == MINGA_JOB_DONE)
        self->totals.done++;
    else if (st == MINGA_JOB_DEAD)
        self->totals.dead++;
    else
        self->totals.cancelled++;
    if (BK_PUSH(self->ended, idx) != 0)
        minga_error("job %" PRIu64 ": out of memory", j->id);
    s_cascade(self, j->id, st);
}

/* A parent ended with st: its waiting children move on (PROTOCOL.md §6). */
static void s_cascade(broker_t *self, uint64_t parent, minga_job_state_t st)
{
    char key[24];
    s_idkey(key, sizeof key, parent);
    bk_ids_t *found = zhashx_lookup(self->children, key);
    if (!found)
        return;
    bk_ids_t kids = *found; /* taken over: the entry is removed without its array */
    found->v = NULL;
    found->n = 0;
    zhashx_delete(self->children, key);
    for (size_t i = 0; i < kids.n; i++) {
        uint32_t cidx = bx_jobs_find(&self->jobs, kids.v[i]);
        if (cidx == BX_NIL)
            continue;
        bx_job_t *c = BX_JOB(&self->jobs, cidx);
        if (c->state != MINGA_JOB_WAITING)
            continue;
        if (st == MINGA_JOB_DONE) {
            if (c->waiting_on > 0 && --c->waiting_on == 0) {
                bk_set_state(self, c, MINGA_JOB_QUEUED);
                c->due = 0;
                bk_patch(self, c, 0);
                bk_to_heap(self, cidx);
            }
            continue;
        }
        c->waiting_on = 0;
        bk_patch_t *p = bk_patch_as(self, c, st, 0);
        if (st == MINGA_JOB_DEAD) {
            char msg[64];
            snprintf(msg, sizeof msg, "parent job %" PRIu64 " is dead", parent);
            s_set_error(p, "parent_dead", msg);
        }
        bk_end(self, cidx, st);
    }
    free(kids.v);
}

static int s_add_child(broker_t *self, uint64_t parent, uint64_t child)
{
    char key[24];
    s_idkey(key, sizeof key, parent);
    bk_ids_t *kids = zhashx_lookup(self->children, key);
    if (!kids) {
        kids = calloc(1, sizeof *kids);
        if (!kids || zhashx_insert(self->children, key, kids) != 0) {
            free(kids);
            return MINGA_ENOMEM;
        }
    }
    return BK_PUSH(*kids, child);
}

/* The state of job id: from the index, else from the store. MINGA_ENOTFOUND if neither. */
int bk_state_of(broker_t *self, uint64_t id, minga_job_state_t *st)
{
    uint32_t idx = bx_jobs_find(&self->jobs, id);
    if (idx != BX_NIL) {
        *st = (minga_job_state_t)BX_JOB(&self->jobs, idx)->state;
        return 0;
    }
    MDB_txn *txn;
    bk_store_quiet(self);
    int rc = minga_store_read_begin(self->store, &txn);
    if (rc != 0)
        return rc;
    minga_job_t job;
    minga_job_init(&job);
    rc = bk_db_get_job(&self->db, txn, id, &job);
    mdb_txn_abort(txn);
    if (rc == 0)
        *st = job.state;
    minga_job_clear(&job);
    return rc;
}

/* Registers waiting job idx under its active parents. Returns the state it must take now:
 * waiting, queued (all parents done), or dead / cancelled with *culprit the parent. */
minga_job_state_t bk_wait_on(broker_t *self, uint32_t idx, const uint64_t *parents, size_t n,
                             uint64_t *culprit)
{
    uint64_t id = BX_JOB(&self->jobs, idx)->id;
    uint16_t waiting = 0;
    for (size_t i = 0; i < n; i++) {
        minga_job_state_t st = MINGA_JOB_DONE;
        if (bk_state_of(self, parents[i], &st) != 0)
            st = MINGA_JOB_DONE; /* purged long ago: it ended; take it as done */
        if (st == MINGA_JOB_DEAD || st == MINGA_JOB_CANCELLED) {
            *culprit = parents[i];
            return st;
        }
        if (st != MINGA_JOB_DONE) {
            if (s_add_child(self, parents[i], id) != 0)
                minga_error("job %" PRIu64 ": out of memory", id);
            waiting++;
        }
    }
    BX_JOB(&self->jobs, idx)->waiting_on = waiting;
    return waiting ? MINGA_JOB_WAITING : MINGA_JOB_QUEUED;
}

/* Applies the outcome of bk_wait_on to a job the store holds as waiting. */
static void s_settle_waiting(broker_t *self, uint32_t idx, minga_job_state_t st, uint64_t culprit)
{
    bx_job_t *j = BX_JOB(&self->jobs, idx);
    if (st == MINGA_JOB_WAITING)
        return;
    if (st == MINGA_JOB_QUEUED) {
        bk_set_state(self, j, MINGA_JOB_QUEUED);
        j->due = 0;
        bk_patch(self, j, 0);
        bk_to_heap(self, idx);
        return;
    }
    bk_patch_t *p = bk_patch_as(self, j, st, 0);
    if (st == MINGA_JOB_DEAD) {
        char msg[64];
        snprintf(msg, sizeof msg, "parent job %" PRIu64 " is dead", culprit);
        s_set_error(p, "parent_dead", msg);
    }
    bk_end(self, idx, st);
}

/* ---- transitions of leased jobs ---- */

static uint64_t s_backoff(broker_t *self, uint32_t attempts)
{
    uint64_t d = self->cfg.retry_base_ms;
    for (uint32_t i = 1; i < attempts && d < self->cfg.retry_max_ms; i++)
        d *= 2;
    if (d > self->cfg.retry_max_ms)
        d = self->cfg.retry_max_ms;
    uint64_t j = self->cfg.retry_jitter_pct;
    if (j > 0 && d > 0) {
        uint64_t span = d * j / 100;
        uint64_t r = (uint64_t)random() % (2 * span + 1);
        d = d - span + r;
    }
    return d;
}

static void s_lease(broker_t *self, uint32_t idx, bk_worker_t *w)
{
    bx_job_t *j = BX_JOB(&self->jobs, idx);
    bk_metrics_on_lease(self, idx, 0);
    s_heap_out(self, idx);
    bk_set_state(self, j, MINGA_JOB_LEASED);
    if (j->attempts < UINT16_MAX)
        j->attempts++;
    j->worker = w->slot;
    j->due = self->now + j->lease_ms;
    w->held++;
    w->lru = ++self->lru_seq;
    if (bx_heap_push(&self->leases, &self->jobs, idx) != 0)
        minga_error("job %" PRIu64 ": out of memory leasing it", j->id);
    bk_patch_t *p = bk_patch(self, j, BP_WORKER | BP_LEASE);
    if (p) {
        p->worker_slot = w->slot;
        p->worker = strdup(w->name);
    }
    self->totals.leased++;
}

void bk_job_done(broker_t *self, uint32_t idx, const msgpack_object *result)
{
    bx_job_t *j = BX_JOB(&self->jobs, idx);
    bk_unlease(self, idx);
    bk_patch_t *p = bk_patch_as(self, j, MINGA_JOB_DONE, BP_RESULT);
    if (p && result && minga_pobj_pack(result, &p->result, &p->result_len) != 0)
        minga_error("job %" PRIu64 ": out of memory keeping its result", j->id);
    bk_end(self, idx, MINGA_JOB_DONE);
}

/* A lease ended without success. backoff: wait before the retry (not after a lost worker). */
void bk_job_fail(broker_t *self, uint32_t idx, bool retryable, const char *code,
                 const char *message, bool backoff)
{
    bx_job_t *j = BX_JOB(&self->jobs, idx);
    bk_unlease(self, idx);
    self->totals.failed++;
    if (!retryable || j->attempts >= j->max_attempts) {
        bk_patch_t *p = bk_patch_as(self, j, MINGA_JOB_DEAD, 0);
        s_set_error(p, code, message);
        bk_end(self, idx, MINGA_JOB_DEAD);
        return;
    }
    bk_set_state(self, j, MINGA_JOB_FAILED);
    j->due = self->now + (backoff ? s_backoff(self, j->attempts) : 0);
    bk_patch_t *p = bk_patch(self, j, BP_NOT_BEFORE);
    if (p)
        p->not_before = j->due;
    s_set_error(p, code, message);
    bk_to_heap(self, idx);
}

void bk_job_release(broker_t *self, uint32_t idx)
{
    bx_job_t *j = BX_JOB(&self->jobs, idx);
    bk_unlease(self, idx);
    if (j->attempts > 0)
        j->attempts--;
    bk_set_state(self, j, MINGA_JOB_QUEUED);
    j->due = 0;
    bk_patch(self, j, 0);
    bk_to_heap(self, idx);
    self->totals.released++;
}

/* ---- workers ---- */

size_t bk_wire_size(const bk_worker_t *w, minga_cmd_t cmd, size_t len)
{
    return zframe_size(w->routing) + sizeof MINGA_PROTO_VERSION - 1 + strlen(minga_cmd_name(cmd)) +
           (len ? len : 1);
}

void bk_worker_send(broker_t *self, bk_worker_t *w, minga_cmd_t cmd, const void *body, size_t len)
{
    minga_proto_send(self->workers, w->routing, w->delimiter, cmd, body, len);
    w->last_sent = self->now;
    self->wbytes_out += bk_wire_size(w, cmd, len);
}

/* Sends w's kept job maps: JOB for one, else JOBS {jobs: [JOB...]}. */
static void s_send_jobs(broker_t *self, bk_worker_t *w)
{
    if (w->njobs == 0)
        return;
    minga_pbuf_t *b = &self->jobout;
    minga_pbuf_reset(b);
    msgpack_pack_map(&b->pk, 1);
    if (w->njobs == 1) {
        minga_pk_str(&b->pk, "job");
    } else {
        minga_pk_str(&b->pk, "jobs");
        msgpack_pack_array(&b->pk, w->njobs);
    }
    b->pk.callback(b->pk.data, (const char *)w->jobs, w->jobs_len);
    bk_worker_send(self, w, w->njobs == 1 ? MINGA_CMD_JOB : MINGA_CMD_JOBS, b->sbuf.data,
                   b->sbuf.size);
    w->njobs = 0;
    w->jobs_len = 0;
}

void bk_queue_job(broker_t *self, bk_worker_t *w, const void *map, size_t len)
{
    /* A JOBS message stays well under the worker's limit: at most batch jobs, and a job map
     * that would take it past max_body / 2 goes in the next one. */
    size_t cap = self->cfg.max_body / 2;
    if (w->njobs && (w->njobs >= w->batch || w->jobs_len + len > cap))
        s_send_jobs(self, w);
    if (w->batch > 1 && w->jobs_len + len > w->jobs_cap) {
        size_t ncap = w->jobs_cap ? w->jobs_cap : 4096;
        while (ncap < w->jobs_len + len)
            ncap *= 2;
        uint8_t *nv = realloc(w->jobs, ncap);
        if (nv) {
            w->jobs = nv;
            w->jobs_cap = ncap;
        }
    }
    if (w->batch <= 1 || w->jobs_len + len > w->jobs_cap) { /* one at a time (or ENOMEM) */
        s_send_jobs(self, w);
        minga_pbuf_t *b = &self->jobout;
        minga_pbuf_reset(b);
        msgpack_pack_map(&b->pk, 1);
        minga_pk_str(&b->pk, "job");
        b->pk.callback(b->pk.data, (const char *)map, len);
        bk_worker_send(self, w, MINGA_CMD_JOB, b->sbuf.data, b->sbuf.size);
        return;
    }
    memcpy(w->jobs + w->jobs_len, map, len);
    w->jobs_len += len;
    w->njobs++;
}

void bk_flush_jobs(broker_t *self)
{
    for (size_t i = 0; i < self->wslots.n; i++)
        if (self->wslots.v[i] && self->wslots.v[i]->njobs)
            s_send_jobs(self, self->wslots.v[i]);
}

void bk_send_cancel(broker_t *self, uint32_t slot, uint64_t id, const char *reason)
{
    if (slot >= self->wslots.n || !self->wslots.v[slot])
        return;
    minga_pbuf_reset(&self->out);
    msgpack_pack_map(&self->out.pk, 2);
    minga_pk_kv_uint(&self->out.pk, "id", id);
    minga_pk_kv_str(&self->out.pk, "reason", reason);
    bk_worker_send(self, self->wslots.v[slot], MINGA_CMD_CANCEL, self->out.sbuf.data,
                   self->out.sbuf.size);
}

/* The events socket is an XPUB: it passes each topic's first subscription and its last
 * unsubscription (libzmq's default), so subs holds the topics someone wants. An event nobody
 * subscribed to is neither encoded nor sent (most jobs have no watcher). */
static void s_read_subscriptions(broker_t *self)
{
    void *h = zsock_resolve(self->events);
    while (zsock_events(self->events) & ZMQ_POLLIN) {
        zmq_msg_t msg;
        zmq_msg_init(&msg);
        if (zmq_msg_recv(&msg, h, ZMQ_DONTWAIT) < 0) {
            zmq_msg_close(&msg);
            return;
        }
        size_t size = zmq_msg_size(&msg);
        const char *data = zmq_msg_data(&msg);
        if (size >= 1 && (data[0] == 0 || data[0] == 1)) {
            char *topic = strndup(data + 1, size - 1);
            char *t = topic ? zlistx_first(self->subs) : NULL;
            while (t && strcmp(t, topic) != 0)
                t = zlistx_next(self->subs);
            if (topic && data[0] == 1 && !t && zlistx_add_end(self->subs, topic))
                topic = NULL; /* kept */
            else if (topic && data[0] == 0 && t)
                zlistx_delete(self->subs, zlistx_cursor(self->subs));
            free(topic);
        }
        zmq_msg_close(&msg);
    }
}

/* Whether someone subscribed to a prefix of topic. */
static bool s_wanted(broker_t *self, const char *topic)
{
    for (const char *t = zlistx_first(self->subs); t; t = zlistx_next(self->subs))
        if (strncmp(topic, t, strlen(t)) == 0)
            return true;
    return false;
}

void bk_publish_worker(broker_t *self, const bk_worker_t *w, const char *what)
{
    char topic[600];
    if (!self->subs || zlistx_size(self->subs) == 0)
        return;
    snprintf(topic, sizeof topic, "worker/%s/%s", w->hex, what);
    if (!s_wanted(self, topic))
        return;
    minga_pbuf_reset(&self->out);
    msgpack_packer *pk = &self->out.pk;
    size_t ntypes = 0;
    for (size_t i = 0; i < self->ntypes; i++)
        ntypes += bk_bit(w->types, (unsigned)i);
    msgpack_pack_map(pk, 6);
    minga_pk_kv_str(pk, "event", "worker");
    minga_pk_kv_str(pk, "id", w->hex);
    minga_pk_kv_str(pk, "name", w->name);
    minga_pk_str(pk, "types");
    msgpack_pack_array(pk, ntypes);
    for (size_t i = 0; i < self->ntypes; i++)
        if (bk_bit(w->types, (unsigned)i))
            minga_pk_str(pk, self->types[i].name);
    minga_pk_kv_str(pk, "what", what);
    minga_pk_kv_uint(pk, "at", self->now);
    void *h = zsock_resolve(self->events);
    zmq_send(h, topic, strlen(topic), ZMQ_SNDMORE);
    zmq_send(h, self->out.sbuf.data, self->out.sbuf.size, 0);
}

/* Frees a worker's slot; its jobs must already be back in the queue. */
static void s_worker_remove(broker_t *self, bk_worker_t *w, const char *what)
{
    bk_publish_worker(self, w, what);
    self->wslots.v[w->slot] = NULL;
    zhashx_delete(self->workers_by_id, w->hex);
    zframe_destroy(&w->routing);
    free(w->name);
    free(w->jobs);
    free(w);
}

/* The leased jobs of worker slot, collected first (the lease heap changes as they leave). */
size_t bk_worker_jobs(broker_t *self, uint32_t slot, uint32_t **out)
{
    size_t n = 0;
    *out = malloc((self->leases.n + 1) * sizeof **out);
    if (!*out)
        return 0;
    for (uint32_t i = 0; i < self->leases.n; i++)
        if (BX_JOB(&self->jobs, self->leases.a[i])->worker == slot)
            (*out)[n++] = self->leases.a[i];
    return n;
}

static void s_worker_lost(broker_t *self, bk_worker_t *w)
{
    uint32_t *held;
    size_t n = bk_worker_jobs(self, w->slot, &held);
    minga_warn("worker %s (%s) lost: no message for %" PRIu64 " ms; %zu job(s) back in the queue",
               w->name, w->hex, self->now - w->last_seen, n);
    for (size_t i = 0; i < n; i++)
        bk_job_fail(self, held[i], true, "worker_lost", "the worker holding the job went silent",
                    false);
    free(held);
    s_worker_remove(self, w, "lost");
}

void bk_worker_leave(broker_t *self, bk_worker_t *w)
{
    uint32_t *held;
    size_t n = bk_worker_jobs(self, w->slot, &held);
    for (size_t i = 0; i < n; i++)
        bk_job_release(self, held[i]);
    free(held);
    minga_info("worker %s (%s) left; %zu job(s) handed back", w->name, w->hex, n);
    s_worker_remove(self, w, "left");
}

/* ---- events ---- */

static void s_publish_job(broker_t *self, const minga_job_t *job, bool progress)
{
    char topic[160];
    if (!self->subs || zlistx_size(self->subs) == 0)
        return;
    const char *what = progress ? "progress" : minga_job_state_name(job->state);
    snprintf(topic, sizeof topic, "job/%" PRIu64 "/%s/%s", job->id, job->type, what);
    if (!s_wanted(self, topic))
        return;
    minga_pbuf_reset(&self->out);
    msgpack_packer *pk = &self->out.pk;
    msgpack_pack_map(pk, 8 + job->has_progress + (job->error_code != NULL) + (job->worker != NULL));
    minga_pk_kv_str(pk, "event", progress ? "progress" : "state");
    minga_pk_kv_uint(pk, "id", job->id);
    minga_pk_kv_str(pk, "type", job->type);
    minga_pk_kv_str(pk, "state", minga_job_state_name(job->state));
    minga_pk_kv_uint(pk, "attempts", job->attempts);
    minga_pk_kv_uint(pk, "priority", job->priority);
    minga_pk_kv_uint(pk, "not_before", job->not_before);
    if (job->has_progress) {
        minga_pk_str(pk, "progress");
        msgpack_pack_map(pk, 3);
        minga_pk_kv_uint(pk, "done", job->progress.done);
        minga_pk_kv_uint(pk, "total", job->progress.total);
        minga_pk_kv_str(pk, "text", job->progress.text ? job->progress.text : "");
    }
    if (job->error_code) {
        minga_pk_str(pk, "error");
        msgpack_pack_map(pk, 2);
        minga_pk_kv_str(pk, "code", job->error_code);
        minga_pk_kv_str(pk, "message", job->error_message ? job->error_message : "");
    }
    if (job->worker)
        minga_pk_kv_str(pk, "worker", job->worker);
    minga_pk_kv_uint(pk, "at", job->updated_at);
    void *h = zsock_resolve(self->events);
    zmq_send(h, topic, strlen(topic), ZMQ_SNDMORE);
    zmq_send(h, self->out.sbuf.data, self->out.sbuf.size, 0);
}

/* ---- replies ---- */

/* Starts a reply map of n fields plus the request's rid. */
msgpack_packer *bk_reply_begin(broker_t *self, const bk_req_t *req, size_t n)
{
    minga_pbuf_reset(&self->out);
    msgpack_pack_map(&self->out.pk, n + (req->has_rid ? 1 : 0));
    if (req->has_rid)
        minga_pk_kv_uint(&self->out.pk, "rid", req->rid);
    return &self->out.pk;
}

void bk_reply_send(broker_t *self, const bk_req_t *req, minga_cmd_t cmd)
{
    minga_proto_send(self->clients, req->routing, req->delimiter, cmd, self->out.sbuf.data,
                     self->out.sbuf.size);
}

static void s_reply_error(broker_t *self, const bk_req_t *req, minga_perr_t code,
                          const char *message, uint64_t id)
{
    minga_proto_send_error(self->clients, req->routing, req->delimiter, req->has_rid, req->rid,
                           code, message, id);
}

static void s_reply_job(broker_t *self, const bk_req_t *req, minga_cmd_t cmd,
                        const minga_job_t *job, int timeout)
{
    msgpack_packer *pk = bk_reply_begin(self, req, 1 + (timeout >= 0));
    minga_pk_str(pk, "job");
    minga_job_pack(job, pk, 0);
    if (timeout >= 0)
        minga_pk_kv_bool(pk, "timeout", timeout);
    bk_reply_send(self, req, cmd);
}

static void s_send_progress(broker_t *self, const bk_req_t *req, const minga_job_t *job)
{
    msgpack_packer *pk = bk_reply_begin(self, req, 2 + job->has_progress);
    minga_pk_kv_uint(pk, "id", job->id);
    minga_pk_kv_str(pk, "state", minga_job_state_name(job->state));
    if (job->has_progress) {
        minga_pk_str(pk, "progress");
        msgpack_pack_map(pk, 3);
        minga_pk_kv_uint(pk, "done", job->progress.done);
        minga_pk_kv_uint(pk, "total", job->progress.total);
        minga_pk_kv_str(pk, "text", job->progress.text ? job->progress.text : "");
    }
    bk_reply_send(self, req, MINGA_CMD_PROGRESS);
}

/* ---- reading the store for replies ---- */

int bk_read_job(broker_t *self, uint64_t id, minga_job_t *job)
{
    MDB_txn *txn;
    bk_store_quiet(self);
    int rc = minga_store_read_begin(self->store, &txn);
    if (rc != 0)
        return rc;
    rc = bk_db_get_job(&self->db, txn, id, job);
    mdb_txn_abort(txn);
    return rc;
}

static void s_reply_read_error(broker_t *self, const bk_req_t *req, int rc)
{
    char msg[96];
    if (rc == MINGA_ENOTFOUND) {
        snprintf(msg, sizeof msg, "no job %" PRIu64, req->id);
        s_reply_error(self, req, MINGA_PERR_NOT_FOUND, msg, req->id);
    } else {
        snprintf(msg, sizeof msg, "reading job %" PRIu64 ": %s", req->id, minga_strerror(rc));
        s_reply_error(self, req, MINGA_PERR_INTERNAL, msg, req->id);
    }
}

static bool s_list_match(const bk_req_t *req, const minga_job_t *job)
{
    if (req->state >= 0 && (int)job->state != req->state)
        return false;
    return !req->type[0] || strcmp(req->type, job->type) == 0;
}

static void s_answer_list(broker_t *self, const bk_req_t *req)
{
    MDB_txn *txn;
    bk_store_quiet(self);
    int rc = minga_store_read_begin(self->store, &txn);
    if (rc != 0) {
        s_reply_read_error(self, req, rc);
        return;
    }
    MDB_cursor *cur = NULL;
    minga_pbuf_t jobs;
    minga_pbuf_init(&jobs);
    size_t n = 0, scanned = 0;
    uint64_t last = req->after;
    bool more = false;
    uint8_t k[8];
    minga_key_u64(k, req->after + 1);
    MDB_val key = {8, k}, val;
    if (mdb_cursor_open(txn, self->db.job, &cur) == 0)
        rc = mdb_cursor_get(cur, &key, &val, MDB_SET_RANGE);
    else
        rc = MDB_NOTFOUND;
    minga_job_t job;
    minga_job_init(&job);
    for (; rc == 0; rc = mdb_cursor_get(cur, &key, &val, MDB_NEXT)) {
        if (n >= req->limit || scanned >= S_LIST_SCAN_MAX) {
            more = true;
            break;
        }
        scanned++;
        if (key.mv_size != 8)
            continue;
        last = minga_key_get_u64(key.mv_data);
        if (minga_job_record_decode(val.mv_data, val.mv_size, &job, NULL, 0) != 0)
            continue;
        if (s_list_match(req, &job)) {
            minga_job_pack(&job, &jobs.pk, MINGA_JOB_PACK_NO_BODY);
            n++;
        }
    }
    minga_job_clear(&job);
    if (cur)
        mdb_cursor_close(cur);
    mdb_txn_abort(txn);
    msgpack_packer *pk = bk_reply_begin(self, req, 2);
    minga_pk_str(pk, "jobs");
    msgpack_pack_array(pk, n);
    pk->callback(pk->data, jobs.sbuf.data, jobs.sbuf.size);
    minga_pk_str(pk, "next");
    if (more)
        msgpack_pack_uint64(pk, last);
    else
        msgpack_pack_nil(pk);
    minga_pbuf_clear(&jobs);
    bk_reply_send(self, req, MINGA_CMD_LIST);
}

/* Answers a deferred request after the commit. Returns true when the request is finished
 * (false: a WAIT now registered as a waiter). */
static bool s_answer(broker_t *self, bk_req_t *req)
{
    if (req->cmd == MINGA_CMD_LIST) {
        s_answer_list(self, req);
        return true;
    }
    minga_job_t job;
    minga_job_init(&job);
    int rc = bk_read_job(self, req->id, &job);
    bool finished = true;
    if (rc != 0)
        s_reply_read_error(self, req, rc);
    else if (req->cmd != MINGA_CMD_WAIT)
        s_reply_job(self, req, req->cmd, &job, -1);
    else if (minga_job_state_is_end(job.state))
        s_reply_job(self, req, MINGA_CMD_WAIT, &job, 0);
    else if (BK_PUSH(self->waiters, req) == 0)
        finished = false;
    else
        s_reply_error(self, req, MINGA_PERR_INTERNAL, "out of memory", req->id);
    minga_job_clear(&job);
    return finished;
}

/* Answers the deferred requests reqs[0..*n); without committed, CANCEL and RETRY (whose change
 * is not stored yet) stay, the first ones of reqs, and *n says how many. */
static void s_answer_reqs(broker_t *self, bk_req_t **reqs, size_t *n, bool committed)
{
    size_t kept = 0;
    for (size_t i = 0; i < *n; i++) {
        bk_req_t *req = reqs[i];
        bool write = req->cmd == MINGA_CMD_CANCEL || req->cmd == MINGA_CMD_RETRY;
        if (!committed && write) {
            reqs[kept++] = req;
            continue;
        }
        if (s_answer(self, req))
            bk_req_destroy(&req);
    }
    *n = kept;
}

static void s_answer_deferred(broker_t *self, bool committed)
{
    s_answer_reqs(self, self->deferred.v, &self->deferred.n, committed);
}

/* Tells the waiters of job (just committed) what happened to it. */
static void s_notify_waiters(broker_t *self, const minga_job_t *job)
{
    size_t kept = 0;
    for (size_t i = 0; i < self->waiters.n; i++) {
        bk_req_t *w = self->waiters.v[i];
        if (w->id == job->id && minga_job_state_is_end(job->state)) {
            s_reply_job(self, w, MINGA_CMD_WAIT, job, 0);
            bk_req_destroy(&w);
            continue;
        }
        if (w->id == job->id && w->progress)
            s_send_progress(self, w, job);
        self->waiters.v[kept++] = w;
    }
    self->waiters.n = kept;
}

static void s_waiters_timeout(broker_t *self)
{
    size_t kept = 0;
    for (size_t i = 0; i < self->waiters.n; i++) {
        bk_req_t *w = self->waiters.v[i];
        if (w->deadline > self->now) {
            self->waiters.v[kept++] = w;
            continue;
        }
        minga_job_t job;
        minga_job_init(&job);
        int rc = bk_read_job(self, w->id, &job);
        if (rc == 0)
            s_reply_job(self, w, MINGA_CMD_WAIT, &job, 1);
        else
            s_reply_read_error(self, w, rc);
        minga_job_clear(&job);
        bk_req_destroy(&w);
    }
    self->waiters.n = kept;
}

/* ---- group commit ---- */

typedef struct {
    broker_t *self;
    bool with_enqueues;
    size_t from, to; /* the patches to write */
    bk_patch_t *patches;
    bk_enq_t **enqs;
    size_t nenqs;
    uint64_t next_id;
    bool put_next_id;
} s_write_arg_t;

/* The write of the synchronous commit: the broker's own pending changes. */
static s_write_arg_t s_write_arg(broker_t *self, bool with_enqueues, size_t from, size_t to)
{
    s_write_arg_t a = {self,         with_enqueues, from,          to,   self->patches.v,
                       self->enqs.v, self->enqs.n,  self->next_id, false};
    /* only when it moved: a commit of leases and results alone leaves the broker database's
     * pages alone */
    a.put_next_id = self->next_id != self->next_id_stored;
    return a;
}

/* Runs in the loop's thread (synchronous commit) or the committer's (a group); it touches
 * only its arguments and self->db. */
static int s_write(MDB_txn *txn, void *arg)
{
    s_write_arg_t *a = arg;
    broker_t *self = a->self;
    int rc = 0;
    for (size_t e = 0; a->with_enqueues && e < a->nenqs && rc == 0; e++) {
        bk_enq_t *enq = a->enqs[e];
        for (size_t i = 0; i < enq->n && rc == 0; i++)
            if (enq->created[i])
                rc = bk_db_put_new(&self->db, txn, &enq->jobs[i]);
    }
    for (size_t i = a->from; i < a->to && rc == 0; i++)
        rc = bk_db_apply(&self->db, txn, &a->patches[i]);
    if (rc == 0 && a->put_next_id)
        rc = bk_db_put_next_id(&self->db, txn, a->next_id);
    return rc;
}

void bk_forget_keys(broker_t *self, bk_enq_t *enq)
{
    for (size_t i = 0; i < enq->n; i++)
        if (enq->created[i] && enq->jobs[i].key)
            zhashx_delete(self->pending_keys, enq->jobs[i].key);
}

static void s_enqueues_refuse(broker_t *self, int rc)
{
    bool full = rc == MINGA_EMAPFULL || rc == -ENOSPC || rc == -EDQUOT || rc == -EFBIG ||
                rc == ENOSPC || rc == EDQUOT || rc == EFBIG;
    minga_perr_t code = full ? MINGA_PERR_STORE_FULL : MINGA_PERR_INTERNAL;
    char msg[160];
    snprintf(msg, sizeof msg, "the job(s) could not be stored: %s; nothing was enqueued",
             minga_strerror(rc));
    for (size_t e = 0; e < self->enqs.n; e++) {
        bk_enq_t *enq = self->enqs.v[e];
        bk_forget_keys(self, enq);
        bk_enq_unreserve(self, enq);
        s_reply_error(self, &enq->req, code, msg, 0);
        bk_enq_destroy(&enq);
    }
    self->enqs.n = 0;
}

static void s_send_new_lease(broker_t *self, const bk_worker_t *w, const minga_job_t *job);
static uint32_t s_best_for(broker_t *self, const bk_worker_t *w);

/* Puts a committed new job into the index; one leased at enqueue goes to its worker now. */
static void s_admit(broker_t *self, const minga_job_t *job, uint32_t lease_slot)
{
    if (!bk_active(job->state))
        return;
    int t = bk_type_find(self, job->type, strlen(job->type));
    uint32_t idx = t < 0 ? BX_NIL : bx_jobs_add(&self->jobs, job->id);
    if (idx == BX_NIL) {
        minga_error("job %" PRIu64 ": out of memory admitting it (restart recovers it)", job->id);
        return;
    }
    bx_job_t *j = BX_JOB(&self->jobs, idx);
    j->type = (uint8_t)t;
    j->priority = job->priority;
    j->max_attempts = (uint16_t)job->max_attempts;
    j->lease_ms = job->lease_ms;
    j->due = job->not_before;
    j->state = (uint8_t)job->state;
    bk_count(self, j, +1);
    if (job->state == MINGA_JOB_LEASED) {
        bk_worker_t *w = lease_slot < self->wslots.n ? self->wslots.v[lease_slot] : NULL;
        j->attempts = (uint16_t)job->attempts;
        j->worker = lease_slot;
        j->due = self->now + j->lease_ms;
        bk_metrics_on_lease(self, idx, job->created_at ? job->created_at : self->now);
        if (bx_heap_push(&self->leases, &self->jobs, idx) != 0)
            minga_error("job %" PRIu64 ": out of memory leasing it", job->id);
        self->totals.leased++;
        if (!w) { /* the worker left before the commit: back to the queue */
            bk_job_release(self, idx);
            return;
        }
        w->reserved--;
        w->held++;
        s_send_new_lease(self, w, job);
        return;
    }
    if (job->state == MINGA_JOB_QUEUED) {
        bk_to_heap(self, idx);
        return;
    }
    uint64_t culprit = 0;
    minga_job_state_t st = bk_wait_on(self, idx, job->parents, job->nparents, &culprit);
    s_settle_waiting(self, idx, st, culprit);
}

static void s_reply_enqueue(broker_t *self, bk_enq_t *enq)
{
    msgpack_packer *pk;
    if (enq->req.cmd == MINGA_CMD_ENQUEUE) {
        pk = bk_reply_begin(self, &enq->req, 3);
        minga_pk_kv_uint(pk, "id", enq->jobs[0].id);
        minga_pk_kv_str(pk, "state", minga_job_state_name(enq->jobs[0].state));
        minga_pk_kv_bool(pk, "created", enq->created[0]);
    } else {
        pk = bk_reply_begin(self, &enq->req, 1);
        minga_pk_str(pk, "jobs");
        msgpack_pack_array(pk, enq->n);
        for (size_t i = 0; i < enq->n; i++) {
            msgpack_pack_map(pk, 3);
            minga_pk_kv_uint(pk, "id", enq->jobs[i].id);
            minga_pk_kv_str(pk, "state", minga_job_state_name(enq->jobs[i].state));
            minga_pk_kv_bool(pk, "created", enq->created[i]);
        }
    }
    bk_reply_send(self, &enq->req, enq->req.cmd);
}

/* After the commit of new jobs: admits them, replies to their senders, frees enqs[0..n). */
static void s_after_enqueues(broker_t *self, bk_enq_t **enqs, size_t n)
{
    for (size_t e = 0; e < n; e++) {
        bk_enq_t *enq = enqs[e];
        bk_forget_keys(self, enq);
        for (size_t i = 0; i < enq->n; i++) {
            if (!enq->created[i])
                continue;
            self->totals.enqueued++;
            bk_metrics_on_enqueue(self, enq->jobs[i].type);
            minga_job_t *job = &enq->jobs[i];
            if (job->state == MINGA_JOB_LEASED) { /* its two changes: queued, then leased */
                minga_job_t q = *job;
                q.state = MINGA_JOB_QUEUED;
                q.attempts = 0;
                q.worker = NULL;
                s_publish_job(self, &q, false);
            }
            s_publish_job(self, job, false);
            s_admit(self, job, enq->lease_slot[i]);
        }
        s_reply_enqueue(self, enq);
        bk_enq_destroy(&enq);
    }
    bk_flush_jobs(self);
}

static void s_send_new_lease(broker_t *self, const bk_worker_t *w, const minga_job_t *job)
{
    minga_pbuf_reset(&self->out);
    minga_job_pack(job, &self->out.pk, 0);
    bk_queue_job(self, (bk_worker_t *)w, self->out.sbuf.data, self->out.sbuf.size);
}

void bk_lease_new(broker_t *self, bk_enq_t *enq, size_t i)
{
    minga_job_t *job = &enq->jobs[i];
    if (job->state != MINGA_JOB_QUEUED || job->not_before > self->now)
        return;
    int t = bk_type_find(self, job->type, strlen(job->type));
    if (t < 0)
        return;
    bk_worker_t *pick = NULL;
    for (size_t k = 0; k < self->wslots.n; k++) {
        bk_worker_t *w = self->wslots.v[k];
        if (!w || !bk_bit(w->types, (unsigned)t) || w->held + w->reserved >= w->capacity ||
            (pick && w->lru >= pick->lru) || s_best_for(self, w) != BX_NIL)
            continue;
        pick = w;
    }
    if (!pick || !(job->worker = strdup(pick->name)))
        return;
    job->state = MINGA_JOB_LEASED;
    job->attempts = 1;
    enq->lease_slot[i] = pick->slot;
    pick->reserved++;
    pick->lru = ++self->lru_seq;
}

void bk_enq_unreserve(broker_t *self, bk_enq_t *enq)
{
    for (size_t i = 0; i < enq->n; i++) {
        uint32_t s = enq->lease_slot[i];
        if (s != BK_NO_SLOT && s < self->wslots.n && self->wslots.v[s] &&
            self->wslots.v[s]->reserved > 0)
            self->wslots.v[s]->reserved--;
        enq->lease_slot[i] = BK_NO_SLOT;
    }
}

/* Sends a committed lease to its worker, if the worker still holds the job. */
static void s_send_job(broker_t *self, const bk_patch_t *p, const minga_job_t *job)
{
    uint32_t idx = bx_jobs_find(&self->jobs, p->id);
    if (idx == BX_NIL || p->worker_slot >= self->wslots.n || !self->wslots.v[p->worker_slot])
        return;
    const bx_job_t *j = BX_JOB(&self->jobs, idx);
    if (j->state != MINGA_JOB_LEASED || j->worker != p->worker_slot)
        return;
    minga_pbuf_reset(&self->out);
    minga_job_pack(job, &self->out.pk, 0);
    bk_queue_job(self, self->wslots.v[p->worker_slot], self->out.sbuf.data, self->out.sbuf.size);
}

/* The same, with the JOB message encoded when the lease was written (bk_db_apply). */
static void s_send_job_msg(broker_t *self, const bk_patch_t *p)
{
    uint32_t idx = bx_jobs_find(&self->jobs, p->id);
    if (idx == BX_NIL || p->worker_slot >= self->wslots.n || !self->wslots.v[p->worker_slot])
        return;
    const bx_job_t *j = BX_JOB(&self->jobs, idx);
    if (j->state != MINGA_JOB_LEASED || j->worker != p->worker_slot)
        return;
    bk_queue_job(self, self->wslots.v[p->worker_slot], p->job_msg, p->job_msg_len);
}

static bool s_has_waiter(broker_t *self, uint64_t id)
{
    for (size_t i = 0; i < self->waiters.n; i++)
        if (self->waiters.v[i]->id == id)
            return true;
    return false;
}

/* The event of patch p, from the patch and the index alone (no store read); false when the job
 * is not in the index. The strings of ev are borrowed: do not minga_job_clear() it. */
static bool s_event_of(broker_t *self, const bk_patch_t *p, minga_job_t *ev)
{
    uint32_t idx = bx_jobs_find(&self->jobs, p->id);
    if (idx == BX_NIL)
        return false;
    const bx_job_t *j = BX_JOB(&self->jobs, idx);
    memset(ev, 0, sizeof *ev);
    ev->id = p->id;
    ev->type = self->types[j->type].name;
    ev->state = (minga_job_state_t)p->state;
    ev->attempts = p->attempts;
    ev->priority = j->priority;
    ev->not_before = (p->flags & BP_NOT_BEFORE) ? p->not_before : 0;
    ev->has_progress = (p->flags & BP_PROGRESS) != 0;
    ev->progress = p->progress;
    ev->error_code = (p->flags & BP_ERROR) ? p->error_code : NULL;
    ev->error_message = (p->flags & BP_ERROR) ? p->error_message : NULL;
    ev->worker = (p->flags & BP_WORKER) ? p->worker : NULL;
    ev->updated_at = p->at;
    return true;
}

/* After the commit: the event of each change; the job to its worker for a lease; the news to
 * the job's waiters. The store is read only for a lease (the body) or when someone waits. */
static void s_after_patches(broker_t *self, bk_patch_t *patches, size_t n)
{
    MDB_txn *txn = NULL;
    minga_job_t job, ev;
    minga_job_init(&job);
    /* with no subscriber at all, no event is made (nor read from the store) */
    bool subs = self->subs && zlistx_size(self->subs) > 0;
    for (size_t i = 0; i < n; i++) {
        bk_patch_t *p = &patches[i];
        bool progress = (p->flags & BP_PROGRESS) && p->state == MINGA_JOB_LEASED;
        bool need = ((p->flags & BP_LEASE) && !p->job_msg) || s_has_waiter(self, p->id);
        bool have = false, have_ev = !need && subs && s_event_of(self, p, &ev);
        if (need || (subs && !have_ev)) {
            if (!txn)
                bk_store_quiet(self);
            if (!txn && minga_store_read_begin(self->store, &txn) != 0)
                txn = NULL;
            have = txn && bk_db_get_job(&self->db, txn, p->id, &job) == 0;
            /* The record holds the latest state; report this patch's own. */
            if (have)
                job.state = (minga_job_state_t)p->state;
        }
        if (have)
            s_publish_job(self, &job, progress);
        else if (have_ev)
            s_publish_job(self, &ev, progress);
        if ((p->flags & BP_LEASE) && p->job_msg)
            s_send_job_msg(self, p);
        else if (have && (p->flags & BP_LEASE))
            s_send_job(self, p, &job);
        if (have)
            s_notify_waiters(self, &job);
        bk_patch_clear(p);
    }
    minga_job_clear(&job);
    if (txn)
        mdb_txn_abort(txn);
    bk_flush_jobs(self);
}

static void s_forget_ended(broker_t *self, size_t n)
{
    for (size_t i = 0; i < n; i++) {
        uint32_t idx = self->ended.v[i];
        bx_job_t *j = BX_JOB(&self->jobs, idx);
        if (j->id && minga_job_state_is_end(j->state)) {
            bk_count(self, j, -1);
            bx_jobs_remove(&self->jobs, idx);
        }
    }
    if (n == 0)
        return;
    memmove(self->ended.v, self->ended.v + n, (self->ended.n - n) * sizeof *self->ended.v);
    self->ended.n -= n;
}

/* Takes the first n patches out of the pending list (the caller frees them). */
static bk_patch_t *s_patches_take(broker_t *self, size_t n)
{
    bk_patch_t *taken = malloc((n ? n : 1) * sizeof *taken);
    if (!taken || n == 0)
        return taken;
    memcpy(taken, self->patches.v, n * sizeof *taken);
    if (self->patches.n > n)
        memmove(self->patches.v, self->patches.v + n,
                (self->patches.n - n) * sizeof *self->patches.v);
    self->patches.n -= n;
    return taken;
}

/* After the commit of the first n patches: takes them out and sends their consequences. */
static void s_after_commit(broker_t *self, size_t n)
{
    bk_patch_t *done = s_patches_take(self, n);
    if (!done) {
        minga_error("out of memory after a commit");
        return;
    }
    s_after_patches(self, done, n);
    free(done);
}

/* When one transaction for all changes does not fit (a full map), the changes are written one
 * by one, as far as they fit; the rest waits for the next try. Returns how many were written. */
static size_t s_commit_each(broker_t *self)
{
    size_t n = 0;
    while (n < self->patches.n) {
        s_write_arg_t arg = s_write_arg(self, false, n, n + 1);
        if (minga_store_write(self->store, s_write, &arg) != 0)
            break;
        n++;
    }
    return n;
}

/* New jobs and state changes of a commit: what commit_batch_size counts. */
static uint64_t s_changes(size_t npatches, bk_enq_t **enqs, size_t nenqs)
{
    uint64_t n = npatches;
    for (size_t e = 0; e < nenqs; e++)
        for (size_t i = 0; i < enqs[e]->n; i++)
            n += enqs[e]->created[i];
    return n;
}

static void s_commit(broker_t *self)
{
    bk_store_quiet(self); /* never with a group being written */
    if (self->patches.n == 0 && self->enqs.n == 0) {
        s_answer_deferred(self, true);
        return;
    }
    if (self->now < self->commit_retry_at && self->enqs.n == 0) {
        s_answer_deferred(self, false);
        return;
    }
    s_write_arg_t arg = s_write_arg(self, true, 0, self->patches.n);
    uint64_t t0 = bk_metrics_clock();
    int rc = minga_store_write(self->store, s_write, &arg);
    if (rc != 0 && self->enqs.n > 0) {
        s_enqueues_refuse(self, rc);
        if (rc == MINGA_EMAPFULL)
            bk_check_space(self, true);
        arg.with_enqueues = false;
        rc = self->patches.n ? minga_store_write(self->store, s_write, &arg) : 0;
    }
    if (rc == MINGA_EMAPFULL && self->patches.n > 1) {
        size_t n = s_commit_each(self);
        s_after_commit(self, n);
    }
    if (rc != 0) {
        minga_error("store: commit of %zu change(s) failed: %s; kept in memory, retrying",
                    self->patches.n, minga_strerror(rc));
        self->commit_retry_at = self->now + S_COMMIT_RETRY_MS;
        s_answer_deferred(self, false);
        return;
    }
    self->commit_retry_at = 0;
    self->next_id_stored = self->next_id;
    bk_metrics_on_commit(self, t0, s_changes(self->patches.n, self->enqs.v, self->enqs.n));
    s_read_subscriptions(self); /* who wants the events that follow */
    size_t nended = self->ended.n, committed = self->patches.n;
    s_after_enqueues(self, self->enqs.v, self->enqs.n); /* may add changes, for the next commit */
    self->enqs.n = 0;
    s_after_commit(self, committed);
    s_forget_ended(self, nended);
    s_answer_deferred(self, true);
}

/* ---- the committer thread ----
 *
 * The loop hands the pending group (changes, new jobs, deferred requests) to the committer and
 * goes on draining, dispatching and collecting the next group while the committer writes and
 * syncs this one; when it is done the loop sends what depends on it (s_group_finish). One
 * group is written at a time, in order, so the store sees the same sequence of transactions as
 * with commits in the loop's thread. The loop's own store accesses wait for the committer
 * (bk_store_quiet). A group that fails goes back, whole and first, to the pending changes and
 * the synchronous s_commit() handles the failure as before (refusing new jobs, one by one,
 * retrying). */

static void *s_committer(void *arg)
{
    broker_t *self = arg;
    pthread_mutex_lock(&self->cmu);
    for (;;) {
        while (self->gstate != BK_GROUP_BUSY && !self->committer_quit)
            pthread_cond_wait(&self->ccond, &self->cmu);
        if (self->gstate != BK_GROUP_BUSY)
            break;
        pthread_mutex_unlock(&self->cmu);
        bk_group_t *g = &self->group;
        s_write_arg_t a = {self,    true,     0,          g->npatches,   g->patches,
                           g->enqs, g->nenqs, g->next_id, g->put_next_id};
        g->rc = minga_store_write(self->store, s_write, &a);
        pthread_mutex_lock(&self->cmu);
        self->gstate = BK_GROUP_DONE;
        pthread_cond_broadcast(&self->ccond);
        uint64_t one = 1;
        if (write(self->commit_fd, &one, sizeof one) < 0)
            minga_warn("committer: cannot signal the loop: %s", strerror(errno));
    }
    pthread_mutex_unlock(&self->cmu);
    return NULL;
}

static int s_gstate(broker_t *self)
{
    if (!self->committer_on)
        return BK_GROUP_IDLE;
    pthread_mutex_lock(&self->cmu);
    int st = self->gstate;
    pthread_mutex_unlock(&self->cmu);
    return st;
}

void bk_store_quiet(broker_t *self)
{
    if (!self->committer_on)
        return;
    pthread_mutex_lock(&self->cmu);
    while (self->gstate == BK_GROUP_BUSY)
        pthread_cond_wait(&self->ccond, &self->cmu);
    pthread_mutex_unlock(&self->cmu);
}

void bk_store_info(broker_t *self, minga_store_info_t *info)
{
    if (s_gstate(self) == BK_GROUP_IDLE)
        minga_store_info(self->store, &self->store_info);
    *info = self->store_info;
}

/* Prepends n items of size bytes at src to the vector (v, len, cap); false when out of memory. */
static bool s_prepend(void **v, size_t *len, size_t *cap, const void *src, size_t n, size_t size)
{
    if (n == 0)
        return true;
    if (*len + n > *cap) {
        size_t ncap = *len + n + 64;
        void *nv = realloc(*v, ncap * size);
        if (!nv)
            return false;
        *v = nv;
        *cap = ncap;
    }
    memmove((char *)*v + n * size, *v, *len * size);
    memcpy(*v, src, n * size);
    *len += n;
    return true;
}

static void s_group_start(broker_t *self);

/* After the committer's group: its consequences, as s_commit() has them for a synchronous
 * commit; or, when it failed, the group back into the pending changes for s_commit(). */
static void s_group_finish(broker_t *self)
{
    bk_group_t g = self->group;
    memset(&self->group, 0, sizeof self->group);
    pthread_mutex_lock(&self->cmu);
    self->gstate = BK_GROUP_IDLE;
    pthread_mutex_unlock(&self->cmu);
    if (g.rc != 0) {
        bool ok = s_prepend((void **)&self->patches.v, &self->patches.n, &self->patches.cap,
                            g.patches, g.npatches, sizeof *g.patches) &&
                  s_prepend((void **)&self->enqs.v, &self->enqs.n, &self->enqs.cap, g.enqs, g.nenqs,
                            sizeof *g.enqs) &&
                  s_prepend((void **)&self->deferred.v, &self->deferred.n, &self->deferred.cap,
                            g.deferred, g.ndeferred, sizeof *g.deferred);
        if (!ok) { /* invariant 4 cannot hold without memory: say what is lost */
            minga_error("out of memory putting back a failed commit of %zu change(s); a "
                        "restart recovers the store's state",
                        g.npatches);
            for (size_t i = 0; i < g.npatches; i++)
                bk_patch_clear(&g.patches[i]);
        }
        free(g.patches);
        free(g.enqs);
        free(g.deferred);
        s_commit(self);
        return;
    }
    self->commit_retry_at = 0;
    if (g.put_next_id)
        self->next_id_stored = g.next_id;
    bk_metrics_on_commit(self, g.t0, s_changes(g.npatches, g.enqs, g.nenqs));
    /* The next group first, with what came in meanwhile: the committer writes it while this
     * one's consequences go out (they add nothing that group needs). */
    s_group_start(self);
    s_read_subscriptions(self);
    s_after_enqueues(self, g.enqs, g.nenqs);
    s_after_patches(self, g.patches, g.npatches);
    s_forget_ended(self, g.nended);
    if (s_gstate(self) != BK_GROUP_IDLE) /* its ends were counted after these */
        self->group.nended -= g.nended;
    s_answer_reqs(self, g.deferred, &g.ndeferred, true);
    free(g.patches);
    free(g.enqs);
    free(g.deferred);
}

/* Hands the pending changes to the committer when it is idle; the synchronous s_commit() when
 * there is no committer or a failed commit is being retried. */
static void s_group_start(broker_t *self)
{
    if (s_gstate(self) != BK_GROUP_IDLE)
        return;
    if (!self->committer_on || self->commit_retry_at) {
        s_commit(self);
        return;
    }
    if (self->patches.n == 0 && self->enqs.n == 0) {
        s_answer_deferred(self, true);
        return;
    }
    bk_group_t *g = &self->group;
    g->patches = self->patches.v;
    g->npatches = self->patches.n;
    g->enqs = self->enqs.v;
    g->nenqs = self->enqs.n;
    g->deferred = self->deferred.v;
    g->ndeferred = self->deferred.n;
    g->nended = self->ended.n;
    g->next_id = self->next_id;
    g->put_next_id = self->next_id != self->next_id_stored;
    g->t0 = bk_metrics_clock();
    g->rc = 0;
    memset(&self->patches, 0, sizeof self->patches);
    memset(&self->enqs, 0, sizeof self->enqs);
    memset(&self->deferred, 0, sizeof self->deferred);
    pthread_mutex_lock(&self->cmu);
    self->gstate = BK_GROUP_BUSY;
    pthread_cond_broadcast(&self->ccond);
    pthread_mutex_unlock(&self->cmu);
}

void bk_commit_poll(broker_t *self)
{
    if (s_gstate(self) == BK_GROUP_DONE)
        s_group_finish(self);
}

/* Waits for the committer's group and finishes it (the loop's end). */
static void s_group_wait(broker_t *self)
{
    bk_store_quiet(self);
    if (s_gstate(self) == BK_GROUP_DONE)
        s_group_finish(self);
}

static int s_committer_start(broker_t *self)
{
    self->commit_fd = eventfd(0, EFD_NONBLOCK | EFD_CLOEXEC);
    if (self->commit_fd < 0) {
        minga_error("committer: eventfd: %s", strerror(errno));
        return MINGA_EIO;
    }
    if (pthread_mutex_init(&self->cmu, NULL) != 0 || pthread_cond_init(&self->ccond, NULL) != 0) {
        minga_error("committer: cannot make its lock");
        return MINGA_EIO;
    }
    /* signals (SIGTERM, SIGINT) go to the loop's thread, whose poll they interrupt */
    sigset_t all, old;
    sigfillset(&all);
    pthread_sigmask(SIG_BLOCK, &all, &old);
    int rc = pthread_create(&self->committer, NULL, s_committer, self);
    pthread_sigmask(SIG_SETMASK, &old, NULL);
    if (rc != 0) {
        minga_error("committer: cannot start its thread: %s", strerror(rc));
        return MINGA_EIO;
    }
    self->committer_on = true;
    return 0;
}

static void s_committer_stop(broker_t *self)
{
    if (self->committer_on) {
        pthread_mutex_lock(&self->cmu);
        self->committer_quit = true;
        pthread_cond_broadcast(&self->ccond);
        pthread_mutex_unlock(&self->cmu);
        pthread_join(self->committer, NULL);
        pthread_cond_destroy(&self->ccond);
        pthread_mutex_destroy(&self->cmu);
        self->committer_on = false;
    }
    if (self->commit_fd > 0)
        close(self->commit_fd);
    self->commit_fd = -1;
}

/* ---- dispatch ---- */

/* The best job worker w may take now, or BX_NIL. */
static uint32_t s_best_for(broker_t *self, const bk_worker_t *w)
{
    uint32_t best = BX_NIL;
    for (size_t t = 0; t < self->ntypes; t++) {
        if (!bk_bit(w->types, (unsigned)t))
            continue;
        uint32_t top = bx_heap_top(&self->types[t].ready);
        if (top != BX_NIL && (best == BX_NIL || bx_before(BX_HEAP_READY, BX_JOB(&self->jobs, top),
                                                          BX_JOB(&self->jobs, best))))
            best = top;
    }
    return best;
}

/* Leases ready jobs to the workers with credit, the longest waiting first. Returns how many. */
static size_t s_dispatch(broker_t *self)
{
    size_t n = 0;
    for (;;) {
        bk_worker_t *pick = NULL;
        uint32_t job = BX_NIL;
        for (size_t i = 0; i < self->wslots.n; i++) {
            bk_worker_t *w = self->wslots.v[i];
            if (!w || w->held + w->reserved >= w->capacity || (pick && w->lru >= pick->lru))
                continue;
            uint32_t best = s_best_for(self, w);
            if (best != BX_NIL)
                pick = w, job = best;
        }
        if (!pick)
            return n;
        s_lease(self, job, pick);
        n++;
    }
}

/* ---- timers ---- */

static void s_promote_delayed(broker_t *self)
{
    for (size_t t = 0; t < self->ntypes; t++) {
        bk_type_t *ty = &self->types[t];
        uint32_t top;
        while ((top = bx_heap_top(&ty->delayed)) != BX_NIL &&
               BX_JOB(&self->jobs, top)->due <= self->now) {
            bx_heap_remove(&ty->delayed, &self->jobs, top);
            bx_heap_push(&ty->ready, &self->jobs, top);
        }
    }
}

static void s_expire_leases(broker_t *self)
{
    uint32_t top;
    while ((top = bx_heap_top(&self->leases)) != BX_NIL &&
           BX_JOB(&self->jobs, top)->due <= self->now) {
        bx_job_t *j = BX_JOB(&self->jobs, top);
        uint32_t slot = j->worker;
        uint64_t id = j->id;
        char msg[96];
        snprintf(msg, sizeof msg, "no DONE, FAIL or PROGRESS within the lease of %u ms",
                 j->lease_ms);
        self->totals.expired++;
        bk_job_fail(self, top, true, "lease_expired", msg, true);
        bk_send_cancel(self, slot, id, "lease_expired");
    }
}

static void s_check_workers(broker_t *self)
{
    uint64_t dead_after = self->cfg.heartbeat_ms * self->cfg.liveness;
    for (size_t i = 0; i < self->wslots.n; i++) {
        bk_worker_t *w = self->wslots.v[i];
        if (!w)
            continue;
        if (self->now - w->last_seen > dead_after) {
            s_worker_lost(self, w);
            continue;
        }
        if (self->now - w->last_sent >= self->cfg.heartbeat_ms)
            bk_worker_send(self, w, MINGA_CMD_HEARTBEAT, NULL, 0);
    }
}

typedef struct {
    broker_t *self;
    unsigned purged;
} s_purge_arg_t;

static int s_purge_write(MDB_txn *txn, void *arg)
{
    s_purge_arg_t *a = arg;
    uint64_t keep_ms = a->self->cfg.result_retention_s * 1000;
    uint64_t cutoff = a->self->now > keep_ms ? a->self->now - keep_ms : 0;
    return bk_db_purge(&a->self->db, txn, cutoff, S_PURGE_BATCH, &a->purged);
}

static void s_purge(broker_t *self)
{
    if (self->now - self->last_purge < 1000)
        return;
    self->last_purge = self->now;
    s_purge_arg_t arg = {self, 0};
    bk_store_quiet(self);
    int rc = minga_store_write(self->store, s_purge_write, &arg);
    if (rc != 0)
        minga_warn("store: purge of ended jobs failed: %s", minga_strerror(rc));
    else
        self->totals.purged += arg.purged;
}

/* Keeps a reserve of the map for the changes of accepted jobs (a lease, a result, a purge
 * all need free pages): new jobs are refused once less than the reserve is left. */
void bk_check_space(broker_t *self, bool now)
{
    if (!now && self->now - self->last_usage < 1000)
        return;
    self->last_usage = self->now;
    self->enq_bytes = 0;
    uint64_t used = 0, max = 0;
    bk_store_quiet(self);
    int rc = bk_db_usage(&self->db, &used, &max);
    if (rc != 0) {
        minga_warn("store: cannot measure the map's use: %s", minga_strerror(rc));
        return;
    }
    self->reserve = max / 16 > (4u << 20) ? max / 16 : (4u << 20);
    bool full = used + self->reserve > max;
    minga_debug("store: %" PRIu64 " of %" PRIu64 " bytes in use, reserve %" PRIu64, used, max,
                self->reserve);
    if (full != self->nearly_full)
        minga_warn("store: %" PRIu64 " of %" PRIu64 " bytes in use: %s", used, max,
                   full ? "new jobs refused (store_full) until space is back"
                        : "space is back, new jobs accepted");
    self->nearly_full = full;
}

static void s_timers(broker_t *self)
{
    if (self->now - self->last_usage >= 1000) {
        bk_store_quiet(self);
        bk_db_trim(&self->db);
    }
    bk_check_space(self, false);
    s_promote_delayed(self);
    s_expire_leases(self);
    s_check_workers(self);
    s_waiters_timeout(self);
    s_purge(self);
}

/* ---- recovery ---- */

typedef struct {
    broker_t *self;
    BK_VEC(uint32_t) leased, waiting;
    size_t loaded;
} s_load_t;

static int s_load_one(void *arg, uint64_t id, const bk_qrec_t *q)
{
    s_load_t *l = arg;
    broker_t *self = l->self;
    if (q->state >= MINGA_JOB_STATE_COUNT || !bk_active(q->state))
        return 0;
    int t = bk_type_add(self, q->type, strlen(q->type), false);
    uint32_t idx = t < 0 ? BX_NIL : bx_jobs_add(&self->jobs, id);
    if (idx == BX_NIL) {
        minga_error("recovery: cannot take up job %" PRIu64 " (out of memory or too many types)",
                    id);
        return MINGA_ENOMEM;
    }
    bx_job_t *j = BX_JOB(&self->jobs, idx);
    j->type = (uint8_t)t;
    j->state = q->state;
    j->priority = q->priority;
    j->attempts = (uint16_t)(q->attempts > UINT16_MAX ? UINT16_MAX : q->attempts);
    j->max_attempts = (uint16_t)(q->max_attempts > UINT16_MAX ? UINT16_MAX : q->max_attempts);
    j->lease_ms = q->lease_ms;
    j->due = q->not_before;
    bk_count(self, j, +1);
    l->loaded++;
    if (q->state == MINGA_JOB_QUEUED || q->state == MINGA_JOB_FAILED)
        bk_to_heap(self, idx);
    else if (q->state == MINGA_JOB_LEASED)
        return BK_PUSH(l->leased, idx);
    else if (q->state == MINGA_JOB_WAITING)
        return BK_PUSH(l->waiting, idx);
    return 0;
}

/* A lease found at start: its worker is gone with the old broker. */
static void s_recover_lease(broker_t *self, uint32_t idx)
{
    bx_job_t *j = BX_JOB(&self->jobs, idx);
    j->worker = BX_NIL;
    if (bx_heap_push(&self->leases, &self->jobs, idx) != 0)
        return;
    bk_job_fail(self, idx, true, "worker_lost", "the broker restarted while the job was leased",
                false);
}

static void s_recover_waiting(broker_t *self, uint32_t idx)
{
    minga_job_t job;
    minga_job_init(&job);
    uint64_t id = BX_JOB(&self->jobs, idx)->id;
    if (bk_read_job(self, id, &job) == 0) {
        uint64_t culprit = 0;
        minga_job_state_t st = bk_wait_on(self, idx, job.parents, job.nparents, &culprit);
        s_settle_waiting(self, idx, st, culprit);
    }
    minga_job_clear(&job);
}

static int s_recover(broker_t *self)
{
    MDB_txn *txn;
    int rc = minga_store_read_begin(self->store, &txn);
    if (rc != 0)
        return rc;
    s_load_t l = {.self = self};
    self->next_id = bk_db_next_id(&self->db, txn);
    rc = bk_db_load(&self->db, txn, s_load_one, &l);
    mdb_txn_abort(txn);
    for (size_t i = 0; rc == 0 && i < l.leased.n; i++)
        s_recover_lease(self, l.leased.v[i]);
    for (size_t i = 0; rc == 0 && i < l.waiting.n; i++)
        s_recover_waiting(self, l.waiting.v[i]);
    if (rc == 0)
        minga_info("recovered %zu job(s): %zu were leased (back in the queue), %zu waiting; "
                   "next id %" PRIu64,
                   l.loaded, l.leased.n, l.waiting.n, self->next_id);
    free(l.leased.v);
    free(l.waiting.v);
    return rc;
}

/* ---- life cycle ---- */

/* Binds a socket. A ROUTER refuses frames over 4 x max_body outright (libzmq closes that
 * peer's connection, so a hostile frame never fills the broker's memory); messages between
 * max_body and that get a too_big reply. The workers socket's limit follows max_result instead
 * when that is larger (2 x max_result: a DONE between max_result and that gets too_big). A
 * tcp:// endpoint is a CurveZMQ server of ZAP domain when curve (may be NULL) is on. */
static zsock_t *s_bind(int type, const char *ep, uint64_t max_body, uint64_t max_result,
                       const minga_curve_t *curve, const char *domain)
{
    zsock_t *s = zsock_new(type);
    if (!s)
        return NULL;
    zsock_set_linger(s, 0);
    if (type == ZMQ_ROUTER) {
        zsock_set_rcvtimeo(s, 0); /* bk_drain() */
        zsock_set_rcvhwm(s, 100000);
        zsock_set_sndhwm(s, 100000);
        int64_t limit = (int64_t)(max_body * 4 > max_result * 2 ? max_body * 4 : max_result * 2);
        zmq_setsockopt(zsock_resolve(s), ZMQ_MAXMSGSIZE, &limit, sizeof limit);
    }
    char err[1024];
    if (curve && minga_curve_server_setup(s, ep, domain, curve, err, sizeof err) != 0) {
        minga_error("%s", err);
        zsock_destroy(&s);
        return NULL;
    }
    if (strncmp(ep, "tcp://", 6) == 0 && !(curve && minga_curve_on(curve, ep)))
        minga_warn("%s: CurveZMQ is off: anyone who reaches this port is let in", ep);
    if (zsock_bind(s, "%s", ep) < 0) {
        minga_error("cannot bind %s: %s", ep, zmq_strerror(zmq_errno()));
        zsock_destroy(&s);
    }
    return s;
}

/* Starts the metrics server (metrics.h) on addr; its address goes to STORE/run/metrics. */
static int s_metrics_start(broker_t *self, const char *addr)
{
    char run[PATH_MAX];
    snprintf(run, sizeof run, "%s/run", minga_store_realpath(self->store));
    return bk_metrics_new(&self->metrics, addr, run);
}

int broker_new(broker_t **self_p, minga_store_t *store, const broker_config_t *cfg,
               const char *clients_ep, const char *workers_ep, const char *events_ep)
{
    *self_p = NULL;
    broker_t *self = calloc(1, sizeof *self);
    int rc = MINGA_ENOMEM;
    if (!self)
        return rc;
    self->cfg = *cfg;
    self->cfg.job_types = self->cfg.clients = self->cfg.workers = self->cfg.events = NULL;
    self->cfg.metrics = NULL;
    self->store = store;
    self->commit_fd = -1;
    self->now = self->started_at = minga_now_ms();
    self->last_purge = self->now;
    minga_pbuf_init(&self->out);
    minga_pbuf_init(&self->jobout);
    bx_heap_init(&self->leases, BX_HEAP_LEASE);
    self->types = calloc(BK_MAX_TYPES, sizeof *self->types);
    self->workers_by_id = zhashx_new();
    self->children = zhashx_new();
    self->pending_keys = zhashx_new();
    if (!self->types || !self->workers_by_id || !self->children || !self->pending_keys ||
        bx_jobs_init(&self->jobs) != 0)
        goto fail;
    zhashx_set_destructor(self->children, s_ids_destroy);
    zhashx_set_destructor(self->pending_keys, s_free_item);
    if ((rc = s_types_configure(self, cfg->job_types)) != 0)
        goto fail;
    if ((rc = bk_db_open(&self->db, store)) != 0)
        goto fail;
    srandom((unsigned)(self->now ^ (uint64_t)getpid()));
    bk_check_space(self, true);
    if ((rc = s_metrics_start(self, cfg->metrics)) != 0)
        goto fail;
    if ((rc = s_recover(self)) != 0) {
        minga_error("recovery failed: %s", minga_strerror(rc));
        goto fail;
    }
    rc = MINGA_EIO;
    self->clients =
        s_bind(ZMQ_ROUTER, clients_ep, cfg->max_body, 0, cfg->curve, MINGA_CURVE_DOMAIN_CLIENTS);
    self->workers = s_bind(ZMQ_ROUTER, workers_ep, cfg->max_body, cfg->max_result, cfg->curve,
                           MINGA_CURVE_DOMAIN_WORKERS);
    self->events =
        s_bind(ZMQ_XPUB, events_ep, cfg->max_body, 0, cfg->curve, MINGA_CURVE_DOMAIN_CLIENTS);
    self->subs = zlistx_new();
    if (self->subs)
        zlistx_set_destructor(self->subs, s_free_item);
    if (!self->clients || !self->workers || !self->events || !self->subs)
        goto fail;
    const char *nc = getenv("MINGA_BROKER_NO_COMMITTER");
    if (!(nc && *nc == '1') && (rc = s_committer_start(self)) != 0)
        goto fail;
    *self_p = self;
    return 0;
fail:
    broker_destroy(&self);
    return rc;
}

/* Frees changes, new jobs and deferred requests that will not be written (the broker's end). */
static void s_changes_free(bk_patch_t *patches, size_t npatches, bk_enq_t **enqs, size_t nenqs,
                           bk_req_t **deferred, size_t ndeferred)
{
    for (size_t i = 0; i < npatches; i++)
        bk_patch_clear(&patches[i]);
    free(patches);
    for (size_t i = 0; i < nenqs; i++)
        bk_enq_destroy(&enqs[i]);
    free(enqs);
    for (size_t i = 0; i < ndeferred; i++)
        bk_req_destroy(&deferred[i]);
    free(deferred);
}

void broker_destroy(broker_t **self_p)
{
    broker_t *self = *self_p;
    if (!self)
        return;
    s_committer_stop(self);
    s_changes_free(self->group.patches, self->group.npatches, self->group.enqs, self->group.nenqs,
                   self->group.deferred, self->group.ndeferred);
    for (size_t i = 0; i < self->wslots.n; i++)
        if (self->wslots.v[i]) {
            zframe_destroy(&self->wslots.v[i]->routing);
            free(self->wslots.v[i]->name);
            free(self->wslots.v[i]->jobs);
            free(self->wslots.v[i]);
        }
    free(self->wslots.v);
    for (size_t i = 0; i < self->waiters.n; i++)
        bk_req_destroy(&self->waiters.v[i]);
    free(self->waiters.v);
    s_changes_free(self->patches.v, self->patches.n, self->enqs.v, self->enqs.n, self->deferred.v,
                   self->deferred.n);
    free(self->ended.v);
    for (size_t i = 0; self->types && i < self->ntypes; i++) {
        bx_heap_destroy(&self->types[i].ready);
        bx_heap_destroy(&self->types[i].delayed);
    }
    free(self->types);
    bx_heap_destroy(&self->leases);
    bx_jobs_destroy(&self->jobs);
    bk_db_close(&self->db);
    zhashx_destroy(&self->workers_by_id);
    zlistx_destroy(&self->subs);
    zhashx_destroy(&self->children);
    zhashx_destroy(&self->pending_keys);
    zsock_destroy(&self->clients);
    zsock_destroy(&self->workers);
    zsock_destroy(&self->events);
    bk_metrics_destroy(&self->metrics);
    minga_pbuf_clear(&self->out);
    minga_pbuf_clear(&self->jobout);
    free(self);
    *self_p = NULL;
}

/* How long the loop may sleep: until the next due job, lease end or timer tick. */
static long s_poll_timeout(broker_t *self)
{
    int gst = s_gstate(self);
    if (gst == BK_GROUP_DONE)
        return 0;
    /* with a group being written, what is pending waits for commit_fd */
    if (gst == BK_GROUP_IDLE &&
        (self->deferred.n || self->enqs.n || (self->patches.n && !self->commit_retry_at)))
        return 0;
    uint64_t next = self->now + S_TICK_MS;
    uint32_t top = bx_heap_top(&self->leases);
    if (top != BX_NIL && BX_JOB(&self->jobs, top)->due < next)
        next = BX_JOB(&self->jobs, top)->due;
    for (size_t t = 0; t < self->ntypes; t++) {
        top = bx_heap_top(&self->types[t].delayed);
        if (top != BX_NIL && BX_JOB(&self->jobs, top)->due < next)
            next = BX_JOB(&self->jobs, top)->due;
    }
    return next > self->now ? (long)(next - self->now) : 0;
}

int broker_run(broker_t *self, volatile sig_atomic_t *stop)
{
    zmq_pollitem_t items[4] = {{zsock_resolve(self->clients), 0, ZMQ_POLLIN, 0},
                               {zsock_resolve(self->workers), 0, ZMQ_POLLIN, 0},
                               {zsock_resolve(self->events), 0, ZMQ_POLLIN, 0},
                               {NULL, self->commit_fd, ZMQ_POLLIN, 0}};
    int nitems = self->committer_on ? 4 : 3;
    while (!*stop) {
        int rc = zmq_poll(items, nitems, s_poll_timeout(self));
        if (rc < 0 && zmq_errno() != EINTR) {
            minga_error("poll: %s", zmq_strerror(zmq_errno()));
            return MINGA_EIO;
        }
        self->now = minga_now_ms();
        if (nitems == 4 && (items[3].revents & ZMQ_POLLIN)) {
            uint64_t v;
            if (read(self->commit_fd, &v, sizeof v) < 0 && errno != EAGAIN)
                minga_warn("committer: reading its signal: %s", strerror(errno));
        }
        if (s_gstate(self) == BK_GROUP_DONE)
            s_group_finish(self);
        s_read_subscriptions(self);
        bk_drain(self);
        s_timers(self);
        s_dispatch(self);
        bk_commit_poll(self);
        s_group_start(self);
        /* without the committer: jobs this commit admitted go to idle workers now, not at the
         * next wake-up (with it, s_group_finish comes before the dispatch of the next turn) */
        if (!self->committer_on && s_dispatch(self))
            s_commit(self);
        bk_metrics_tick(self);
    }
    self->now = minga_now_ms();
    s_group_wait(self);
    s_commit(self);
    minga_info("stopping: %zu job(s) not ended stay in the store", bx_jobs_count(&self->jobs));
    return 0;
}

/* ---- configuration ---- */

#define S_CFG_U(name, flag, min, max, help)                                                        \
    {                                                                                              \
        "broker/" #name, flag, MINGA_CFG_UINT, offsetof(broker_config_t, name), min, max, help     \
    }
#define S_CFG_S(name, flag, help)                                                                  \
    {                                                                                              \
        "broker/" #name, flag, MINGA_CFG_STR, offsetof(broker_config_t, name), 0, 0, help          \
    }

const minga_cfg_t broker_config_table[] = {
    S_CFG_U(heartbeat_ms, "heartbeat-ms", 10, 600000, "intervalo de los latidos, ms"),
    S_CFG_U(liveness, "liveness", 1, 100,
            "latidos perdidos antes de dar por perdido a un trabajador"),
    S_CFG_U(lease_ms, "lease-ms", MINGA_PROTO_MIN_LEASE_MS, MINGA_PROTO_MAX_LEASE_MS,
            "tiempo de préstamo de un trabajo por omisión, ms"),
    S_CFG_U(max_attempts, "max-attempts", 1, MINGA_PROTO_MAX_ATTEMPTS, "intentos por omisión"),
    S_CFG_U(retry_base_ms, "retry-base-ms", 0, 86400000, "espera antes del primer reintento, ms"),
    S_CFG_U(retry_max_ms, "retry-max-ms", 0, 86400000, "espera más larga entre reintentos, ms"),
    S_CFG_U(retry_jitter_pct, "retry-jitter-pct", 0, 100,
            "variación aleatoria de la espera, por ciento"),
    S_CFG_U(max_body, "max-body", 1024, 256u << 20, "mensaje más grande, bytes"),
    S_CFG_U(max_result, "max-result", 1024, 1u << 30,
            "DONE más grande (el resultado de un trabajo), bytes; también el límite del socket de "
            "trabajadores"),
    S_CFG_U(credit, "credit", 1, MINGA_PROTO_MAX_CAPACITY,
            "capacidad por omisión de un trabajador"),
    S_CFG_U(result_retention_s, "result-retention-s", 0, 10ull * 365 * 86400,
            "segundos que se guardan los trabajos terminados"),
    S_CFG_U(batch_max, "batch-max", 1, 100000, "máximo de mensajes por escritura agrupada"),
    S_CFG_S(job_types, "job-types", "tipos de trabajo conocidos, separados por espacios o comas"),
    S_CFG_S(clients, "clients", "extremo de los clientes (por omisión ipc://ALMACÉN/run/clients)"),
    S_CFG_S(workers, "workers",
            "extremo de los trabajadores (por omisión ipc://ALMACÉN/run/workers)"),
    S_CFG_S(events, "events", "extremo de los eventos (por omisión ipc://ALMACÉN/run/events)"),
    S_CFG_S(metrics, "metrics",
            "dirección host:puerto de las métricas Prometheus (puerto 0: uno libre) u off "
            "(por omisión " BK_METRICS_DEFAULT ")"),
};
const size_t broker_config_count = sizeof broker_config_table / sizeof broker_config_table[0];

int broker_config_defaults(broker_config_t *c)
{
    memset(c, 0, sizeof *c);
    c->heartbeat_ms = MINGA_PROTO_HEARTBEAT_MS;
    c->liveness = MINGA_PROTO_LIVENESS;
    c->lease_ms = 30000;
    c->max_attempts = 5;
    c->retry_base_ms = 1000;
    c->retry_max_ms = 300000;
    c->retry_jitter_pct = 20;
    c->max_body = MINGA_PROTO_MAX_BODY;
    c->max_result = MINGA_PROTO_MAX_RESULT;
    c->credit = 1;
    c->result_retention_s = 604800;
    c->batch_max = 1024;
    c->job_types =
        strdup("match.score match.shard match.schedule notify.agenda report.event test.echo");
    c->metrics = strdup(BK_METRICS_DEFAULT);
    return c->job_types && c->metrics ? 0 : MINGA_ENOMEM;
}
