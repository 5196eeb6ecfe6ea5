/*
 * index.h: the broker's in-memory job index, kept compact so that a million queued jobs fit
 * in a few tens of megabytes and load in well under a second.
 *
 *  - bx_jobs_t: a slab of fixed-size bx_job_t entries (indexes stay valid until removed) and an
 *    open-addressing hash from job id to slab index;
 *  - bx_heap_t: a binary heap of slab indexes ordered for one purpose (ready jobs by priority,
 *    then due time, then id; delayed jobs and leases by due time, then id). Each entry knows its
 *    position in the heap that holds it, so it can be removed or re-keyed in O(log n).
 *
 * Only jobs that are not in an end state live here (plus ended jobs whose end is not yet
 * committed); bodies, results and everything else of a job stay in the store.
 */
#ifndef MINGA_BROKER_INDEX_H
#define MINGA_BROKER_INDEX_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define BX_NIL UINT32_MAX

typedef enum { BX_HEAP_NONE, BX_HEAP_READY, BX_HEAP_DELAYED, BX_HEAP_LEASE } bx_heap_kind_t;

typedef struct {
    uint64_t id;
    uint64_t due;      /* queued/failed: not before; leased: lease deadline (ms) */
    uint32_t heap_pos; /* position in its heap */
    uint32_t worker;   /* leased: the worker's slot */
    uint32_t lease_ms;
    uint16_t attempts, max_attempts;
    uint16_t waiting_on; /* waiting: parents not yet done */
    uint8_t priority;
    uint8_t state; /* minga_job_state_t */
    uint8_t type;  /* index in the broker's type table */
    uint8_t heap;  /* bx_heap_kind_t holding it */
} bx_job_t;

typedef struct {
    uint64_t key;
    uint32_t val; /* slab index + 1; 0 = empty slot */
} bx_slot_t;

typedef struct {
    bx_job_t *v;
    uint32_t n, cap; /* slab entries used (including freed ones), allocated */
    uint32_t *free;  /* freed slab indexes */
    uint32_t nfree, freecap;
    bx_slot_t *slots;
    size_t mask, used;
} bx_jobs_t;

/* Prepares an empty index. Returns 0 or MINGA_ENOMEM. */
int bx_jobs_init(bx_jobs_t *jobs);
/* Frees everything. */
void bx_jobs_destroy(bx_jobs_t *jobs);
/* Adds a zeroed entry for id (which must not be present); returns its index or BX_NIL when
 * out of memory. */
uint32_t bx_jobs_add(bx_jobs_t *jobs, uint64_t id);
/* The index of id, or BX_NIL. */
uint32_t bx_jobs_find(const bx_jobs_t *jobs, uint64_t id);
/* Removes entry idx (it must no longer be in a heap). */
void bx_jobs_remove(bx_jobs_t *jobs, uint32_t idx);
/* Number of entries. */
size_t bx_jobs_count(const bx_jobs_t *jobs);

#define BX_JOB(jobs, idx) (&(jobs)->v[(idx)])

typedef struct {
    uint32_t *a;
    uint32_t n, cap;
    bx_heap_kind_t kind;
} bx_heap_t;

void bx_heap_init(bx_heap_t *h, bx_heap_kind_t kind);
void bx_heap_destroy(bx_heap_t *h);
/* Pushes job idx; sets its heap and heap_pos. Returns 0 or MINGA_ENOMEM. */
int bx_heap_push(bx_heap_t *h, bx_jobs_t *jobs, uint32_t idx);
/* Removes job idx from h (it must be in h). */
void bx_heap_remove(bx_heap_t *h, bx_jobs_t *jobs, uint32_t idx);
/* Restores order after job idx's key (due, priority) changed. */
void bx_heap_fix(bx_heap_t *h, bx_jobs_t *jobs, uint32_t idx);
/* The first job, or BX_NIL. */
uint32_t bx_heap_top(const bx_heap_t *h);
/* True if job a goes before job b in a heap of this kind. */
bool bx_before(bx_heap_kind_t kind, const bx_job_t *a, const bx_job_t *b);

#endif
