/*
 * schedule_store.h: scheduling an event from the store — reads the event, its participants,
 * preferences, candidates (and, for a re-schedule, the meetings standing) from one read
 * snapshot, builds the problem of schedule.h, solves it, and replaces the event's timetable
 * (meeting.h) in one write transaction. Used by the match worker's match.schedule handler;
 * the tests call it directly too.
 *
 * How the store becomes a problem:
 *   - slots: minga_event_slots(); tables: the event's `mesas`; per pair: `reuniones_por_par`
 *     (1 when empty);
 *   - a GAD takes part when it is a participant of kind gad: min = its min_meetings, else the
 *     event's mín_reuniones_gad; max = its max_meetings; availability = its available_slots
 *     (empty: all);
 *   - a cooperante takes part when it is a participant of kind cooperante (R = its tables, 1
 *     when empty), or, when the event does not require attendance, when it has a candidate
 *     (then R = 1, every slot, the event's maximum);
 *   - a pair (GAD, cooperante) is a candidate pair of two parties that take part and no "no"
 *     preference between them; its score, demand, offer and reasons are those of its best
 *     candidate (highest score, then lowest demand id, then lowest offer id); must is set by
 *     an "obligatoria" preference either way;
 *   - re-schedule: every meeting standing is offered as fixed; it stays in its slot and table
 *     (with its status) when its pair still exists and it still obeys every rule, else it
 *     moves to the history as cancelled; the holes are then filled, never with a pair whose
 *     meeting was cancelled before (it is in the history) and that has no meeting standing.
 */
#ifndef MINGA_SCHEDULE_STORE_H
#define MINGA_SCHEDULE_STORE_H

#include "minga/meeting.h"
#include "minga/schedule.h"
#include "minga/store.h"

#include <msgpack.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>

typedef struct {
    bool reschedule;             /* keep the meetings standing that are still valid */
    minga_sched_method_t method; /* MINGA_SCHED_FLOW (default) or the greedy baseline */
} minga_schedule_opts_t;

typedef struct {
    char gad[5];
    char name[128];
    uint32_t meetings, min;
    uint8_t why; /* minga_sched_below_t */
} minga_schedule_below_t;

typedef struct {
    char event[MINGA_KEY_ID + 1];
    minga_meeting_summary_t summary; /* as written (revision included) */
    size_t gads, coops, pairs, candidates;
    size_t slots, tables;      /* the event's */
    size_t coops_no_table;     /* cooperantes with candidates that got no table */
    size_t kept, dropped;      /* re-schedule: meetings kept / moved to the history */
    size_t unplaced, refilled; /* the solver's stage figures */
    bool choice_proven;        /* stage 1's choice is proven optimal */
    uint64_t choice_flows;     /* flows its search ran */
    size_t max_degree;
    bool reschedule;
    minga_schedule_below_t *below; /* GADs below their minimum (the caller's: clear) */
    size_t nbelow;
    uint64_t read_ms, solve_ms, store_ms;
} minga_schedule_report_t;

/* Called with progress: done of total steps and a short Spanish text. */
typedef void(minga_schedule_progress_fn)(uint64_t done, uint64_t total, const char *text,
                                         void *arg);

/* Schedules (or re-schedules) event. Returns 0; MINGA_ENOTFOUND (no such event: err says so),
 * MINGA_EINVAL (an event that cannot hold a slot, or an unknown time zone), MINGA_EMAPFULL, or
 * another negative code, with err saying what failed. progress may be NULL. *report is the
 * caller's: minga_schedule_report_clear(). */
int minga_schedule_run(minga_store_t *store, const char *event, const minga_schedule_opts_t *opts,
                       minga_schedule_progress_fn *progress, void *arg,
                       minga_schedule_report_t *report, char *err, size_t errcap);

void minga_schedule_report_clear(minga_schedule_report_t *report);

/* Packs the report as the match.schedule job's result: a map {event, reschedule, revision,
 * meetings, total_score, gads, gads_at_minimum, gads_below, below: [{gad, name, meetings,
 * min, why}], cooperantes, pairs, candidates, slots, slots_used, tables, tables_used,
 * coops_no_table, max_degree, kept, dropped, unplaced, refilled, choice_proven,
 * choice_flows, read_ms, solve_ms, store_ms}. Returns 0 or -1. */
int minga_schedule_report_pack(const minga_schedule_report_t *report, msgpack_packer *pk);

/* Prints the Spanish summary of a match.schedule result (the map above) to out. */
void minga_schedule_summary_print(FILE *out, const msgpack_object *result);

#endif
