/*
 * schedule.h: the rueda's scheduler, pure and in memory — a problem (GADs, cooperantes,
 * candidate pairs, slots, tables) in, meetings (pair, slot, table) out. No store, no I/O:
 * schedule_store.c builds the problem from the store and writes the result back.
 *
 * The problem (DESIGN.md §7):
 *   - slots 1..nslots; tables 1..ntables across the venue;
 *   - a GAD meets at most once per slot, only in its available slots, between min (a target)
 *     and max (a hard limit) meetings in all;
 *   - a cooperante with R = tables representatives holds R tables of its own for the whole
 *     event (consecutive numbers) and meets at most R GADs per slot, only in its available
 *     slots, at most max meetings in all; a cooperante that gets no table meets nobody;
 *   - only the candidate pairs given meet, each at most per_pair times;
 *   - a meeting sits at one of its cooperante's tables, one meeting per (slot, table).
 * Objective, in this order: the most GADs at or above their minimum; then the greatest total
 * score (pairs with must set count first among equals).
 *
 * Method (MINGA_SCHED_FLOW, the default):
 *   1. choose: a min-cost flow b-matching source -> GAD -> pair -> cooperante -> sink, costs
 *      -score per meeting, capacities from max, per_pair and availability. Minimums count by
 *      GAD, not by meeting, so a bonus per meeting up to the minimum is only the start (the
 *      heuristic: each GAD's first min units worth more than any score, bonuses withdrawn
 *      from GADs the flow leaves part-way); then a branch and bound over the GADs that might
 *      reach their minimum (each brought to it or held below it), bounded by a score flow and
 *      by a count flow (the fractional number of GADs at their minimum), finds the
 *      lexicographic optimum within a deterministic budget (result: choice_proven);
 *   2. place: each cooperante is split into R copies (its tables), its chosen meetings dealt
 *      to them; slots are coloured greedily, then by alternating-path (Kempe chain) repair
 *      within availability; what cannot be placed is dropped;
 *   3. refill and improve: free capacity is filled from the remaining candidate pairs (best
 *      first, repairing as in 2), then a local search swaps a meeting for a better pair where
 *      that keeps every rule.
 * MINGA_SCHED_GREEDY is the usual baseline: pairs by decreasing score, each in the first slot
 * and table free for both.
 * Fixed meetings (a re-schedule) are kept exactly where they are when they still obey the
 * rules; the rest is scheduled around them.
 */
#ifndef MINGA_SCHEDULE_H
#define MINGA_SCHEDULE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/* A set of slots: bit s-1 of word (s-1)/64 is slot s. */
#define MINGA_SCHED_WORDS(nslots) (((size_t)(nslots) + 63) / 64)

typedef struct {
    uint32_t min, max;
    const uint64_t *avail; /* MINGA_SCHED_WORDS(nslots) words; NULL = every slot */
} minga_sched_gad_t;

typedef struct {
    uint32_t max;
    uint32_t tables;       /* R >= 1 */
    const uint64_t *avail; /* NULL = every slot */
    uint32_t table_first;  /* its tables from a previous schedule (re-schedule); 0 = any */
} minga_sched_coop_t;

typedef struct {
    uint32_t gad, coop; /* indexes into the problem's arrays */
    int32_t score;      /* hundredths, >= 0 */
    bool must;          /* a must-meet preference */
} minga_sched_pair_t;

typedef struct {
    uint32_t pair; /* index into the problem's pairs */
    uint16_t slot, table;
} minga_sched_meeting_t;

typedef enum { MINGA_SCHED_FLOW = 0, MINGA_SCHED_GREEDY = 1 } minga_sched_method_t;

typedef struct {
    uint32_t nslots;   /* 1..65535 */
    uint32_t ntables;  /* 1..65535 */
    uint32_t per_pair; /* >= 1 */
    const minga_sched_gad_t *gads;
    size_t ngads;
    const minga_sched_coop_t *coops;
    size_t ncoops;
    const minga_sched_pair_t *pairs; /* at most one per (gad, coop) */
    size_t npairs;
    const minga_sched_meeting_t *fixed; /* meetings to keep (may break rules: then dropped) */
    size_t nfixed;
    minga_sched_method_t method;
} minga_sched_problem_t;

/* Why a GAD is below its minimum. */
typedef enum {
    MINGA_SCHED_OK = 0,
    MINGA_SCHED_BELOW_CANDIDATES,   /* fewer candidate pairs (x per_pair) than its minimum */
    MINGA_SCHED_BELOW_AVAILABILITY, /* fewer slots shared with its candidates than its minimum */
    MINGA_SCHED_BELOW_CAPACITY,     /* its candidates' cooperantes are full (or have no table) */
} minga_sched_below_t;

typedef struct {
    minga_sched_meeting_t *meetings; /* n meetings, by slot then table */
    size_t n;
    uint32_t *coop_table_first; /* per cooperante: its first table, 0 = no table */
    uint32_t *gad_meetings;     /* per GAD: meetings */
    uint8_t *gad_below;         /* per GAD: minga_sched_below_t */
    int64_t total_score;
    size_t gads_below;     /* GADs with min > 0 below it */
    size_t slots_used;     /* distinct slots with a meeting */
    size_t tables_used;    /* distinct tables with a meeting */
    size_t max_degree;     /* the largest number of meetings of one party (R = 1 cooperantes
                              and GADs) */
    size_t fixed_kept;     /* fixed meetings kept */
    size_t fixed_dropped;  /* fixed meetings that broke a rule */
    size_t flow_meetings;  /* chosen by stage 1 */
    size_t unplaced;       /* chosen by stage 1 but not placed in stage 2 */
    size_t refilled;       /* added in stage 3 */
    bool choice_proven;    /* stage 1's choice is optimal (its search finished in its budget) */
    uint64_t choice_flows; /* flows stage 1's search ran */
    uint64_t choice_work;  /* edges their Dijkstra scanned */
    uint64_t elapsed_us;
} minga_sched_result_t;

/* Solves problem p into *r (zeroed first; the caller's: minga_sched_result_clear()). Returns
 * 0, MINGA_EINVAL (a malformed problem: err says what, e.g. a pair naming a GAD out of range)
 * or MINGA_ENOMEM. Every meeting in r obeys every rule above. */
int minga_sched_solve(const minga_sched_problem_t *p, minga_sched_result_t *r, char *err,
                      size_t errcap);

/* Frees what r owns and zeroes it. */
void minga_sched_result_clear(minga_sched_result_t *r);

/* Checks meetings m[0..n) against p's rules; returns 0 or MINGA_EINVAL with the first
 * violation in err. For tests and as the solver's own final check. */
int minga_sched_check(const minga_sched_problem_t *p, const minga_sched_meeting_t *m, size_t n,
                      const uint32_t *coop_table_first, char *err, size_t errcap);

/* Spanish text of a minga_sched_below_t (static). */
const char *minga_sched_below_text(int why);

#endif
