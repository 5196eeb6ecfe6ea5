/*
 * meeting.h: an event's meetings in the store — the timetable of the rueda (who meets whom,
 * in which slot, at which table), its summary, the history of cancelled meetings, and the
 * times of the event's slots.
 *
 * Layout in MINGA_DB_MEETING (key event[32] + slot u16 + table u16, big-endian):
 *   event + slot (1..) + table (1..)  a meeting standing: scheduled, held or no-show (the
 *                                     record below, schema schemas/records/meeting.json)
 *   event + 0 + 0                     the schedule's summary (minga_meeting_summary_t)
 * Layout in MINGA_DB_MEETING_HISTORY (key event[32] + seq u64):
 *   event + seq (1..)                 a meeting that was cancelled (by `minga meeting
 *                                     cancel`, or dropped by a re-schedule), with its
 *                                     cancelled_at; seq grows by one per entry.
 *
 * Invariants:
 *  1. Slots and tables count from 1; a meeting's key is its (slot, table): a table holds at
 *     most one meeting per slot.
 *  2. Every write (replace, status, cancel) is one write transaction and bumps the summary's
 *     revision by one: readers see a whole timetable, and a changed revision tells the notify
 *     worker that agendas may have changed.
 *  3. Meetings are read back in key order: slot, then table.
 *
 * Slot times: slot 1 is the first slot of the first day (date_start at day_start); each day
 * holds floor((day_end - day_start) / slot_minutes) slots; numbering continues across days.
 * Times are local to the event's time zone, written ISO 8601 with its offset
 * ("2026-11-12T09:00:00-05:00").
 */
#ifndef MINGA_MEETING_H
#define MINGA_MEETING_H

#include "minga/match_rules.h"
#include "minga/record.h"
#include "minga/store.h"

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#define MINGA_MEETING_VERSION 1

typedef enum {
    MINGA_MEETING_SCHEDULED = 0,
    MINGA_MEETING_HELD = 1,
    MINGA_MEETING_NOSHOW = 2,
    MINGA_MEETING_CANCELLED = 3, /* only in the history */
} minga_meeting_status_t;

/* One meeting. Plain data: no pointers, copy it freely. Strings are NUL-terminated. */
typedef struct {
    uint16_t slot, table;
    char gad[5];                       /* DPA code, 4 digits */
    char cooperante[MINGA_KEY_ID + 1]; /* cooperante id */
    char demand[MINGA_KEY_ID + 1];     /* the demand and offer of the candidate that */
    char offer[MINGA_KEY_ID + 1];      /* justifies the meeting */
    int32_t score;                     /* that candidate's score, hundredths */
    uint8_t status;                    /* minga_meeting_status_t */
    uint8_t nreasons;                  /* the candidate's reasons (match_rules.h codes) */
    uint32_t reasons[MINGA_MATCH_REASONS_MAX];
    uint64_t cancelled_at; /* history only: ms since epoch */
    uint64_t seq;          /* history only: its sequence number */
} minga_meeting_t;

/* The schedule's summary, written with each whole schedule (replace) and kept by the other
 * writes, which only bump revision. */
typedef struct {
    uint64_t revision;     /* 1 for the first schedule, +1 per write of any kind */
    uint64_t meetings;     /* meetings standing */
    uint64_t total_score;  /* their scores added, hundredths */
    uint64_t gads;         /* GADs that take part */
    uint64_t gads_below;   /* GADs below their minimum */
    uint64_t slots_used;   /* slots with at least one meeting */
    uint64_t tables_used;  /* distinct tables with at least one meeting */
    uint64_t scheduled_at; /* ms since epoch of the last replace */
    uint64_t elapsed_ms;   /* time the scheduler took */
} minga_meeting_summary_t;

/* "scheduled", "held", "noshow", "cancelled" (static); NULL for another value. */
const char *minga_meeting_status_name(int status);
/* The status named name, or -1. */
int minga_meeting_status_parse(const char *name);
/* Spanish: "programada", "realizada", "no asistió", "cancelada" (static). */
const char *minga_meeting_status_text(int status);

/* ---- slot times ---- */

typedef struct {
    unsigned day;       /* 0-based day of the event */
    char date[11];      /* "2026-11-12" */
    char start_hm[6];   /* "09:00" */
    char end_hm[6];     /* "09:20" */
    char start[32];     /* "2026-11-12T09:00:00-05:00" */
    char end[32];       /* "2026-11-12T09:20:00-05:00" */
    int utc_offset_min; /* -300 */
} minga_slot_time_t;

/* Slots per day and in all of ev (0 when the event's fields are not usable). */
unsigned minga_event_slots_per_day(const minga_event_t *ev);
unsigned minga_event_slots(const minga_event_t *ev);

/* The times of slot (1..minga_event_slots(ev)) of ev into *out. Returns 0, or MINGA_EINVAL
 * for a slot out of range, a malformed date/time, or a time zone it does not know (it knows
 * America/Guayaquil -05:00, Pacific/Galapagos -06:00 and UTC). */
int minga_event_slot_time(const minga_event_t *ev, unsigned slot, minga_slot_time_t *out);

/* Reads event id into *ev (the caller's: minga_record_clear(&minga_rtype_event, ev)), in txn
 * when not NULL, else in a read transaction of its own. Returns 0, MINGA_ENOTFOUND or
 * MINGA_EFORMAT. */
int minga_event_load(minga_store_t *store, MDB_txn *txn, const char *id, minga_event_t *ev);

/* ---- writing ---- */

/* Replaces the whole timetable of event by the n meetings m (any order; their status is kept
 * as given, cancelled_at/seq ignored) and writes summary (revision set to the old one + 1),
 * in one write transaction. When history is true, every meeting of the old timetable that is
 * not in the new one at the same (slot, table) with the same GAD and cooperante moves to the
 * history as cancelled. Returns 0, MINGA_EINVAL (a bad event id, slot or table 0, two
 * meetings at one (slot, table)), MINGA_EMAPFULL or another store code. */
int minga_meeting_replace(minga_store_t *store, const char *event, const minga_meeting_t *m,
                          size_t n, const minga_meeting_summary_t *summary, bool history);

/* Sets the status (scheduled, held or noshow) of the meeting at (slot, table). Returns 0,
 * MINGA_ENOTFOUND (no meeting there), MINGA_EINVAL (bad status) or a store code. */
int minga_meeting_set_status(minga_store_t *store, const char *event, unsigned slot, unsigned table,
                             int status);

/* Cancels the meeting at (slot, table): removes it from the timetable (its slot and table
 * are free again) and appends it to the history with status cancelled and cancelled_at now;
 * *out (may be NULL) receives it. Returns 0, MINGA_ENOTFOUND or a store code. */
int minga_meeting_cancel(minga_store_t *store, const char *event, unsigned slot, unsigned table,
                         minga_meeting_t *out);

/* ---- reading ---- */

typedef int(minga_meeting_fn)(const minga_meeting_t *m, void *arg);

/* Calls fn for each meeting of event in key order (slot, then table); stops when fn returns
 * non-zero and returns that. txn may be NULL (a read transaction of its own). Returns 0 or a
 * negative code (MINGA_EFORMAT: a stored meeting that does not decode). */
int minga_meetings_each(minga_store_t *store, MDB_txn *txn, const char *event, minga_meeting_fn *fn,
                        void *arg);

/* Same for the history, in sequence order (status cancelled, cancelled_at and seq set). */
int minga_meeting_history_each(minga_store_t *store, MDB_txn *txn, const char *event,
                               minga_meeting_fn *fn, void *arg);

/* Reads the meeting at (slot, table). Returns 0 or MINGA_ENOTFOUND. */
int minga_meeting_get(minga_store_t *store, const char *event, unsigned slot, unsigned table,
                      minga_meeting_t *out);

/* Reads the summary. Returns 0 or MINGA_ENOTFOUND (never scheduled). txn may be NULL. */
int minga_meeting_summary(minga_store_t *store, MDB_txn *txn, const char *event,
                          minga_meeting_summary_t *s);

/* Encodes / decodes one meeting's stored value ({"v": 1, slot, table, gad, cooperante,
 * demand, offer, score, status, reasons, [cancelled_at]}). decode returns 0, MINGA_EFORMAT
 * or MINGA_EVERSION; encode appends to sb and returns 0 or MINGA_ENOMEM. */
int minga_meeting_encode(const minga_meeting_t *m, msgpack_sbuffer *sb);
int minga_meeting_decode(const void *buf, size_t len, minga_meeting_t *m);

/* ---- export ---- */

/* Writes the meetings of event as `minga export meetings` does: CSV (BOM, ';', columns
 * slot;start;end;table;gad;cooperante;demand_id;offer_id;score;status, score with '.' and two
 * decimals) or, when json, a JSON array of objects with those keys (slot, table numbers;
 * score a number). Ordered by slot then table. *count receives the rows. Returns 0,
 * MINGA_ENOTFOUND (no such event) or another negative code. */
int minga_meeting_export(minga_store_t *store, const char *event, bool json, FILE *out,
                         size_t *count);

#endif
