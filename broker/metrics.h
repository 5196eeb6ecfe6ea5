/*
 * metrics.h: the broker's Prometheus metrics (DESIGN.md §9). The broker loop counts and
 * measures through the bk_metrics_on_* hooks (no lock: only the loop's thread touches those
 * numbers) and renders them as Prometheus text into a snapshot, at most every 250 ms or at
 * once when an HTTP request asks for a fresh one; libmicrohttpd's own thread serves
 * GET /metrics by copying that snapshot under a mutex and never reads the broker's state.
 *
 * The server binds --metrics ADDR (host:port, [v6]:port; port 0 takes a free one; "off"
 * disables it). When the default address's port is taken it warns and takes a free one; any
 * other address that cannot be bound is an error. The bound address is written to
 * STORE/run/metrics (one line, host:port) and removed when the broker stops.
 */
#ifndef MINGA_BROKER_METRICS_H
#define MINGA_BROKER_METRICS_H

#include <stdint.h>

#define BK_METRICS_DEFAULT "127.0.0.1:9464"

typedef struct broker_t broker_t;
typedef struct bk_metrics_t bk_metrics_t;

/* Starts the HTTP server on addr (NULL or "off": no server, the hooks still count) and
 * writes STORE/run/metrics; run_dir is STORE/run. On success *self_p is the broker's, to
 * release with bk_metrics_destroy(). Returns 0, or a negative code after logging the
 * address and the cause. */
int bk_metrics_new(bk_metrics_t **self_p, const char *addr, const char *run_dir);

/* Stops the server, removes STORE/run/metrics, frees; NULLs *self_p; accepts NULL. */
void bk_metrics_destroy(bk_metrics_t **self_p);

/* The address the server bound ("host:port"), or "" when off. Borrowed. */
const char *bk_metrics_address(const bk_metrics_t *self);

/* ---- hooks, called from the broker loop (each accepts a broker without metrics) ---- */

/* Job idx entered a ready or delayed heap (queued, failed, handed back). */
void bk_metrics_on_ready(broker_t *self, uint32_t idx);
/* Job idx is being leased (call before its due time becomes the lease deadline); since_ms,
 * when not 0, is when it could first be leased (a job leased at enqueue: its created_at). */
void bk_metrics_on_lease(broker_t *self, uint32_t idx, uint64_t since_ms);
/* A new job of the named type was stored. */
void bk_metrics_on_enqueue(broker_t *self, const char *type);
/* Job idx ended in state st (done, dead, cancelled). */
void bk_metrics_on_end(broker_t *self, uint32_t idx, int st);
/* The clock for a commit's latency: monotonic nanoseconds. */
uint64_t bk_metrics_clock(void);
/* The commit that began at t0 (bk_metrics_clock()) succeeded; call it before its changes
 * (patches, new jobs of the enqueues) are taken out. */
void bk_metrics_on_commit(broker_t *self, uint64_t t0, uint64_t changes);
/* Once per turn of the loop: renders the snapshot when it is due or asked for. */
void bk_metrics_tick(broker_t *self);

#endif
