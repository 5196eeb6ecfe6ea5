/*
 * test_match_kernel.c: property tests of the matching kernel (match_kernel.h) on many random
 * data sets, against a slow reference written here from the rules as match_rules.h states
 * them (not from match_rules.c): score every pair, sort all of them, cut at K.
 *
 * Checked on each data set: the reference's score equals minga_match_pair() on every pair;
 * the kernel's per-demand and per-offer lists equal the reference's, on the AVX2 path (when
 * the CPU has it) and on the baseline path; and cutting the demands into random shards, each
 * scored on its own and the per-offer lists merged, gives the same lists. The data sets are
 * small and tie-heavy (few distinct values), with preferences, inactive offers, demands with
 * DAC codes spread over many words, and odd sizes around the kernel's block and chunk edges.
 */
#include "minga/error.h"
#include "minga/match_kernel.h"
#include "minga/match_rules.h"

#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <cmocka.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* ---- a small PRNG (deterministic across machines) ---- */

static uint64_t s_state;

static uint32_t s_rand(uint32_t n)
{
    s_state ^= s_state << 13;
    s_state ^= s_state >> 7;
    s_state ^= s_state << 17;
    return n ? (uint32_t)(s_state % n) : 0;
}

static bool s_pct(unsigned p)
{
    return s_rand(100) < p;
}

/* ---- random data ---- */

typedef struct {
    minga_match_config_t cfg;
    minga_match_offer_t *o;
    minga_match_demand_t *d;
    minga_match_pref_t *p;
    size_t no, nd, np;
    minga_match_ctx_t ctx;
} s_set_t;

static void s_sectors(minga_match_sectors_t *s, bool wide)
{
    memset(s, 0, sizeof *s);
    unsigned n = 1 + s_rand(wide ? 6 : 2);
    for (unsigned i = 0; i < n; i++) {
        unsigned bit = wide ? s_rand(208) : s_rand(12);
        s->dac[bit / 32] |= 1u << (bit % 32);
        s->cat |= 1u << (bit / 10 % 22);
    }
    s->comp = 1u << s_rand(4);
    if (s_pct(30))
        s->comp |= 1u << s_rand(14);
}

static const uint32_t s_amounts[] = {0, 1000, 5000, 10000, 20000, 50000, 100000, 2147483647u};
#define S_NAMOUNTS (sizeof s_amounts / sizeof s_amounts[0])

static void s_offer(minga_match_offer_t *o, uint8_t fin, uint32_t ncoops)
{
    memset(o, 0, sizeof *o);
    s_sectors(&o->sec, s_pct(10));
    o->modality = (uint8_t)s_rand(6);
    o->financial = o->modality == fin;
    uint32_t a = s_amounts[s_rand(S_NAMOUNTS)], b = s_amounts[s_rand(S_NAMOUNTS)];
    o->amount_min = a < b ? a : b;
    o->amount_max = a < b ? b : a;
    o->cofinancing_required = s_pct(30);
    o->coop = s_rand(ncoops);
    o->valid = s_pct(90);
    o->attends = s_pct(90);
    o->scope = (uint8_t)s_rand(4);
    if (s_pct(40)) {
        for (int w = 0; w < MINGA_MATCH_CANTON_WORDS; w++)
            o->cantons[w] = w == 6 ? 0x1fffffffu : 0xffffffffu;
    } else {
        for (int i = 0; i < 12; i++) {
            unsigned c = s_rand(16);
            o->cantons[c / 32] |= 1u << (c % 32);
        }
    }
}

static void s_demand(minga_match_demand_t *d)
{
    memset(d, 0, sizeof *d);
    s_sectors(&d->sec, s_pct(15));
    d->modality = (uint8_t)s_rand(6);
    d->amount = s_amounts[s_rand(S_NAMOUNTS)];
    d->cofinancing = s_pct(50) ? s_amounts[s_rand(S_NAMOUNTS)] / 4 : 0;
    d->canton = (uint16_t)(s_pct(90) ? s_rand(16) : s_rand(MINGA_MATCH_NCANTONS));
    d->priority = (uint8_t)(1 + s_rand(5));
}

static void s_make(s_set_t *s, size_t no, size_t nd)
{
    memset(s, 0, sizeof *s);
    minga_match_config_defaults(&s->cfg);
    s->cfg.k_demand = 1 + s_rand(12);
    s->cfg.k_offer = 1 + s_rand(12);
    s->cfg.sector_gate = s_pct(70);
    if (s_pct(20))
        s->cfg.sector_dac = 9000; /* sums above 100: the clamp */
    uint32_t ncoops = 1 + s_rand(20);
    uint8_t fin = minga_match_modality_financial();
    s->no = no;
    s->nd = nd;
    s->o = calloc(no + 1, sizeof *s->o);
    s->d = calloc(nd + 1, sizeof *s->d);
    s->np = s_rand(12);
    s->p = calloc(s->np + 1, sizeof *s->p);
    assert_non_null(s->o);
    assert_non_null(s->d);
    for (size_t i = 0; i < no; i++)
        s_offer(&s->o[i], fin, ncoops);
    for (size_t i = 0; i < nd; i++)
        s_demand(&s->d[i]);
    for (size_t i = 0; i < s->np; i++)
        s->p[i] =
            (minga_match_pref_t){(uint16_t)s_rand(16), s_rand(ncoops), (uint8_t)(1 + s_rand(3))};
    assert_int_equal(minga_match_ctx_init(&s->ctx, &s->cfg, NULL, s->o, no, s->p, s->np), 0);
}

static void s_free(s_set_t *s)
{
    minga_match_ctx_clear(&s->ctx);
    free(s->o);
    free(s->d);
    free(s->p);
}

/* ---- the reference, from the rules as documented ---- */

static bool s_bit(const uint32_t *w, unsigned i)
{
    return (w[i / 32] >> (i % 32)) & 1u;
}

/* The preference of (canton, coop) from the raw list: "no" > obligatoria > deseada. */
static int s_ref_pref(const s_set_t *s, uint16_t canton, uint32_t coop)
{
    int best = 0;
    for (size_t i = 0; i < s->np; i++) {
        if (s->p[i].canton != canton || s->p[i].coop != coop)
            continue;
        if (s->p[i].kind == MINGA_MATCH_PREF_NO || best == MINGA_MATCH_PREF_NO)
            best = MINGA_MATCH_PREF_NO;
        else if (s->p[i].kind > best)
            best = s->p[i].kind;
    }
    return best;
}

static int64_t s_ref_score(const s_set_t *s, const minga_match_demand_t *d,
                           const minga_match_offer_t *o)
{
    const minga_match_config_t *w = &s->cfg;
    if (!o->valid || !o->attends || !s_bit(o->cantons, d->canton))
        return -1;
    if (!((minga_match_modality_accepts(d->modality) >> o->modality) & 1u))
        return -1;
    if (o->financial && (d->amount < o->amount_min || d->amount > o->amount_max))
        return -1;
    int pref = s_ref_pref(s, d->canton, o->coop);
    if (pref == MINGA_MATCH_PREF_NO)
        return -1;
    bool code = false;
    for (int i = 0; i < 32 * MINGA_MATCH_DAC_WORDS; i++)
        code |= s_bit(d->sec.dac, (unsigned)i) && s_bit(o->sec.dac, (unsigned)i);
    bool cat = (d->sec.cat & o->sec.cat) != 0, comp = (d->sec.comp & o->sec.comp) != 0;
    if (w->sector_gate && !code && !cat && !comp)
        return -1;
    int64_t v = code ? w->sector_dac : cat ? w->sector_category : comp ? w->sector_competency : 0;
    v += d->modality == o->modality ? w->modality_exact : w->modality_related;
    if (!o->financial)
        v += w->amount_nonfinancial;
    else if ((uint64_t)d->amount * 2 >= o->amount_max)
        v += w->amount_high;
    else if ((uint64_t)d->amount * 5 >= o->amount_max)
        v += w->amount_mid;
    else
        v += w->amount_low;
    if (!o->cofinancing_required)
        v += w->cofinancing;
    else if (d->cofinancing > 0 && (uint64_t)d->cofinancing * 5 >= d->amount)
        v += w->cofinancing;
    else if (d->cofinancing > 0)
        v += w->cofinancing_partial;
    v += (int64_t)w->priority * (6 - d->priority) / 5;
    v += s->ctx.small[d->canton] ? w->equity_small : 0;
    v += s->ctx.underserved[d->canton] ? w->equity_underserved : 0;
    v += pref == MINGA_MATCH_PREF_MUST   ? w->preference_must
         : pref == MINGA_MATCH_PREF_WANT ? w->preference_want
                                         : 0;
    return v > 10000 ? 10000 : v;
}

typedef struct {
    int64_t score;
    uint32_t a, b; /* the list's owner, the candidate */
} s_pair_t;

static int s_pair_cmp(const void *x, const void *y)
{
    const s_pair_t *p = x, *q = y;
    if (p->a != q->a)
        return p->a < q->a ? -1 : 1;
    if (p->score != q->score)
        return p->score > q->score ? -1 : 1;
    return p->b < q->b ? -1 : p->b > q->b;
}

/* Compares the kernel's list of owner a with the sorted pairs [at, end) cut at k. */
static void s_check_list(const s_pair_t *all, size_t n, size_t *at, uint32_t owner, uint32_t k,
                         const minga_match_item_t *list, uint32_t count)
{
    uint32_t j = 0;
    while (*at < n && all[*at].a == owner) {
        if (j < k) {
            assert_true(j < count);
            assert_int_equal(list[j].score, all[*at].score);
            assert_int_equal(list[j].id, all[*at].b);
        }
        j++;
        (*at)++;
    }
    assert_int_equal(count, j < k ? j : k);
}

static void s_check(const s_set_t *s, const minga_match_topk_t *t)
{
    s_pair_t *bd = malloc((s->nd * s->no + 1) * sizeof *bd);
    s_pair_t *bo = malloc((s->nd * s->no + 1) * sizeof *bo);
    assert_non_null(bd);
    assert_non_null(bo);
    size_t n = 0;
    for (size_t d = 0; d < s->nd; d++)
        for (size_t o = 0; o < s->no; o++) {
            int64_t v = s_ref_score(s, &s->d[d], &s->o[o]);
            assert_int_equal(v, minga_match_pair(&s->ctx, &s->d[d], &s->o[o], NULL));
            if (v < 0)
                continue;
            bd[n] = (s_pair_t){v, (uint32_t)d, (uint32_t)o};
            bo[n++] = (s_pair_t){v, (uint32_t)o, (uint32_t)d};
        }
    qsort(bd, n, sizeof *bd, s_pair_cmp);
    qsort(bo, n, sizeof *bo, s_pair_cmp);
    size_t at = 0;
    for (size_t d = 0; d < s->nd; d++)
        s_check_list(bd, n, &at, (uint32_t)d, t->k_demand, t->demand_top + d * t->k_demand,
                     t->demand_n[d]);
    at = 0;
    for (size_t o = 0; o < s->no; o++)
        s_check_list(bo, n, &at, (uint32_t)o, t->k_offer, t->offer_top + o * t->k_offer,
                     t->offer_n[o]);
    free(bd);
    free(bo);
}

static void s_kernel(const s_set_t *s, minga_match_path_t path, minga_match_topk_t *t)
{
    minga_match_kernel_t *k = NULL;
    assert_int_equal(minga_match_kernel_new(&k, &s->ctx, s->o, s->no), 0);
    assert_int_equal(
        minga_match_topk_init(t, s->nd, s->no, (uint32_t)s->cfg.k_demand, (uint32_t)s->cfg.k_offer),
        0);
    minga_match_kernel_score(k, s->d, s->nd, t, path);
    minga_match_topk_finish(t);
    minga_match_kernel_destroy(&k);
}

/* Scores the demands in random shards and merges the offers' lists (demand index = global). */
static void s_sharded(const s_set_t *s, minga_match_topk_t *all)
{
    assert_int_equal(minga_match_topk_init(all, s->nd, s->no, (uint32_t)s->cfg.k_demand,
                                           (uint32_t)s->cfg.k_offer),
                     0);
    minga_match_kernel_t *k = NULL;
    assert_int_equal(minga_match_kernel_new(&k, &s->ctx, s->o, s->no), 0);
    for (size_t from = 0; from < s->nd;) {
        size_t len = 1 + s_rand((uint32_t)(s->nd - from));
        minga_match_topk_t t;
        assert_int_equal(minga_match_topk_init(&t, len, s->no, all->k_demand, all->k_offer), 0);
        minga_match_kernel_score(k, s->d + from, len, &t, MINGA_MATCH_PATH_AUTO);
        minga_match_topk_finish(&t);
        memcpy(all->demand_top + from * all->k_demand, t.demand_top,
               len * all->k_demand * sizeof *t.demand_top);
        memcpy(all->demand_n + from, t.demand_n, len * sizeof *t.demand_n);
        for (size_t o = 0; o < s->no; o++)
            for (uint32_t j = 0; j < t.offer_n[o]; j++) {
                minga_match_item_t it = t.offer_top[o * t.k_offer + j];
                it.id += (uint32_t)from;
                minga_match_topk_push(all->offer_top + o * all->k_offer, &all->offer_n[o],
                                      all->k_offer, it);
            }
        minga_match_topk_clear(&t);
        from += len;
    }
    minga_match_topk_finish(all);
    minga_match_kernel_destroy(&k);
}

static void s_property(size_t no, size_t nd)
{
    s_set_t s;
    s_make(&s, no, nd);
    minga_match_topk_t t;
    s_kernel(&s, MINGA_MATCH_PATH_AVX2, &t);
    s_check(&s, &t);
    minga_match_topk_clear(&t);
    s_kernel(&s, MINGA_MATCH_PATH_SCALAR, &t);
    s_check(&s, &t);
    minga_match_topk_clear(&t);
    s_sharded(&s, &t);
    s_check(&s, &t);
    minga_match_topk_clear(&t);
    minga_match_topk_init(&t, nd, no, (uint32_t)s.cfg.k_demand, (uint32_t)s.cfg.k_offer);
    minga_match_reference_score(&s.ctx, s.d, nd, s.o, no, &t);
    minga_match_topk_finish(&t);
    s_check(&s, &t);
    minga_match_topk_clear(&t);
    s_free(&s);
}

static void test_random_sets(void **state)
{
    (void)state;
    s_state = 0x9e3779b97f4a7c15ull;
    for (int i = 0; i < 300; i++)
        s_property(1 + s_rand(200), 1 + s_rand(60));
}

/* Sizes around the block (8 demands) and chunk (512 offers) edges. */
static void test_edges(void **state)
{
    (void)state;
    s_state = 12345;
    const size_t offers[] = {1, 7, 8, 9, 511, 512, 513, 1100};
    const size_t demands[] = {1, 7, 8, 9, 17};
    for (size_t i = 0; i < sizeof offers / sizeof offers[0]; i++)
        for (size_t j = 0; j < sizeof demands / sizeof demands[0]; j++)
            s_property(offers[i], demands[j]);
}

static void test_empty(void **state)
{
    (void)state;
    s_state = 777;
    s_set_t s;
    s_make(&s, 0, 3);
    minga_match_topk_t t;
    s_kernel(&s, MINGA_MATCH_PATH_AUTO, &t);
    for (size_t d = 0; d < 3; d++)
        assert_int_equal(t.demand_n[d], 0);
    minga_match_topk_clear(&t);
    s_free(&s);
    assert_int_equal(minga_match_topk_init(&t, 1, 1, 0, 1), MINGA_EINVAL);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_random_sets),
        cmocka_unit_test(test_edges),
        cmocka_unit_test(test_empty),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
