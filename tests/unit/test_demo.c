/*
 * test_demo.c: the embedded Jornada data set (demo.h). Same seed → byte-identical files,
 * another seed → other files; counts and shares in the expected ranges at scale 1 and 3;
 * every field of every row passes the import's parser and every record its cross-field check;
 * ids unique; every participant and preference names an existing (and attending) party;
 * tables within the event's; and the data leaves a coverage gap (demands no offer can serve).
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include "minga/codes.h"
#include "minga/demo.h"
#include "minga/error.h"
#include "minga/record.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#define NKINDS 7

/* Every record of one run, re-parsed from its CSV text into owned records. */
typedef struct {
    const minga_rtype_t *type[NKINDS];
    void **recs[NKINDS];
    size_t n[NKINDS], cap[NKINDS];
    size_t bad;
    char first_error[512];
} collect_t;

static size_t s_kind_index(const minga_rtype_t *t)
{
    size_t n;
    const minga_rtype_t *const *types = minga_rtypes(&n);
    for (size_t i = 0; i < n; i++)
        if (types[i] == t)
            return i;
    return NKINDS;
}

static void s_bad(collect_t *c, const minga_rtype_t *t, size_t row, const char *field,
                  const char *msg)
{
    if (c->bad++ == 0)
        snprintf(c->first_error, sizeof c->first_error, "%s row %zu field %s: %s", t->kind, row,
                 field, msg);
}

/* Formats each field as the CSV writer would, parses it back as the importer does, runs the
 * cross-field check, and keeps the parsed record. */
static int s_collect(const minga_rtype_t *t, const void *rec, void *arg)
{
    collect_t *c = arg;
    size_t k = s_kind_index(t);
    assert_true(k < NKINDS);
    void *copy = minga_record_new(t);
    assert_non_null(copy);
    size_t row = c->n[k] + 1;
    char err[256];
    for (size_t i = 0; i < t->nfields; i++) {
        const minga_field_t *f = &t->fields[i];
        char *text = minga_field_format(f, rec);
        assert_non_null(text);
        if (minga_field_parse(f, copy, text, err, sizeof err) != 0)
            s_bad(c, t, row, f->header, err);
        else if (f->type != MINGA_FT_BOOL && f->type != MINGA_FT_UINT) {
            char *again = minga_field_format(f, copy);
            if (strcmp(again, text) != 0)
                s_bad(c, t, row, f->header, "text changes on a round trip");
            free(again);
        }
        free(text);
    }
    if (t->per_event) /* the event is the first member, outside the field table */
        *(char **)copy = strdup(MINGA_DEMO_EVENT);
    const char *field = "?";
    if (c->bad == 0 && t->check && t->check(copy, &field, err, sizeof err) != 0)
        s_bad(c, t, row, field, err);
    if (c->n[k] == c->cap[k]) {
        c->cap[k] = c->cap[k] ? 2 * c->cap[k] : 256;
        c->recs[k] = realloc(c->recs[k], c->cap[k] * sizeof(void *));
        assert_non_null(c->recs[k]);
    }
    c->recs[k][c->n[k]++] = copy;
    c->type[k] = t;
    return 0;
}

static void s_collect_free(collect_t *c)
{
    for (size_t k = 0; k < NKINDS; k++) {
        for (size_t i = 0; i < c->n[k]; i++)
            minga_record_free(c->type[k], c->recs[k][i]);
        free(c->recs[k]);
    }
    free(c);
}

static collect_t *s_run(uint64_t seed, double scale, minga_demo_counts_t *counts)
{
    collect_t *c = calloc(1, sizeof *c);
    assert_non_null(c);
    assert_int_equal(minga_demo_generate(seed, scale, s_collect, c, counts), 0);
    if (c->bad)
        fail_msg("%zu invalid fields or records; first: %s", c->bad, c->first_error);
    return c;
}

#define GADS(c) ((minga_gad_t **)(c)->recs[0])
#define COOPS(c) ((minga_cooperante_t **)(c)->recs[1])
#define OFFERS(c) ((minga_offer_t **)(c)->recs[2])
#define DEMANDS(c) ((minga_demand_t **)(c)->recs[3])
#define EVENTS(c) ((minga_event_t **)(c)->recs[4])
#define PARTS(c) ((minga_participant_t **)(c)->recs[5])
#define PREFS(c) ((minga_preference_t **)(c)->recs[6])

/* ---- small helpers ---- */

static int s_cmp_str(const void *a, const void *b)
{
    return strcmp(*(const char *const *)a, *(const char *const *)b);
}

/* Sorted copy of the ids (field 0) of kind k; NULL-terminated array of borrowed strings. */
static const char **s_sorted_ids(collect_t *c, size_t k)
{
    const char **v = calloc(c->n[k] + 1, sizeof *v);
    assert_non_null(v);
    for (size_t i = 0; i < c->n[k]; i++)
        v[i] = *(char **)MINGA_FIELD_PTR(c->recs[k][i], &c->type[k]->fields[0]);
    qsort(v, c->n[k], sizeof *v, s_cmp_str);
    return v;
}

static bool s_has(const char **sorted, size_t n, const char *id)
{
    return bsearch(&id, sorted, n, sizeof *sorted, s_cmp_str) != NULL;
}

static void s_assert_unique(const char **sorted, size_t n, const char *kind)
{
    for (size_t i = 1; i < n; i++)
        if (strcmp(sorted[i - 1], sorted[i]) == 0)
            fail_msg("%s: id %s twice", kind, sorted[i]);
}

/* Slots in a ranges text "1-12,25-36" (empty = all 48). */
static unsigned s_slots(const char *ranges, uint64_t *mask)
{
    *mask = 0;
    if (!ranges || !*ranges) {
        *mask = (((uint64_t)1) << 48) - 1;
        return 48;
    }
    unsigned n = 0;
    for (const char *p = ranges; *p;) {
        char *end;
        unsigned long lo = strtoul(p, &end, 10), hi = lo;
        if (*end == '-')
            hi = strtoul(end + 1, &end, 10);
        for (unsigned long s = lo; s <= hi && s >= 1 && s <= 48; s++) {
            *mask |= (uint64_t)1 << (s - 1);
            n++;
        }
        p = *end == ',' ? end + 1 : end;
    }
    return n;
}

/* ---- tests ---- */

static char *s_tmpdir(void)
{
    char *d = strdup("/tmp/minga-demo-XXXXXX");
    assert_non_null(mkdtemp(d));
    return d;
}

static unsigned char *s_slurp(const char *path, size_t *len)
{
    FILE *f = fopen(path, "rb");
    if (!f)
        fail_msg("cannot open %s", path);
    fseek(f, 0, SEEK_END);
    long n = ftell(f);
    fseek(f, 0, SEEK_SET);
    unsigned char *buf = malloc((size_t)n + 1);
    assert_non_null(buf);
    assert_int_equal(fread(buf, 1, (size_t)n, f), (size_t)n);
    fclose(f);
    *len = (size_t)n;
    return buf;
}

static bool s_same_file(const char *a, const char *b)
{
    size_t la, lb;
    unsigned char *x = s_slurp(a, &la), *y = s_slurp(b, &lb);
    bool same = la == lb && memcmp(x, y, la) == 0;
    free(x);
    free(y);
    return same;
}

static void s_rm_dir(const char *dir)
{
    size_t n;
    const minga_rtype_t *const *types = minga_rtypes(&n);
    char path[512];
    for (size_t i = 0; i < n; i++) {
        snprintf(path, sizeof path, "%s/%s.csv", dir, types[i]->kind);
        unlink(path);
    }
    rmdir(dir);
}

static void test_same_seed_same_bytes(void **state)
{
    (void)state;
    char *root = s_tmpdir();
    char a[300], b[300], c[300], err[512];
    snprintf(a, sizeof a, "%s/a", root);
    snprintf(b, sizeof b, "%s/b/nested", root);
    snprintf(c, sizeof c, "%s/c", root);
    minga_demo_counts_t na, nb, nc;
    assert_int_equal(minga_demo_write(a, 2026, 1.0, &na, err, sizeof err), 0);
    assert_int_equal(minga_demo_write(b, 2026, 1.0, &nb, err, sizeof err), 0);
    assert_int_equal(minga_demo_write(c, 7, 1.0, &nc, err, sizeof err), 0);
    assert_memory_equal(&na, &nb, sizeof na);
    size_t n;
    const minga_rtype_t *const *types = minga_rtypes(&n);
    size_t differ = 0;
    for (size_t i = 0; i < n; i++) {
        char pa[400], pb[400], pc[400];
        snprintf(pa, sizeof pa, "%s/%s.csv", a, types[i]->kind);
        snprintf(pb, sizeof pb, "%s/%s.csv", b, types[i]->kind);
        snprintf(pc, sizeof pc, "%s/%s.csv", c, types[i]->kind);
        if (!s_same_file(pa, pb))
            fail_msg("%s differs between two runs with the same seed", pa);
        differ += !s_same_file(pa, pc);
        /* BOM and the header row of the descriptor table. */
        size_t len;
        unsigned char *buf = s_slurp(pa, &len);
        assert_true(len > 3 && buf[0] == 0xEF && buf[1] == 0xBB && buf[2] == 0xBF);
        assert_true(strncmp((char *)buf + 3, types[i]->fields[0].header,
                            strlen(types[i]->fields[0].header)) == 0);
        free(buf);
    }
    /* Everything but the GADs and the event depends on the seed. */
    assert_true(differ >= 5);
    s_rm_dir(a);
    s_rm_dir(b);
    snprintf(b, sizeof b, "%s/b", root);
    rmdir(b);
    s_rm_dir(c);
    rmdir(root);
    free(root);
}

static void test_bad_arguments(void **state)
{
    (void)state;
    char err[512];
    assert_int_equal(minga_demo_write("/tmp/minga-demo-never", 1, 0.0, NULL, err, sizeof err),
                     MINGA_EINVAL);
    assert_int_equal(minga_demo_write("/tmp/minga-demo-never", 1, -1.0, NULL, err, sizeof err),
                     MINGA_EINVAL);
    assert_int_equal(access("/tmp/minga-demo-never", F_OK), -1);
    /* A directory under a regular file cannot be made: the error names the path. */
    assert_true(minga_demo_write("/etc/hostname/x", 1, 1.0, NULL, err, sizeof err) < 0);
    assert_non_null(strstr(err, "/etc/hostname/x"));
}

/* Checks that hold at any scale. */
static void s_check_consistency(collect_t *c)
{
    size_t ncant;
    minga_cantons(&ncant);
    assert_int_equal(c->n[0], ncant);
    const char **gads = s_sorted_ids(c, 0), **coops = s_sorted_ids(c, 1);
    const char **offers = s_sorted_ids(c, 2), **demands = s_sorted_ids(c, 3);
    s_assert_unique(gads, c->n[0], "gads");
    s_assert_unique(coops, c->n[1], "cooperantes");
    s_assert_unique(offers, c->n[2], "offers");
    s_assert_unique(demands, c->n[3], "demands");
    for (size_t i = 0; i < c->n[2]; i++)
        assert_true(s_has(coops, c->n[1], OFFERS(c)[i]->cooperante));
    for (size_t i = 0; i < c->n[3]; i++)
        assert_true(s_has(gads, c->n[0], DEMANDS(c)[i]->gad));
    for (size_t i = 0; i < c->n[1]; i++)
        if (COOPS(c)[i]->gad)
            assert_true(s_has(gads, c->n[0], COOPS(c)[i]->gad));
    assert_int_equal(c->n[4], 1);
    const minga_event_t *e = EVENTS(c)[0];
    assert_string_equal(e->id, MINGA_DEMO_EVENT);
    /* Participants: existing parties, once each, tables within the event's, feasible limits. */
    const char **parts = s_sorted_ids(c, 5);
    s_assert_unique(parts, c->n[5], "participants");
    uint64_t tables = 0;
    for (size_t i = 0; i < c->n[5]; i++) {
        const minga_participant_t *p = PARTS(c)[i];
        bool gad = strcmp(p->kind, "gad") == 0;
        assert_true(s_has(gad ? gads : coops, gad ? c->n[0] : c->n[1], p->party));
        uint64_t mask;
        unsigned slots = s_slots(p->available_slots, &mask);
        uint64_t reps = gad ? 1 : (p->tables ? p->tables : 1);
        assert_true(p->max_meetings >= 1 && p->max_meetings <= slots * reps);
        assert_true(p->min_meetings <= p->max_meetings);
        if (!gad)
            tables += reps;
    }
    assert_true(tables <= e->tables);
    for (size_t i = 0; i < c->n[6]; i++) {
        assert_true(s_has(parts, c->n[5], PREFS(c)[i]->from));
        assert_true(s_has(parts, c->n[5], PREFS(c)[i]->to));
    }
    free(gads);
    free(coops);
    free(offers);
    free(demands);
    free(parts);
}

/* Whether offer o can serve demand d at the event: the gates of DESIGN §6 (territory,
 * validity on both days, modality, amount) plus some sector fit (competency or DAC
 * category). */
static bool s_serves(const minga_offer_t *o, const minga_demand_t *d, const minga_canton_t *cn)
{
    if (strcmp(o->valid_from, "2026-11-12") > 0 || strcmp(o->valid_to, "2026-11-13") < 0)
        return false;
    if (strcmp(o->modality, d->modality) != 0)
        return false;
    if (strcmp(o->modality, "subvencion") == 0 &&
        (d->amount < o->amount_min || d->amount > o->amount_max))
        return false;
    if (o->population_max && cn->population > o->population_max)
        return false;
    bool in = strcmp(o->scope, "nacional") == 0;
    for (size_t i = 0; !in && i < o->regions.n; i++)
        in = strcmp(o->regions.v[i], minga_region_code(cn->region)) == 0;
    for (size_t i = 0; !in && i < o->provinces.n; i++)
        in = strcmp(o->provinces.v[i], cn->province) == 0;
    for (size_t i = 0; !in && i < o->cantons.n; i++)
        in = strcmp(o->cantons.v[i], cn->code) == 0;
    if (!in)
        return false;
    for (size_t i = 0; i < o->competencies.n; i++)
        if (strcmp(o->competencies.v[i], d->competency) == 0)
            return true;
    for (size_t i = 0; i < o->dac.n; i++)
        for (size_t j = 0; j < d->dac.n; j++)
            if (strncmp(o->dac.v[i], d->dac.v[j], 3) == 0)
                return true;
    return false;
}

static void test_scale_1(void **state)
{
    (void)state;
    minga_demo_counts_t n;
    collect_t *c = s_run(MINGA_DEMO_SEED, 1.0, &n);
    assert_int_equal(n.cooperantes, 500);
    assert_int_equal(n.offers, 1500);
    assert_int_equal(n.demands, 1100);
    assert_int_equal(n.events, 1);
    assert_int_equal(c->n[1], 500);
    assert_int_equal(c->n[5], n.participants);
    s_check_consistency(c);

    /* Kind shares. */
    size_t kinds[8] = {0};
    static const char *const names[] = {"bilateral", "multilateral", "descentralizada",
                                        "intermunicipal", "privada"};
    for (size_t i = 0; i < c->n[1]; i++)
        for (size_t k = 0; k < 5; k++)
            kinds[k] += strcmp(COOPS(c)[i]->kind, names[k]) == 0;
    assert_in_range(kinds[0], 60, 90);
    assert_in_range(kinds[1], 30, 50);
    assert_in_range(kinds[2], 60, 90);
    assert_in_range(kinds[3], 40, 60);
    assert_in_range(kinds[4], 190, 240);

    /* Skew: a few cooperantes with many offers, most with one or two. */
    const char **coops = s_sorted_ids(c, 1);
    size_t *per = calloc(c->n[1], sizeof *per), many = 0, few = 0, top = 0;
    for (size_t i = 0; i < c->n[2]; i++) {
        const char *id = OFFERS(c)[i]->cooperante;
        const char **hit = bsearch(&id, coops, c->n[1], sizeof *coops, s_cmp_str);
        per[hit - coops]++;
    }
    for (size_t i = 0; i < c->n[1]; i++) {
        few += per[i] <= 2;
        many += per[i] >= 10;
        top = per[i] > top ? per[i] : top;
    }
    assert_true(few >= 300);
    assert_in_range(many, 10, 80);
    assert_true(top >= 25);
    free(per);
    free(coops);

    /* Demands: 2-10 per GAD at scale 1 (a remainder may add one), priorities 1-5. */
    size_t ncant;
    const minga_canton_t *cantons = minga_cantons(&ncant);
    size_t *dem = calloc(ncant, sizeof *dem);
    for (size_t i = 0; i < c->n[3]; i++)
        dem[minga_canton_find(DEMANDS(c)[i]->gad) - cantons]++;
    for (size_t i = 0; i < ncant; i++)
        assert_in_range(dem[i], 2, 11);

    /* Attendance: ~75-85 % of GADs, ~30 % of the cooperantes. */
    size_t pg = 0, pc = 0;
    for (size_t i = 0; i < c->n[5]; i++)
        if (strcmp(PARTS(c)[i]->kind, "gad") == 0)
            pg++;
        else
            pc++;
    assert_in_range(pg, 160, 195);
    assert_in_range(pc, 120, 175);
    assert_in_range(c->n[6], 20, 60);

    /* Coverage gap at the event (only attending cooperantes are matched): some demands no
     * offer can serve, some GADs poorly served. */
    const char **parts = s_sorted_ids(c, 5);
    size_t uncovered = 0, poor = 0;
    size_t *unc = calloc(ncant, sizeof *unc);
    for (size_t i = 0; i < c->n[3]; i++) {
        const minga_demand_t *d = DEMANDS(c)[i];
        const minga_canton_t *cn = minga_canton_find(d->gad);
        bool served = false;
        for (size_t j = 0; j < c->n[2] && !served; j++)
            served =
                s_has(parts, c->n[5], OFFERS(c)[j]->cooperante) && s_serves(OFFERS(c)[j], d, cn);
        if (!served) {
            uncovered++;
            unc[cn - cantons]++;
        }
    }
    for (size_t i = 0; i < ncant; i++)
        poor += 2 * unc[i] >= dem[i];
    print_message("scale 1: %zu participants (%zu GAD, %zu cooperantes), %zu preferences, "
                  "%zu demands without an offer, %zu GADs with half or more uncovered\n",
                  c->n[5], pg, pc, c->n[6], uncovered, poor);
    assert_in_range(uncovered, 50, 250);
    assert_in_range(poor, 3, 40);
    free(parts);
    free(unc);
    free(dem);
    s_collect_free(c);
}

static void test_scale_3(void **state)
{
    (void)state;
    minga_demo_counts_t n;
    collect_t *c = s_run(11, 3.0, &n);
    assert_int_equal(n.cooperantes, 1500);
    assert_int_equal(n.offers, 4500);
    assert_int_equal(n.demands, 3300);
    s_check_consistency(c);
    assert_int_equal(EVENTS(c)[0]->tables, 540);
    size_t pc = 0;
    for (size_t i = 0; i < c->n[5]; i++)
        pc += strcmp(PARTS(c)[i]->kind, "cooperante") == 0;
    assert_in_range(pc, 360, 520);
    s_collect_free(c);
}

static void test_small_scale(void **state)
{
    (void)state;
    minga_demo_counts_t n;
    collect_t *c = s_run(5, 0.01, &n);
    assert_int_equal(n.cooperantes, 5);
    assert_int_equal(n.demands, 11);
    s_check_consistency(c);
    s_collect_free(c);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_same_seed_same_bytes),
        cmocka_unit_test(test_bad_arguments),
        cmocka_unit_test(test_scale_1),
        cmocka_unit_test(test_scale_3),
        cmocka_unit_test(test_small_scale),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
