/*
 * store.h: the shared LMDB store, the contract.
 *
 * One LMDB environment in a directory, shared by the broker, the co-located workers and the
 * CLI, each process with its own minga_store_t. Named databases, one per record kind (the
 * minga_db_t list), keys fixed-width and big-endian, values msgpack maps carrying a schema
 * version (see record.h).
 *
 * Invariants:
 *  1. One write transaction at a time across all processes (LMDB's own lock); keep writes
 *     short: prepare everything before minga_store_write(), only put/del inside it.
 *  2. A write that hits MDB_MAP_FULL is aborted whole, the map is doubled (up to the maximum
 *     map size) and the write function runs again from the start on a fresh transaction: a
 *     write function must therefore be idempotent with respect to its own side effects outside
 *     the transaction. When the map cannot grow, the write fails with MINGA_EMAPFULL and the
 *     store is as it was before.
 *  3. A failed commit (a full disk: -ENOSPC, -EFBIG) leaves the store as it was.
 *  4. Stale reader slots of killed processes are cleared at open (mdb_reader_check).
 *  5. Never use a minga_store_t across fork(): open it again in the child.
 *  6. A map grown by another process is picked up on the next transaction (MDB_MAP_RESIZED).
 *  7. Growing the map needs no other transaction of this process open; functions here are
 *     called from one thread per minga_store_t.
 */
#ifndef MINGA_STORE_H
#define MINGA_STORE_H

#include <lmdb.h>
#include <stddef.h>
#include <stdint.h>

typedef struct minga_store_t minga_store_t;

/* The named databases. Append only: the order is not stored, the names are. */
typedef enum {
    MINGA_DB_META,            /* "meta": store format version, created_at */
    MINGA_DB_GAD,             /* "gad": key u16 DPA canton code */
    MINGA_DB_COOPERANTE,      /* "cooperante": key id[32] */
    MINGA_DB_OFFER,           /* "offer": key id[32] */
    MINGA_DB_DEMAND,          /* "demand": key id[32] */
    MINGA_DB_EVENT,           /* "event": key id[32] */
    MINGA_DB_PARTICIPANT,     /* "participant": key event[32] + party[32] */
    MINGA_DB_PREFERENCE,      /* "preference": key event[32] + from[32] + to[32] */
    MINGA_DB_CANDIDATE,       /* "candidate": key event[32] + demand[32] + rank u16 */
    MINGA_DB_MEETING,         /* "meeting": key event[32] + slot u16 + table u16 */
    MINGA_DB_MEETING_HISTORY, /* "meeting_history": key event[32] + seq u64 */
    MINGA_DB_OUTBOX,          /* "outbox": key event[32] + party[32] + kind u8 + version u32 */
    MINGA_DB_REPORT,          /* "report": key event[32] + kind[32] */
    MINGA_DB_CHANGE,          /* "change": key seq u64, the registry's change log */
    MINGA_DB_JOB,             /* "job": the broker's jobs, key job id u64 */
    MINGA_DB_QUEUE,           /* "queue": the broker's ready index */
    MINGA_DB_IDEMPOTENCY,     /* "idempotency": key -> job id */
    MINGA_DB_JOB_END,         /* "job_end": key finished_at u64 + job id u64, ended jobs by age */
    MINGA_DB_BROKER,          /* "broker": the broker's own counters, key a name */
    MINGA_DB_COUNT
} minga_db_t;

/* Width of an id inside a key: ids are at most 32 bytes, zero-padded. */
#define MINGA_KEY_ID 32

enum {
    MINGA_STORE_CREATE = 1 << 0, /* create the directory and the environment if missing */
    MINGA_STORE_RDONLY = 1 << 1, /* read-only: minga_store_write() fails with MINGA_EINVAL */
};

/* Initial map size, and the default maximum it may grow to. MINGA_STORE_MAP_MAX (bytes, in
 * the environment) or minga_store_set_map_max() lowers or raises the maximum. */
#define MINGA_STORE_MAP_INITIAL (64u << 20)
#define MINGA_STORE_MAP_MAX_DEFAULT (64ull << 30)

/* Opens the store in directory dir (created with MINGA_STORE_CREATE, else it must exist and
 * hold a Minga store: MINGA_ENOTFOUND). Clears stale readers. On success *self_p is the
 * caller's, to release with minga_store_destroy(); on error *self_p is NULL and a message
 * naming the directory has been logged. */
int minga_store_open(minga_store_t **self_p, const char *dir, unsigned flags);

/* Closes the store and NULLs *self_p. Accepts NULL and a NULL *self_p. */
void minga_store_destroy(minga_store_t **self_p);

/* The directory, as given to open (borrowed). */
const char *minga_store_path(minga_store_t *self);

/* The directory, absolute and resolved (borrowed). */
const char *minga_store_realpath(minga_store_t *self);

/* The LMDB environment and a database handle (borrowed; valid until destroy). */
MDB_env *minga_store_env(minga_store_t *self);
MDB_dbi minga_store_dbi(minga_store_t *self, minga_db_t db);

/* The name of a database ("gad"...), static. */
const char *minga_store_db_name(minga_db_t db);

/* Sets the maximum map size in bytes (at least the current size). */
void minga_store_set_map_max(minga_store_t *self, size_t bytes);

/* Begins a read-only transaction into *txn (the caller's: mdb_txn_abort() it). Handles a map
 * that another process grew. Returns 0 or a negative code. */
int minga_store_read_begin(minga_store_t *self, MDB_txn **txn);

/* A write function: does its puts and deletes in txn and returns 0, or a negative code to
 * abort the transaction. It may run more than once (invariant 2). */
typedef int(minga_store_write_fn)(MDB_txn *txn, void *arg);

/* Runs fn in a write transaction and commits it. Returns 0; fn's own negative code (the
 * transaction aborted); MINGA_EMAPFULL when the map is at its maximum; or the LMDB / -errno
 * code of a failed commit (a full disk). On any error nothing of the transaction is stored. */
int minga_store_write(minga_store_t *self, minga_store_write_fn *fn, void *arg);

/* Sizes for `minga store info`. */
typedef struct {
    uint64_t entries;
    uint64_t pages; /* branch + leaf + overflow */
    uint64_t bytes; /* pages * page size */
} minga_store_dbstat_t;

typedef struct {
    size_t map_size, map_max, page_size;
    uint64_t used_bytes; /* last page number * page size */
    uint64_t file_bytes; /* size of data.mdb on disk */
    unsigned readers, max_readers;
    minga_store_dbstat_t db[MINGA_DB_COUNT];
} minga_store_info_t;

/* Fills *info. Returns 0 or a negative code. */
int minga_store_info(minga_store_t *self, minga_store_info_t *info);

/* Key helpers: fixed-width big-endian. minga_key_id() copies id (at most MINGA_KEY_ID bytes)
 * into dst zero-padded and returns MINGA_EINVAL if it is longer. */
int minga_key_id(uint8_t dst[MINGA_KEY_ID], const char *id);
void minga_key_u16(uint8_t *dst, uint16_t v);
void minga_key_u32(uint8_t *dst, uint32_t v);
void minga_key_u64(uint8_t *dst, uint64_t v);
uint16_t minga_key_get_u16(const uint8_t *src);
uint32_t minga_key_get_u32(const uint8_t *src);
uint64_t minga_key_get_u64(const uint8_t *src);

/* Resolves the store directory: dir if not NULL, else $MINGA_STORE, else "./minga-data".
 * Returns a borrowed string. */
const char *minga_store_default_dir(const char *dir);

#endif
