/*
 * worker.h: the worker runtime. A Minga worker is a table of job type -> handler; this runtime
 * does everything else: connecting to the broker's worker endpoint (a DEALER), announcing the
 * types it serves and its capacity (ready), heartbeats on their own timer, Paranoid Pirate
 * liveness and reconnection, running up to `capacity` handlers at once (each in its own thread,
 * so that a long handler never stops the heartbeats), progress, done and fail, and the SIGTERM
 * drain (finish the jobs in hand or hand them back, say disconnect, leave).
 *
 * A worker binary is, in full:
 *
 *     static const minga_handler_t s_handlers[] = {{"test.echo", s_echo, NULL}, {NULL}};
 *     int main(int argc, char **argv)
 *     {
 *         return minga_worker_main("minga-test-worker", s_handlers, argc, argv);
 *     }
 *
 * Handlers run in the runtime's handler threads, at most `capacity` at a time, each on one job
 * at a time; they must not touch the runtime's sockets, only their minga_task_t.
 */
#ifndef MINGA_WORKER_H
#define MINGA_WORKER_H

#include "minga/config.h"

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

typedef struct minga_worker_t minga_worker_t;
typedef struct minga_task_t minga_task_t;

/* A handler: does the job described by task. Returns 0 when the job is done (its result is
 * what minga_task_set_result() set, or nil), or a negative code when it failed: the failure
 * is what minga_task_fail() set, or, if the handler did not call it, a retryable failure with
 * code "handler_error" and minga_strerror(rc) as message. arg is the table entry's arg. */
typedef int(minga_handler_fn)(minga_task_t *task, void *arg);

typedef struct {
    const char *type;     /* job type served, "match.score" */
    minga_handler_fn *fn; /* NULL ends a table */
    void *arg;
} minga_handler_t;

/* Optional, per job type: true when the job of this body is quick and never blocks (no
 * sleep, no I/O wait, microseconds of work). The runtime then runs it on its main thread as
 * soon as it arrives, without the hand-off to a handler thread and back (two thread wake-ups,
 * most of the runtime's cost for a tiny job); heartbeats wait for it, so say true only when
 * that is harmless. body is the job's msgpack body (may be empty); arg is the handler's. */
typedef bool(minga_quick_fn)(const uint8_t *body, size_t size, void *arg);

/* The value of option "--NAME V" or "--NAME=V" in argv, without consuming it (for a worker's
 * main, to read --store or --config before minga_worker_main); NULL when absent. */
const char *minga_worker_option_peek(int argc, char **argv, const char *name);

/* Declares the quick test of a job type, before minga_worker_new()/minga_worker_main(); at
 * most MINGA_WORKER_MAX_QUICK types per process. Returns 0, or MINGA_EINVAL when full. */
#define MINGA_WORKER_MAX_QUICK 8
int minga_worker_set_quick(const char *type, minga_quick_fn *fn);

/* The runtime's settings; minga_worker_options_parse() fills them from the command line. */
typedef struct {
    const char *name;       /* process name for logs and `minga workers` ("minga-test-worker-2") */
    const char *store_dir;  /* --store DIR: the endpoint is ipc://REALPATH/run/workers */
    const char *endpoint;   /* --broker EP: overrides store_dir's endpoint */
    const char *pid_file;   /* --pid-file FILE: locked for the process's life (launch.h) */
    const char *config;     /* --config FILE (read by the caller) */
    unsigned capacity;      /* --capacity N: handlers at once (default 1) */
    unsigned heartbeat_ms;  /* --heartbeat MS: interval of heartbeats (default 1000) */
    unsigned liveness;      /* heartbeats missed before the broker is deemed gone (3) */
    unsigned drain_ms;      /* --drain-timeout SEC: SIGTERM drain before handing back (30 s) */
    unsigned max_body;      /* the largest message accepted from the broker (a JOB, a FETCHED),
                             * bytes (16 MiB; at least the broker's max_body and max_result) */
    bool curve;             /* --curve on|off, --no-curve: CurveZMQ on a tcp:// endpoint (on) */
    const char *broker_key; /* --broker-key FILE: the broker's public certificate */
    const char *cert;       /* --cert FILE: this worker's certificate (with its _secret) */
} minga_worker_options_t;

/* Fills *opts with the defaults. */
void minga_worker_options_init(minga_worker_options_t *opts);

/* Parses the common worker options of argv (--store, --broker, --capacity, --heartbeat,
 * --drain-timeout, --name, --pid-file, --config, --curve, --no-curve, --broker-key,
 * --server-key, --cert, --map-max, --log-level, --help; "--x V" or "--x=V") into *opts: first
 * the sections "worker", "curve", "store" and "log" of the --config file, then the flags, which
 * win; store/map_max and log/level are applied to the process (minga_common_config_apply). Returns
 * 0, 1 when --help was printed (exit 0), or 2 after a message on stderr naming the option (or the
 * file, line and key). The strings in *opts are borrowed from argv and from a process-wide settings
 * block: call it once per process. program names the binary in the help text. */
int minga_worker_options_parse(minga_worker_options_t *opts, const char *program, int argc,
                               char **argv);

/* The settings of the worker runtime, for config.h (static). */
const minga_cfg_t *minga_worker_config_table(size_t *n);

/* Creates a worker serving the handlers of table (borrowed: must outlive the worker) with
 * *opts (copied; its strings are borrowed). Resolves the endpoint (a store path too long for
 * an ipc socket is MINGA_EINVAL with a message naming the path and the limit) and locks the
 * pid file (MINGA_EBUSY when another process holds it); with CurveZMQ on a tcp:// endpoint,
 * checks the key files (MINGA_EINVAL, logged naming the file). Does not connect yet. On success
 * *self_p is the caller's, to release with minga_worker_destroy(). */
int minga_worker_new(minga_worker_t **self_p, const minga_handler_t *table,
                     const minga_worker_options_t *opts);

/* Stops the handler threads (waiting for running handlers), closes the sockets, releases the
 * pid file, NULLs *self_p. Accepts NULL. */
void minga_worker_destroy(minga_worker_t **self_p);

/* Runs the worker until it is stopped (SIGTERM or SIGINT, or minga_worker_stop()) and has
 * drained. Installs its own SIGTERM/SIGINT handlers. Returns 0 after a clean drain, or a
 * negative code (MINGA_ETIMEOUT when jobs had to be handed back at the drain time-out). */
int minga_worker_run(minga_worker_t *self);

/* Asks a running worker to drain and leave, as SIGTERM does. Async-signal-safe. */
void minga_worker_stop(void);

/* Bytes this worker process received from / sent to the broker so far (all frames of every
 * message, counted as the frames' sizes). Any thread. */
void minga_worker_bytes(minga_worker_t *self, uint64_t *in, uint64_t *out);

/* The endpoint the worker connects to (borrowed). */
const char *minga_worker_endpoint(minga_worker_t *self);

/* The whole program: parses options, logs as program, runs, returns the exit status
 * (0 ok, 1 failure, 2 usage). */
int minga_worker_main(const char *program, const minga_handler_t *table, int argc, char **argv);

/* --- What a handler may do with its task (only from the handler's own thread). --- */

/* The job's id, type (borrowed), attempt number (1 for the first) and body (msgpack bytes,
 * borrowed, valid while the handler runs). */
uint64_t minga_task_id(const minga_task_t *task);
const char *minga_task_type(const minga_task_t *task);
unsigned minga_task_attempt(const minga_task_t *task);
const uint8_t *minga_task_body(const minga_task_t *task, size_t *size);

/* Reports progress (done of total, and a short text, may be NULL). Cheap: the runtime sends
 * at most ten reports a second per job, always the latest, and always the one where
 * done == total. */
void minga_task_progress(minga_task_t *task, uint64_t done, uint64_t total, const char *text);

/* Sets the result, one msgpack object (copied). Returns 0, MINGA_EFORMAT when data is not
 * one well-formed msgpack object, or MINGA_ENOMEM. */
int minga_task_set_result(minga_task_t *task, const uint8_t *data, size_t size);

/* Records a failure: retryable (the broker retries with back-off, up to the job's maximum
 * attempts) or not (the job ends dead at once); code is a short snake_case word, message a
 * sentence. The handler then returns a negative code. */
void minga_task_fail(minga_task_t *task, bool retryable, const char *code, const char *fmt, ...)
    __attribute__((format(printf, 4, 5)));

/* True once the worker is draining: a long handler may stop early, call
 * minga_task_hand_back(task) and return, so that another worker runs the job. */
bool minga_task_draining(const minga_task_t *task);

/* The job's parents, in the order of its `parents` field: copies up to cap ids into ids and
 * returns how many the job has. */
size_t minga_task_parents(minga_task_t *task, uint64_t *ids, size_t cap);

/* Results kept per worker process by minga_task_fetch(), by job id, the most recently used. */
#define MINGA_WORKER_FETCH_CACHE 4

/* In a handler: the result (its msgpack bytes, as the broker stored what the parent's worker
 * passed to minga_task_set_result) of parent job `id` of this task, fetched from the broker
 * with FETCH (through the runtime's main thread; the handler thread waits, heartbeats go on)
 * and kept in a per-process cache of the last MINGA_WORKER_FETCH_CACHE results by job id, so
 * that a worker receives a batch's shared data once; handlers asking for the same id at once
 * share one FETCH. *data (a nil result is the one byte 0xc0) is borrowed and stays valid until
 * the handler returns. Returns 0; MINGA_ENOTFOUND (id is not one of this task's parents, or
 * the broker answered not_found, invalid_state or forbidden: not done, or gone),
 * MINGA_ETIMEOUT (no answer within the job's lease time), MINGA_ETOOBIG (the answer was larger
 * than this worker's max_body), MINGA_EINVAL (a quick job, run on the main thread, cannot
 * fetch), MINGA_EPROTO (another refusal) or MINGA_ENOMEM; err names the jobs and the cause. */
int minga_task_fetch(minga_task_t *task, uint64_t id, const uint8_t **data, size_t *len, char *err,
                     size_t errcap);

/* Hands the job back instead of answering it: when the handler returns (whatever it
 * returns), the runtime sends RELEASE, the broker queues the job again at once and the attempt
 * is not counted. For a handler that stops early because the worker is draining. */
void minga_task_hand_back(minga_task_t *task);

#endif
