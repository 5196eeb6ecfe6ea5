/*
 * report_stats.c: the pure pieces of the reports (report.h): the formats word list, the Gini
 * coefficient and the median of a distribution, and the coverage gap — the demands no offer
 * passed the gates for, counted by COOTAD competency and by province.
 */
#include "minga/report.h"

#include "minga/error.h"

#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static const struct {
    const char *name;
    unsigned bit;
} s_formats[] = {
    {"csv", MINGA_REPORT_CSV},
    {"html", MINGA_REPORT_HTML},
    {"pdf", MINGA_REPORT_PDF},
    {"all", MINGA_REPORT_ALL},
};

int minga_report_formats_parse(const char *text, unsigned *formats, char *err, size_t errcap)
{
    unsigned f = 0;
    const char *p = text ? text : "";
    while (*p) {
        size_t n = strcspn(p, ",");
        size_t i = 0;
        while (i < sizeof s_formats / sizeof s_formats[0] &&
               (strlen(s_formats[i].name) != n || strncmp(p, s_formats[i].name, n) != 0))
            i++;
        if (i == sizeof s_formats / sizeof s_formats[0]) {
            snprintf(err, errcap, "unknown format '%.*s' (formats: csv, html, pdf)", (int)n, p);
            return MINGA_EINVAL;
        }
        f |= s_formats[i].bit;
        p += n + (p[n] == ',');
    }
    if (!f) {
        snprintf(err, errcap, "no format given (formats: csv, html, pdf)");
        return MINGA_EINVAL;
    }
    *formats = f;
    return 0;
}

char *minga_report_formats_text(unsigned formats, char *buf, size_t cap)
{
    snprintf(buf, cap, "%s%s%s%s%s", formats & MINGA_REPORT_CSV ? "csv" : "",
             (formats & MINGA_REPORT_CSV) && (formats & 6) ? "," : "",
             formats & MINGA_REPORT_HTML ? "html" : "",
             (formats & MINGA_REPORT_HTML) && (formats & MINGA_REPORT_PDF) ? "," : "",
             formats & MINGA_REPORT_PDF ? "pdf" : "");
    return buf;
}

static int s_cmp_double(const void *a, const void *b)
{
    double x = *(const double *)a, y = *(const double *)b;
    return (x > y) - (x < y);
}

static double *s_sorted(const double *values, size_t n)
{
    double *v = malloc((n ? n : 1) * sizeof *v);
    if (v) {
        memcpy(v, values, n * sizeof *v);
        qsort(v, n, sizeof *v, s_cmp_double);
    }
    return v;
}

double minga_report_gini(const double *values, size_t n)
{
    if (n < 2)
        return 0;
    double *v = s_sorted(values, n);
    if (!v)
        return 0;
    double sum = 0, weighted = 0;
    for (size_t i = 0; i < n; i++) {
        sum += v[i];
        weighted += (2.0 * (double)(i + 1) - (double)n - 1.0) * v[i];
    }
    free(v);
    return sum > 0 ? weighted / ((double)n * sum) : 0;
}

double minga_report_median(const double *values, size_t n)
{
    if (n == 0)
        return 0;
    double *v = s_sorted(values, n);
    if (!v)
        return 0;
    double m = n % 2 ? v[n / 2] : (v[n / 2 - 1] + v[n / 2]) / 2;
    free(v);
    return m;
}

int minga_report_comp_index(const char *code)
{
    if (!code || code[0] < 'a' || code[0] >= 'a' + MINGA_REPORT_NCOMP || code[1])
        return -1;
    return code[0] - 'a';
}

int minga_report_prov_index(const char *code)
{
    if (!code || code[0] < '0' || code[0] > '9' || code[1] < '0' || code[1] > '9')
        return -1;
    int p = (code[0] - '0') * 10 + (code[1] - '0');
    return p >= 1 && p <= MINGA_REPORT_NPROV ? p - 1 : -1;
}

/* Sort context of the uncovered list. */
static const minga_demand_t *const *s_gap_demands;

static void s_gap_key(const minga_demand_t *d, int *comp, int *prov)
{
    *comp = minga_report_comp_index(d->competency);
    *prov = minga_report_prov_index(d->gad);
}

static int s_gap_cmp(const void *a, const void *b)
{
    const minga_demand_t *x = s_gap_demands[*(const size_t *)a];
    const minga_demand_t *y = s_gap_demands[*(const size_t *)b];
    int cx, px, cy, py;
    s_gap_key(x, &cx, &px);
    s_gap_key(y, &cy, &py);
    /* unknown codes (-1) go last */
    unsigned ux = (unsigned)cx, uy = (unsigned)cy;
    if (ux != uy)
        return ux < uy ? -1 : 1;
    ux = (unsigned)px;
    uy = (unsigned)py;
    if (ux != uy)
        return ux < uy ? -1 : 1;
    return strcmp(x->id ? x->id : "", y->id ? y->id : "");
}

int minga_report_gap(const minga_demand_t *const *demands, size_t n, const bool *covered,
                     minga_report_gap_t *gap)
{
    memset(gap, 0, sizeof *gap);
    gap->demands = n;
    gap->list = malloc((n ? n : 1) * sizeof *gap->list);
    if (!gap->list)
        return MINGA_ENOMEM;
    for (size_t i = 0; i < n; i++) {
        if (covered[i])
            continue;
        const minga_demand_t *d = demands[i];
        int c, p;
        s_gap_key(d, &c, &p);
        gap->list[gap->uncovered++] = i;
        gap->amount += d->amount;
        if (c < 0 || p < 0) {
            gap->other++;
            continue;
        }
        gap->by_comp[c]++;
        gap->by_prov[p]++;
        gap->cell[c][p]++;
    }
    /* qsort has no context argument in C11: a lock guards the one static pointer it reads. */
    static pthread_mutex_t lock = PTHREAD_MUTEX_INITIALIZER;
    pthread_mutex_lock(&lock);
    s_gap_demands = demands;
    qsort(gap->list, gap->uncovered, sizeof *gap->list, s_gap_cmp);
    s_gap_demands = NULL;
    pthread_mutex_unlock(&lock);
    return 0;
}

void minga_report_gap_clear(minga_report_gap_t *gap)
{
    free(gap->list);
    memset(gap, 0, sizeof *gap);
}
