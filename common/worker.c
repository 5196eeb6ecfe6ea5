/*
 * worker.c: the worker runtime (worker.h). One main thread owns the DEALER socket to the
 * broker and every timer; `capacity` handler threads (plain pthreads, one job at a time each)
 * run the handlers. The main thread hands a job to the handler threads through a queue (a
 * mutex and a condition variable); handler threads post their notes (END, PROGRESS) on a list
 * and wake the main thread with an eventfd only when that list was empty, so that under load
 * one wake-up carries many notes. The main loop polls the DEALER and the eventfd, whatever the
 * capacity, and the heartbeats never wait for a handler.
 *
 * States of the runtime (the main loop, minga_worker_run; PROTOCOL.md §5):
 *
 *   state     event                                 action (function)                   next
 *   --------  ------------------------------------  ----------------------------------  --------
 *   OFFLINE   reconnect time reached                new DEALER, READY (s_connect)       ONLINE
 *   ONLINE    WELCOME                               take heartbeat_ms, liveness         ONLINE
 *                                                   (s_on_welcome)
 *   ONLINE    JOB                                   to a free slot, else pending        ONLINE
 *                                                   (s_on_job, s_dispatch)
 *   ONLINE    handler END                           DONE or FAIL, next pending job      ONLINE
 *                                                   (s_on_notes, s_on_end)
 *   ONLINE    handler PROGRESS                      PROGRESS (s_on_notes)               ONLINE
 *   ONLINE    CANCEL                                drop its outcome (s_on_cancel)      ONLINE
 *   ONLINE    heartbeat timer                       HEARTBEAT (s_timers)                ONLINE
 *   ONLINE    broker silent liveness x heartbeat    close, back-off 1 s .. 32 s         OFFLINE
 *                                                   (s_disconnect)
 *   ONLINE    DISCONNECT from the broker            close, reconnect at once            OFFLINE
 *                                                   (s_on_disconnect)
 *   any       SIGTERM, SIGINT, minga_worker_stop()  RELEASE pending jobs, READY with     DRAINING
 *                                                   capacity 0 (s_start_drain)
 *   DRAINING  JOB (sent before the READY arrived)   RELEASE it (s_on_job)               DRAINING
 *   DRAINING  handler END                           DONE, FAIL, or RELEASE if the       DRAINING
 *                                                   handler handed it back (s_on_end)
 *   DRAINING  nothing held                          DISCONNECT (s_finish_drain)         STOPPED
 *   DRAINING  drain time-out                        RELEASE what runs, DISCONNECT       STOPPED
 *                                                   (s_finish_drain)
 *
 * Invariants:
 *  1. At most `capacity` handlers run at once; a job the broker sends beyond the worker's
 *     credit waits in `pending` for a free slot (never a second handler).
 *  2. Every job received is answered once: DONE, FAIL, or RELEASE (handed back, the attempt
 *     not counted) — unless the broker cancelled it. Answers made while OFFLINE wait in
 *     `outbox` and go out, after READY, on the next connection (the broker judges whether the
 *     lease still stands); progress and heartbeats of a lost connection are dropped.
 *  3. Heartbeats go out every heartbeat_ms while connected, whatever the handlers do.
 *  4. Any message from the broker proves it alive (Paranoid Pirate liveness).
 *  5. While draining, the capacity announced is 0 (PROTOCOL.md §5: keep what is held, send
 *     no more), also on a reconnection, so that the broker sends no new work to a leaving
 *     worker.
 */
#include "minga/worker.h"

#include "minga/config.h"
#include "minga/curve.h"
#include "minga/error.h"
#include "minga/launch.h"
#include "minga/log.h"
#include "minga/mpguard.h"
#include "minga/proto.h"

#include <czmq.h>
#include <errno.h>
#include <limits.h>
#include <msgpack.h>
#include <signal.h>
#include <inttypes.h>
#include <pthread.h>
#include <stdarg.h>
#include <stdatomic.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/eventfd.h>
#include <time.h>
#include <unistd.h>

typedef enum { S_OFFLINE, S_ONLINE, S_DRAINING, S_STOPPED } s_state_t;

typedef struct s_slot_t s_slot_t;

struct minga_task_t {
    uint64_t id;
    char *type;
    unsigned attempt;
    uint8_t *body;
    size_t body_size;
    const minga_handler_t *handler;
    /* Outcome, written by the handler thread, read by the main thread after END. */
    int rc;
    uint8_t *result;
    size_t result_size;
    bool failed, retryable;
    bool hand_back; /* minga_task_hand_back(): RELEASE instead of DONE/FAIL */
    char code[64];
    char message[512];
    /* Progress throttle, handler thread only. */
    int64_t progress_sent_ms;
    s_slot_t *slot;
    minga_worker_t *worker;
    minga_task_t *next; /* in the handler threads' queue */
    bool abandoned;     /* handed back at the drain time-out; its END is dropped */
    bool on_main;       /* run on the main thread (a quick job): progress goes out at once */
    uint64_t *parents;  /* the job's parents, in the order of its `parents` field */
    size_t nparents;
    uint32_t lease_ms;
    /* Results this handler fetched (minga_task_fetch): held until it returns. */
    struct s_result_t **held;
    size_t nheld, heldcap;
};

/* A fetched result (minga_task_fetch). Under the worker's lock: all of them in one list, the
 * most recently used first; the first MINGA_WORKER_FETCH_CACHE are the cache, the others live
 * only while a handler holds them (refs). */
typedef struct s_result_t {
    struct s_result_t *next;
    uint64_t id;
    uint8_t *data;
    size_t len;
    unsigned refs;
} s_result_t;

/* A FETCH on its way (under the worker's lock): asked by one or more handlers (waiters),
 * sent by the main thread with rid (0: not sent yet on this connection), answered once. */
typedef struct s_fetch_t {
    struct s_fetch_t *next;
    uint64_t id, rid;
    unsigned waiters;
    bool answered;
    int rc;
    char err[384];
    s_result_t *result;
} s_fetch_t;

/* A place for one running job: at most `capacity` of them (invariant 1). */
struct s_slot_t {
    minga_task_t *task;
};

/* What a handler thread tells the main thread. */
typedef enum { S_NOTE_END, S_NOTE_PROGRESS, S_NOTE_FETCH } s_note_kind_t;

typedef struct s_note_t {
    struct s_note_t *next;
    s_note_kind_t kind;
    minga_task_t *task;
    uint64_t done, total;
    char text[];
} s_note_t;

struct minga_worker_t {
    minga_worker_options_t opts;
    const minga_handler_t *table;
    char endpoint[256];
    char identity[128];
    int pid_fd;
    s_state_t state;
    zsock_t *dealer;
    s_slot_t *slots;
    unsigned nslots;
    /* Shared with the handler threads, under lock: */
    pthread_t *threads;
    unsigned nthreads;
    pthread_mutex_t lock;
    pthread_cond_t wake;
    bool lock_ready, stop_threads;
    minga_task_t *queue_head, *queue_tail; /* jobs for the handler threads */
    s_note_t *notes_head, *notes_tail;     /* notes for the main thread */
    int notify_fd;                         /* eventfd: notes are waiting */
    zlist_t *pending;                      /* minga_task_t *, received with no free slot */
    zlist_t *outbox;                       /* s_kept_t *, answers waiting for a connection */
    minga_pbuf_t pb;                       /* the body being built */
    bool pb_ready;
    int64_t heartbeat_at, broker_expiry, reconnect_at, drain_deadline;
    unsigned reconnect_delay;
    atomic_bool draining;
    /* FETCH (minga_task_fetch), under lock: */
    pthread_cond_t fetched;   /* a FETCH was answered */
    s_fetch_t *fetches;       /* on their way */
    s_result_t *results;      /* fetched, most recently used first */
    uint64_t next_rid;        /* main thread */
    uint64_t broker_max_body; /* from WELCOME (0: not known); main thread */
    uint64_t max_result;      /* the broker's max_result from WELCOME (0: not known) */
    /* Batches (main thread): the broker's WELCOME batch_max (0: it sends JOB, takes one DONE
     * per message); READY with batch sent on this connection; the DONE items kept for the end
     * of the turn (ndone maps {id, result} in dbuf). */
    uint64_t broker_batch;
    bool batch_sent;
    minga_pbuf_t dbuf;
    unsigned ndone;
    atomic_uint_fast64_t bytes_in, bytes_out;
};

/* Set by SIGTERM/SIGINT or minga_worker_stop() from any thread: a lock-free atomic, safe in a
 * signal handler. */
static atomic_int s_stop_requested;

/* ---------------------------------------------------------------- the wire (PROTOCOL.md §5) */

/* An answer kept while OFFLINE (invariant 2). */
typedef struct {
    minga_cmd_t cmd;
    size_t len;
    uint8_t data[];
} s_kept_t;

/* Sends cmd with the body in self->pb now when connected, else keeps it for the next
 * connection (answers only: progress and heartbeats of a lost connection are dropped);
 * empties self->pb. */
/* Counts a message of cmd with a body of len bytes as sent (all its frames). */
static void s_count_sent(minga_worker_t *self, minga_cmd_t cmd, size_t len)
{
    atomic_fetch_add(&self->bytes_out, sizeof MINGA_PROTO_VERSION - 1 +
                                           strlen(minga_cmd_name(cmd)) + (len ? len : 1));
}

static void s_post(minga_worker_t *self, minga_cmd_t cmd)
{
    msgpack_sbuffer *sb = &self->pb.sbuf;
    if (self->dealer) {
        minga_proto_send(self->dealer, NULL, true, cmd, sb->data, sb->size);
        s_count_sent(self, cmd, sb->size);
    } else if (cmd != MINGA_CMD_PROGRESS && cmd != MINGA_CMD_HEARTBEAT) {
        s_kept_t *kept = malloc(sizeof *kept + sb->size);
        if (kept) {
            kept->cmd = cmd;
            kept->len = sb->size;
            memcpy(kept->data, sb->data, sb->size);
            zlist_append(self->outbox, kept);
        }
    }
    minga_pbuf_reset(&self->pb);
}

/* Sends what was kept while OFFLINE. */
static void s_flush_kept(minga_worker_t *self)
{
    s_kept_t *kept;
    while ((kept = zlist_pop(self->outbox))) {
        minga_proto_send(self->dealer, NULL, true, kept->cmd, kept->data, kept->len);
        s_count_sent(self, kept->cmd, kept->len);
        free(kept);
    }
}

static void s_send_simple(minga_worker_t *self, minga_cmd_t cmd, const char *reason)
{
    msgpack_packer *pk = &self->pb.pk;
    msgpack_pack_map(pk, reason ? 1 : 0);
    if (reason)
        minga_pk_kv_str(pk, "reason", reason);
    s_post(self, cmd);
}

/* READY {types, capacity, name}. */
static void s_send_ready_cap(minga_worker_t *self, unsigned capacity)
{
    msgpack_packer *pk = &self->pb.pk;
    size_t n = 0;
    while (self->table[n].fn)
        n++;
    /* batch only to a broker that said it sends JOBS (WELCOME batch_max) */
    uint64_t batch = self->broker_batch < self->nslots ? self->broker_batch : self->nslots;
    msgpack_pack_map(pk, 3 + (batch > 1));
    minga_pk_str(pk, "types");
    msgpack_pack_array(pk, n);
    for (size_t i = 0; i < n; i++)
        minga_pk_str(pk, self->table[i].type);
    minga_pk_kv_uint(pk, "capacity", capacity);
    minga_pk_kv_str(pk, "name", self->identity);
    if (batch > 1)
        minga_pk_kv_uint(pk, "batch", batch);
    s_post(self, MINGA_CMD_READY);
}

static void s_send_progress(minga_worker_t *self, uint64_t id, uint64_t done, uint64_t total,
                            const char *text)
{
    msgpack_packer *pk = &self->pb.pk;
    char cut[MINGA_PROTO_MAX_TEXT + 1];
    snprintf(cut, sizeof cut, "%s", text ? text : "");
    msgpack_pack_map(pk, 4);
    minga_pk_kv_uint(pk, "id", id);
    minga_pk_kv_uint(pk, "done", done > UINT32_MAX ? UINT32_MAX : done);
    minga_pk_kv_uint(pk, "total", total > UINT32_MAX ? UINT32_MAX : total);
    minga_pk_kv_str(pk, "text", cut);
    s_post(self, MINGA_CMD_PROGRESS);
}

/* DONE {id, result}: result is one msgpack value (nil when NULL). */
static void s_send_done(minga_worker_t *self, uint64_t id, const uint8_t *result, size_t len)
{
    msgpack_packer *pk = &self->pb.pk;
    msgpack_pack_map(pk, 2);
    minga_pk_kv_uint(pk, "id", id);
    minga_pk_kv_raw(pk, "result", len ? result : NULL, len);
    s_post(self, MINGA_CMD_DONE);
}

/* Sends the DONE items kept by s_keep_done() as one DONE {items}. */
static void s_flush_dones(minga_worker_t *self)
{
    if (self->ndone == 0)
        return;
    msgpack_packer *pk = &self->pb.pk;
    msgpack_pack_map(pk, 1);
    minga_pk_str(pk, "items");
    msgpack_pack_array(pk, self->ndone);
    pk->callback(pk->data, self->dbuf.sbuf.data, self->dbuf.sbuf.size);
    minga_pbuf_reset(&self->dbuf);
    self->ndone = 0;
    s_post(self, MINGA_CMD_DONE);
}

/* DONE of a small result to a broker that takes DONE {items}: kept, and sent with the others
 * of this turn in one message (s_flush_dones at the end of the turn). False when it is not
 * for a batch (the caller sends it alone). */
static bool s_keep_done(minga_worker_t *self, uint64_t id, const uint8_t *result, size_t len)
{
    size_t cap = self->broker_max_body / 2;
    if (!self->broker_batch || !self->dealer || len + 32 > cap / 4)
        return false;
    if (self->ndone &&
        (self->ndone >= MINGA_PROTO_MAX_ITEMS || self->dbuf.sbuf.size + len + 32 > cap))
        s_flush_dones(self);
    msgpack_packer *pk = &self->dbuf.pk;
    msgpack_pack_map(pk, 2);
    minga_pk_kv_uint(pk, "id", id);
    minga_pk_kv_raw(pk, "result", len ? result : NULL, len);
    self->ndone++;
    return true;
}

static void s_send_fail(minga_worker_t *self, uint64_t id, bool retryable, const char *code,
                        const char *message)
{
    msgpack_packer *pk = &self->pb.pk;
    msgpack_pack_map(pk, 4);
    minga_pk_kv_uint(pk, "id", id);
    minga_pk_kv_bool(pk, "retryable", retryable);
    minga_pk_kv_str(pk, "code", code);
    minga_pk_kv_str(pk, "message", message);
    s_post(self, MINGA_CMD_FAIL);
}

static void s_send_release(minga_worker_t *self, uint64_t id)
{
    msgpack_packer *pk = &self->pb.pk;
    msgpack_pack_map(pk, 1);
    minga_pk_kv_uint(pk, "id", id);
    s_post(self, MINGA_CMD_RELEASE);
}

/* ---------------------------------------------------------------- tasks */

static void s_task_destroy(minga_task_t **task_p)
{
    minga_task_t *task = *task_p;
    if (!task)
        return;
    free(task->type);
    free(task->body);
    free(task->result);
    free(task->parents);
    free(task->held);
    free(task);
    *task_p = NULL;
}

/* Posts a note for the main thread (any thread); wakes it when the list was empty. A note
 * that cannot be allocated is dropped, except END, which is retried: the main thread must
 * see every END (invariant 2). */
static void s_post_note(minga_worker_t *self, s_note_kind_t kind, minga_task_t *task, uint64_t done,
                        uint64_t total, const char *text)
{
    size_t len = text ? strlen(text) : 0;
    if (len > MINGA_PROTO_MAX_TEXT)
        len = MINGA_PROTO_MAX_TEXT;
    s_note_t *note;
    while (!(note = malloc(sizeof *note + len + 1))) {
        if (kind != S_NOTE_END)
            return;
        usleep(1000);
    }
    *note = (s_note_t){NULL, kind, task, done, total};
    memcpy(note->text, text ? text : "", len);
    note->text[len] = 0;
    pthread_mutex_lock(&self->lock);
    bool was_empty = !self->notes_head;
    if (self->notes_tail)
        self->notes_tail->next = note;
    else
        self->notes_head = note;
    self->notes_tail = note;
    pthread_mutex_unlock(&self->lock);
    if (was_empty) {
        uint64_t one = 1;
        while (write(self->notify_fd, &one, sizeof one) < 0 && errno == EINTR)
            ;
    }
}

uint64_t minga_task_id(const minga_task_t *task)
{
    return task->id;
}

const char *minga_task_type(const minga_task_t *task)
{
    return task->type;
}

unsigned minga_task_attempt(const minga_task_t *task)
{
    return task->attempt;
}

const uint8_t *minga_task_body(const minga_task_t *task, size_t *size)
{
    *size = task->body_size;
    return task->body;
}

void minga_task_progress(minga_task_t *task, uint64_t done, uint64_t total, const char *text)
{
    int64_t now = zclock_mono();
    if (done != total && now - task->progress_sent_ms < 100)
        return;
    task->progress_sent_ms = now;
    if (task->on_main)
        s_send_progress(task->worker, task->id, done, total, text);
    else
        s_post_note(task->worker, S_NOTE_PROGRESS, task, done, total, text);
}

int minga_task_set_result(minga_task_t *task, const uint8_t *data, size_t size)
{
    if (size && minga_mpguard_check(data, size, 32) != 0)
        return MINGA_EFORMAT;
    uint8_t *copy = malloc(size ? size : 1);
    if (!copy)
        return MINGA_ENOMEM;
    if (size)
        memcpy(copy, data, size);
    free(task->result);
    task->result = copy;
    task->result_size = size;
    return 0;
}

void minga_task_fail(minga_task_t *task, bool retryable, const char *code, const char *fmt, ...)
{
    va_list ap;
    task->failed = true;
    task->retryable = retryable;
    snprintf(task->code, sizeof task->code, "%s", code);
    va_start(ap, fmt);
    vsnprintf(task->message, sizeof task->message, fmt, ap);
    va_end(ap);
}

void minga_task_hand_back(minga_task_t *task)
{
    task->hand_back = true;
}

bool minga_task_draining(const minga_task_t *task)
{
    return atomic_load(&task->worker->draining);
}

size_t minga_task_parents(minga_task_t *task, uint64_t *ids, size_t cap)
{
    for (size_t i = 0; i < task->nparents && i < cap; i++)
        ids[i] = task->parents[i];
    return task->nparents;
}

/* ---------------------------------------------------------------- fetched results */

/* The result of job id among those fetched (under lock), moved to the front; NULL if none. */
static s_result_t *s_result_find(minga_worker_t *self, uint64_t id)
{
    s_result_t **pp = &self->results;
    for (; *pp; pp = &(*pp)->next)
        if ((*pp)->id == id) {
            s_result_t *r = *pp;
            *pp = r->next;
            r->next = self->results;
            self->results = r;
            return r;
        }
    return NULL;
}

/* Frees the results beyond the cache that no handler holds (under lock). */
static void s_results_trim(minga_worker_t *self)
{
    s_result_t **pp = &self->results;
    for (size_t n = 0; *pp; n++) {
        s_result_t *r = *pp;
        if (n >= MINGA_WORKER_FETCH_CACHE && r->refs == 0) {
            *pp = r->next;
            free(r->data);
            free(r);
        } else {
            pp = &r->next;
        }
    }
}

/* Gives back what the handler of task held (after it returned). */
static void s_task_release_held(minga_task_t *task)
{
    if (task->nheld == 0)
        return;
    minga_worker_t *self = task->worker;
    pthread_mutex_lock(&self->lock);
    for (size_t i = 0; i < task->nheld; i++)
        task->held[i]->refs--;
    s_results_trim(self);
    pthread_mutex_unlock(&self->lock);
    task->nheld = 0;
}

/* Records that task holds r (a reference already counted). Returns 0 or MINGA_ENOMEM (the
 * reference is then given back). */
static int s_task_hold(minga_task_t *task, s_result_t *r)
{
    if (task->nheld == task->heldcap) {
        size_t cap = task->heldcap ? task->heldcap * 2 : 8;
        s_result_t **v = realloc(task->held, cap * sizeof *v);
        if (!v) {
            pthread_mutex_lock(&task->worker->lock);
            r->refs--;
            s_results_trim(task->worker);
            pthread_mutex_unlock(&task->worker->lock);
            return MINGA_ENOMEM;
        }
        task->held = v;
        task->heldcap = cap;
    }
    task->held[task->nheld++] = r;
    return 0;
}

/* The FETCH on its way for job id (under lock), or NULL. */
static s_fetch_t *s_fetch_find(minga_worker_t *self, uint64_t id, uint64_t rid)
{
    for (s_fetch_t *f = self->fetches; f; f = f->next)
        if (!f->answered && (rid ? f->rid == rid : f->id == id))
            return f;
    return NULL;
}

/* Unlinks and frees f (under lock). */
static void s_fetch_remove(minga_worker_t *self, s_fetch_t *f)
{
    s_fetch_t **pp = &self->fetches;
    while (*pp && *pp != f)
        pp = &(*pp)->next;
    if (*pp)
        *pp = f->next;
    free(f);
}

static void s_post_note(minga_worker_t *self, s_note_kind_t kind, minga_task_t *task, uint64_t done,
                        uint64_t total, const char *text);

/* Waits (under lock) until f is answered or deadline (CLOCK_REALTIME) passes. */
static void s_fetch_wait(minga_worker_t *self, s_fetch_t *f, const struct timespec *deadline)
{
    while (!f->answered)
        if (pthread_cond_timedwait(&self->fetched, &self->lock, deadline) == ETIMEDOUT)
            break;
}

int minga_task_fetch(minga_task_t *task, uint64_t id, const uint8_t **data, size_t *len, char *err,
                     size_t errcap)
{
    minga_worker_t *self = task->worker;
    *data = NULL;
    *len = 0;
    if (task->on_main) {
        snprintf(err, errcap,
                 "job %" PRIu64 ": a quick job (run on the main thread) cannot fetch job %" PRIu64,
                 task->id, id);
        return MINGA_EINVAL;
    }
    bool parent = false;
    for (size_t i = 0; i < task->nparents && !parent; i++)
        parent = task->parents[i] == id;
    if (!parent) {
        snprintf(err, errcap, "job %" PRIu64 " is not a parent of job %" PRIu64, id, task->id);
        return MINGA_ENOTFOUND;
    }
    pthread_mutex_lock(&self->lock);
    s_result_t *r = s_result_find(self, id);
    s_fetch_t *f = NULL;
    bool ask = false;
    if (!r && !(f = s_fetch_find(self, id, 0)) && (f = calloc(1, sizeof *f))) {
        f->id = id;
        f->next = self->fetches;
        self->fetches = f;
        ask = true;
    }
    if (r)
        r->refs++;
    else if (f)
        f->waiters++;
    pthread_mutex_unlock(&self->lock);
    if (!r && !f) {
        snprintf(err, errcap, "job %" PRIu64 ": fetching job %" PRIu64 ": out of memory", task->id,
                 id);
        return MINGA_ENOMEM;
    }
    int rc = 0;
    if (f) {
        if (ask)
            s_post_note(self, S_NOTE_FETCH, task, id, 0, NULL);
        struct timespec deadline;
        clock_gettime(CLOCK_REALTIME, &deadline);
        uint64_t wait_ms = task->lease_ms > 1000 ? task->lease_ms : 1000;
        deadline.tv_sec += (time_t)(wait_ms / 1000);
        deadline.tv_nsec += (long)(wait_ms % 1000) * 1000000L;
        if (deadline.tv_nsec >= 1000000000L) {
            deadline.tv_sec++;
            deadline.tv_nsec -= 1000000000L;
        }
        pthread_mutex_lock(&self->lock);
        s_fetch_wait(self, f, &deadline);
        f->waiters--;
        if (!f->answered) {
            rc = MINGA_ETIMEOUT;
            snprintf(err, errcap,
                     "job %" PRIu64 ": broker %s did not answer the FETCH of job %" PRIu64
                     " within %" PRIu64 " ms",
                     task->id, self->endpoint, id, wait_ms);
        } else {
            rc = f->rc;
            r = f->result;
            if (rc != 0)
                snprintf(err, errcap, "job %" PRIu64 ": %s", task->id, f->err);
            if (f->waiters == 0)
                s_fetch_remove(self, f);
        }
        pthread_mutex_unlock(&self->lock);
    }
    if (rc == 0 && (rc = s_task_hold(task, r)) != 0)
        snprintf(err, errcap, "job %" PRIu64 ": fetching job %" PRIu64 ": out of memory", task->id,
                 id);
    if (rc == 0) {
        *data = r->data;
        *len = r->len;
    }
    return rc;
}

void minga_worker_bytes(minga_worker_t *self, uint64_t *in, uint64_t *out)
{
    *in = atomic_load(&self->bytes_in);
    *out = atomic_load(&self->bytes_out);
}

/* ---------------------------------------------------------------- handler threads */

/* Runs the handler of task and fills in its outcome. */
static void s_task_run(minga_task_t *task)
{
    int rc = task->handler->fn(task, task->handler->arg);
    s_task_release_held(task);
    task->rc = rc;
    if (rc == 0)
        task->failed = false;
    else if (!task->failed)
        minga_task_fail(task, true, "handler_error", "%s", minga_strerror(rc));
}

/* The handler thread: takes jobs from the queue, runs them, posts END. */
static void *s_handler_thread(void *arg)
{
    minga_worker_t *self = arg;
    pthread_mutex_lock(&self->lock);
    while (true) {
        while (!self->queue_head && !self->stop_threads)
            pthread_cond_wait(&self->wake, &self->lock);
        if (self->stop_threads)
            break;
        minga_task_t *task = self->queue_head;
        self->queue_head = task->next;
        if (!self->queue_head)
            self->queue_tail = NULL;
        pthread_mutex_unlock(&self->lock);
        s_task_run(task);
        s_post_note(self, S_NOTE_END, task, 0, 0, NULL);
        pthread_mutex_lock(&self->lock);
    }
    pthread_mutex_unlock(&self->lock);
    return NULL;
}

/* ---------------------------------------------------------------- options */

void minga_worker_options_init(minga_worker_options_t *opts)
{
    memset(opts, 0, sizeof *opts);
    opts->capacity = 1;
    opts->heartbeat_ms = 1000;
    opts->liveness = 3;
    opts->drain_ms = 30000;
    opts->max_body = 16u << 20;
    opts->curve = true;
}

/* The settings a configuration file may hold (section "worker"), each also a flag; with the
 * worker's side of "curve" (curve.h) and the shared "store" and "log" (config.h). */
typedef struct {
    uint64_t capacity, heartbeat_ms, drain_timeout_s;
    char *broker;
} s_settings_t;

static const minga_cfg_t s_settings_table[] = {
    {"worker/broker", "broker", MINGA_CFG_STR, offsetof(s_settings_t, broker), 0, 0,
     "punto de conexión del broker (anula --store)"},
    {"worker/capacity", "capacity", MINGA_CFG_UINT, offsetof(s_settings_t, capacity), 1,
     MINGA_PROTO_MAX_CAPACITY, "trabajos a la vez (1)"},
    {"worker/heartbeat_ms", "heartbeat", MINGA_CFG_UINT, offsetof(s_settings_t, heartbeat_ms), 10,
     600000, "ms entre latidos (1000; vale el del broker)"},
    {"worker/drain_timeout_s", "drain-timeout", MINGA_CFG_UINT,
     offsetof(s_settings_t, drain_timeout_s), 0, 86400, "s de espera al drenar tras SIGTERM (30)"},
};
#define S_NSETTINGS (sizeof s_settings_table / sizeof s_settings_table[0])

const minga_cfg_t *minga_worker_config_table(size_t *n)
{
    *n = S_NSETTINGS;
    return s_settings_table;
}

/* The settings of this process: their strings are borrowed by minga_worker_options_t. */
static s_settings_t s_settings;
static minga_curve_t s_curve;
static minga_common_config_t s_common;

/* The flag's setting in one of the three tables, with the struct it fills. */
static const minga_cfg_t *s_find_setting(const char *flag, void **dst)
{
    size_t n;
    const minga_cfg_t *t;
    const minga_cfg_t *s = minga_config_find_flag(s_settings_table, S_NSETTINGS, flag);
    *dst = &s_settings;
    if (!s) {
        t = minga_curve_config_table(MINGA_CURVE_WORKER, &n);
        s = minga_config_find_flag(t, n, flag);
        *dst = &s_curve;
    }
    if (!s && strcmp(flag, "store") != 0) {
        t = minga_common_config_table(&n);
        s = minga_config_find_flag(t, n, flag);
        *dst = &s_common;
    }
    return s;
}

/* Loads the configuration file into the three settings blocks. */
static int s_load_config(const char *file, char *err, size_t errcap)
{
    size_t n;
    const minga_cfg_t *t = minga_curve_config_table(MINGA_CURVE_WORKER, &n);
    int rc = minga_config_load(file, s_settings_table, S_NSETTINGS, &s_settings, err, errcap);
    if (rc == 0)
        rc = minga_config_load(file, t, n, &s_curve, err, errcap);
    t = minga_common_config_table(&n);
    if (rc == 0)
        rc = minga_config_load(file, t, n, &s_common, err, errcap);
    return rc;
}

static void s_print_help(const char *program)
{
    printf("Uso: %s [--store DIR | --broker EP] [opciones]\n\n"
           "Trabajador de Minga: se conecta al broker, recibe trabajos de los tipos que sabe\n"
           "hacer y devuelve sus resultados. Pueden correr varios a la vez, en esta máquina o\n"
           "en otra; SIGTERM lo drena (termina o devuelve sus trabajos) antes de salir.\n\n"
           "Opciones:\n"
           "  --store DIR           almacén; el broker está en ipc://DIR/run/workers\n"
           "                        (por omisión $MINGA_STORE o ./minga-data)\n"
           "  --name NOMBRE         nombre del proceso en los registros y en «minga workers»\n"
           "  --pid-file ARCHIVO    guarda el pid y lo bloquea (flock) mientras corre\n"
           "  --config ARCHIVO      archivo de configuración (formato ZPL: secciones worker,\n"
           "                        curve, store, log)\n"
           "  --no-curve            sin CurveZMQ aun en tcp:// (igual que --curve off)\n"
           "  --server-key ARCHIVO  igual que --broker-key\n"
           "  -h, --help            esta ayuda\n",
           program);
    size_t n;
    minga_config_print_flags(stdout, s_settings_table, S_NSETTINGS);
    const minga_cfg_t *curve = minga_curve_config_table(MINGA_CURVE_WORKER, &n);
    minga_config_print_flags(stdout, curve, n);
    const minga_cfg_t *common = minga_common_config_table(&n);
    minga_config_print_flags(stdout, common + 1, n - 1);
    printf("\nEstado de salida: 0 salida limpia, 1 fallo (o trabajos devueltos al vencer el\n"
           "plazo de drenaje), 2 error de uso.\n");
}

/* Copies the settings into opts. */
static void s_apply_settings(minga_worker_options_t *opts)
{
    opts->capacity = (unsigned)s_settings.capacity;
    opts->heartbeat_ms = (unsigned)s_settings.heartbeat_ms;
    opts->drain_ms = (unsigned)(s_settings.drain_timeout_s * 1000);
    if (s_settings.broker && *s_settings.broker)
        opts->endpoint = s_settings.broker;
    opts->curve = s_curve.enabled != 0;
    opts->broker_key = s_curve.broker_key && *s_curve.broker_key ? s_curve.broker_key : NULL;
    opts->cert = s_curve.cert && *s_curve.cert ? s_curve.cert : NULL;
}

/* The value of the option at argv[*i] ("--x V" or "--x=V") into *value; advances *i. Returns
 * 0, or -1 after a usage message when the value is missing. */
static int s_option_value(const char *program, int argc, char **argv, int *i, const char **value)
{
    const char *eq = strchr(argv[*i], '=');
    if (eq) {
        *value = eq + 1;
        return 0;
    }
    if (*i + 1 >= argc) {
        fprintf(stderr, "%s: usage error: %s needs a value\n", program, argv[*i]);
        return -1;
    }
    *value = argv[++*i];
    return 0;
}

/* The option's name without "--" and "=VALUE", into buf ("" when arg is no option). */
static const char *s_option_name(const char *arg, char *buf, size_t size)
{
    snprintf(buf, size, "%s", strncmp(arg, "--", 2) == 0 ? arg + 2 : "");
    char *eq = strchr(buf, '=');
    if (eq)
        *eq = 0;
    return buf;
}

int minga_worker_options_parse(minga_worker_options_t *opts, const char *program, int argc,
                               char **argv)
{
    char err[512], name[64];
    size_t ncommon;
    const minga_cfg_t *common = minga_common_config_table(&ncommon);
    minga_config_free(s_settings_table, S_NSETTINGS, &s_settings);
    minga_curve_free(&s_curve);
    minga_config_free(common, ncommon, &s_common);
    s_settings = (s_settings_t){opts->capacity, opts->heartbeat_ms, opts->drain_ms / 1000, NULL};
    minga_curve_init(&s_curve);
    s_curve.enabled = opts->curve;
    for (int i = 1; i < argc; i++) {
        const char *v;
        if (strcmp(argv[i], "--help") == 0 || strcmp(argv[i], "-h") == 0) {
            s_print_help(program);
            return 1;
        }
        if (strcmp(s_option_name(argv[i], name, sizeof name), "config") == 0) {
            if (s_option_value(program, argc, argv, &i, &v) != 0)
                return 2;
            opts->config = v;
            if (s_load_config(v, err, sizeof err) != 0) {
                fprintf(stderr, "%s: %s\n", program, err);
                return 2;
            }
        }
    }
    for (int i = 1; i < argc; i++) {
        const char *v = NULL;
        if (strncmp(argv[i], "--", 2) != 0) {
            fprintf(stderr, "%s: usage error: unexpected '%s' (see %s --help)\n", program, argv[i],
                    program);
            return 2;
        }
        int curve_flag = minga_curve_flag(&s_curve, argc, argv, &i);
        if (curve_flag < 0) {
            fprintf(stderr, "%s: usage error: %s needs a value\n", program, argv[i]);
            return 2;
        }
        if (curve_flag > 0)
            continue;
        s_option_name(argv[i], name, sizeof name);
        void *dst = NULL;
        const minga_cfg_t *setting = s_find_setting(name, &dst);
        bool known = setting || strcmp(name, "store") == 0 || strcmp(name, "name") == 0 ||
                     strcmp(name, "pid-file") == 0 || strcmp(name, "config") == 0;
        if (!known) {
            fprintf(stderr, "%s: usage error: unknown option '%s' (see %s --help)\n", program,
                    argv[i], program);
            return 2;
        }
        if (s_option_value(program, argc, argv, &i, &v) != 0)
            return 2;
        if (setting && minga_config_set(setting, dst, v, err, sizeof err) != 0) {
            fprintf(stderr, "%s: usage error: %s\n", program, err);
            return 2;
        }
        if (strcmp(name, "store") == 0)
            opts->store_dir = v;
        else if (strcmp(name, "name") == 0)
            opts->name = v;
        else if (strcmp(name, "pid-file") == 0)
            opts->pid_file = v;
    }
    s_apply_settings(opts);
    if (minga_common_config_apply(&s_common, err, sizeof err) != 0) {
        fprintf(stderr, "%s: usage error: %s\n", program, err);
        return 2;
    }
    return 0;
}

/* ---------------------------------------------------------------- life cycle */

static int s_resolve_endpoint(minga_worker_t *self)
{
    if (self->opts.endpoint) {
        if (strlen(self->opts.endpoint) >= sizeof self->endpoint) {
            minga_error("broker endpoint '%s' is too long", self->opts.endpoint);
            return MINGA_EINVAL;
        }
        snprintf(self->endpoint, sizeof self->endpoint, "%s", self->opts.endpoint);
        return 0;
    }
    const char *dir = self->opts.store_dir ? self->opts.store_dir : "./minga-data";
    if (!self->opts.store_dir && getenv("MINGA_STORE") && *getenv("MINGA_STORE"))
        dir = getenv("MINGA_STORE");
    char err[512];
    int rc = minga_proto_ipc_endpoint(dir, "workers", self->endpoint, sizeof self->endpoint, err,
                                      sizeof err);
    if (rc)
        minga_error("%s", err);
    return rc;
}

/* Puts the CURVE settings on dealer (NULL: a throwaway socket, to check the key files at
 * start). Returns 0 or MINGA_EINVAL after a message naming the setting or the file. */
static int s_curve_setup(minga_worker_t *self, zsock_t *dealer)
{
    minga_curve_t c = {.enabled = self->opts.curve,
                       .broker_key = (char *)self->opts.broker_key,
                       .cert = (char *)self->opts.cert};
    if (!minga_curve_on(&c, self->endpoint))
        return 0;
    zsock_t *probe = dealer ? NULL : zsock_new(ZMQ_DEALER);
    char err[1024];
    int rc = minga_curve_client_setup(dealer ? dealer : probe, self->endpoint, &c, err, sizeof err);
    if (rc)
        minga_error("%s", err);
    zsock_destroy(&probe);
    return rc;
}

static int s_start_threads(minga_worker_t *self)
{
    self->nslots = self->opts.capacity;
    self->slots = calloc(self->nslots, sizeof *self->slots);
    self->threads = calloc(self->nslots, sizeof *self->threads);
    if (!self->slots || !self->threads)
        return MINGA_ENOMEM;
    self->notify_fd = eventfd(0, EFD_NONBLOCK | EFD_CLOEXEC);
    if (self->notify_fd < 0)
        return -errno;
    if (pthread_mutex_init(&self->lock, NULL) != 0)
        return MINGA_ENOMEM;
    if (pthread_cond_init(&self->wake, NULL) != 0) {
        pthread_mutex_destroy(&self->lock);
        return MINGA_ENOMEM;
    }
    if (pthread_cond_init(&self->fetched, NULL) != 0) {
        pthread_cond_destroy(&self->wake);
        pthread_mutex_destroy(&self->lock);
        return MINGA_ENOMEM;
    }
    self->lock_ready = true;
    /* Handler threads never take SIGTERM/SIGINT: the main loop must see them. */
    sigset_t block, old;
    sigemptyset(&block);
    sigaddset(&block, SIGTERM);
    sigaddset(&block, SIGINT);
    pthread_sigmask(SIG_BLOCK, &block, &old);
    int rc = 0;
    for (unsigned i = 0; i < self->nslots && rc == 0; i++) {
        if (pthread_create(&self->threads[i], NULL, s_handler_thread, self) != 0)
            rc = MINGA_ENOMEM;
        else
            self->nthreads++;
    }
    pthread_sigmask(SIG_SETMASK, &old, NULL);
    return rc;
}

int minga_worker_new(minga_worker_t **self_p, const minga_handler_t *table,
                     const minga_worker_options_t *opts)
{
    int rc = MINGA_ENOMEM;
    minga_worker_t *self = calloc(1, sizeof *self);
    *self_p = NULL;
    if (!self)
        return MINGA_ENOMEM;
    self->opts = *opts;
    self->table = table;
    self->pid_fd = -1;
    /* a stop asked of an earlier worker of this process (its run is over) is not this one's */
    atomic_store(&s_stop_requested, 0);
    self->notify_fd = -1;
    self->state = S_OFFLINE;
    atomic_init(&self->draining, false);
    char *host = zsys_hostname();
    snprintf(self->identity, sizeof self->identity, "%s@%s:%ld",
             opts->name ? opts->name : "minga-worker", host ? host : "localhost", (long)getpid());
    zstr_free(&host);
    if ((rc = s_resolve_endpoint(self)) != 0 || (rc = s_curve_setup(self, NULL)) != 0)
        goto fail;
    if (opts->pid_file) {
        pid_t holder;
        rc = minga_pidfile_lock(opts->pid_file, &self->pid_fd, &holder);
        if (rc == MINGA_EBUSY)
            minga_error("pid file %s: already held by a running process (pid %ld)", opts->pid_file,
                        (long)holder);
        else if (rc)
            minga_error("pid file %s: %s", opts->pid_file, minga_strerror(rc));
        if (rc)
            goto fail;
    }
    rc = MINGA_ENOMEM;
    minga_pbuf_init(&self->pb);
    minga_pbuf_init(&self->dbuf);
    self->pb_ready = true;
    self->pending = zlist_new();
    self->outbox = zlist_new();
    if (!self->pending || !self->outbox)
        goto fail;
    if ((rc = s_start_threads(self)) != 0)
        goto fail;
    *self_p = self;
    return 0;
fail:
    minga_worker_destroy(&self);
    return rc;
}

/* Stops and joins the handler threads (waiting for running handlers), frees the queue and
 * the notes. */
static void s_stop_threads(minga_worker_t *self)
{
    if (self->lock_ready) {
        pthread_mutex_lock(&self->lock);
        self->stop_threads = true;
        pthread_cond_broadcast(&self->wake);
        pthread_mutex_unlock(&self->lock);
        for (unsigned i = 0; i < self->nthreads; i++)
            pthread_join(self->threads[i], NULL);
        self->nthreads = 0;
        pthread_cond_destroy(&self->wake);
        pthread_cond_destroy(&self->fetched);
        pthread_mutex_destroy(&self->lock);
        self->lock_ready = false;
    }
    while (self->fetches)
        s_fetch_remove(self, self->fetches);
    while (self->results) {
        s_result_t *next = self->results->next;
        free(self->results->data);
        free(self->results);
        self->results = next;
    }
    while (self->notes_head) {
        s_note_t *next = self->notes_head->next;
        free(self->notes_head);
        self->notes_head = next;
    }
    if (self->notify_fd >= 0)
        close(self->notify_fd);
    self->notify_fd = -1;
}

void minga_worker_destroy(minga_worker_t **self_p)
{
    minga_worker_t *self = *self_p;
    if (!self)
        return;
    s_stop_threads(self);
    for (unsigned i = 0; self->slots && i < self->nslots; i++)
        s_task_destroy(&self->slots[i].task);
    free(self->slots);
    free(self->threads);
    zsock_destroy(&self->dealer);
    if (self->pending) {
        minga_task_t *task;
        while ((task = zlist_pop(self->pending)))
            s_task_destroy(&task);
        zlist_destroy(&self->pending);
    }
    if (self->outbox) {
        void *kept;
        while ((kept = zlist_pop(self->outbox)))
            free(kept);
        zlist_destroy(&self->outbox);
    }
    if (self->pb_ready) {
        minga_pbuf_clear(&self->pb);
        minga_pbuf_clear(&self->dbuf);
    }
    if (self->pid_fd >= 0) {
        if (self->opts.pid_file)
            unlink(self->opts.pid_file);
        close(self->pid_fd);
    }
    free(self);
    *self_p = NULL;
}

const char *minga_worker_endpoint(minga_worker_t *self)
{
    return self->endpoint;
}

void minga_worker_stop(void)
{
    atomic_store(&s_stop_requested, 1);
}

static void s_on_signal(int sig)
{
    (void)sig;
    atomic_store(&s_stop_requested, 1);
}

/* ---------------------------------------------------------------- talking to the broker */

static unsigned s_busy(minga_worker_t *self)
{
    unsigned n = 0;
    for (unsigned i = 0; i < self->nslots; i++)
        n += self->slots[i].task != NULL && !self->slots[i].task->abandoned;
    return n;
}

/* READY with the whole capacity; while draining with 0, so that the broker sends no more
 * jobs and leaves this worker those it holds (invariant 5). */
static void s_send_ready(minga_worker_t *self)
{
    unsigned capacity = atomic_load(&self->draining) ? 0 : self->nslots;
    s_send_ready_cap(self, capacity);
}

static void s_send_fetches(minga_worker_t *self);
static void s_fetches_unsend(minga_worker_t *self);

static void s_connect(minga_worker_t *self, int64_t now)
{
    self->dealer = zsock_new(ZMQ_DEALER);
    if (!self->dealer) {
        self->reconnect_at = now + self->reconnect_delay;
        return;
    }
    zsock_set_linger(self->dealer, 1000);
    zsock_set_sndhwm(self->dealer, 0);
    zsock_set_rcvhwm(self->dealer, 0);
    /* With no high-water mark a send blocks only while the socket has no pipe at all: after a
     * refused CurveZMQ handshake (a key the broker does not allow). Never wait long for it. */
    zsock_set_sndtimeo(self->dealer, 100);
    if (s_curve_setup(self, self->dealer) != 0 ||
        zsock_connect(self->dealer, "%s", self->endpoint) != 0) {
        minga_error("broker endpoint %s: cannot connect: %s", self->endpoint,
                    zmq_strerror(zmq_errno()));
        zsock_destroy(&self->dealer);
        self->reconnect_at = now + self->reconnect_delay;
        return;
    }
    if (self->state == S_OFFLINE)
        self->state = atomic_load(&self->draining) ? S_DRAINING : S_ONLINE;
    self->broker_batch = 0; /* until this broker's WELCOME says it takes batches */
    self->batch_sent = false;
    s_send_ready(self);
    s_flush_kept(self);
    s_send_fetches(self);
    self->heartbeat_at = now + self->opts.heartbeat_ms;
    self->broker_expiry = now + (int64_t)self->opts.heartbeat_ms * self->opts.liveness;
    minga_debug("connected to broker %s", self->endpoint);
}

static void s_disconnect(minga_worker_t *self, int64_t now, const char *why)
{
    minga_warn("broker %s %s; reconnecting in %u ms", self->endpoint, why, self->reconnect_delay);
    s_flush_dones(self);
    zsock_set_linger(self->dealer, 0);
    zsock_destroy(&self->dealer);
    s_fetches_unsend(self);
    self->state = S_OFFLINE;
    self->reconnect_at = now + self->reconnect_delay;
    if (self->reconnect_delay < 32000)
        self->reconnect_delay *= 2;
}

static void s_answer(minga_worker_t *self, minga_task_t *task);

static struct {
    const char *type;
    minga_quick_fn *fn;
} s_quick[MINGA_WORKER_MAX_QUICK];

const char *minga_worker_option_peek(int argc, char **argv, const char *name)
{
    size_t n = strlen(name);
    for (int i = 1; i < argc; i++) {
        if (strcmp(argv[i], name) == 0 && i + 1 < argc)
            return argv[i + 1];
        if (strncmp(argv[i], name, n) == 0 && argv[i][n] == '=')
            return argv[i] + n + 1;
    }
    return NULL;
}

int minga_worker_set_quick(const char *type, minga_quick_fn *fn)
{
    for (size_t i = 0; i < MINGA_WORKER_MAX_QUICK; i++)
        if (!s_quick[i].type || strcmp(s_quick[i].type, type) == 0) {
            s_quick[i].type = type;
            s_quick[i].fn = fn;
            return 0;
        }
    return MINGA_EINVAL;
}

static minga_quick_fn *s_quick_of(const char *type)
{
    for (size_t i = 0; i < MINGA_WORKER_MAX_QUICK && s_quick[i].type; i++)
        if (strcmp(s_quick[i].type, type) == 0)
            return s_quick[i].fn;
    return NULL;
}

/* Gives a received task to a free slot; returns false when all are busy. A quick job
 * (minga_quick_fn) runs here, on the main thread, and is answered at once. */
static bool s_dispatch(minga_worker_t *self, minga_task_t *task)
{
    for (unsigned i = 0; i < self->nslots; i++) {
        s_slot_t *slot = &self->slots[i];
        if (slot->task)
            continue;
        task->progress_sent_ms = zclock_mono();
        const minga_handler_t *h = task->handler;
        minga_quick_fn *quick = s_quick_of(h->type);
        if (quick && quick(task->body, task->body_size, h->arg)) {
            task->on_main = true;
            s_task_run(task);
            s_answer(self, task);
            s_task_destroy(&task);
            return true;
        }
        slot->task = task;
        task->slot = slot;
        task->next = NULL;
        pthread_mutex_lock(&self->lock);
        if (self->queue_tail)
            self->queue_tail->next = task;
        else
            self->queue_head = task;
        self->queue_tail = task;
        pthread_cond_signal(&self->wake);
        pthread_mutex_unlock(&self->lock);
        return true;
    }
    return false;
}

/* One job map of a JOB or JOBS: check it, run it or queue it (invariant 1), or hand it back
 * when draining. */
static void s_take_job(minga_worker_t *self, const msgpack_object *obj)
{
    minga_job_t job;
    char err[256];
    minga_job_init(&job);
    if (minga_job_from_object(obj, &job, err, sizeof err) != 0) {
        minga_warn("broker %s: dropped a JOB: %s", self->endpoint, err);
        return;
    }
    const minga_handler_t *h = self->table;
    while (h->fn && strcmp(h->type, job.type) != 0)
        h++;
    minga_task_t *task = NULL;
    if (atomic_load(&self->draining))
        s_send_release(self, job.id);
    else if (!h->fn)
        s_send_fail(self, job.id, false, "unknown_job_type", "no handler for this job type");
    else if (!(task = calloc(1, sizeof *task)))
        s_send_release(self, job.id);
    if (task) {
        task->id = job.id;
        task->attempt = job.attempts;
        task->type = job.type;
        task->body = job.body;
        task->body_size = job.body_len;
        task->parents = job.parents;
        task->nparents = job.nparents;
        task->lease_ms = job.lease_ms;
        job.type = NULL;
        job.body = NULL;
        job.parents = NULL;
        task->handler = h;
        task->worker = self;
        if (!s_dispatch(self, task))
            zlist_append(self->pending, task);
    }
    minga_job_clear(&job);
}

/* JOB {job}. */
static void s_on_job(minga_worker_t *self, const msgpack_object *body)
{
    s_take_job(self, minga_pobj_get(body, "job"));
}

/* JOBS {jobs: [JOB...]}: each as a JOB. */
static void s_on_jobs(minga_worker_t *self, const msgpack_object *body)
{
    const msgpack_object *jobs = minga_pobj_get(body, "jobs");
    if (!jobs || jobs->type != MSGPACK_OBJECT_ARRAY) {
        minga_warn("broker %s: dropped a JOBS without its list of jobs", self->endpoint);
        return;
    }
    for (uint32_t i = 0; i < jobs->via.array.size; i++)
        s_take_job(self, &jobs->via.array.ptr[i]);
}

/* CANCEL {id}: the broker took the job back; its handler's outcome will be dropped. */
static void s_on_cancel(minga_worker_t *self, const msgpack_object *body)
{
    uint64_t id = minga_pobj_uint(minga_pobj_get(body, "id"), 0);
    for (unsigned i = 0; i < self->nslots; i++)
        if (self->slots[i].task && self->slots[i].task->id == id)
            self->slots[i].task->abandoned = true;
    minga_task_t *task = zlist_first(self->pending);
    while (task) {
        minga_task_t *next = zlist_next(self->pending);
        if (task->id == id) {
            zlist_remove(self->pending, task);
            s_task_destroy(&task);
        }
        task = next;
    }
}

static void s_on_welcome(minga_worker_t *self, const msgpack_object *body)
{
    uint64_t hb = minga_pobj_uint(minga_pobj_get(body, "heartbeat_ms"), 0);
    uint64_t live = minga_pobj_uint(minga_pobj_get(body, "liveness"), 0);
    uint64_t max = minga_pobj_uint(minga_pobj_get(body, "max_body"), 0);
    if (hb >= 10 && hb <= 600000)
        self->opts.heartbeat_ms = (unsigned)hb;
    if (live >= 1 && live <= 100)
        self->opts.liveness = (unsigned)live;
    uint64_t max_result = minga_pobj_uint(minga_pobj_get(body, "max_result"), 0);
    if (max >= 1024 && max <= (1u << 30))
        self->broker_max_body = max;
    self->max_result = max_result >= 1024 ? max_result : 0;
    /* A broker that takes batches: READY again, with batch (once per connection; the second
     * WELCOME that answers it changes nothing). Pointless with one slot. */
    uint64_t batch = minga_pobj_uint(minga_pobj_get(body, "batch_max"), 0);
    self->broker_batch = batch > MINGA_PROTO_MAX_ITEMS ? MINGA_PROTO_MAX_ITEMS : batch;
    if (self->broker_batch > 1 && self->nslots > 1 && !self->batch_sent) {
        self->batch_sent = true;
        s_send_ready(self);
    }
}

/* Sends the FETCHes not sent yet on this connection (main thread). */
static void s_send_fetches(minga_worker_t *self)
{
    if (!self->dealer)
        return;
    pthread_mutex_lock(&self->lock);
    for (s_fetch_t *f = self->fetches; f; f = f->next) {
        if (f->answered || f->rid)
            continue;
        f->rid = ++self->next_rid;
        msgpack_packer *pk = &self->pb.pk;
        msgpack_pack_map(pk, 2);
        minga_pk_kv_uint(pk, "rid", f->rid);
        minga_pk_kv_uint(pk, "id", f->id);
        s_post(self, MINGA_CMD_FETCH);
    }
    pthread_mutex_unlock(&self->lock);
}

/* The FETCHes sent on a connection now lost go again on the next one. */
static void s_fetches_unsend(minga_worker_t *self)
{
    pthread_mutex_lock(&self->lock);
    for (s_fetch_t *f = self->fetches; f; f = f->next)
        f->rid = 0;
    pthread_mutex_unlock(&self->lock);
}

/* Answers FETCH f (under lock) with rc and, on success, result r; wakes its waiters. */
static void s_fetch_answer(minga_worker_t *self, s_fetch_t *f, int rc, s_result_t *r)
{
    f->answered = true;
    f->rc = rc;
    f->result = r;
    if (r)
        r->refs += f->waiters;
    if (f->waiters == 0)
        s_fetch_remove(self, f);
    pthread_cond_broadcast(&self->fetched);
}

/* FETCHED {rid, id, result}: into the cache, to the handlers waiting for it. */
static void s_on_fetched(minga_worker_t *self, const msgpack_object *body)
{
    uint64_t rid = minga_pobj_uint(minga_pobj_get(body, "rid"), 0);
    uint64_t id = minga_pobj_uint(minga_pobj_get(body, "id"), 0);
    const msgpack_object *result = minga_pobj_get(body, "result");
    s_result_t *r = calloc(1, sizeof *r);
    int rc = r ? minga_pobj_pack(result, &r->data, &r->len) : MINGA_ENOMEM;
    pthread_mutex_lock(&self->lock);
    s_fetch_t *f = rid ? s_fetch_find(self, 0, rid) : NULL;
    if (f && f->id == id && rc == 0) {
        r->id = id;
        r->next = self->results;
        self->results = r;
        r->refs++; /* kept while the trim below runs */
        s_fetch_answer(self, f, 0, r);
        r->refs--;
        s_results_trim(self);
        r = NULL;
    } else if (f && f->id == id) {
        snprintf(f->err, sizeof f->err, "fetching job %" PRIu64 ": out of memory", id);
        s_fetch_answer(self, f, MINGA_ENOMEM, NULL);
    }
    pthread_mutex_unlock(&self->lock);
    if (r) {
        free(r->data);
        free(r);
    }
    if (!f)
        minga_debug("broker %s: dropped a FETCHED (rid %" PRIu64 ", job %" PRIu64
                    ") nobody waits for",
                    self->endpoint, rid, id);
}

/* An ERROR with the rid of a FETCH answers it: not_found, invalid_state and forbidden are
 * MINGA_ENOTFOUND. Returns false when rid is no FETCH's. */
static bool s_fetch_refused(minga_worker_t *self, uint64_t rid, const char *code,
                            const char *message)
{
    pthread_mutex_lock(&self->lock);
    s_fetch_t *f = rid ? s_fetch_find(self, 0, rid) : NULL;
    if (f) {
        bool gone = strcmp(code, "not_found") == 0 || strcmp(code, "invalid_state") == 0 ||
                    strcmp(code, "forbidden") == 0;
        snprintf(f->err, sizeof f->err, "broker %s refused the FETCH of job %" PRIu64 ": %s: %s",
                 self->endpoint, f->id, code, message);
        s_fetch_answer(self, f, gone ? MINGA_ENOTFOUND : MINGA_EPROTO, NULL);
    }
    pthread_mutex_unlock(&self->lock);
    return f != NULL;
}

/* The largest message taken from the broker: this worker's max_body, or more when the broker
 * says it takes more — its max_body, and its max_result, since a FETCHED carries a result the
 * broker accepted. */
static size_t s_recv_limit(const minga_worker_t *self)
{
    uint64_t limit = self->opts.max_body;
    if (self->broker_max_body > limit)
        limit = self->broker_max_body;
    if (self->max_result > limit)
        limit = self->max_result;
    return (size_t)limit;
}

/* A FETCHED too large for this worker (dropped before its rid could be read): every FETCH
 * sent fails, naming the limit. */
static void s_fetches_too_big(minga_worker_t *self, const char *why)
{
    pthread_mutex_lock(&self->lock);
    s_fetch_t *f = self->fetches;
    while (f) {
        s_fetch_t *next = f->next;
        if (!f->answered && f->rid) {
            snprintf(f->err, sizeof f->err,
                     "broker %s: the answer to the FETCH of job %" PRIu64
                     " was dropped: %s (this worker takes at most %zu bytes: its max_body, "
                     "or the broker's max_body or max_result when larger)",
                     self->endpoint, f->id, why, s_recv_limit(self));
            s_fetch_answer(self, f, MINGA_ETOOBIG, NULL);
        }
        f = next;
    }
    pthread_mutex_unlock(&self->lock);
}

/* ERROR: logged. When it is about a job still running here (its lease was lost: the broker
 * restarted, or declared this worker lost), that job is abandoned: nothing more is sent for
 * it, so one warning per job, not one per progress report. */
static void s_on_error(minga_worker_t *self, const msgpack_object *body)
{
    uint64_t id = minga_pobj_uint(minga_pobj_get(body, "id"), 0);
    uint64_t rid = minga_pobj_uint(minga_pobj_get(body, "rid"), 0);
    if (rid) {
        char *c = minga_pobj_strdup(minga_pobj_get(body, "code"));
        char *msg = minga_pobj_strdup(minga_pobj_get(body, "message"));
        bool mine = s_fetch_refused(self, rid, c ? c : "?", msg ? msg : "");
        free(c);
        free(msg);
        if (mine)
            return;
    }
    bool running = false;
    for (unsigned i = 0; id && i < self->nslots && !running; i++) {
        minga_task_t *task = self->slots[i].task;
        if (task && task->id == id && !task->abandoned) {
            task->abandoned = true;
            running = true;
        }
    }
    char *code = minga_pobj_strdup(minga_pobj_get(body, "code"));
    char *message = minga_pobj_strdup(minga_pobj_get(body, "message"));
    minga_warn("broker %s answered %s: %s (job %" PRIu64 ")%s", self->endpoint, code ? code : "?",
               message ? message : "", id, running ? "; this worker drops the job" : "");
    free(code);
    free(message);
}

static void s_on_disconnect(minga_worker_t *self, const msgpack_object *body)
{
    (void)body;
    if (self->state == S_STOPPED)
        return;
    int64_t now = zclock_mono();
    s_disconnect(self, now, "asked this worker to register again");
    self->reconnect_at = now;
}

static void s_on_nothing(minga_worker_t *self, const msgpack_object *body)
{
    (void)self;
    (void)body;
}

typedef void(s_on_fn)(minga_worker_t *self, const msgpack_object *body);

/* What the broker may send a worker, and who handles it. */
static const struct {
    minga_cmd_t cmd;
    s_on_fn *fn;
} s_dispatch_table[] = {
    {MINGA_CMD_WELCOME, s_on_welcome},       {MINGA_CMD_JOB, s_on_job},
    {MINGA_CMD_CANCEL, s_on_cancel},         {MINGA_CMD_HEARTBEAT, s_on_nothing},
    {MINGA_CMD_DISCONNECT, s_on_disconnect}, {MINGA_CMD_ERROR, s_on_error},
    {MINGA_CMD_FETCHED, s_on_fetched},       {MINGA_CMD_JOBS, s_on_jobs},
};

/* A message on the DEALER (any message proves the broker alive: invariant 4). */
static void s_on_broker(minga_worker_t *self, int64_t now)
{
    zmsg_t *zm = zmsg_recv(self->dealer);
    if (!zm)
        return;
    self->broker_expiry = now + (int64_t)self->opts.heartbeat_ms * self->opts.liveness;
    self->reconnect_delay = 1000;
    minga_pmsg_t m;
    minga_perr_t perr;
    char err[256];
    minga_pmsg_init(&m);
    atomic_fetch_add(&self->bytes_in, zmsg_content_size(zm));
    size_t limit = s_recv_limit(self);
    if (minga_pmsg_decode(&m, &zm, false, limit + 65536, &perr, err, sizeof err) != 0) {
        minga_warn("broker %s: dropped a %s message: %s: %s", self->endpoint, m.cmd_text,
                   minga_perr_name(perr), err);
        if (perr == MINGA_PERR_TOO_BIG && strcmp(m.cmd_text, "FETCHED") == 0)
            s_fetches_too_big(self, err);
        minga_pmsg_clear(&m);
        return;
    }
    size_t i = 0, n = sizeof s_dispatch_table / sizeof s_dispatch_table[0];
    while (i < n && s_dispatch_table[i].cmd != m.cmd)
        i++;
    if (i < n)
        s_dispatch_table[i].fn(self, m.root);
    else
        minga_warn("broker %s: dropped a %s message, not one for a worker", self->endpoint,
                   m.cmd_text);
    minga_pmsg_clear(&m);
}

/* The drain is over (no handler left, or the time-out): release what still runs (the attempt
 * is not counted), say DISCONNECT, leave. Returns 0 or MINGA_ETIMEOUT when jobs were handed
 * back. */
static int s_finish_drain(minga_worker_t *self)
{
    int rc = 0;
    for (unsigned i = 0; i < self->nslots; i++) {
        minga_task_t *task = self->slots[i].task;
        if (task && !task->abandoned) {
            task->abandoned = true;
            s_send_release(self, task->id);
            rc = MINGA_ETIMEOUT;
        }
    }
    s_flush_dones(self);
    s_send_simple(self, MINGA_CMD_DISCONNECT, "draining");
    self->state = S_STOPPED;
    return rc;
}

static bool s_result_too_big(minga_worker_t *self, minga_task_t *task);

/* Answers the broker for a finished task: RELEASE, FAIL or DONE (invariant 2). */
static void s_answer(minga_worker_t *self, minga_task_t *task)
{
    if (task->abandoned)
        return;
    if (task->hand_back)
        s_send_release(self, task->id);
    else if (task->failed)
        s_send_fail(self, task->id, task->retryable, task->code, task->message);
    else if (s_result_too_big(self, task))
        s_send_fail(self, task->id, false, "result_too_big", task->message);
    else if (!s_keep_done(self, task->id, task->result, task->result_size))
        s_send_done(self, task->id, task->result, task->result_size);
}

/* True when task's DONE would be larger than the broker accepts (its max_result, or its
 * max_body when it announced no max_result); task->message then says so. */
static bool s_result_too_big(minga_worker_t *self, minga_task_t *task)
{
    uint64_t limit = self->max_result ? self->max_result : self->broker_max_body;
    size_t size = task->result_size + 64; /* the DONE's frames and its other fields */
    if (!limit || size <= limit)
        return false;
    snprintf(task->message, sizeof task->message,
             "the result of %zu bytes is larger than the broker accepts in a DONE (%" PRIu64
             " bytes: broker/max_result)",
             task->result_size, limit);
    return true;
}

static void s_on_end(minga_worker_t *self, s_slot_t *slot, minga_task_t *task)
{
    slot->task = NULL;
    s_answer(self, task);
    s_task_destroy(&task);
    minga_task_t *next = zlist_pop(self->pending);
    if (next && !s_dispatch(self, next))
        zlist_push(self->pending, next);
}

/* The notes the handler threads posted since the last time, in order. */
static void s_on_notes(minga_worker_t *self)
{
    uint64_t count;
    while (read(self->notify_fd, &count, sizeof count) < 0 && errno == EINTR)
        ;
    pthread_mutex_lock(&self->lock);
    s_note_t *note = self->notes_head;
    self->notes_head = self->notes_tail = NULL;
    pthread_mutex_unlock(&self->lock);
    while (note) {
        s_note_t *next = note->next;
        if (note->kind == S_NOTE_END)
            s_on_end(self, note->task->slot, note->task);
        else if (note->kind == S_NOTE_FETCH)
            s_send_fetches(self);
        else if (!note->task->abandoned)
            s_send_progress(self, note->task->id, note->done, note->total, note->text);
        free(note);
        note = next;
    }
}

static void s_start_drain(minga_worker_t *self, int64_t now)
{
    unsigned held = s_busy(self);
    minga_info("draining: %u job(s) running, %zu waiting; leaving within %u s", held,
               zlist_size(self->pending), self->opts.drain_ms / 1000);
    atomic_store(&self->draining, true);
    self->drain_deadline = now + self->opts.drain_ms;
    minga_task_t *task;
    while ((task = zlist_pop(self->pending))) {
        s_send_release(self, task->id);
        s_task_destroy(&task);
    }
    if (self->state == S_ONLINE) {
        self->state = S_DRAINING;
        if (held)
            s_send_ready(self);
    }
}

/* ---------------------------------------------------------------- main loop */

static int64_t s_min(int64_t a, int64_t b)
{
    return a < b ? a : b;
}

/* Timers: reconnect, heartbeat, broker liveness. */
static void s_timers(minga_worker_t *self, int64_t now)
{
    if (self->state == S_OFFLINE) {
        if (now >= self->reconnect_at)
            s_connect(self, now);
        return;
    }
    if (now >= self->broker_expiry) {
        s_disconnect(self, now, "has been silent for too long");
    } else if (now >= self->heartbeat_at) {
        s_send_simple(self, MINGA_CMD_HEARTBEAT, NULL);
        self->heartbeat_at = now + self->opts.heartbeat_ms;
    }
}

/* One turn: poll the DEALER and the results until the next timer, then handle what is due. */
static void s_turn(minga_worker_t *self)
{
    zmq_pollitem_t items[2];
    int n = 0;
    int64_t now = zclock_mono();
    int64_t wake = now + 1000;
    items[n++] = (zmq_pollitem_t){NULL, self->notify_fd, ZMQ_POLLIN, 0};
    if (self->dealer)
        items[n++] = (zmq_pollitem_t){zsock_resolve(self->dealer), 0, ZMQ_POLLIN, 0};
    if (self->state == S_OFFLINE)
        wake = s_min(wake, self->reconnect_at);
    else
        wake = s_min(s_min(wake, self->heartbeat_at), self->broker_expiry);
    if (atomic_load(&self->draining))
        wake = s_min(wake, self->drain_deadline);
    long timeout = wake > now ? (long)(wake - now) : 0;
    int rc = zmq_poll(items, n, timeout);
    now = zclock_mono();
    if (rc > 0) {
        /* Drain what is there, results first (they free slots and answer the broker). */
        if (items[0].revents & ZMQ_POLLIN)
            s_on_notes(self);
        for (int k = 0; k < 64 && self->dealer && (zsock_events(self->dealer) & ZMQ_POLLIN); k++)
            s_on_broker(self, now);
    }
    s_flush_dones(self); /* the DONEs of this turn, in one message */
    if (self->state != S_STOPPED)
        s_timers(self, now);
}

/* Is the drain over? (invariant 2: every job answered or released before DISCONNECT) */
static bool s_drain_over(minga_worker_t *self, int64_t now)
{
    return atomic_load(&self->draining) && self->state != S_STOPPED &&
           (s_busy(self) == 0 || now >= self->drain_deadline);
}

int minga_worker_run(minga_worker_t *self)
{
    struct sigaction sa;
    memset(&sa, 0, sizeof sa);
    sa.sa_handler = s_on_signal;
    sigemptyset(&sa.sa_mask);
    sigaction(SIGTERM, &sa, NULL);
    sigaction(SIGINT, &sa, NULL);
    self->reconnect_delay = 1000;
    self->reconnect_at = zclock_mono();
    minga_info("serving %s%s on %s, capacity %u", self->table[0].type,
               self->table[0].fn && self->table[1].fn ? "..." : "", self->endpoint, self->nslots);
    int rc = 0;
    while (self->state != S_STOPPED) {
        if (atomic_load(&s_stop_requested) && !atomic_load(&self->draining))
            s_start_drain(self, zclock_mono());
        if (s_drain_over(self, zclock_mono())) {
            rc = s_finish_drain(self);
            break;
        }
        s_turn(self);
    }
    minga_info("left the broker %s%s", self->endpoint,
               rc ? " (jobs handed back at the drain time-out)" : "");
    return rc;
}

/* ---------------------------------------------------------------- the program */

int minga_worker_main(const char *program, const minga_handler_t *table, int argc, char **argv)
{
    minga_worker_options_t opts;
    minga_worker_options_init(&opts);
    minga_log_set_program(program);
    int prc = minga_worker_options_parse(&opts, program, argc, argv);
    if (prc == 1)
        return 0;
    if (prc)
        return 2;
    if (!opts.name)
        opts.name = program;
    zsys_handler_set(NULL);
    zsys_set_linger(1000);
    minga_worker_t *worker = NULL;
    if (minga_worker_new(&worker, table, &opts) != 0)
        return 1;
    int rc = minga_worker_run(worker);
    bool stuck = false;
    for (unsigned i = 0; i < worker->nslots; i++)
        stuck |= worker->slots[i].task != NULL;
    if (stuck) {
        /* A handler still runs (past the drain time-out, or on a job the broker cancelled):
         * its thread cannot be joined. Let the DISCONNECT leave, then go. */
        zsock_destroy(&worker->dealer);
        zclock_sleep(100);
        if (opts.pid_file)
            unlink(opts.pid_file);
        _exit(rc == 0 ? 0 : 1);
    }
    minga_worker_destroy(&worker);
    return rc == 0 ? 0 : 1;
}
