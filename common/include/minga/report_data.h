/*
 * report_data.h: everything the reports of one event show, read from one LMDB read snapshot
 * into memory — the event, the registry (GADs, cooperantes, offers, demands), the event's
 * participants, which demands have candidates, and the meetings that stand with their times
 * — plus the figures the HTML report and its test agree on (meetings per province, per
 * competency, per DAC sector, per modality, per GAD, per slot; cooperantes by demands
 * covered).
 *
 * The CSV, HTML and PDF writers (report_csv.c, report_html.c, pdf_agenda.c) read only this.
 */
#ifndef MINGA_REPORT_DATA_H
#define MINGA_REPORT_DATA_H

#include "minga/record.h"
#include "minga/report.h"
#include "minga/store.h"

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

/* A meeting that stands (scheduled, held, noshow), in key order (slot, then table). Strings
 * are owned by the data set. */
typedef struct {
    unsigned slot, table;
    char gad[8];
    char *cooperante, *demand, *offer;
    int status;            /* minga_meeting_status_t (meeting.h) */
    int32_t score;         /* hundredths */
    uint64_t cancelled_at; /* cancelled meetings: ms since epoch */
    uint32_t *reasons;     /* the candidate's reason codes (minga_match_reason_text) */
    size_t nreasons;
    char start[32], end[32];             /* ISO 8601 with offset */
    char date[16], hhmm[8], end_hhmm[8]; /* "12/11/2026", "09:00", "09:20" */
} minga_report_meeting_t;

typedef struct {
    char *event_id;
    minga_event_t *event;
    minga_gad_t **gads; /* by DPA code */
    size_t ngads;
    minga_cooperante_t **coops; /* by id */
    size_t ncoops;
    minga_offer_t **offers; /* by id */
    size_t noffers;
    minga_demand_t **demands; /* by id: the event's demands */
    size_t ndemands;
    bool *covered; /* parallel to demands: has at least one candidate */
    size_t ncandidates;
    bool scored; /* the event's candidates were computed (a scoring run completed): without
                    it the coverage gap is unknown, and the gap reports say so */
    minga_participant_t **parts; /* the event's participants, by party id */
    size_t nparts;
    minga_report_meeting_t *meetings;
    size_t nmeetings;
    size_t *by_gad, *by_coop;          /* meeting indexes by party, then slot and table */
    minga_report_meeting_t *cancelled; /* the meeting history: cancelled, in sequence order */
    size_t ncancelled;
    unsigned nslots;      /* slots of the event (from its days, hours and slot length) */
    unsigned ntables;     /* tables of the venue: the event's, or the highest one used */
    uint64_t snapshot_ms; /* when the data was read */
} minga_report_data_t;

/* Reads the data of event from the store. Returns 0, MINGA_ENOTFOUND (no such event), or a
 * negative code with err naming what could not be read. Release with
 * minga_report_data_clear(). */
int minga_report_data_load(minga_report_data_t *d, minga_store_t *store, const char *event,
                           char *err, size_t errcap);

void minga_report_data_clear(minga_report_data_t *d);

/* Lookups (NULL when missing). */
const minga_gad_t *minga_report_gad(const minga_report_data_t *d, const char *code);
const minga_cooperante_t *minga_report_coop(const minga_report_data_t *d, const char *id);
const minga_offer_t *minga_report_offer(const minga_report_data_t *d, const char *id);
const minga_demand_t *minga_report_demand(const minga_report_data_t *d, const char *id);

/* A party's display name: the canton's name for a GAD ("Cuenca"), the cooperante's name, or
 * the id itself when unknown (borrowed). */
const char *minga_report_party_name(const minga_report_data_t *d, const char *party);

/* The meetings of party (a GAD's code or a cooperante's id) in time order: *idx receives a
 * borrowed array of indexes into d->meetings; returns their number (0: *idx may be NULL). */
size_t minga_report_party_meetings(const minga_report_data_t *d, const char *party,
                                   const size_t **idx);

/* The Spanish word of a meeting status ("programada"), static. */
const char *minga_report_status_es(int status);

/* The reasons of meeting m as Spanish texts joined by sep into buf; returns buf. */
char *minga_report_reasons(const minga_report_meeting_t *m, const char *sep, char *buf, size_t cap);

/* The local date ("12/11/2026") and start time ("09:20") of slot (from 1), as
 * minga_event_slot_time() (meeting.h) numbers them. Returns 0, or MINGA_EINVAL for a slot
 * outside the event. */
int minga_report_slot_time(const minga_event_t *e, unsigned slot, char *date, size_t datecap,
                           char *hhmm, size_t hhmmcap);

/* "12/11/2026" for "2026-11-12" into buf; returns buf. */
char *minga_report_date_es(const char *iso, char *buf, size_t cap);

/* ---- the figures ---- */

typedef struct {
    const char *code, *label; /* borrowed from the code lists or the data set */
    size_t count;
    double extra; /* what a table shows beside the count (a share, an amount) */
} minga_report_count_t;

typedef struct {
    size_t meetings;
    minga_report_count_t province[MINGA_REPORT_NPROV]; /* in code order */
    minga_report_count_t *competency, *dac, *modality; /* in code order, every code */
    size_t ncompetency, ndac, nmodality;
    /* meetings per GAD participant (GADs with demands when the event has no GAD participant) */
    size_t ngads;
    double *per_gad; /* parallel to gad_codes */
    const char **gad_codes;
    double min, median, max, mean, gini;
    size_t gads_without; /* GADs with no meeting */
    size_t *hist;        /* GADs with k meetings, k = 0..hist_max */
    size_t hist_max;
    size_t *per_slot; /* meetings in slot s (index s-1), nslots entries */
    unsigned nslots, ntables;
    minga_report_count_t *top; /* cooperantes by demands covered, descending, at most 15 */
    size_t ntop;
    minga_report_gap_t gap;
} minga_report_figures_t;

/* Computes the figures of d. Returns 0 or MINGA_ENOMEM; release with
 * minga_report_figures_clear(). */
int minga_report_figures(const minga_report_data_t *d, minga_report_figures_t *f);
void minga_report_figures_clear(minga_report_figures_t *f);

/* ---- writing a file whole ---- */

/* The temporary name of path for the calling thread, "PATH.tmp-PID-TID" (two jobs writing the
 * same event's reports at once never share one), into buf. Returns 0 or -ENAMETOOLONG. */
int minga_report_tmp_path(const char *path, char *buf, size_t cap);

/* Opens the temporary name of path for writing into *out. Returns 0 or -errno. */
int minga_report_file_open(const char *path, FILE **out);

/* Closes out and, when ok is 0 and every write succeeded, renames the temporary file to path;
 * else removes it. Returns ok when it is not 0, else 0 or -errno. */
int minga_report_file_close(FILE *out, const char *path, int ok);

/* ---- the writers (files written whole to path; -errno or a negative code on failure) ---- */

int minga_report_write_meetings_csv(const minga_report_data_t *d, const char *path);
int minga_report_write_candidates_csv(minga_store_t *store, const minga_report_data_t *d,
                                      const char *path);
int minga_report_write_agendas_csv(const minga_report_data_t *d, const char *path);
int minga_report_write_gap_csv(const minga_report_data_t *d, const minga_report_figures_t *f,
                               const char *path);
int minga_report_write_html(const minga_report_data_t *d, const minga_report_figures_t *f,
                            const char *path);

#endif
