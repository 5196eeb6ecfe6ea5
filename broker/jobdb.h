/*
 * jobdb.h: the broker's records in the store, and the changes the broker makes to them.
 *
 *   job          id u64 BE            -> the job without its body: the compact record of
 *                                         minga_job_record_pack (proto.h; an array, version
 *                                         2); a job map "v" 1 of an older broker is read too
 *                id u64 BE + 'b'      -> the job's body (msgpack), written once at enqueue
 *   queue        id u64 BE            -> [v, state, priority, attempts, max_attempts,
 *                                         not_before, lease_ms, type]: every job not in an
 *                                         end state, what recovery reads (compact, no body)
 *   job_end      finished_at + id     -> empty: ended jobs by age, what the purge walks
 *   idempotency  key bytes            -> id u64 BE
 *   broker       "next_id"            -> u64 BE: the next job id (ids are never reused)
 *
 * All functions that take an MDB_txn run inside minga_store_write() or a read transaction;
 * they return 0 or a negative code (LMDB codes passed through).
 */
#ifndef MINGA_BROKER_JOBDB_H
#define MINGA_BROKER_JOBDB_H

#include "minga/proto.h"
#include "minga/store.h"

#include <lmdb.h>

/* What a patch changes besides state, attempts and updated_at. */
enum {
    BP_NOT_BEFORE = 1 << 0, /* set not_before */
    BP_PROGRESS = 1 << 1,   /* set progress */
    BP_RESULT = 1 << 2,     /* set result */
    BP_ERROR = 1 << 3,      /* set error */
    BP_RESET = 1 << 4,      /* clear error, progress and result (RETRY) */
    BP_WORKER = 1 << 5,     /* set worker (a lease); cleared by any state but leased */
    BP_LEASE = 1 << 6,      /* after commit: send the job to its worker */
};

/* One change of one stored job. Owned strings and buffers (freed by bk_patch_clear). */
typedef struct {
    uint64_t id;
    unsigned flags;
    uint8_t state;
    uint32_t attempts;
    uint64_t not_before;
    uint64_t at;
    uint32_t worker_slot; /* BP_LEASE: the worker */
    minga_progress_t progress;
    uint8_t *result;
    size_t result_len;
    char *error_code, *error_message;
    char *worker;
    uint8_t *job_msg; /* BP_LEASE: the job map (with body) for the worker, encoded while
                       * writing */
    size_t job_msg_len;
} bk_patch_t;

void bk_patch_clear(bk_patch_t *p);

/* The compact index record of an active job. */
typedef struct {
    uint8_t state, priority;
    uint32_t attempts, max_attempts, lease_ms;
    uint64_t not_before;
    char type[MINGA_PROTO_MAX_TYPE + 1];
} bk_qrec_t;

typedef struct {
    minga_store_t *store;
    MDB_dbi job, queue, end, idem, meta;
    minga_pbuf_t scratch; /* encodes the records being written (one thread) */
} bk_db_t;

/* Takes the handles of the broker's databases. Fails with MINGA_EINVAL (logged) when the
 * store module does not know their names. */
int bk_db_open(bk_db_t *db, minga_store_t *store);
/* Frees what bk_db_open allocated; safe on a zeroed bk_db_t. */
void bk_db_close(bk_db_t *db);

/* Stores a new job (job, queue or job_end, idempotency). */
int bk_db_put_new(bk_db_t *db, MDB_txn *txn, const minga_job_t *job);
/* Applies p to the stored job (read, modify, write); a job that is not there is skipped.
 * For a lease it also encodes the job map (with the body) into p->job_msg, from
 * the record it has just read, so that sending it after the commit reads nothing. */
int bk_db_apply(bk_db_t *db, MDB_txn *txn, const bk_patch_t *p);
/* Records the next job id. */
int bk_db_put_next_id(bk_db_t *db, MDB_txn *txn, uint64_t next_id);
/* The next job id: the recorded one, or one past the largest stored id. */
uint64_t bk_db_next_id(bk_db_t *db, MDB_txn *txn);

/* Reads job id into job. MINGA_ENOTFOUND when absent; MINGA_EFORMAT when unreadable. */
int bk_db_get_job(bk_db_t *db, MDB_txn *txn, uint64_t id, minga_job_t *job);
/* Looks up an idempotency key: 0 and *id, or MINGA_ENOTFOUND. */
int bk_db_get_key(bk_db_t *db, MDB_txn *txn, const char *key, uint64_t *id);

/* Deletes at most max jobs that ended before cutoff (ms), with their keys; *purged counts. */
int bk_db_purge(bk_db_t *db, MDB_txn *txn, uint64_t cutoff, unsigned max, unsigned *purged);

/* Bytes of the map really in use (pages up to the last one, less the free list) and the most
 * the map may grow to. Returns 0 or a negative code. */
int bk_db_usage(bk_db_t *db, uint64_t *used, uint64_t *map_max);

/* Drops this process's mappings of the store's pages (madvise MADV_DONTNEED on the read-only
 * shared map: the data stays in the page cache and is faulted in again when read), so that a
 * scan or a long run does not keep the whole store in the process's resident set. */
void bk_db_trim(bk_db_t *db);

/* Calls fn for every active job of the queue database, in id order; fn returns 0 to go on. */
typedef int(bk_db_load_fn)(void *arg, uint64_t id, const bk_qrec_t *q);
int bk_db_load(bk_db_t *db, MDB_txn *txn, bk_db_load_fn *fn, void *arg);

#endif
