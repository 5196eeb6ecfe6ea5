/*
 * jobdb.c: the broker's records in the store (see jobdb.h for the layout). Everything here runs
 * inside a transaction the caller owns; a write function may run twice (the store retries
 * after growing the map), so nothing here has effects outside the transaction.
 */
#include "jobdb.h"

#include "minga/error.h"
#include "minga/log.h"

#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>

#define S_QREC_VERSION 1

void bk_patch_clear(bk_patch_t *p)
{
    free(p->progress.text);
    free(p->result);
    free(p->error_code);
    free(p->error_message);
    free(p->worker);
    free(p->job_msg);
    memset(p, 0, sizeof *p);
}

int bk_db_open(bk_db_t *db, minga_store_t *store)
{
    static const struct {
        minga_db_t db;
        const char *name;
    } need[] = {{MINGA_DB_JOB, "job"},
                {MINGA_DB_QUEUE, "queue"},
                {MINGA_DB_IDEMPOTENCY, "idempotency"},
                {MINGA_DB_JOB_END, "job_end"},
                {MINGA_DB_BROKER, "broker"}};
    for (size_t i = 0; i < sizeof need / sizeof need[0]; i++)
        if (strcmp(minga_store_db_name(need[i].db), need[i].name) != 0) {
            minga_error("store.c has no name for database %s (minga_db_t %d): add it to the "
                        "store's name table",
                        need[i].name, (int)need[i].db);
            return MINGA_EINVAL;
        }
    db->store = store;
    minga_pbuf_init(&db->scratch);
    db->job = minga_store_dbi(store, MINGA_DB_JOB);
    db->queue = minga_store_dbi(store, MINGA_DB_QUEUE);
    db->idem = minga_store_dbi(store, MINGA_DB_IDEMPOTENCY);
    db->end = minga_store_dbi(store, MINGA_DB_JOB_END);
    db->meta = minga_store_dbi(store, MINGA_DB_BROKER);
    return 0;
}

void bk_db_close(bk_db_t *db)
{
    minga_pbuf_clear(&db->scratch);
}

static int s_put(MDB_txn *txn, MDB_dbi dbi, const void *k, size_t klen, const void *v, size_t vlen)
{
    MDB_val key = {klen, (void *)k}, val = {vlen, (void *)v};
    return mdb_put(txn, dbi, &key, &val, 0);
}

/* The same for a key that is normally past every key of dbi (a new job's id): MDB_APPEND, which
 * fills leaf pages instead of splitting them in halves, so that records written in id order
 * take about half the pages (and the later rewrites of a record half the page copies); a key
 * that is not last after all (MDB_KEYEXIST) is put the normal way. */
static int s_put_last(MDB_txn *txn, MDB_dbi dbi, const void *k, size_t klen, const void *v,
                      size_t vlen)
{
    MDB_val key = {klen, (void *)k}, val = {vlen, (void *)v};
    int rc = mdb_put(txn, dbi, &key, &val, MDB_APPEND);
    if (rc == MDB_KEYEXIST)
        rc = mdb_put(txn, dbi, &key, &val, 0);
    return rc;
}

static int s_del(MDB_txn *txn, MDB_dbi dbi, const void *k, size_t klen)
{
    MDB_val key = {klen, (void *)k};
    int rc = mdb_del(txn, dbi, &key, NULL);
    return rc == MDB_NOTFOUND ? 0 : rc;
}

/* The key of a job's body: its id and the byte 'b' (records have 8-byte keys). */
static void s_body_key(uint8_t k[9], uint64_t id)
{
    minga_key_u64(k, id);
    k[8] = 'b';
}

/* Writes the job record without its body; a body in job (a new job, or a record written
 * before bodies were kept apart) is written under its own key, so that the many rewrites of
 * a record (lease, progress, done) never copy the body. */
static int s_put_job(bk_db_t *db, MDB_txn *txn, const minga_job_t *job, bool is_new)
{
    int (*put)(MDB_txn *, MDB_dbi, const void *, size_t, const void *, size_t) =
        is_new ? s_put_last : s_put;
    uint8_t k[9];
    minga_key_u64(k, job->id);
    minga_pbuf_reset(&db->scratch);
    if (minga_job_record_pack(job, &db->scratch.pk) != 0)
        return MINGA_ENOMEM;
    int rc = put(txn, db->job, k, 8, db->scratch.sbuf.data, db->scratch.sbuf.size);
    if (rc == 0 && job->body) {
        s_body_key(k, job->id);
        rc = put(txn, db->job, k, 9, job->body, job->body_len);
    }
    return rc;
}

static int s_put_queue(bk_db_t *db, MDB_txn *txn, const minga_job_t *job, bool is_new)
{
    uint8_t k[8];
    minga_key_u64(k, job->id);
    minga_pbuf_t *b = &db->scratch;
    minga_pbuf_reset(b);
    int rc = msgpack_pack_array(&b->pk, 8);
    rc |= msgpack_pack_uint8(&b->pk, S_QREC_VERSION);
    rc |= msgpack_pack_uint8(&b->pk, (uint8_t)job->state);
    rc |= msgpack_pack_uint8(&b->pk, job->priority);
    rc |= msgpack_pack_uint32(&b->pk, job->attempts);
    rc |= msgpack_pack_uint32(&b->pk, job->max_attempts);
    rc |= msgpack_pack_uint64(&b->pk, job->not_before);
    rc |= msgpack_pack_uint32(&b->pk, job->lease_ms);
    rc |= minga_pk_str(&b->pk, job->type);
    if (rc != 0)
        return MINGA_ENOMEM;
    return (is_new ? s_put_last : s_put)(txn, db->queue, k, 8, b->sbuf.data, b->sbuf.size);
}

static void s_end_key(uint8_t k[16], uint64_t finished_at, uint64_t id)
{
    minga_key_u64(k, finished_at);
    minga_key_u64(k + 8, id);
}

/* Writes the index records that follow from the job's state: queue for an active job,
 * job_end for an ended one. */
static int s_put_index(bk_db_t *db, MDB_txn *txn, const minga_job_t *job, bool is_new)
{
    if (!minga_job_state_is_end(job->state))
        return s_put_queue(db, txn, job, is_new);
    uint8_t k[16], q[8];
    s_end_key(k, job->finished_at, job->id);
    minga_key_u64(q, job->id);
    int rc = s_del(txn, db->queue, q, 8);
    return rc ? rc : s_put(txn, db->end, k, 16, "", 0);
}

int bk_db_put_new(bk_db_t *db, MDB_txn *txn, const minga_job_t *job)
{
    int rc = s_put_job(db, txn, job, true);
    if (rc == 0)
        rc = s_put_index(db, txn, job, true);
    if (rc == 0 && job->key) {
        uint8_t v[8];
        minga_key_u64(v, job->id);
        rc = s_put(txn, db->idem, job->key, strlen(job->key), v, 8);
    }
    return rc;
}

static int s_take(char **dst, char **src)
{
    free(*dst);
    *dst = NULL;
    if (*src) {
        *dst = strdup(*src);
        if (!*dst)
            return MINGA_ENOMEM;
    }
    return 0;
}

/* Applies the optional parts of p to job. */
static int s_patch_parts(minga_job_t *job, const bk_patch_t *p)
{
    bk_patch_t *mp = (bk_patch_t *)p; /* s_take copies, never changes the source */
    if (p->flags & BP_RESET) {
        free(job->error_code), job->error_code = NULL;
        free(job->error_message), job->error_message = NULL;
        free(job->progress.text), job->progress.text = NULL;
        job->has_progress = false;
        free(job->result), job->result = NULL, job->result_len = 0;
    }
    if (p->flags & BP_NOT_BEFORE)
        job->not_before = p->not_before;
    if (p->flags & BP_PROGRESS) {
        job->has_progress = true;
        job->progress.done = p->progress.done;
        job->progress.total = p->progress.total;
        if (s_take(&job->progress.text, &mp->progress.text) != 0)
            return MINGA_ENOMEM;
    }
    if ((p->flags & BP_RESULT) && p->result) {
        free(job->result);
        job->result = malloc(p->result_len);
        if (!job->result)
            return MINGA_ENOMEM;
        memcpy(job->result, p->result, p->result_len);
        job->result_len = p->result_len;
    }
    if (p->flags & BP_ERROR) {
        if (s_take(&job->error_code, &mp->error_code) != 0 ||
            s_take(&job->error_message, &mp->error_message) != 0)
            return MINGA_ENOMEM;
    }
    if ((p->flags & BP_WORKER) && s_take(&job->worker, &mp->worker) != 0)
        return MINGA_ENOMEM;
    if (p->state != MINGA_JOB_LEASED) {
        free(job->worker);
        job->worker = NULL;
    }
    return 0;
}

static int s_get_job(bk_db_t *db, MDB_txn *txn, uint64_t id, minga_job_t *job, bool body);

int bk_db_apply(bk_db_t *db, MDB_txn *txn, const bk_patch_t *p)
{
    minga_job_t job;
    minga_job_init(&job);
    bool lease = (p->flags & BP_LEASE) != 0;
    int rc = s_get_job(db, txn, p->id, &job, false);
    if (rc == MINGA_ENOTFOUND || rc == MINGA_EFORMAT) {
        minga_warn("job %llu: not in the store, change to %s skipped", (unsigned long long)p->id,
                   minga_job_state_name(p->state));
        return 0;
    }
    if (rc != 0)
        return rc;
    bool was_end = minga_job_state_is_end(job.state);
    bool is_end = minga_job_state_is_end(p->state);
    if (was_end && !is_end) {
        uint8_t k[16];
        s_end_key(k, job.finished_at, job.id);
        if ((rc = s_del(txn, db->end, k, 16)) != 0)
            goto done;
        job.finished_at = 0;
    }
    if (is_end && !was_end)
        job.finished_at = p->at;
    job.state = (minga_job_state_t)p->state;
    job.attempts = p->attempts;
    job.updated_at = p->at;
    if ((rc = s_patch_parts(&job, p)) != 0)
        goto done;
    rc = s_put_job(db, txn, &job, false);
    if (rc == 0 && lease && !job.body) { /* the body, kept under its own key */
        uint8_t k[9];
        s_body_key(k, job.id);
        MDB_val key = {9, k}, val;
        if (mdb_get(txn, db->job, &key, &val) == 0 &&
            minga_mp_validate(val.mv_data, val.mv_size, MINGA_PROTO_MAX_DEPTH) == 0 &&
            (job.body = malloc(val.mv_size ? val.mv_size : 1))) {
            memcpy(job.body, val.mv_data, val.mv_size);
            job.body_len = val.mv_size;
        }
    }
    if (rc == 0 && !(is_end && was_end))
        rc = s_put_index(db, txn, &job, false);
    if (rc == 0 && lease) {
        bk_patch_t *mp = (bk_patch_t *)p;
        minga_pbuf_t *b = &db->scratch;
        minga_pbuf_reset(b);
        free(mp->job_msg);
        mp->job_msg = NULL;
        if (minga_job_pack(&job, &b->pk, 0) == 0 && (mp->job_msg = malloc(b->sbuf.size))) {
            memcpy(mp->job_msg, b->sbuf.data, b->sbuf.size);
            mp->job_msg_len = b->sbuf.size;
        }
    }
done:
    minga_job_clear(&job);
    return rc;
}

int bk_db_put_next_id(bk_db_t *db, MDB_txn *txn, uint64_t next_id)
{
    uint8_t v[8];
    minga_key_u64(v, next_id);
    return s_put(txn, db->meta, "next_id", 7, v, 8);
}

uint64_t bk_db_next_id(bk_db_t *db, MDB_txn *txn)
{
    uint64_t next = 1;
    MDB_val key = {7, "next_id"}, val;
    if (mdb_get(txn, db->meta, &key, &val) == 0 && val.mv_size == 8)
        next = minga_key_get_u64(val.mv_data);
    MDB_cursor *cur;
    if (mdb_cursor_open(txn, db->job, &cur) == 0) {
        if (mdb_cursor_get(cur, &key, &val, MDB_LAST) == 0 && key.mv_size >= 8) {
            uint64_t last = minga_key_get_u64(key.mv_data);
            if (last >= next)
                next = last + 1;
        }
        mdb_cursor_close(cur);
    }
    return next;
}

/* Reads job id; with body, also its body (kept under its own key). */
static int s_get_job(bk_db_t *db, MDB_txn *txn, uint64_t id, minga_job_t *job, bool body)
{
    uint8_t k[9];
    minga_key_u64(k, id);
    MDB_val key = {8, k}, val;
    int rc = mdb_get(txn, db->job, &key, &val);
    if (rc == MDB_NOTFOUND)
        return MINGA_ENOTFOUND;
    if (rc != 0)
        return rc;
    char err[200];
    rc = minga_job_record_decode(val.mv_data, val.mv_size, job, err, sizeof err);
    if (rc != 0) {
        minga_warn("job %llu: stored value unreadable: %s", (unsigned long long)id, err);
        return MINGA_EFORMAT;
    }
    if (!body || job->body)
        return 0;
    s_body_key(k, id);
    key.mv_size = 9;
    rc = mdb_get(txn, db->job, &key, &val);
    if (rc == MDB_NOTFOUND)
        return 0;
    if (rc != 0)
        return rc;
    if (minga_mp_validate(val.mv_data, val.mv_size, MINGA_PROTO_MAX_DEPTH) != 0) {
        minga_warn("job %llu: stored body unreadable; left out", (unsigned long long)id);
        return 0;
    }
    job->body = malloc(val.mv_size);
    if (!job->body)
        return MINGA_ENOMEM;
    memcpy(job->body, val.mv_data, val.mv_size);
    job->body_len = val.mv_size;
    return 0;
}

int bk_db_get_job(bk_db_t *db, MDB_txn *txn, uint64_t id, minga_job_t *job)
{
    return s_get_job(db, txn, id, job, true);
}

int bk_db_get_key(bk_db_t *db, MDB_txn *txn, const char *k, uint64_t *id)
{
    MDB_val key = {strlen(k), (void *)k}, val;
    int rc = mdb_get(txn, db->idem, &key, &val);
    if (rc == MDB_NOTFOUND || (rc == 0 && val.mv_size != 8))
        return MINGA_ENOTFOUND;
    if (rc != 0)
        return rc;
    *id = minga_key_get_u64(val.mv_data);
    return 0;
}

/* Deletes one ended job and its key. */
static int s_purge_one(bk_db_t *db, MDB_txn *txn, uint64_t id)
{
    minga_job_t job;
    minga_job_init(&job);
    int rc = s_get_job(db, txn, id, &job, false);
    if (rc == 0 && !minga_job_state_is_end(job.state)) {
        minga_job_clear(&job);
        return 0; /* defensive: retried since; its job_end entry was stale */
    }
    if (rc == 0 && job.key) {
        uint64_t owner = 0;
        if (bk_db_get_key(db, txn, job.key, &owner) == 0 && owner == id)
            rc = s_del(txn, db->idem, job.key, strlen(job.key));
    }
    minga_job_clear(&job);
    if (rc != 0 && rc != MINGA_ENOTFOUND && rc != MINGA_EFORMAT)
        return rc;
    uint8_t k[9];
    s_body_key(k, id);
    if ((rc = s_del(txn, db->job, k, 9)) != 0)
        return rc;
    return s_del(txn, db->job, k, 8);
}

int bk_db_purge(bk_db_t *db, MDB_txn *txn, uint64_t cutoff, unsigned max, unsigned *purged)
{
    *purged = 0;
    MDB_cursor *cur;
    int rc = mdb_cursor_open(txn, db->end, &cur);
    if (rc != 0)
        return rc;
    MDB_val key, val;
    rc = mdb_cursor_get(cur, &key, &val, MDB_FIRST);
    while (rc == 0 && *purged < max) {
        if (key.mv_size != 16 || minga_key_get_u64(key.mv_data) >= cutoff)
            break;
        uint64_t id = minga_key_get_u64((uint8_t *)key.mv_data + 8);
        if ((rc = s_purge_one(db, txn, id)) != 0)
            break;
        if ((rc = mdb_cursor_del(cur, 0)) != 0)
            break;
        (*purged)++;
        rc = mdb_cursor_get(cur, &key, &val, MDB_GET_CURRENT);
        if (rc == EINVAL) /* the cursor is past the last entry */
            rc = MDB_NOTFOUND;
    }
    mdb_cursor_close(cur);
    return rc == MDB_NOTFOUND ? 0 : rc;
}

static int s_qrec_decode(const MDB_val *val, bk_qrec_t *q)
{
    if (minga_mp_validate(val->mv_data, val->mv_size, 2) != 0)
        return MINGA_EFORMAT;
    msgpack_unpacked up;
    msgpack_unpacked_init(&up);
    int rc = MINGA_EFORMAT;
    size_t off = 0;
    if (msgpack_unpack_next(&up, val->mv_data, val->mv_size, &off) != MSGPACK_UNPACK_SUCCESS)
        goto done;
    const msgpack_object *o = &up.data;
    if (o->type != MSGPACK_OBJECT_ARRAY || o->via.array.size < 8)
        goto done;
    const msgpack_object *a = o->via.array.ptr;
    for (int i = 0; i < 7; i++)
        if (a[i].type != MSGPACK_OBJECT_POSITIVE_INTEGER)
            goto done;
    size_t tlen;
    const char *t = minga_pobj_str(&a[7], &tlen);
    if (!t || tlen > MINGA_PROTO_MAX_TYPE || a[1].via.u64 >= MINGA_JOB_STATE_COUNT)
        goto done;
    q->state = (uint8_t)a[1].via.u64;
    q->priority = (uint8_t)a[2].via.u64;
    q->attempts = (uint32_t)a[3].via.u64;
    q->max_attempts = (uint32_t)a[4].via.u64;
    q->not_before = a[5].via.u64;
    q->lease_ms = (uint32_t)a[6].via.u64;
    memcpy(q->type, t, tlen);
    q->type[tlen] = '\0';
    rc = 0;
done:
    msgpack_unpacked_destroy(&up);
    return rc;
}

int bk_db_load(bk_db_t *db, MDB_txn *txn, bk_db_load_fn *fn, void *arg)
{
    MDB_cursor *cur;
    int rc = mdb_cursor_open(txn, db->queue, &cur);
    if (rc != 0)
        return rc;
    MDB_val key, val;
    bk_qrec_t q;
    size_t n = 0;
    for (rc = mdb_cursor_get(cur, &key, &val, MDB_FIRST); rc == 0;
         rc = mdb_cursor_get(cur, &key, &val, MDB_NEXT)) {
        if (key.mv_size != 8 || s_qrec_decode(&val, &q) != 0) {
            minga_warn("queue: unreadable entry skipped");
            continue;
        }
        if ((rc = fn(arg, minga_key_get_u64(key.mv_data), &q)) != 0)
            break;
        if (++n % 65536 == 0)
            bk_db_trim(db);
    }
    mdb_cursor_close(cur);
    return rc == MDB_NOTFOUND ? 0 : rc;
}

int bk_db_usage(bk_db_t *db, uint64_t *used, uint64_t *map_max)
{
    minga_store_info_t info;
    int rc = minga_store_info(db->store, &info);
    if (rc != 0)
        return rc;
    MDB_txn *txn;
    if ((rc = minga_store_read_begin(db->store, &txn)) != 0)
        return rc;
    MDB_envinfo ei;
    mdb_env_info(minga_store_env(db->store), &ei);
    uint64_t free_pages = 0;
    MDB_cursor *cur;
    if (mdb_cursor_open(txn, 0 /* the free list */, &cur) == 0) {
        MDB_val key, val;
        while (mdb_cursor_get(cur, &key, &val, MDB_NEXT) == 0)
            if (val.mv_size >= sizeof(size_t))
                free_pages += *(const size_t *)val.mv_data;
        mdb_cursor_close(cur);
    }
    mdb_txn_abort(txn);
    uint64_t pages = (uint64_t)ei.me_last_pgno + 1;
    *used = (pages > free_pages ? pages - free_pages : 0) * info.page_size;
    *map_max = info.map_max;
    return 0;
}

void bk_db_trim(bk_db_t *db)
{
    /* LMDB does not tell where it mapped the file (me_mapaddr is only set with MDB_FIXEDMAP):
     * find the mapping of data.mdb in /proc/self/maps. */
    char want[PATH_MAX + 16], line[PATH_MAX + 256];
    snprintf(want, sizeof want, "%s/data.mdb", minga_store_realpath(db->store));
    FILE *f = fopen("/proc/self/maps", "r");
    if (!f)
        return;
    while (fgets(line, sizeof line, f)) {
        line[strcspn(line, "\n")] = '\0';
        size_t len = strlen(line), wlen = strlen(want);
        unsigned long lo, hi;
        if (len < wlen || strcmp(line + len - wlen, want) != 0)
            continue;
        if (sscanf(line, "%lx-%lx", &lo, &hi) == 2 && hi > lo)
            madvise((void *)lo, hi - lo, MADV_DONTNEED);
    }
    fclose(f);
}
