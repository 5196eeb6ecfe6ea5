/*
 * match_kernel.c: the driver of the matching kernel benchmark (tests/bench/match_kernel.sh).
 *
 *   match_kernel_bench --scale S [--ref-demands N] [--reps R] [--dump FILE]
 *                      [--compare FILE] [--all-offers 0|1]
 *
 * Generates the demo data set at scale S in memory (the same rows `minga demo-data --scale S`
 * writes), prepares it for the event jornada-2026 with the default weights, and times:
 *   avx2       the kernel's AVX2 path (when the CPU has it), all demands, best of R runs;
 *   scalar     the kernel's baseline path, all demands;
 *   reference  minga_match_pair() on every pair, the first N demands (all by default);
 * checks that the three agree (per-demand and per-offer lists; the reference on its demands),
 * and prints one JSON object with the figures. Times are the thread's CPU time
 * (CLOCK_THREAD_CPUTIME_ID), so that figures are per core even on a busy machine. Pairs count
 * every offer; the kernel skips the offers that fail an event-wide gate (validity, attendance)
 * at build time, so --all-offers 1 marks every offer valid and attending to time the loop on
 * all of them. --dump writes the prepared arrays for the NumPy peer (match_numpy.py);
 * --compare reads the NumPy peer's per-demand lists and checks them against the kernel's for
 * the demands it scored.
 */
#include "minga/demo.h"
#include "minga/error.h"
#include "minga/match_data.h"
#include "minga/match_kernel.h"

#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

static double s_now(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_THREAD_CPUTIME_ID, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec * 1e-9;
}

static int s_add(const minga_rtype_t *t, const void *rec, void *arg)
{
    return minga_match_data_add(arg, t, rec);
}

/* Equal lists for the first nd demands (and, when offers, every offer's list)? */
static bool s_same(const minga_match_topk_t *a, const minga_match_topk_t *b, size_t nd, bool offers)
{
    for (size_t d = 0; d < nd; d++) {
        if (a->demand_n[d] != b->demand_n[d] ||
            memcmp(a->demand_top + d * a->k_demand, b->demand_top + d * b->k_demand,
                   a->demand_n[d] * sizeof *a->demand_top) != 0) {
            fprintf(stderr, "demand %zu differs\n", d);
            return false;
        }
    }
    for (size_t o = 0; offers && o < a->noffers; o++) {
        if (a->offer_n[o] != b->offer_n[o] ||
            memcmp(a->offer_top + o * a->k_offer, b->offer_top + o * b->k_offer,
                   a->offer_n[o] * sizeof *a->offer_top) != 0) {
            fprintf(stderr, "offer %zu differs\n", o);
            return false;
        }
    }
    return true;
}

static double s_run(minga_match_kernel_t *k, const minga_match_data_t *d, minga_match_path_t path,
                    int reps, minga_match_topk_t *keep)
{
    double best = 1e30;
    for (int r = 0; r < reps; r++) {
        minga_match_topk_t t;
        minga_match_topk_init(&t, d->ndemands, d->noffers, d->ctx.k_demand, d->ctx.k_offer);
        double t0 = s_now();
        minga_match_kernel_score(k, d->pdemands, d->ndemands, &t, path);
        double el = s_now() - t0;
        best = el < best ? el : best;
        if (r == reps - 1) {
            minga_match_topk_finish(&t);
            *keep = t;
        } else {
            minga_match_topk_clear(&t);
        }
    }
    return best;
}

static void s_w32(FILE *f, int64_t v)
{
    int32_t x = (int32_t)v;
    fwrite(&x, sizeof x, 1, f);
}

/* The prepared arrays as int32: a header, then per offer and per demand fields (NumPy). */
static int s_dump(const char *path, const minga_match_data_t *d)
{
    FILE *f = fopen(path, "wb");
    if (!f)
        return -1;
    const minga_match_ctx_t *c = &d->ctx;
    int32_t hdr[] = {(int32_t)d->noffers,
                     (int32_t)d->ndemands,
                     (int32_t)c->nprefs,
                     c->w_dac,
                     c->w_cat,
                     c->w_comp,
                     c->w_mod_exact,
                     c->w_mod_related,
                     c->w_amt_high,
                     c->w_amt_mid,
                     c->w_amt_low,
                     c->w_amt_na,
                     c->w_cof,
                     c->w_cof_partial,
                     c->w_pref_must,
                     c->w_pref_want,
                     c->sector_gate,
                     (int32_t)c->k_demand};
    fwrite(hdr, sizeof hdr, 1, f);
    for (size_t i = 0; i < d->noffers; i++) {
        const minga_match_offer_t *o = &d->poffers[i];
        for (int w = 0; w < MINGA_MATCH_DAC_WORDS; w++)
            s_w32(f, o->sec.dac[w]);
        for (int w = 0; w < MINGA_MATCH_CANTON_WORDS; w++)
            s_w32(f, o->cantons[w]);
        int64_t v[] = {o->sec.cat,
                       o->sec.comp,
                       1u << o->modality,
                       o->cofinancing_required,
                       o->coop,
                       o->financial,
                       o->financial ? o->amount_min : 0,
                       o->financial ? o->amount_max : INT32_MAX,
                       (o->amount_max + 1ull) / 2,
                       (o->amount_max + 4ull) / 5,
                       o->valid && o->attends};
        for (size_t j = 0; j < sizeof v / sizeof v[0]; j++)
            s_w32(f, v[j]);
    }
    for (size_t i = 0; i < d->ndemands; i++) {
        const minga_match_demand_t *m = &d->pdemands[i];
        for (int w = 0; w < MINGA_MATCH_DAC_WORDS; w++)
            s_w32(f, m->sec.dac[w]);
        int32_t cofr = m->cofinancing > 0 && (uint64_t)m->cofinancing * 5 >= m->amount ? c->w_cof
                       : m->cofinancing > 0 ? c->w_cof_partial
                                            : 0;
        int64_t v[] = {m->sec.cat,
                       m->sec.comp,
                       minga_match_modality_accepts(m->modality),
                       1u << m->modality,
                       m->canton,
                       m->amount,
                       cofr,
                       minga_match_demand_const(c, m)};
        for (size_t j = 0; j < sizeof v / sizeof v[0]; j++)
            s_w32(f, v[j]);
    }
    for (size_t i = 0; i < c->nprefs; i++) {
        s_w32(f, c->prefs[i].canton);
        s_w32(f, c->prefs[i].coop);
        s_w32(f, c->prefs[i].kind);
    }
    return fclose(f) == 0 ? 0 : -1;
}

/* The NumPy peer's lists: per demand scored, K pairs (score, offer) with score -1 as padding. */
static int s_compare(const char *path, const minga_match_topk_t *t, size_t *checked)
{
    FILE *f = fopen(path, "rb");
    if (!f)
        return -1;
    int32_t nd, k;
    int rc = 0;
    if (fread(&nd, 4, 1, f) != 1 || fread(&k, 4, 1, f) != 1 || (uint32_t)k != t->k_demand)
        rc = -1;
    for (int32_t d = 0; !rc && d < nd; d++) {
        uint32_t n = 0;
        for (int32_t j = 0; j < k; j++) {
            int32_t pair[2];
            if (fread(pair, 4, 2, f) != 2) {
                rc = -1;
                break;
            }
            if (pair[0] < 0)
                continue;
            const minga_match_item_t *it = &t->demand_top[(size_t)d * t->k_demand + n++];
            if (n > t->demand_n[d] || it->score != pair[0] || it->id != (uint32_t)pair[1]) {
                fprintf(stderr, "numpy: demand %d rank %d differs\n", d, j + 1);
                rc = -1;
            }
        }
        if (!rc && n != t->demand_n[d])
            rc = -1;
    }
    fclose(f);
    *checked = (size_t)nd;
    return rc;
}

int main(int argc, char **argv)
{
    double scale = 1;
    long ref_demands = -1;
    int reps = 3;
    const char *dump = NULL, *compare = NULL;
    bool all_offers = false;
    for (int i = 1; i + 1 < argc; i += 2) {
        if (strcmp(argv[i], "--scale") == 0)
            scale = atof(argv[i + 1]);
        else if (strcmp(argv[i], "--ref-demands") == 0)
            ref_demands = atol(argv[i + 1]);
        else if (strcmp(argv[i], "--reps") == 0)
            reps = atoi(argv[i + 1]);
        else if (strcmp(argv[i], "--dump") == 0)
            dump = argv[i + 1];
        else if (strcmp(argv[i], "--compare") == 0)
            compare = argv[i + 1];
        else if (strcmp(argv[i], "--all-offers") == 0)
            all_offers = strcmp(argv[i + 1], "1") == 0;
    }
    minga_match_data_t d;
    minga_match_data_init(&d, MINGA_DEMO_EVENT);
    minga_match_config_t cfg;
    minga_match_config_defaults(&cfg);
    char err[256];
    double t0 = s_now();
    if (minga_demo_generate(MINGA_DEMO_SEED, scale, s_add, &d, NULL) != 0 ||
        minga_match_data_prepare(&d, &cfg, err, sizeof err) != 0) {
        fprintf(stderr, "match_kernel_bench: cannot prepare the data set\n");
        return 1;
    }
    double prep = s_now() - t0;
    size_t active = 0;
    for (size_t i = 0; i < d.noffers; i++) {
        if (all_offers)
            d.poffers[i].valid = d.poffers[i].attends = true;
        active += d.poffers[i].valid && d.poffers[i].attends;
    }
    if (dump && s_dump(dump, &d) != 0) {
        fprintf(stderr, "match_kernel_bench: cannot write %s\n", dump);
        return 1;
    }
    minga_match_kernel_t *k = NULL;
    if (minga_match_kernel_new(&k, &d.ctx, d.poffers, d.noffers) != 0)
        return 1;
    double pairs = (double)d.ndemands * (double)d.noffers;
    minga_match_topk_t tv, ts, tr;
    double t_vec = s_run(k, &d, MINGA_MATCH_PATH_AVX2, reps, &tv);
    double t_sca = s_run(k, &d, MINGA_MATCH_PATH_SCALAR, reps, &ts);
    size_t nref =
        ref_demands < 0 || (size_t)ref_demands > d.ndemands ? d.ndemands : (size_t)ref_demands;
    minga_match_topk_init(&tr, nref, d.noffers, d.ctx.k_demand, d.ctx.k_offer);
    t0 = s_now();
    minga_match_reference_score(&d.ctx, d.pdemands, nref, d.poffers, d.noffers, &tr);
    double t_ref = s_now() - t0;
    minga_match_topk_finish(&tr);
    bool same = s_same(&tv, &ts, d.ndemands, true) && s_same(&tv, &tr, nref, nref == d.ndemands);
    size_t nnp = 0;
    bool np_same = true;
    if (compare)
        np_same = s_compare(compare, &tv, &nnp) == 0;
    size_t kept = 0;
    for (size_t i = 0; i < d.ndemands; i++)
        kept += tv.demand_n[i];
    printf("{\"scale\": %g, \"all_offers_active\": %s, \"offers\": %zu, \"active_offers\": %zu, "
           "\"demands\": %zu, \"pairs\": %.0f, \"prepare_s\": %.4f, "
           "\"avx2_available\": %s, "
           "\"kernel_vector\": {\"seconds\": %.6f, \"pairs_per_s\": %.0f}, "
           "\"kernel_scalar\": {\"seconds\": %.6f, \"pairs_per_s\": %.0f}, "
           "\"reference\": {\"demands\": %zu, \"seconds\": %.6f, \"pairs_per_s\": %.0f}, "
           "\"candidates_per_demand_kept\": %zu, \"equal\": %s, "
           "\"numpy_checked_demands\": %zu, \"numpy_equal\": %s}\n",
           scale, all_offers ? "true" : "false", d.noffers, active, d.ndemands, pairs, prep,
           minga_match_have_avx2() ? "true" : "false", t_vec, pairs / t_vec, t_sca, pairs / t_sca,
           nref, t_ref, (double)nref * (double)d.noffers / t_ref, kept, same ? "true" : "false",
           nnp, compare ? (np_same ? "true" : "false") : "null");
    minga_match_topk_clear(&tv);
    minga_match_topk_clear(&ts);
    minga_match_topk_clear(&tr);
    minga_match_kernel_destroy(&k);
    minga_match_data_clear(&d);
    return same && np_same ? 0 : 1;
}
