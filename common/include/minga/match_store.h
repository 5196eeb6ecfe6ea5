/*
 * match_store.h: an event's candidates in the store — scoring one shard (a range of demands)
 * from one read snapshot, replacing the event's candidates atomically when the last shard of
 * a run is in, and reading them back (export, `minga candidates`, reports).
 *
 * Layout in MINGA_DB_CANDIDATE (keys begin with event[32]):
 *   event + demand id + rank u16          a demand's own candidate (its best k_demand offers,
 *                                         ranks 1..n): {v, demand, gad, offer, cooperante,
 *                                         score (hundredths), reasons: [code << 16 | arg...]}
 *   event + [0x01 gen u64 shard u32] + 0  a shard's result of run gen (staging): its demands'
 *                                         own lists, each marked changed or not against the
 *                                         candidates in place, and its top-K lists per offer
 *   event + [0x02] + 0                    the summary of the run in place: {v, gen, shards,
 *                                         demands, candidates, finished_at}
 *   event + 0x03 + demand id + rank u16   an extra candidate of a demand: a pair in an
 *                                         offer's top K that is not in the demand's own list;
 *                                         it ranks after the own ones (same value)
 * Real demand ids begin with a letter, so the other keys never meet an own candidate's. A run
 * is a generation number chosen by whoever enqueues it; every shard job of the run carries it.
 *
 * Atomic replacement: each shard scores its demands, compares their own lists with those in
 * place in its snapshot (noting the generation in place), and writes its staging record in
 * one write transaction, in which it also looks for the staging records of its run; the one
 * that finds all of them (LMDB serialises write transactions, so exactly one does) merges
 * them in that same transaction: it rewrites the own lists the shards marked changed (every
 * list of a shard that compared against another generation than the one now in place),
 * takes every offer's top K across the shards, writes the extras that changed and deletes
 * those that are gone, writes the summary and deletes the staging records. A re-score of
 * unchanged data thus writes almost nothing, and the merge only walks the offers' lists and
 * the extras: the comparing is done by the shards, in parallel. Readers see the old set or
 * the new one, never a mix.
 * A shard scored again after its run was merged (a lease that expired while the first attempt
 * finished), or a shard of a run older than the one in place, changes nothing; the merge
 * deletes the staging records of its run and of older ones (abandoned runs), so the newest
 * run to complete wins and an older one can no longer replace it.
 *
 * Candidates of a demand: rank 1 is the best (score descending, then offer id ascending).
 */
#ifndef MINGA_MATCH_STORE_H
#define MINGA_MATCH_STORE_H

#include "minga/match_carry.h"
#include "minga/match_rules.h"
#include "minga/store.h"

#include <msgpack.h>

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#define MINGA_MATCH_CANDIDATE_VERSION 1

typedef struct {
    const char *event;
    uint64_t gen;           /* the run */
    uint32_t shard, shards; /* this shard, of how many (1..MINGA_PROTO_MAX_BATCH) */
    const char *from, *to;  /* demands with from <= id < to; NULL or "": no bound */
    minga_match_config_t cfg;
} minga_match_shard_t;

typedef struct {
    size_t demands, offers, active_offers, pairs_kept; /* this shard */
    bool merged;                                       /* this shard completed the run */
    bool already;         /* this run, or a newer one, was merged before: nothing written */
    size_t total_demands; /* when merged: the run's demands and candidates */
    size_t total_candidates;
    uint64_t read_ms, score_ms;    /* reading and preparing, the kernel */
    uint64_t pack_ms;              /* the reasons, and comparing with the candidates in place */
    uint64_t store_ms;             /* the write (waiting for the lock, and the merge included) */
    uint64_t merge_ms;             /* when merged: the merge */
    uint64_t merge_cpu_ms;         /* when merged: the merge's CPU time (this thread's) */
    size_t merge_puts, merge_dels; /* when merged: candidates written and deleted */
} minga_match_shard_result_t;

/* Called with the shard's progress (done of total, a short Spanish text). */
typedef void(minga_match_progress_fn)(uint64_t done, uint64_t total, const char *text, void *arg);

/* Scores one shard and stores its result (see above). Returns 0; MINGA_ENOTFOUND (no such
 * event), MINGA_EINVAL (bad job: err says why), MINGA_EMAPFULL, or another negative code with
 * err saying what failed. progress may be NULL. */
int minga_match_run_shard(minga_store_t *store, const minga_match_shard_t *job,
                          minga_match_progress_fn *progress, void *arg,
                          minga_match_shard_result_t *result, char *err, size_t errcap);

/* Forgets the offers kept between shards: minga_match_run_shard() keeps, per process, the
 * prepared offers, context and kernel of its last shard and uses them again for the next
 * shard of the same event while the event, GADs, offers, participants, preferences and
 * settings are byte for byte the same in the store (a hash of them is compared on every
 * shard). Thread-safe; for tests and for memory. */
void minga_match_cache_clear(void);

/* ---- carried runs (match_carry.h): prepare, shards that see no store, merge ---- */

/* The prepare stage of a carried run (job: event, gen, cfg; shard 0 of shards): reads the
 * event, every offer and demand, the participants, preferences and GADs from one read
 * snapshot, prepares them with job->cfg and appends the blob to blob. result: demands, offers,
 * active_offers, read_ms, pack_ms. Returns 0; MINGA_ENOTFOUND (no such event), MINGA_EINVAL
 * (err says why) or another negative code, err naming what failed. */
int minga_match_prepare(minga_store_t *store, const minga_match_shard_t *job, msgpack_sbuffer *blob,
                        minga_match_shard_result_t *result, char *err, size_t errcap);

/* A carried shard: scores job's range of c's demands against c's offers (no store) and appends
 * its result to out, a msgpack map {v, event, gen, shard, shards, k_offer, demands, offers,
 * active_offers, kept, staging: bin}, staging being the shard's staging record (the format at
 * the top of match_store.c) compared against no generation, so that the merge rewrites its
 * range whole. c's kernel is used: callers serialise calls on one c. Returns 0, MINGA_EINVAL
 * (a job of another event or run than c, or out of range: err says why) or MINGA_ENOMEM. */
int minga_match_score_carried(const minga_match_carried_t *c, const minga_match_shard_t *job,
                              msgpack_sbuffer *out, minga_match_shard_result_t *result, char *err,
                              size_t errcap);

/* The merge stage of a carried run (job: event, gen, shards): checks the n shard results
 * results[i][0..lens[i]) (one per shard of the run, any order: event, gen, shards and K agree,
 * every staging record parses) and, in one write transaction, replaces the event's candidates
 * with them exactly as the last shard of a classic run does (nothing is written when run gen
 * or a newer one is in place: result->already). result: merged, already, total_demands,
 * total_candidates, merge_* and store_ms. Returns 0; MINGA_EFORMAT or MINGA_EINVAL (err names
 * the result and what is wrong), MINGA_EMAPFULL, or another negative code. */
int minga_match_merge_carried(minga_store_t *store, const minga_match_shard_t *job,
                              const uint8_t *const *results, const size_t *lens, size_t n,
                              minga_match_shard_result_t *result, char *err, size_t errcap);

/* One stored candidate (borrowed strings, valid during the callback). */
typedef struct {
    const char *demand, *gad, *offer, *cooperante;
    unsigned rank;
    int32_t score; /* hundredths */
    const uint32_t *reasons;
    size_t nreasons;
} minga_match_candidate_t;

typedef int(minga_match_candidate_fn)(const minga_match_candidate_t *c, void *arg);

/* Calls fn for every candidate of event in key order (demand id, then rank); stops when fn
 * returns non-zero and returns that. Returns 0, or a negative code (a stored candidate that
 * does not decode: MINGA_EFORMAT). */
int minga_match_candidates_each(minga_store_t *store, const char *event,
                                minga_match_candidate_fn *fn, void *arg);

typedef struct {
    uint64_t gen, shards, demands, candidates, finished_at; /* finished_at: ms since epoch */
} minga_match_summary_t;

/* Reads the summary of event's candidates. Returns 0 or MINGA_ENOTFOUND (never scored). */
int minga_match_summary(minga_store_t *store, const char *event, minga_match_summary_t *s);

/* Writes the candidates of event as `minga export candidates` does: CSV (BOM, ';', columns
 * demand_id;gad;offer_id;cooperante;rank;score;reasons, score with '.' and two decimals,
 * reasons' Spanish texts joined by " | ") or, when json, JSON (an array of objects with those keys,
 * reasons an array of texts). *count receives the rows. Returns 0 or a negative code. */
int minga_match_export(minga_store_t *store, const char *event, bool json, FILE *out,
                       size_t *count);

/* "87.25" for 8725 into buf (at least 16 bytes); returns buf. */
char *minga_match_score_text(int32_t score, char *buf, size_t cap);

#endif
