/*
 * match_rules.c: the matching rules (see match_rules.h): configuration, preparing records into
 * bit sets and small integers, the context (preferences, equity), the scalar pair function
 * that is the reference for the kernel, and the Spanish text of the reasons.
 *
 * Everything here is integer arithmetic, so that the score of a pair is the same on every
 * path, machine and shard count.
 */
#include "minga/match_rules.h"

#include "minga/codes.h"
#include "minga/error.h"

#include <pthread.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* ---- configuration ---- */

#define S_W(name, dflt, max, help)                                                                 \
    {                                                                                              \
        "match/" #name, #name, MINGA_CFG_UINT, offsetof(minga_match_config_t, name), 0, max, help  \
    }

#define S_K(name, help)                                                                            \
    {                                                                                              \
        "match/" #name, #name, MINGA_CFG_UINT, offsetof(minga_match_config_t, name), 1,            \
            MINGA_MATCH_K_MAX, help                                                                \
    }

static const minga_cfg_t s_cfg_table[] = {
    S_W(sector_dac, 3500, 10000, "points for a common DAC code"),
    S_W(sector_category, 2500, 10000, "points for a common 3-digit DAC category"),
    S_W(sector_competency, 1500, 10000, "points for the demand's COOTAD competency"),
    S_W(modality_exact, 1000, 10000, "points for the same modality"),
    S_W(modality_related, 500, 10000, "points for a related modality"),
    S_W(amount_high, 1000, 10000, "subvención asking >= half the offer's maximum"),
    S_W(amount_mid, 700, 10000, "subvención asking >= a fifth of the offer's maximum"),
    S_W(amount_low, 400, 10000, "subvención asking less"),
    S_W(amount_nonfinancial, 700, 10000, "points of the amount part for other modalities"),
    S_W(cofinancing, 500, 10000, "co-financing fits (or is not required)"),
    S_W(cofinancing_partial, 250, 10000, "the GAD brings less than 20 % required co-financing"),
    S_W(priority, 1000, 10000, "points for a priority-1 demand (p: priority*(6-p)/5)"),
    S_W(equity_small, 500, 10000, "points for a small canton"),
    S_W(equity_underserved, 500, 10000, "points for a poorly served canton"),
    S_W(equity_population, 50000, 100000000, "a canton up to this population is small"),
    S_W(equity_coverage_pct, 50, 100, "poorly served: eligible offers <= this % of the best"),
    S_W(preference_must, 2000, 10000, "points for an obligatoria preference"),
    S_W(preference_want, 1000, 10000, "points for a deseada preference"),
    S_W(sector_gate, 1, 1, "1: a pair needs some sector fit"),
    S_K(k_demand, "candidates kept per demand"),
    S_K(k_offer, "candidates kept per offer"),
};
#define S_NCFG (sizeof s_cfg_table / sizeof s_cfg_table[0])

void minga_match_config_defaults(minga_match_config_t *cfg)
{
    *cfg = (minga_match_config_t){
        .sector_dac = 3500,
        .sector_category = 2500,
        .sector_competency = 1500,
        .modality_exact = 1000,
        .modality_related = 500,
        .amount_high = 1000,
        .amount_mid = 700,
        .amount_low = 400,
        .amount_nonfinancial = 700,
        .cofinancing = 500,
        .cofinancing_partial = 250,
        .priority = 1000,
        .equity_small = 500,
        .equity_underserved = 500,
        .equity_population = 50000,
        .equity_coverage_pct = 50,
        .preference_must = 2000,
        .preference_want = 1000,
        .sector_gate = 1,
        .k_demand = 10,
        .k_offer = 10,
    };
}

const minga_cfg_t *minga_match_config_table(size_t *n)
{
    *n = S_NCFG;
    return s_cfg_table;
}

int minga_match_config_load(minga_match_config_t *cfg, const char *file, char *err, size_t errcap)
{
    minga_match_config_defaults(cfg);
    if (!file)
        return 0;
    return minga_config_load(file, s_cfg_table, S_NCFG, cfg, err, errcap);
}

/* ---- code indexes ---- */

/* The index of code in list: an exact code of the short word lists first (stored records
 * hold canonical codes), else minga_code_find()'s matching. */
static int s_index(minga_codelist_t list, const char *code)
{
    size_t n;
    const minga_code_t *all = minga_codes(list, &n);
    if (!code)
        return -1;
    if (list != MINGA_CL_DAC && list != MINGA_CL_CANTON && n <= 32)
        for (size_t i = 0; i < n; i++)
            if (strcmp(all[i].code, code) == 0)
                return (int)i;
    const minga_code_t *c = minga_code_find(list, code);
    return c ? (int)(c - all) : -1;
}

static int s_canton_index(const char *code)
{
    size_t n;
    const minga_canton_t *all = minga_cantons(&n);
    const minga_canton_t *c = code ? minga_canton_find(code) : NULL;
    return c ? (int)(c - all) : -1;
}

static void s_set(uint32_t *words, int bit)
{
    words[bit >> 5] |= 1u << (bit & 31);
}

static bool s_has(const uint32_t *words, int bit)
{
    return (words[bit >> 5] >> (bit & 31)) & 1u;
}

static uint32_t s_sat(uint64_t v)
{
    return v > MINGA_MATCH_AMOUNT_CAP ? MINGA_MATCH_AMOUNT_CAP : (uint32_t)v;
}

/* Adds the DAC codes of v (and their categories) to *s. */
static int s_sectors_dac(minga_match_sectors_t *s, const minga_strv_t *v)
{
    for (size_t i = 0; i < v->n; i++) {
        char cat[4];
        int di = s_index(MINGA_CL_DAC, v->v[i]);
        snprintf(cat, sizeof cat, "%.3s", v->v[i]);
        int ci = s_index(MINGA_CL_DAC_CATEGORY, cat);
        if (di < 0 || di >= 32 * MINGA_MATCH_DAC_WORDS || ci < 0 || ci >= 32)
            return MINGA_EINVAL;
        s_set(s->dac, di);
        s->cat |= 1u << ci;
    }
    return 0;
}

static int s_competency(const char *c)
{
    return c && c[0] >= 'a' && c[0] <= 'n' && !c[1] ? c[0] - 'a' : -1;
}

/* ---- modalities ---- */

/* Which offer modalities each demand modality accepts, by code. */
static const struct {
    const char *demand;
    const char *accepts[5];
} s_compat[] = {
    {"subvencion", {"subvencion"}},
    {"asistencia_tecnica", {"asistencia_tecnica", "capacitacion", "voluntariado"}},
    {"capacitacion", {"capacitacion", "asistencia_tecnica", "becas", "pasantias"}},
    {"voluntariado", {"voluntariado", "asistencia_tecnica"}},
    {"becas", {"becas", "capacitacion"}},
    {"pasantias", {"pasantias", "capacitacion"}},
};

/* The masks by modality index, and the index of subvención, computed once. */
static uint32_t s_accepts[32];
static uint8_t s_financial;
static pthread_once_t s_modality_once = PTHREAD_ONCE_INIT;

static uint32_t s_accepts_slow(uint8_t m);

static void s_modality_init(void)
{
    for (uint8_t m = 0; m < 32; m++)
        s_accepts[m] = s_accepts_slow(m);
    s_financial = (uint8_t)s_index(MINGA_CL_MODALITY, "subvencion");
}

uint32_t minga_match_modality_accepts(uint8_t m)
{
    pthread_once(&s_modality_once, s_modality_init);
    return m < 32 ? s_accepts[m] : 0;
}

static uint32_t s_accepts_slow(uint8_t m)
{
    size_t n;
    const minga_code_t *all = minga_codes(MINGA_CL_MODALITY, &n);
    if (m >= n)
        return 0;
    for (size_t i = 0; i < sizeof s_compat / sizeof s_compat[0]; i++) {
        if (strcmp(s_compat[i].demand, all[m].code) != 0)
            continue;
        uint32_t mask = 0;
        for (size_t j = 0; j < 5 && s_compat[i].accepts[j]; j++) {
            int k = s_index(MINGA_CL_MODALITY, s_compat[i].accepts[j]);
            if (k >= 0)
                mask |= 1u << k;
        }
        return mask;
    }
    return 1u << m;
}

uint8_t minga_match_modality_financial(void)
{
    pthread_once(&s_modality_once, s_modality_init);
    return s_financial;
}

/* ---- preparing records ---- */

/* The offer's territory as bit sets: regions (by minga_region_t - 1), provinces (by
 * index), cantons (by index). Returns 0 or MINGA_EINVAL for an unknown code. */
static int s_territory_sets(const minga_offer_t *rec, uint32_t *regions, uint32_t *provinces,
                            uint32_t cantons[MINGA_MATCH_CANTON_WORDS])
{
    for (size_t i = 0; i < rec->regions.n; i++) {
        int r = s_index(MINGA_CL_REGION, rec->regions.v[i]);
        if (r < 0)
            return MINGA_EINVAL;
        *regions |= 1u << r;
    }
    for (size_t i = 0; i < rec->provinces.n; i++) {
        int p = s_index(MINGA_CL_PROVINCE, rec->provinces.v[i]);
        if (p < 0 || p >= 32)
            return MINGA_EINVAL;
        *provinces |= 1u << p;
    }
    for (size_t i = 0; i < rec->cantons.n; i++) {
        int c = s_canton_index(rec->cantons.v[i]);
        if (c < 0 || c >= MINGA_MATCH_NCANTONS)
            return MINGA_EINVAL;
        s_set(cantons, c);
    }
    return 0;
}

/* Is canton c (index ci, province index pi) inside the offer's territory (scope only)? */
static bool s_territory(minga_match_scope_t scope, const minga_canton_t *c, int ci, int pi,
                        uint32_t regions, uint32_t provinces, const uint32_t *cantons)
{
    switch (scope) {
    case MINGA_MATCH_SCOPE_NACIONAL:
        return true;
    case MINGA_MATCH_SCOPE_REGIONES:
        return (regions >> (c->region - 1)) & 1u;
    case MINGA_MATCH_SCOPE_PROVINCIAS:
        return pi >= 0 && ((provinces >> pi) & 1u);
    case MINGA_MATCH_SCOPE_CANTONES:
        return s_has(cantons, ci);
    }
    return false;
}

int minga_match_offer_prepare(const minga_offer_t *rec, const minga_event_t *ev, uint32_t coop,
                              bool attends, const uint32_t *gad_population,
                              minga_match_offer_t *out)
{
    memset(out, 0, sizeof *out);
    int mod = s_index(MINGA_CL_MODALITY, rec->modality);
    int scope = s_index(MINGA_CL_SCOPE, rec->scope);
    if (mod < 0 || scope < 0 || s_sectors_dac(&out->sec, &rec->dac) != 0)
        return MINGA_EINVAL;
    for (size_t i = 0; i < rec->competencies.n; i++) {
        int c = s_competency(rec->competencies.v[i]);
        if (c < 0)
            return MINGA_EINVAL;
        out->sec.comp |= 1u << c;
    }
    out->modality = (uint8_t)mod;
    out->scope = (uint8_t)scope;
    out->financial = mod == minga_match_modality_financial();
    out->amount_min = s_sat(rec->amount_min);
    out->amount_max = s_sat(rec->amount_max);
    out->cofinancing_required = rec->cofinancing_required;
    out->coop = coop;
    out->attends = attends;
    out->valid = rec->valid_from && rec->valid_to && ev && ev->date_start && ev->date_end &&
                 strcmp(rec->valid_from, ev->date_start) <= 0 &&
                 strcmp(rec->valid_to, ev->date_end) >= 0;
    uint32_t regions = 0, provinces = 0, listed[MINGA_MATCH_CANTON_WORDS] = {0};
    if (s_territory_sets(rec, &regions, &provinces, listed) != 0)
        return MINGA_EINVAL;
    size_t n;
    const minga_canton_t *cantons = minga_cantons(&n);
    for (size_t i = 0; i < n && i < MINGA_MATCH_NCANTONS; i++) {
        uint32_t pop = gad_population ? gad_population[i] : cantons[i].population;
        int pi = (cantons[i].province[0] - '0') * 10 + (cantons[i].province[1] - '0') - 1;
        if (s_territory((minga_match_scope_t)scope, &cantons[i], (int)i, pi, regions, provinces,
                        listed) &&
            (rec->population_max == 0 || pop <= rec->population_max))
            s_set(out->cantons, (int)i);
    }
    return 0;
}

int minga_match_demand_prepare(const minga_demand_t *rec, minga_match_demand_t *out)
{
    memset(out, 0, sizeof *out);
    int canton = s_canton_index(rec->gad);
    int mod = s_index(MINGA_CL_MODALITY, rec->modality);
    int comp = s_competency(rec->competency);
    if (canton < 0 || mod < 0 || comp < 0 || rec->priority < 1 || rec->priority > 5 ||
        s_sectors_dac(&out->sec, &rec->dac) != 0)
        return MINGA_EINVAL;
    out->sec.comp = 1u << comp;
    out->canton = (uint16_t)canton;
    out->modality = (uint8_t)mod;
    out->priority = (uint8_t)rec->priority;
    out->amount = s_sat(rec->amount);
    out->cofinancing = s_sat(rec->cofinancing);
    return 0;
}

/* ---- the context ---- */

static int s_pref_cmp(const void *a, const void *b)
{
    const minga_match_pref_t *x = a, *y = b;
    if (x->canton != y->canton)
        return x->canton < y->canton ? -1 : 1;
    if (x->coop != y->coop)
        return x->coop < y->coop ? -1 : 1;
    return 0;
}

/* "no" wins over obligatoria, which wins over deseada. */
static uint8_t s_pref_merge(uint8_t a, uint8_t b)
{
    if (a == MINGA_MATCH_PREF_NO || b == MINGA_MATCH_PREF_NO)
        return MINGA_MATCH_PREF_NO;
    return a > b ? a : b;
}

static int s_ctx_prefs(minga_match_ctx_t *ctx, const minga_match_pref_t *prefs, size_t n)
{
    ctx->pref_first = calloc(MINGA_MATCH_NCANTONS + 1, sizeof *ctx->pref_first);
    ctx->prefs = n ? malloc(n * sizeof *ctx->prefs) : NULL;
    if (!ctx->pref_first || (n && !ctx->prefs))
        return MINGA_ENOMEM;
    size_t m = 0;
    for (size_t i = 0; i < n; i++)
        if (prefs[i].canton < MINGA_MATCH_NCANTONS)
            ctx->prefs[m++] = prefs[i];
    if (m)
        qsort(ctx->prefs, m, sizeof *ctx->prefs, s_pref_cmp);
    size_t w = 0;
    for (size_t i = 0; i < m; i++) {
        if (w && s_pref_cmp(&ctx->prefs[w - 1], &ctx->prefs[i]) == 0)
            ctx->prefs[w - 1].kind = s_pref_merge(ctx->prefs[w - 1].kind, ctx->prefs[i].kind);
        else
            ctx->prefs[w++] = ctx->prefs[i];
    }
    ctx->nprefs = w;
    for (size_t i = 0, c = 0; c <= MINGA_MATCH_NCANTONS; c++) {
        while (i < w && ctx->prefs[i].canton < c)
            i++;
        ctx->pref_first[c] = (uint32_t)i;
    }
    return 0;
}

static void s_ctx_equity(minga_match_ctx_t *ctx, const minga_match_config_t *cfg,
                         const uint32_t *gad_population, const minga_match_offer_t *offers,
                         size_t noffers)
{
    size_t n;
    const minga_canton_t *cantons = minga_cantons(&n);
    uint32_t best = 0;
    for (size_t c = 0; c < MINGA_MATCH_NCANTONS; c++) {
        ctx->population[c] = gad_population ? gad_population[c] : c < n ? cantons[c].population : 0;
        ctx->coverage[c] = 0;
    }
    for (size_t o = 0; o < noffers; o++) {
        if (!offers[o].valid || !offers[o].attends)
            continue;
        for (int w = 0; w < MINGA_MATCH_CANTON_WORDS; w++)
            for (uint32_t x = offers[o].cantons[w]; x; x &= x - 1) {
                int c = w * 32 + __builtin_ctz(x);
                if (c < MINGA_MATCH_NCANTONS)
                    ctx->coverage[c]++;
            }
    }
    for (size_t c = 0; c < MINGA_MATCH_NCANTONS; c++)
        best = ctx->coverage[c] > best ? ctx->coverage[c] : best;
    for (size_t c = 0; c < MINGA_MATCH_NCANTONS; c++) {
        ctx->small[c] = ctx->population[c] <= cfg->equity_population;
        ctx->underserved[c] =
            (uint64_t)ctx->coverage[c] * 100 <= (uint64_t)best * cfg->equity_coverage_pct;
    }
}

int minga_match_ctx_init(minga_match_ctx_t *ctx, const minga_match_config_t *cfg,
                         const uint32_t *gad_population, const minga_match_offer_t *offers,
                         size_t noffers, const minga_match_pref_t *prefs, size_t nprefs)
{
    memset(ctx, 0, sizeof *ctx);
    if (cfg->k_demand < 1 || cfg->k_demand > MINGA_MATCH_K_MAX || cfg->k_offer < 1 ||
        cfg->k_offer > MINGA_MATCH_K_MAX)
        return MINGA_EINVAL;
    const uint64_t *w = &cfg->sector_dac;
    for (size_t i = 0; i < offsetof(minga_match_config_t, k_demand) / sizeof *w; i++)
        if (w[i] > 100000000)
            return MINGA_EINVAL;
    ctx->w_dac = (int32_t)cfg->sector_dac;
    ctx->w_cat = (int32_t)cfg->sector_category;
    ctx->w_comp = (int32_t)cfg->sector_competency;
    ctx->w_mod_exact = (int32_t)cfg->modality_exact;
    ctx->w_mod_related = (int32_t)cfg->modality_related;
    ctx->w_amt_high = (int32_t)cfg->amount_high;
    ctx->w_amt_mid = (int32_t)cfg->amount_mid;
    ctx->w_amt_low = (int32_t)cfg->amount_low;
    ctx->w_amt_na = (int32_t)cfg->amount_nonfinancial;
    ctx->w_cof = (int32_t)cfg->cofinancing;
    ctx->w_cof_partial = (int32_t)cfg->cofinancing_partial;
    ctx->w_priority = (int32_t)cfg->priority;
    ctx->w_eq_small = (int32_t)cfg->equity_small;
    ctx->w_eq_under = (int32_t)cfg->equity_underserved;
    ctx->w_pref_must = (int32_t)cfg->preference_must;
    ctx->w_pref_want = (int32_t)cfg->preference_want;
    ctx->sector_gate = cfg->sector_gate != 0;
    ctx->k_demand = (uint32_t)cfg->k_demand;
    ctx->k_offer = (uint32_t)cfg->k_offer;
    s_ctx_equity(ctx, cfg, gad_population, offers, noffers);
    int rc = s_ctx_prefs(ctx, prefs, nprefs);
    if (rc)
        minga_match_ctx_clear(ctx);
    return rc;
}

void minga_match_ctx_clear(minga_match_ctx_t *ctx)
{
    free(ctx->prefs);
    free(ctx->pref_first);
    ctx->prefs = NULL;
    ctx->pref_first = NULL;
    ctx->nprefs = 0;
}

int minga_match_ctx_pref(const minga_match_ctx_t *ctx, uint16_t canton, uint32_t coop)
{
    if (canton >= MINGA_MATCH_NCANTONS || !ctx->pref_first)
        return 0;
    for (uint32_t i = ctx->pref_first[canton]; i < ctx->pref_first[canton + 1]; i++)
        if (ctx->prefs[i].coop == coop)
            return ctx->prefs[i].kind;
    return 0;
}

int32_t minga_match_demand_const(const minga_match_ctx_t *ctx, const minga_match_demand_t *d)
{
    int32_t v = ctx->w_priority * (6 - d->priority) / 5;
    if (d->canton < MINGA_MATCH_NCANTONS) {
        v += ctx->small[d->canton] ? ctx->w_eq_small : 0;
        v += ctx->underserved[d->canton] ? ctx->w_eq_under : 0;
    }
    return v;
}

/* ---- the pair ---- */

static int s_lowest_common(const uint32_t *a, const uint32_t *b, int nwords)
{
    for (int w = 0; w < nwords; w++) {
        uint32_t x = a[w] & b[w];
        if (x)
            return w * 32 + __builtin_ctz(x);
    }
    return -1;
}

static void s_why_add(minga_match_why_t *why, uint32_t code, uint32_t arg)
{
    if (why && why->n < MINGA_MATCH_REASONS_MAX)
        why->r[why->n++] = MINGA_MATCH_REASON(code, arg);
}

static minga_match_gate_t s_gates(const minga_match_ctx_t *ctx, const minga_match_demand_t *d,
                                  const minga_match_offer_t *o, int pref)
{
    if (!o->valid)
        return MINGA_MATCH_GATE_VALIDITY;
    if (!o->attends)
        return MINGA_MATCH_GATE_ATTENDANCE;
    if (d->canton >= MINGA_MATCH_NCANTONS || !s_has(o->cantons, d->canton))
        return MINGA_MATCH_GATE_TERRITORY;
    if (!((minga_match_modality_accepts(d->modality) >> o->modality) & 1u))
        return MINGA_MATCH_GATE_MODALITY;
    if (o->financial && (d->amount < o->amount_min || d->amount > o->amount_max))
        return MINGA_MATCH_GATE_AMOUNT;
    if (pref == MINGA_MATCH_PREF_NO)
        return MINGA_MATCH_GATE_PREFERENCE;
    if (ctx->sector_gate && s_lowest_common(d->sec.dac, o->sec.dac, MINGA_MATCH_DAC_WORDS) < 0 &&
        !(d->sec.cat & o->sec.cat) && !(d->sec.comp & o->sec.comp))
        return MINGA_MATCH_GATE_SECTOR;
    return MINGA_MATCH_PASS;
}

static int32_t s_sector(const minga_match_ctx_t *ctx, const minga_match_demand_t *d,
                        const minga_match_offer_t *o, minga_match_why_t *why)
{
    int dac = s_lowest_common(d->sec.dac, o->sec.dac, MINGA_MATCH_DAC_WORDS);
    if (dac >= 0) {
        s_why_add(why, MINGA_MATCH_R_SECTOR_DAC, (uint32_t)dac);
        return ctx->w_dac;
    }
    if (d->sec.cat & o->sec.cat) {
        s_why_add(why, MINGA_MATCH_R_SECTOR_CAT, (uint32_t)__builtin_ctz(d->sec.cat & o->sec.cat));
        return ctx->w_cat;
    }
    if (d->sec.comp & o->sec.comp) {
        s_why_add(why, MINGA_MATCH_R_SECTOR_COMP,
                  (uint32_t)__builtin_ctz(d->sec.comp & o->sec.comp));
        return ctx->w_comp;
    }
    return 0;
}

static int32_t s_amount(const minga_match_ctx_t *ctx, const minga_match_demand_t *d,
                        const minga_match_offer_t *o, minga_match_why_t *why)
{
    if (!o->financial) {
        s_why_add(why, MINGA_MATCH_R_AMOUNT_NA, 0);
        return ctx->w_amt_na;
    }
    uint64_t a = d->amount, max = o->amount_max;
    unsigned level = a * 2 >= max ? 2 : a * 5 >= max ? 1 : 0;
    s_why_add(why, MINGA_MATCH_R_AMOUNT_RANGE, level);
    return level == 2 ? ctx->w_amt_high : level == 1 ? ctx->w_amt_mid : ctx->w_amt_low;
}

static int32_t s_cofinancing(const minga_match_ctx_t *ctx, const minga_match_demand_t *d,
                             const minga_match_offer_t *o, minga_match_why_t *why)
{
    if (!o->cofinancing_required) {
        if (d->cofinancing > 0)
            s_why_add(why, MINGA_MATCH_R_COFIN_OK, 0);
        return ctx->w_cof;
    }
    if (d->cofinancing > 0 && (uint64_t)d->cofinancing * 5 >= d->amount) {
        s_why_add(why, MINGA_MATCH_R_COFIN_OK, 1);
        return ctx->w_cof;
    }
    if (d->cofinancing > 0) {
        s_why_add(why, MINGA_MATCH_R_COFIN_PARTIAL, 0);
        return ctx->w_cof_partial;
    }
    s_why_add(why, MINGA_MATCH_R_COFIN_NONE, 0);
    return 0;
}

int32_t minga_match_pair(const minga_match_ctx_t *ctx, const minga_match_demand_t *d,
                         const minga_match_offer_t *o, minga_match_why_t *why)
{
    if (why)
        memset(why, 0, sizeof *why);
    int pref = minga_match_ctx_pref(ctx, d->canton, o->coop);
    minga_match_gate_t gate = s_gates(ctx, d, o, pref);
    if (why)
        why->gate = gate;
    if (gate != MINGA_MATCH_PASS)
        return -1;
    int32_t p[7] = {0};
    p[0] = s_sector(ctx, d, o, why);
    s_why_add(why, MINGA_MATCH_R_TERRITORY, o->scope);
    if (d->modality == o->modality) {
        s_why_add(why, MINGA_MATCH_R_MOD_EXACT, o->modality);
        p[1] = ctx->w_mod_exact;
    } else {
        s_why_add(why, MINGA_MATCH_R_MOD_RELATED,
                  (uint32_t)o->modality | (uint32_t)d->modality << 8);
        p[1] = ctx->w_mod_related;
    }
    p[2] = s_amount(ctx, d, o, why);
    p[3] = s_cofinancing(ctx, d, o, why);
    p[4] = ctx->w_priority * (6 - d->priority) / 5;
    s_why_add(why, MINGA_MATCH_R_PRIORITY, d->priority);
    if (ctx->small[d->canton]) {
        p[5] += ctx->w_eq_small;
        s_why_add(why, MINGA_MATCH_R_EQUITY_SMALL, d->canton);
    }
    if (ctx->underserved[d->canton]) {
        p[5] += ctx->w_eq_under;
        s_why_add(why, MINGA_MATCH_R_EQUITY_UNDER, d->canton);
    }
    if (pref == MINGA_MATCH_PREF_MUST) {
        p[6] = ctx->w_pref_must;
        s_why_add(why, MINGA_MATCH_R_PREF_MUST, 0);
    } else if (pref == MINGA_MATCH_PREF_WANT) {
        p[6] = ctx->w_pref_want;
        s_why_add(why, MINGA_MATCH_R_PREF_WANT, 0);
    }
    int64_t sum = 0;
    for (int i = 0; i < 7; i++)
        sum += p[i];
    if (why)
        memcpy(why->parts, p, sizeof p);
    return sum > MINGA_MATCH_SCORE_MAX ? MINGA_MATCH_SCORE_MAX : (int32_t)sum;
}

/* ---- reasons as text ---- */

static const minga_code_t *s_code_at(minga_codelist_t list, uint32_t i)
{
    size_t n;
    const minga_code_t *all = minga_codes(list, &n);
    return i < n ? &all[i] : NULL;
}

static const char *s_label(minga_codelist_t list, uint32_t i)
{
    const minga_code_t *c = s_code_at(list, i);
    return c ? c->label : "?";
}

char *minga_match_reason_text(uint32_t r, char *buf, size_t cap)
{
    static const char *const scopes[] = {"oferta nacional", "oferta para su región",
                                         "oferta para su provincia", "oferta para su cantón"};
    static const char *const levels[] = {"por una parte pequeña de su máximo",
                                         "por una parte media de su máximo", "cerca de su máximo"};
    uint32_t code = r >> 16, arg = r & 0xffff;
    const minga_code_t *c;
    size_t n;
    const minga_canton_t *cantons = minga_cantons(&n);
    switch (code) {
    case MINGA_MATCH_R_SECTOR_DAC:
        c = s_code_at(MINGA_CL_DAC, arg);
        snprintf(buf, cap, "Sector CAD %s %s coincide", c ? c->code : "?", c ? c->label : "?");
        break;
    case MINGA_MATCH_R_SECTOR_CAT:
        c = s_code_at(MINGA_CL_DAC_CATEGORY, arg);
        snprintf(buf, cap, "Categoría CAD %s %s coincide", c ? c->code : "?", c ? c->label : "?");
        break;
    case MINGA_MATCH_R_SECTOR_COMP:
        snprintf(buf, cap, "Competencia COOTAD art. 55 %c coincide", (char)('a' + (arg % 14)));
        break;
    case MINGA_MATCH_R_TERRITORY:
        snprintf(buf, cap, "Territorio: %s", scopes[arg < 4 ? arg : 0]);
        break;
    case MINGA_MATCH_R_MOD_EXACT:
        snprintf(buf, cap, "Modalidad: %s", s_label(MINGA_CL_MODALITY, arg));
        break;
    case MINGA_MATCH_R_MOD_RELATED:
        snprintf(buf, cap, "Modalidad afín: %s (pedida: %s)",
                 s_label(MINGA_CL_MODALITY, arg & 0xff), s_label(MINGA_CL_MODALITY, arg >> 8));
        break;
    case MINGA_MATCH_R_AMOUNT_RANGE:
        snprintf(buf, cap, "Monto dentro del rango de la oferta, %s", levels[arg < 3 ? arg : 0]);
        break;
    case MINGA_MATCH_R_AMOUNT_NA:
        snprintf(buf, cap, "Oferta no financiera: sin requisito de monto");
        break;
    case MINGA_MATCH_R_COFIN_OK:
        snprintf(buf, cap,
                 arg ? "Cofinanciamiento del GAD cubre lo requerido"
                     : "El GAD aporta cofinanciamiento");
        break;
    case MINGA_MATCH_R_COFIN_PARTIAL:
        snprintf(buf, cap, "Cofinanciamiento del GAD parcial (menos del 20 %%)");
        break;
    case MINGA_MATCH_R_COFIN_NONE:
        snprintf(buf, cap, "La oferta requiere cofinanciamiento y el GAD no lo ofrece");
        break;
    case MINGA_MATCH_R_PRIORITY:
        snprintf(buf, cap, "Prioridad %u en el PDOT del GAD", arg);
        break;
    case MINGA_MATCH_R_EQUITY_SMALL:
        snprintf(buf, cap, "Equidad: cantón pequeño (%u habitantes)",
                 arg < n ? cantons[arg].population : 0);
        break;
    case MINGA_MATCH_R_EQUITY_UNDER:
        snprintf(buf, cap, "Equidad: cantón con poca oferta de cooperación");
        break;
    case MINGA_MATCH_R_PREF_MUST:
        snprintf(buf, cap, "Preferencia: reunión obligatoria");
        break;
    case MINGA_MATCH_R_PREF_WANT:
        snprintf(buf, cap, "Preferencia: reunión deseada");
        break;
    default:
        snprintf(buf, cap, "motivo %u", r);
    }
    return buf;
}

const char *minga_match_gate_name(minga_match_gate_t gate)
{
    static const char *const names[] = {"pass",     "validity", "attendance", "territory",
                                        "modality", "amount",   "preference", "sector"};
    return (unsigned)gate < sizeof names / sizeof names[0] ? names[gate] : "?";
}
