/*
 * match_store.c: scoring a shard into the store, the merge that completes a run, and reading
 * the candidates back (see match_store.h for the layout and the protocol of a run).
 *
 * A shard's staging record is a flat big-endian byte string, written and read only here:
 *   header  "MST2", gen u64, base u64, shard u32, shards u32, demands u32, nd u32, no u32,
 *           from and to (each a u8 length and its bytes; length 0: no bound)
 *   lists   nd times, in demand id order: demand (u8 length, bytes), changed u8, n u8, then
 *           n entries, best first (u16 length, E)
 *   offers  no times, in offer id order: offer (u8 length, bytes), m u8, then m times, best
 *           first: score u32, list u32 (the demand's index among the lists), x u32 (the
 *           pair's index in the table, or S_OWN when it is in the demand's own list)
 *   table   u32 count, then per pair not in its demand's own list: the offset of its E in
 *           bins u32, and h1 u64, h2 u64, a hash of E and of the own list's length n
 *   bins    u32 size, then entries (u16 length, E)
 * E is one entry as s_entry_bin() writes it. base is the generation of the candidates in
 * place in the snapshot the shard compared against; changed says that a demand's own list
 * differs from the one in place there (a demand with candidates in place and none now is a
 * list of n 0, changed). A merge whose generation in place is still base rewrites only the
 * changed lists; otherwise it compares every list of the shard again.
 *
 * Merge invariants (s_merge):
 *  1. It only reads until every write is decided: the writes are copied into a list and
 *     applied after the last read, so no pointer into a stored value outlives a change.
 *  2. An offer's run-wide top K is taken from the shards' per-offer lists (each the shard's
 *     best K, best first, ties by demand id), best first, ties by demand id.
 *  3. A demand's extras are the pairs of those lists that are not in its own list, which all
 *     rank below its own (own lists are the best K by score, then offer id); they take the
 *     ranks after the own ones, by score, then offer id.
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
#include <time.h>

#define S_KEY_LEN (MINGA_KEY_ID * 2 + 2)
#define S_XKEY_LEN (S_KEY_LEN + 1)
#define S_STAGING 0x01
#define S_SUMMARY 0x02
#define S_EXTRA 0x03
#define S_OWN 0xFFFFFFFFu
#define S_NO_BASE UINT64_MAX /* compared with no generation: never the one in place */
#define S_MAGIC "MST2"
#define S_BIN_MAX (5 + 4 * MINGA_MATCH_REASONS_MAX + 4 * (1 + MINGA_KEY_ID))

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

/* A demand's own candidate: event + demand + rank (S_KEY_LEN bytes). */
static void s_key_own(uint8_t *key, const uint8_t *ev, const void *d, size_t dn, unsigned rank)
{
    memcpy(key, ev, MINGA_KEY_ID);
    memset(key + MINGA_KEY_ID, 0, MINGA_KEY_ID);
    memcpy(key + MINGA_KEY_ID, d, dn);
    minga_key_u16(key + 2 * MINGA_KEY_ID, (uint16_t)rank);
}

/* An extra candidate: event + S_EXTRA + demand + rank (S_XKEY_LEN bytes). */
static void s_key_extra(uint8_t *key, const uint8_t *ev, const void *d, size_t dn, unsigned rank)
{
    memcpy(key, ev, MINGA_KEY_ID);
    key[MINGA_KEY_ID] = S_EXTRA;
    memset(key + MINGA_KEY_ID + 1, 0, MINGA_KEY_ID);
    memcpy(key + MINGA_KEY_ID + 1, d, dn);
    minga_key_u16(key + 2 * MINGA_KEY_ID + 1, (uint16_t)rank);
}

/* ---- entries and candidate values ---- */

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

static int s_id_cmp(const uint8_t *a, size_t an, const uint8_t *b, size_t bn)
{
    s_sv_t x = {(const char *)a, (uint32_t)an}, y = {(const char *)b, (uint32_t)bn};
    return s_str_cmp(&x, &y);
}

/* An entry as bytes into buf (S_BIN_MAX): score u32, n u8, n reasons u32, then demand, gad,
 * offer and cooperante, each a length byte and its bytes. Returns its length. */
static size_t s_entry_bin(uint8_t *buf, const minga_match_data_t *od, const minga_match_data_t *dd,
                          size_t di, size_t oi, int32_t score)
{
    minga_match_why_t why;
    minga_match_pair(&od->ctx, &dd->pdemands[di], &od->poffers[oi], &why);
    const char *str[4] = {dd->demands[di]->id, dd->demands[di]->gad, od->offers[oi]->id,
                          od->offers[oi]->cooperante};
    minga_key_u32(buf, (uint32_t)score);
    buf[4] = (uint8_t)why.n;
    size_t at = 5;
    for (uint32_t i = 0; i < why.n; i++, at += 4)
        minga_key_u32(buf + at, why.r[i]);
    for (int i = 0; i < 4; i++) {
        size_t n = strlen(str[i]) > MINGA_KEY_ID ? MINGA_KEY_ID : strlen(str[i]);
        buf[at++] = (uint8_t)n;
        memcpy(buf + at, str[i], n);
        at += n;
    }
    return at;
}

/* Parses an entry (every length is checked). */
static bool s_entry_parse(const uint8_t *b, size_t len, s_entry_t *e)
{
    if (len < 5)
        return false;
    size_t at = 5;
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

/* The stored value of a candidate into b. */
static void s_pack_value(const s_entry_t *e, minga_pbuf_t *b)
{
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

/* The value of the entry bytes b[0..len) into pb; false when they do not parse. */
static bool s_bin_value(const uint8_t *b, size_t len, minga_pbuf_t *pb)
{
    s_entry_t e;
    if (!s_entry_parse(b, len, &e))
        return false;
    s_pack_value(&e, pb);
    return true;
}

static bool s_same(const MDB_val *v, const minga_pbuf_t *b)
{
    return v->mv_size == b->sbuf.size && memcmp(v->mv_data, b->sbuf.data, v->mv_size) == 0;
}

/* ---- a byte string being written ---- */

typedef struct {
    msgpack_sbuffer sb;
    bool oom;
} s_out_t;

static void s_bytes(s_out_t *o, const void *p, size_t n)
{
    if (!o->oom && n && msgpack_sbuffer_write(&o->sb, p, n) != 0)
        o->oom = true;
}

static void s_u8(s_out_t *o, uint8_t v)
{
    s_bytes(o, &v, 1);
}

static void s_u16(s_out_t *o, uint16_t v)
{
    uint8_t b[2];
    minga_key_u16(b, v);
    s_bytes(o, b, 2);
}

static void s_u32(s_out_t *o, uint32_t v)
{
    uint8_t b[4];
    minga_key_u32(b, v);
    s_bytes(o, b, 4);
}

static void s_u64(s_out_t *o, uint64_t v)
{
    uint8_t b[8];
    minga_key_u64(b, v);
    s_bytes(o, b, 8);
}

static void s_str8(s_out_t *o, const void *p, size_t n)
{
    s_u8(o, (uint8_t)n);
    s_bytes(o, p, n);
}

/* Writes v at offset at (already written). */
static void s_patch32(s_out_t *o, size_t at, uint32_t v)
{
    if (!o->oom)
        minga_key_u32((uint8_t *)o->sb.data + at, v);
}

/* ---- packing a shard ---- */

/* Adds len bytes to the two 64-bit hashes h (eight bytes at a time). */
static void s_hash2(uint64_t h[2], const void *data, size_t len)
{
    const uint8_t *p = data;
    uint64_t a = h[0] ^ len, b = h[1] + len;
    for (size_t i = 0; i < len; i += 8) {
        uint64_t w = 0;
        memcpy(&w, p + i, len - i < 8 ? len - i : 8);
        a = (a ^ w) * 0x100000001b3ull;
        a ^= a >> 31;
        b = (b + w) * 0x9e3779b97f4a7c15ull;
        b = (b << 27 | b >> 37) ^ (b >> 17);
    }
    h[0] = a;
    h[1] = b;
}

/* The final mix of a pair's hash (MurmurHash3's fmix64), so that sums of them stay uniform. */
static uint64_t s_fmix(uint64_t h)
{
    h ^= h >> 33;
    h *= 0xff51afd7ed558ccdull;
    h ^= h >> 33;
    h *= 0xc4ceb9fe1a85ec53ull;
    return h ^ h >> 33;
}

/* What the summary in place says: its generation (0: never scored, or unreadable) and the
 * hash of its extras (s_extras), when it has one. */
typedef struct {
    uint64_t gen;
    uint64_t xh[2];
    bool has_xh;
} s_place_t;

static s_place_t s_in_place(MDB_txn *txn, MDB_dbi dbi, const uint8_t *ev)
{
    uint8_t key[S_KEY_LEN];
    memcpy(key, ev, MINGA_KEY_ID);
    memset(key + MINGA_KEY_ID, 0, S_KEY_LEN - MINGA_KEY_ID);
    key[MINGA_KEY_ID] = S_SUMMARY;
    MDB_val k = {S_KEY_LEN, key}, v;
    s_place_t p = {0, {0, 0}, false};
    if (mdb_get(txn, dbi, &k, &v) != 0)
        return p;
    msgpack_unpacked up;
    msgpack_unpacked_init(&up);
    size_t off = 0;
    if (minga_mpguard_check(v.mv_data, v.mv_size, 4) == 0 &&
        msgpack_unpack_next(&up, v.mv_data, v.mv_size, &off) == MSGPACK_UNPACK_SUCCESS) {
        p.gen = minga_pobj_uint(minga_pobj_get(&up.data, "gen"), 0);
        const msgpack_object *h1 = minga_pobj_get(&up.data, "extras_h1");
        const msgpack_object *h2 = minga_pobj_get(&up.data, "extras_h2");
        p.has_xh = h1 && h2 && h1->type == MSGPACK_OBJECT_POSITIVE_INTEGER &&
                   h2->type == MSGPACK_OBJECT_POSITIVE_INTEGER;
        p.xh[0] = minga_pobj_uint(h1, 0);
        p.xh[1] = minga_pobj_uint(h2, 0);
    }
    msgpack_unpacked_destroy(&up);
    return p;
}

/* The shard's walk over the own candidates in place of its range, beside its demands. */
typedef struct {
    MDB_cursor *cur;
    MDB_val k, v;
    int rc;
    uint8_t ev[MINGA_KEY_ID];
    uint8_t to[MINGA_KEY_ID]; /* upper bound (padded), when has_to */
    bool has_to;
} s_live_t;

/* The cursor is on an own candidate of the range. */
static bool s_live_ok(const s_live_t *l)
{
    const uint8_t *kd = l->k.mv_data;
    return l->rc == 0 && l->k.mv_size == S_KEY_LEN && memcmp(kd, l->ev, MINGA_KEY_ID) == 0 &&
           kd[MINGA_KEY_ID] >= 'A' &&
           (!l->has_to || memcmp(kd + MINGA_KEY_ID, l->to, MINGA_KEY_ID) < 0);
}

static void s_live_next(s_live_t *l)
{
    l->rc = mdb_cursor_get(l->cur, &l->k, &l->v, MDB_NEXT);
}

/* The cursor is on an own candidate of demand pad (32 bytes). */
static bool s_live_at(const s_live_t *l, const uint8_t *pad)
{
    return s_live_ok(l) &&
           memcmp((const uint8_t *)l->k.mv_data + MINGA_KEY_ID, pad, MINGA_KEY_ID) == 0;
}

static unsigned s_live_rank(const s_live_t *l)
{
    return minga_key_get_u16((const uint8_t *)l->k.mv_data + 2 * MINGA_KEY_ID);
}

/* Positions l on the first own candidate at or after demand id from ("" or NULL: the first). */
static int s_live_open(s_live_t *l, MDB_txn *txn, MDB_dbi dbi, const uint8_t *ev, const char *from,
                       const char *to)
{
    memcpy(l->ev, ev, MINGA_KEY_ID);
    l->has_to = to && *to;
    memset(l->to, 0, sizeof l->to);
    if (l->has_to)
        memcpy(l->to, to, strlen(to));
    int rc = mdb_cursor_open(txn, dbi, &l->cur);
    if (rc)
        return rc;
    uint8_t start[S_KEY_LEN];
    s_key_own(start, ev, from && *from ? from : "A", from && *from ? strlen(from) : 1, 0);
    l->k = (MDB_val){S_KEY_LEN, start};
    l->rc = mdb_cursor_get(l->cur, &l->k, &l->v, MDB_SET_RANGE);
    return l->rc == MDB_NOTFOUND ? 0 : l->rc;
}

/* A demand in place that has no candidates now: a list of n 0, changed. Skips its records. */
static void s_pack_gone(s_out_t *o, s_live_t *l)
{
    uint8_t pad[MINGA_KEY_ID];
    memcpy(pad, (const uint8_t *)l->k.mv_data + MINGA_KEY_ID, MINGA_KEY_ID);
    s_str8(o, pad, strnlen((const char *)pad, MINGA_KEY_ID));
    s_u8(o, 1);
    s_u8(o, 0);
    while (s_live_at(l, pad))
        s_live_next(l);
}

/* Demand di's own list, compared with the one in place. Returns false on a bad entry. */
static bool s_pack_list(s_out_t *o, s_live_t *l, const minga_match_data_t *od,
                        const minga_match_data_t *dd, const minga_match_topk_t *t, size_t di,
                        const uint8_t *pad, minga_pbuf_t *val)
{
    uint32_t n = t->demand_n[di];
    s_str8(o, dd->demands[di]->id, strlen(dd->demands[di]->id));
    size_t at = o->sb.size;
    s_u8(o, 0);
    s_u8(o, (uint8_t)n);
    bool changed = false;
    for (uint32_t j = 0; j < n; j++) {
        const minga_match_item_t *it = &t->demand_top[di * t->k_demand + j];
        uint8_t bin[S_BIN_MAX];
        size_t len = s_entry_bin(bin, od, dd, di, it->id, it->score);
        s_u16(o, (uint16_t)len);
        s_bytes(o, bin, len);
        if (!s_bin_value(bin, len, val))
            return false;
        if (s_live_at(l, pad)) {
            changed |= s_live_rank(l) != j + 1 || !s_same(&l->v, val);
            s_live_next(l);
        } else {
            changed = true;
        }
    }
    for (; s_live_at(l, pad); s_live_next(l))
        changed = true;
    if (!o->oom)
        ((uint8_t *)o->sb.data)[at] = changed;
    return true;
}

/* Whether offer oi is in demand di's own list. */
static bool s_is_own(const minga_match_topk_t *t, size_t di, size_t oi)
{
    const minga_match_item_t *list = &t->demand_top[di * t->k_demand];
    for (uint32_t j = 0; j < t->demand_n[di]; j++)
        if (list[j].id == oi)
            return true;
    return false;
}

/* The offers section, the table and the bins; ord maps a demand to its list's index. */
static void s_pack_offers(s_out_t *o, const minga_match_data_t *od, const minga_match_data_t *dd,
                          const minga_match_topk_t *t, const uint32_t *ord, uint32_t *no)
{
    s_out_t table = {.oom = false}, bins = {.oom = false};
    msgpack_sbuffer_init(&table.sb);
    msgpack_sbuffer_init(&bins.sb);
    uint32_t nx = 0;
    *no = 0;
    for (size_t oi = 0; oi < t->noffers; oi++) {
        uint32_t m = t->offer_n[oi];
        if (!m)
            continue;
        (*no)++;
        s_str8(o, od->offers[oi]->id, strlen(od->offers[oi]->id));
        s_u8(o, (uint8_t)m);
        for (uint32_t j = 0; j < m; j++) {
            const minga_match_item_t *it = &t->offer_top[oi * t->k_offer + j];
            s_u32(o, (uint32_t)it->score);
            s_u32(o, ord[it->id]);
            if (s_is_own(t, it->id, oi)) {
                s_u32(o, S_OWN);
                continue;
            }
            s_u32(o, nx++);
            uint8_t bin[S_BIN_MAX], n[2];
            size_t len = s_entry_bin(bin, od, dd, it->id, oi, it->score);
            uint64_t h[2] = {0xcbf29ce484222325ull, 0x6a09e667f3bcc908ull};
            minga_key_u16(n, (uint16_t)t->demand_n[it->id]);
            s_hash2(h, bin, len);
            s_hash2(h, n, sizeof n);
            s_u32(&table, (uint32_t)bins.sb.size);
            s_u64(&table, s_fmix(h[0]));
            s_u64(&table, s_fmix(h[1]));
            s_u16(&bins, (uint16_t)len);
            s_bytes(&bins, bin, len);
        }
    }
    s_u32(o, nx);
    s_bytes(o, table.sb.data, table.sb.size);
    s_u32(o, (uint32_t)bins.sb.size);
    s_bytes(o, bins.sb.data, bins.sb.size);
    o->oom |= bins.oom || table.oom;
    msgpack_sbuffer_destroy(&table.sb);
    msgpack_sbuffer_destroy(&bins.sb);
}

/* The staging record of a scored shard into o (see the top of this file), its lists compared
 * with the candidates in place in a snapshot of store; store NULL (a carried shard, which
 * sees no store): base S_NO_BASE and every list marked changed, so that the merge rewrites
 * the range whole. */
static int s_pack_shard(minga_store_t *store, const minga_match_shard_t *job,
                        const minga_match_data_t *od, const minga_match_data_t *dd,
                        const minga_match_topk_t *t, s_out_t *o)
{
    MDB_txn *txn = NULL;
    s_live_t l = {.cur = NULL};
    uint32_t *ord = calloc(dd->ndemands + 1, sizeof *ord);
    minga_pbuf_t val;
    minga_pbuf_init(&val);
    MDB_dbi dbi = store ? minga_store_dbi(store, MINGA_DB_CANDIDATE) : 0;
    uint8_t ev[MINGA_KEY_ID] = {0};
    minga_key_id(ev, job->event);
    int rc = !ord ? MINGA_ENOMEM : store ? minga_store_read_begin(store, &txn) : 0;
    if (rc == 0 && store)
        rc = s_live_open(&l, txn, dbi, ev, job->from, job->to);
    else
        l.rc = MDB_NOTFOUND;
    if (rc)
        goto done;
    s_bytes(o, S_MAGIC, 4);
    s_u64(o, job->gen);
    s_u64(o, store ? s_in_place(txn, dbi, ev).gen : S_NO_BASE);
    s_u32(o, job->shard);
    s_u32(o, job->shards);
    s_u32(o, (uint32_t)dd->ndemands);
    size_t at_counts = o->sb.size;
    s_u32(o, 0);
    s_u32(o, 0);
    s_str8(o, job->from ? job->from : "", job->from ? strlen(job->from) : 0);
    s_str8(o, job->to ? job->to : "", job->to ? strlen(job->to) : 0);
    uint32_t nd = 0, no = 0;
    for (size_t di = 0; di < dd->ndemands && rc == 0; di++) {
        uint8_t pad[MINGA_KEY_ID] = {0};
        memcpy(pad, dd->demands[di]->id, strlen(dd->demands[di]->id));
        while (s_live_ok(&l) &&
               memcmp((const uint8_t *)l.k.mv_data + MINGA_KEY_ID, pad, MINGA_KEY_ID) < 0) {
            s_pack_gone(o, &l);
            nd++;
        }
        if (t->demand_n[di] == 0 && !s_live_at(&l, pad))
            continue;
        ord[di] = nd++;
        if (!s_pack_list(o, &l, od, dd, t, di, pad, &val))
            rc = MINGA_EFORMAT;
    }
    for (; rc == 0 && s_live_ok(&l); nd++)
        s_pack_gone(o, &l);
    if (rc == 0 && l.rc && l.rc != MDB_NOTFOUND)
        rc = l.rc;
    if (rc == 0)
        s_pack_offers(o, od, dd, t, ord, &no);
    s_patch32(o, at_counts, nd);
    s_patch32(o, at_counts + 4, no);
    if (rc == 0 && o->oom)
        rc = MINGA_ENOMEM;
done:
    if (l.cur)
        mdb_cursor_close(l.cur);
    if (txn)
        mdb_txn_abort(txn);
    minga_pbuf_clear(&val);
    free(ord);
    return rc;
}

/* ---- reading a staging record ---- */

typedef struct {
    const uint8_t *id, *entries; /* entries: n times (u16 length, E) */
    uint8_t idn, changed, n;
} s_list_t;

typedef struct {
    uint64_t gen, base;
    uint32_t shard, demands, nd, no;
    const uint8_t *from, *to;
    uint8_t fromn, ton;
    s_list_t *lists;
    const uint8_t *table, *bins; /* table: nx entries of 20 bytes */
    uint32_t nx, binsz;
    /* walking the offers section: the next group, and the current one */
    const uint8_t *op;
    uint32_t oleft;
    const uint8_t *gid, *gent;
    uint8_t gidn, gm, gat;
    /* when the stages' ranges are ordered (s_order_stages): this one's place among those with
     * lists, and how many lists the stages before it have */
    uint32_t rank;
    size_t before;
} s_stage_t;

/* A bounded reader over untrusted bytes. */
typedef struct {
    const uint8_t *p, *end;
    bool bad;
} s_in_t;

static const uint8_t *s_take(s_in_t *in, size_t n)
{
    if (in->bad || (size_t)(in->end - in->p) < n) {
        in->bad = true;
        return NULL;
    }
    const uint8_t *p = in->p;
    in->p += n;
    return p;
}

static uint32_t s_get8(s_in_t *in)
{
    const uint8_t *p = s_take(in, 1);
    return p ? p[0] : 0;
}

static uint32_t s_get16(s_in_t *in)
{
    const uint8_t *p = s_take(in, 2);
    return p ? minga_key_get_u16(p) : 0;
}

static uint32_t s_get32(s_in_t *in)
{
    const uint8_t *p = s_take(in, 4);
    return p ? minga_key_get_u32(p) : 0;
}

static uint64_t s_get64(s_in_t *in)
{
    const uint8_t *p = s_take(in, 8);
    return p ? minga_key_get_u64(p) : 0;
}

/* An id: a length byte and its bytes (1..32, or 0..32 when may_be_empty). */
static const uint8_t *s_get_id(s_in_t *in, uint8_t *n, bool may_be_empty)
{
    *n = (uint8_t)s_get8(in);
    if (*n > MINGA_KEY_ID || (*n == 0 && !may_be_empty))
        in->bad = true;
    return s_take(in, *n);
}

static void s_stage_free(s_stage_t *st)
{
    free(st->lists);
    st->lists = NULL;
}

/* Checks the offers section and finds the table and the bins (in->p at the section). The
 * bins are checked when one is used (s_stage_bin). */
static bool s_stage_offers(s_stage_t *st, s_in_t *in)
{
    st->op = in->p;
    uint32_t nx = 0;
    for (uint32_t g = 0; g < st->no && !in->bad; g++) {
        uint8_t idn;
        s_get_id(in, &idn, false);
        uint32_t m = s_get8(in);
        const uint8_t *e = s_take(in, 12 * (size_t)m);
        for (uint32_t j = 0; e && j < m; j++) {
            uint32_t x = minga_key_get_u32(e + 12 * j + 8);
            if (minga_key_get_u32(e + 12 * j + 4) >= st->nd || (x != S_OWN && x != nx++))
                in->bad = true;
        }
    }
    st->nx = s_get32(in);
    st->table = s_take(in, 20 * (size_t)st->nx);
    st->binsz = s_get32(in);
    st->bins = s_take(in, st->binsz);
    st->oleft = st->no;
    return !in->bad && in->p == in->end && nx == st->nx;
}

/* The entry of table row x: *len bytes, or NULL when the row points outside the bins. */
static const uint8_t *s_stage_bin(const s_stage_t *st, uint32_t x, size_t *len)
{
    uint32_t off = minga_key_get_u32(st->table + 20 * (size_t)x);
    if (off > st->binsz || st->binsz - off < 2 ||
        st->binsz - off - 2 < minga_key_get_u16(st->bins + off))
        return NULL;
    *len = minga_key_get_u16(st->bins + off);
    return st->bins + off + 2;
}

/* Parses a staging record (p: its bytes, valid while st is used). Returns 0, MINGA_EFORMAT
 * or MINGA_ENOMEM. */
static int s_stage_parse(const uint8_t *p, size_t len, s_stage_t *st)
{
    memset(st, 0, sizeof *st);
    s_in_t in = {p, p + len, false};
    const uint8_t *magic = s_take(&in, 4);
    if (!magic || memcmp(magic, S_MAGIC, 4) != 0)
        return MINGA_EFORMAT;
    st->gen = s_get64(&in);
    st->base = s_get64(&in);
    st->shard = s_get32(&in);
    s_get32(&in); /* shards: the job's count is the one that counts */
    st->demands = s_get32(&in);
    st->nd = s_get32(&in);
    st->no = s_get32(&in);
    st->from = s_get_id(&in, &st->fromn, true);
    st->to = s_get_id(&in, &st->ton, true);
    if (in.bad || st->nd > len || st->no > len)
        return MINGA_EFORMAT;
    st->lists = calloc(st->nd + 1, sizeof *st->lists);
    if (!st->lists)
        return MINGA_ENOMEM;
    for (uint32_t i = 0; i < st->nd && !in.bad; i++) {
        s_list_t *l = &st->lists[i];
        l->id = s_get_id(&in, &l->idn, false);
        l->changed = (uint8_t)s_get8(&in);
        l->n = (uint8_t)s_get8(&in);
        l->entries = in.p;
        for (uint32_t j = 0; j < l->n && !in.bad; j++)
            s_take(&in, s_get16(&in));
        if (i > 0 && !in.bad &&
            s_id_cmp(st->lists[i - 1].id, st->lists[i - 1].idn, l->id, l->idn) >= 0)
            in.bad = true;
    }
    if (in.bad || !s_stage_offers(st, &in)) {
        s_stage_free(st);
        return MINGA_EFORMAT;
    }
    return 0;
}

/* Moves st to its next offer group; false when there is none. */
static bool s_stage_group(s_stage_t *st)
{
    if (!st->oleft) {
        st->gid = NULL;
        return false;
    }
    st->gidn = st->op[0];
    st->gid = st->op + 1;
    st->gm = st->op[1 + st->gidn];
    st->gent = st->op + 2 + st->gidn;
    st->gat = 0;
    st->op = st->gent + 12 * (size_t)st->gm;
    st->oleft--;
    return true;
}

/* ---- the merge ---- */

/* The writes a merge decided: op u8 (0 delete, 1 put), key length u8, key, value length u32,
 * value. */
typedef struct {
    s_out_t o;
    size_t puts, dels;
} s_writes_t;

static void s_w_put(s_writes_t *w, const uint8_t *key, size_t klen, const minga_pbuf_t *val)
{
    s_u8(&w->o, 1);
    s_str8(&w->o, key, klen);
    s_u32(&w->o, (uint32_t)val->sbuf.size);
    s_bytes(&w->o, val->sbuf.data, val->sbuf.size);
    w->puts++;
}

static void s_w_del(s_writes_t *w, const void *key, size_t klen)
{
    s_u8(&w->o, 0);
    s_str8(&w->o, key, klen);
    s_u32(&w->o, 0);
    w->dels++;
}

static int s_w_apply(const s_writes_t *w, MDB_txn *txn, MDB_dbi dbi)
{
    const uint8_t *p = (const uint8_t *)w->o.sb.data, *end = p + w->o.sb.size;
    int rc = 0;
    while (p < end && rc == 0) {
        uint8_t op = p[0], klen = p[1];
        MDB_val k = {klen, (void *)(p + 2)};
        uint32_t vlen = minga_key_get_u32(p + 2 + klen);
        MDB_val v = {vlen, (void *)(p + 6 + klen)};
        rc = op ? mdb_put(txn, dbi, &k, &v, 0) : mdb_del(txn, dbi, &k, NULL);
        if (rc == MDB_NOTFOUND)
            rc = 0;
        p += 6 + klen + vlen;
    }
    return rc;
}

/* One pair of the run's offer lists that is not in its demand's own list. */
typedef struct {
    const s_stage_t *st;
    uint32_t list, x; /* x: the pair's row in st's table */
    int32_t score;
    const uint8_t *offer;
    uint8_t offern;
} s_extra_t;

static int s_cmp_extra(const void *a, const void *b)
{
    const s_extra_t *x = a, *y = b;
    const s_list_t *dx = &x->st->lists[x->list], *dy = &y->st->lists[y->list];
    int c = s_id_cmp(dx->id, dx->idn, dy->id, dy->idn);
    if (c)
        return c;
    if (x->score != y->score)
        return x->score > y->score ? -1 : 1;
    return s_id_cmp(x->offer, x->offern, y->offer, y->offern);
}

typedef struct {
    const minga_match_shard_t *job;
    MDB_txn *txn;
    MDB_dbi dbi;
    uint8_t ev[MINGA_KEY_ID];
    s_stage_t *st;
    size_t nst;
    s_writes_t w;
    minga_pbuf_t val;
    s_extra_t *x;
    size_t nx, capx;
    size_t candidates;
    uint64_t demands;
    s_place_t place; /* the summary in place */
    bool ordered;    /* the stages' demand ranges are disjoint: rank and before are set */
    size_t lists;    /* lists of all stages */
    uint64_t xh[2];  /* the hash of the new extras */
} s_merge_t;

/* Entry j of group of stage st: score, list, bin. */
static void s_group_entry(const s_stage_t *st, uint32_t j, int32_t *score, uint32_t *list,
                          uint32_t *bin)
{
    const uint8_t *e = st->gent + 12 * (size_t)j;
    *score = (int32_t)minga_key_get_u32(e);
    *list = minga_key_get_u32(e + 4);
    *bin = minga_key_get_u32(e + 8);
}

/* Orders the stages with lists by their first demand and, when their ranges do not overlap
 * (as `minga rueda score` cuts them), sets m->ordered, each one's rank and before: demand order
 * across stages is then stage order. */
static int s_order_stages(s_merge_t *m)
{
    size_t *ord = malloc((m->nst + 1) * sizeof *ord), nord = 0;
    if (!ord)
        return MINGA_ENOMEM;
    for (size_t i = 0; i < m->nst; i++) {
        if (!m->st[i].nd)
            continue;
        size_t j = nord++;
        for (; j > 0; j--) {
            const s_list_t *x = &m->st[ord[j - 1]].lists[0], *y = &m->st[i].lists[0];
            if (s_id_cmp(x->id, x->idn, y->id, y->idn) < 0)
                break;
            ord[j] = ord[j - 1];
        }
        ord[j] = i;
    }
    m->ordered = true;
    m->lists = 0;
    for (size_t j = 0; j < nord; j++) {
        s_stage_t *st = &m->st[ord[j]];
        if (j > 0) {
            const s_stage_t *pr = &m->st[ord[j - 1]];
            const s_list_t *x = &pr->lists[pr->nd - 1], *y = &st->lists[0];
            m->ordered &= s_id_cmp(x->id, x->idn, y->id, y->idn) < 0;
        }
        st->rank = (uint32_t)j;
        st->before = m->lists;
        m->lists += st->nd;
    }
    free(ord);
    return 0;
}

/* Whether stage a's current entry is better for the offer than stage b's (score, then demand
 * id: stage order when ordered). */
static bool s_better(const s_stage_t *a, const s_stage_t *b, bool ordered)
{
    int32_t sa, sb;
    uint32_t la, lb, ba, bb;
    s_group_entry(a, a->gat, &sa, &la, &ba);
    s_group_entry(b, b->gat, &sb, &lb, &bb);
    if (sa != sb)
        return sa > sb;
    if (ordered)
        return a->rank < b->rank;
    return s_id_cmp(a->lists[la].id, a->lists[la].idn, b->lists[lb].id, b->lists[lb].idn) < 0;
}

static int s_push_extra(s_merge_t *m, const s_stage_t *st, uint32_t list, int32_t score, uint32_t x)
{
    if (m->nx == m->capx) {
        size_t cap = m->capx ? m->capx * 2 : 4096;
        s_extra_t *g = realloc(m->x, cap * sizeof *g);
        if (!g)
            return MINGA_ENOMEM;
        m->x = g;
        m->capx = cap;
    }
    m->x[m->nx++] = (s_extra_t){st, list, x, score, st->gid, st->gidn};
    const uint8_t *h = st->table + 20 * (size_t)x;
    m->xh[0] += minga_key_get_u64(h + 4);
    m->xh[1] += minga_key_get_u64(h + 12);
    return 0;
}

/* The run's top K of each offer, from the shards' lists (invariant 2); the pairs that are
 * not in their demand's own list go to m->x. */
static int s_offer_tops(s_merge_t *m)
{
    uint32_t k = (uint32_t)m->job->cfg.k_offer;
    s_stage_t **in = calloc(m->nst + 1, sizeof *in);
    if (!in)
        return MINGA_ENOMEM;
    for (size_t i = 0; i < m->nst; i++)
        s_stage_group(&m->st[i]);
    int rc = 0;
    for (;;) {
        const s_stage_t *min = NULL;
        for (size_t i = 0; i < m->nst; i++)
            if (m->st[i].gid &&
                (!min || s_id_cmp(m->st[i].gid, m->st[i].gidn, min->gid, min->gidn) < 0))
                min = &m->st[i];
        if (!min)
            break;
        size_t nin = 0;
        for (size_t i = 0; i < m->nst; i++)
            if (m->st[i].gid && s_id_cmp(m->st[i].gid, m->st[i].gidn, min->gid, min->gidn) == 0)
                in[nin++] = &m->st[i];
        for (uint32_t taken = 0; taken < k && rc == 0; taken++) {
            s_stage_t *best = NULL;
            for (size_t i = 0; i < nin; i++)
                if (in[i]->gat < in[i]->gm && (!best || s_better(in[i], best, m->ordered)))
                    best = in[i];
            if (!best)
                break;
            int32_t score;
            uint32_t list, bin;
            s_group_entry(best, best->gat++, &score, &list, &bin);
            if (bin != S_OWN)
                rc = s_push_extra(m, best, list, score, bin);
        }
        for (size_t i = 0; i < nin; i++)
            s_stage_group(in[i]);
        if (rc)
            break;
    }
    free(in);
    return rc;
}

/* Demand list l's own candidates against those in place: puts what differs, deletes ranks
 * beyond its list. */
static int s_own_list(s_merge_t *m, MDB_cursor *cur, const s_list_t *l)
{
    uint8_t key[S_KEY_LEN];
    s_key_own(key, m->ev, l->id, l->idn, 0);
    MDB_val k = {S_KEY_LEN, key}, v;
    int rc = mdb_cursor_get(cur, &k, &v, MDB_SET_RANGE);
    const uint8_t *e = l->entries;
    unsigned r = 1;
    for (;;) {
        bool live =
            rc == 0 && k.mv_size == S_KEY_LEN && memcmp(k.mv_data, key, 2 * MINGA_KEY_ID) == 0;
        unsigned lr = live ? minga_key_get_u16((const uint8_t *)k.mv_data + 2 * MINGA_KEY_ID) : 0;
        if (!live && r > l->n)
            break;
        if (live && (r > l->n || lr < r)) {
            s_w_del(&m->w, k.mv_data, S_KEY_LEN);
            rc = mdb_cursor_get(cur, &k, &v, MDB_NEXT);
            continue;
        }
        uint16_t len = minga_key_get_u16(e);
        if (!s_bin_value(e + 2, len, &m->val))
            return MINGA_EFORMAT;
        e += 2 + len;
        s_key_own(key, m->ev, l->id, l->idn, r);
        if (live && lr == r) {
            if (!s_same(&v, &m->val))
                s_w_put(&m->w, key, S_KEY_LEN, &m->val);
            rc = mdb_cursor_get(cur, &k, &v, MDB_NEXT);
        } else {
            s_w_put(&m->w, key, S_KEY_LEN, &m->val);
        }
        r++;
    }
    return rc == MDB_NOTFOUND ? 0 : rc;
}

static int s_list_find(const void *pad, const void *elem)
{
    const s_list_t *l = elem;
    return s_id_cmp(pad, strnlen(pad, MINGA_KEY_ID), l->id, l->idn);
}

/* Deletes the own candidates in place, in stage st's range, of demands it has no list for. */
static int s_own_gone(s_merge_t *m, MDB_cursor *cur, const s_stage_t *st)
{
    s_live_t l = {.cur = cur};
    memcpy(l.ev, m->ev, MINGA_KEY_ID);
    l.has_to = st->ton > 0;
    memset(l.to, 0, sizeof l.to);
    memcpy(l.to, st->to, st->ton);
    uint8_t start[S_KEY_LEN];
    s_key_own(start, m->ev, st->fromn ? st->from : (const uint8_t *)"A", st->fromn ? st->fromn : 1,
              0);
    l.k = (MDB_val){S_KEY_LEN, start};
    for (l.rc = mdb_cursor_get(cur, &l.k, &l.v, MDB_SET_RANGE); s_live_ok(&l); s_live_next(&l)) {
        char pad[MINGA_KEY_ID + 1] = {0};
        memcpy(pad, (const uint8_t *)l.k.mv_data + MINGA_KEY_ID, MINGA_KEY_ID);
        if (!bsearch(pad, st->lists, st->nd, sizeof *st->lists, s_list_find))
            s_w_del(&m->w, l.k.mv_data, S_KEY_LEN);
    }
    return l.rc == MDB_NOTFOUND ? 0 : l.rc;
}

/* The own lists of every shard: only the changed ones when the shard compared against the
 * generation still in place, all of them otherwise. */
static int s_own(s_merge_t *m, uint64_t in_place)
{
    MDB_cursor *cur = NULL;
    int rc = mdb_cursor_open(m->txn, m->dbi, &cur);
    for (size_t i = 0; i < m->nst && rc == 0; i++) {
        const s_stage_t *st = &m->st[i];
        bool all = st->base != in_place;
        for (uint32_t j = 0; j < st->nd && rc == 0; j++) {
            m->candidates += st->lists[j].n;
            if (all || st->lists[j].changed)
                rc = s_own_list(m, cur, &st->lists[j]);
        }
        if (rc == 0 && all)
            rc = s_own_gone(m, cur, st);
        m->demands += st->demands;
    }
    if (cur)
        mdb_cursor_close(cur);
    return rc;
}

/* Orders m->x by demand (stage order, then list index, when the stages are ordered), then
 * score descending, then offer id: one bucket per list, each sorted by insertion (they are
 * short). Stages whose ranges overlap make it sort the whole array instead. */
static int s_sort_extras(s_merge_t *m)
{
    if (!m->ordered) {
        qsort(m->x, m->nx, sizeof *m->x, s_cmp_extra);
        return 0;
    }
    size_t *at = calloc(m->lists + 2, sizeof *at);
    s_extra_t *out = at ? malloc((m->nx + 1) * sizeof *out) : NULL;
    if (!out) {
        free(at);
        return MINGA_ENOMEM;
    }
    for (size_t i = 0; i < m->nx; i++)
        at[m->x[i].st->before + m->x[i].list + 1]++;
    for (size_t i = 1; i <= m->lists; i++)
        at[i] += at[i - 1];
    for (size_t i = 0; i < m->nx; i++)
        out[at[m->x[i].st->before + m->x[i].list]++] = m->x[i];
    /* at[b] is now where bucket b ends and b + 1 begins */
    for (size_t b = 0, from = 0; b < m->lists; from = at[b++])
        for (size_t i = from + 1; i < at[b]; i++) {
            s_extra_t e = out[i];
            size_t j = i;
            for (; j > from && s_cmp_extra(&out[j - 1], &e) > 0; j--)
                out[j] = out[j - 1];
            out[j] = e;
        }
    free(m->x);
    m->x = out;
    m->capx = m->nx + 1;
    free(at);
    return 0;
}

/* The rank of extra i, given r, the rank of extra i - 1. */
static unsigned s_extra_rank(const s_merge_t *m, size_t i, unsigned r)
{
    const s_extra_t *x = &m->x[i];
    bool same = i > 0 && m->x[i - 1].st == x->st && m->x[i - 1].list == x->list;
    return same ? r + 1 : x->st->lists[x->list].n + 1u;
}

/* The extras in m->x, ordered, against those in place. */
static int s_extras(s_merge_t *m)
{
    MDB_cursor *cur;
    int rc = mdb_cursor_open(m->txn, m->dbi, &cur);
    if (rc)
        return rc;
    uint8_t start[S_XKEY_LEN], key[S_XKEY_LEN];
    memset(start, 0, sizeof start);
    memcpy(start, m->ev, MINGA_KEY_ID);
    start[MINGA_KEY_ID] = S_EXTRA;
    MDB_val k = {MINGA_KEY_ID + 1, start}, v;
    rc = mdb_cursor_get(cur, &k, &v, MDB_SET_RANGE);
    size_t i = 0;
    unsigned r = 0;
    bool keyed = false;
    for (;;) {
        bool live =
            rc == 0 && k.mv_size == S_XKEY_LEN && memcmp(k.mv_data, start, MINGA_KEY_ID + 1) == 0;
        if (i < m->nx && !keyed) {
            const s_list_t *l = &m->x[i].st->lists[m->x[i].list];
            r = s_extra_rank(m, i, r);
            s_key_extra(key, m->ev, l->id, l->idn, r);
            keyed = true;
        }
        if (i >= m->nx && !live)
            break;
        int c = !live ? 1 : i >= m->nx ? -1 : memcmp(k.mv_data, key, S_XKEY_LEN);
        if (c < 0) {
            s_w_del(&m->w, k.mv_data, S_XKEY_LEN);
            rc = mdb_cursor_get(cur, &k, &v, MDB_NEXT);
            continue;
        }
        size_t len;
        const uint8_t *bin = s_stage_bin(m->x[i].st, m->x[i].x, &len);
        if (!bin || !s_bin_value(bin, len, &m->val)) {
            rc = MINGA_EFORMAT;
            break;
        }
        if (c > 0 || !s_same(&v, &m->val))
            s_w_put(&m->w, key, S_XKEY_LEN, &m->val);
        if (c == 0)
            rc = mdb_cursor_get(cur, &k, &v, MDB_NEXT);
        i++;
        keyed = false;
    }
    mdb_cursor_close(cur);
    return rc == MDB_NOTFOUND ? 0 : rc;
}

/* ---- the write of a shard ---- */

/* This thread's CPU time in microseconds. */
static uint64_t s_cpu_us(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_THREAD_CPUTIME_ID, &ts);
    return (uint64_t)ts.tv_sec * 1000000u + (uint64_t)ts.tv_nsec / 1000u;
}

typedef struct {
    const minga_match_shard_t *job;
    minga_store_t *store;
    const uint8_t *value; /* this shard's staging record */
    size_t len;
    minga_match_shard_result_t *result;
    char *err;
    size_t errcap;
} s_commit_t;

static int s_put_summary(MDB_txn *txn, MDB_dbi dbi, const uint8_t *ev,
                         const minga_match_shard_t *job, uint64_t demands, size_t candidates,
                         const uint64_t xh[2], minga_pbuf_t *b)
{
    uint8_t key[S_KEY_LEN];
    memset(key, 0, sizeof key);
    memcpy(key, ev, MINGA_KEY_ID);
    key[MINGA_KEY_ID] = S_SUMMARY;
    minga_pbuf_reset(b);
    msgpack_pack_map(&b->pk, 8);
    minga_pk_kv_uint(&b->pk, "v", MINGA_MATCH_CANDIDATE_VERSION);
    minga_pk_kv_uint(&b->pk, "gen", job->gen);
    minga_pk_kv_uint(&b->pk, "extras_h1", xh[0]);
    minga_pk_kv_uint(&b->pk, "extras_h2", xh[1]);
    minga_pk_kv_uint(&b->pk, "shards", job->shards);
    minga_pk_kv_uint(&b->pk, "demands", demands);
    minga_pk_kv_uint(&b->pk, "candidates", candidates);
    minga_pk_kv_uint(&b->pk, "finished_at", minga_now_ms());
    MDB_val k = {S_KEY_LEN, key}, v = {b->sbuf.size, b->sbuf.data};
    return mdb_put(txn, dbi, &k, &v, 0);
}

/* Deletes the staging records of run gen and of older runs (abandoned ones, and the parts of
 * an older run still going, which can no longer complete). */
static int s_drop_staging(MDB_txn *txn, MDB_dbi dbi, const uint8_t *ev, uint64_t gen)
{
    MDB_cursor *cur;
    int rc = mdb_cursor_open(txn, dbi, &cur);
    if (rc)
        return rc;
    uint8_t start[MINGA_KEY_ID + 1];
    memcpy(start, ev, MINGA_KEY_ID);
    start[MINGA_KEY_ID] = S_STAGING;
    MDB_val k = {sizeof start, start}, v;
    for (rc = mdb_cursor_get(cur, &k, &v, MDB_SET_RANGE); rc == 0;
         rc = mdb_cursor_get(cur, &k, &v, MDB_NEXT)) {
        const uint8_t *kd = k.mv_data;
        if (k.mv_size != S_KEY_LEN || memcmp(kd, start, sizeof start) != 0 ||
            minga_key_get_u64(kd + MINGA_KEY_ID + 1) > gen)
            break;
        if ((rc = mdb_cursor_del(cur, 0)) != 0)
            break;
    }
    mdb_cursor_close(cur);
    return rc == MDB_NOTFOUND ? 0 : rc;
}

/* Completes run c->job: reads the shards' staging records (others, and this shard's own),
 * decides every write (invariant 1), then replaces the event's candidates. */
static int s_merge(s_commit_t *c, MDB_txn *txn, MDB_dbi dbi, s_place_t place, const MDB_val *others,
                   size_t nothers)
{
    uint64_t t0 = minga_now_ms(), c0 = s_cpu_us();
    s_merge_t m = {.job = c->job, .txn = txn, .dbi = dbi, .place = place};
    minga_key_id(m.ev, c->job->event);
    msgpack_sbuffer_init(&m.w.o.sb);
    minga_pbuf_init(&m.val);
    int rc = 0;
    m.st = calloc(nothers + 1, sizeof *m.st);
    if (!m.st)
        rc = MINGA_ENOMEM;
    for (size_t i = 0; i <= nothers && rc == 0; i++) {
        const uint8_t *p = i < nothers ? others[i].mv_data : c->value;
        size_t len = i < nothers ? others[i].mv_size : c->len;
        if ((rc = s_stage_parse(p, len, &m.st[i])) == 0)
            m.nst++;
    }
    if (rc == MINGA_EFORMAT)
        snprintf(c->err, c->errcap, "a stored shard result of run %llu cannot be read",
                 (unsigned long long)c->job->gen);
    if (rc == 0)
        rc = s_order_stages(&m);
    if (rc == 0)
        rc = s_own(&m, place.gen);
    if (rc == 0)
        rc = s_offer_tops(&m);
    /* the extras: a set hash of them (the sum of their pairs' hashes, the own lists' lengths
     * included) equal to the one the summary in place was written with means the same
     * records are in place */
    m.xh[0] += m.nx;
    m.candidates += m.nx;
    bool same = m.place.has_xh && m.place.xh[0] == m.xh[0] && m.place.xh[1] == m.xh[1];
    if (rc == 0 && !same)
        rc = s_sort_extras(&m);
    if (rc == 0 && !same)
        rc = s_extras(&m);
    if (rc == 0 && m.w.o.oom)
        rc = MINGA_ENOMEM;
    /* every write is decided: the reads are over */
    if (rc == 0)
        rc = s_drop_staging(txn, dbi, m.ev, c->job->gen);
    if (rc == 0)
        rc = s_w_apply(&m.w, txn, dbi);
    if (rc == 0)
        rc = s_put_summary(txn, dbi, m.ev, c->job, m.demands, m.candidates, m.xh, &m.val);
    c->result->merged = rc == 0;
    c->result->total_demands = m.demands;
    c->result->total_candidates = m.candidates;
    c->result->merge_puts = m.w.puts;
    c->result->merge_dels = m.w.dels;
    c->result->merge_ms = minga_now_ms() - t0;
    c->result->merge_cpu_ms = (s_cpu_us() - c0) / 1000;
    for (size_t i = 0; i < m.nst; i++)
        s_stage_free(&m.st[i]);
    free(m.st);
    free(m.x);
    msgpack_sbuffer_destroy(&m.w.o.sb);
    minga_pbuf_clear(&m.val);
    return rc;
}

/* The write: this shard's staging record, or, when it is the last of its run, the merge. */
static int s_commit(MDB_txn *txn, void *arg)
{
    s_commit_t *c = arg;
    minga_match_shard_result_t *r = c->result;
    r->merged = r->already = false;
    r->merge_puts = r->merge_dels = 0;
    r->merge_ms = r->merge_cpu_ms = 0;
    MDB_dbi dbi = minga_store_dbi(c->store, MINGA_DB_CANDIDATE);
    uint8_t key[S_KEY_LEN];
    s_key_event(key, c->job->event);
    s_place_t place = s_in_place(txn, dbi, key);
    if (place.gen >= c->job->gen) {
        r->already = true;
        return 0;
    }
    /* the other shards of the run already stored */
    uint8_t prefix[S_KEY_LEN];
    memcpy(prefix, key, S_KEY_LEN);
    s_key_staging(prefix, c->job->gen, 0);
    MDB_val *others = calloc(c->job->shards, sizeof *others);
    MDB_cursor *cur = NULL;
    int rc = others ? mdb_cursor_open(txn, dbi, &cur) : MINGA_ENOMEM;
    size_t n = 0;
    MDB_val k = {S_KEY_LEN, prefix}, v;
    for (rc = rc ? rc : mdb_cursor_get(cur, &k, &v, MDB_SET_RANGE); rc == 0;
         rc = mdb_cursor_get(cur, &k, &v, MDB_NEXT)) {
        const uint8_t *kd = k.mv_data;
        if (k.mv_size != S_KEY_LEN || memcmp(kd, prefix, MINGA_KEY_ID + 9) != 0)
            break;
        if (minga_key_get_u32(kd + MINGA_KEY_ID + 9) != c->job->shard && n + 1 < c->job->shards)
            others[n++] = v;
    }
    if (cur)
        mdb_cursor_close(cur);
    if (rc == MDB_NOTFOUND)
        rc = 0;
    if (rc == 0 && n + 1 < c->job->shards) {
        s_key_staging(key, c->job->gen, c->job->shard);
        MDB_val sk = {S_KEY_LEN, key}, sv = {c->len, (void *)c->value};
        rc = mdb_put(txn, dbi, &sk, &sv, 0);
    } else if (rc == 0) {
        rc = s_merge(c, txn, dbi, place, others, n);
    }
    free(others);
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

/* Reads (the offers from the cache when unchanged), prepares and scores; packs the staging
 * record into o. */
static int s_score_shard(minga_store_t *store, const minga_match_shard_t *job, s_out_t *o,
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
        uint64_t t1 = minga_now_ms();
        result->score_ms = t1 - t0;
        rc = s_pack_shard(store, job, od, &dd, &t, o);
        result->pack_ms = minga_now_ms() - t1;
        if (rc && !err[0])
            snprintf(err, errcap, "packing the shard's candidates: %s", minga_strerror(rc));
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
    s_out_t o = {.oom = false};
    msgpack_sbuffer_init(&o.sb);
    uint64_t t0 = minga_now_ms();
    rc = s_score_shard(store, job, &o, result, err, errcap);
    uint64_t t1 = minga_now_ms();
    result->read_ms = t1 - t0 - result->score_ms - result->pack_ms;
    if (rc == 0) {
        if (progress)
            progress(2, 3, "guardando candidatos", arg);
        s_commit_t c = {.job = job,
                        .store = store,
                        .value = (const uint8_t *)o.sb.data,
                        .len = o.sb.size,
                        .result = result,
                        .err = err,
                        .errcap = errcap};
        rc = minga_store_write(store, s_commit, &c);
        result->store_ms = minga_now_ms() - t1;
        if (rc && !err[0])
            snprintf(err, errcap, "storing the shard's candidates: %s", minga_strerror(rc));
    } else if (!err[0]) {
        snprintf(err, errcap, "%s", minga_strerror(rc));
    }
    msgpack_sbuffer_destroy(&o.sb);
    if (rc == 0 && progress)
        progress(3, 3, result->merged ? "candidatos del evento reemplazados" : "fragmento listo",
                 arg);
    return rc;
}

/* ---- carried runs ---- */

int minga_match_prepare(minga_store_t *store, const minga_match_shard_t *job, msgpack_sbuffer *blob,
                        minga_match_shard_result_t *result, char *err, size_t errcap)
{
    memset(result, 0, sizeof *result);
    err[0] = 0;
    int rc = s_check_job(job, err, errcap);
    if (rc)
        return rc;
    uint64_t t0 = minga_now_ms();
    minga_match_data_t d;
    minga_match_data_init(&d, job->event);
    MDB_txn *txn = NULL;
    rc = minga_store_read_begin(store, &txn);
    if (rc == 0)
        rc = minga_match_data_load(&d, store, txn, NULL, NULL, err, errcap);
    if (txn)
        mdb_txn_abort(txn);
    if (rc == 0)
        rc = minga_match_data_prepare(&d, &job->cfg, err, errcap);
    uint64_t t1 = minga_now_ms();
    result->read_ms = t1 - t0;
    if (rc == 0)
        rc = minga_match_carry_pack(&d, &job->cfg, job->gen, blob);
    result->pack_ms = minga_now_ms() - t1;
    result->demands = d.ndemands;
    result->offers = d.noffers;
    for (size_t i = 0; rc == 0 && i < d.noffers; i++)
        result->active_offers += d.poffers[i].valid && d.poffers[i].attends;
    minga_match_data_clear(&d);
    if (rc && !err[0])
        snprintf(err, errcap, "preparing the carried data of event %s: %s", job->event,
                 minga_strerror(rc));
    return rc;
}

/* The result of a carried shard (see match_store.h) into out. */
static void s_pack_carried_result(const minga_match_shard_t *job, const minga_match_carried_t *c,
                                  const minga_match_shard_result_t *r, const s_out_t *o,
                                  msgpack_sbuffer *out)
{
    msgpack_packer pk;
    msgpack_packer_init(&pk, out, msgpack_sbuffer_write);
    msgpack_pack_map(&pk, 11);
    minga_pk_kv_uint(&pk, "v", MINGA_MATCH_CARRY_VERSION);
    minga_pk_kv_str(&pk, "event", job->event);
    minga_pk_kv_uint(&pk, "gen", job->gen);
    minga_pk_kv_uint(&pk, "shard", job->shard);
    minga_pk_kv_uint(&pk, "shards", job->shards);
    minga_pk_kv_uint(&pk, "k_offer", c->d.ctx.k_offer);
    minga_pk_kv_uint(&pk, "demands", r->demands);
    minga_pk_kv_uint(&pk, "offers", r->offers);
    minga_pk_kv_uint(&pk, "active_offers", r->active_offers);
    minga_pk_kv_uint(&pk, "kept", r->pairs_kept);
    minga_pk_str(&pk, "staging");
    msgpack_pack_bin(&pk, o->sb.size);
    msgpack_pack_bin_body(&pk, o->sb.data, o->sb.size);
}

int minga_match_score_carried(const minga_match_carried_t *c, const minga_match_shard_t *job,
                              msgpack_sbuffer *out, minga_match_shard_result_t *result, char *err,
                              size_t errcap)
{
    memset(result, 0, sizeof *result);
    err[0] = 0;
    int rc = s_check_job(job, err, errcap);
    if (rc)
        return rc;
    if (strcmp(job->event, c->event) != 0 || job->gen != c->gen) {
        snprintf(err, errcap, "shard of event %s run %llu, but the carried data is of %s run %llu",
                 job->event, (unsigned long long)job->gen, c->event, (unsigned long long)c->gen);
        return MINGA_EINVAL;
    }
    size_t a, b;
    minga_match_carry_range(c, job->from, job->to, &a, &b);
    minga_match_data_t dd;
    memset(&dd, 0, sizeof dd);
    snprintf(dd.event_id, sizeof dd.event_id, "%s", c->event);
    dd.demands = c->d.demands + a;
    dd.pdemands = c->d.pdemands + a;
    dd.ndemands = b - a;
    minga_match_topk_t t;
    memset(&t, 0, sizeof t);
    s_out_t o = {.oom = false};
    msgpack_sbuffer_init(&o.sb);
    uint64_t t0 = minga_now_ms();
    rc = minga_match_topk_init(&t, dd.ndemands, c->d.noffers, c->d.ctx.k_demand, c->d.ctx.k_offer);
    if (rc == 0) {
        minga_match_kernel_score(c->kernel, dd.pdemands, dd.ndemands, &t, MINGA_MATCH_PATH_AUTO);
        minga_match_topk_finish(&t);
        uint64_t t1 = minga_now_ms();
        result->score_ms = t1 - t0;
        rc = s_pack_shard(NULL, job, &c->d, &dd, &t, &o);
        result->demands = dd.ndemands;
        result->offers = c->d.noffers;
        for (size_t i = 0; i < c->d.noffers; i++)
            result->active_offers += c->d.poffers[i].valid && c->d.poffers[i].attends;
        for (size_t i = 0; i < dd.ndemands; i++)
            result->pairs_kept += t.demand_n[i];
        if (rc == 0)
            s_pack_carried_result(job, c, result, &o, out);
        result->pack_ms = minga_now_ms() - t1;
    }
    if (rc && !err[0])
        snprintf(err, errcap, "scoring carried shard %u of %u: %s", job->shard + 1, job->shards,
                 minga_strerror(rc));
    minga_match_topk_clear(&t);
    msgpack_sbuffer_destroy(&o.sb);
    return rc;
}

/* One shard's result, checked: its staging record (copied) and its K per offer. */
typedef struct {
    uint8_t *staging;
    size_t len;
    uint64_t k_offer;
} s_carried_t;

static int s_carried_check(const minga_match_shard_t *job, size_t i, const uint8_t *res, size_t len,
                           s_carried_t *out, bool *seen, char *err, size_t errcap)
{
    static const minga_pfield_t fields[] = {
        {"v", MINGA_PF_UINT, true, MINGA_MATCH_CARRY_VERSION, MINGA_MATCH_CARRY_VERSION},
        {"event", MINGA_PF_STR, true, 1, MINGA_KEY_ID},
        {"gen", MINGA_PF_UINT, true, 1, UINT64_MAX},
        {"shard", MINGA_PF_UINT, true, 0, MINGA_PROTO_MAX_BATCH - 1},
        {"shards", MINGA_PF_UINT, true, 1, MINGA_PROTO_MAX_BATCH},
        {"k_offer", MINGA_PF_UINT, true, 1, MINGA_MATCH_K_MAX},
        {"staging", MINGA_PF_ANY, true, 0, 0},
    };
    const msgpack_object *v[7];
    msgpack_unpacked up;
    msgpack_unpacked_init(&up);
    size_t off = 0;
    char why[256] = "";
    int rc = MINGA_EFORMAT;
    if (minga_mpguard_check(res, len, 4) != 0 ||
        msgpack_unpack_next(&up, (const char *)res, len, &off) != MSGPACK_UNPACK_SUCCESS) {
        snprintf(why, sizeof why, "not msgpack (%zu bytes)", len);
    } else if (minga_pfields(&up.data, fields, 7, v, false, why, sizeof why) != 0) {
        /* why names the field */
    } else if (!minga_pobj_str_eq(v[1], job->event) || minga_pobj_uint(v[2], 0) != job->gen ||
               minga_pobj_uint(v[4], 0) != job->shards) {
        snprintf(why, sizeof why, "of another run (event, gen or shards differ)");
    } else if (v[6]->type != MSGPACK_OBJECT_BIN) {
        snprintf(why, sizeof why, "staging: not bin");
    } else if (minga_pobj_uint(v[3], 0) >= job->shards || seen[minga_pobj_uint(v[3], 0)]) {
        snprintf(why, sizeof why, "shard %llu: out of range or given twice",
                 (unsigned long long)minga_pobj_uint(v[3], 0));
    } else {
        size_t n = v[6]->via.bin.size;
        const char *p = v[6]->via.bin.ptr;
        s_stage_t st;
        rc = s_stage_parse((const uint8_t *)p, n, &st);
        if (rc == 0 && (st.gen != job->gen || st.shard != minga_pobj_uint(v[3], 0))) {
            rc = MINGA_EFORMAT;
            snprintf(why, sizeof why, "its staging record is of another run or shard");
        } else if (rc == MINGA_EFORMAT) {
            snprintf(why, sizeof why, "its staging record does not parse");
        }
        if (rc == 0)
            s_stage_free(&st);
        if (rc == 0 && !(out->staging = malloc(n)))
            rc = MINGA_ENOMEM;
        if (rc == 0) {
            memcpy(out->staging, p, n);
            out->len = n;
            out->k_offer = minga_pobj_uint(v[5], 0);
            seen[minga_pobj_uint(v[3], 0)] = true;
        }
    }
    if (rc == MINGA_EFORMAT)
        snprintf(err, errcap, "result %zu of the shards of event %s run %llu: %s", i + 1,
                 job->event, (unsigned long long)job->gen, why);
    msgpack_unpacked_destroy(&up);
    return rc;
}

typedef struct {
    s_commit_t c;
    const MDB_val *vals;
    size_t n;
} s_commit_carried_t;

/* The write of a carried merge: every shard's record at once, merged as the last shard of a
 * classic run merges (s_merge); the records are not stored first, since the merge would delete
 * them in the same transaction. */
static int s_commit_carried(MDB_txn *txn, void *arg)
{
    s_commit_carried_t *cc = arg;
    minga_match_shard_result_t *r = cc->c.result;
    r->merged = r->already = false;
    MDB_dbi dbi = minga_store_dbi(cc->c.store, MINGA_DB_CANDIDATE);
    uint8_t key[S_KEY_LEN];
    s_key_event(key, cc->c.job->event);
    s_place_t place = s_in_place(txn, dbi, key);
    if (place.gen >= cc->c.job->gen) {
        r->already = true;
        return 0;
    }
    cc->c.value = cc->vals[cc->n - 1].mv_data;
    cc->c.len = cc->vals[cc->n - 1].mv_size;
    return s_merge(&cc->c, txn, dbi, place, cc->vals, cc->n - 1);
}

int minga_match_merge_carried(minga_store_t *store, const minga_match_shard_t *job,
                              const uint8_t *const *results, const size_t *lens, size_t n,
                              minga_match_shard_result_t *result, char *err, size_t errcap)
{
    memset(result, 0, sizeof *result);
    err[0] = 0;
    int rc = s_check_job(job, err, errcap);
    if (rc)
        return rc;
    if (n != job->shards) {
        snprintf(err, errcap, "%zu shard results for a run of %u shards", n, job->shards);
        return MINGA_EINVAL;
    }
    s_carried_t *sh = calloc(n + 1, sizeof *sh);
    MDB_val *vals = calloc(n + 1, sizeof *vals);
    bool *seen = calloc(n + 1, sizeof *seen);
    rc = sh && vals && seen ? 0 : MINGA_ENOMEM;
    for (size_t i = 0; i < n && rc == 0; i++) {
        rc = s_carried_check(job, i, results[i], lens[i], &sh[i], seen, err, errcap);
        if (rc == 0 && sh[i].k_offer != sh[0].k_offer) {
            snprintf(err, errcap, "result %zu of the shards: K per offer %llu, not %llu", i + 1,
                     (unsigned long long)sh[i].k_offer, (unsigned long long)sh[0].k_offer);
            rc = MINGA_EFORMAT;
        }
        if (rc == 0)
            vals[i] = (MDB_val){sh[i].len, sh[i].staging};
    }
    minga_match_shard_t merge = *job;
    if (rc == 0)
        merge.cfg.k_offer = sh[0].k_offer;
    uint64_t t0 = minga_now_ms();
    s_commit_carried_t cc = {
        .c = {.job = &merge, .store = store, .result = result, .err = err, .errcap = errcap},
        .vals = vals,
        .n = n};
    if (rc == 0) {
        rc = minga_store_write(store, s_commit_carried, &cc);
        result->store_ms = minga_now_ms() - t0;
        if (rc && !err[0])
            snprintf(err, errcap, "merging the shards of event %s: %s", job->event,
                     minga_strerror(rc));
    }
    if (rc == MINGA_ENOMEM && !err[0])
        snprintf(err, errcap, "merging the shards: out of memory");
    for (size_t i = 0; sh && i < n; i++)
        free(sh[i].staging);
    free(sh);
    free(vals);
    free(seen);
    return rc;
}

/* ---- reading ---- */

static int s_read_candidate(const MDB_val *v, unsigned rank, minga_match_candidate_fn *fn,
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
    minga_match_candidate_t c = {s[0], s[1], s[2], s[3], rank, (int32_t)sc->via.u64, reasons, nr};
    rc = fn(&c, arg);
done:
    msgpack_unpacked_destroy(&up);
    return rc;
}

/* One of the two ordered streams of candidates a reader merges: the own lists (event +
 * demand + rank) and the extras (event + S_EXTRA + demand + rank). */
typedef struct {
    MDB_cursor *cur;
    MDB_val k, v;
    int rc;
    size_t at; /* where demand + rank begin in the key */
} s_stream_t;

static bool s_stream_ok(const s_stream_t *s, const uint8_t *ev)
{
    const uint8_t *kd = s->k.mv_data;
    if (s->rc != 0 || s->k.mv_size != s->at + MINGA_KEY_ID + 2 || memcmp(kd, ev, MINGA_KEY_ID) != 0)
        return false;
    return s->at == MINGA_KEY_ID ? kd[MINGA_KEY_ID] >= 'A' : kd[MINGA_KEY_ID] == S_EXTRA;
}

static int s_stream_open(s_stream_t *s, MDB_txn *txn, MDB_dbi dbi, const uint8_t *ev, uint8_t tag)
{
    uint8_t start[MINGA_KEY_ID + 1];
    memcpy(start, ev, MINGA_KEY_ID);
    start[MINGA_KEY_ID] = tag;
    s->at = tag == S_EXTRA ? MINGA_KEY_ID + 1 : MINGA_KEY_ID;
    int rc = mdb_cursor_open(txn, dbi, &s->cur);
    if (rc)
        return rc;
    s->k = (MDB_val){sizeof start, start};
    s->rc = mdb_cursor_get(s->cur, &s->k, &s->v, MDB_SET_RANGE);
    return s->rc == MDB_NOTFOUND ? 0 : s->rc;
}

int minga_match_candidates_each(minga_store_t *store, const char *event,
                                minga_match_candidate_fn *fn, void *arg)
{
    uint8_t ev[S_KEY_LEN];
    if (s_key_event(ev, event) != 0)
        return MINGA_EINVAL;
    MDB_txn *txn = NULL;
    s_stream_t own = {.cur = NULL}, extra = {.cur = NULL};
    MDB_dbi dbi = minga_store_dbi(store, MINGA_DB_CANDIDATE);
    int rc = minga_store_read_begin(store, &txn);
    if (rc || (rc = s_stream_open(&own, txn, dbi, ev, 'A')) != 0 ||
        (rc = s_stream_open(&extra, txn, dbi, ev, S_EXTRA)) != 0)
        goto done;
    for (;;) {
        bool a = s_stream_ok(&own, ev), b = s_stream_ok(&extra, ev);
        if (!a && !b)
            break;
        s_stream_t *s = !b   ? &own
                        : !a ? &extra
                        : memcmp((const uint8_t *)own.k.mv_data + own.at,
                                 (const uint8_t *)extra.k.mv_data + extra.at, MINGA_KEY_ID + 2) <= 0
                            ? &own
                            : &extra;
        unsigned rank = minga_key_get_u16((const uint8_t *)s->k.mv_data + s->at + MINGA_KEY_ID);
        if ((rc = s_read_candidate(&s->v, rank, fn, arg)) != 0)
            break;
        s->rc = mdb_cursor_get(s->cur, &s->k, &s->v, MDB_NEXT);
    }
    if (rc == 0 && own.rc && own.rc != MDB_NOTFOUND)
        rc = own.rc;
    if (rc == 0 && extra.rc && extra.rc != MDB_NOTFOUND)
        rc = extra.rc;
done:
    if (own.cur)
        mdb_cursor_close(own.cur);
    if (extra.cur)
        mdb_cursor_close(extra.cur);
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
