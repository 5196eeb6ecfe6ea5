/*
 * store.c: the shared LMDB store (see store.h for the contract and its invariants).
 *
 * Map growth: LMDB reports MDB_MAP_FULL from mdb_put or mdb_txn_commit; the transaction is
 * then unusable. minga_store_write() aborts it, doubles the map with mdb_env_set_mapsize()
 * (legal here because this process has no other transaction open: invariant 7) and runs the
 * write function again. Another process that grew the map makes our mdb_txn_begin return
 * MDB_MAP_RESIZED; we adopt the new size with mdb_env_set_mapsize(env, 0) and begin again.
 */
#include "minga/store.h"

#include "minga/error.h"
#include "minga/log.h"

#include <errno.h>
#include <limits.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/statvfs.h>
#include <time.h>
#include <unistd.h>

#define MINGA_STORE_FORMAT 1
#define MINGA_STORE_MAX_READERS 510

static const char *s_db_names[MINGA_DB_COUNT] = {
    [MINGA_DB_META] = "meta",
    [MINGA_DB_GAD] = "gad",
    [MINGA_DB_COOPERANTE] = "cooperante",
    [MINGA_DB_OFFER] = "offer",
    [MINGA_DB_DEMAND] = "demand",
    [MINGA_DB_EVENT] = "event",
    [MINGA_DB_PARTICIPANT] = "participant",
    [MINGA_DB_PREFERENCE] = "preference",
    [MINGA_DB_CANDIDATE] = "candidate",
    [MINGA_DB_MEETING] = "meeting",
    [MINGA_DB_MEETING_HISTORY] = "meeting_history",
    [MINGA_DB_OUTBOX] = "outbox",
    [MINGA_DB_REPORT] = "report",
    [MINGA_DB_CHANGE] = "change",
    [MINGA_DB_JOB] = "job",
    [MINGA_DB_QUEUE] = "queue",
    [MINGA_DB_IDEMPOTENCY] = "idempotency",
    [MINGA_DB_JOB_END] = "job_end",
    [MINGA_DB_BROKER] = "broker",
};

struct minga_store_t {
    MDB_env *env;
    MDB_dbi dbi[MINGA_DB_COUNT];
    char *path;
    char *realpath;
    size_t map_max;
    bool rdonly;
};

const char *minga_store_db_name(minga_db_t db)
{
    return (db < MINGA_DB_COUNT && s_db_names[db]) ? s_db_names[db] : "?";
}

const char *minga_store_default_dir(const char *dir)
{
    if (dir && *dir)
        return dir;
    const char *env = getenv("MINGA_STORE");
    return (env && *env) ? env : "./minga-data";
}

/* ---- keys ---- */

int minga_key_id(uint8_t dst[MINGA_KEY_ID], const char *id)
{
    size_t n = id ? strlen(id) : 0;
    if (n > MINGA_KEY_ID)
        return MINGA_EINVAL;
    memset(dst, 0, MINGA_KEY_ID);
    if (n)
        memcpy(dst, id, n);
    return 0;
}

void minga_key_u16(uint8_t *dst, uint16_t v)
{
    dst[0] = (uint8_t)(v >> 8);
    dst[1] = (uint8_t)v;
}

void minga_key_u32(uint8_t *dst, uint32_t v)
{
    for (int i = 3; i >= 0; i--, v >>= 8)
        dst[i] = (uint8_t)v;
}

void minga_key_u64(uint8_t *dst, uint64_t v)
{
    for (int i = 7; i >= 0; i--, v >>= 8)
        dst[i] = (uint8_t)v;
}

uint16_t minga_key_get_u16(const uint8_t *src)
{
    return (uint16_t)((src[0] << 8) | src[1]);
}

uint32_t minga_key_get_u32(const uint8_t *src)
{
    return ((uint32_t)src[0] << 24) | ((uint32_t)src[1] << 16) | ((uint32_t)src[2] << 8) | src[3];
}

uint64_t minga_key_get_u64(const uint8_t *src)
{
    uint64_t v = 0;
    for (int i = 0; i < 8; i++)
        v = (v << 8) | src[i];
    return v;
}

/* ---- open / close ---- */

static size_t s_map_max_from_env(void)
{
    const char *env = getenv("MINGA_STORE_MAP_MAX");
    if (env && *env) {
        char *end;
        unsigned long long v = strtoull(env, &end, 10);
        if (*end == '\0' && v >= (1u << 16))
            return (size_t)v;
        minga_warn("MINGA_STORE_MAP_MAX='%s' is not a byte count >= 65536; ignored", env);
    }
    return (size_t)MINGA_STORE_MAP_MAX_DEFAULT;
}

/* Begins a transaction, adopting a map another process grew (invariant 6). */
static int s_txn_begin(minga_store_t *self, unsigned flags, MDB_txn **txn)
{
    int rc = mdb_txn_begin(self->env, NULL, flags, txn);
    if (rc == MDB_MAP_RESIZED) {
        rc = mdb_env_set_mapsize(self->env, 0);
        if (rc == 0)
            rc = mdb_txn_begin(self->env, NULL, flags, txn);
    }
    return rc;
}

/* Opens (and with create, creates) every named database and the meta record. */
static int s_open_dbs(minga_store_t *self, bool create)
{
    MDB_txn *txn;
    int rc = s_txn_begin(self, self->rdonly ? MDB_RDONLY : 0, &txn);
    if (rc)
        return rc;
    for (int i = 0; i < MINGA_DB_COUNT; i++) {
        rc = mdb_dbi_open(txn, s_db_names[i], (create && !self->rdonly) ? MDB_CREATE : 0,
                          &self->dbi[i]);
        if (rc == MDB_NOTFOUND && !self->rdonly) {
            /* an older store without this database: add it */
            rc = mdb_dbi_open(txn, s_db_names[i], MDB_CREATE, &self->dbi[i]);
        }
        if (rc)
            goto fail;
    }
    MDB_val key = {4, "fmt"}, val;
    rc = mdb_get(txn, self->dbi[MINGA_DB_META], &key, &val);
    if (rc == MDB_NOTFOUND && create && !self->rdonly) {
        char buf[64];
        int n = snprintf(buf, sizeof buf, "%d %lld", MINGA_STORE_FORMAT, (long long)time(NULL));
        val.mv_size = (size_t)n;
        val.mv_data = buf;
        rc = mdb_put(txn, self->dbi[MINGA_DB_META], &key, &val, 0);
    } else if (rc == 0 &&
               (val.mv_size < 1 || ((char *)val.mv_data)[0] != '0' + MINGA_STORE_FORMAT)) {
        rc = MINGA_EVERSION;
    }
    if (rc)
        goto fail;
    return mdb_txn_commit(txn);
fail:
    mdb_txn_abort(txn);
    return rc;
}

static int s_mkdir_p(const char *dir)
{
    char buf[PATH_MAX];
    if (snprintf(buf, sizeof buf, "%s", dir) >= (int)sizeof buf)
        return -ENAMETOOLONG;
    for (char *p = buf + 1; *p; p++) {
        if (*p == '/') {
            *p = '\0';
            if (mkdir(buf, 0755) != 0 && errno != EEXIST)
                return -errno;
            *p = '/';
        }
    }
    if (mkdir(buf, 0755) != 0 && errno != EEXIST)
        return -errno;
    return 0;
}

int minga_store_open(minga_store_t **self_p, const char *dir, unsigned flags)
{
    *self_p = NULL;
    bool create = flags & MINGA_STORE_CREATE;
    minga_store_t *self = calloc(1, sizeof *self);
    int rc = MINGA_ENOMEM;
    if (!self || !(self->path = strdup(dir)))
        goto fail;
    self->rdonly = flags & MINGA_STORE_RDONLY;
    self->map_max = s_map_max_from_env();

    char datafile[PATH_MAX];
    snprintf(datafile, sizeof datafile, "%s/data.mdb", dir);
    struct stat st;
    if (stat(datafile, &st) != 0) {
        if (!create) {
            minga_error("store %s: no Minga store here (run 'minga --store %s init')", dir, dir);
            rc = MINGA_ENOTFOUND;
            goto fail_quiet;
        }
        if ((rc = s_mkdir_p(dir)) != 0) {
            minga_error("store %s: cannot create directory: %s", dir, minga_strerror(rc));
            goto fail_quiet;
        }
    }
    char resolved[PATH_MAX];
    if (!realpath(dir, resolved) || !(self->realpath = strdup(resolved))) {
        rc = errno ? -errno : MINGA_ENOMEM;
        goto fail;
    }
    if ((rc = mdb_env_create(&self->env)) != 0)
        goto fail;
    size_t initial = MINGA_STORE_MAP_INITIAL;
    if (stat(datafile, &st) == 0 && (size_t)st.st_size > initial)
        initial = (size_t)st.st_size;
    if (initial > self->map_max)
        self->map_max = initial;
    if ((rc = mdb_env_set_mapsize(self->env, initial)) != 0 ||
        (rc = mdb_env_set_maxdbs(self->env, MINGA_DB_COUNT + 8)) != 0 ||
        (rc = mdb_env_set_maxreaders(self->env, MINGA_STORE_MAX_READERS)) != 0)
        goto fail;
    /* MDB_NOTLS: read transactions are not tied to threads (the broker and workers use
     * threads); MDB_NOSUBDIR is not used: the directory holds data.mdb and lock.mdb. */
    unsigned envflags = MDB_NOTLS | (self->rdonly ? MDB_RDONLY : 0);
    if ((rc = mdb_env_open(self->env, dir, envflags, 0664)) != 0)
        goto fail;
    int dead = 0;
    mdb_reader_check(self->env, &dead);
    if (dead > 0)
        minga_info("store %s: cleared %d stale reader slot(s) of dead processes", dir, dead);
    /* the map may be larger than our initial guess if another process grew it */
    MDB_envinfo info;
    mdb_env_info(self->env, &info);
    if (info.me_mapsize > self->map_max)
        self->map_max = info.me_mapsize;
    if ((rc = s_open_dbs(self, create)) != 0)
        goto fail;
    *self_p = self;
    return 0;
fail:
    minga_error("store %s: cannot open: %s", dir, minga_strerror(rc));
fail_quiet:
    minga_store_destroy(&self);
    return rc;
}

void minga_store_destroy(minga_store_t **self_p)
{
    if (!self_p || !*self_p)
        return;
    minga_store_t *self = *self_p;
    if (self->env)
        mdb_env_close(self->env);
    free(self->path);
    free(self->realpath);
    free(self);
    *self_p = NULL;
}

const char *minga_store_path(minga_store_t *self)
{
    return self->path;
}

const char *minga_store_realpath(minga_store_t *self)
{
    return self->realpath;
}

MDB_env *minga_store_env(minga_store_t *self)
{
    return self->env;
}

MDB_dbi minga_store_dbi(minga_store_t *self, minga_db_t db)
{
    return self->dbi[db];
}

void minga_store_set_map_max(minga_store_t *self, size_t bytes)
{
    MDB_envinfo info;
    mdb_env_info(self->env, &info);
    self->map_max = bytes < info.me_mapsize ? info.me_mapsize : bytes;
}

/* ---- transactions ---- */

int minga_store_read_begin(minga_store_t *self, MDB_txn **txn)
{
    return s_txn_begin(self, MDB_RDONLY, txn);
}

/* Doubles the map, capped at map_max. Returns 0, or MINGA_EMAPFULL at the cap. */
static int s_grow(minga_store_t *self)
{
    MDB_envinfo info;
    mdb_env_info(self->env, &info);
    size_t cur = info.me_mapsize;
    if (cur >= self->map_max)
        return MINGA_EMAPFULL;
    size_t next = cur * 2 > self->map_max ? self->map_max : cur * 2;
    int rc = mdb_env_set_mapsize(self->env, next);
    if (rc) {
        minga_error("store %s: cannot grow map to %zu bytes: %s", self->path, next,
                    minga_strerror(rc));
        return MINGA_EMAPFULL;
    }
    minga_debug("store %s: map grown from %zu to %zu bytes", self->path, cur, next);
    return 0;
}

int minga_store_write(minga_store_t *self, minga_store_write_fn *fn, void *arg)
{
    if (self->rdonly)
        return MINGA_EINVAL;
    for (;;) {
        MDB_txn *txn;
        int rc = s_txn_begin(self, 0, &txn);
        if (rc)
            return rc;
        rc = fn(txn, arg);
        if (rc) {
            mdb_txn_abort(txn);
        } else {
            rc = mdb_txn_commit(txn); /* frees txn whatever happens */
        }
        if (rc == MDB_MAP_FULL) {
            if (s_grow(self) != 0) {
                minga_error("store %s: the map is full at its maximum of %zu bytes (set "
                            "MINGA_STORE_MAP_MAX to allow more)",
                            self->path, self->map_max);
                return MINGA_EMAPFULL;
            }
            continue;
        }
        if (rc == ENOSPC || rc == EFBIG || rc == EIO || rc == EDQUOT) {
            /* mdb_txn_commit returns positive errno codes; a short write is EIO */
            struct statvfs vfs;
            bool full = statvfs(self->path, &vfs) == 0 &&
                        (uint64_t)vfs.f_bavail * vfs.f_frsize < (1u << 20);
            if (full)
                minga_error("store %s: write failed, nothing of it was stored: the disk is "
                            "full (%llu bytes free)",
                            self->path, (unsigned long long)vfs.f_bavail * vfs.f_frsize);
            else
                minga_error("store %s: write failed, nothing of it was stored: %s", self->path,
                            strerror(rc));
            return full ? -ENOSPC : -rc;
        }
        return rc;
    }
}

/* ---- info ---- */

int minga_store_info(minga_store_t *self, minga_store_info_t *info)
{
    memset(info, 0, sizeof *info);
    MDB_envinfo ei;
    MDB_stat st;
    mdb_env_info(self->env, &ei);
    mdb_env_stat(self->env, &st);
    info->map_size = ei.me_mapsize;
    info->map_max = self->map_max;
    info->page_size = st.ms_psize;
    info->used_bytes = (uint64_t)(ei.me_last_pgno + 1) * st.ms_psize;
    info->readers = ei.me_numreaders;
    info->max_readers = ei.me_maxreaders;
    char datafile[PATH_MAX];
    struct stat fst;
    snprintf(datafile, sizeof datafile, "%s/data.mdb", self->path);
    if (stat(datafile, &fst) == 0)
        info->file_bytes = (uint64_t)fst.st_size;
    MDB_txn *txn;
    int rc = minga_store_read_begin(self, &txn);
    if (rc)
        return rc;
    for (int i = 0; i < MINGA_DB_COUNT; i++) {
        MDB_stat s;
        if (mdb_stat(txn, self->dbi[i], &s) == 0) {
            info->db[i].entries = s.ms_entries;
            info->db[i].pages = s.ms_branch_pages + s.ms_leaf_pages + s.ms_overflow_pages;
            info->db[i].bytes = info->db[i].pages * s.ms_psize;
        }
    }
    mdb_txn_abort(txn);
    return 0;
}

/* Every database has a name: a minga_db_t appended without one fails to build. */
_Static_assert(sizeof s_db_names / sizeof s_db_names[0] == MINGA_DB_COUNT,
               "every minga_db_t needs its name in s_db_names");
