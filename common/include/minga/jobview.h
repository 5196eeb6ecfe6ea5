/*
 * jobview.h: how the command line shows jobs, workers and stats — the human text (Spanish
 * labels), the one-object-per-line JSON of `--json` (field names of PROTOCOL.md), and the
 * wait with a live progress bar on a terminal (plain lines otherwise).
 */
#ifndef MINGA_JOBVIEW_H
#define MINGA_JOBVIEW_H

#include "minga/client.h"

#include <stdbool.h>
#include <stdio.h>

/* Writes job as one JSON object on one line (with its body when with_body). Returns 0 or
 * -errno of a failed write. */
int minga_jobview_json(FILE *out, const minga_job_t *job, bool with_body);

/* Writes json (borrowed) compactly on one line. Returns 0 or -errno. */
int minga_jobview_json_line(FILE *out, const json_t *json);

/* Writes the job for a person, one "campo: valor" per line. */
void minga_jobview_print(FILE *out, const minga_job_t *job);

/* Writes the header of the job table, then one row per job. */
void minga_jobview_table_header(FILE *out);
void minga_jobview_table_row(FILE *out, const minga_job_t *job);

/* Waits for job id to end, showing its progress on stderr (a bar redrawn in place when stderr
 * is a terminal, one line per change otherwise), and leaves the final job in *job (initialised
 * by the caller). Returns 0 when the job ended (in any end state) or the client's error code
 * (the message has been printed on stderr, prefixed with who). */
int minga_jobview_wait(minga_client_t *client, uint64_t id, const char *who, minga_job_t *job);

/* The exit status a waiting command gives for an ended job: 0 for done, 1 for dead or
 * cancelled (with a line on stderr naming the job, its state and its last error). */
int minga_jobview_exit_status(const minga_job_t *job, const char *who);

/* Parses a job id (a decimal integer >= 1). Returns 0 or MINGA_EINVAL. */
int minga_jobview_parse_id(const char *text, uint64_t *id);

#endif
