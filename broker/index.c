/*
 * index.c: the broker's compact job index (see index.h): a slab with a free list, an
 * open-addressing hash (linear probing, backward-shift deletion) from job id to slab index,
 * and binary heaps of slab indexes.
 */
#include "index.h"

#include "minga/error.h"

#include <stdlib.h>
#include <string.h>

/* ---- hash ---- */

static size_t s_hash(uint64_t key, size_t mask)
{
    return (size_t)((key * 0x9E3779B97F4A7C15ull) >> 17) & mask;
}

int bx_jobs_init(bx_jobs_t *jobs)
{
    memset(jobs, 0, sizeof *jobs);
    jobs->mask = 1023;
    jobs->slots = calloc(jobs->mask + 1, sizeof *jobs->slots);
    return jobs->slots ? 0 : MINGA_ENOMEM;
}

void bx_jobs_destroy(bx_jobs_t *jobs)
{
    free(jobs->v);
    free(jobs->free);
    free(jobs->slots);
    memset(jobs, 0, sizeof *jobs);
}

static void s_slot_put(bx_slot_t *slots, size_t mask, uint64_t key, uint32_t val)
{
    size_t i = s_hash(key, mask);
    while (slots[i].val)
        i = (i + 1) & mask;
    slots[i].key = key;
    slots[i].val = val;
}

static int s_grow_hash(bx_jobs_t *jobs)
{
    size_t mask = jobs->mask * 2 + 1;
    bx_slot_t *slots = calloc(mask + 1, sizeof *slots);
    if (!slots)
        return MINGA_ENOMEM;
    for (size_t i = 0; i <= jobs->mask; i++)
        if (jobs->slots[i].val)
            s_slot_put(slots, mask, jobs->slots[i].key, jobs->slots[i].val);
    free(jobs->slots);
    jobs->slots = slots;
    jobs->mask = mask;
    return 0;
}

static uint32_t s_slab_take(bx_jobs_t *jobs)
{
    if (jobs->nfree)
        return jobs->free[--jobs->nfree];
    if (jobs->n == jobs->cap) {
        uint32_t cap = jobs->cap ? jobs->cap * 2 : 1024;
        bx_job_t *v = realloc(jobs->v, (size_t)cap * sizeof *v);
        if (!v)
            return BX_NIL;
        jobs->v = v;
        jobs->cap = cap;
    }
    return jobs->n++;
}

uint32_t bx_jobs_add(bx_jobs_t *jobs, uint64_t id)
{
    if ((jobs->used + 1) * 2 > jobs->mask + 1 && s_grow_hash(jobs) != 0)
        return BX_NIL;
    uint32_t idx = s_slab_take(jobs);
    if (idx == BX_NIL)
        return BX_NIL;
    bx_job_t *j = &jobs->v[idx];
    memset(j, 0, sizeof *j);
    j->id = id;
    j->heap_pos = BX_NIL;
    j->worker = BX_NIL;
    s_slot_put(jobs->slots, jobs->mask, id, idx + 1);
    jobs->used++;
    return idx;
}

uint32_t bx_jobs_find(const bx_jobs_t *jobs, uint64_t id)
{
    size_t i = s_hash(id, jobs->mask);
    while (jobs->slots[i].val) {
        if (jobs->slots[i].key == id)
            return jobs->slots[i].val - 1;
        i = (i + 1) & jobs->mask;
    }
    return BX_NIL;
}

void bx_jobs_remove(bx_jobs_t *jobs, uint32_t idx)
{
    uint64_t id = jobs->v[idx].id;
    size_t mask = jobs->mask, i = s_hash(id, mask);
    while (jobs->slots[i].val && jobs->slots[i].key != id)
        i = (i + 1) & mask;
    if (!jobs->slots[i].val)
        return;
    jobs->slots[i].val = 0;
    /* Backward shift: move later entries of the probe run into the hole. */
    size_t hole = i, j = i;
    for (;;) {
        j = (j + 1) & mask;
        if (!jobs->slots[j].val)
            break;
        size_t home = s_hash(jobs->slots[j].key, mask);
        bool movable = hole <= j ? (home <= hole || home > j) : (home <= hole && home > j);
        if (movable) {
            jobs->slots[hole] = jobs->slots[j];
            jobs->slots[j].val = 0;
            hole = j;
        }
    }
    jobs->used--;
    if (jobs->nfree == jobs->freecap) {
        uint32_t cap = jobs->freecap ? jobs->freecap * 2 : 256;
        uint32_t *f = realloc(jobs->free, (size_t)cap * sizeof *f);
        if (!f)
            return; /* the slab entry leaks; the index stays correct */
        jobs->free = f;
        jobs->freecap = cap;
    }
    jobs->v[idx].id = 0;
    jobs->free[jobs->nfree++] = idx;
}

size_t bx_jobs_count(const bx_jobs_t *jobs)
{
    return jobs->used;
}

/* ---- heaps ---- */

bool bx_before(bx_heap_kind_t kind, const bx_job_t *a, const bx_job_t *b)
{
    if (kind == BX_HEAP_READY && a->priority != b->priority)
        return a->priority < b->priority;
    if (a->due != b->due)
        return a->due < b->due;
    return a->id < b->id;
}

void bx_heap_init(bx_heap_t *h, bx_heap_kind_t kind)
{
    memset(h, 0, sizeof *h);
    h->kind = kind;
}

void bx_heap_destroy(bx_heap_t *h)
{
    free(h->a);
    bx_heap_init(h, h->kind);
}

static void s_set(bx_heap_t *h, bx_jobs_t *jobs, uint32_t pos, uint32_t idx)
{
    h->a[pos] = idx;
    jobs->v[idx].heap_pos = pos;
}

static void s_up(bx_heap_t *h, bx_jobs_t *jobs, uint32_t pos)
{
    uint32_t idx = h->a[pos];
    while (pos > 0) {
        uint32_t parent = (pos - 1) / 2;
        if (!bx_before(h->kind, &jobs->v[idx], &jobs->v[h->a[parent]]))
            break;
        s_set(h, jobs, pos, h->a[parent]);
        pos = parent;
    }
    s_set(h, jobs, pos, idx);
}

static void s_down(bx_heap_t *h, bx_jobs_t *jobs, uint32_t pos)
{
    uint32_t idx = h->a[pos];
    for (;;) {
        uint32_t child = pos * 2 + 1;
        if (child >= h->n)
            break;
        if (child + 1 < h->n &&
            bx_before(h->kind, &jobs->v[h->a[child + 1]], &jobs->v[h->a[child]]))
            child++;
        if (!bx_before(h->kind, &jobs->v[h->a[child]], &jobs->v[idx]))
            break;
        s_set(h, jobs, pos, h->a[child]);
        pos = child;
    }
    s_set(h, jobs, pos, idx);
}

int bx_heap_push(bx_heap_t *h, bx_jobs_t *jobs, uint32_t idx)
{
    if (h->n == h->cap) {
        uint32_t cap = h->cap ? h->cap * 2 : 64;
        uint32_t *a = realloc(h->a, (size_t)cap * sizeof *a);
        if (!a)
            return MINGA_ENOMEM;
        h->a = a;
        h->cap = cap;
    }
    jobs->v[idx].heap = (uint8_t)h->kind;
    h->a[h->n] = idx;
    s_up(h, jobs, h->n++);
    return 0;
}

void bx_heap_remove(bx_heap_t *h, bx_jobs_t *jobs, uint32_t idx)
{
    uint32_t pos = jobs->v[idx].heap_pos;
    jobs->v[idx].heap = BX_HEAP_NONE;
    jobs->v[idx].heap_pos = BX_NIL;
    if (pos >= h->n || h->a[pos] != idx)
        return; /* defensive: not in this heap */
    uint32_t last = h->a[--h->n];
    if (pos == h->n)
        return;
    s_set(h, jobs, pos, last);
    s_up(h, jobs, pos);
    s_down(h, jobs, jobs->v[last].heap_pos);
}

void bx_heap_fix(bx_heap_t *h, bx_jobs_t *jobs, uint32_t idx)
{
    uint32_t pos = jobs->v[idx].heap_pos;
    if (pos >= h->n || h->a[pos] != idx)
        return;
    s_up(h, jobs, pos);
    s_down(h, jobs, jobs->v[idx].heap_pos);
}

uint32_t bx_heap_top(const bx_heap_t *h)
{
    return h->n ? h->a[0] : BX_NIL;
}
