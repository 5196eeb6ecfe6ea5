/*
 * schedule.c: the rueda's scheduler (see schedule.h for the problem and the method).
 *
 * The working state is a grid: for every GAD and every table, which meeting (if any) it holds
 * in each slot. A cooperante with R tables is R "copies" (its tables), each a simple vertex of
 * the bipartite multigraph GADs x tables, so that a timetable is a proper edge colouring of
 * that graph with slots as colours, restricted by availability.
 *
 * Invariants of the state (s_t), kept by s_place()/s_unplace() and nothing else:
 *  1. gad_at[g][s] = meeting + 1 of the meeting GAD g holds in slot s, or 0; likewise
 *     tab_at[t][s] for table t (0-based);
 *  2. a placed meeting's slot is available to its GAD and its cooperante, and its table is
 *     one of its cooperante's;
 *  3. gad_n, coop_n and pair_n count the placed meetings and never pass max / per_pair.
 * Stage 1 (s_flow) chooses how many meetings each pair gets; stage 2 (s_place_edge) places
 * them, repairing by Kempe chains (s_kempe); stage 3 (s_refill, s_improve) adds and swaps.
 */
#include "minga/schedule.h"

#include "minga/error.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#define S_BIG 1000000000LL /* worth of a GAD's meeting up to its minimum: above any score */
#define S_MUST 10000       /* extra worth of a must-meet pair's meeting */
#define S_INF (INT64_MAX / 4)

typedef struct {
    uint32_t pair;
    uint16_t slot, table; /* slot 1-based; table 1-based; 0 = not placed */
    bool pinned;          /* a fixed meeting: never moved nor removed */
} s_meet_t;

typedef struct {
    const minga_sched_problem_t *p;
    uint32_t S, T;     /* slots, tables */
    uint32_t *gad_at;  /* G x S */
    uint32_t *tab_at;  /* T x S */
    int32_t *tab_coop; /* per table: its cooperante, -1 none */
    uint32_t *gad_n, *coop_n, *pair_n;
    uint32_t *coop_first; /* per coop: first table (1-based), 0 none */
    s_meet_t *m;          /* placed and removed meetings; removed ones have slot 0 */
    size_t nm, cap;
    uint32_t *pairs_of_gad; /* CSR: pairs of GAD g in [gad_pfirst[g], gad_pfirst[g+1]) */
    uint32_t *gad_pfirst;
    uint32_t *pairs_of_coop;
    uint32_t *coop_pfirst;
    uint32_t lim;    /* slots tried first: the chosen meetings' maximum degree */
    uint32_t *stamp; /* scratch for Kempe chains: per meeting */
    uint32_t stamp_gen;
    uint64_t work; /* stage 1's flows: edges Dijkstra scanned, the search's budget */
} s_t;

static uint64_t s_now_us(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (uint64_t)ts.tv_sec * 1000000u + (uint64_t)ts.tv_nsec / 1000u;
}

static bool s_bit(const uint64_t *set, uint32_t slot)
{
    return !set || (set[(slot - 1) / 64] >> ((slot - 1) % 64) & 1);
}

static bool s_gad_av(const s_t *st, uint32_t g, uint32_t slot)
{
    return s_bit(st->p->gads[g].avail, slot);
}

static bool s_coop_av(const s_t *st, uint32_t c, uint32_t slot)
{
    return s_bit(st->p->coops[c].avail, slot);
}

static uint32_t *s_gcell(s_t *st, uint32_t g, uint32_t slot)
{
    return &st->gad_at[(size_t)g * st->S + slot - 1];
}

static uint32_t *s_tcell(s_t *st, uint32_t table, uint32_t slot)
{
    return &st->tab_at[(size_t)(table - 1) * st->S + slot - 1];
}

/* ---- placing ---- */

static int s_new_meeting(s_t *st, uint32_t pair, uint32_t *idx)
{
    if (st->nm == st->cap) {
        size_t cap = st->cap ? 2 * st->cap : 1024;
        s_meet_t *g = realloc(st->m, cap * sizeof *g);
        uint32_t *sg = realloc(st->stamp, cap * sizeof *sg);
        if (sg)
            st->stamp = sg;
        if (!g || !sg) {
            if (g)
                st->m = g;
            return MINGA_ENOMEM;
        }
        st->m = g;
        memset(st->stamp + st->cap, 0, (cap - st->cap) * sizeof *sg);
        st->cap = cap;
    }
    *idx = (uint32_t)st->nm;
    st->m[st->nm++] = (s_meet_t){pair, 0, 0, false};
    return 0;
}

static void s_place(s_t *st, uint32_t mi, uint32_t slot, uint32_t table)
{
    s_meet_t *m = &st->m[mi];
    const minga_sched_pair_t *pr = &st->p->pairs[m->pair];
    m->slot = (uint16_t)slot;
    m->table = (uint16_t)table;
    *s_gcell(st, pr->gad, slot) = mi + 1;
    *s_tcell(st, table, slot) = mi + 1;
    st->gad_n[pr->gad]++;
    st->coop_n[pr->coop]++;
    st->pair_n[m->pair]++;
}

static void s_unplace(s_t *st, uint32_t mi)
{
    s_meet_t *m = &st->m[mi];
    const minga_sched_pair_t *pr = &st->p->pairs[m->pair];
    *s_gcell(st, pr->gad, m->slot) = 0;
    *s_tcell(st, m->table, m->slot) = 0;
    st->gad_n[pr->gad]--;
    st->coop_n[pr->coop]--;
    st->pair_n[m->pair]--;
    m->slot = 0;
    m->table = 0;
}

/* Moves a placed meeting to another slot, same table (cells only; counts unchanged). */
static void s_move(s_t *st, uint32_t mi, uint32_t slot)
{
    s_meet_t *m = &st->m[mi];
    m->slot = (uint16_t)slot;
}

/* Can pair take one more meeting (counts only)? */
static bool s_room(const s_t *st, uint32_t pair)
{
    const minga_sched_pair_t *pr = &st->p->pairs[pair];
    return st->pair_n[pair] < st->p->per_pair && st->gad_n[pr->gad] < st->p->gads[pr->gad].max &&
           st->coop_n[pr->coop] < st->p->coops[pr->coop].max && st->coop_first[pr->coop] != 0;
}

/* The first free slot up to lim for (g, table) in which both are available, or 0. */
static uint32_t s_free_slot(s_t *st, uint32_t g, uint32_t c, uint32_t table, uint32_t lim)
{
    for (uint32_t s = 1; s <= lim; s++)
        if (!*s_gcell(st, g, s) && !*s_tcell(st, table, s) && s_gad_av(st, g, s) &&
            s_coop_av(st, c, s))
            return s;
    return 0;
}

/* Swaps colours a and b along the alternating path that starts at the vertex (gad side when
 * from_gad, else table) v with colour `first`: the path's edges trade slots. Every edge on
 * the path must be allowed in its new slot (availability of its GAD and cooperante). Returns
 * true when swapped, false (state unchanged) when an edge could not move. */
static bool s_kempe(s_t *st, bool from_gad, uint32_t v, uint32_t a, uint32_t b)
{
    /* collect the path */
    uint32_t path[4096];
    size_t n = 0;
    bool gad_side = from_gad;
    uint32_t node = v, col = a;
    st->stamp_gen++;
    for (;;) {
        uint32_t mi1 = gad_side ? *s_gcell(st, node, col) : *s_tcell(st, node, col);
        if (!mi1)
            break;
        uint32_t mi = mi1 - 1;
        if (st->stamp[mi] == st->stamp_gen || st->m[mi].pinned || n == sizeof path / sizeof path[0])
            return false;
        st->stamp[mi] = st->stamp_gen;
        const minga_sched_pair_t *pr = &st->p->pairs[st->m[mi].pair];
        uint32_t other = col == a ? b : a;
        if (!s_gad_av(st, pr->gad, other) || !s_coop_av(st, pr->coop, other))
            return false;
        path[n++] = mi;
        node = gad_side ? st->m[mi].table : pr->gad;
        gad_side = !gad_side;
        col = other;
    }
    /* clear the cells, then write them back with the colours swapped */
    for (size_t i = 0; i < n; i++) {
        s_meet_t *m = &st->m[path[i]];
        *s_gcell(st, st->p->pairs[m->pair].gad, m->slot) = 0;
        *s_tcell(st, m->table, m->slot) = 0;
    }
    for (size_t i = 0; i < n; i++) {
        s_meet_t *m = &st->m[path[i]];
        s_move(st, path[i], m->slot == a ? b : a);
        *s_gcell(st, st->p->pairs[m->pair].gad, m->slot) = path[i] + 1;
        *s_tcell(st, m->table, m->slot) = path[i] + 1;
    }
    return true;
}

/* Creates a meeting of pair at (slot, table). */
static bool s_put(s_t *st, uint32_t pair, uint32_t slot, uint32_t table)
{
    uint32_t mi;
    if (s_new_meeting(st, pair, &mi) != 0)
        return false;
    s_place(st, mi, slot, table);
    return true;
}

/* s_place_edge within slots 1..lim. */
static bool s_place_lim(s_t *st, uint32_t pair, bool repair, uint32_t lim)
{
    const minga_sched_pair_t *pr = &st->p->pairs[pair];
    uint32_t g = pr->gad, c = pr->coop, R = st->p->coops[c].tables;
    uint32_t first = st->coop_first[c];
    for (uint32_t k = 0; k < R; k++) {
        uint32_t s = s_free_slot(st, g, c, first + k, lim);
        if (s)
            return s_put(st, pair, s, first + k);
    }
    if (!repair)
        return false;
    for (uint32_t k = 0; k < R; k++) {
        uint32_t t = first + k;
        for (uint32_t a = 1; a <= lim; a++) {
            /* a: free and available at the GAD, available to the cooperante, busy at t */
            if (*s_gcell(st, g, a) || !s_gad_av(st, g, a) || !s_coop_av(st, c, a))
                continue;
            for (uint32_t b = 1; b <= lim; b++) {
                if (b == a || *s_tcell(st, t, b) || !s_coop_av(st, c, b))
                    continue;
                /* b free at the table: free a at the table by swapping a/b from t */
                if (s_kempe(st, false, t, a, b) && !*s_gcell(st, g, a) && !*s_tcell(st, t, a))
                    return s_put(st, pair, a, t);
                /* or free b at the GAD by swapping b/a from g */
                if (s_gad_av(st, g, b) && s_kempe(st, true, g, b, a) && !*s_gcell(st, g, b) &&
                    !*s_tcell(st, t, b))
                    return s_put(st, pair, b, t);
            }
        }
    }
    return false;
}

/* Places one more meeting of pair at a free (slot, table) of its cooperante: first a slot
 * free for both; else by a Kempe chain between a slot free at the GAD and one free at the
 * table (when repair) — first within the first st->lim slots (König: with full availability
 * and one table per cooperante, the maximum degree suffices), then within all. Returns true
 * when placed. The caller has checked s_room(). */
static bool s_place_edge(s_t *st, uint32_t pair, bool repair)
{
    if (st->lim && st->lim < st->S && s_place_lim(st, pair, repair, st->lim))
        return true;
    return s_place_lim(st, pair, repair, st->S);
}

/* ---- setup ---- */

static int s_check_problem(const minga_sched_problem_t *p, char *err, size_t errcap)
{
    if (p->nslots < 1 || p->nslots > 65535 || p->ntables < 1 || p->ntables > 65535 ||
        p->per_pair < 1) {
        snprintf(err, errcap, "slots %u, tables %u and meetings per pair %u must be >= 1",
                 p->nslots, p->ntables, p->per_pair);
        return MINGA_EINVAL;
    }
    for (size_t i = 0; i < p->ncoops; i++)
        if (p->coops[i].tables < 1 || p->coops[i].tables > p->ntables) {
            snprintf(err, errcap, "cooperante %zu: %u tables (1..%u)", i, p->coops[i].tables,
                     p->ntables);
            return MINGA_EINVAL;
        }
    for (size_t i = 0; i < p->npairs; i++)
        if (p->pairs[i].gad >= p->ngads || p->pairs[i].coop >= p->ncoops || p->pairs[i].score < 0) {
            snprintf(err, errcap, "pair %zu names GAD %u / cooperante %u out of range", i,
                     p->pairs[i].gad, p->pairs[i].coop);
            return MINGA_EINVAL;
        }
    for (size_t i = 0; i < p->nfixed; i++)
        if (p->fixed[i].pair >= p->npairs) {
            snprintf(err, errcap, "fixed meeting %zu names pair %u out of range", i,
                     p->fixed[i].pair);
            return MINGA_EINVAL;
        }
    return 0;
}

static int s_csr(size_t n, size_t npairs, const minga_sched_pair_t *pairs, bool by_gad,
                 uint32_t **first_p, uint32_t **list_p)
{
    uint32_t *first = calloc(n + 1, sizeof *first);
    uint32_t *list = malloc((npairs ? npairs : 1) * sizeof *list);
    if (!first || !list) {
        free(first);
        free(list);
        return MINGA_ENOMEM;
    }
    for (size_t i = 0; i < npairs; i++)
        first[(by_gad ? pairs[i].gad : pairs[i].coop) + 1]++;
    for (size_t i = 0; i < n; i++)
        first[i + 1] += first[i];
    uint32_t *at = malloc((n + 1) * sizeof *at);
    if (!at) {
        free(first);
        free(list);
        return MINGA_ENOMEM;
    }
    memcpy(at, first, (n + 1) * sizeof *at);
    for (size_t i = 0; i < npairs; i++)
        list[at[by_gad ? pairs[i].gad : pairs[i].coop]++] = (uint32_t)i;
    free(at);
    *first_p = first;
    *list_p = list;
    return 0;
}

static void s_free(s_t *st)
{
    free(st->gad_at);
    free(st->tab_at);
    free(st->tab_coop);
    free(st->gad_n);
    free(st->coop_n);
    free(st->pair_n);
    free(st->coop_first);
    free(st->m);
    free(st->pairs_of_gad);
    free(st->gad_pfirst);
    free(st->pairs_of_coop);
    free(st->coop_pfirst);
    free(st->stamp);
}

static int s_init(s_t *st, const minga_sched_problem_t *p)
{
    memset(st, 0, sizeof *st);
    st->p = p;
    st->S = p->nslots;
    st->T = p->ntables;
    size_t G = p->ngads ? p->ngads : 1, C = p->ncoops ? p->ncoops : 1;
    st->gad_at = calloc(G * st->S, sizeof *st->gad_at);
    st->tab_at = calloc((size_t)st->T * st->S, sizeof *st->tab_at);
    st->tab_coop = malloc(st->T * sizeof *st->tab_coop);
    st->gad_n = calloc(G, sizeof *st->gad_n);
    st->coop_n = calloc(C, sizeof *st->coop_n);
    st->pair_n = calloc(p->npairs ? p->npairs : 1, sizeof *st->pair_n);
    st->coop_first = calloc(C, sizeof *st->coop_first);
    if (!st->gad_at || !st->tab_at || !st->tab_coop || !st->gad_n || !st->coop_n || !st->pair_n ||
        !st->coop_first)
        return MINGA_ENOMEM;
    for (uint32_t t = 0; t < st->T; t++)
        st->tab_coop[t] = -1;
    if (s_csr(p->ngads, p->npairs, p->pairs, true, &st->gad_pfirst, &st->pairs_of_gad) ||
        s_csr(p->ncoops, p->npairs, p->pairs, false, &st->coop_pfirst, &st->pairs_of_coop))
        return MINGA_ENOMEM;
    return 0;
}

/* Gives cooperante c the R tables from first (1-based) when they are all free. */
static bool s_take_tables(s_t *st, uint32_t c, uint32_t first)
{
    uint32_t R = st->p->coops[c].tables;
    if (first < 1 || first + R - 1 > st->T)
        return false;
    for (uint32_t k = 0; k < R; k++)
        if (st->tab_coop[first - 1 + k] != -1)
            return false;
    for (uint32_t k = 0; k < R; k++)
        st->tab_coop[first - 1 + k] = (int32_t)c;
    st->coop_first[c] = first;
    return true;
}

/* Gives c the first run of R free tables. */
static bool s_alloc_tables(s_t *st, uint32_t c)
{
    uint32_t R = st->p->coops[c].tables, run = 0;
    for (uint32_t t = 1; t <= st->T; t++) {
        run = st->tab_coop[t - 1] == -1 ? run + 1 : 0;
        if (run == R)
            return s_take_tables(st, c, t - R + 1);
    }
    return false;
}

/* Keeps the fixed meetings that obey every rule, in the order given. */
static int s_fixed(s_t *st, minga_sched_result_t *r)
{
    const minga_sched_problem_t *p = st->p;
    for (size_t i = 0; i < p->ncoops; i++)
        if (p->coops[i].table_first)
            s_take_tables(st, (uint32_t)i, p->coops[i].table_first);
    for (size_t i = 0; i < p->nfixed; i++) {
        const minga_sched_meeting_t *f = &p->fixed[i];
        const minga_sched_pair_t *pr = &p->pairs[f->pair];
        uint32_t c = pr->coop, first = st->coop_first[c];
        bool ok = f->slot >= 1 && f->slot <= st->S && f->table >= 1 && f->table <= st->T && first &&
                  f->table >= first && f->table < first + p->coops[c].tables &&
                  s_room(st, f->pair) && s_gad_av(st, pr->gad, f->slot) &&
                  s_coop_av(st, c, f->slot) && !*s_gcell(st, pr->gad, f->slot) &&
                  !*s_tcell(st, f->table, f->slot);
        if (!ok) {
            r->fixed_dropped++;
            continue;
        }
        uint32_t mi;
        if (s_new_meeting(st, f->pair, &mi) != 0)
            return MINGA_ENOMEM;
        s_place(st, mi, f->slot, f->table);
        st->m[mi].pinned = true;
        r->fixed_kept++;
    }
    return 0;
}

/* ---- stage 1: min-cost flow ---- */

typedef struct {
    uint32_t to, rev;
    int32_t cap;
    int64_t cost;
} s_edge_t;

typedef struct {
    s_edge_t *e;
    uint32_t *first, *next; /* adjacency as linked lists over e */
    size_t ne, cap;
    uint32_t nv;
} s_graph_t;

static int s_add_edge(s_graph_t *gr, uint32_t u, uint32_t v, int32_t cap, int64_t cost,
                      uint32_t *id)
{
    if (cap <= 0) {
        if (id)
            *id = UINT32_MAX;
        return 0;
    }
    if (gr->ne + 2 > gr->cap) {
        size_t c = gr->cap ? 2 * gr->cap : 4096;
        s_edge_t *e = realloc(gr->e, c * sizeof *e);
        uint32_t *nx = e ? realloc(gr->next, c * sizeof *nx) : NULL;
        if (e)
            gr->e = e;
        if (!nx)
            return MINGA_ENOMEM;
        gr->next = nx;
        gr->cap = c;
    }
    uint32_t a = (uint32_t)gr->ne, b = a + 1;
    gr->e[a] = (s_edge_t){v, b, cap, cost};
    gr->e[b] = (s_edge_t){u, a, 0, -cost};
    gr->next[a] = gr->first[u];
    gr->first[u] = a;
    gr->next[b] = gr->first[v];
    gr->first[v] = b;
    gr->ne += 2;
    if (id)
        *id = a;
    return 0;
}

/* A binary heap of (distance, node). */
typedef struct {
    int64_t d;
    uint32_t v;
} s_hn_t;

static void s_heap_push(s_hn_t *h, size_t *n, int64_t d, uint32_t v)
{
    size_t i = (*n)++;
    while (i > 0) {
        size_t up = (i - 1) / 2;
        if (h[up].d <= d)
            break;
        h[i] = h[up];
        i = up;
    }
    h[i] = (s_hn_t){d, v};
}

static s_hn_t s_heap_pop(s_hn_t *h, size_t *n)
{
    s_hn_t top = h[0], last = h[--(*n)];
    size_t i = 0;
    for (;;) {
        size_t l = 2 * i + 1, r = l + 1, m = i;
        int64_t dm = last.d;
        if (l < *n && h[l].d < dm)
            m = l, dm = h[l].d;
        if (r < *n && h[r].d < dm)
            m = r;
        if (m == i)
            break;
        h[i] = h[m];
        i = m;
    }
    if (*n)
        h[i] = last;
    return top;
}

/* Successive shortest paths with potentials (Dijkstra on reduced costs) from node 0 to node
 * 1, augmenting while the path's cost is negative. Initial potentials come from the layered
 * order of the nodes (source, GADs, cooperantes, sink), in which every edge goes forward. */
static int s_mcf(s_graph_t *gr, uint32_t G, uint32_t C, uint64_t *work)
{
    uint32_t nv = gr->nv;
    int64_t *pot = malloc(nv * sizeof *pot), *dist = malloc(nv * sizeof *dist);
    uint32_t *pe = malloc(nv * sizeof *pe);
    uint8_t *done = malloc(nv);
    s_hn_t *heap = malloc((gr->ne + nv + 1) * sizeof *heap);
    int rc = MINGA_ENOMEM;
    if (!pot || !dist || !pe || !done || !heap)
        goto out;
    for (uint32_t v = 0; v < nv; v++)
        pot[v] = S_INF;
    pot[0] = 0;
    /* layers: 0 -> [2, 2+G) -> [2+G, 2+G+C) -> 1 */
    uint32_t order_n = 0;
    uint32_t *order = malloc(nv * sizeof *order);
    if (!order)
        goto out;
    order[order_n++] = 0;
    for (uint32_t v = 2; v < 2 + G + C; v++)
        order[order_n++] = v;
    order[order_n++] = 1;
    for (uint32_t i = 0; i < order_n; i++) {
        uint32_t u = order[i];
        if (pot[u] >= S_INF)
            continue;
        for (uint32_t e = gr->first[u]; e != UINT32_MAX; e = gr->next[e])
            if (gr->e[e].cap > 0 && pot[u] + gr->e[e].cost < pot[gr->e[e].to])
                pot[gr->e[e].to] = pot[u] + gr->e[e].cost;
    }
    free(order);
    for (;;) {
        for (uint32_t v = 0; v < nv; v++) {
            dist[v] = S_INF;
            done[v] = 0;
        }
        size_t hn = 0;
        dist[0] = 0;
        s_heap_push(heap, &hn, 0, 0);
        while (hn) {
            s_hn_t top = s_heap_pop(heap, &hn);
            uint32_t u = top.v;
            if (done[u] || top.d != dist[u])
                continue;
            done[u] = 1;
            if (u == 1)
                break;
            for (uint32_t e = gr->first[u]; e != UINT32_MAX; e = gr->next[e]) {
                const s_edge_t *ed = &gr->e[e];
                (*work)++;
                if (ed->cap <= 0 || pot[ed->to] >= S_INF)
                    continue;
                int64_t nd = dist[u] + ed->cost + pot[u] - pot[ed->to];
                if (nd < dist[ed->to]) {
                    dist[ed->to] = nd;
                    pe[ed->to] = e;
                    s_heap_push(heap, &hn, nd, ed->to);
                }
            }
        }
        if (dist[1] >= S_INF)
            break;
        int64_t cost = dist[1] + pot[1] - pot[0];
        if (cost >= 0)
            break;
        int64_t dt = dist[1];
        for (uint32_t v = 0; v < nv; v++)
            if (pot[v] < S_INF)
                pot[v] += dist[v] < dt ? dist[v] : dt;
        int32_t f = INT32_MAX;
        for (uint32_t v = 1; v != 0; v = gr->e[gr->e[pe[v]].rev].to)
            if (gr->e[pe[v]].cap < f)
                f = gr->e[pe[v]].cap;
        for (uint32_t v = 1; v != 0; v = gr->e[gr->e[pe[v]].rev].to) {
            gr->e[pe[v]].cap -= f;
            gr->e[gr->e[pe[v]].rev].cap += f;
        }
    }
    rc = 0;
out:
    free(pot);
    free(dist);
    free(pe);
    free(done);
    free(heap);
    return rc;
}

static uint32_t s_popcount_common(const uint64_t *a, const uint64_t *b, uint32_t S)
{
    uint32_t n = 0;
    for (uint32_t s = 1; s <= S; s++)
        n += s_bit(a, s) && s_bit(b, s);
    return n;
}

/* How stage 1 treats a GAD in one flow (see s_flow). */
enum {
    S_FREE = 0,  /* no bonus; in a count flow its first `need` units count 1/need each */
    S_BONUS = 1, /* its first `need` units are worth S_BIG (all it can get when need > cap) */
    S_BELOW = 2, /* held below its minimum: at most need - 1 more meetings */
    S_PLAIN = 3, /* no bonus, no count (it cannot reach its minimum, or has reached it) */
};

#define S_COUNT_W 720720LL /* lcm(1..16): a count flow's worth of a GAD's whole minimum */

/* The residual minimum (need) and capacity (cap) of GAD g over what is fixed. */
static void s_need_cap(const s_t *st, uint32_t g, uint32_t *need, uint32_t *cap)
{
    const minga_sched_gad_t *gd = &st->p->gads[g];
    uint32_t av = s_popcount_common(gd->avail, NULL, st->S);
    uint32_t c = gd->max < av ? gd->max : av;
    *cap = c > st->gad_n[g] ? c - st->gad_n[g] : 0;
    *need = gd->min > st->gad_n[g] ? gd->min - st->gad_n[g] : 0;
}

/* Chooses how many more meetings each pair gets (want[pair]) by min-cost flow over what the
 * fixed meetings left, each GAD treated as mode[g] says. A score flow (count false) costs
 * -score per meeting: it maximises the bonus units, then the score. A count flow (count
 * true) has no score: it maximises the bonus units, then the sum over S_FREE GADs of
 * min(meetings, need) / need, the fractional number of GADs at their minimum (an upper
 * bound on the whole number). */
static int s_flow(s_t *st, const uint8_t *mode, bool count, uint32_t *want)
{
    const minga_sched_problem_t *p = st->p;
    uint32_t G = (uint32_t)p->ngads, C = (uint32_t)p->ncoops;
    s_graph_t gr;
    memset(&gr, 0, sizeof gr);
    gr.nv = 2 + G + C;
    gr.first = malloc(gr.nv * sizeof *gr.first);
    uint32_t *pedge = malloc((p->npairs ? p->npairs : 1) * sizeof *pedge);
    int rc = MINGA_ENOMEM;
    if (!gr.first || !pedge)
        goto out;
    for (uint32_t v = 0; v < gr.nv; v++)
        gr.first[v] = UINT32_MAX;
    rc = 0;
    for (uint32_t g = 0; g < G && rc == 0; g++) {
        uint32_t need, cap;
        s_need_cap(st, g, &need, &cap);
        uint32_t first = 0; /* units at the first edge's cost */
        int64_t worth = 0;
        if (mode[g] == S_BONUS) {
            first = need > cap ? cap : need;
            worth = -S_BIG;
        } else if (mode[g] == S_BELOW) {
            cap = need == 0 ? 0 : (need - 1 < cap ? need - 1 : cap);
        } else if (mode[g] == S_FREE && count && need > 0) {
            first = need > cap ? cap : need;
            worth = -((S_COUNT_W + need - 1) / need);
        }
        rc = s_add_edge(&gr, 0, 2 + g, (int32_t)first, worth, NULL);
        if (rc == 0)
            rc = s_add_edge(&gr, 0, 2 + g, (int32_t)(cap - first), 0, NULL);
    }
    for (uint32_t c = 0; c < C && rc == 0; c++) {
        const minga_sched_coop_t *cp = &p->coops[c];
        uint64_t av = (uint64_t)s_popcount_common(cp->avail, NULL, st->S) * cp->tables;
        uint64_t cap = cp->max < av ? cp->max : av;
        cap = cap > st->coop_n[c] ? cap - st->coop_n[c] : 0;
        rc = s_add_edge(&gr, 2 + G + c, 1, (int32_t)cap, 0, NULL);
    }
    for (size_t i = 0; i < p->npairs && rc == 0; i++) {
        const minga_sched_pair_t *pr = &p->pairs[i];
        uint32_t common =
            s_popcount_common(p->gads[pr->gad].avail, p->coops[pr->coop].avail, st->S);
        uint32_t cap = p->per_pair < common ? p->per_pair : common;
        cap = cap > st->pair_n[i] ? cap - st->pair_n[i] : 0;
        int64_t cost = count ? 0 : -(int64_t)pr->score - (pr->must ? S_MUST : 0) - 1;
        rc = s_add_edge(&gr, 2 + pr->gad, 2 + G + pr->coop, (int32_t)cap, cost, &pedge[i]);
    }
    if (rc == 0)
        rc = s_mcf(&gr, G, C, &st->work);
    for (size_t i = 0; i < p->npairs && rc == 0; i++)
        want[i] = pedge[i] == UINT32_MAX ? 0 : (uint32_t)gr.e[gr.e[pedge[i]].rev].cap;
out:
    free(gr.e);
    free(gr.first);
    free(gr.next);
    free(pedge);
    return rc;
}

/* The objective of a choice: GADs at their minimum (of those that can reach it), then the
 * score as the score flow counts it (score, must-meet worth and 1 per meeting). */
typedef struct {
    int64_t at_min, score;
} s_obj_t;

static bool s_obj_better(s_obj_t a, s_obj_t b)
{
    return a.at_min > b.at_min || (a.at_min == b.at_min && a.score > b.score);
}

/* Meetings per GAD (fixed + want) into deg; returns the objective of want. */
static s_obj_t s_eval(const s_t *st, const uint8_t *contested, const uint32_t *want, uint64_t *deg)
{
    const minga_sched_problem_t *p = st->p;
    s_obj_t o = {0, 0};
    for (size_t g = 0; g < p->ngads; g++)
        deg[g] = 0;
    for (size_t i = 0; i < p->npairs; i++) {
        const minga_sched_pair_t *pr = &p->pairs[i];
        deg[pr->gad] += want[i];
        o.score += (int64_t)want[i] * (pr->score + (pr->must ? S_MUST : 0) + 1);
    }
    for (size_t g = 0; g < p->ngads; g++) {
        uint32_t need, cap;
        s_need_cap(st, (uint32_t)g, &need, &cap);
        o.at_min += contested[g] && deg[g] >= need;
    }
    return o;
}

/* Stage 1, heuristic: the minimums counted by GAD, not by meeting. A GAD that cannot reach
 * its minimum (too few candidate meetings) gets no bonus; one that the flow leaves below it
 * loses its bonus and the flow runs again (at most 3 times), so that its meetings go where
 * they complete another GAD's minimum. contested[g] receives whether g has a minimum it
 * might reach. */
static int s_choose_greedy(s_t *st, uint32_t *want, uint8_t *contested)
{
    const minga_sched_problem_t *p = st->p;
    uint8_t *mode = calloc(p->ngads + 1, 1);
    uint64_t *got = calloc(p->ngads + 1, sizeof *got);
    int rc = MINGA_ENOMEM;
    if (!mode || !got)
        goto out;
    for (size_t i = 0; i < p->npairs; i++) {
        const minga_sched_pair_t *pr = &p->pairs[i];
        uint32_t common =
            s_popcount_common(p->gads[pr->gad].avail, p->coops[pr->coop].avail, st->S);
        got[pr->gad] += p->per_pair < common ? p->per_pair : common;
    }
    for (size_t g = 0; g < p->ngads; g++) {
        uint32_t need, cap;
        s_need_cap(st, (uint32_t)g, &need, &cap);
        contested[g] = need > 0 && need <= cap && got[g] >= need;
        mode[g] = got[g] < p->gads[g].min ? S_PLAIN : S_BONUS;
    }
    for (int round = 0; round < 3; round++) {
        if ((rc = s_flow(st, mode, false, want)) != 0)
            goto out;
        for (size_t g = 0; g < p->ngads; g++)
            got[g] = st->gad_n[g];
        for (size_t i = 0; i < p->npairs; i++)
            got[p->pairs[i].gad] += want[i];
        bool again = false;
        for (size_t g = 0; g < p->ngads; g++)
            if (mode[g] == S_BONUS && got[g] < p->gads[g].min && got[g] > st->gad_n[g]) {
                mode[g] = S_PLAIN;
                again = true;
            }
        if (!again)
            break;
    }
out:
    free(mode);
    free(got);
    return rc;
}

/* Stage 1, exact: branch and bound over the GADs that might reach their minimum, each either
 * brought to it (S_BONUS) or held below it (S_BELOW), from the heuristic's choice. At a node,
 * a score flow (the undecided GADs free) gives a choice (a new best when it is better) and
 * the bound on the score; a count flow gives the bound on the GADs at their minimum; the
 * node is cut when the two cannot beat the best. The search stops after S_BB_WORK_MIN +
 * S_BB_WORK_X times the heuristic's work, counted in edges scanned by the flows' Dijkstra (a
 * deterministic budget: a problem always gets the same schedule); r->choice_proven says
 * whether it finished, i.e. whether stage 1's choice is optimal. */
#define S_BB_WORK_MIN 20000000ULL /* edges scanned the search may always spend */
#define S_BB_WORK_X 8             /* and this many times the heuristic's own work */

typedef struct {
    uint8_t *mode; /* per GAD */
} s_node_t;

static int s_choose(s_t *st, uint32_t *want, minga_sched_result_t *r)
{
    const minga_sched_problem_t *p = st->p;
    size_t G = p->ngads;
    uint8_t *contested = calloc(G + 1, 1);
    uint32_t *cur = malloc((p->npairs + 1) * sizeof *cur);
    uint64_t *deg = malloc((G + 1) * sizeof *deg), *cdeg = malloc((G + 1) * sizeof *cdeg);
    s_node_t *stack = NULL;
    size_t sn = 0, ncont = 0;
    int rc = MINGA_ENOMEM;
    if (!contested || !cur || !deg || !cdeg)
        goto out;
    if ((rc = s_choose_greedy(st, want, contested)) != 0)
        goto out;
    s_obj_t best = s_eval(st, contested, want, deg);
    for (size_t g = 0; g < G; g++)
        ncont += contested[g];
    uint64_t flows = 0, budget = st->work + S_BB_WORK_MIN + S_BB_WORK_X * st->work;
    rc = MINGA_ENOMEM;
    /* depth-first: at most ncont + 1 nodes wait on the stack */
    stack = calloc(ncont + 2, sizeof *stack);
    if (!stack)
        goto out;
    for (size_t i = 0; i < ncont + 2; i++)
        if (!(stack[i].mode = malloc(G + 1)))
            goto out;
    for (size_t g = 0; g < G; g++)
        stack[0].mode[g] = contested[g] ? S_FREE : S_PLAIN;
    sn = 1;
    rc = 0;
    bool cut_short = false;
    while (sn > 0) {
        if (st->work > budget) {
            cut_short = true;
            break;
        }
        s_node_t *nd = &stack[--sn];
        uint8_t *mode = nd->mode;
        if ((rc = s_flow(st, mode, false, cur)) != 0)
            goto out;
        flows++;
        s_obj_t o = s_eval(st, contested, cur, deg);
        bool feasible = true;
        int64_t forced = 0;
        for (size_t g = 0; g < G; g++)
            if (mode[g] == S_BONUS) {
                uint32_t need, cap;
                s_need_cap(st, (uint32_t)g, &need, &cap);
                feasible = feasible && deg[g] >= need;
                forced++;
            }
        if (!feasible)
            continue;
        if (s_obj_better(o, best)) {
            best = o;
            memcpy(want, cur, p->npairs * sizeof *want);
        }
        if ((rc = s_flow(st, mode, true, cur)) != 0)
            goto out;
        flows++;
        int64_t gain = 0;
        size_t pick = SIZE_MAX;
        double pick_key = -1;
        for (size_t g = 0; g < G; g++)
            cdeg[g] = 0;
        for (size_t i = 0; i < p->npairs; i++)
            cdeg[p->pairs[i].gad] += cur[i];
        for (size_t g = 0; g < G; g++) {
            if (mode[g] != S_FREE)
                continue;
            uint32_t need, cap;
            s_need_cap(st, (uint32_t)g, &need, &cap);
            double f = cdeg[g] >= need ? 1.0 : (double)cdeg[g] / need;
            gain += (int64_t)(cdeg[g] < need ? cdeg[g] : need) * ((S_COUNT_W + need - 1) / need);
            /* branch on a GAD the count flow leaves part-way, the fullest first; else on one
             * it brings to its minimum and the score flow does not */
            double key = f < 1.0 && f > 0 ? 2.0 + f : (f >= 1.0 && deg[g] < need ? 1.0 : -1);
            if (key > pick_key) {
                pick_key = key;
                pick = g;
            }
        }
        int64_t bound_at_min = forced + gain / S_COUNT_W;
        if (bound_at_min < best.at_min || (bound_at_min == best.at_min && o.score <= best.score))
            continue;
        if (pick == SIZE_MAX || pick_key < 0)
            continue;
        /* children: held below at sn (the popped node's own modes, explored second), brought
         * to the minimum at sn + 1 (first) */
        memcpy(stack[sn + 1].mode, mode, G);
        stack[sn].mode[pick] = S_BELOW;
        stack[sn + 1].mode[pick] = S_BONUS;
        sn += 2;
    }
    r->choice_proven = !cut_short;
    r->choice_flows = flows;
    r->choice_work = st->work;
out:
    if (stack)
        for (size_t i = 0; i < ncont + 2; i++)
            free(stack[i].mode);
    free(stack);
    free(contested);
    free(cur);
    free(deg);
    free(cdeg);
    return rc;
}

/* ---- stage 2 and 3 ---- */

typedef struct {
    const minga_sched_problem_t *p;
    const uint32_t *common;
} s_sort_ctx_t;

static s_sort_ctx_t s_sctx; /* qsort has no context argument; only used under s_sort_pairs */

static int s_cmp_best(const void *a, const void *b)
{
    const minga_sched_pair_t *x = &s_sctx.p->pairs[*(const uint32_t *)a];
    const minga_sched_pair_t *y = &s_sctx.p->pairs[*(const uint32_t *)b];
    if (x->must != y->must)
        return x->must ? -1 : 1;
    if (x->score != y->score)
        return x->score > y->score ? -1 : 1;
    return *(const uint32_t *)a < *(const uint32_t *)b ? -1 : 1;
}

static int s_cmp_tight(const void *a, const void *b)
{
    uint32_t ca = s_sctx.common[*(const uint32_t *)a], cb = s_sctx.common[*(const uint32_t *)b];
    if (ca != cb)
        return ca < cb ? -1 : 1;
    return s_cmp_best(a, b);
}

/* Reserves tables: cooperantes by the worth of their chosen meetings (want), then of their
 * best pairs, while the venue has tables. */
static int s_tables(s_t *st, const uint32_t *want)
{
    const minga_sched_problem_t *p = st->p;
    uint32_t C = (uint32_t)p->ncoops;
    int64_t *worth = calloc(C ? C : 1, sizeof *worth);
    uint32_t *order = malloc((C ? C : 1) * sizeof *order);
    if (!worth || !order) {
        free(worth);
        free(order);
        return MINGA_ENOMEM;
    }
    for (size_t i = 0; i < p->npairs; i++) {
        const minga_sched_pair_t *pr = &p->pairs[i];
        worth[pr->coop] += (want ? (int64_t)want[i] * S_BIG : 0) + pr->score;
    }
    for (uint32_t c = 0; c < C; c++)
        order[c] = c;
    for (uint32_t i = 1; i < C; i++) /* insertion sort by worth, stable */
        for (uint32_t j = i; j > 0 && worth[order[j]] > worth[order[j - 1]]; j--) {
            uint32_t x = order[j];
            order[j] = order[j - 1];
            order[j - 1] = x;
        }
    /* consecutive numbers in the cooperantes' order, for a venue that reads well */
    bool *take = calloc(C ? C : 1, sizeof *take);
    if (!take) {
        free(worth);
        free(order);
        return MINGA_ENOMEM;
    }
    uint32_t free_tables = 0;
    for (uint32_t t = 0; t < st->T; t++)
        free_tables += st->tab_coop[t] == -1;
    for (uint32_t i = 0; i < C; i++) {
        uint32_t c = order[i];
        if (st->coop_first[c] || st->coop_pfirst[c] == st->coop_pfirst[c + 1])
            continue;
        if (p->coops[c].tables <= free_tables) {
            take[c] = true;
            free_tables -= p->coops[c].tables;
        }
    }
    for (uint32_t c = 0; c < C; c++)
        if (take[c])
            s_alloc_tables(st, c);
    free(take);
    free(worth);
    free(order);
    return 0;
}

/* Places want[pair] meetings of every pair, the most constrained pairs first. */
static int s_place_all(s_t *st, const uint32_t *want, minga_sched_result_t *r)
{
    const minga_sched_problem_t *p = st->p;
    uint32_t *order = malloc((p->npairs ? p->npairs : 1) * sizeof *order);
    uint32_t *common = malloc((p->npairs ? p->npairs : 1) * sizeof *common);
    if (!order || !common) {
        free(order);
        free(common);
        return MINGA_ENOMEM;
    }
    size_t n = 0;
    for (size_t i = 0; i < p->npairs; i++) {
        common[i] = s_popcount_common(p->gads[p->pairs[i].gad].avail,
                                      p->coops[p->pairs[i].coop].avail, st->S);
        if (want[i])
            order[n++] = (uint32_t)i;
    }
    s_sctx = (s_sort_ctx_t){p, common};
    qsort(order, n, sizeof *order, s_cmp_tight);
    /* the degree bound: meetings per GAD, and per table of a cooperante */
    uint32_t *deg = calloc(p->ngads + p->ncoops + 1, sizeof *deg);
    if (!deg) {
        free(order);
        free(common);
        return MINGA_ENOMEM;
    }
    for (size_t g = 0; g < p->ngads; g++)
        deg[g] = st->gad_n[g];
    for (size_t c = 0; c < p->ncoops; c++)
        deg[p->ngads + c] = st->coop_n[c];
    for (size_t i = 0; i < p->npairs; i++) {
        deg[p->pairs[i].gad] += want[i];
        deg[p->ngads + p->pairs[i].coop] += want[i];
    }
    st->lim = 0;
    for (size_t g = 0; g < p->ngads; g++)
        st->lim = deg[g] > st->lim ? deg[g] : st->lim;
    for (size_t c = 0; c < p->ncoops; c++) {
        uint32_t R = p->coops[c].tables, d = (deg[p->ngads + c] + R - 1) / R;
        st->lim = d > st->lim ? d : st->lim;
    }
    free(deg);
    for (size_t k = 0; k < n; k++) {
        uint32_t i = order[k];
        for (uint32_t j = 0; j < want[i]; j++) {
            r->flow_meetings++;
            if (!s_room(st, i) || !s_place_edge(st, i, true))
                r->unplaced++;
        }
    }
    free(order);
    free(common);
    return 0;
}

/* Adds meetings from every pair with room, GADs below their minimum first, then best score
 * first. Returns the number added. */
static size_t s_refill(s_t *st, bool repair)
{
    const minga_sched_problem_t *p = st->p;
    uint32_t *order = malloc((p->npairs ? p->npairs : 1) * sizeof *order);
    if (!order)
        return 0;
    for (size_t i = 0; i < p->npairs; i++)
        order[i] = (uint32_t)i;
    s_sctx = (s_sort_ctx_t){p, NULL};
    qsort(order, p->npairs, sizeof *order, s_cmp_best);
    size_t added = 0;
    for (int pass = 0; pass < 2; pass++)
        for (size_t k = 0; k < p->npairs; k++) {
            uint32_t i = order[k];
            const minga_sched_pair_t *pr = &p->pairs[i];
            bool below = st->gad_n[pr->gad] < p->gads[pr->gad].min;
            if ((pass == 0) != below)
                continue;
            while (s_room(st, i) && s_place_edge(st, i, repair))
                added++;
        }
    free(order);
    return added;
}

/* Local search: an unused pair q whose GAD or cooperante is at its maximum replaces that
 * party's worst meeting when q scores more and can be placed; a replaced meeting of a GAD at
 * its minimum is only traded for one of the same GAD. Returns the improvements made. */
static size_t s_improve(s_t *st)
{
    const minga_sched_problem_t *p = st->p;
    size_t improved = 0;
    for (size_t q = 0; q < p->npairs; q++) {
        const minga_sched_pair_t *pq = &p->pairs[q];
        if (st->pair_n[q] >= p->per_pair || !st->coop_first[pq->coop])
            continue;
        bool gfull = st->gad_n[pq->gad] >= p->gads[pq->gad].max;
        bool cfull = st->coop_n[pq->coop] >= p->coops[pq->coop].max;
        if (gfull && cfull)
            continue; /* would need two removals */
        if (!gfull && !cfull)
            continue; /* s_refill could not place it: no room in time */
        /* the worst meeting of the full party */
        uint32_t worst = UINT32_MAX;
        for (size_t mi = 0; mi < st->nm; mi++) {
            const s_meet_t *m = &st->m[mi];
            if (!m->slot)
                continue;
            const minga_sched_pair_t *pm = &p->pairs[m->pair];
            if (gfull ? pm->gad != pq->gad : pm->coop != pq->coop)
                continue;
            if (pm->must || m->pinned)
                continue;
            if (!gfull && st->gad_n[pm->gad] <= p->gads[pm->gad].min)
                continue; /* would put another GAD below its minimum */
            if (worst == UINT32_MAX || pm->score < p->pairs[st->m[worst].pair].score)
                worst = (uint32_t)mi;
        }
        if (worst == UINT32_MAX)
            continue;
        int32_t ws = p->pairs[st->m[worst].pair].score;
        if (pq->score + (pq->must ? S_MUST : 0) <= ws)
            continue;
        uint32_t ws_slot = st->m[worst].slot, ws_table = st->m[worst].table;
        s_unplace(st, worst);
        if (s_room(st, (uint32_t)q) && s_place_edge(st, (uint32_t)q, false)) {
            improved++;
            continue;
        }
        /* put it back where it was (nothing moved without repair) */
        s_place(st, worst, ws_slot, ws_table);
    }
    return improved;
}

/* ---- results ---- */

static int s_cmp_meet(const void *a, const void *b)
{
    const minga_sched_meeting_t *x = a, *y = b;
    if (x->slot != y->slot)
        return x->slot < y->slot ? -1 : 1;
    return x->table < y->table ? -1 : x->table > y->table;
}

static int s_result(s_t *st, minga_sched_result_t *r)
{
    const minga_sched_problem_t *p = st->p;
    size_t n = 0;
    for (size_t i = 0; i < st->nm; i++)
        n += st->m[i].slot != 0;
    size_t G = p->ngads ? p->ngads : 1, C = p->ncoops ? p->ncoops : 1;
    r->meetings = malloc((n ? n : 1) * sizeof *r->meetings);
    r->coop_table_first = malloc(C * sizeof *r->coop_table_first);
    r->gad_meetings = calloc(G, sizeof *r->gad_meetings);
    r->gad_below = calloc(G, sizeof *r->gad_below);
    uint8_t *slot_used = calloc(st->S + 1, 1), *table_used = calloc(st->T + 1, 1);
    int rc = MINGA_ENOMEM;
    if (!r->meetings || !r->coop_table_first || !r->gad_meetings || !r->gad_below || !slot_used ||
        !table_used)
        goto out;
    for (size_t i = 0; i < st->nm; i++) {
        const s_meet_t *m = &st->m[i];
        if (!m->slot)
            continue;
        r->meetings[r->n++] = (minga_sched_meeting_t){m->pair, m->slot, m->table};
        r->total_score += p->pairs[m->pair].score;
        r->slots_used += !slot_used[m->slot];
        slot_used[m->slot] = 1;
        r->tables_used += !table_used[m->table];
        table_used[m->table] = 1;
    }
    qsort(r->meetings, r->n, sizeof *r->meetings, s_cmp_meet);
    memcpy(r->coop_table_first, st->coop_first, p->ncoops * sizeof *st->coop_first);
    for (size_t g = 0; g < p->ngads; g++) {
        r->gad_meetings[g] = st->gad_n[g];
        if (st->gad_n[g] > r->max_degree)
            r->max_degree = st->gad_n[g];
        if (st->gad_n[g] >= p->gads[g].min)
            continue;
        r->gads_below++;
        uint64_t cands = (uint64_t)(st->gad_pfirst[g + 1] - st->gad_pfirst[g]) * p->per_pair;
        uint32_t slots = 0;
        for (uint32_t s = 1; s <= st->S; s++) {
            if (!s_gad_av(st, (uint32_t)g, s))
                continue;
            for (uint32_t k = st->gad_pfirst[g]; k < st->gad_pfirst[g + 1]; k++)
                if (s_coop_av(st, p->pairs[st->pairs_of_gad[k]].coop, s)) {
                    slots++;
                    break;
                }
        }
        r->gad_below[g] = cands < p->gads[g].min   ? MINGA_SCHED_BELOW_CANDIDATES
                          : slots < p->gads[g].min ? MINGA_SCHED_BELOW_AVAILABILITY
                                                   : MINGA_SCHED_BELOW_CAPACITY;
    }
    for (size_t c = 0; c < p->ncoops; c++)
        if (p->coops[c].tables == 1 && st->coop_n[c] > r->max_degree)
            r->max_degree = st->coop_n[c];
    rc = 0;
out:
    free(slot_used);
    free(table_used);
    return rc;
}

int minga_sched_solve(const minga_sched_problem_t *p, minga_sched_result_t *r, char *err,
                      size_t errcap)
{
    memset(r, 0, sizeof *r);
    uint64_t t0 = s_now_us();
    int rc = s_check_problem(p, err, errcap);
    if (rc)
        return rc;
    s_t st;
    uint32_t *want = NULL;
    if ((rc = s_init(&st, p)) != 0 || (rc = s_fixed(&st, r)) != 0)
        goto out;
    if (p->method == MINGA_SCHED_GREEDY) {
        if ((rc = s_tables(&st, NULL)) != 0)
            goto out;
        s_refill(&st, false);
    } else {
        want = calloc(p->npairs ? p->npairs : 1, sizeof *want);
        if (!want) {
            rc = MINGA_ENOMEM;
            goto out;
        }
        if ((rc = s_choose(&st, want, r)) != 0 || (rc = s_tables(&st, want)) != 0 ||
            (rc = s_place_all(&st, want, r)) != 0)
            goto out;
        r->refilled = s_refill(&st, true);
        for (int round = 0; round < 3 && s_improve(&st) > 0; round++)
            r->refilled += s_refill(&st, true);
    }
    rc = s_result(&st, r);
    if (rc == 0 &&
        (rc = minga_sched_check(p, r->meetings, r->n, r->coop_table_first, err, errcap)) != 0) {
        char why[256];
        snprintf(why, sizeof why, "%s", err);
        snprintf(err, errcap, "internal error, the timetable breaks a rule: %s", why);
    }
out:
    if (rc == MINGA_ENOMEM)
        snprintf(err, errcap, "out of memory");
    free(want);
    s_free(&st);
    if (rc)
        minga_sched_result_clear(r);
    r->elapsed_us = s_now_us() - t0;
    return rc;
}

void minga_sched_result_clear(minga_sched_result_t *r)
{
    free(r->meetings);
    free(r->coop_table_first);
    free(r->gad_meetings);
    free(r->gad_below);
    memset(r, 0, sizeof *r);
}

int minga_sched_check(const minga_sched_problem_t *p, const minga_sched_meeting_t *m, size_t n,
                      const uint32_t *coop_table_first, char *err, size_t errcap)
{
    size_t S = p->nslots, T = p->ntables;
    uint32_t *gad_at = calloc(p->ngads * S + 1, sizeof *gad_at);
    uint32_t *tab_at = calloc(T * S + 1, sizeof *tab_at);
    int64_t *tab_owner = malloc((T + 1) * sizeof *tab_owner);
    uint32_t *gn = calloc(p->ngads + 1, sizeof *gn), *cn = calloc(p->ncoops + 1, sizeof *cn);
    uint32_t *pn = calloc(p->npairs + 1, sizeof *pn);
    int rc = MINGA_ENOMEM;
    if (!gad_at || !tab_at || !tab_owner || !gn || !cn || !pn) {
        snprintf(err, errcap, "out of memory");
        goto out;
    }
    for (size_t t = 0; t <= T; t++)
        tab_owner[t] = -1;
    rc = MINGA_EINVAL;
    for (size_t i = 0; i < n; i++) {
        const minga_sched_meeting_t *x = &m[i];
        if (x->pair >= p->npairs || x->slot < 1 || x->slot > S || x->table < 1 || x->table > T) {
            snprintf(err, errcap, "meeting %zu: pair, slot %u or table %u out of range", i, x->slot,
                     x->table);
            goto out;
        }
        const minga_sched_pair_t *pr = &p->pairs[x->pair];
        const minga_sched_coop_t *cp = &p->coops[pr->coop];
        uint32_t first = coop_table_first ? coop_table_first[pr->coop] : 0;
        const char *bad = NULL;
        if (!s_bit(p->gads[pr->gad].avail, x->slot))
            bad = "GAD not available";
        else if (!s_bit(cp->avail, x->slot))
            bad = "cooperante not available";
        else if (gad_at[pr->gad * S + x->slot - 1]++)
            bad = "GAD twice in the slot";
        else if (tab_at[(x->table - 1) * S + x->slot - 1]++)
            bad = "table twice in the slot";
        else if (tab_owner[x->table] != -1 && tab_owner[x->table] != (int64_t)pr->coop)
            bad = "table of another cooperante";
        else if (coop_table_first && (!first || x->table < first || x->table >= first + cp->tables))
            bad = "not one of the cooperante's tables";
        else if (++gn[pr->gad] > p->gads[pr->gad].max)
            bad = "GAD over its maximum";
        else if (++cn[pr->coop] > cp->max)
            bad = "cooperante over its maximum";
        else if (++pn[x->pair] > p->per_pair)
            bad = "pair over its meetings per pair";
        tab_owner[x->table] = (int64_t)pr->coop;
        if (bad) {
            snprintf(err, errcap, "slot %u, table %u, GAD %u, cooperante %u: %s", x->slot, x->table,
                     pr->gad, pr->coop, bad);
            goto out;
        }
    }
    /* a cooperante at most R distinct tables, at most R meetings per slot (follows from the
     * tables when coop_table_first is given; checked directly otherwise) */
    rc = 0;
out:
    free(gad_at);
    free(tab_at);
    free(tab_owner);
    free(gn);
    free(cn);
    free(pn);
    return rc;
}

const char *minga_sched_below_text(int why)
{
    switch (why) {
    case MINGA_SCHED_BELOW_CANDIDATES:
        return "no tiene suficientes candidatos";
    case MINGA_SCHED_BELOW_AVAILABILITY:
        return "sus horarios no coinciden con los de sus candidatos";
    case MINGA_SCHED_BELOW_CAPACITY:
        return "los cooperantes de sus candidatos ya tienen la agenda llena";
    default:
        return "alcanza su mínimo";
    }
}
