/*
 * match_carry.c: packing and unpacking the blob of a carried scoring run (match_carry.h).
 *
 * Rows are written field by field as big-endian 32-bit words, never as the C structs, so the
 * blob does not depend on a compiler's padding or on the byte order of the host; what it does
 * depend on (the lists' indexes, the widths, the limits) is folded into the layout hash.
 * Unpacking trusts nothing: the msgpack is walked by minga_mpguard_check() before msgpack-c
 * allocates, and every word is range-checked before it reaches the kernel, which indexes
 * tables with some of them.
 */
#include "minga/match_carry.h"

#include "minga/codes.h"
#include "minga/error.h"
#include "minga/mpguard.h"
#include "minga/proto.h"
#include "minga/store.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define S_OW MINGA_MATCH_CARRY_OFFER_WORDS
#define S_DW MINGA_MATCH_CARRY_DEMAND_WORDS
#define S_NC MINGA_MATCH_NCANTONS

/* ---- the layout ---- */

static uint64_t s_fnv(uint64_t h, const void *p, size_t n)
{
    const uint8_t *b = p;
    for (size_t i = 0; i < n; i++)
        h = (h ^ b[i]) * 0x100000001b3ull;
    return h;
}

static uint64_t s_fnv_u64(uint64_t h, uint64_t v)
{
    uint8_t b[8];
    minga_key_u64(b, v);
    return s_fnv(h, b, 8);
}

static uint64_t s_fnv_list(uint64_t h, minga_codelist_t list)
{
    size_t n;
    const minga_code_t *c = minga_codes(list, &n);
    h = s_fnv_u64(h, n);
    for (size_t i = 0; i < n; i++)
        h = s_fnv(h, c[i].code, strlen(c[i].code) + 1);
    return h;
}

uint64_t minga_match_carry_layout(void)
{
    static const uint64_t limits[] = {MINGA_MATCH_CARRY_VERSION,
                                      S_OW,
                                      S_DW,
                                      MINGA_MATCH_DAC_WORDS,
                                      MINGA_MATCH_CANTON_WORDS,
                                      S_NC,
                                      MINGA_MATCH_K_MAX,
                                      MINGA_MATCH_SCORE_MAX,
                                      MINGA_MATCH_AMOUNT_CAP,
                                      MINGA_MATCH_R_COUNT,
                                      MINGA_MATCH_REASONS_MAX};
    uint64_t h = 0xcbf29ce484222325ull;
    for (size_t i = 0; i < sizeof limits / sizeof limits[0]; i++)
        h = s_fnv_u64(h, limits[i]);
    static const minga_codelist_t lists[] = {MINGA_CL_COMPETENCY,   MINGA_CL_DAC,
                                             MINGA_CL_DAC_CATEGORY, MINGA_CL_MODALITY,
                                             MINGA_CL_SCOPE,        MINGA_CL_CANTON};
    for (size_t i = 0; i < sizeof lists / sizeof lists[0]; i++)
        h = s_fnv_list(h, lists[i]);
    size_t n;
    const minga_cfg_t *t = minga_match_config_table(&n);
    for (size_t i = 0; i < n; i++)
        h = s_fnv(h, t[i].path, strlen(t[i].path) + 1);
    return h & 0x7fffffffffffffffull; /* a positive msgpack integer in every encoder */
}

/* ---- packing ---- */

typedef struct {
    uint8_t *p;
    size_t at;
} s_words_t;

static void s_w(s_words_t *w, uint32_t v)
{
    minga_key_u32(w->p + w->at, v);
    w->at += 4;
}

static void s_offer_row(s_words_t *w, const minga_match_offer_t *o)
{
    for (int i = 0; i < MINGA_MATCH_DAC_WORDS; i++)
        s_w(w, o->sec.dac[i]);
    s_w(w, o->sec.cat);
    s_w(w, o->sec.comp);
    for (int i = 0; i < MINGA_MATCH_CANTON_WORDS; i++)
        s_w(w, o->cantons[i]);
    s_w(w, o->coop);
    s_w(w, o->amount_min);
    s_w(w, o->amount_max);
    s_w(w, o->modality);
    s_w(w, o->scope);
    s_w(w, (uint32_t)o->financial | (uint32_t)o->cofinancing_required << 1 |
               (uint32_t)o->valid << 2 | (uint32_t)o->attends << 3);
}

static void s_demand_row(s_words_t *w, const minga_match_demand_t *d)
{
    for (int i = 0; i < MINGA_MATCH_DAC_WORDS; i++)
        s_w(w, d->sec.dac[i]);
    s_w(w, d->sec.cat);
    s_w(w, d->sec.comp);
    s_w(w, d->amount);
    s_w(w, d->cofinancing);
    s_w(w, d->canton);
    s_w(w, d->modality);
    s_w(w, d->priority);
}

/* key, then a bin of n words filled by row(i) for each i. */
static int s_pack_rows(msgpack_packer *pk, const char *key, size_t n, size_t width,
                       void (*row)(s_words_t *, const void *, size_t), const void *arg)
{
    s_words_t w = {malloc(n * width * 4 + 1), 0};
    if (!w.p)
        return MINGA_ENOMEM;
    for (size_t i = 0; i < n; i++)
        row(&w, arg, i);
    minga_pk_str(pk, key);
    msgpack_pack_bin(pk, w.at);
    msgpack_pack_bin_body(pk, w.p, w.at);
    free(w.p);
    return 0;
}

static void s_row_offer(s_words_t *w, const void *arg, size_t i)
{
    s_offer_row(w, &((const minga_match_data_t *)arg)->poffers[i]);
}

static void s_row_demand(s_words_t *w, const void *arg, size_t i)
{
    s_demand_row(w, &((const minga_match_data_t *)arg)->pdemands[i]);
}

static void s_row_pop(s_words_t *w, const void *arg, size_t i)
{
    s_w(w, ((const uint32_t *)arg)[i]);
}

static void s_row_pref(s_words_t *w, const void *arg, size_t i)
{
    const minga_match_pref_t *p = &((const minga_match_ctx_t *)arg)->prefs[i];
    s_w(w, p->canton);
    s_w(w, p->coop);
    s_w(w, p->kind);
}

/* key, then an array of n strings: str(i). */
static void s_pack_strs(msgpack_packer *pk, const char *key, size_t n,
                        const char *(*str)(const minga_match_data_t *, size_t),
                        const minga_match_data_t *d)
{
    minga_pk_str(pk, key);
    msgpack_pack_array(pk, (uint32_t)n);
    for (size_t i = 0; i < n; i++)
        minga_pk_str(pk, str(d, i));
}

static const char *s_str_coop(const minga_match_data_t *d, size_t i)
{
    return d->coops[i];
}

static const char *s_str_offer(const minga_match_data_t *d, size_t i)
{
    return d->offers[i]->id;
}

static const char *s_str_demand(const minga_match_data_t *d, size_t i)
{
    return d->demands[i]->id;
}

static const char *s_str_gad(const minga_match_data_t *d, size_t i)
{
    return d->demands[i]->gad;
}

int minga_match_carry_pack(const minga_match_data_t *d, const minga_match_config_t *cfg,
                           uint64_t gen, msgpack_sbuffer *out)
{
    msgpack_packer pk;
    msgpack_packer_init(&pk, out, msgpack_sbuffer_write);
    size_t n;
    const minga_cfg_t *t = minga_match_config_table(&n);
    msgpack_pack_map(&pk, 14);
    minga_pk_kv_uint(&pk, "v", MINGA_MATCH_CARRY_VERSION);
    minga_pk_kv_uint(&pk, "layout", minga_match_carry_layout());
    minga_pk_kv_str(&pk, "event", d->event_id);
    minga_pk_kv_uint(&pk, "gen", gen);
    minga_pk_str(&pk, "cfg");
    msgpack_pack_array(&pk, (uint32_t)n);
    for (size_t i = 0; i < n; i++)
        msgpack_pack_uint64(&pk, *(const uint64_t *)((const char *)cfg + t[i].offset));
    int rc = s_pack_rows(&pk, "population", S_NC, 1, s_row_pop, d->population);
    if (rc == 0)
        rc = s_pack_rows(&pk, "coverage", S_NC, 1, s_row_pop, d->ctx.coverage);
    s_pack_strs(&pk, "coops", d->ncoops, s_str_coop, d);
    if (rc == 0)
        rc = s_pack_rows(&pk, "prefs", d->ctx.nprefs, 3, s_row_pref, &d->ctx);
    if (rc == 0)
        rc = s_pack_rows(&pk, "offers", d->noffers, S_OW, s_row_offer, d);
    s_pack_strs(&pk, "offer_ids", d->noffers, s_str_offer, d);
    if (rc == 0)
        rc = s_pack_rows(&pk, "demands", d->ndemands, S_DW, s_row_demand, d);
    s_pack_strs(&pk, "demand_ids", d->ndemands, s_str_demand, d);
    s_pack_strs(&pk, "demand_gads", d->ndemands, s_str_gad, d);
    return rc;
}

/* ---- unpacking ---- */

typedef struct {
    const msgpack_object *root;
    char *err;
    size_t errcap;
    size_t ndac, ncat, nmod;
} s_un_t;

static int s_bad(s_un_t *u, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

/* Writes "carried match data: " and the message into u->err; returns MINGA_EFORMAT. */
static int s_bad(s_un_t *u, const char *fmt, ...)
{
    char what[256];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(what, sizeof what, fmt, ap);
    va_end(ap);
    snprintf(u->err, u->errcap, "carried match data: %s", what);
    return MINGA_EFORMAT;
}

/* Field key as a bin of exactly n rows of width words; *p receives its bytes. */
static int s_rows(s_un_t *u, const char *key, size_t n, size_t width, const uint8_t **p)
{
    const msgpack_object *o = minga_pobj_get(u->root, key);
    if (!o || o->type != MSGPACK_OBJECT_BIN)
        return s_bad(u, "%s: missing or not bin", key);
    if (o->via.bin.size != n * width * 4)
        return s_bad(u, "%s: %zu bytes, not the rows announced", key, (size_t)o->via.bin.size);
    *p = (const uint8_t *)o->via.bin.ptr;
    return 0;
}

/* Field key as an array of strings; *n receives its size. */
static const msgpack_object *s_strs(s_un_t *u, const char *key, size_t *n)
{
    const msgpack_object *o = minga_pobj_get(u->root, key);
    if (!o || o->type != MSGPACK_OBJECT_ARRAY)
        return NULL;
    for (uint32_t i = 0; i < o->via.array.size; i++)
        if (o->via.array.ptr[i].type != MSGPACK_OBJECT_STR ||
            o->via.array.ptr[i].via.str.size == 0 ||
            o->via.array.ptr[i].via.str.size > MINGA_KEY_ID)
            return NULL;
    *n = o->via.array.size;
    return o;
}

/* String i of array a, copied (NULL on ENOMEM). */
static char *s_dup(const msgpack_object *a, size_t i)
{
    return minga_pobj_strdup(&a->via.array.ptr[i]);
}

/* Whether the n strings of a are valid ids (DPA codes when gad), strictly increasing when
 * sorted. */
static bool s_ids_ok(const msgpack_object *a, bool sorted, bool gad)
{
    char prev[MINGA_KEY_ID + 1] = "", cur[MINGA_KEY_ID + 1];
    for (uint32_t i = 0; i < a->via.array.size; i++) {
        const msgpack_object_str *s = &a->via.array.ptr[i].via.str;
        memcpy(cur, s->ptr, s->size);
        cur[s->size] = 0;
        if (gad ? !minga_canton_find(cur) : !minga_id_valid(cur))
            return false;
        if (sorted && i > 0 && strcmp(prev, cur) >= 0)
            return false;
        memcpy(prev, cur, s->size + 1);
    }
    return true;
}

static uint32_t s_r(const uint8_t **p)
{
    uint32_t v = minga_key_get_u32(*p);
    *p += 4;
    return v;
}

/* A bit set of words words: no bit at or above nbits. */
static bool s_bits_ok(const uint32_t *w, size_t words, size_t nbits)
{
    for (size_t i = 0; i < words; i++)
        for (size_t b = 0; b < 32; b++)
            if ((w[i] >> b & 1) && i * 32 + b >= nbits)
                return false;
    return true;
}

static bool s_sec_read(const uint8_t **p, minga_match_sectors_t *s, const s_un_t *u)
{
    for (int i = 0; i < MINGA_MATCH_DAC_WORDS; i++)
        s->dac[i] = s_r(p);
    s->cat = s_r(p);
    s->comp = s_r(p);
    size_t ncomp;
    minga_codes(MINGA_CL_COMPETENCY, &ncomp);
    return s_bits_ok(s->dac, MINGA_MATCH_DAC_WORDS, u->ndac) && s_bits_ok(&s->cat, 1, u->ncat) &&
           s_bits_ok(&s->comp, 1, ncomp);
}

static bool s_offer_read(const uint8_t *p, minga_match_offer_t *o, size_t ncoops, const s_un_t *u)
{
    bool ok = s_sec_read(&p, &o->sec, u);
    for (int i = 0; i < MINGA_MATCH_CANTON_WORDS; i++)
        o->cantons[i] = s_r(&p);
    o->coop = s_r(&p);
    o->amount_min = s_r(&p);
    o->amount_max = s_r(&p);
    uint32_t mod = s_r(&p), scope = s_r(&p), flags = s_r(&p);
    ok &= s_bits_ok(o->cantons, MINGA_MATCH_CANTON_WORDS, S_NC) && o->coop < ncoops &&
          o->amount_min <= MINGA_MATCH_AMOUNT_CAP && o->amount_max <= MINGA_MATCH_AMOUNT_CAP &&
          mod < u->nmod && scope <= MINGA_MATCH_SCOPE_CANTONES && flags < 16;
    o->modality = (uint8_t)mod;
    o->scope = (uint8_t)scope;
    o->financial = flags & 1;
    o->cofinancing_required = flags >> 1 & 1;
    o->valid = flags >> 2 & 1;
    o->attends = flags >> 3 & 1;
    return ok;
}

static bool s_demand_read(const uint8_t *p, minga_match_demand_t *d, const s_un_t *u)
{
    bool ok = s_sec_read(&p, &d->sec, u);
    d->amount = s_r(&p);
    d->cofinancing = s_r(&p);
    uint32_t canton = s_r(&p), mod = s_r(&p), prio = s_r(&p);
    ok &= d->amount <= MINGA_MATCH_AMOUNT_CAP && d->cofinancing <= MINGA_MATCH_AMOUNT_CAP &&
          canton < S_NC && mod < u->nmod && prio >= 1 && prio <= 5;
    d->canton = (uint16_t)canton;
    d->modality = (uint8_t)mod;
    d->priority = (uint8_t)prio;
    return ok;
}

/* v, layout, event, gen and cfg. */
static int s_head(s_un_t *u, minga_match_carried_t *c)
{
    const msgpack_object *v = minga_pobj_get(u->root, "v");
    const msgpack_object *lay = minga_pobj_get(u->root, "layout");
    uint64_t ver = minga_pobj_uint(v, 0), layout = minga_pobj_uint(lay, 0);
    if (ver != MINGA_MATCH_CARRY_VERSION || layout != minga_match_carry_layout()) {
        snprintf(u->err, u->errcap,
                 "carried match data of another Minga build: version %llu, layout %016llx; this "
                 "worker reads version %d, layout %016llx (run the same build on every host)",
                 (unsigned long long)ver, (unsigned long long)layout, MINGA_MATCH_CARRY_VERSION,
                 (unsigned long long)minga_match_carry_layout());
        return MINGA_EVERSION;
    }
    size_t len;
    const char *ev = minga_pobj_str(minga_pobj_get(u->root, "event"), &len);
    if (!ev || len == 0 || len > MINGA_KEY_ID)
        return s_bad(u, "%s: missing or not an id", "event");
    memcpy(c->event, ev, len);
    c->event[len] = 0;
    if (!minga_id_valid(c->event))
        return s_bad(u, "%s: not an id", "event");
    const msgpack_object *gen = minga_pobj_get(u->root, "gen");
    if (!gen || gen->type != MSGPACK_OBJECT_POSITIVE_INTEGER || gen->via.u64 == 0)
        return s_bad(u, "%s: missing or not a run number", "gen");
    c->gen = gen->via.u64;
    size_t n;
    const minga_cfg_t *t = minga_match_config_table(&n);
    const msgpack_object *cfg = minga_pobj_get(u->root, "cfg");
    if (!cfg || cfg->type != MSGPACK_OBJECT_ARRAY || cfg->via.array.size != n)
        return s_bad(u, "%s: missing or not %zu settings", "cfg", n);
    for (size_t i = 0; i < n; i++) {
        const msgpack_object *x = &cfg->via.array.ptr[i];
        if (x->type != MSGPACK_OBJECT_POSITIVE_INTEGER || x->via.u64 < t[i].min ||
            (t[i].max && x->via.u64 > t[i].max))
            return s_bad(u, "cfg: %s out of range (setting %zu)", t[i].path, i);
        *(uint64_t *)((char *)&c->cfg + t[i].offset) = x->via.u64;
    }
    return 0;
}

/* The cooperantes, the offers and their records. */
static int s_offers(s_un_t *u, minga_match_carried_t *c)
{
    minga_match_data_t *d = &c->d;
    size_t nco = 0, no = 0;
    const msgpack_object *co = s_strs(u, "coops", &nco), *ids = s_strs(u, "offer_ids", &no);
    if (!co || !s_ids_ok(co, true, false))
        return s_bad(u, "%s: missing, or not sorted unique ids", "coops");
    if (!ids || !s_ids_ok(ids, true, false))
        return s_bad(u, "%s: missing, or not sorted unique ids", "offer_ids");
    const uint8_t *rows = NULL;
    int rc = s_rows(u, "offers", no, S_OW, &rows);
    if (rc)
        return rc;
    d->coops = calloc(nco + 1, sizeof *d->coops);
    d->offers = calloc(no + 1, sizeof *d->offers);
    d->poffers = calloc(no + 1, sizeof *d->poffers);
    if (!d->coops || !d->offers || !d->poffers)
        return MINGA_ENOMEM;
    for (size_t i = 0; i < nco; i++, d->ncoops++)
        if (!(d->coops[i] = s_dup(co, i)))
            return MINGA_ENOMEM;
    for (size_t i = 0; i < no; i++) {
        if (!s_offer_read(rows + i * S_OW * 4, &d->poffers[i], nco, u))
            return s_bad(u, "offers: row %zu out of range", i);
        minga_offer_t *rec = calloc(1, sizeof *rec);
        if (!rec)
            return MINGA_ENOMEM;
        d->offers[d->noffers++] = rec;
        rec->id = s_dup(ids, i);
        rec->cooperante = strdup(d->coops[d->poffers[i].coop]);
        if (!rec->id || !rec->cooperante)
            return MINGA_ENOMEM;
    }
    return 0;
}

/* The demands and their records. */
static int s_demands(s_un_t *u, minga_match_carried_t *c)
{
    minga_match_data_t *d = &c->d;
    size_t nd = 0, ng = 0;
    const msgpack_object *ids = s_strs(u, "demand_ids", &nd), *gads = s_strs(u, "demand_gads", &ng);
    if (!ids || !s_ids_ok(ids, true, false))
        return s_bad(u, "%s: missing, or not sorted unique ids", "demand_ids");
    if (!gads || ng != nd || !s_ids_ok(gads, false, true))
        return s_bad(u, "%s: missing, or not one DPA code per demand", "demand_gads");
    const uint8_t *rows = NULL;
    int rc = s_rows(u, "demands", nd, S_DW, &rows);
    if (rc)
        return rc;
    d->demands = calloc(nd + 1, sizeof *d->demands);
    d->pdemands = calloc(nd + 1, sizeof *d->pdemands);
    if (!d->demands || !d->pdemands)
        return MINGA_ENOMEM;
    for (size_t i = 0; i < nd; i++) {
        if (!s_demand_read(rows + i * S_DW * 4, &d->pdemands[i], u))
            return s_bad(u, "demands: row %zu out of range", i);
        minga_demand_t *rec = calloc(1, sizeof *rec);
        if (!rec)
            return MINGA_ENOMEM;
        d->demands[d->ndemands++] = rec;
        rec->id = s_dup(ids, i);
        rec->gad = s_dup(gads, i);
        if (!rec->id || !rec->gad)
            return MINGA_ENOMEM;
    }
    return 0;
}

/* The populations, the preferences, the context and the coverage check. */
static int s_context(s_un_t *u, minga_match_carried_t *c)
{
    minga_match_data_t *d = &c->d;
    const uint8_t *pop = NULL, *cov = NULL, *pr = NULL;
    int rc = s_rows(u, "population", S_NC, 1, &pop);
    if (rc == 0)
        rc = s_rows(u, "coverage", S_NC, 1, &cov);
    const msgpack_object *po = minga_pobj_get(u->root, "prefs");
    if (rc == 0 && (!po || po->type != MSGPACK_OBJECT_BIN || po->via.bin.size % 12 != 0))
        return s_bad(u, "%s: missing, or not rows of 3 words", "prefs");
    size_t np = rc == 0 ? po->via.bin.size / 12 : 0;
    if (rc == 0)
        rc = s_rows(u, "prefs", np, 3, &pr);
    if (rc)
        return rc;
    for (size_t i = 0; i < S_NC; i++)
        d->population[i] = minga_key_get_u32(pop + 4 * i);
    minga_match_pref_t *prefs = calloc(np + 1, sizeof *prefs);
    if (!prefs)
        return MINGA_ENOMEM;
    for (size_t i = 0; i < np; i++) {
        const uint8_t *p = pr + 12 * i;
        uint32_t canton = s_r(&p), coop = s_r(&p), kind = s_r(&p);
        if (canton >= S_NC || coop >= d->ncoops || kind < MINGA_MATCH_PREF_NO ||
            kind > MINGA_MATCH_PREF_MUST) {
            free(prefs);
            return s_bad(u, "prefs: row %zu out of range", i);
        }
        prefs[i] = (minga_match_pref_t){(uint16_t)canton, coop, (uint8_t)kind};
    }
    rc = minga_match_ctx_init(&d->ctx, &c->cfg, d->population, d->poffers, d->noffers, prefs, np);
    free(prefs);
    if (rc == MINGA_EINVAL)
        return s_bad(u, "%s: K out of range", "cfg");
    if (rc)
        return rc;
    d->prepared = true;
    for (size_t i = 0; i < S_NC; i++)
        if (d->ctx.coverage[i] != minga_key_get_u32(cov + 4 * i))
            return s_bad(u, "coverage: canton %zu differs from the offers carried", i);
    return 0;
}

int minga_match_carry_unpack(const uint8_t *blob, size_t len, minga_match_carried_t **self_p,
                             char *err, size_t errcap)
{
    *self_p = NULL;
    err[0] = 0;
    minga_match_carried_t *c = calloc(1, sizeof *c);
    if (!c)
        return MINGA_ENOMEM;
    msgpack_unpacked up;
    msgpack_unpacked_init(&up);
    size_t off = 0;
    s_un_t u = {NULL, err, errcap, 0, 0, 0};
    minga_codes(MINGA_CL_DAC, &u.ndac);
    minga_codes(MINGA_CL_DAC_CATEGORY, &u.ncat);
    minga_codes(MINGA_CL_MODALITY, &u.nmod);
    int rc = MINGA_EFORMAT;
    if (minga_mpguard_check(blob, len, 4) != 0 ||
        msgpack_unpack_next(&up, (const char *)blob, len, &off) != MSGPACK_UNPACK_SUCCESS ||
        up.data.type != MSGPACK_OBJECT_MAP) {
        snprintf(err, errcap, "carried match data: not a msgpack map (%zu bytes)", len);
        goto done;
    }
    u.root = &up.data;
    if ((rc = s_head(&u, c)) != 0 || (rc = s_offers(&u, c)) != 0 || (rc = s_demands(&u, c)) != 0 ||
        (rc = s_context(&u, c)) != 0)
        goto done;
    snprintf(c->d.event_id, sizeof c->d.event_id, "%s", c->event);
    rc = minga_match_kernel_new(&c->kernel, &c->d.ctx, c->d.poffers, c->d.noffers);
    c->bytes = len;
done:
    msgpack_unpacked_destroy(&up);
    if (rc == MINGA_ENOMEM && !err[0])
        snprintf(err, errcap, "carried match data: out of memory");
    if (rc)
        minga_match_carry_destroy(&c);
    *self_p = c;
    return rc;
}

void minga_match_carry_destroy(minga_match_carried_t **self_p)
{
    minga_match_carried_t *c = self_p ? *self_p : NULL;
    if (!c)
        return;
    minga_match_kernel_destroy(&c->kernel);
    for (size_t i = 0; i < c->d.ncoops; i++)
        free(c->d.coops[i]);
    minga_match_data_clear(&c->d);
    free(c);
    *self_p = NULL;
}

static size_t s_lower(const minga_match_carried_t *c, const char *id)
{
    size_t lo = 0, hi = c->d.ndemands;
    while (lo < hi) {
        size_t mid = lo + (hi - lo) / 2;
        if (strcmp(c->d.demands[mid]->id, id) < 0)
            lo = mid + 1;
        else
            hi = mid;
    }
    return lo;
}

void minga_match_carry_range(const minga_match_carried_t *c, const char *from, const char *to,
                             size_t *first, size_t *end)
{
    *first = from && *from ? s_lower(c, from) : 0;
    *end = to && *to ? s_lower(c, to) : c->d.ndemands;
    if (*end < *first)
        *end = *first;
}
