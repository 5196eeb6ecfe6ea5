/*
 * commands.c: the broker's client and worker commands (PROTOCOL.md §4, §5), one handler each,
 * found through two dispatch tables (command -> handler). A handler checks the body against its
 * field table, changes jobs through the core functions of broker.c, and either answers at once
 * (STATS, WORKERS, PING), defers its answer to after the next commit (ENQUEUE, BATCH, STATUS,
 * WAIT, CANCEL, RETRY, LIST), or, for a worker, answers nothing unless the message is wrong.
 * A handler that fails fills err, *code (the wire error) and *err_id; the caller sends ERROR.
 */
#include "broker_int.h"

#include "minga/error.h"
#include "minga/log.h"

#include <inttypes.h>
#include <stdlib.h>
#include <string.h>

/* ---- client commands ---- */

typedef int(s_handler_fn)(broker_t *self, minga_pmsg_t *m, char *err, size_t errcap,
                          minga_perr_t *code, uint64_t *err_id);

/* Reads the body of m against fields (strict, rid allowed as the last field). */
static int s_fields(minga_pmsg_t *m, const minga_pfield_t *fields, size_t n,
                    const msgpack_object **out, char *err, size_t errcap, minga_perr_t *code)
{
    int rc = minga_pfields(m->root, fields, n, out, true, err, errcap);
    if (rc != 0)
        *code = MINGA_PERR_BAD_BODY;
    return rc;
}

/* Looks up the state of parent id for an enqueue; MINGA_ENOTFOUND when there is no such job. */
static int s_parent_state(broker_t *self, uint64_t id, minga_job_state_t *st)
{
    if (id >= self->next_id)
        return MINGA_ENOTFOUND;
    return bk_state_of(self, id, st);
}

/* The initial state of a job from its parents' states: a dead or cancelled parent ends it
 * at once, an active one makes it wait. */
static void s_initial_state(minga_job_t *job, const minga_job_state_t *pst, const uint64_t *pids,
                            size_t n, uint64_t now)
{
    job->state = MINGA_JOB_QUEUED;
    for (size_t i = 0; i < n; i++) {
        if (pst[i] == MINGA_JOB_DEAD || pst[i] == MINGA_JOB_CANCELLED) {
            job->state = pst[i];
            job->finished_at = now;
            if (pst[i] == MINGA_JOB_DEAD) {
                char msg[64];
                snprintf(msg, sizeof msg, "parent job %" PRIu64 " is dead", pids[i]);
                job->error_code = strdup("parent_dead");
                job->error_message = strdup(msg);
            }
            return;
        }
        if (pst[i] != MINGA_JOB_DONE)
            job->state = MINGA_JOB_WAITING;
    }
}

/* Builds new job i of enq from spec; earlier jobs of the batch may be its parents. */
static int s_enqueue_prepare(broker_t *self, bk_enq_t *enq, size_t i, minga_jobspec_t *spec,
                             char *err, size_t errcap, minga_perr_t *code, uint64_t *err_id)
{
    const char *where = enq->req.cmd == MINGA_CMD_BATCH ? "jobs" : "";
    char at[32] = "";
    if (*where)
        snprintf(at, sizeof at, "jobs[%zu].", i);
    int t = bk_type_find(self, spec->type, strlen(spec->type));
    if (t < 0 || !self->types[t].known) {
        snprintf(err, errcap, "%stype: unknown job type '%s'", at, spec->type);
        *code = MINGA_PERR_UNKNOWN_JOB_TYPE;
        return MINGA_EREJECTED;
    }
    minga_job_t *job = &enq->jobs[i];
    if (spec->key) {
        bk_pending_key_t *pk = zhashx_lookup(self->pending_keys, spec->key);
        uint64_t id = 0;
        minga_job_state_t st = MINGA_JOB_QUEUED;
        int found = pk ? 0 : MINGA_ENOTFOUND;
        if (pk)
            id = pk->id, st = pk->state;
        else {
            MDB_txn *txn;
            bk_store_quiet(self);
            if (minga_store_read_begin(self->store, &txn) == 0) {
                found = bk_db_get_key(&self->db, txn, spec->key, &id);
                mdb_txn_abort(txn);
            }
            if (found == 0 && bk_state_of(self, id, &st) != 0)
                found = MINGA_ENOTFOUND;
        }
        if (found == 0) {
            job->id = id;
            job->state = st;
            enq->created[i] = false;
            return 0;
        }
    }
    size_t np = spec->nparents + spec->nafter;
    uint64_t *pids = calloc(np + 1, sizeof *pids);
    minga_job_state_t *pst = calloc(np + 1, sizeof *pst);
    int rc = MINGA_ENOMEM;
    if (!pids || !pst)
        goto fail;
    for (size_t p = 0; p < spec->nparents; p++) {
        pids[p] = spec->parents[p];
        if (s_parent_state(self, pids[p], &pst[p]) != 0) {
            snprintf(err, errcap, "%sparents[%zu]: no job %" PRIu64, at, p, pids[p]);
            *code = MINGA_PERR_NOT_FOUND;
            *err_id = pids[p];
            rc = MINGA_EREJECTED;
            goto fail;
        }
    }
    for (size_t a = 0; a < spec->nafter; a++) {
        if (spec->after[a] >= i) {
            snprintf(err, errcap, "%safter[%zu]: %u is not an earlier job of the batch", at, a,
                     spec->after[a]);
            *code = MINGA_PERR_BAD_BODY;
            rc = MINGA_EREJECTED;
            goto fail;
        }
        pids[spec->nparents + a] = enq->jobs[spec->after[a]].id;
        pst[spec->nparents + a] = enq->jobs[spec->after[a]].state;
    }
    job->id = self->next_id++;
    job->type = spec->type, spec->type = NULL;
    job->key = spec->key, spec->key = NULL;
    job->body = spec->body, spec->body = NULL;
    job->body_len = spec->body_len;
    job->parents = pids, pids = NULL;
    job->nparents = np;
    job->priority = spec->priority >= 0 ? (uint8_t)spec->priority : MINGA_PROTO_PRIORITY_DEFAULT;
    job->not_before = spec->delay_ms ? self->now + spec->delay_ms : spec->not_before;
    job->max_attempts = spec->max_attempts ? spec->max_attempts : (uint32_t)self->cfg.max_attempts;
    job->lease_ms = spec->lease_ms ? spec->lease_ms : (uint32_t)self->cfg.lease_ms;
    job->created_at = job->updated_at = self->now;
    s_initial_state(job, pst, job->parents, np, self->now);
    enq->created[i] = true;
    bk_lease_new(self, enq, i);
    if (job->key) {
        bk_pending_key_t *k = malloc(sizeof *k);
        if (!k || zhashx_insert(self->pending_keys, job->key, k) != 0) {
            free(k);
            goto fail;
        }
        k->id = job->id;
        k->state = job->state;
    }
    rc = 0;
fail:
    if (rc == MINGA_ENOMEM) {
        snprintf(err, errcap, "out of memory");
        *code = MINGA_PERR_INTERNAL;
    }
    free(pids);
    free(pst);
    return rc;
}

static bk_enq_t *s_enq_new(const minga_pmsg_t *m, size_t n)
{
    bk_enq_t *enq = calloc(1, sizeof *enq);
    if (!enq)
        return NULL;
    enq->jobs = calloc(n, sizeof *enq->jobs);
    enq->created = calloc(n, sizeof *enq->created);
    enq->lease_slot = malloc(n * sizeof *enq->lease_slot);
    enq->req.routing = zframe_dup(m->routing);
    enq->req.delimiter = m->delimiter;
    enq->req.has_rid = m->has_rid;
    enq->req.rid = m->rid;
    enq->req.cmd = m->cmd;
    if (!enq->jobs || !enq->created || !enq->lease_slot) {
        bk_enq_destroy(&enq);
        return NULL;
    }
    for (size_t i = 0; i < n; i++) {
        minga_job_init(&enq->jobs[i]);
        enq->lease_slot[i] = BK_NO_SLOT;
    }
    enq->n = n;
    return enq;
}

/* Decodes and prepares the specs of an ENQUEUE (one, the body itself) or a BATCH. */
static int s_enqueue(broker_t *self, minga_pmsg_t *m, const msgpack_object *specs, size_t n,
                     char *err, size_t errcap, minga_perr_t *code, uint64_t *err_id)
{
    self->enq_bytes += m->size + 256 * n;
    if (self->enq_bytes > self->reserve / 4)
        bk_check_space(self, true);
    if (self->nearly_full) {
        snprintf(err, errcap,
                 "the store is full (MINGA_STORE_MAP_MAX): what is left is kept "
                 "for jobs already accepted; nothing was enqueued");
        *code = MINGA_PERR_STORE_FULL;
        return MINGA_EMAPFULL;
    }
    bk_enq_t *enq = s_enq_new(m, n);
    if (!enq) {
        snprintf(err, errcap, "out of memory");
        *code = MINGA_PERR_INTERNAL;
        return MINGA_ENOMEM;
    }
    minga_jobspec_t spec;
    minga_jobspec_init(&spec);
    int rc = 0;
    for (size_t i = 0; i < n && rc == 0; i++) {
        bool batch = m->cmd == MINGA_CMD_BATCH;
        char e[200];
        rc = minga_jobspec_decode(batch ? &specs[i] : m->root, batch, !batch, &spec, e, sizeof e);
        if (rc != 0) {
            if (batch)
                snprintf(err, errcap, "jobs[%zu].%s", i, e);
            else
                snprintf(err, errcap, "%s", e);
            *code = MINGA_PERR_BAD_BODY;
            break;
        }
        rc = s_enqueue_prepare(self, enq, i, &spec, err, errcap, code, err_id);
        minga_jobspec_clear(&spec);
    }
    if (rc == 0)
        rc = BK_PUSH(self->enqs, enq);
    if (rc != 0) {
        bk_forget_keys(self, enq);
        bk_enq_unreserve(self, enq);
        bk_enq_destroy(&enq);
    }
    return rc;
}

static int s_client_enqueue(broker_t *self, minga_pmsg_t *m, char *err, size_t errcap,
                            minga_perr_t *code, uint64_t *err_id)
{
    return s_enqueue(self, m, NULL, 1, err, errcap, code, err_id);
}

static int s_client_batch(broker_t *self, minga_pmsg_t *m, char *err, size_t errcap,
                          minga_perr_t *code, uint64_t *err_id)
{
    static const minga_pfield_t fields[] = {
        {"jobs", MINGA_PF_ARRAY, true, 1, MINGA_PROTO_MAX_BATCH},
        {"rid", MINGA_PF_UINT, false, 0, 0},
    };
    const msgpack_object *f[2];
    if (s_fields(m, fields, 2, f, err, errcap, code) != 0)
        return MINGA_EFORMAT;
    return s_enqueue(self, m, f[0]->via.array.ptr, f[0]->via.array.size, err, errcap, code, err_id);
}

/* STATUS, WAIT, CANCEL, RETRY take an id; WAIT also timeout_ms and progress. */
static const minga_pfield_t s_id_fields[] = {
    {"id", MINGA_PF_UINT, true, 1, 0},
    {"rid", MINGA_PF_UINT, false, 0, 0},
    {"timeout_ms", MINGA_PF_UINT, false, 1, MINGA_PROTO_MAX_WAIT_MS},
    {"progress", MINGA_PF_BOOL, false, 0, 0},
};

static int s_defer(broker_t *self, minga_pmsg_t *m, uint64_t id, bk_req_t **out)
{
    bk_req_t *req = bk_req_new(m);
    if (!req || BK_PUSH(self->deferred, req) != 0) {
        bk_req_destroy(&req);
        return MINGA_ENOMEM;
    }
    req->id = id;
    if (out)
        *out = req;
    return 0;
}

static int s_oom(char *err, size_t errcap, minga_perr_t *code)
{
    snprintf(err, errcap, "out of memory");
    *code = MINGA_PERR_INTERNAL;
    return MINGA_ENOMEM;
}

static int s_client_status(broker_t *self, minga_pmsg_t *m, char *err, size_t errcap,
                           minga_perr_t *code, uint64_t *err_id)
{
    (void)err_id;
    const msgpack_object *f[4];
    if (s_fields(m, s_id_fields, 2, f, err, errcap, code) != 0)
        return MINGA_EFORMAT;
    if (s_defer(self, m, minga_pobj_uint(f[0], 0), NULL) != 0)
        return s_oom(err, errcap, code);
    return 0;
}

static int s_client_wait(broker_t *self, minga_pmsg_t *m, char *err, size_t errcap,
                         minga_perr_t *code, uint64_t *err_id)
{
    (void)err_id;
    const msgpack_object *f[4];
    if (s_fields(m, s_id_fields, 4, f, err, errcap, code) != 0)
        return MINGA_EFORMAT;
    bk_req_t *req;
    if (s_defer(self, m, minga_pobj_uint(f[0], 0), &req) != 0)
        return s_oom(err, errcap, code);
    req->deadline = self->now + minga_pobj_uint(f[2], MINGA_PROTO_WAIT_MS_DEFAULT);
    req->progress = minga_pobj_bool(f[3], false);
    return 0;
}

static int s_invalid_state(uint64_t id, minga_job_state_t st, const char *what, char *err,
                           size_t errcap, minga_perr_t *code, uint64_t *err_id)
{
    snprintf(err, errcap, "job %" PRIu64 " is %s: %s", id, minga_job_state_name(st), what);
    *code = MINGA_PERR_INVALID_STATE;
    *err_id = id;
    return MINGA_ESTATE;
}

static int s_not_found(uint64_t id, char *err, size_t errcap, minga_perr_t *code, uint64_t *err_id)
{
    snprintf(err, errcap, "no job %" PRIu64, id);
    *code = MINGA_PERR_NOT_FOUND;
    *err_id = id;
    return MINGA_ENOTFOUND;
}

static void s_job_cancel(broker_t *self, uint32_t idx)
{
    bx_job_t *j = BX_JOB(&self->jobs, idx);
    minga_job_state_t from = (minga_job_state_t)j->state;
    uint32_t slot = j->worker;
    if (from == MINGA_JOB_LEASED)
        bk_unlease(self, idx);
    bk_patch_as(self, j, MINGA_JOB_CANCELLED, 0);
    bk_end(self, idx, MINGA_JOB_CANCELLED);
    if (from == MINGA_JOB_LEASED)
        bk_send_cancel(self, slot, j->id, "cancelled");
}

static int s_client_cancel(broker_t *self, minga_pmsg_t *m, char *err, size_t errcap,
                           minga_perr_t *code, uint64_t *err_id)
{
    const msgpack_object *f[4];
    if (s_fields(m, s_id_fields, 2, f, err, errcap, code) != 0)
        return MINGA_EFORMAT;
    uint64_t id = minga_pobj_uint(f[0], 0);
    uint32_t idx = bx_jobs_find(&self->jobs, id);
    if (idx == BX_NIL) {
        minga_job_state_t st;
        if (bk_state_of(self, id, &st) != 0)
            return s_not_found(id, err, errcap, code, err_id);
        return s_invalid_state(id, st, "only a job that has not ended can be cancelled", err,
                               errcap, code, err_id);
    }
    bx_job_t *j = BX_JOB(&self->jobs, idx);
    if (!bk_active(j->state))
        return s_invalid_state(id, j->state, "only a job that has not ended can be cancelled", err,
                               errcap, code, err_id);
    if (s_defer(self, m, id, NULL) != 0)
        return s_oom(err, errcap, code);
    s_job_cancel(self, idx);
    return 0;
}

/* Brings a dead or cancelled job back: queued, or waiting on parents not yet done. */
static int s_job_retry(broker_t *self, const minga_job_t *job, char *err, size_t errcap,
                       minga_perr_t *code, uint64_t *err_id)
{
    for (size_t i = 0; i < job->nparents; i++) {
        minga_job_state_t st;
        if (bk_state_of(self, job->parents[i], &st) == 0 &&
            (st == MINGA_JOB_DEAD || st == MINGA_JOB_CANCELLED)) {
            snprintf(err, errcap, "parent job %" PRIu64 " of job %" PRIu64 " is %s: retry it first",
                     job->parents[i], job->id, minga_job_state_name(st));
            *code = MINGA_PERR_INVALID_STATE;
            *err_id = job->id;
            return MINGA_ESTATE;
        }
    }
    int t = bk_type_find(self, job->type, strlen(job->type));
    if (t < 0)
        t = bk_type_add(self, job->type, strlen(job->type), false);
    uint32_t idx = bx_jobs_find(&self->jobs, job->id);
    if (idx == BX_NIL)
        idx = t < 0 ? BX_NIL : bx_jobs_add(&self->jobs, job->id);
    if (idx == BX_NIL)
        return s_oom(err, errcap, code);
    bx_job_t *j = BX_JOB(&self->jobs, idx);
    bk_count(self, j, -1);
    j->type = (uint8_t)t;
    j->priority = job->priority;
    j->max_attempts = (uint16_t)job->max_attempts;
    j->lease_ms = job->lease_ms;
    j->attempts = 0;
    j->due = 0;
    j->state = MINGA_JOB_WAITING;
    bk_count(self, j, +1);
    uint64_t culprit = 0;
    minga_job_state_t st = bk_wait_on(self, idx, job->parents, job->nparents, &culprit);
    bk_patch_t *p = bk_patch(self, j, BP_RESET | BP_NOT_BEFORE);
    if (p)
        p->not_before = 0;
    if (st == MINGA_JOB_QUEUED) {
        bk_set_state(self, j, MINGA_JOB_QUEUED);
        if (p)
            p->state = MINGA_JOB_QUEUED;
        bk_to_heap(self, idx);
    }
    return 0;
}

static int s_client_retry(broker_t *self, minga_pmsg_t *m, char *err, size_t errcap,
                          minga_perr_t *code, uint64_t *err_id)
{
    const msgpack_object *f[4];
    if (s_fields(m, s_id_fields, 2, f, err, errcap, code) != 0)
        return MINGA_EFORMAT;
    uint64_t id = minga_pobj_uint(f[0], 0);
    uint32_t idx = bx_jobs_find(&self->jobs, id);
    if (idx != BX_NIL && bk_active(BX_JOB(&self->jobs, idx)->state))
        return s_invalid_state(id, BX_JOB(&self->jobs, idx)->state,
                               "only a dead or cancelled job can be retried", err, errcap, code,
                               err_id);
    minga_job_t job;
    minga_job_init(&job);
    int rc = bk_read_job(self, id, &job);
    if (rc == MINGA_ENOTFOUND) {
        rc = s_not_found(id, err, errcap, code, err_id);
        goto done;
    }
    if (rc != 0) {
        snprintf(err, errcap, "reading job %" PRIu64 ": %s", id, minga_strerror(rc));
        *code = MINGA_PERR_INTERNAL;
        goto done;
    }
    minga_job_state_t st = idx != BX_NIL ? BX_JOB(&self->jobs, idx)->state : job.state;
    if (st != MINGA_JOB_DEAD && st != MINGA_JOB_CANCELLED) {
        rc = s_invalid_state(id, st, "only a dead or cancelled job can be retried", err, errcap,
                             code, err_id);
        goto done;
    }
    rc = s_job_retry(self, &job, err, errcap, code, err_id);
    if (rc == 0 && s_defer(self, m, id, NULL) != 0)
        rc = s_oom(err, errcap, code);
done:
    minga_job_clear(&job);
    return rc;
}

static int s_client_list(broker_t *self, minga_pmsg_t *m, char *err, size_t errcap,
                         minga_perr_t *code, uint64_t *err_id)
{
    (void)err_id;
    static const minga_pfield_t fields[] = {
        {"state", MINGA_PF_STR, false, 1, 16},
        {"type", MINGA_PF_STR, false, 1, MINGA_PROTO_MAX_TYPE},
        {"after", MINGA_PF_UINT, false, 0, 0},
        {"limit", MINGA_PF_UINT, false, 1, MINGA_PROTO_LIST_MAX},
        {"rid", MINGA_PF_UINT, false, 0, 0},
    };
    const msgpack_object *f[5];
    if (s_fields(m, fields, 5, f, err, errcap, code) != 0)
        return MINGA_EFORMAT;
    int state = -1;
    if (f[0]) {
        char *s = minga_pobj_strdup(f[0]);
        state = minga_job_state_parse(s);
        free(s);
        if (state < 0) {
            snprintf(err, errcap, "state: unknown job state");
            *code = MINGA_PERR_BAD_BODY;
            return MINGA_EFORMAT;
        }
    }
    bk_req_t *req;
    if (s_defer(self, m, 0, &req) != 0)
        return s_oom(err, errcap, code);
    req->state = state;
    size_t tlen;
    const char *t = minga_pobj_str(f[1], &tlen);
    if (t)
        memcpy(req->type, t, tlen);
    req->after = minga_pobj_uint(f[2], 0);
    req->limit = (uint32_t)minga_pobj_uint(f[3], 100);
    return 0;
}

static int s_only_rid(broker_t *self, minga_pmsg_t *m, char *err, size_t errcap, minga_perr_t *code)
{
    (void)self;
    static const minga_pfield_t fields[] = {{"rid", MINGA_PF_UINT, false, 0, 0}};
    const msgpack_object *f[1];
    return s_fields(m, fields, 1, f, err, errcap, code);
}

static void s_pack_totals(broker_t *self, msgpack_packer *pk)
{
    const bk_totals_t *t = &self->totals;
    minga_pk_str(pk, "totals");
    msgpack_pack_map(pk, 9);
    minga_pk_kv_uint(pk, "enqueued", t->enqueued);
    minga_pk_kv_uint(pk, "leased", t->leased);
    minga_pk_kv_uint(pk, "done", t->done);
    minga_pk_kv_uint(pk, "failed", t->failed);
    minga_pk_kv_uint(pk, "dead", t->dead);
    minga_pk_kv_uint(pk, "cancelled", t->cancelled);
    minga_pk_kv_uint(pk, "purged", t->purged);
    minga_pk_kv_uint(pk, "released", t->released);
    minga_pk_kv_uint(pk, "expired", t->expired);
}

static int s_client_stats(broker_t *self, minga_pmsg_t *m, char *err, size_t errcap,
                          minga_perr_t *code, uint64_t *err_id)
{
    (void)err_id;
    if (s_only_rid(self, m, err, errcap, code) != 0)
        return MINGA_EFORMAT;
    bk_req_t req = {
        .routing = m->routing, .delimiter = m->delimiter, .has_rid = m->has_rid, .rid = m->rid};
    msgpack_packer *pk = bk_reply_begin(self, &req, 5);
    minga_pk_kv_uint(pk, "uptime_ms", self->now - self->started_at);
    minga_pk_str(pk, "queues");
    msgpack_pack_map(pk, self->ntypes);
    static const minga_job_state_t shown[] = {MINGA_JOB_WAITING, MINGA_JOB_QUEUED, MINGA_JOB_LEASED,
                                              MINGA_JOB_FAILED};
    for (size_t i = 0; i < self->ntypes; i++) {
        minga_pk_str(pk, self->types[i].name);
        msgpack_pack_map(pk, 4);
        for (size_t s = 0; s < 4; s++)
            minga_pk_kv_uint(pk, minga_job_state_name(shown[s]), self->types[i].count[shown[s]]);
    }
    s_pack_totals(self, pk);
    size_t nworkers = 0;
    for (size_t i = 0; i < self->wslots.n; i++)
        nworkers += self->wslots.v[i] != NULL;
    minga_pk_kv_uint(pk, "workers", nworkers);
    minga_store_info_t info;
    bk_store_info(self, &info);
    minga_pk_str(pk, "store");
    msgpack_pack_map(pk, 2);
    minga_pk_kv_uint(pk, "map_size", info.map_size);
    minga_pk_kv_uint(pk, "used_bytes", info.used_bytes);
    bk_reply_send(self, &req, MINGA_CMD_STATS);
    return 0;
}

static void s_pack_worker(broker_t *self, msgpack_packer *pk, const bk_worker_t *w)
{
    msgpack_pack_map(pk, 8);
    minga_pk_kv_str(pk, "id", w->hex);
    minga_pk_kv_str(pk, "name", w->name);
    size_t ntypes = 0;
    for (size_t i = 0; i < self->ntypes; i++)
        ntypes += bk_bit(w->types, (unsigned)i);
    minga_pk_str(pk, "types");
    msgpack_pack_array(pk, ntypes);
    for (size_t i = 0; i < self->ntypes; i++)
        if (bk_bit(w->types, (unsigned)i))
            minga_pk_str(pk, self->types[i].name);
    minga_pk_kv_uint(pk, "capacity", w->capacity);
    minga_pk_kv_uint(pk, "batch", w->batch);
    uint32_t *held;
    size_t n = bk_worker_jobs(self, w->slot, &held);
    minga_pk_str(pk, "held");
    msgpack_pack_array(pk, n);
    for (size_t i = 0; i < n; i++)
        msgpack_pack_uint64(pk, BX_JOB(&self->jobs, held[i])->id);
    free(held);
    minga_pk_kv_uint(pk, "idle_ms", self->now - w->last_seen);
    minga_pk_kv_uint(pk, "joined_at", w->joined_at);
}

static int s_client_workers(broker_t *self, minga_pmsg_t *m, char *err, size_t errcap,
                            minga_perr_t *code, uint64_t *err_id)
{
    (void)err_id;
    if (s_only_rid(self, m, err, errcap, code) != 0)
        return MINGA_EFORMAT;
    bk_req_t req = {
        .routing = m->routing, .delimiter = m->delimiter, .has_rid = m->has_rid, .rid = m->rid};
    size_t n = 0;
    for (size_t i = 0; i < self->wslots.n; i++)
        n += self->wslots.v[i] != NULL;
    /* Worker entries first, into their own buffer (s_pack_worker uses no shared buffer). */
    minga_pbuf_t list;
    minga_pbuf_init(&list);
    for (size_t i = 0; i < self->wslots.n; i++)
        if (self->wslots.v[i])
            s_pack_worker(self, &list.pk, self->wslots.v[i]);
    msgpack_packer *pk = bk_reply_begin(self, &req, 1);
    minga_pk_str(pk, "workers");
    msgpack_pack_array(pk, n);
    pk->callback(pk->data, list.sbuf.data, list.sbuf.size);
    minga_pbuf_clear(&list);
    bk_reply_send(self, &req, MINGA_CMD_WORKERS);
    return 0;
}

static int s_client_ping(broker_t *self, minga_pmsg_t *m, char *err, size_t errcap,
                         minga_perr_t *code, uint64_t *err_id)
{
    (void)err_id;
    if (s_only_rid(self, m, err, errcap, code) != 0)
        return MINGA_EFORMAT;
    bk_req_t req = {
        .routing = m->routing, .delimiter = m->delimiter, .has_rid = m->has_rid, .rid = m->rid};
    msgpack_packer *pk = bk_reply_begin(self, &req, 2);
    minga_pk_kv_str(pk, "version", MINGA_VERSION);
    minga_pk_kv_uint(pk, "time", self->now);
    bk_reply_send(self, &req, MINGA_CMD_PING);
    return 0;
}

static s_handler_fn *const s_client_handlers[MINGA_CMD_COUNT] = {
    [MINGA_CMD_ENQUEUE] = s_client_enqueue, [MINGA_CMD_BATCH] = s_client_batch,
    [MINGA_CMD_STATUS] = s_client_status,   [MINGA_CMD_WAIT] = s_client_wait,
    [MINGA_CMD_CANCEL] = s_client_cancel,   [MINGA_CMD_RETRY] = s_client_retry,
    [MINGA_CMD_LIST] = s_client_list,       [MINGA_CMD_STATS] = s_client_stats,
    [MINGA_CMD_WORKERS] = s_client_workers, [MINGA_CMD_PING] = s_client_ping,
};

/* ---- worker commands ---- */

static bk_worker_t *s_worker_of(broker_t *self, const minga_pmsg_t *m, char *hex, size_t cap)
{
    char *h = zframe_strhex(m->routing);
    snprintf(hex, cap, "%s", h ? h : "");
    free(h);
    return zhashx_lookup(self->workers_by_id, hex);
}

static int s_worker_ready(broker_t *self, minga_pmsg_t *m, char *err, size_t errcap,
                          minga_perr_t *code, uint64_t *err_id)
{
    (void)err_id;
    static const minga_pfield_t fields[] = {
        {"types", MINGA_PF_STRS, true, 1, MINGA_PROTO_MAX_TYPES},
        {"capacity", MINGA_PF_UINT, false, 0, MINGA_PROTO_MAX_CAPACITY},
        {"name", MINGA_PF_STR, false, 0, MINGA_PROTO_MAX_NAME},
        {"batch", MINGA_PF_UINT, false, 0, MINGA_PROTO_MAX_ITEMS},
        {"rid", MINGA_PF_UINT, false, 0, 0},
    };
    const msgpack_object *f[5];
    if (s_fields(m, fields, 5, f, err, errcap, code) != 0)
        return MINGA_EFORMAT;
    uint8_t types[32] = {0};
    for (uint32_t i = 0; i < f[0]->via.array.size; i++) {
        size_t len;
        const char *t = minga_pobj_str(&f[0]->via.array.ptr[i], &len);
        int ti = bk_type_find(self, t, len);
        if (ti < 0 || !self->types[ti].known) {
            snprintf(err, errcap, "types[%u]: unknown job type '%.*s'", i, (int)len, t);
            *code = MINGA_PERR_UNKNOWN_JOB_TYPE;
            return MINGA_EREJECTED;
        }
        types[ti / 8] |= (uint8_t)(1u << (ti % 8));
    }
    char hex[520];
    bk_worker_t *w = s_worker_of(self, m, hex, sizeof hex);
    bool fresh = !w;
    if (fresh) {
        w = calloc(1, sizeof *w);
        if (!w || BK_PUSH(self->wslots, w) != 0) {
            free(w);
            return s_oom(err, errcap, code);
        }
        w->slot = (uint32_t)self->wslots.n - 1;
        snprintf(w->hex, sizeof w->hex, "%s", hex);
        w->routing = zframe_dup(m->routing);
        w->joined_at = self->now;
        zhashx_insert(self->workers_by_id, w->hex, w);
    }
    memcpy(w->types, types, sizeof types);
    w->capacity = (uint32_t)minga_pobj_uint(f[1], self->cfg.credit);
    w->batch = (uint32_t)minga_pobj_uint(f[3], 0);
    w->delimiter = m->delimiter;
    w->last_seen = self->now;
    char *name = f[2] ? minga_pobj_strdup(f[2]) : strdup(hex);
    if (name) {
        free(w->name);
        w->name = name;
    } else if (!w->name) {
        w->name = strdup("?");
    }
    minga_pbuf_reset(&self->out);
    msgpack_pack_map(&self->out.pk, 5);
    minga_pk_kv_uint(&self->out.pk, "heartbeat_ms", self->cfg.heartbeat_ms);
    minga_pk_kv_uint(&self->out.pk, "liveness", self->cfg.liveness);
    minga_pk_kv_uint(&self->out.pk, "max_body", self->cfg.max_body);
    minga_pk_kv_uint(&self->out.pk, "max_result", self->cfg.max_result);
    /* this broker sends JOBS to a worker whose READY has batch > 1, and takes DONE {items} */
    minga_pk_kv_uint(&self->out.pk, "batch_max", MINGA_PROTO_MAX_ITEMS);
    bk_worker_send(self, w, MINGA_CMD_WELCOME, self->out.sbuf.data, self->out.sbuf.size);
    if (fresh) {
        minga_info("worker %s (%s) joined, capacity %u", w->name, w->hex, w->capacity);
        bk_publish_worker(self, w, "joined");
    }
    return 0;
}

/* The job id of a worker message, held by the sender; else an error for it. */
static int s_held(broker_t *self, uint64_t id, uint32_t *idx_out, char *err, size_t errcap,
                  minga_perr_t *code, uint64_t *err_id)
{
    uint32_t idx = bx_jobs_find(&self->jobs, id);
    if (idx == BX_NIL) {
        minga_job_state_t st;
        if (bk_state_of(self, id, &st) != 0)
            return s_not_found(id, err, errcap, code, err_id);
        return s_invalid_state(id, st, "not leased to this worker", err, errcap, code, err_id);
    }
    bx_job_t *j = BX_JOB(&self->jobs, idx);
    if (j->state != MINGA_JOB_LEASED || j->worker != self->current->slot)
        return s_invalid_state(id, j->state, "not leased to this worker", err, errcap, code,
                               err_id);
    *idx_out = idx;
    return 0;
}

static int s_worker_progress(broker_t *self, minga_pmsg_t *m, char *err, size_t errcap,
                             minga_perr_t *code, uint64_t *err_id)
{
    static const minga_pfield_t fields[] = {
        {"id", MINGA_PF_UINT, true, 1, 0},
        {"done", MINGA_PF_UINT, false, 0, UINT32_MAX},
        {"total", MINGA_PF_UINT, false, 0, UINT32_MAX},
        {"text", MINGA_PF_STR, false, 0, MINGA_PROTO_MAX_TEXT},
        {"rid", MINGA_PF_UINT, false, 0, 0},
    };
    const msgpack_object *f[5];
    uint32_t idx;
    if (s_fields(m, fields, 5, f, err, errcap, code) != 0)
        return MINGA_EFORMAT;
    int rc = s_held(self, minga_pobj_uint(f[0], 0), &idx, err, errcap, code, err_id);
    if (rc != 0)
        return rc;
    bx_job_t *j = BX_JOB(&self->jobs, idx);
    j->due = self->now + j->lease_ms;
    bx_heap_fix(&self->leases, &self->jobs, idx);
    bk_patch_t *p = bk_patch(self, j, BP_PROGRESS);
    if (p) {
        p->progress.done = (uint32_t)minga_pobj_uint(f[1], 0);
        p->progress.total = (uint32_t)minga_pobj_uint(f[2], 0);
        p->progress.text = minga_pobj_strdup(f[3]);
    }
    return 0;
}

/* DONE {items: [{id, result}...]}: every item is checked first (a malformed one refuses the
 * whole message, nothing changed); then each item is one DONE: a job not held by the sender
 * gets its own ERROR (with its id) and the others are done. */
static int s_worker_done_items(broker_t *self, minga_pmsg_t *m, const msgpack_object *items,
                               char *err, size_t errcap, minga_perr_t *code)
{
    static const minga_pfield_t fields[] = {
        {"id", MINGA_PF_UINT, true, 1, 0},
        {"result", MINGA_PF_ANY, false, 0, 0},
    };
    const msgpack_object *f[2];
    uint32_t n = items->via.array.size;
    for (uint32_t i = 0; i < n; i++) {
        char ierr[256];
        if (minga_pfields(&items->via.array.ptr[i], fields, 2, f, true, ierr, sizeof ierr) != 0) {
            snprintf(err, errcap, "items[%u]: %s", i, ierr);
            *code = MINGA_PERR_BAD_BODY;
            return MINGA_EFORMAT;
        }
    }
    for (uint32_t i = 0; i < n && self->current; i++) {
        minga_pfields(&items->via.array.ptr[i], fields, 2, f, true, NULL, 0);
        uint32_t idx;
        minga_perr_t icode = MINGA_PERR_NONE;
        uint64_t iid = 0;
        char ierr[256];
        if (s_held(self, minga_pobj_uint(f[0], 0), &idx, ierr, sizeof ierr, &icode, &iid) == 0) {
            bk_job_done(self, idx, f[1]);
            continue;
        }
        minga_proto_send_error(self->workers, m->routing, m->delimiter, m->has_rid, m->rid,
                               icode ? icode : MINGA_PERR_INTERNAL, ierr, iid);
        self->wbytes_out += zframe_size(m->routing) + strlen(ierr) + 64;
        self->current->last_sent = self->now;
    }
    return 0;
}

static int s_worker_done(broker_t *self, minga_pmsg_t *m, char *err, size_t errcap,
                         minga_perr_t *code, uint64_t *err_id)
{
    static const minga_pfield_t fields[] = {
        {"id", MINGA_PF_UINT, false, 1, 0},
        {"result", MINGA_PF_ANY, false, 0, 0},
        {"items", MINGA_PF_ARRAY, false, 1, MINGA_PROTO_MAX_ITEMS},
        {"rid", MINGA_PF_UINT, false, 0, 0},
    };
    const msgpack_object *f[4];
    uint32_t idx;
    if (s_fields(m, fields, 4, f, err, errcap, code) != 0)
        return MINGA_EFORMAT;
    if (f[2] && (f[0] || f[1])) {
        snprintf(err, errcap, "items: not with id or result (one job, or a list of them)");
        *code = MINGA_PERR_BAD_BODY;
        return MINGA_EFORMAT;
    }
    if (f[2])
        return s_worker_done_items(self, m, f[2], err, errcap, code);
    if (!f[0]) {
        snprintf(err, errcap, "id: missing (or items)");
        *code = MINGA_PERR_BAD_BODY;
        return MINGA_EFORMAT;
    }
    int rc = s_held(self, minga_pobj_uint(f[0], 0), &idx, err, errcap, code, err_id);
    if (rc == 0)
        bk_job_done(self, idx, f[1]);
    return rc;
}

static int s_worker_fail(broker_t *self, minga_pmsg_t *m, char *err, size_t errcap,
                         minga_perr_t *code, uint64_t *err_id)
{
    static const minga_pfield_t fields[] = {
        {"id", MINGA_PF_UINT, true, 1, 0},
        {"retryable", MINGA_PF_BOOL, false, 0, 0},
        {"code", MINGA_PF_STR, false, 1, MINGA_PROTO_MAX_CODE},
        {"message", MINGA_PF_STR, false, 0, MINGA_PROTO_MAX_MESSAGE},
        {"rid", MINGA_PF_UINT, false, 0, 0},
    };
    const msgpack_object *f[5];
    uint32_t idx;
    if (s_fields(m, fields, 5, f, err, errcap, code) != 0)
        return MINGA_EFORMAT;
    int rc = s_held(self, minga_pobj_uint(f[0], 0), &idx, err, errcap, code, err_id);
    if (rc != 0)
        return rc;
    char *ecode = f[2] ? minga_pobj_strdup(f[2]) : NULL;
    char *emsg = f[3] ? minga_pobj_strdup(f[3]) : NULL;
    bk_job_fail(self, idx, minga_pobj_bool(f[1], true), ecode ? ecode : "failed", emsg ? emsg : "",
                true);
    free(ecode);
    free(emsg);
    return 0;
}

static int s_worker_release(broker_t *self, minga_pmsg_t *m, char *err, size_t errcap,
                            minga_perr_t *code, uint64_t *err_id)
{
    const msgpack_object *f[4];
    uint32_t idx;
    if (s_fields(m, s_id_fields, 2, f, err, errcap, code) != 0)
        return MINGA_EFORMAT;
    int rc = s_held(self, minga_pobj_uint(f[0], 0), &idx, err, errcap, code, err_id);
    if (rc == 0)
        bk_job_release(self, idx);
    return rc;
}

static int s_worker_heartbeat(broker_t *self, minga_pmsg_t *m, char *err, size_t errcap,
                              minga_perr_t *code, uint64_t *err_id)
{
    (void)err_id;
    return s_only_rid(self, m, err, errcap, code);
}

static int s_worker_disconnect(broker_t *self, minga_pmsg_t *m, char *err, size_t errcap,
                               minga_perr_t *code, uint64_t *err_id)
{
    (void)err_id;
    static const minga_pfield_t fields[] = {
        {"reason", MINGA_PF_STR, false, 0, MINGA_PROTO_MAX_MESSAGE},
        {"rid", MINGA_PF_UINT, false, 0, 0},
    };
    const msgpack_object *f[2];
    if (s_fields(m, fields, 2, f, err, errcap, code) != 0)
        return MINGA_EFORMAT;
    bk_worker_leave(self, self->current);
    self->current = NULL;
    return 0;
}

/* Whether job id is a parent of a job the current worker holds: the held jobs' parents are
 * read from the store (a FETCH is rare; the index keeps no parents). 0, or a store code. */
static int s_parent_of_held(broker_t *self, uint64_t id, bool *yes)
{
    *yes = false;
    uint32_t *held;
    size_t n = bk_worker_jobs(self, self->current->slot, &held);
    if (!held)
        return MINGA_ENOMEM;
    MDB_txn *txn = NULL;
    if (n)
        bk_store_quiet(self);
    int rc = n ? minga_store_read_begin(self->store, &txn) : 0;
    for (size_t i = 0; rc == 0 && i < n && !*yes; i++) {
        minga_job_t job;
        minga_job_init(&job);
        if (bk_db_get_job(&self->db, txn, BX_JOB(&self->jobs, held[i])->id, &job) == 0)
            for (size_t p = 0; p < job.nparents && !*yes; p++)
                *yes = job.parents[p] == id;
        minga_job_clear(&job);
    }
    if (txn)
        mdb_txn_abort(txn);
    free(held);
    return rc;
}

/* Sends FETCHED {rid, id, result} for the done job (its result may be larger than max_body:
 * packed into a buffer of its own, freed at once, so that the broker does not keep it). */
static int s_send_fetched(broker_t *self, const minga_pmsg_t *m, const minga_job_t *job)
{
    minga_pbuf_t b;
    minga_pbuf_init(&b);
    msgpack_pack_map(&b.pk, m->has_rid ? 3 : 2);
    if (m->has_rid)
        minga_pk_kv_uint(&b.pk, "rid", m->rid);
    minga_pk_kv_uint(&b.pk, "id", job->id);
    int rc = minga_pk_kv_raw(&b.pk, "result", job->result, job->result_len) == 0 && b.sbuf.data
                 ? 0
                 : MINGA_ENOMEM;
    if (rc == 0) {
        bk_worker_send(self, self->current, MINGA_CMD_FETCHED, b.sbuf.data, b.sbuf.size);
        self->fetched++;
        self->fetched_bytes += b.sbuf.size;
    }
    minga_pbuf_clear(&b);
    return rc;
}

/* FETCH {id}: the result of a done job that is a parent of a job this worker holds (REM-API,
 * PROTOCOL.md §5). Checked in this order: the job exists (not_found), it is done
 * (invalid_state), it is a parent of a held job (forbidden). */
static int s_fetch(broker_t *self, minga_pmsg_t *m, char *err, size_t errcap, minga_perr_t *code,
                   uint64_t *err_id)
{
    static const minga_pfield_t fields[] = {
        {"id", MINGA_PF_UINT, true, 1, 0},
        {"rid", MINGA_PF_UINT, false, 0, 0},
    };
    const msgpack_object *f[2];
    if (s_fields(m, fields, 2, f, err, errcap, code) != 0)
        return MINGA_EFORMAT;
    uint64_t id = minga_pobj_uint(f[0], 0);
    minga_job_state_t st;
    int rc;
    if (id >= self->next_id || bk_state_of(self, id, &st) != 0)
        return s_not_found(id, err, errcap, code, err_id);
    if (st != MINGA_JOB_DONE)
        return s_invalid_state(id, st, "only the result of a done job can be fetched", err, errcap,
                               code, err_id);
    bool parent;
    if ((rc = s_parent_of_held(self, id, &parent)) != 0) {
        snprintf(err, errcap, "looking up the jobs this worker holds: %s", minga_strerror(rc));
        *code = MINGA_PERR_INTERNAL;
        return rc;
    }
    if (!parent) {
        snprintf(err, errcap, "job %" PRIu64 " is not a parent of a job this worker holds", id);
        *code = MINGA_PERR_FORBIDDEN;
        *err_id = id;
        return MINGA_EREJECTED;
    }
    minga_job_t job;
    minga_job_init(&job);
    rc = bk_read_job(self, id, &job);
    if (rc == MINGA_ENOTFOUND)
        rc = s_not_found(id, err, errcap, code, err_id);
    else if (rc != 0) {
        snprintf(err, errcap, "reading job %" PRIu64 ": %s", id, minga_strerror(rc));
        *code = MINGA_PERR_INTERNAL;
    } else if (job.state != MINGA_JOB_DONE) {
        rc = s_invalid_state(id, job.state, "its end is not stored yet", err, errcap, code, err_id);
    } else if ((rc = s_send_fetched(self, m, &job)) != 0) {
        s_oom(err, errcap, code);
    }
    minga_job_clear(&job);
    return rc;
}

static int s_worker_fetch(broker_t *self, minga_pmsg_t *m, char *err, size_t errcap,
                          minga_perr_t *code, uint64_t *err_id)
{
    int rc = s_fetch(self, m, err, errcap, code, err_id);
    if (rc != 0)
        self->fetch_refused++;
    return rc;
}

static s_handler_fn *const s_worker_handlers[MINGA_CMD_COUNT] = {
    [MINGA_CMD_READY] = s_worker_ready,
    [MINGA_CMD_PROGRESS] = s_worker_progress,
    [MINGA_CMD_DONE] = s_worker_done,
    [MINGA_CMD_FAIL] = s_worker_fail,
    [MINGA_CMD_RELEASE] = s_worker_release,
    [MINGA_CMD_HEARTBEAT] = s_worker_heartbeat,
    [MINGA_CMD_DISCONNECT] = s_worker_disconnect,
    [MINGA_CMD_FETCH] = s_worker_fetch,
};

/* ---- receiving ---- */

static void s_on_client(broker_t *self, zmsg_t *zm)
{
    minga_pmsg_t m;
    minga_pmsg_init(&m);
    minga_perr_t code = MINGA_PERR_NONE;
    uint64_t err_id = 0;
    char err[512];
    int rc = minga_pmsg_decode(&m, &zm, true, self->cfg.max_body, &code, err, sizeof err);
    if (rc == 0 && !s_client_handlers[m.cmd]) {
        snprintf(err, sizeof err, "'%s' is not a client command", m.cmd_text);
        code = MINGA_PERR_UNKNOWN_COMMAND;
        rc = MINGA_EPROTO;
    }
    if (rc == 0)
        rc = s_client_handlers[m.cmd](self, &m, err, sizeof err, &code, &err_id);
    if (rc != 0 && m.routing) {
        if (code == MINGA_PERR_BAD_FRAME || code == MINGA_PERR_BAD_VERSION ||
            code == MINGA_PERR_UNKNOWN_COMMAND || code == MINGA_PERR_BAD_BODY ||
            code == MINGA_PERR_TOO_BIG)
            bk_log_bad(self, "clients", &m, err);
        minga_proto_send_error(self->clients, m.routing, m.delimiter, m.has_rid, m.rid,
                               code ? code : MINGA_PERR_INTERNAL, err, err_id);
    }
    minga_pmsg_clear(&m);
}

static void s_on_worker(broker_t *self, zmsg_t *zm)
{
    minga_pmsg_t m;
    minga_pmsg_init(&m);
    minga_perr_t code = MINGA_PERR_NONE;
    uint64_t err_id = 0;
    char err[512], hex[520];
    /* Only DONE may be larger than max_body, up to max_result. */
    size_t max_body = self->cfg.max_body, limit = self->cfg.max_result;
    self->wbytes_in += zmsg_content_size(zm);
    int rc = minga_pmsg_decode(&m, &zm, true, limit > max_body ? limit : max_body, &code, err,
                               sizeof err);
    if (m.size > max_body && code != MINGA_PERR_TOO_BIG && (rc != 0 || m.cmd != MINGA_CMD_DONE)) {
        snprintf(err, sizeof err,
                 "message of %zu bytes is larger than the limit of %zu bytes (max_body; only "
                 "DONE may be larger, up to max_result)",
                 m.size, max_body);
        code = MINGA_PERR_TOO_BIG;
        rc = MINGA_EPROTO;
    }
    self->current = m.routing ? s_worker_of(self, &m, hex, sizeof hex) : NULL;
    if (self->current)
        self->current->last_seen = self->now;
    if (rc == 0 && !s_worker_handlers[m.cmd]) {
        snprintf(err, sizeof err, "'%s' is not a worker command", m.cmd_text);
        code = MINGA_PERR_UNKNOWN_COMMAND;
        rc = MINGA_EPROTO;
    }
    if (rc == 0 && !self->current && m.cmd != MINGA_CMD_READY) {
        if (m.cmd != MINGA_CMD_DISCONNECT) {
            minga_pbuf_reset(&self->out);
            msgpack_pack_map(&self->out.pk, 1);
            minga_pk_kv_str(&self->out.pk, "reason", "not_ready");
            minga_proto_send(self->workers, m.routing, m.delimiter, MINGA_CMD_DISCONNECT,
                             self->out.sbuf.data, self->out.sbuf.size);
        }
        minga_pmsg_clear(&m);
        return;
    }
    if (rc == 0)
        rc = s_worker_handlers[m.cmd](self, &m, err, sizeof err, &code, &err_id);
    if (rc != 0 && m.routing) {
        if (code == MINGA_PERR_BAD_FRAME || code == MINGA_PERR_BAD_VERSION ||
            code == MINGA_PERR_UNKNOWN_COMMAND || code == MINGA_PERR_BAD_BODY ||
            code == MINGA_PERR_TOO_BIG)
            bk_log_bad(self, "workers", &m, err);
        minga_proto_send_error(self->workers, m.routing, m.delimiter, m.has_rid, m.rid,
                               code ? code : MINGA_PERR_INTERNAL, err, err_id);
        /* The ERROR's frames: its message plus the fixed part (framing, keys, rid, id). */
        self->wbytes_out += zframe_size(m.routing) + strlen(err) + 64;
        if (self->current)
            self->current->last_sent = self->now;
    }
    self->current = NULL;
    minga_pmsg_clear(&m);
}

/* Receives what is waiting on both sockets, at most batch_max messages. */
void bk_drain(broker_t *self)
{
    /* Both sockets have a receive time-out of 0 (s_bind): a recv that finds nothing returns
     * NULL at once, which saves asking for ZMQ_EVENTS before each message. */
    size_t budget = self->cfg.batch_max;
    bool clients = true, workers = true;
    while ((clients || workers) && budget > 0) {
        zmsg_t *zm;
        if (budget % 16 == 0)
            bk_commit_poll(self); /* the committer's next group without waiting for the drain */
        if (clients && (clients = (zm = zmsg_recv(self->clients)) != NULL)) {
            s_on_client(self, zm);
            budget--;
        }
        if (workers && budget > 0 && (workers = (zm = zmsg_recv(self->workers)) != NULL)) {
            s_on_worker(self, zm);
            budget--;
        }
    }
}
