/*
 * report_figures.c: the figures of an event's report (report_data.h), computed from the data
 * set alone — meetings by province (of the GAD), by COOTAD competency and by DAC sector (of
 * the demand, its first DAC code), by modality (of the offer), meetings per GAD (min, median,
 * max, mean, Gini and the histogram), meetings per slot, cooperantes by demands covered, and
 * the coverage gap.
 */
#include "minga/report_data.h"

#include "minga/codes.h"
#include "minga/error.h"

#include <stdlib.h>
#include <string.h>

#define S_TOP 15

static minga_report_count_t *s_counts(minga_codelist_t list, size_t *n)
{
    const minga_code_t *codes = minga_codes(list, n);
    minga_report_count_t *c = calloc(*n ? *n : 1, sizeof *c);
    for (size_t i = 0; c && i < *n; i++) {
        c[i].code = codes[i].code;
        c[i].label = codes[i].label;
    }
    return c;
}

static void s_count(minga_report_count_t *c, size_t n, const char *code)
{
    size_t lo = 0, hi = n;
    while (code && lo < hi) {
        size_t mid = (lo + hi) / 2;
        int r = strcmp(c[mid].code, code);
        if (r == 0) {
            c[mid].count++;
            return;
        }
        if (r < 0)
            lo = mid + 1;
        else
            hi = mid;
    }
}

/* The DPA code as a number 0..9999, or -1. */
static int s_dpa(const char *code)
{
    int v = 0;
    for (int i = 0; i < 4; i++) {
        if (!code || code[i] < '0' || code[i] > '9')
            return -1;
        v = v * 10 + (code[i] - '0');
    }
    return code[4] ? -1 : v;
}

/* Meetings per GAD: over the GAD participants, or the GADs with demands when there is none. */
static int s_per_gad(const minga_report_data_t *d, minga_report_figures_t *f)
{
    size_t cap = d->nparts + d->ndemands + 1;
    f->gad_codes = calloc(cap, sizeof *f->gad_codes);
    f->per_gad = calloc(cap, sizeof *f->per_gad);
    if (!f->gad_codes || !f->per_gad)
        return MINGA_ENOMEM;
    for (size_t i = 0; i < d->nparts; i++)
        if (d->parts[i]->kind && strcmp(d->parts[i]->kind, "gad") == 0)
            f->gad_codes[f->ngads++] = d->parts[i]->party;
    if (f->ngads == 0)
        for (size_t i = 0; i < d->ndemands; i++) {
            const char *g = d->demands[i]->gad;
            bool seen = false;
            for (size_t j = f->ngads; j-- > 0 && !seen;)
                seen = strcmp(f->gad_codes[j], g) == 0;
            if (!seen && g)
                f->gad_codes[f->ngads++] = g;
        }
    /* DPA codes are 4 digits: a table from code to position */
    int *at = malloc(10000 * sizeof *at);
    if (!at)
        return MINGA_ENOMEM;
    for (size_t c = 0; c < 10000; c++)
        at[c] = -1;
    for (size_t j = 0; j < f->ngads; j++)
        if (s_dpa(f->gad_codes[j]) >= 0)
            at[s_dpa(f->gad_codes[j])] = (int)j;
    for (size_t m = 0; m < d->nmeetings; m++) {
        int c = s_dpa(d->meetings[m].gad);
        if (c >= 0 && at[c] >= 0)
            f->per_gad[at[c]]++;
    }
    free(at);
    if (f->ngads == 0)
        return 0;
    f->min = f->max = f->per_gad[0];
    double sum = 0;
    for (size_t j = 0; j < f->ngads; j++) {
        double v = f->per_gad[j];
        f->min = v < f->min ? v : f->min;
        f->max = v > f->max ? v : f->max;
        f->gads_without += v == 0;
        sum += v;
    }
    f->mean = sum / f->ngads;
    f->median = minga_report_median(f->per_gad, f->ngads);
    f->gini = minga_report_gini(f->per_gad, f->ngads);
    f->hist_max = (size_t)f->max;
    f->hist = calloc(f->hist_max + 1, sizeof *f->hist);
    if (!f->hist)
        return MINGA_ENOMEM;
    for (size_t j = 0; j < f->ngads; j++)
        f->hist[(size_t)f->per_gad[j]]++;
    return 0;
}

typedef struct {
    const char *coop, *demand;
} s_pair_t;

static int s_pair_cmp(const void *a, const void *b)
{
    const s_pair_t *x = a, *y = b;
    int c = strcmp(x->coop, y->coop);
    return c ? c : strcmp(x->demand, y->demand);
}

static int s_top_cmp(const void *a, const void *b)
{
    const minga_report_count_t *x = a, *y = b;
    if (x->count != y->count)
        return x->count > y->count ? -1 : 1;
    if (x->extra != y->extra)
        return x->extra > y->extra ? -1 : 1;
    return strcmp(x->code, y->code);
}

/* Cooperantes by distinct demands in their meetings (extra: their meetings). */
static int s_top(const minga_report_data_t *d, minga_report_figures_t *f)
{
    size_t n = d->nmeetings;
    s_pair_t *p = malloc((n ? n : 1) * sizeof *p);
    minga_report_count_t *all = calloc(n ? n : 1, sizeof *all);
    if (!p || !all) {
        free(p);
        free(all);
        return MINGA_ENOMEM;
    }
    for (size_t i = 0; i < n; i++)
        p[i] = (s_pair_t){d->meetings[i].cooperante, d->meetings[i].demand};
    qsort(p, n, sizeof *p, s_pair_cmp);
    size_t k = 0;
    for (size_t i = 0; i < n; i++) {
        bool new_coop = i == 0 || strcmp(p[i].coop, p[i - 1].coop) != 0;
        if (new_coop)
            all[k++] =
                (minga_report_count_t){p[i].coop, minga_report_party_name(d, p[i].coop), 0, 0};
        all[k - 1].extra++;
        if (new_coop || strcmp(p[i].demand, p[i - 1].demand) != 0)
            all[k - 1].count++;
    }
    qsort(all, k, sizeof *all, s_top_cmp);
    f->ntop = k < S_TOP ? k : S_TOP;
    f->top = all;
    free(p);
    return 0;
}

int minga_report_figures(const minga_report_data_t *d, minga_report_figures_t *f)
{
    memset(f, 0, sizeof *f);
    f->meetings = d->nmeetings;
    f->nslots = d->nslots;
    f->ntables = d->ntables;
    size_t np;
    const minga_province_t *prov = minga_provinces(&np);
    for (size_t i = 0; i < MINGA_REPORT_NPROV && i < np; i++) {
        f->province[i].code = prov[i].code;
        f->province[i].label = prov[i].name;
    }
    f->competency = s_counts(MINGA_CL_COMPETENCY, &f->ncompetency);
    f->dac = s_counts(MINGA_CL_DAC, &f->ndac);
    f->modality = s_counts(MINGA_CL_MODALITY, &f->nmodality);
    unsigned nslots = d->nslots;
    for (size_t m = 0; m < d->nmeetings; m++)
        nslots = d->meetings[m].slot > nslots ? d->meetings[m].slot : nslots;
    f->nslots = nslots;
    f->per_slot = calloc(nslots ? nslots : 1, sizeof *f->per_slot);
    if (!f->competency || !f->dac || !f->modality || !f->per_slot)
        goto oom;
    for (size_t m = 0; m < d->nmeetings; m++) {
        const minga_report_meeting_t *mt = &d->meetings[m];
        int p = minga_report_prov_index(mt->gad);
        if (p >= 0)
            f->province[p].count++;
        const minga_demand_t *dm = minga_report_demand(d, mt->demand);
        if (dm) {
            s_count(f->competency, f->ncompetency, dm->competency);
            if (dm->dac.n)
                s_count(f->dac, f->ndac, dm->dac.v[0]);
        }
        const minga_offer_t *of = minga_report_offer(d, mt->offer);
        if (of)
            s_count(f->modality, f->nmodality, of->modality);
        if (mt->slot >= 1)
            f->per_slot[mt->slot - 1]++;
        if (mt->table > f->ntables)
            f->ntables = mt->table;
    }
    if (s_per_gad(d, f) || s_top(d, f))
        goto oom;
    /* never scored: no demand is known to be covered, nor uncovered; the gap stays empty */
    if (d->scored && minga_report_gap((const minga_demand_t *const *)d->demands, d->ndemands,
                                      d->covered, &f->gap))
        goto oom;
    if (!d->scored)
        f->gap.demands = d->ndemands;
    return 0;
oom:
    minga_report_figures_clear(f);
    return MINGA_ENOMEM;
}

void minga_report_figures_clear(minga_report_figures_t *f)
{
    free(f->competency);
    free(f->dac);
    free(f->modality);
    free(f->per_gad);
    free(f->gad_codes);
    free(f->hist);
    free(f->per_slot);
    free(f->top);
    minga_report_gap_clear(&f->gap);
    memset(f, 0, sizeof *f);
}
