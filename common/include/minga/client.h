/*
 * client.h: the client API of the broker's client endpoint (PROTOCOL.md §4), used by `minga`
 * and by any C program that enqueues jobs.
 *
 * A minga_client_t is one DEALER socket connected to the broker's clients endpoint; calls are
 * synchronous, one request in flight, each tagged with its own rid so that a late reply to a
 * call that timed out is recognised and dropped. Every call waits at most the client's
 * time-out for the broker's answer; when none comes it returns MINGA_ETIMEOUT and the error
 * text names the endpoint. When the broker answers ERROR the call returns MINGA_EREJECTED and
 * minga_client_error_code()/minga_client_error() say what the broker said.
 *
 * Also here, for the command line and other tools: the JSON rendering of jobs and of any
 * msgpack value (jansson), and the conversion of a JSON text into a msgpack job body.
 */
#ifndef MINGA_CLIENT_H
#define MINGA_CLIENT_H

#include "minga/config.h"
#include "minga/curve.h"
#include "minga/proto.h"

#include <jansson.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

typedef struct minga_client_t minga_client_t;

/* The command line's client settings (section "client" of the configuration). */
typedef struct {
    char *broker;       /* client/broker (--broker EP): the broker's clients endpoint */
    uint64_t timeout_s; /* client/timeout_s (--timeout S): longest wait for one reply */
} minga_client_config_t;

/* The table of minga_client_config_t (static). */
const minga_cfg_t *minga_client_config_table(size_t *n);

/* Sets, for every client this process creates afterwards, the endpoint that
 * minga_client_new_store() uses instead of the store's (NULL or "": the store's) and the CURVE
 * settings (NULL: the defaults, CURVE on TCP without keys). Both are copied. Call it before
 * any client exists. Returns 0 or MINGA_ENOMEM. */
int minga_client_set_defaults(const char *endpoint, const minga_curve_t *curve);

/* Connects to endpoint (copied) with a time-out of timeout_ms per call (> 0). The connection
 * itself is lazy: a missing broker shows as a time-out of the first call. A tcp:// endpoint
 * is a CurveZMQ one unless the process's CURVE settings say off: a missing or unreadable key
 * file is MINGA_EINVAL, logged naming it (a broker that refuses the key shows as a time-out). On
 * success *self_p is the caller's, to release with minga_client_destroy(). Returns 0 or a negative
 * code. */
int minga_client_new(minga_client_t **self_p, const char *endpoint, int timeout_ms);

/* Connects to the local broker of the store in store_dir (ipc://STORE/run/clients, STORE
 * resolved), or to the endpoint of minga_client_set_defaults() when one was set. A store that does
 * not exist, or a path too long for an ipc socket, is an error logged naming the path. */
int minga_client_new_store(minga_client_t **self_p, const char *store_dir, int timeout_ms);

/* Closes the socket (pending requests are dropped), NULLs *self_p. Accepts NULL. */
void minga_client_destroy(minga_client_t **self_p);

/* The endpoint (borrowed). */
const char *minga_client_endpoint(const minga_client_t *self);

/* The last call's error: a sentence naming the endpoint, the broker's code and message, or
 * "" after a success (borrowed, valid until the next call). */
const char *minga_client_error(const minga_client_t *self);

/* The broker's error code of the last call (MINGA_PERR_NONE when it did not answer ERROR). */
minga_perr_t minga_client_error_code(const minga_client_t *self);

/* ENQUEUE spec. On success *id is the job's id, *state its state and *created false when the
 * idempotency key named an existing job (each out pointer may be NULL). */
int minga_client_enqueue(minga_client_t *self, const minga_jobspec_t *spec, uint64_t *id,
                         minga_job_state_t *state, bool *created);

/* BATCH of n specs (their `after` fields name earlier specs); ids[0..n-1] receive the ids. */
int minga_client_batch(minga_client_t *self, const minga_jobspec_t *specs, size_t n, uint64_t *ids);

/* STATUS, CANCEL, RETRY of job id: on success *job (initialised by the caller) holds the job
 * as the broker answered, the caller's to minga_job_clear(). */
int minga_client_status(minga_client_t *self, uint64_t id, minga_job_t *job);
int minga_client_cancel(minga_client_t *self, uint64_t id, minga_job_t *job);
int minga_client_retry(minga_client_t *self, uint64_t id, minga_job_t *job);

/* Called for each PROGRESS while waiting: the job's id, state and progress (progress may be
 * NULL when the job has none yet). */
typedef void(minga_client_progress_fn)(uint64_t id, minga_job_state_t state,
                                       const minga_progress_t *progress, void *arg);

/* Waits until job id is in an end state (done, dead, cancelled) or wait_ms have passed
 * (0 = no limit), calling on_progress (may be NULL) for each change. Each WAIT the broker
 * holds lasts at most a few seconds, so that a broker that went away is noticed within the
 * client's time-out (plus that WAIT); when a WAIT goes unanswered but the broker answers PING
 * right after (it was restarted), the WAIT is asked again, up to 3 times in a row. On success *job
 * holds the job as last seen; returns 0 when it is in an end state, MINGA_ETIMEOUT when wait_ms
 * passed first (error text says so). */
int minga_client_wait(minga_client_t *self, uint64_t id, uint64_t wait_ms,
                      minga_client_progress_fn *on_progress, void *arg, minga_job_t *job);

/* LIST: jobs with id > after, of state and type when not NULL, at most limit (1..1000). On
 * success *jobs is an array of *n jobs (the caller's: minga_client_jobs_free()) and *next the
 * `after` of the next page, 0 at the end. */
int minga_client_list(minga_client_t *self, const char *state, const char *type, uint64_t after,
                      unsigned limit, minga_job_t **jobs, size_t *n, uint64_t *next);

/* Frees an array of n jobs from minga_client_list(). Accepts NULL. */
void minga_client_jobs_free(minga_job_t *jobs, size_t n);

/* STATS, WORKERS, PING: on success *reply (a json_t object, the caller's: json_decref())
 * holds the reply body as JSON with the protocol's field names, rid left out. */
int minga_client_stats(minga_client_t *self, json_t **reply);
int minga_client_workers(minga_client_t *self, json_t **reply);
int minga_client_ping(minga_client_t *self, json_t **reply);

/* --- JSON --- */

/* A msgpack value as JSON (a new reference): maps with string keys become objects (other keys
 * are written as their JSON text), bin and str become strings (bytes that are not UTF-8 become
 * null), ext becomes null. Never NULL. */
json_t *minga_msgpack_to_json(const msgpack_object *o);

/* The same from msgpack bytes; NULL bytes (len 0) give JSON null; bytes that are not one
 * msgpack value give null too. */
json_t *minga_msgpack_bytes_to_json(const uint8_t *data, size_t len);

/* A job as a JSON object with the field names of PROTOCOL.md §3.1 (id, type, state, attempts,
 * max_attempts, priority, parents, progress, result, error, key, not_before, lease_ms,
 * worker, created_at, updated_at, finished_at; body when with_body). A new reference. */
json_t *minga_job_to_json(const minga_job_t *job, bool with_body);

/* Parses the JSON text into msgpack bytes (*data the caller's, free()). Returns 0, or
 * MINGA_EFORMAT with err saying where the text is wrong (line, column). */
int minga_json_to_msgpack(const char *text, uint8_t **data, size_t *len, char *err, size_t errcap);

#endif
