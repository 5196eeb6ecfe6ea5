/*
 * match_store.c: scoring a shard into the store, the atomic merge of a run, and reading the
 * candidates back (see match_store.h for the layout and the protocol of a run).
 *
 * A shard's staging record: {v, gen, shard, shards, demands: N, by_demand: [E...],
 * by_offer: [E...]} where E is one bin (score, reasons, demand, gad, offer, cooperante; see
 * s_pack_entry): one object per entry keeps the merge's unpacking cheap.
 */
#include "minga/match_store.h"

#include "minga/error.h"
#include "minga/io.h"
#include "minga/match_data.h"
#include "minga/match_kernel.h"
#include "minga/mpguard.h"
#include "minga/proto.h"

#include <jansson.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>

#define S_KEY_LEN (MINGA_KEY_ID * 2 + 2)
#define S_STAGING 0x01
#define S_SUMMARY 0x02

/* ---- keys ---- */

static int s_key_event(uint8_t *key, const char *event)
{
    memset(key, 0, S_KEY_LEN);
    return minga_key_id(key, event);
}

static void s_key_staging(uint8_t *key, uint64_t gen, uint32_t shard)
{
    key[MINGA_KEY_ID] = S_STAGING;
    minga_key_u64(key + MINGA_KEY_ID + 1, gen);
    minga_key_u32(key + MINGA_KEY_ID + 9, shard);
}

/* ---- packing a shard ---- */

/* An entry of a shard's lists as one bin: score u32, n u8, n reasons u32, then demand, gad,
 * offer and cooperante, each a length byte and its bytes (big-endian integers). */
static void s_pack_entry(msgpack_packer *pk, const minga_match_data_t *od,
                         const minga_match_data_t *dd, size_t di, size_t oi, int32_t score)
{
    minga_match_why_t why;
    minga_match_pair(&od->ctx, &dd->pdemands[di], &od->poffers[oi], &why);
    const char *str[4] = {dd->demands[di]->id, dd->demands[di]->gad, od->offers[oi]->id,
                          od->offers[oi]->cooperante};
    uint8_t buf[5 + 4 * MINGA_MATCH_REASONS_MAX + 4 * (1 + MINGA_KEY_ID)];
    size_t at = 0;
    minga_key_u32(buf, (uint32_t)score);
    buf[4] = (uint8_t)why.n;
    at = 5;
    for (uint32_t i = 0; i < why.n; i++, at += 4)
        minga_key_u32(buf + at, why.r[i]);
    for (int i = 0; i < 4; i++) {
        size_t n = strlen(str[i]) > MINGA_KEY_ID ? MINGA_KEY_ID : strlen(str[i]);
        buf[at++] = (uint8_t)n;
        memcpy(buf + at, str[i], n);
        at += n;
    }
    msgpack_pack_bin(pk, at);
    msgpack_pack_bin_body(pk, buf, at);
}

static void s_pack_shard(msgpack_packer *pk, const minga_match_shard_t *job,
                         const minga_match_data_t *od, const minga_match_data_t *dd,
                         const minga_match_topk_t *t)
{
    size_t nd = 0, no = 0;
    for (size_t i = 0; i < t->ndemands; i++)
        nd += t->demand_n[i];
    for (size_t i = 0; i < t->noffers; i++)
        no += t->offer_n[i];
    msgpack_pack_map(pk, 7);
    minga_pk_kv_uint(pk, "v", MINGA_MATCH_CANDIDATE_VERSION);
    minga_pk_kv_uint(pk, "gen", job->gen);
    minga_pk_kv_uint(pk, "shard", job->shard);
    minga_pk_kv_uint(pk, "demands", dd->ndemands);
    minga_pk_kv_uint(pk, "shards", job->shards);
    minga_pk_str(pk, "by_demand");
    msgpack_pack_array(pk, (uint32_t)nd);
    for (size_t i = 0; i < t->ndemands; i++)
        for (uint32_t j = 0; j < t->demand_n[i]; j++) {
            const minga_match_item_t *it = &t->demand_top[i * t->k_demand + j];
            s_pack_entry(pk, od, dd, i, it->id, it->score);
        }
    minga_pk_str(pk, "by_offer");
    msgpack_pack_array(pk, (uint32_t)no);
    for (size_t i = 0; i < t->noffers; i++)
        for (uint32_t j = 0; j < t->offer_n[i]; j++) {
            const minga_match_item_t *it = &t->offer_top[i * t->k_offer + j];
            s_pack_entry(pk, od, dd, it->id, i, it->score);
        }
}

/* ---- the merge ---- */

typedef struct {
    const char *p;
    uint32_t n;
} s_sv_t;

/* A parsed entry: demand, gad, offer, cooperante; score; reasons (big-endian u32s). */
typedef struct {
    s_sv_t f[4];
    int32_t score;
    uint32_t nr;
    const uint8_t *r;
} s_entry_t;

static int s_str_cmp(const s_sv_t *a, const s_sv_t *b)
{
    int c = memcmp(a->p, b->p, a->n < b->n ? a->n : b->n);
    return c ? c : a->n < b->n ? -1 : a->n > b->n;
}

/* Demand, then better first (score descending, offer ascending): the rank order. */
static int s_cmp_rank(const void *a, const void *b)
{
    const s_entry_t *x = a, *y = b;
    int c = s_str_cmp(&x->f[0], &y->f[0]);
    if (c)
        return c;
    if (x->score != y->score)
        return x->score > y->score ? -1 : 1;
    return s_str_cmp(&x->f[2], &y->f[2]);
}

/* Parses an entry (untrusted bytes: every length is checked). */
static bool s_entry_parse(const msgpack_object *o, s_entry_t *e)
{
    if (o->type != MSGPACK_OBJECT_BIN || o->via.bin.size < 5)
        return false;
    const uint8_t *b = (const uint8_t *)o->via.bin.ptr;
    size_t len = o->via.bin.size, at = 5;
    e->score = (int32_t)minga_key_get_u32(b);
    e->nr = b[4];
    e->r = b + 5;
    if (e->score < 0 || e->nr > MINGA_MATCH_REASONS_MAX || len < 5 + 4 * (size_t)e->nr)
        return false;
    at += 4 * (size_t)e->nr;
    for (int i = 0; i < 4; i++) {
        if (at >= len || b[at] == 0 || b[at] > MINGA_KEY_ID || at + 1 + b[at] > len)
            return false;
        e->f[i] = (s_sv_t){(const char *)b + at + 1, b[at]};
        at += 1 + (size_t)b[at];
    }
    return at == len;
}

typedef struct {
    const minga_match_shard_t *job;
    minga_store_t *store;
    const char *value; /* this shard's staging record */
    size_t len;
    minga_match_shard_result_t *result;
    char *err;
    size_t errcap;
    /* per attempt */
    char **bufs;
    msgpack_unpacked *ups;
    size_t nbufs;
    s_entry_t *by_demand, *by_offer;
    size_t nd, no;
    size_t *run_start; /* by_offer of staging record b: [run_start[b], run_start[b + 1]) */
} s_commit_t;

static void s_commit_free(s_commit_t *c)
{
    for (size_t i = 0; i < c->nbufs; i++) {
        msgpack_unpacked_destroy(&c->ups[i]);
        free(c->bufs[i]);
    }
    free(c->bufs);
    free(c->ups);
    free(c->by_demand);
    free(c->by_offer);
    free(c->run_start);
    c->run_start = NULL;
    c->bufs = NULL;
    c->ups = NULL;
    c->by_demand = c->by_offer = NULL;
    c->nbufs = c->nd = c->no = 0;
}

/* Appends the entries of list (an array) to *v. */
static int s_add_entries(const msgpack_object *list, s_entry_t **v, size_t *n)
{
    if (!list || list->type != MSGPACK_OBJECT_ARRAY)
        return MINGA_EFORMAT;
    s_entry_t *g = realloc(*v, (*n + list->via.array.size + 1) * sizeof *g);
    if (!g)
        return MINGA_ENOMEM;
    *v = g;
    for (uint32_t i = 0; i < list->via.array.size; i++) {
        if (!s_entry_parse(&list->via.array.ptr[i], &g[*n]))
            return MINGA_EFORMAT;
        (*n)++;
    }
    return 0;
}

/* Reads the run's staging records (copies: the transaction is about to change pages). */
static int s_read_staging(s_commit_t *c, MDB_txn *txn, MDB_dbi dbi, const uint8_t *prefix,
                          uint64_t *demands)
{
    MDB_cursor *cur;
    int rc = mdb_cursor_open(txn, dbi, &cur);
    if (rc)
        return rc;
    c->bufs = calloc(c->job->shards, sizeof *c->bufs);
    c->ups = calloc(c->job->shards, sizeof *c->ups);
    c->run_start = calloc(c->job->shards + 2, sizeof *c->run_start);
    if (!c->bufs || !c->ups || !c->run_start)
        rc = MINGA_ENOMEM;
    uint8_t start[S_KEY_LEN];
    memcpy(start, prefix, S_KEY_LEN);
    MDB_val k = {S_KEY_LEN, start}, v;
    size_t plen = MINGA_KEY_ID + 9;
    for (rc = rc ? rc : mdb_cursor_get(cur, &k, &v, MDB_SET_RANGE); rc == 0;
         rc = mdb_cursor_get(cur, &k, &v, MDB_NEXT)) {
        if (k.mv_size != S_KEY_LEN || memcmp(k.mv_data, prefix, plen) != 0)
            break;
        if (c->nbufs == c->job->shards)
            continue;
        char *buf = malloc(v.mv_size ? v.mv_size : 1);
        if (!buf) {
            rc = MINGA_ENOMEM;
            break;
        }
        memcpy(buf, v.mv_data, v.mv_size);
        c->bufs[c->nbufs] = buf;
        msgpack_unpacked_init(&c->ups[c->nbufs]);
        size_t off = 0;
        c->nbufs++;
        if (minga_mpguard_check(buf, v.mv_size, 8) != 0 ||
            msgpack_unpack_next(&c->ups[c->nbufs - 1], buf, v.mv_size, &off) !=
                MSGPACK_UNPACK_SUCCESS) {
            rc = MINGA_EFORMAT;
            break;
        }
        const msgpack_object *root = &c->ups[c->nbufs - 1].data;
        *demands += minga_pobj_uint(minga_pobj_get(root, "demands"), 0);
        if ((rc = s_add_entries(minga_pobj_get(root, "by_demand"), &c->by_demand, &c->nd)) ||
            (rc = s_add_entries(minga_pobj_get(root, "by_offer"), &c->by_offer, &c->no)))
            break;
        c->run_start[c->nbufs] = c->no;
    }
    mdb_cursor_close(cur);
    return rc == MDB_NOTFOUND ? 0 : rc;
}

/* Score descending, then demand ascending: an offer's order. */
static int s_cmp_for_offer(const void *a, const void *b)
{
    const s_entry_t *x = a, *y = b;
    if (x->score != y->score)
        return x->score > y->score ? -1 : 1;
    return s_str_cmp(&x->f[0], &y->f[0]);
}

/* The offers' top K across shards: each shard's by_offer run is grouped by offer in id order;
 * a k-way merge takes, offer by offer, the groups of every shard and keeps the best K. */
static int s_offer_extras(s_commit_t *c, s_entry_t **out, size_t *n)
{
    size_t nb = c->nbufs, k = c->job->cfg.k_offer;
    size_t *pos = calloc(nb + 1, sizeof *pos);
    s_entry_t *tmp = malloc((nb * k + 1) * sizeof *tmp);
    *out = malloc((c->no + 1) * sizeof **out);
    *n = 0;
    if (!pos || !tmp || !*out) {
        free(pos);
        free(tmp);
        return MINGA_ENOMEM;
    }
    for (size_t b = 0; b < nb; b++)
        pos[b] = c->run_start[b];
    for (;;) {
        const s_sv_t *min = NULL;
        for (size_t b = 0; b < nb; b++)
            if (pos[b] < c->run_start[b + 1] &&
                (!min || s_str_cmp(&c->by_offer[pos[b]].f[2], min) < 0))
                min = &c->by_offer[pos[b]].f[2];
        if (!min)
            break;
        size_t m = 0;
        for (size_t b = 0; b < nb; b++)
            while (pos[b] < c->run_start[b + 1] && s_str_cmp(&c->by_offer[pos[b]].f[2], min) == 0) {
                if (m < nb * k)
                    tmp[m++] = c->by_offer[pos[b]];
                pos[b]++;
            }
        qsort(tmp, m, sizeof *tmp, s_cmp_for_offer);
        for (size_t i = 0; i < m && i < k; i++)
            (*out)[(*n)++] = tmp[i];
    }
    free(pos);
    free(tmp);
    return 0;
}

/* The final list: each demand's own entries plus the offers' top K, deduplicated, in rank
 * order (demand, then score descending, then offer). */
static int s_final(s_commit_t *c, s_entry_t **out, size_t *n)
{
    s_entry_t *extra = NULL;
    size_t ne = 0;
    int rc = s_offer_extras(c, &extra, &ne);
    s_entry_t *all = malloc((c->nd + ne + 1) * sizeof *all);
    if (rc || !all) {
        free(extra);
        free(all);
        return rc ? rc : MINGA_ENOMEM;
    }
    qsort(extra, ne, sizeof *extra, s_cmp_rank);
    for (size_t i = 1; i < c->nd; i++)
        if (s_cmp_rank(&c->by_demand[i - 1], &c->by_demand[i]) > 0) {
            qsort(c->by_demand, c->nd, sizeof *c->by_demand, s_cmp_rank);
            break;
        }
    size_t i = 0, j = 0, w = 0;
    while (i < c->nd || j < ne) {
        const s_entry_t *e = j >= ne || (i < c->nd && s_cmp_rank(&c->by_demand[i], &extra[j]) <= 0)
                                 ? &c->by_demand[i++]
                                 : &extra[j++];
        if (!w || s_cmp_rank(&all[w - 1], e) != 0)
            all[w++] = *e;
    }
    free(extra);
    *out = all;
    *n = w;
    return 0;
}

/* The key and value of a candidate into key and b. */
static void s_pack_candidate(const char *event, const s_entry_t *e, unsigned rank, uint8_t *key,
                             minga_pbuf_t *b)
{
    char demand[MINGA_KEY_ID + 1];
    snprintf(demand, sizeof demand, "%.*s", (int)e->f[0].n, e->f[0].p);
    s_key_event(key, event);
    minga_key_id(key + MINGA_KEY_ID, demand);
    minga_key_u16(key + 2 * MINGA_KEY_ID, (uint16_t)rank);
    static const char *const names[] = {"demand", "gad", "offer", "cooperante"};
    minga_pbuf_reset(b);
    msgpack_pack_map(&b->pk, 7);
    minga_pk_kv_uint(&b->pk, "v", MINGA_MATCH_CANDIDATE_VERSION);
    for (int i = 0; i < 4; i++) {
        minga_pk_str(&b->pk, names[i]);
        minga_pk_strn(&b->pk, e->f[i].p, e->f[i].n);
    }
    minga_pk_str(&b->pk, "score");
    msgpack_pack_uint32(&b->pk, (uint32_t)e->score);
    minga_pk_str(&b->pk, "reasons");
    msgpack_pack_array(&b->pk, e->nr);
    for (uint32_t i = 0; i < e->nr; i++)
        msgpack_pack_uint32(&b->pk, minga_key_get_u32(e->r + 4 * i));
}

/* A stored candidate before the merge: its key and a hash of its value. */
typedef struct {
    uint8_t key[S_KEY_LEN];
    uint64_t hash;
    size_t len;
    bool keep;
} s_old_t;

static uint64_t s_hash(const void *data, size_t len)
{
    const uint8_t *p = data;
    uint64_t h = 0xcbf29ce484222325ull;
    for (size_t i = 0; i < len; i++)
        h = (h ^ p[i]) * 0x100000001b3ull;
    return h;
}

static int s_old_cmp(const void *key, const void *elem)
{
    return memcmp(key, ((const s_old_t *)elem)->key, S_KEY_LEN);
}

/* Lists the event's candidates in *old (key order), and deletes the staging records of run
 * gen and of older runs (abandoned ones, and the parts of an older run still going, which
 * can no longer merge). */
static int s_scan_old(MDB_txn *txn, MDB_dbi dbi, const char *event, uint64_t gen, s_old_t **old,
                      size_t *nold)
{
    size_t cap = 0;
    *old = NULL;
    *nold = 0;
    uint8_t key[S_KEY_LEN];
    s_key_event(key, event);
    MDB_cursor *cur;
    int rc = mdb_cursor_open(txn, dbi, &cur);
    if (rc)
        return rc;
    MDB_val k = {MINGA_KEY_ID, key}, v;
    for (rc = mdb_cursor_get(cur, &k, &v, MDB_SET_RANGE); rc == 0;
         rc = mdb_cursor_get(cur, &k, &v, MDB_NEXT)) {
        const uint8_t *kd = k.mv_data;
        if (k.mv_size < MINGA_KEY_ID || memcmp(kd, key, MINGA_KEY_ID) != 0)
            break;
        if (k.mv_size != S_KEY_LEN)
            continue;
        if (kd[MINGA_KEY_ID] == S_STAGING && minga_key_get_u64(kd + MINGA_KEY_ID + 1) <= gen) {
            if ((rc = mdb_cursor_del(cur, 0)) != 0)
                break;
            continue;
        }
        if (kd[MINGA_KEY_ID] < 'A')
            continue;
        if (*nold == cap) {
            cap = cap ? cap * 2 : 1024;
            s_old_t *g = realloc(*old, cap * sizeof *g);
            if (!g) {
                rc = MINGA_ENOMEM;
                break;
            }
            *old = g;
        }
        s_old_t *o = &(*old)[(*nold)++];
        memcpy(o->key, kd, S_KEY_LEN);
        o->hash = s_hash(v.mv_data, v.mv_size);
        o->len = v.mv_size;
        o->keep = false;
    }
    mdb_cursor_close(cur);
    return rc == MDB_NOTFOUND ? 0 : rc;
}

static int s_put_summary(MDB_txn *txn, MDB_dbi dbi, const s_commit_t *c, uint64_t demands,
                         size_t candidates, minga_pbuf_t *b)
{
    uint8_t key[S_KEY_LEN];
    s_key_event(key, c->job->event);
    key[MINGA_KEY_ID] = S_SUMMARY;
    minga_pbuf_reset(b);
    msgpack_pack_map(&b->pk, 6);
    minga_pk_kv_uint(&b->pk, "v", MINGA_MATCH_CANDIDATE_VERSION);
    minga_pk_kv_uint(&b->pk, "gen", c->job->gen);
    minga_pk_kv_uint(&b->pk, "shards", c->job->shards);
    minga_pk_kv_uint(&b->pk, "demands", demands);
    minga_pk_kv_uint(&b->pk, "candidates", candidates);
    minga_pk_kv_uint(&b->pk, "finished_at", minga_now_ms());
    MDB_val k = {S_KEY_LEN, key}, v = {b->sbuf.size, b->sbuf.data};
    return mdb_put(txn, dbi, &k, &v, 0);
}

static int s_merge(s_commit_t *c, MDB_txn *txn, MDB_dbi dbi, const uint8_t *prefix)
{
    uint64_t demands = 0;
    s_entry_t *fin = NULL;
    size_t n = 0;
    int rc = s_read_staging(c, txn, dbi, prefix, &demands);
    if (rc == MINGA_EFORMAT)
        snprintf(c->err, c->errcap, "a stored shard result of run %llu cannot be read",
                 (unsigned long long)c->job->gen);
    s_old_t *old = NULL;
    size_t nold = 0;
    if (rc || (rc = s_final(c, &fin, &n)) != 0 ||
        (rc = s_scan_old(txn, dbi, c->job->event, c->job->gen, &old, &nold)))
        goto done;
    minga_pbuf_t b;
    minga_pbuf_init(&b);
    unsigned rank = 0;
    /* write what changed, keep what did not, delete what is gone */
    for (size_t i = 0; i < n && !rc; i++) {
        rank = i > 0 && s_str_cmp(&fin[i].f[0], &fin[i - 1].f[0]) == 0 ? rank + 1 : 1;
        uint8_t key[S_KEY_LEN];
        s_pack_candidate(c->job->event, &fin[i], rank, key, &b);
        s_old_t *o = nold ? bsearch(key, old, nold, sizeof *old, s_old_cmp) : NULL;
        if (o)
            o->keep = true;
        if (o && o->len == b.sbuf.size && o->hash == s_hash(b.sbuf.data, b.sbuf.size))
            continue;
        MDB_val k = {S_KEY_LEN, key}, v = {b.sbuf.size, b.sbuf.data};
        rc = mdb_put(txn, dbi, &k, &v, 0);
    }
    for (size_t i = 0; i < nold && !rc; i++) {
        MDB_val k = {S_KEY_LEN, old[i].key};
        if (!old[i].keep)
            rc = mdb_del(txn, dbi, &k, NULL);
    }
    if (!rc)
        rc = s_put_summary(txn, dbi, c, demands, n, &b);
    minga_pbuf_clear(&b);
    c->result->merged = rc == 0;
    c->result->total_demands = demands;
    c->result->total_candidates = n;
done:
    free(old);
    free(fin);
    return rc;
}

/* The write: this shard's staging record, then the merge when the run is complete. */
static int s_commit(MDB_txn *txn, void *arg)
{
    s_commit_t *c = arg;
    s_commit_free(c);
    c->result->merged = c->result->already = false;
    MDB_dbi dbi = minga_store_dbi(c->store, MINGA_DB_CANDIDATE);
    minga_match_summary_t sum;
    uint8_t key[S_KEY_LEN];
    s_key_event(key, c->job->event);
    key[MINGA_KEY_ID] = S_SUMMARY;
    MDB_val k = {S_KEY_LEN, key}, v;
    if (mdb_get(txn, dbi, &k, &v) == 0) {
        msgpack_unpacked up;
        msgpack_unpacked_init(&up);
        size_t off = 0;
        if (minga_mpguard_check(v.mv_data, v.mv_size, 4) == 0 &&
            msgpack_unpack_next(&up, v.mv_data, v.mv_size, &off) == MSGPACK_UNPACK_SUCCESS) {
            sum.gen = minga_pobj_uint(minga_pobj_get(&up.data, "gen"), 0);
            c->result->already = sum.gen >= c->job->gen;
        }
        msgpack_unpacked_destroy(&up);
        if (c->result->already)
            return 0;
    }
    s_key_staging(key, c->job->gen, c->job->shard);
    MDB_val sv = {c->len, (void *)c->value};
    int rc = mdb_put(txn, dbi, &k, &sv, 0);
    if (rc)
        return rc;
    /* count the run's staging records */
    uint8_t prefix[S_KEY_LEN];
    memcpy(prefix, key, S_KEY_LEN);
    memset(prefix + MINGA_KEY_ID + 9, 0, S_KEY_LEN - MINGA_KEY_ID - 9);
    MDB_cursor *cur;
    if ((rc = mdb_cursor_open(txn, dbi, &cur)) != 0)
        return rc;
    size_t have = 0;
    MDB_val ck = {S_KEY_LEN, prefix}, cv;
    for (rc = mdb_cursor_get(cur, &ck, &cv, MDB_SET_RANGE); rc == 0;
         rc = mdb_cursor_get(cur, &ck, &cv, MDB_NEXT)) {
        if (ck.mv_size != S_KEY_LEN || memcmp(ck.mv_data, prefix, MINGA_KEY_ID + 9) != 0)
            break;
        have++;
    }
    mdb_cursor_close(cur);
    if (rc && rc != MDB_NOTFOUND)
        return rc;
    if (have < c->job->shards)
        return 0;
    rc = s_merge(c, txn, dbi, prefix);
    return rc;
}

/* ---- one shard ---- */

static int s_check_job(const minga_match_shard_t *job, char *err, size_t errcap)
{
    if (!job->event || !minga_id_valid(job->event)) {
        snprintf(err, errcap, "event: not a valid id");
        return MINGA_EINVAL;
    }
    if (job->shards < 1 || job->shards > MINGA_PROTO_MAX_BATCH || job->shard >= job->shards) {
        snprintf(err, errcap, "shard %u of %u: out of range", job->shard, job->shards);
        return MINGA_EINVAL;
    }
    if ((job->from && strlen(job->from) > MINGA_KEY_ID) ||
        (job->to && strlen(job->to) > MINGA_KEY_ID)) {
        snprintf(err, errcap, "from/to: longer than 32 bytes");
        return MINGA_EINVAL;
    }
    return 0;
}

/* ---- the offers of the last run, kept between shards ---- */

/* Everything a shard needs but its demands — the event, GADs, offers, participants,
 * preferences, prepared, with the context and the kernel — kept for the next shard while the
 * stored records and the settings it was built from are unchanged (fp: a hash of their stored
 * bytes and of the settings). One per process; handlers take turns on it. */
static struct {
    pthread_mutex_t lock;
    bool ok;
    uint64_t fp;
    minga_match_data_t d;
    minga_match_kernel_t *k;
} s_cache = {.lock = PTHREAD_MUTEX_INITIALIZER};

static uint64_t s_fnv(uint64_t h, const void *data, size_t len)
{
    const uint8_t *p = data;
    for (size_t i = 0; i < len; i++)
        h = (h ^ p[i]) * 0x100000001b3ull;
    return h;
}

/* Hashes the keys and values of db under prefix[0..plen) into *h. */
static int s_fp_db(minga_store_t *store, MDB_txn *txn, minga_db_t db, const uint8_t *prefix,
                   size_t plen, uint64_t *h)
{
    MDB_cursor *cur = NULL;
    int rc = mdb_cursor_open(txn, minga_store_dbi(store, db), &cur);
    if (rc)
        return rc;
    uint8_t start[MINGA_KEY_ID] = {0};
    if (plen)
        memcpy(start, prefix, plen);
    MDB_val k = {plen, start}, v;
    for (rc = mdb_cursor_get(cur, &k, &v, plen ? MDB_SET_RANGE : MDB_FIRST); rc == 0;
         rc = mdb_cursor_get(cur, &k, &v, MDB_NEXT)) {
        if (plen && (k.mv_size < plen || memcmp(k.mv_data, prefix, plen) != 0))
            break;
        *h = s_fnv(s_fnv(*h, k.mv_data, k.mv_size), v.mv_data, v.mv_size);
    }
    mdb_cursor_close(cur);
    return rc == MDB_NOTFOUND ? 0 : rc;
}

static int s_fingerprint(minga_store_t *store, MDB_txn *txn, const minga_match_shard_t *job,
                         uint64_t *fp)
{
    uint8_t ev[MINGA_KEY_ID];
    minga_key_id(ev, job->event);
    uint64_t h = s_fnv(0xcbf29ce484222325ull, &job->cfg, sizeof job->cfg);
    h = s_fnv(h, ev, sizeof ev);
    int rc = s_fp_db(store, txn, MINGA_DB_EVENT, ev, MINGA_KEY_ID, &h);
    if (!rc)
        rc = s_fp_db(store, txn, MINGA_DB_GAD, NULL, 0, &h);
    if (!rc)
        rc = s_fp_db(store, txn, MINGA_DB_OFFER, NULL, 0, &h);
    if (!rc)
        rc = s_fp_db(store, txn, MINGA_DB_PARTICIPANT, ev, MINGA_KEY_ID, &h);
    if (!rc)
        rc = s_fp_db(store, txn, MINGA_DB_PREFERENCE, ev, MINGA_KEY_ID, &h);
    *fp = h;
    return rc;
}

void minga_match_cache_clear(void)
{
    pthread_mutex_lock(&s_cache.lock);
    minga_match_kernel_destroy(&s_cache.k);
    if (s_cache.ok)
        minga_match_data_clear(&s_cache.d);
    s_cache.ok = false;
    pthread_mutex_unlock(&s_cache.lock);
}

/* Makes s_cache hold the offers of txn's snapshot (lock held). */
static int s_cache_fill(minga_store_t *store, MDB_txn *txn, const minga_match_shard_t *job,
                        char *err, size_t errcap)
{
    uint64_t fp;
    int rc = s_fingerprint(store, txn, job, &fp);
    if (rc)
        return rc;
    if (s_cache.ok && s_cache.fp == fp && strcmp(s_cache.d.event_id, job->event) == 0)
        return 0;
    minga_match_kernel_destroy(&s_cache.k);
    if (s_cache.ok)
        minga_match_data_clear(&s_cache.d);
    s_cache.ok = false;
    minga_match_data_init(&s_cache.d, job->event);
    s_cache.d.no_demands = true;
    rc = minga_match_data_load(&s_cache.d, store, txn, NULL, NULL, err, errcap);
    if (rc == 0)
        rc = minga_match_data_prepare(&s_cache.d, &job->cfg, err, errcap);
    if (rc == 0)
        rc = minga_match_kernel_new(&s_cache.k, &s_cache.d.ctx, s_cache.d.poffers,
                                    s_cache.d.noffers);
    if (rc) {
        minga_match_data_clear(&s_cache.d);
        return rc;
    }
    s_cache.ok = true;
    s_cache.fp = fp;
    return 0;
}

/* Reads (the offers from the cache when unchanged), prepares and scores; packs the result
 * into b. */
static int s_score_shard(minga_store_t *store, const minga_match_shard_t *job, minga_pbuf_t *b,
                         minga_match_shard_result_t *result, char *err, size_t errcap)
{
    minga_match_data_t dd;
    minga_match_data_init(&dd, job->event);
    minga_match_topk_t t;
    memset(&t, 0, sizeof t);
    MDB_txn *txn = NULL;
    pthread_mutex_lock(&s_cache.lock);
    int rc = minga_store_read_begin(store, &txn);
    if (rc == 0)
        rc = s_cache_fill(store, txn, job, err, errcap);
    if (rc == 0)
        rc = minga_match_data_load_demands(&dd, store, txn, job->from, job->to, err, errcap);
    if (txn)
        mdb_txn_abort(txn);
    if (rc == 0)
        rc = minga_match_data_prepare_demands(&dd, err, errcap);
    const minga_match_data_t *od = &s_cache.d;
    uint64_t t0 = minga_now_ms();
    if (rc == 0 && (rc = minga_match_topk_init(&t, dd.ndemands, od->noffers, od->ctx.k_demand,
                                               od->ctx.k_offer)) == 0) {
        minga_match_kernel_score(s_cache.k, dd.pdemands, dd.ndemands, &t, MINGA_MATCH_PATH_AUTO);
        minga_match_topk_finish(&t);
        result->score_ms = minga_now_ms() - t0;
        s_pack_shard(&b->pk, job, od, &dd, &t);
        result->demands = dd.ndemands;
        result->offers = od->noffers;
        for (size_t i = 0; i < od->noffers; i++)
            result->active_offers += od->poffers[i].valid && od->poffers[i].attends;
        for (size_t i = 0; i < dd.ndemands; i++)
            result->pairs_kept += t.demand_n[i];
    }
    pthread_mutex_unlock(&s_cache.lock);
    minga_match_topk_clear(&t);
    minga_match_data_clear(&dd);
    return rc;
}

int minga_match_run_shard(minga_store_t *store, const minga_match_shard_t *job,
                          minga_match_progress_fn *progress, void *arg,
                          minga_match_shard_result_t *result, char *err, size_t errcap)
{
    memset(result, 0, sizeof *result);
    err[0] = 0;
    int rc = s_check_job(job, err, errcap);
    if (rc)
        return rc;
    if (progress)
        progress(0, 3, "leyendo ofertas y demandas", arg);
    minga_pbuf_t b;
    minga_pbuf_init(&b);
    uint64_t t0 = minga_now_ms();
    rc = s_score_shard(store, job, &b, result, err, errcap);
    uint64_t t1 = minga_now_ms();
    result->read_ms = t1 - t0 - result->score_ms;
    if (rc == 0) {
        if (progress)
            progress(2, 3, "guardando candidatos", arg);
        s_commit_t c = {.job = job,
                        .store = store,
                        .value = b.sbuf.data,
                        .len = b.sbuf.size,
                        .result = result,
                        .err = err,
                        .errcap = errcap};
        rc = minga_store_write(store, s_commit, &c);
        s_commit_free(&c);
        result->store_ms = minga_now_ms() - t1;
        if (rc && !err[0])
            snprintf(err, errcap, "storing the shard's candidates: %s", minga_strerror(rc));
    } else if (!err[0]) {
        snprintf(err, errcap, "%s", minga_strerror(rc));
    }
    minga_pbuf_clear(&b);
    if (rc == 0 && progress)
        progress(3, 3, result->merged ? "candidatos del evento reemplazados" : "fragmento listo",
                 arg);
    return rc;
}

/* ---- reading ---- */

static int s_read_candidate(const MDB_val *k, const MDB_val *v, minga_match_candidate_fn *fn,
                            void *arg)
{
    msgpack_unpacked up;
    msgpack_unpacked_init(&up);
    size_t off = 0;
    int rc = MINGA_EFORMAT;
    uint32_t reasons[64];
    char s[4][MINGA_KEY_ID + 1];
    if (minga_mpguard_check(v->mv_data, v->mv_size, 4) != 0 ||
        msgpack_unpack_next(&up, v->mv_data, v->mv_size, &off) != MSGPACK_UNPACK_SUCCESS)
        goto done;
    static const char *const names[] = {"demand", "gad", "offer", "cooperante"};
    for (int i = 0; i < 4; i++) {
        size_t len;
        const char *p = minga_pobj_str(minga_pobj_get(&up.data, names[i]), &len);
        if (!p || len > MINGA_KEY_ID)
            goto done;
        memcpy(s[i], p, len);
        s[i][len] = 0;
    }
    const msgpack_object *sc = minga_pobj_get(&up.data, "score");
    const msgpack_object *rs = minga_pobj_get(&up.data, "reasons");
    if (!sc || sc->type != MSGPACK_OBJECT_POSITIVE_INTEGER || !rs ||
        rs->type != MSGPACK_OBJECT_ARRAY)
        goto done;
    size_t nr = 0;
    for (uint32_t i = 0; i < rs->via.array.size && nr < 64; i++)
        if (rs->via.array.ptr[i].type == MSGPACK_OBJECT_POSITIVE_INTEGER)
            reasons[nr++] = (uint32_t)rs->via.array.ptr[i].via.u64;
    minga_match_candidate_t c = {s[0],
                                 s[1],
                                 s[2],
                                 s[3],
                                 minga_key_get_u16((const uint8_t *)k->mv_data + 2 * MINGA_KEY_ID),
                                 (int32_t)sc->via.u64,
                                 reasons,
                                 nr};
    rc = fn(&c, arg);
done:
    msgpack_unpacked_destroy(&up);
    return rc;
}

int minga_match_candidates_each(minga_store_t *store, const char *event,
                                minga_match_candidate_fn *fn, void *arg)
{
    uint8_t key[S_KEY_LEN];
    if (s_key_event(key, event) != 0)
        return MINGA_EINVAL;
    MDB_txn *txn = NULL;
    MDB_cursor *cur = NULL;
    int rc = minga_store_read_begin(store, &txn);
    if (rc || (rc = mdb_cursor_open(txn, minga_store_dbi(store, MINGA_DB_CANDIDATE), &cur)))
        goto done;
    MDB_val k = {MINGA_KEY_ID, key}, v;
    for (rc = mdb_cursor_get(cur, &k, &v, MDB_SET_RANGE); rc == 0;
         rc = mdb_cursor_get(cur, &k, &v, MDB_NEXT)) {
        const uint8_t *kd = k.mv_data;
        if (k.mv_size < MINGA_KEY_ID || memcmp(kd, key, MINGA_KEY_ID) != 0)
            break;
        if (k.mv_size != S_KEY_LEN || kd[MINGA_KEY_ID] < 'A')
            continue;
        if ((rc = s_read_candidate(&k, &v, fn, arg)) != 0)
            break;
    }
    if (rc == MDB_NOTFOUND)
        rc = 0;
done:
    if (cur)
        mdb_cursor_close(cur);
    if (txn)
        mdb_txn_abort(txn);
    return rc;
}

int minga_match_summary(minga_store_t *store, const char *event, minga_match_summary_t *s)
{
    memset(s, 0, sizeof *s);
    uint8_t key[S_KEY_LEN];
    if (s_key_event(key, event) != 0)
        return MINGA_EINVAL;
    key[MINGA_KEY_ID] = S_SUMMARY;
    MDB_txn *txn = NULL;
    int rc = minga_store_read_begin(store, &txn);
    MDB_val k = {S_KEY_LEN, key}, v;
    if (rc == 0 && (rc = mdb_get(txn, minga_store_dbi(store, MINGA_DB_CANDIDATE), &k, &v)) == 0) {
        msgpack_unpacked up;
        msgpack_unpacked_init(&up);
        size_t off = 0;
        rc = MINGA_EFORMAT;
        if (minga_mpguard_check(v.mv_data, v.mv_size, 4) == 0 &&
            msgpack_unpack_next(&up, v.mv_data, v.mv_size, &off) == MSGPACK_UNPACK_SUCCESS) {
            s->gen = minga_pobj_uint(minga_pobj_get(&up.data, "gen"), 0);
            s->shards = minga_pobj_uint(minga_pobj_get(&up.data, "shards"), 0);
            s->demands = minga_pobj_uint(minga_pobj_get(&up.data, "demands"), 0);
            s->candidates = minga_pobj_uint(minga_pobj_get(&up.data, "candidates"), 0);
            s->finished_at = minga_pobj_uint(minga_pobj_get(&up.data, "finished_at"), 0);
            rc = 0;
        }
        msgpack_unpacked_destroy(&up);
    }
    if (rc == MDB_NOTFOUND)
        rc = MINGA_ENOTFOUND;
    if (txn)
        mdb_txn_abort(txn);
    return rc;
}

/* ---- export ---- */

char *minga_match_score_text(int32_t score, char *buf, size_t cap)
{
    if (score < 0)
        snprintf(buf, cap, "-");
    else
        snprintf(buf, cap, "%d.%02d", score / 100, score % 100);
    return buf;
}

typedef struct {
    FILE *out;
    minga_format_t fmt;
    size_t count;
} s_export_t;

static void s_json_str(FILE *out, const char *s)
{
    json_t *j = json_string(s);
    char *t = j ? json_dumps(j, JSON_ENCODE_ANY) : NULL;
    fputs(t ? t : "\"\"", out);
    free(t);
    json_decref(j);
}

static int s_export_row(const minga_match_candidate_t *c, void *arg)
{
    s_export_t *x = arg;
    char score[32], text[512];
    minga_match_score_text(c->score, score, sizeof score);
    if (x->fmt == MINGA_FORMAT_CSV) {
        char reasons[4096] = "";
        size_t at = 0;
        for (size_t i = 0; i < c->nreasons && at < sizeof reasons; i++)
            at += (size_t)snprintf(reasons + at, sizeof reasons - at, "%s%s", i ? " | " : "",
                                   minga_match_reason_text(c->reasons[i], text, sizeof text));
        const char *f[] = {c->demand, c->gad, c->offer, c->cooperante};
        for (int i = 0; i < 4; i++) {
            minga_csv_put_field(x->out, f[i]);
            fputc(';', x->out);
        }
        fprintf(x->out, "%u;%s;", c->rank, score);
        minga_csv_put_field(x->out, reasons);
        fputc('\n', x->out);
    } else {
        fputs(x->count ? ",\n  {" : "\n  {", x->out);
        const char *keys[] = {"demand_id", "gad", "offer_id", "cooperante"};
        const char *f[] = {c->demand, c->gad, c->offer, c->cooperante};
        for (int i = 0; i < 4; i++) {
            fprintf(x->out, "\"%s\": ", keys[i]);
            s_json_str(x->out, f[i]);
            fputs(", ", x->out);
        }
        fprintf(x->out, "\"rank\": %u, \"score\": %s, \"reasons\": [", c->rank, score);
        for (size_t i = 0; i < c->nreasons; i++) {
            fputs(i ? ", " : "", x->out);
            s_json_str(x->out, minga_match_reason_text(c->reasons[i], text, sizeof text));
        }
        fputs("]}", x->out);
    }
    x->count++;
    return ferror(x->out) ? MINGA_EIO : 0;
}

int minga_match_export(minga_store_t *store, const char *event, bool json, FILE *out, size_t *count)
{
    minga_format_t fmt = json ? MINGA_FORMAT_JSON : MINGA_FORMAT_CSV;
    s_export_t x = {out, fmt, 0};
    if (fmt == MINGA_FORMAT_CSV)
        fputs("\xEF\xBB\xBF"
              "demand_id;gad;offer_id;cooperante;rank;score;reasons\n",
              out);
    else
        fputs("[", out);
    int rc = minga_match_candidates_each(store, event, s_export_row, &x);
    if (fmt == MINGA_FORMAT_JSON)
        fputs(x.count ? "\n]\n" : "]\n", out);
    if (fflush(out) != 0 && rc == 0)
        rc = MINGA_EIO;
    *count = x.count;
    return rc;
}
