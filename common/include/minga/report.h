/*
 * report.h: the reports of an event (DESIGN.md §8, issue 8) — what AME takes away from a
 * rueda and what the venue prints — written into STORE/reports/EVENT/:
 *
 *   reuniones.csv    the meetings that stand, the rows and order of `minga export meetings`
 *   candidatos.csv   the candidates, the rows and order of `minga export candidates`
 *   agendas.csv      every participant's agenda, one row per meeting (or one saying it has none)
 *   brecha.csv       the coverage gap: each demand for which no offer passed the gates
 *   informe.html     the event report: one self-contained page, inline CSS and SVG charts
 *   agendas/P.pdf    one printable agenda per participant P (A4)
 *   grilla.pdf       the venue's master grid, slot x table (A4 landscape)
 *
 * The files are for people: Spanish headers, decimal commas, local dates (dd/mm/aaaa) and
 * times (HH:MM), CSV with a UTF-8 BOM and ';' (what Excel reads in Spanish locales).
 *
 * Each written file (the agendas as one entry "agendas") is recorded in MINGA_DB_REPORT under
 * key event[32] + kind[32] (kind = the file name), value {v, event, kind, path, files, bytes,
 * created_at (ms since epoch), job (the source job id, 0 outside a job), formats}
 * (schemas/records/report.json). Files are written under a temporary name and renamed into
 * place, so a reader never sees half a file.
 *
 * The pure pieces (formats, Gini, median, the gap) are separate functions so the unit tests
 * reach them without a store.
 */
#ifndef MINGA_REPORT_H
#define MINGA_REPORT_H

#include "minga/proto.h"
#include "minga/record.h"
#include "minga/store.h"

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#define MINGA_REPORT_VERSION 1

enum {
    MINGA_REPORT_CSV = 1u << 0,
    MINGA_REPORT_HTML = 1u << 1,
    MINGA_REPORT_PDF = 1u << 2,
    MINGA_REPORT_ALL = 7u,
};

/* Parses "csv,html,pdf" (any of them, any order, "all" for the three) into *formats. Returns
 * 0, or MINGA_EINVAL with err naming the word that is not a format. */
int minga_report_formats_parse(const char *text, unsigned *formats, char *err, size_t errcap);

/* Writes "csv,html,pdf" (the formats present) into buf; returns buf. */
char *minga_report_formats_text(unsigned formats, char *buf, size_t cap);

/* ---- figures ---- */

/* The Gini coefficient of the n values (>= 0): 0 when all are equal (or n < 2, or they sum to
 * 0), approaching 1 when one holds everything. G = sum_i (2i - n - 1) x_(i) / (n sum x), x
 * sorted ascending, i from 1. */
double minga_report_gini(const double *values, size_t n);

/* The median of the n values (the mean of the two middle ones when n is even); 0 for n = 0. */
double minga_report_median(const double *values, size_t n);

/* ---- the coverage gap ---- */

#define MINGA_REPORT_NCOMP 14 /* COOTAD art. 55, literals a..n */
#define MINGA_REPORT_NPROV 24 /* INEC provinces 01..24 */

typedef struct {
    size_t demands;   /* demands of the event */
    size_t uncovered; /* of them, demands with no candidate */
    uint64_t amount;  /* USD the uncovered demands need */
    size_t by_comp[MINGA_REPORT_NCOMP];
    size_t by_prov[MINGA_REPORT_NPROV];
    size_t cell[MINGA_REPORT_NCOMP][MINGA_REPORT_NPROV]; /* competency x province */
    size_t other; /* uncovered demands whose competency or province is not in the lists */
    size_t *list; /* indexes of the uncovered demands, by competency, province, then id */
} minga_report_gap_t;

/* Fills *gap from the n demands and covered[i] (demand i has at least one candidate). The
 * province of a demand is the first two digits of its GAD's DPA code. Returns 0 or
 * MINGA_ENOMEM; release with minga_report_gap_clear(). */
int minga_report_gap(const minga_demand_t *const *demands, size_t n, const bool *covered,
                     minga_report_gap_t *gap);
void minga_report_gap_clear(minga_report_gap_t *gap);

/* Index 0..13 of a competency code "a".."n", 0..23 of a province "01".."24"; -1 otherwise. */
int minga_report_comp_index(const char *code);
int minga_report_prov_index(const char *code);

/* ---- producing them ---- */

typedef struct {
    char kind[40];  /* "reuniones.csv", ..., "agendas" for the directory of agendas */
    char *path;     /* absolute path (for "agendas" the directory) */
    uint64_t bytes; /* size (all the agendas together) */
    size_t files;   /* 1, or the number of agendas */
} minga_report_file_t;

typedef struct {
    minga_report_file_t *files; /* in the order written */
    size_t nfiles;
    char *dir;                             /* STORE/reports/EVENT, absolute */
    size_t meetings, participants, gap;    /* figures of the event, for the summary */
    uint64_t csv_ms, html_ms, pdf_ms;      /* time per format */
    uint64_t read_ms, agendas_ms, grid_ms; /* reading the data; the PDF agendas; the grid */
    unsigned threads;                      /* threads that wrote the agendas */
} minga_report_result_t;

/* Progress: done of total steps, and a short Spanish text. */
typedef void(minga_report_progress_fn)(uint64_t done, uint64_t total, const char *text, void *arg);

/* Writes the reports of event in the given formats into STORE/reports/EVENT/ (created if
 * missing) from one read snapshot (the agendas by up to 4 threads, one per processor, or
 * $MINGA_REPORT_THREADS), and records each in the store with job as its source.
 * progress may be NULL. On success res (zeroed by the caller) holds what was written, the
 * caller's to release with minga_report_result_clear(). Returns 0; MINGA_ENOTFOUND (no such
 * event); MINGA_EINVAL (bad arguments); MINGA_EMAPFULL; -errno of a file that could not be
 * written; or another negative code; err then says what and where. */
int minga_report_event(minga_store_t *store, const char *event, unsigned formats, uint64_t job,
                       minga_report_progress_fn *progress, void *arg, minga_report_result_t *res,
                       char *err, size_t errcap);

void minga_report_result_clear(minga_report_result_t *res);

/* The job that writes event's reports in formats: spec (initialised by the caller) receives
 * type report.event, the body {event, formats} and a lease long enough for a large event.
 * Returns 0 or MINGA_ENOMEM. For `minga report` and the report stage of `minga rueda run`. */
int minga_report_jobspec(const char *event, unsigned formats, minga_jobspec_t *spec);

/* Prints, in Spanish, what a done report.event job wrote, from its result (msgpack bytes:
 * {event, dir, files, meetings, participants, gap}): the directory, then each file's path
 * on a line of its own. Returns 0, or MINGA_EFORMAT for a result that is not one. */
int minga_report_summary_print(FILE *out, const uint8_t *result, size_t len);

/* A report recorded in the store (borrowed strings, valid during the callback). */
typedef struct {
    const char *event, *kind, *path;
    uint64_t files, bytes, created_at, job;
} minga_report_record_t;

typedef int(minga_report_record_fn)(const minga_report_record_t *rec, void *arg);

/* Calls fn for each report recorded for event, in kind order; stops when fn returns non-zero
 * and returns that. Returns 0 or a negative code. */
int minga_report_records_each(minga_store_t *store, const char *event, minga_report_record_fn *fn,
                              void *arg);

#endif
