/*
 * io.h: records in files — CSV and JSON writers and the importer.
 *
 * CSV as Minga writes it: UTF-8 with a BOM, ';' between fields, a header row with the
 * headers of the record's descriptor table (record.h), fields quoted only when they hold ';',
 * '"' or a line break (import trims values, so none begins or ends with a space), "\n" line
 * ends. JSON: one array of objects, keys = the same headers, numbers as numbers, booleans as
 * booleans, lists as arrays, empty optional fields left out. Import reads both (CSV with ';' or
 * ',', BOM or not, quoted fields with line breaks).
 */
#ifndef MINGA_IO_H
#define MINGA_IO_H

#include "minga/record.h"

#include <stdio.h>

typedef enum { MINGA_FORMAT_CSV, MINGA_FORMAT_JSON } minga_format_t;

typedef struct minga_writer_t minga_writer_t;

/* Starts writing records of type t to out (borrowed, not closed) in format fmt: writes the BOM
 * and header row, or the opening '['. On success *self_p is the caller's. */
int minga_writer_new(minga_writer_t **self_p, FILE *out, const minga_rtype_t *t,
                     minga_format_t fmt);

/* Writes one record. Returns 0 or a negative code (-errno of a failed write). */
int minga_writer_put(minga_writer_t *self, const void *rec);

/* Writes the closing ']' (JSON) and flushes. Returns 0 or -errno. */
int minga_writer_finish(minga_writer_t *self);

/* Frees the writer (does not close out); NULLs *self_p; accepts NULL. */
void minga_writer_destroy(minga_writer_t **self_p);

/* Writes one CSV field (quoted when needed) without separator. */
void minga_csv_put_field(FILE *out, const char *text);

/* ---- export ---- */

/* Writes every record of type t (for per-event types, those of event) from the store to out.
 * *count receives the number written. Returns 0 or a negative code (a stored record that does
 * not decode is an error naming its key, on stderr). */
int minga_export(minga_store_t *store, const minga_rtype_t *t, const char *event,
                 minga_format_t fmt, FILE *out, size_t *count);

/* ---- import ---- */

typedef struct {
    char file[256];
    long line;  /* CSV: line where the row starts (1 = header); JSON: element number from 1 */
    int column; /* CSV: column from 1; JSON: 0 */
    char field[64];
    char message[320];
} minga_import_error_t;

typedef struct {
    const char *event; /* for participants and preferences: the event they belong to */
    const char *who;   /* recorded in the change log; NULL = $USER@host */
    size_t max_errors; /* stop collecting after this many (0 = 50) */
    bool dry_run;      /* validate only */
} minga_import_opts_t;

typedef struct {
    size_t rows;      /* data rows read */
    size_t created;   /* records that did not exist */
    size_t updated;   /* records that changed (each changed field is in the change log) */
    size_t unchanged; /* records identical to the stored ones */
    size_t nerrors;   /* errors found (all of them, even past max_errors) */
    minga_import_error_t *errors; /* the first max_errors, the caller's: free() */
} minga_import_report_t;

/* Imports path (CSV with ';' or ',', UTF-8 with or without BOM; or JSON: an array of objects)
 * as records of type t into the store, all or nothing: when any row is bad, nothing is
 * written, the function returns MINGA_EREJECTED and report->errors names each bad row (file,
 * line, column, field, what is wrong). Other failures (I/O, a full map or disk) return their
 * code and also write nothing. Re-imported records that changed are updated and each changed
 * field is recorded in the change log (MINGA_DB_CHANGE). */
int minga_import_file(minga_store_t *store, const minga_rtype_t *t, const char *path,
                      const minga_import_opts_t *opts, minga_import_report_t *report);

/* Same, from a memory buffer; name is used in messages. */
int minga_import_buffer(minga_store_t *store, const minga_rtype_t *t, const char *name,
                        const char *data, size_t len, const minga_import_opts_t *opts,
                        minga_import_report_t *report);

/* Frees report->errors and zeroes the report. */
void minga_import_report_clear(minga_import_report_t *report);

/* ---- the change log ---- */

typedef struct {
    uint64_t seq;
    char *at; /* ISO 8601 with offset */
    char *who;
    char *kind;  /* "offers" */
    char *id;    /* record id (for per-event records "event/party...") */
    char *field; /* header of the field, or "*" for a created record */
    char *old_value, *new_value;
    char *source; /* "file.csv:12" */
} minga_change_t;

/* Calls fn for every change in order (kind / id filter when not NULL); stops when fn returns
 * non-zero and returns that. */
typedef int(minga_change_fn)(const minga_change_t *change, void *arg);
int minga_changes_each(minga_store_t *store, const char *kind, const char *id, minga_change_fn *fn,
                       void *arg);

#endif
