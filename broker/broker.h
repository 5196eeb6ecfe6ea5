/*
 * broker.h: minga-broker's engine, the only owner of the job queue (DESIGN.md §2, §4, §5;
 * schemas/PROTOCOL.md). main.c parses the command line and the configuration, takes the pid
 * file lock, opens the store and runs one broker_t until SIGTERM/SIGINT.
 */
#ifndef MINGA_BROKER_H
#define MINGA_BROKER_H

#include "minga/config.h"
#include "minga/curve.h"
#include "minga/store.h"

#include <signal.h>
#include <stdint.h>

typedef struct {
    uint64_t heartbeat_ms, liveness, lease_ms, max_attempts;
    uint64_t retry_base_ms, retry_max_ms, retry_jitter_pct;
    uint64_t max_body, credit, result_retention_s, batch_max;
    uint64_t max_result;              /* largest DONE message (a job's result), bytes */
    char *job_types;                  /* known job types, separated by spaces or commas */
    char *clients, *workers, *events; /* endpoints; NULL = ipc://STORE/run/NAME */
    const minga_curve_t *curve;       /* CurveZMQ of the tcp:// endpoints (borrowed; NULL: off) */
    /* Prometheus metrics (metrics.h): host:port (port 0: a free one), or "off" */
    char *metrics;
} broker_config_t;

/* The settings: file keys broker/NAME, flags --NAME-WITH-DASHES. */
extern const minga_cfg_t broker_config_table[];
extern const size_t broker_config_count;

/* Fills c with the defaults (PROTOCOL.md §11). Free with minga_config_free(). */
int broker_config_defaults(broker_config_t *c);

typedef struct broker_t broker_t;

/* Creates the broker on an open store (borrowed; must outlive it): checks the configuration,
 * recovers every active job from the store, binds the three endpoints (each bound endpoint
 * string is given; a tcp:// one as a CurveZMQ server when cfg->curve says so: clients and
 * events in the ZAP domain of clients, workers in that of workers — the ZAP handler itself,
 * auth.h, is the caller's). On error *self_p is NULL and the cause has been logged. */
int broker_new(broker_t **self_p, minga_store_t *store, const broker_config_t *cfg,
               const char *clients_ep, const char *workers_ep, const char *events_ep);

/* Stops and frees; NULLs *self_p; accepts NULL. */
void broker_destroy(broker_t **self_p);

/* Serves until *stop becomes non-zero; then commits what is pending and returns 0, or a
 * negative code after a fatal error. */
int broker_run(broker_t *self, volatile sig_atomic_t *stop);

#endif
