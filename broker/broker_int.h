/*
 * broker_int.h: what the broker's two sources share: the broker_t structure and its parts
 * (job types, workers, deferred requests, pending enqueues), and the core functions that the
 * command handlers call. broker.c holds the job state machine, group commit, dispatch, timers
 * and recovery; commands.c decodes and answers each client and worker command.
 */
#ifndef MINGA_BROKER_INT_H
#define MINGA_BROKER_INT_H

#include "broker.h"
#include "index.h"
#include "jobdb.h"
#include "metrics.h"

#include "minga/error.h"
#include "minga/proto.h"

#include <czmq.h>
#include <pthread.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdlib.h>

#define BK_MAX_TYPES 255

typedef struct {
    char name[MINGA_PROTO_MAX_TYPE + 1];
    bool known; /* in the configuration; jobs of other types come only from recovery */
    bx_heap_t ready, delayed;
    uint64_t count[MINGA_JOB_STATE_COUNT];
} bk_type_t;

typedef struct {
    uint32_t slot;
    char hex[520];
    zframe_t *routing;
    bool delimiter;
    char *name;
    uint8_t types[32]; /* bit set of type indexes */
    uint32_t capacity, held;
    uint32_t reserved; /* leased at enqueue, sent after the commit (bk_lease_new) */
    uint64_t last_seen, last_sent, joined_at, lru;
    /* READY's batch: most jobs per JOBS message (0, 1: one JOB message per job). The job maps
     * of committed leases wait in jobs (njobs of them, jobs_len bytes) until bk_flush_jobs. */
    uint32_t batch, njobs;
    uint8_t *jobs;
    size_t jobs_len, jobs_cap;
} bk_worker_t;

/* A client request answered after the commit. */
typedef struct {
    zframe_t *routing;
    bool delimiter, has_rid;
    uint64_t rid;
    minga_cmd_t cmd;
    uint64_t id;
    /* LIST */
    int state;
    char type[MINGA_PROTO_MAX_TYPE + 1];
    uint64_t after;
    uint32_t limit;
    /* WAIT */
    uint64_t deadline;
    bool progress;
} bk_req_t;

/* An ENQUEUE or BATCH: its new jobs, stored in the next commit. */
typedef struct {
    bk_req_t req;
    size_t n;
    minga_job_t *jobs; /* jobs[i].id, .state: the new job, or the existing one (!created) */
    bool *created;
    uint32_t *lease_slot; /* the worker a new job was leased to at enqueue, or BK_NO_SLOT */
} bk_enq_t;

#define BK_NO_SLOT UINT32_MAX

typedef struct {
    uint64_t id;
    minga_job_state_t state;
} bk_pending_key_t;

/* One group commit handed to the committer thread: the changes, new jobs and deferred requests
 * taken from the broker when it began (the loop goes on collecting the next group meanwhile). */
typedef struct {
    bk_patch_t *patches;
    size_t npatches;
    bk_enq_t **enqs;
    size_t nenqs;
    bk_req_t **deferred;
    size_t ndeferred;
    size_t nended;    /* the ended list's length when it began: those ends are in this group */
    uint64_t next_id; /* written when put_next_id */
    bool put_next_id;
    uint64_t t0; /* bk_metrics_clock() when it began */
    int rc;      /* the committer's result */
} bk_group_t;

enum { BK_GROUP_IDLE, BK_GROUP_BUSY, BK_GROUP_DONE };

typedef struct {
    uint64_t enqueued, leased, done, failed, dead, cancelled, purged, released, expired;
} bk_totals_t;

/* A growable array of T. */
#define BK_VEC(T)                                                                                  \
    struct {                                                                                       \
        T *v;                                                                                      \
        size_t n, cap;                                                                             \
    }

/* Reallocates a vector's array to twice its capacity; NULL (and *cap unchanged) on ENOMEM. */
static inline void *bk_vec_grow(void *v, size_t *cap, size_t size)
{
    size_t ncap = *cap ? *cap * 2 : 64;
    void *nv = realloc(v, ncap * size);
    if (nv)
        *cap = ncap;
    return nv;
}

static void *bk_vec_tmp __attribute__((unused));

/* Appends item to vec: 0, or MINGA_ENOMEM (vec unchanged). */
#define BK_PUSH(vec, item)                                                                         \
    (((vec).n < (vec).cap || ((bk_vec_tmp = bk_vec_grow((vec).v, &(vec).cap, sizeof *(vec).v)) &&  \
                              ((vec).v = bk_vec_tmp, 1)))                                          \
         ? ((vec).v[(vec).n++] = (item), 0)                                                        \
         : MINGA_ENOMEM)

struct broker_t {
    broker_config_t cfg;
    minga_store_t *store;
    bk_db_t db;
    zsock_t *clients, *workers, *events;
    bx_jobs_t jobs;
    bx_heap_t leases;
    bk_type_t *types;
    size_t ntypes;
    BK_VEC(bk_worker_t *) wslots;
    zhashx_t *workers_by_id; /* hex -> bk_worker_t */
    zlistx_t *subs;          /* char *: the topics subscribed on events (an XPUB), each once */
    uint64_t lru_seq;
    zhashx_t *children; /* "parent id" -> BK_VEC of child ids (bk_ids_t) */
    BK_VEC(bk_req_t *) waiters;
    BK_VEC(bk_patch_t) patches;
    BK_VEC(bk_enq_t *) enqs;
    BK_VEC(bk_req_t *) deferred;
    BK_VEC(uint32_t) ended;
    zhashx_t *pending_keys; /* key -> bk_pending_key_t (new jobs not yet committed) */
    uint64_t next_id;
    uint64_t next_id_stored; /* the next_id of the last commit (0: not written yet) */
    uint64_t now, started_at, last_purge, commit_retry_at, last_usage;
    bool nearly_full;   /* new jobs refused: the rest of the map is kept for state changes */
    uint64_t reserve;   /* bytes of the map kept for the changes of accepted jobs */
    uint64_t enq_bytes; /* bytes of new jobs since the last look at the map's use */
    bk_totals_t totals;
    unsigned bad_messages;
    bk_worker_t *current; /* the sender of the worker message being handled */
    minga_pbuf_t out;
    minga_pbuf_t jobout;   /* a JOB or JOBS message being built (bk_queue_job, bk_flush_jobs) */
    bk_metrics_t *metrics; /* metrics.h: counted by the loop, served by its own thread */
    /* Bytes of all frames received from / sent to the workers socket, and FETCH answers. */
    uint64_t wbytes_in, wbytes_out;
    uint64_t fetched, fetch_refused, fetched_bytes;
    /* The committer thread: it writes one group (gstate BUSY) while the loop collects the next;
     * the loop learns it is DONE from commit_fd (an eventfd in its poll). gstate, group and
     * committer_quit are under cmu; while gstate is BUSY only the committer uses the store. */
    pthread_t committer;
    bool committer_on, committer_quit;
    pthread_mutex_t cmu;
    pthread_cond_t ccond;
    int gstate;
    bk_group_t group;
    int commit_fd;
    minga_store_info_t store_info; /* the last minga_store_info(), for STATS while BUSY */
};

typedef BK_VEC(uint64_t) bk_ids_t;

static inline bool bk_bit(const uint8_t *set, unsigned i)
{
    return set[i / 8] & (1u << (i % 8));
}

static inline bool bk_active(minga_job_state_t st)
{
    return !minga_job_state_is_end(st);
}

/* ---- core functions (broker.c) ---- */

/* Requests and enqueues: bk_req_new copies the sender (routing id, delimiter, rid) of m; the
 * destroy functions free and NULL, and accept NULL. */
bk_req_t *bk_req_new(const minga_pmsg_t *m);
void bk_req_destroy(bk_req_t **req_p);
void bk_enq_destroy(bk_enq_t **enq_p);
/* Forgets the idempotency keys of enq's new jobs (refused, or committed). */
void bk_forget_keys(broker_t *self, bk_enq_t *enq);
/* Leases new job i of enq at once, in the commit that stores it, when a worker with credit
 * serves its type and nothing else is ready for that worker (the job would be its next one
 * anyway): one write and one commit fewer per job on an idle or keeping-up broker. */
void bk_lease_new(broker_t *self, bk_enq_t *enq, size_t i);
/* Gives back the credit bk_lease_new() reserved for the jobs of an enqueue that is dropped. */
void bk_enq_unreserve(broker_t *self, bk_enq_t *enq);

/* Job types: the index of the type named by len bytes at name, or -1; bk_type_add adds it
 * (known: from the configuration) and returns its index, or -1 when the table is full. */
int bk_type_find(broker_t *self, const char *name, size_t len);
int bk_type_add(broker_t *self, const char *name, size_t len, bool known);

/* The state of job id: from the index, else from the store. 0, or MINGA_ENOTFOUND. */
int bk_state_of(broker_t *self, uint64_t id, minga_job_state_t *st);
/* Reads job id (with its body) from the store into job. 0, MINGA_ENOTFOUND or a code. */
int bk_read_job(broker_t *self, uint64_t id, minga_job_t *job);

/* Index bookkeeping: per-type counts (bk_count adds delta for j's state), the state of j
 * (moving its count), and a queued/failed job into its ready or delayed heap. */
void bk_count(broker_t *self, const bx_job_t *j, int delta);
void bk_set_state(broker_t *self, bx_job_t *j, minga_job_state_t st);
void bk_to_heap(broker_t *self, uint32_t idx);

/* Appends the change that stores j with state st (bk_patch: j's own state) to the next
 * commit, and returns it for the caller's extra fields; NULL when out of memory (logged: the
 * change then lives in memory only). The pointer is valid until the next bk_patch*. */
bk_patch_t *bk_patch_as(broker_t *self, const bx_job_t *j, minga_job_state_t st, unsigned flags);
bk_patch_t *bk_patch(broker_t *self, const bx_job_t *j, unsigned flags);

/* Registers waiting job idx under its active parents. Returns the state it must take now:
 * waiting, queued (all parents done), or dead / cancelled with *culprit the parent. */
minga_job_state_t bk_wait_on(broker_t *self, uint32_t idx, const uint64_t *parents, size_t n,
                             uint64_t *culprit);

/* Transitions (the table at the top of broker.c). bk_end moves job idx to end state st once
 * the caller has appended its patch, and passes the end on to its waiting children. The
 * others act on a leased job: done with result (may be NULL); failed (retried, with back-off
 * if backoff, while attempts are left and retryable, else dead); handed back (attempt not
 * counted); bk_unlease only takes it from its worker and the lease heap. */
void bk_end(broker_t *self, uint32_t idx, minga_job_state_t st);
void bk_job_done(broker_t *self, uint32_t idx, const msgpack_object *result);
void bk_job_fail(broker_t *self, uint32_t idx, bool retryable, const char *code,
                 const char *message, bool backoff);
void bk_job_release(broker_t *self, uint32_t idx);
void bk_unlease(broker_t *self, uint32_t idx);

/* The bytes a message of cmd with a body of len bytes takes on the wire to w (all frames). */
size_t bk_wire_size(const bk_worker_t *w, minga_cmd_t cmd, size_t len);

/* Workers: send cmd with body to w; tell the holder (slot) of job id it was cancelled; the
 * leased jobs of a slot (*out the caller's, free()); a worker leaving (its jobs handed back);
 * a worker event on the events socket. */
void bk_worker_send(broker_t *self, bk_worker_t *w, minga_cmd_t cmd, const void *body, size_t len);
/* A committed lease's job map (with its body) for w: sent at once as JOB, or, for a worker
 * that takes JOBS (READY batch > 1), kept until bk_flush_jobs() sends them together. */
void bk_queue_job(broker_t *self, bk_worker_t *w, const void *map, size_t len);
/* Sends the jobs kept by bk_queue_job(), one JOBS message per worker (or per batch jobs). */
void bk_flush_jobs(broker_t *self);
void bk_send_cancel(broker_t *self, uint32_t slot, uint64_t id, const char *reason);
size_t bk_worker_jobs(broker_t *self, uint32_t slot, uint32_t **out);
void bk_worker_leave(broker_t *self, bk_worker_t *w);
void bk_publish_worker(broker_t *self, const bk_worker_t *w, const char *what);

/* Replies to a client: bk_reply_begin starts a map of n fields plus the request's rid in the
 * broker's output buffer (returned packer); bk_reply_send sends it as cmd. */
msgpack_packer *bk_reply_begin(broker_t *self, const bk_req_t *req, size_t n);
void bk_reply_send(broker_t *self, const bk_req_t *req, minga_cmd_t cmd);

/* Logs a bad message, the first ones in full and then one in a thousand. */
void bk_log_bad(broker_t *self, const char *where, const minga_pmsg_t *m, const char *err);

/* Keeps a reserve of the map for the changes of accepted jobs (a lease, a result, a purge all
 * need free pages): new jobs are refused once less than the reserve is left. Looks at the map
 * at most once a second unless now. */
void bk_check_space(broker_t *self, bool now);

/* Waits until the committer thread is not writing, so that the loop may read or write the
 * store (LMDB: one transaction per thread; map growth needs no other transaction open). Call
 * it before every store access of the loop's thread. */
void bk_store_quiet(broker_t *self);
/* When the committer has written its group: sends what depends on it and hands it the next
 * (s_group_finish). Called between messages, so that a long drain does not keep it idle. */
void bk_commit_poll(broker_t *self);
/* The store's figures (minga_store_info) for STATS and the metrics: read now when the
 * committer is idle, else the last ones read (a write is not waited for a figure). */
void bk_store_info(broker_t *self, minga_store_info_t *info);

/* ---- commands (commands.c) ---- */

/* Receives what is waiting on the client and worker sockets, at most batch_max messages, and
 * handles each (the changes they make are committed by the caller). */
void bk_drain(broker_t *self);

#endif
