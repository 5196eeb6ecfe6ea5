/*
 * test_schedule.c: the scheduler (schedule.h) on hand-made and random problems, with its own
 * rule checker and a brute-force b-matching as references.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include "minga/error.h"
#include "minga/schedule.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* ---- a small deterministic generator ---- */

static uint64_t s_rng = 88172645463325252ull;

static uint32_t s_rand(uint32_t n)
{
    s_rng ^= s_rng << 13;
    s_rng ^= s_rng >> 7;
    s_rng ^= s_rng << 17;
    return (uint32_t)(s_rng % n);
}

/* ---- an independent check of every hard rule ---- */

static int s_avail(const uint64_t *set, unsigned slot)
{
    return !set || (set[(slot - 1) / 64] >> ((slot - 1) % 64) & 1);
}

/* Fails the test when r breaks a rule of p; returns the number of distinct slots used. */
static unsigned s_check(const minga_sched_problem_t *p, const minga_sched_result_t *r)
{
    unsigned S = p->nslots, T = p->ntables;
    int *gad_at = calloc(p->ngads * S + 1, sizeof *gad_at);
    int *tab_at = calloc((size_t)T * S + 1, sizeof *tab_at);
    long *owner = malloc((T + 1) * sizeof *owner);
    unsigned *gn = calloc(p->ngads + 1, sizeof *gn), *cn = calloc(p->ncoops + 1, sizeof *cn);
    unsigned *pn = calloc(p->npairs + 1, sizeof *pn), *slot_used = calloc(S + 1, sizeof *slot_used);
    unsigned *per_slot = calloc(p->ncoops * S + 1, sizeof *per_slot);
    assert_non_null(gad_at);
    assert_non_null(per_slot);
    for (unsigned t = 0; t <= T; t++)
        owner[t] = -1;
    int64_t total = 0;
    for (size_t i = 0; i < r->n; i++) {
        const minga_sched_meeting_t *m = &r->meetings[i];
        assert_true(m->pair < p->npairs);
        assert_true(m->slot >= 1 && m->slot <= S);
        assert_true(m->table >= 1 && m->table <= T);
        if (i > 0) /* by slot then table */
            assert_true(r->meetings[i - 1].slot < m->slot || (r->meetings[i - 1].slot == m->slot &&
                                                              r->meetings[i - 1].table < m->table));
        const minga_sched_pair_t *pr = &p->pairs[m->pair];
        assert_true(s_avail(p->gads[pr->gad].avail, m->slot));
        assert_true(s_avail(p->coops[pr->coop].avail, m->slot));
        assert_int_equal(gad_at[pr->gad * S + m->slot - 1]++, 0);
        assert_int_equal(tab_at[(m->table - 1) * S + m->slot - 1]++, 0);
        assert_true(owner[m->table] == -1 || owner[m->table] == (long)pr->coop);
        owner[m->table] = (long)pr->coop;
        assert_true(++per_slot[pr->coop * S + m->slot - 1] <= p->coops[pr->coop].tables);
        assert_true(++gn[pr->gad] <= p->gads[pr->gad].max);
        assert_true(++cn[pr->coop] <= p->coops[pr->coop].max);
        assert_true(++pn[m->pair] <= p->per_pair);
        slot_used[m->slot] = 1;
        total += pr->score;
    }
    /* a cooperante uses at most R distinct tables */
    for (size_t c = 0; c < p->ncoops; c++) {
        unsigned n = 0;
        for (unsigned t = 1; t <= T; t++)
            n += owner[t] == (long)c;
        assert_true(n <= p->coops[c].tables);
    }
    assert_int_equal(total, r->total_score);
    unsigned used = 0;
    for (unsigned s = 1; s <= S; s++)
        used += slot_used[s];
    assert_int_equal(used, r->slots_used);
    free(gad_at);
    free(tab_at);
    free(owner);
    free(gn);
    free(cn);
    free(pn);
    free(slot_used);
    free(per_slot);
    return used;
}

static void s_solve(const minga_sched_problem_t *p, minga_sched_result_t *r)
{
    char err[256] = "";
    int rc = minga_sched_solve(p, r, err, sizeof err);
    if (rc)
        fail_msg("minga_sched_solve: %d %s", rc, err);
    s_check(p, r);
}

/* ---- with full availability and one table each, slots used = maximum degree (König) ---- */

static void test_full_availability_delta(void **state)
{
    (void)state;
    for (int round = 0; round < 40; round++) {
        minga_sched_gad_t gads[14];
        minga_sched_coop_t coops[12];
        minga_sched_pair_t pairs[14 * 12];
        size_t ng = 6 + s_rand(9), nc = 4 + s_rand(9), np = 0;
        for (size_t g = 0; g < ng; g++)
            gads[g] = (minga_sched_gad_t){0, 100, NULL};
        for (size_t c = 0; c < nc; c++)
            coops[c] = (minga_sched_coop_t){100, 1, NULL, 0};
        unsigned deg_g[14] = {0}, deg_c[12] = {0};
        for (size_t g = 0; g < ng; g++)
            for (size_t c = 0; c < nc; c++)
                if (s_rand(100) < 55) {
                    pairs[np++] = (minga_sched_pair_t){(uint32_t)g, (uint32_t)c,
                                                       (int32_t)(1000 + s_rand(9000)), false};
                    deg_g[g]++;
                    deg_c[c]++;
                }
        unsigned delta = 0;
        for (size_t g = 0; g < ng; g++)
            delta = deg_g[g] > delta ? deg_g[g] : delta;
        for (size_t c = 0; c < nc; c++)
            delta = deg_c[c] > delta ? deg_c[c] : delta;
        minga_sched_problem_t p = {30, 20,    1,  gads, ng, coops,
                                   nc, pairs, np, NULL, 0,  MINGA_SCHED_FLOW};
        minga_sched_result_t r;
        s_solve(&p, &r);
        assert_int_equal(r.n, np); /* every pair meets: nothing limits them */
        assert_int_equal(r.max_degree, delta);
        assert_int_equal(r.slots_used, delta);
        for (size_t i = 0; i < r.n; i++)
            assert_true(r.meetings[i].slot <= delta);
        minga_sched_result_clear(&r);
    }
}

/* ---- the chosen meetings are an optimal b-matching (brute force) ---- */

typedef struct {
    int at_min;
    int64_t score;
} s_obj_t;

static s_obj_t s_brute(const minga_sched_problem_t *p)
{
    s_obj_t best = {-1, -1};
    for (uint32_t mask = 0; mask < (1u << p->npairs); mask++) {
        unsigned gn[8] = {0}, cn[8] = {0};
        int64_t score = 0;
        bool ok = true;
        for (size_t i = 0; i < p->npairs && ok; i++)
            if (mask >> i & 1) {
                ok = ++gn[p->pairs[i].gad] <= p->gads[p->pairs[i].gad].max &&
                     ++cn[p->pairs[i].coop] <= p->coops[p->pairs[i].coop].max;
                score += p->pairs[i].score;
            }
        if (!ok)
            continue;
        int at_min = 0;
        for (size_t g = 0; g < p->ngads; g++)
            at_min += gn[g] >= p->gads[g].min;
        if (at_min > best.at_min || (at_min == best.at_min && score > best.score))
            best = (s_obj_t){at_min, score};
    }
    return best;
}

static void test_bmatching_vs_brute_force(void **state)
{
    (void)state;
    int rounds = 300, with_min = 0;
    for (int round = 0; round < rounds; round++) {
        minga_sched_gad_t gads[5];
        minga_sched_coop_t coops[5];
        minga_sched_pair_t pairs[16];
        size_t ng = 2 + s_rand(4), nc = 2 + s_rand(4), np = 0;
        for (size_t g = 0; g < ng; g++) {
            uint32_t max = 1 + s_rand(3);
            gads[g] = (minga_sched_gad_t){round % 2 ? s_rand(max + 2) : 0, max, NULL};
            with_min += gads[g].min > 0;
        }
        for (size_t c = 0; c < nc; c++)
            coops[c] = (minga_sched_coop_t){1 + s_rand(3), 1, NULL, 0};
        for (size_t g = 0; g < ng; g++)
            for (size_t c = 0; c < nc && np < 16; c++)
                if (s_rand(100) < 70)
                    pairs[np++] = (minga_sched_pair_t){(uint32_t)g, (uint32_t)c,
                                                       (int32_t)(100 * (1 + s_rand(100))), false};
        minga_sched_problem_t p = {8,  12,    1,  gads, ng, coops,
                                   nc, pairs, np, NULL, 0,  MINGA_SCHED_FLOW};
        minga_sched_result_t r;
        s_solve(&p, &r);
        s_obj_t want = s_brute(&p);
        int at_min = 0;
        for (size_t g = 0; g < ng; g++)
            at_min += r.gad_meetings[g] >= gads[g].min;
        if (at_min != want.at_min || r.total_score != want.score)
            fail_msg("round %d: %d GADs at minimum and score %lld, the optimum %d and %lld", round,
                     at_min, (long long)r.total_score, want.at_min, (long long)want.score);
        if (!r.choice_proven)
            fail_msg("round %d: stage 1's search did not finish on %zu pairs", round, np);
        minga_sched_result_clear(&r);
    }
    assert_true(with_min > 100);
}

/* ---- minimums are counted by GAD: a knapsack the bonus per meeting gets wrong ---- */

/* GAD 0 (minimum 2) could take both cooperantes' only meeting with its best scores; GADs 1
 * and 2 (minimum 1 each) could take one each. A bonus per meeting up to the minimum sees two
 * meetings either way and picks the better scores (one GAD at its minimum); the objective
 * wants GADs 1 and 2 (two GADs), whatever it costs in score. The same inside a larger event:
 * copies of the gadget side by side, and a GAD with no way to its minimum. */
static void test_minimums_counted_by_gad(void **state)
{
    (void)state;
    enum { K = 12 };
    minga_sched_gad_t gads[3 * K + 1];
    minga_sched_coop_t coops[2 * K];
    minga_sched_pair_t pairs[4 * K + 1];
    size_t np = 0;
    for (uint32_t k = 0; k < K; k++) {
        uint32_t g = 3 * k, c = 2 * k;
        gads[g] = (minga_sched_gad_t){2, 2, NULL};
        gads[g + 1] = (minga_sched_gad_t){1, 1, NULL};
        gads[g + 2] = (minga_sched_gad_t){1, 1, NULL};
        coops[c] = coops[c + 1] = (minga_sched_coop_t){1, 1, NULL, 0};
        pairs[np++] = (minga_sched_pair_t){g, c, 9000, false};
        pairs[np++] = (minga_sched_pair_t){g, c + 1, 9000, false};
        pairs[np++] = (minga_sched_pair_t){g + 1, c, 1000 + k, false};
        pairs[np++] = (minga_sched_pair_t){g + 2, c + 1, 1000, false};
    }
    gads[3 * K] = (minga_sched_gad_t){3, 3, NULL};
    pairs[np++] = (minga_sched_pair_t){3 * K, 0, 5000, false};
    minga_sched_problem_t p = {4,     2 * K, 1,  gads, 3 * K + 1, coops,
                               2 * K, pairs, np, NULL, 0,         MINGA_SCHED_FLOW};
    minga_sched_result_t r;
    s_solve(&p, &r);
    assert_true(r.choice_proven);
    for (uint32_t k = 0; k < K; k++) {
        assert_int_equal(r.gad_meetings[3 * k], 0);
        assert_int_equal(r.gad_meetings[3 * k + 1], 1);
        assert_int_equal(r.gad_meetings[3 * k + 2], 1);
    }
    assert_int_equal(r.gads_below, K + 1);
    int64_t want = 0;
    for (uint32_t k = 0; k < K; k++)
        want += 1000 + k + 1000;
    assert_int_equal(r.total_score, want);
    minga_sched_result_clear(&r);
}

/* ---- a cooperante with 3 representatives holds 3 tables ---- */

static void test_three_tables(void **state)
{
    (void)state;
    minga_sched_gad_t gads[10];
    minga_sched_coop_t coops[2] = {{30, 3, NULL, 0}, {30, 1, NULL, 0}};
    minga_sched_pair_t pairs[20];
    size_t np = 0;
    for (uint32_t g = 0; g < 10; g++) {
        gads[g] = (minga_sched_gad_t){1, 2, NULL};
        pairs[np++] = (minga_sched_pair_t){g, 0, 5000, false};
        pairs[np++] = (minga_sched_pair_t){g, 1, 4000, false};
    }
    /* 4 slots: the 10 meetings of the first cooperante need its 3 tables */
    minga_sched_problem_t p = {4, 6, 1, gads, 10, coops, 2, pairs, np, NULL, 0, MINGA_SCHED_FLOW};
    minga_sched_result_t r;
    s_solve(&p, &r);
    unsigned first = r.coop_table_first[0], n0 = 0, used[7] = {0};
    assert_true(first >= 1 && first + 2 <= 6);
    assert_true(r.coop_table_first[1] < first || r.coop_table_first[1] > first + 2);
    for (size_t i = 0; i < r.n; i++)
        if (pairs[r.meetings[i].pair].coop == 0) {
            n0++;
            assert_true(r.meetings[i].table >= first && r.meetings[i].table <= first + 2);
            used[r.meetings[i].table] = 1;
        }
    assert_int_equal(n0, 10);
    assert_int_equal(used[first] + used[first + 1] + used[first + 2], 3);
    minga_sched_result_clear(&r);
}

/* ---- minimums that cannot be met are reported, each with its reason ---- */

static void test_infeasible_minimums(void **state)
{
    (void)state;
    uint64_t one_slot[1] = {1}; /* slot 1 only */
    minga_sched_gad_t gads[5] = {
        {3, 5, NULL},                   /* 0: one candidate only */
        {2, 5, one_slot},               /* 1: available in one slot */
        {2, 5, NULL},                   /* 2, 3: compete for two meetings in all */
        {2, 5, NULL},     {1, 5, NULL}, /* 4: fine */
    };
    minga_sched_coop_t coops[4] = {
        {5, 1, NULL, 0}, {5, 1, NULL, 0}, {1, 1, NULL, 0}, {1, 1, NULL, 0}};
    minga_sched_pair_t pairs[] = {
        {0, 0, 5000, false}, {1, 0, 5000, false}, {1, 1, 5000, false}, {2, 2, 5000, false},
        {2, 3, 5000, false}, {3, 2, 4000, false}, {3, 3, 4000, false}, {4, 1, 3000, false},
    };
    minga_sched_problem_t p = {6,    8,     1,
                               gads, 5,     coops,
                               4,    pairs, sizeof pairs / sizeof pairs[0],
                               NULL, 0,     MINGA_SCHED_FLOW};
    minga_sched_result_t r;
    s_solve(&p, &r);
    assert_int_equal(r.gads_below, 3);
    assert_int_equal(r.gad_below[0], MINGA_SCHED_BELOW_CANDIDATES);
    assert_int_equal(r.gad_below[1], MINGA_SCHED_BELOW_AVAILABILITY);
    /* one of GADs 2 and 3 reaches its minimum, the other is below for capacity */
    assert_true((r.gad_below[2] == MINGA_SCHED_OK) != (r.gad_below[3] == MINGA_SCHED_OK));
    assert_int_equal(r.gad_below[2] + r.gad_below[3], MINGA_SCHED_BELOW_CAPACITY);
    assert_int_equal(r.gad_below[4], MINGA_SCHED_OK);
    assert_string_equal(minga_sched_below_text(MINGA_SCHED_BELOW_CANDIDATES),
                        "no tiene suficientes candidatos");
    minga_sched_result_clear(&r);
}

/* ---- random problems with availability, R and per_pair: every rule holds; the flow beats
 * the greedy baseline; a re-solve with the meetings fixed keeps them where they are ---- */

static uint64_t s_pattern(uint32_t k)
{
    static const uint64_t pats[] = {0xffffffull, 0xfffull,    0xfff000ull,
                                    0xfc0fc0ull, 0x03f03full, 0x0ffff0ull};
    return pats[k % 6];
}

static void test_random_rules_and_fixed(void **state)
{
    (void)state;
    int64_t flow_total = 0, greedy_total = 0;
    for (int round = 0; round < 60; round++) {
        enum { NG = 40, NC = 25 };
        static minga_sched_gad_t gads[NG];
        static minga_sched_coop_t coops[NC];
        static minga_sched_pair_t pairs[NG * NC];
        static uint64_t av[NG + NC];
        size_t np = 0;
        for (size_t g = 0; g < NG; g++) {
            av[g] = s_pattern(s_rand(12));
            gads[g] = (minga_sched_gad_t){2 + s_rand(3), 5 + s_rand(6), s_rand(3) ? &av[g] : NULL};
        }
        for (size_t c = 0; c < NC; c++) {
            av[NG + c] = s_pattern(s_rand(12));
            uint32_t R = s_rand(5) ? 1 : 2 + s_rand(2);
            coops[c] =
                (minga_sched_coop_t){R * (6 + s_rand(10)), R, s_rand(3) ? &av[NG + c] : NULL, 0};
        }
        for (size_t g = 0; g < NG; g++)
            for (size_t c = 0; c < NC; c++)
                if (s_rand(100) < 25)
                    pairs[np++] = (minga_sched_pair_t){
                        (uint32_t)g, (uint32_t)c, (int32_t)(2000 + s_rand(8000)), s_rand(100) < 2};
        minga_sched_problem_t p = {24,   40,    1 + (uint32_t)(round % 3 == 0),
                                   gads, NG,    coops,
                                   NC,   pairs, np,
                                   NULL, 0,     MINGA_SCHED_FLOW};
        minga_sched_result_t r, rg, r2;
        s_solve(&p, &r);
        p.method = MINGA_SCHED_GREEDY;
        s_solve(&p, &rg);
        flow_total += r.total_score;
        greedy_total += rg.total_score;
        /* keep every meeting, take one cooperante's afternoon away: its afternoon meetings go,
         * the rest stay exactly where they were */
        uint32_t gone = (uint32_t)s_rand(NC);
        uint64_t morning = 0xfffull;
        minga_sched_coop_t saved = coops[gone];
        coops[gone].avail = &morning;
        for (size_t c = 0; c < NC; c++)
            coops[c].table_first = r.coop_table_first[c];
        p.method = MINGA_SCHED_FLOW;
        p.fixed = r.meetings;
        p.nfixed = r.n;
        s_solve(&p, &r2);
        size_t must_stay = 0, stayed = 0;
        for (size_t i = 0; i < r.n; i++) {
            const minga_sched_meeting_t *m = &r.meetings[i];
            bool valid = pairs[m->pair].coop != gone || m->slot <= 12;
            must_stay += valid;
            for (size_t j = 0; valid && j < r2.n; j++)
                if (r2.meetings[j].pair == m->pair && r2.meetings[j].slot == m->slot &&
                    r2.meetings[j].table == m->table) {
                    stayed++;
                    break;
                }
        }
        assert_int_equal(stayed, must_stay);
        assert_int_equal(r2.fixed_kept, must_stay);
        assert_int_equal(r2.fixed_dropped, r.n - must_stay);
        coops[gone] = saved;
        for (size_t c = 0; c < NC; c++)
            coops[c].table_first = 0;
        minga_sched_result_clear(&r);
        minga_sched_result_clear(&rg);
        minga_sched_result_clear(&r2);
    }
    print_message("flow %lld, greedy %lld (%.2f %%)\n", (long long)flow_total,
                  (long long)greedy_total, 100.0 * (double)greedy_total / (double)flow_total);
    assert_true(flow_total > greedy_total);
}

/* ---- malformed problems are errors, not crashes ---- */

static void test_bad_problem(void **state)
{
    (void)state;
    minga_sched_gad_t g = {0, 1, NULL};
    minga_sched_coop_t c = {1, 1, NULL, 0};
    minga_sched_pair_t bad = {3, 0, 100, false};
    minga_sched_problem_t p = {4, 2, 1, &g, 1, &c, 1, &bad, 1, NULL, 0, MINGA_SCHED_FLOW};
    minga_sched_result_t r;
    char err[128];
    assert_int_equal(minga_sched_solve(&p, &r, err, sizeof err), MINGA_EINVAL);
    assert_non_null(strstr(err, "out of range"));
    p.npairs = 0;
    p.nslots = 0;
    assert_int_equal(minga_sched_solve(&p, &r, err, sizeof err), MINGA_EINVAL);
    p.nslots = 4;
    assert_int_equal(minga_sched_solve(&p, &r, err, sizeof err), 0);
    assert_int_equal(r.n, 0);
    minga_sched_result_clear(&r);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_full_availability_delta),
        cmocka_unit_test(test_bmatching_vs_brute_force),
        cmocka_unit_test(test_minimums_counted_by_gad),
        cmocka_unit_test(test_three_tables),
        cmocka_unit_test(test_infeasible_minimums),
        cmocka_unit_test(test_random_rules_and_fixed),
        cmocka_unit_test(test_bad_problem),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
