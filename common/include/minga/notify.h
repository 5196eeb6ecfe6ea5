/*
 * notify.h: the agenda e-mails of an event — rendering a participant's agenda (Spanish text
 * and HTML, .ics), deciding its version, and delivering it through the outbox exactly once per
 * version (outbox.h has the state machine, smtp.h the sender, mail.h the MIME builder).
 *
 * A run (minga_notify_run) takes the event's participants (all, one, or one shard of them) in
 * batches. For each batch, one write transaction renders every agenda against the party's
 * latest outbox version: the same content hash means nothing new (a pending one is sent
 * again as stored); another hash makes version latest + 1, recorded pending with its
 * Message-ID and bytes before any try (a pending older version is then superseded). Then each
 * pending message is sent and its outcome written at once, one transaction per message.
 * Temporary errors are tried smtp->tries times with backoff; when a message still fails
 * temporarily the relay is deemed away: the run stops, leaving the rest pending, and says so
 * (the job is retried by the broker and resumes where it stopped).
 *
 * What the participant sees changes the hash: the recipient, the name, every meeting shown
 * (time, table, counterpart, demand, offer, reasons) and the meetings cancelled since an
 * earlier version (a meeting that an earlier version showed and the timetable no longer has:
 * STATUS:CANCELLED in the .ics, listed as cancelled in the text, from then on).
 *
 * Dry run: the same rendering, versions decided as a real run would (unchanged: the latest;
 * changed: latest + 1), written to DIR/PARTY-vVERSION.eml; the store is not written.
 */
#ifndef MINGA_NOTIFY_H
#define MINGA_NOTIFY_H

#include "minga/agenda.h"
#include "minga/proto.h"
#include "minga/smtp.h"
#include "minga/store.h"

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

typedef struct {
    const char *event;
    const char *party;               /* NULL: every participant of the event */
    unsigned shard, shards;          /* the parties whose position % shards == shard (1 shard) */
    const char *dry_run;             /* a directory: write .eml files there, store untouched */
    const minga_smtp_config_t *smtp; /* the relay, sender and Message-ID domain */
    const char *rate_file;           /* shared rate-limit file of the relay, or NULL */
    uint64_t now_ms;                 /* the time written in new records and Date (0: now) */
} minga_notify_job_t;

typedef struct {
    size_t parties;   /* parties taken */
    size_t unchanged; /* latest version already sent (or failed for good) */
    size_t sent;      /* accepted by the relay in this run */
    size_t failed;    /* refused for good in this run (5xx, no or bad address) */
    size_t pending;   /* left pending (the relay went away) */
    size_t versions;  /* new versions made in this run */
    size_t written;   /* .eml files written (dry run) */
    char last_error[512];
} minga_notify_result_t;

typedef void(minga_notify_progress_fn)(uint64_t done, uint64_t total, const char *text, void *arg);

/* Runs job against store. Returns 0 when every message of the job reached an end (sent,
 * failed, unchanged or written); MINGA_ETIMEOUT when the relay stayed away and messages are
 * left pending (res->last_error says why: retry later); MINGA_EREJECTED when the relay refused
 * the session (login, STARTTLS): messages are left pending until the settings are fixed;
 * MINGA_ENOTFOUND for an event or a party that does not exist; MINGA_ESTATE for an event never
 * scheduled (nobody is told "no meetings" before there is a timetable); MINGA_EINVAL for a bad job;
 * or a store / I/O code. err names what and where. */
int minga_notify_run(minga_store_t *store, const minga_notify_job_t *job,
                     minga_notify_progress_fn *progress, void *arg, minga_notify_result_t *res,
                     char *err, size_t errcap);

/* ---- jobs ---- */

/* The notify.agenda job of (event, party or shard of shards, dry_run), into spec (initialised
 * by the caller; its fields become the caller's: minga_jobspec_clear()): the body
 * {event, party | shard + shards, dry_run}, a long lease and many attempts (a relay away for a
 * while is retried by the broker with back-off). party and dry_run may be NULL. Returns 0 or
 * MINGA_ENOMEM. */
int minga_notify_jobspec(const char *event, const char *party, unsigned shard, unsigned shards,
                         const char *dry_run, minga_jobspec_t *spec);

/* Prints, in Spanish, what the n done notify.agenda jobs of one run did, from their results
 * ({event, parties, sent, unchanged, failed, pending, versions, written, dry_run}): sent,
 * unchanged and failed counts, or, for a dry run, where the messages were written; then how
 * to see them (minga outbox). */
void minga_notify_summary_print(FILE *out, const char *event, const minga_job_t *jobs, size_t n);

/* ---- rendering, for the run and the tests ---- */

/* One meeting as the e-mail and the calendar show it (owned strings). */
typedef struct {
    char *uid; /* "EVENT.GAD.COOPERANTE.sSLOT.tTABLE@minga" */
    int64_t start, end;
    unsigned table;
    char *date; /* "2026-11-12" */
    char *start_hm, *end_hm;
    char *counterpart; /* the counterpart's name and detail: "Cuenca (provincia de Azuay)" */
    char *demand, *offer, *reasons; /* titles and "; "-joined reasons (standing ones only) */
    bool cancelled;
} minga_notify_item_t;

typedef struct {
    char *subject, *text, *html, *ics;
    char *to;   /* the recipient's address, NULL when the party has none */
    char *name; /* the recipient's display name */
    minga_notify_item_t *items;
    size_t n;
    uint64_t hash;   /* of what the participant sees (version-independent) */
    uint8_t *packed; /* the items as stored in the outbox (msgpack) */
    size_t packed_len;
} minga_notify_content_t;

/* Renders agenda a as version `version` (subject, SEQUENCE) on top of prev_items (the
 * msgpack items of the latest version, NULL for none: they give the cancelled meetings).
 * stamp is the .ics DTSTAMP. Fills *c (the caller's: minga_notify_content_clear()). Returns
 * 0, MINGA_ENOMEM, or MINGA_ENOTFOUND for a time zone libical does not know. */
int minga_notify_render(const minga_agenda_t *a, const uint8_t *prev_items, size_t prev_len,
                        uint32_t version, int64_t stamp, minga_notify_content_t *c);

void minga_notify_content_clear(minga_notify_content_t *c);

/* The Message-ID of (event, party, version) at domain (NULL: this host's name) into dst. */
void minga_notify_message_id(char *dst, size_t cap, const char *event, const char *party,
                             uint32_t version, const char *domain);

#endif
