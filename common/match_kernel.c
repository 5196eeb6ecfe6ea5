/*
 * match_kernel.c: the matching kernel (see match_kernel.h): the offers as a structure of
 * arrays, the branch-free score loop in two builds (baseline and AVX2, chosen at run time),
 * the threshold test and the bounded heaps.
 *
 * Invariants:
 *  1. The SoA holds the active offers in the caller's order, padded to a multiple of 8 with
 *     entries whose modality bit is 0 (no demand accepts them: score -1).
 *  2. s_chunk() computes exactly minga_match_pair()'s score (or -1) for each offer of a chunk;
 *     the preferences of the demand's GAD are applied after it, per preference. In the same
 *     pass it marks (a byte per offer) the scores above the demand's threshold at the start of
 *     the chunk or above the offer's: a pre-filter, since thresholds only rise and the scan
 *     tests again; after preferences changed scores the marks are made again (s_filter).
 *  3. A candidate reaches a heap only if its score is strictly above the list's threshold
 *     (the worst score kept, or -1 while the list is not full). Offers are visited in
 *     increasing index for a demand and demands in increasing index for an offer, so an equal
 *     score arriving later has a higher index and loses: the strict test is exact.
 */
#include "minga/match_kernel.h"

#include "minga/error.h"

#include <stdlib.h>
#include <string.h>

#define S_CHUNK 512
/* An offer's small fields packed in one lane: competencies in bits 0..13, the modality bit
 * from bit 16, co-financing required, financial. */
#define S_MOD_SHIFT 16
#define S_COFREQ (1u << 24)
#define S_FIN (1u << 25)
#define S_BLOCK 8

#if defined(__GNUC__) && !defined(__clang__)
#define S_OPT __attribute__((optimize("O3")))
#else
#define S_OPT
#endif

struct minga_match_kernel_t {
    const minga_match_ctx_t *ctx;
    size_t n, npad;                    /* active offers, padded count */
    size_t noffers;                    /* offers given (indexes in results) */
    uint32_t *dac;                     /* [MINGA_MATCH_DAC_WORDS][npad] */
    uint32_t *cat, *bits, *coop, *idx; /* bits: S_BIT_* below */
    uint32_t *terr;                    /* [MINGA_MATCH_CANTON_WORDS][npad] */
    int32_t *amin, *amax, *ahalf, *afifth;
    int32_t *othr;                   /* per position: the offer list's threshold */
    uint32_t ncoops;                 /* 1 + the highest cooperante index */
    uint32_t *coop_first, *coop_pos; /* positions of cooperante c's offers: CSR, ascending */
};

/* What the loop needs of one demand. */
typedef struct {
    uint32_t nw, widx[MINGA_MATCH_DAC_WORDS], wmask[MINGA_MATCH_DAC_WORDS];
    uint32_t cat, comp, accepts, modbit, tword, tbit;
    int32_t amount, cof_req, dconst;
    uint32_t pref_from, pref_to;
    uint32_t index;
} s_dem_t;

/* ---- heaps ---- */

static bool s_better(minga_match_item_t a, minga_match_item_t b)
{
    return a.score > b.score || (a.score == b.score && a.id < b.id);
}

static void s_sift_down(minga_match_item_t *h, uint32_t n, uint32_t i)
{
    for (;;) {
        uint32_t l = 2 * i + 1, r = l + 1, w = i;
        if (l < n && s_better(h[w], h[l]))
            w = l;
        if (r < n && s_better(h[w], h[r]))
            w = r;
        if (w == i)
            return;
        minga_match_item_t t = h[i];
        h[i] = h[w];
        h[w] = t;
        i = w;
    }
}

void minga_match_topk_push(minga_match_item_t *h, uint32_t *n, uint32_t k, minga_match_item_t it)
{
    if (*n < k) {
        uint32_t i = (*n)++;
        h[i] = it;
        while (i > 0 && s_better(h[(i - 1) / 2], h[i])) {
            minga_match_item_t t = h[i];
            h[i] = h[(i - 1) / 2];
            h[(i - 1) / 2] = t;
            i = (i - 1) / 2;
        }
    } else if (k > 0 && s_better(it, h[0])) {
        h[0] = it;
        s_sift_down(h, *n, 0);
    }
}

static int32_t s_threshold(const minga_match_item_t *h, uint32_t n, uint32_t k)
{
    return n < k ? -1 : h[0].score;
}

int minga_match_topk_init(minga_match_topk_t *t, size_t ndemands, size_t noffers, uint32_t k_demand,
                          uint32_t k_offer)
{
    memset(t, 0, sizeof *t);
    if (!k_demand || !k_offer)
        return MINGA_EINVAL;
    t->k_demand = k_demand;
    t->k_offer = k_offer;
    t->ndemands = ndemands;
    t->noffers = noffers;
    t->demand_top = calloc(ndemands * k_demand + 1, sizeof *t->demand_top);
    t->demand_n = calloc(ndemands + 1, sizeof *t->demand_n);
    t->offer_top = calloc(noffers * k_offer + 1, sizeof *t->offer_top);
    t->offer_n = calloc(noffers + 1, sizeof *t->offer_n);
    if (!t->demand_top || !t->demand_n || !t->offer_top || !t->offer_n) {
        minga_match_topk_clear(t);
        return MINGA_ENOMEM;
    }
    return 0;
}

static int s_item_cmp(const void *a, const void *b)
{
    const minga_match_item_t *x = a, *y = b;
    return s_better(*x, *y) ? -1 : s_better(*y, *x) ? 1 : 0;
}

void minga_match_topk_finish(minga_match_topk_t *t)
{
    for (size_t d = 0; d < t->ndemands; d++)
        qsort(t->demand_top + d * t->k_demand, t->demand_n[d], sizeof *t->demand_top, s_item_cmp);
    for (size_t o = 0; o < t->noffers; o++)
        qsort(t->offer_top + o * t->k_offer, t->offer_n[o], sizeof *t->offer_top, s_item_cmp);
}

void minga_match_topk_clear(minga_match_topk_t *t)
{
    free(t->demand_top);
    free(t->demand_n);
    free(t->offer_top);
    free(t->offer_n);
    memset(t, 0, sizeof *t);
}

/* ---- building the kernel ---- */

static void *s_array(size_t n)
{
    size_t bytes = (n * 4 + 63) / 64 * 64;
    void *p = aligned_alloc(64, bytes ? bytes : 64);
    if (p)
        memset(p, 0, bytes ? bytes : 64);
    return p;
}

static uint32_t s_ceil_div(uint32_t a, uint32_t b)
{
    return (uint32_t)(((uint64_t)a + b - 1) / b);
}

static void s_put(minga_match_kernel_t *k, size_t p, const minga_match_offer_t *o, size_t idx)
{
    for (size_t w = 0; w < MINGA_MATCH_DAC_WORDS; w++)
        k->dac[w * k->npad + p] = o->sec.dac[w];
    for (size_t w = 0; w < MINGA_MATCH_CANTON_WORDS; w++)
        k->terr[w * k->npad + p] = o->cantons[w];
    k->cat[p] = o->sec.cat;
    k->bits[p] = o->sec.comp | 1u << (o->modality + S_MOD_SHIFT) |
                 (o->cofinancing_required ? S_COFREQ : 0) | (o->financial ? S_FIN : 0);
    k->coop[p] = o->coop;
    k->idx[p] = (uint32_t)idx;
    k->amin[p] = o->financial ? (int32_t)o->amount_min : 0;
    k->amax[p] = o->financial ? (int32_t)o->amount_max : INT32_MAX;
    k->ahalf[p] = (int32_t)s_ceil_div(o->amount_max, 2);
    k->afifth[p] = (int32_t)s_ceil_div(o->amount_max, 5);
}

/* The positions of each cooperante's offers (for the preferences). */
static int s_index_coops(minga_match_kernel_t *k)
{
    for (size_t p = 0; p < k->n; p++)
        k->ncoops = k->coop[p] + 1 > k->ncoops ? k->coop[p] + 1 : k->ncoops;
    k->coop_first = calloc((size_t)k->ncoops + 2, sizeof *k->coop_first);
    k->coop_pos = calloc(k->n + 1, sizeof *k->coop_pos);
    if (!k->coop_first || !k->coop_pos)
        return MINGA_ENOMEM;
    for (size_t p = 0; p < k->n; p++)
        k->coop_first[k->coop[p] + 1]++;
    for (uint32_t c = 0; c < k->ncoops; c++)
        k->coop_first[c + 1] += k->coop_first[c];
    uint32_t *fill = calloc((size_t)k->ncoops + 1, sizeof *fill);
    if (!fill)
        return MINGA_ENOMEM;
    for (size_t p = 0; p < k->n; p++)
        k->coop_pos[k->coop_first[k->coop[p]] + fill[k->coop[p]]++] = (uint32_t)p;
    free(fill);
    return 0;
}

int minga_match_kernel_new(minga_match_kernel_t **self_p, const minga_match_ctx_t *ctx,
                           const minga_match_offer_t *offers, size_t noffers)
{
    minga_match_kernel_t *k = calloc(1, sizeof *k);
    if (!k)
        return MINGA_ENOMEM;
    k->ctx = ctx;
    k->noffers = noffers;
    for (size_t i = 0; i < noffers; i++)
        k->n += offers[i].valid && offers[i].attends;
    k->npad = (k->n + S_BLOCK - 1) / S_BLOCK * S_BLOCK;
    size_t np = k->npad;
    k->dac = s_array(np * MINGA_MATCH_DAC_WORDS);
    k->terr = s_array(np * MINGA_MATCH_CANTON_WORDS);
    uint32_t **u[] = {&k->cat, &k->bits, &k->coop, &k->idx};
    int32_t **s[] = {&k->amin, &k->amax, &k->ahalf, &k->afifth, &k->othr};
    bool ok = k->dac && k->terr;
    for (size_t i = 0; i < sizeof u / sizeof u[0]; i++)
        ok = (*u[i] = s_array(np)) != NULL && ok;
    for (size_t i = 0; i < sizeof s / sizeof s[0]; i++)
        ok = (*s[i] = s_array(np)) != NULL && ok;
    if (!ok) {
        minga_match_kernel_destroy(&k);
        return MINGA_ENOMEM;
    }
    size_t p = 0;
    for (size_t i = 0; i < noffers; i++)
        if (offers[i].valid && offers[i].attends)
            s_put(k, p++, &offers[i], i);
    if (s_index_coops(k) != 0) {
        minga_match_kernel_destroy(&k);
        return MINGA_ENOMEM;
    }
    *self_p = k;
    return 0;
}

void minga_match_kernel_destroy(minga_match_kernel_t **self_p)
{
    if (!self_p || !*self_p)
        return;
    minga_match_kernel_t *k = *self_p;
    void *all[] = {k->dac,  k->terr, k->cat,   k->bits,   k->coop, k->idx,
                   k->amin, k->amax, k->ahalf, k->afifth, k->othr};
    for (size_t i = 0; i < sizeof all / sizeof all[0]; i++)
        free(all[i]);
    free(k->coop_first);
    free(k->coop_pos);
    free(k);
    *self_p = NULL;
}

/* ---- the score loop ---- */

static inline __attribute__((always_inline)) void
s_chunk_body(const minga_match_kernel_t *k, const s_dem_t *d, size_t from, size_t len,
             int32_t *restrict sc, uint32_t nw, int32_t thr, uint8_t *restrict hit)
{
    const minga_match_ctx_t *c = k->ctx;
    const uint32_t *restrict cat = k->cat + from, *restrict bits = k->bits + from;
    const uint32_t *restrict terr = k->terr + (size_t)d->tword * k->npad + from;
    const int32_t *restrict amin = k->amin + from;
    const int32_t *restrict amax = k->amax + from, *restrict ahalf = k->ahalf + from;
    const int32_t *restrict afifth = k->afifth + from;
    const uint32_t *w0 = k->dac + (size_t)d->widx[0] * k->npad + from;
    const uint32_t *w1 = k->dac + (size_t)d->widx[nw > 1 ? 1 : 0] * k->npad + from;
    const uint32_t *w2 = k->dac + (size_t)d->widx[nw > 2 ? 2 : 0] * k->npad + from;
    const uint32_t m0 = d->wmask[0], m1 = nw > 1 ? d->wmask[1] : 0, m2 = nw > 2 ? d->wmask[2] : 0;
    const uint32_t dcat = d->cat, dcomp = d->comp;
    const uint32_t acc = d->accepts << S_MOD_SHIFT, dmod = d->modbit << S_MOD_SHIFT;
    const uint32_t tbit = d->tbit;
    const int32_t a = d->amount, cofr = d->cof_req, dconst = d->dconst;
    const int32_t wdac = c->w_dac, wcat = c->w_cat, wcomp = c->w_comp;
    const int32_t wme = c->w_mod_exact, wmr = c->w_mod_related, wcof = c->w_cof;
    const int32_t wh = c->w_amt_high, wm = c->w_amt_mid, wl = c->w_amt_low, wna = c->w_amt_na;
    const int32_t sgate = c->sector_gate ? 1 : 0;
    const int32_t *restrict othr = k->othr + from;
    for (size_t i = 0; i < len; i++) {
        uint32_t dh = (w0[i] & m0) | (w1[i] & m1) | (w2[i] & m2);
        if (nw > 3)
            for (uint32_t j = 3; j < nw; j++)
                dh |= k->dac[(size_t)d->widx[j] * k->npad + from + i] & d->wmask[j];
        uint32_t b = bits[i];
        int32_t hd = dh != 0, hc = (cat[i] & dcat) != 0, hp = (b & dcomp) != 0;
        int32_t sec = hd ? wdac : hc ? wcat : hp ? wcomp : 0;
        int32_t ok = ((b & acc) != 0) & ((terr[i] & tbit) != 0) & (a >= amin[i]) & (a <= amax[i]) &
                     ((hd | hc | hp) | (sgate ^ 1));
        int32_t mod = (b & dmod) != 0 ? wme : wmr;
        int32_t amt = (b & S_FIN) ? (a >= ahalf[i] ? wh : a >= afifth[i] ? wm : wl) : wna;
        int32_t cof = (b & S_COFREQ) ? cofr : wcof;
        int32_t sum = sec + mod + amt + cof + dconst;
        sum = sum > MINGA_MATCH_SCORE_MAX ? MINGA_MATCH_SCORE_MAX : sum;
        int32_t v = ok ? sum : -1;
        sc[i] = v;
        hit[i] = (uint8_t)((v > thr) | (v > othr[i]));
    }
}

/* Marks, a byte per offer, the scores above thr or above the offer's own threshold. */
static inline __attribute__((always_inline)) void s_filter_body(const int32_t *restrict sc,
                                                                const int32_t *restrict othr,
                                                                size_t len, int32_t thr,
                                                                uint8_t *restrict hit)
{
    for (size_t i = 0; i < len; i++)
        hit[i] = (uint8_t)((sc[i] > thr) | (sc[i] > othr[i]));
}

#define S_CHUNK_VARIANTS(suffix, attr)                                                             \
    attr S_OPT static void s_chunk_##suffix(const minga_match_kernel_t *k, const s_dem_t *d,       \
                                            size_t from, size_t len, int32_t *restrict sc,         \
                                            int32_t thr, uint8_t *restrict hit)                    \
    {                                                                                              \
        switch (d->nw) {                                                                           \
        case 1:                                                                                    \
            s_chunk_body(k, d, from, len, sc, 1, thr, hit);                                        \
            break;                                                                                 \
        case 2:                                                                                    \
            s_chunk_body(k, d, from, len, sc, 2, thr, hit);                                        \
            break;                                                                                 \
        case 3:                                                                                    \
            s_chunk_body(k, d, from, len, sc, 3, thr, hit);                                        \
            break;                                                                                 \
        default:                                                                                   \
            s_chunk_body(k, d, from, len, sc, d->nw, thr, hit);                                    \
        }                                                                                          \
    }                                                                                              \
    attr S_OPT static void s_filter_##suffix(const int32_t *restrict sc,                           \
                                             const int32_t *restrict othr, size_t len,             \
                                             int32_t thr, uint8_t *restrict hit)                   \
    {                                                                                              \
        s_filter_body(sc, othr, len, thr, hit);                                                    \
    }

S_CHUNK_VARIANTS(scalar, )
#if defined(__x86_64__) || defined(__i386__)
S_CHUNK_VARIANTS(avx2, __attribute__((target("avx2"))))
#endif

bool minga_match_have_avx2(void)
{
#if defined(__x86_64__) || defined(__i386__)
    __builtin_cpu_init();
    return __builtin_cpu_supports("avx2");
#else
    return false;
#endif
}

const char *minga_match_path_name(minga_match_path_t path)
{
    return path == MINGA_MATCH_PATH_AVX2 ? "avx2" : "scalar";
}

/* ---- per demand ---- */

static void s_dem_init(const minga_match_ctx_t *c, const minga_match_demand_t *d, uint32_t index,
                       s_dem_t *out)
{
    memset(out, 0, sizeof *out);
    for (uint32_t w = 0; w < MINGA_MATCH_DAC_WORDS; w++) {
        if (d->sec.dac[w]) {
            out->widx[out->nw] = w;
            out->wmask[out->nw++] = d->sec.dac[w];
        }
    }
    if (out->nw == 0)
        out->nw = 1; /* word 0 with mask 0: no code */
    out->cat = d->sec.cat;
    out->comp = d->sec.comp;
    out->accepts = minga_match_modality_accepts(d->modality);
    out->modbit = 1u << d->modality;
    uint32_t canton = d->canton < MINGA_MATCH_NCANTONS ? d->canton : 0;
    out->tword = canton >> 5;
    out->tbit = d->canton < MINGA_MATCH_NCANTONS ? 1u << (canton & 31) : 0;
    out->amount = (int32_t)d->amount;
    if (d->cofinancing > 0 && (uint64_t)d->cofinancing * 5 >= d->amount)
        out->cof_req = c->w_cof;
    else
        out->cof_req = d->cofinancing > 0 ? c->w_cof_partial : 0;
    out->dconst = minga_match_demand_const(c, d);
    out->pref_from = c->pref_first ? c->pref_first[canton] : 0;
    out->pref_to = c->pref_first && d->canton < MINGA_MATCH_NCANTONS ? c->pref_first[canton + 1]
                                                                     : out->pref_from;
    out->index = index;
}

/* Applies the GAD's preferences to a scored chunk, visiting only the offers of each
 * preferred cooperante. */
static void s_prefs(const minga_match_kernel_t *k, const s_dem_t *d, size_t from, size_t len,
                    int32_t *sc)
{
    const minga_match_ctx_t *c = k->ctx;
    for (uint32_t p = d->pref_from; p < d->pref_to; p++) {
        const minga_match_pref_t *pr = &c->prefs[p];
        if (pr->coop >= k->ncoops)
            continue;
        int32_t bonus = pr->kind == MINGA_MATCH_PREF_MUST   ? c->w_pref_must
                        : pr->kind == MINGA_MATCH_PREF_WANT ? c->w_pref_want
                                                            : 0;
        for (uint32_t q = k->coop_first[pr->coop]; q < k->coop_first[pr->coop + 1]; q++) {
            size_t i = k->coop_pos[q];
            if (i < from || i >= from + len || sc[i - from] < 0)
                continue;
            int32_t v = sc[i - from] + bonus;
            sc[i - from] = pr->kind == MINGA_MATCH_PREF_NO ? -1
                           : v > MINGA_MATCH_SCORE_MAX     ? MINGA_MATCH_SCORE_MAX
                                                           : v;
        }
    }
}

/* Feeds a scored chunk to the demand's list and to the offers' lists; grp marks (a byte per
 * offer, read 8 at a time) the offers that may be candidates. */
static void s_scan(minga_match_kernel_t *k, const s_dem_t *d, size_t from, size_t len,
                   const int32_t *sc, const uint8_t *grp, minga_match_topk_t *out, int32_t *dthr)
{
    minga_match_item_t *dl = out->demand_top + (size_t)d->index * out->k_demand;
    uint32_t *dn = &out->demand_n[d->index];
    int32_t *othr = k->othr + from;
    for (size_t g = 0; g < len / 8; g++) {
        uint64_t m;
        memcpy(&m, grp + g * 8, 8);
        for (; m; m &= m - 1) {
            size_t j = g * 8 + (size_t)__builtin_ctzll(m) / 8;
            uint32_t oi = k->idx[from + j];
            if (sc[j] > *dthr) {
                minga_match_topk_push(dl, dn, out->k_demand, (minga_match_item_t){sc[j], oi});
                *dthr = s_threshold(dl, *dn, out->k_demand);
            }
            if (sc[j] > othr[j]) {
                minga_match_item_t *ol = out->offer_top + (size_t)oi * out->k_offer;
                minga_match_topk_push(ol, &out->offer_n[oi], out->k_offer,
                                      (minga_match_item_t){sc[j], d->index});
                othr[j] = s_threshold(ol, out->offer_n[oi], out->k_offer);
            }
        }
    }
}

minga_match_path_t minga_match_kernel_score(minga_match_kernel_t *k,
                                            const minga_match_demand_t *demands, size_t ndemands,
                                            minga_match_topk_t *out, minga_match_path_t path)
{
    void (*chunk)(const minga_match_kernel_t *, const s_dem_t *, size_t, size_t, int32_t *, int32_t,
                  uint8_t *) = s_chunk_scalar;
    void (*filter)(const int32_t *, const int32_t *, size_t, int32_t, uint8_t *) = s_filter_scalar;
    minga_match_path_t used = MINGA_MATCH_PATH_SCALAR;
#if defined(__x86_64__) || defined(__i386__)
    if (path != MINGA_MATCH_PATH_SCALAR && minga_match_have_avx2()) {
        chunk = s_chunk_avx2;
        filter = s_filter_avx2;
        used = MINGA_MATCH_PATH_AVX2;
    }
#else
    (void)path;
#endif
    for (size_t p = 0; p < k->n; p++) {
        uint32_t oi = k->idx[p];
        k->othr[p] =
            s_threshold(out->offer_top + (size_t)oi * out->k_offer, out->offer_n[oi], out->k_offer);
    }
    for (size_t p = k->n; p < k->npad; p++)
        k->othr[p] = MINGA_MATCH_SCORE_MAX;
    int32_t sc[S_CHUNK] __attribute__((aligned(64)));
    uint8_t grp[S_CHUNK] __attribute__((aligned(64)));
    s_dem_t blk[S_BLOCK];
    int32_t dthr[S_BLOCK];
    for (size_t b = 0; b < ndemands; b += S_BLOCK) {
        size_t nb = ndemands - b < S_BLOCK ? ndemands - b : S_BLOCK;
        for (size_t j = 0; j < nb; j++) {
            s_dem_init(k->ctx, &demands[b + j], (uint32_t)(b + j), &blk[j]);
            dthr[j] = s_threshold(out->demand_top + (b + j) * out->k_demand, out->demand_n[b + j],
                                  out->k_demand);
        }
        for (size_t from = 0; from < k->npad; from += S_CHUNK) {
            size_t len = k->npad - from < S_CHUNK ? k->npad - from : S_CHUNK;
            for (size_t j = 0; j < nb; j++) {
                chunk(k, &blk[j], from, len, sc, dthr[j], grp);
                if (blk[j].pref_from < blk[j].pref_to) {
                    s_prefs(k, &blk[j], from, len, sc);
                    filter(sc, k->othr + from, len, dthr[j], grp);
                }
                s_scan(k, &blk[j], from, len, sc, grp, out, &dthr[j]);
            }
        }
    }
    return used;
}

void minga_match_reference_score(const minga_match_ctx_t *ctx, const minga_match_demand_t *demands,
                                 size_t ndemands, const minga_match_offer_t *offers, size_t noffers,
                                 minga_match_topk_t *out)
{
    for (size_t d = 0; d < ndemands; d++) {
        for (size_t o = 0; o < noffers; o++) {
            int32_t s = minga_match_pair(ctx, &demands[d], &offers[o], NULL);
            if (s < 0)
                continue;
            minga_match_topk_push(out->demand_top + d * out->k_demand, &out->demand_n[d],
                                  out->k_demand, (minga_match_item_t){s, (uint32_t)o});
            minga_match_topk_push(out->offer_top + o * out->k_offer, &out->offer_n[o], out->k_offer,
                                  (minga_match_item_t){s, (uint32_t)d});
        }
    }
}
