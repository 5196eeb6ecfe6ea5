/*
 * agenda.h: a participant's agenda at an event, as data — what `minga agenda`, the notify
 * worker (e-mail, .ics) and the reports (PDF agendas) render. Everything is read from one
 * LMDB read snapshot: the event, the party, its meetings standing (in time order) and its
 * cancelled meetings (from the meeting history), with the names and titles a person reads
 * and the Spanish texts of the reasons the two parties were matched.
 *
 * Ownership: minga_agenda_load() fills a minga_agenda_t whose strings and arrays all belong to
 * it; release them with minga_agenda_free(). Static strings are marked "static".
 */
#ifndef MINGA_AGENDA_H
#define MINGA_AGENDA_H

#include "minga/meeting.h"
#include "minga/record.h"
#include "minga/store.h"

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/* One meeting as the party sees it. */
typedef struct {
    unsigned slot, table;
    minga_slot_time_t time; /* date, start_hm/end_hm ("09:00"), start/end (ISO 8601 + offset) */
    int status;             /* minga_meeting_status_t; MINGA_MEETING_CANCELLED in cancelled[] */
    uint64_t cancelled_at;  /* cancelled only: ms since epoch */
    const char *counterpart_kind; /* static: "gad" or "cooperante" */
    char *counterpart;            /* DPA code or cooperante id */
    char *counterpart_name;       /* "Cuenca" / the agency's name (the id when unknown) */
    char *counterpart_detail;     /* a GAD: "provincia de Azuay"; a cooperante: its country */
    char *demand, *demand_title;  /* the demand that justifies the meeting, and its title */
    char *offer, *offer_title;    /* the offer, and its title */
    int32_t score;                /* hundredths, 0..10000 */
    char **reasons;               /* Spanish texts of the candidate's reasons */
    size_t nreasons;
} minga_agenda_item_t;

typedef struct {
    minga_event_t event; /* the event record: id, name, venue, date_start, date_end, timezone,
                            day_start, day_end, slot_minutes, tables... */
    uint64_t revision;   /* the timetable's revision (meeting.h); 0 when never scheduled */
    /* the party */
    char *party;           /* DPA code or cooperante id */
    const char *kind;      /* static: "gad" or "cooperante" */
    char *name;            /* "Cuenca" or the cooperante's name */
    char *email;           /* the participant's e-mail, else the registry's; may be NULL */
    char *province;        /* a GAD: province code "01"; else NULL */
    char *province_name;   /* a GAD: "Azuay"; else NULL */
    char *country;         /* a cooperante: its country; else NULL */
    bool participant;      /* registered as a participant of the event */
    unsigned min_meetings; /* the participant's (or the event's default for a GAD) */
    unsigned max_meetings; /* the participant's, else the event's */
    unsigned tables;       /* a cooperante's representatives (1 by default); 0 for a GAD */
    /* its meetings standing (scheduled, held, no-show), by slot then table */
    minga_agenda_item_t *items;
    size_t n;
    /* its cancelled meetings, in the order they were cancelled */
    minga_agenda_item_t *cancelled;
    size_t ncancelled;
} minga_agenda_t;

/* Loads the agenda of party (a DPA code or a cooperante id) at event into *agenda (zeroed
 * first). A party with no meeting gets n = 0. Returns 0; MINGA_ENOTFOUND when the event does
 * not exist, or the party is neither a participant, nor in a meeting, nor a known GAD or
 * cooperante; MINGA_EINVAL for a malformed id; or a store code. On error *agenda is freed. */
int minga_agenda_load(minga_store_t *store, const char *event, const char *party,
                      minga_agenda_t *agenda);

/* Frees what agenda owns and zeroes it; accepts a zeroed agenda. */
void minga_agenda_free(minga_agenda_t *agenda);

/* One participant of an event (borrowed strings, valid during the callback). */
typedef struct {
    const char *party;  /* DPA code or cooperante id */
    const char *kind;   /* "gad" or "cooperante" */
    const char *name;   /* GAD or cooperante name (the id when unknown) */
    const char *email;  /* participant's, else registry's; NULL when none */
    bool participant;   /* false: not registered, but in a meeting (attendance not required) */
    unsigned meetings;  /* meetings standing */
    unsigned cancelled; /* meetings in the history */
} minga_agenda_party_t;

typedef int(minga_agenda_party_fn)(const minga_agenda_party_t *p, void *arg);

/* Calls fn for every participant of event (GADs first, by DPA code, then cooperantes by id),
 * including those with no meeting, then for every party in a meeting that is not a registered
 * participant; stops when fn returns non-zero and returns that. Returns 0, MINGA_ENOTFOUND
 * (no such event) or a store code. */
int minga_agenda_parties(minga_store_t *store, const char *event, minga_agenda_party_fn *fn,
                         void *arg);

#endif
