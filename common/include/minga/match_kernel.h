/*
 * match_kernel.h: the matching hot path — a shard of demands scored against all offers,
 * keeping the top K offers of each demand and the top K demands of each offer.
 *
 * The kernel lays the active offers (valid and attending) out as a structure of arrays of
 * 32-bit lanes: bit sets for DAC codes, DAC categories, competencies and the eligible cantons,
 * small integers for modality and co-financing, saturated amounts; no pointer is chased in the
 * loop. Demands are taken in blocks of 8 against chunks of 512 offers, so that a chunk stays
 * in L1 while the block's demands pass over it. For each (demand, chunk) the score loop is
 * branch-free and vectorised (an AVX2 variant chosen at run time when the CPU has it, never
 * AVX-512); a threshold test against the worst score still kept (per demand, and per offer)
 * comes before any heap work. Nothing is allocated in the loop.
 *
 * Results equal those of minga_match_pair() applied to every pair (match_rules.h), with ties
 * broken by index (the caller numbers offers and demands in id order): for a demand, a better
 * offer has a higher score, or the same score and a lower index; likewise for an offer.
 */
#ifndef MINGA_MATCH_KERNEL_H
#define MINGA_MATCH_KERNEL_H

#include "minga/match_rules.h"

#include <stddef.h>
#include <stdint.h>

typedef struct {
    int32_t score;
    uint32_t id; /* the offer's index (in a demand's list) or the demand's (in an offer's) */
} minga_match_item_t;

/* Top-K lists: demand d's best offers are demand_top[d * k_demand ..] (demand_n[d] of them),
 * offer o's best demands offer_top[o * k_offer ..] (offer_n[o]); best first once
 * minga_match_topk_finish() has run. */
typedef struct {
    uint32_t k_demand, k_offer;
    size_t ndemands, noffers;
    minga_match_item_t *demand_top;
    uint32_t *demand_n;
    minga_match_item_t *offer_top;
    uint32_t *offer_n;
} minga_match_topk_t;

/* Allocates empty lists. Returns 0, MINGA_EINVAL (K of 0) or MINGA_ENOMEM. */
int minga_match_topk_init(minga_match_topk_t *t, size_t ndemands, size_t noffers, uint32_t k_demand,
                          uint32_t k_offer);

/* Sorts every list best first (the lists are heaps until then). */
void minga_match_topk_finish(minga_match_topk_t *t);

/* Frees the lists. */
void minga_match_topk_clear(minga_match_topk_t *t);

/* Offers a candidate to a list of capacity k holding *n items (a heap, worst at the root);
 * keeps it when the list is not full or it is better than the worst. */
void minga_match_topk_push(minga_match_item_t *list, uint32_t *n, uint32_t k,
                           minga_match_item_t item);

typedef enum {
    MINGA_MATCH_PATH_AUTO,   /* AVX2 when the CPU has it, else scalar */
    MINGA_MATCH_PATH_SCALAR, /* the SoA loop for the baseline target (SSE2 on x86-64) */
    MINGA_MATCH_PATH_AVX2,   /* the SoA loop for AVX2 (falls back to scalar without it) */
} minga_match_path_t;

typedef struct minga_match_kernel_t minga_match_kernel_t;

/* Builds the kernel over offers[0..noffers) (borrowed for the call only; indexes in results
 * are positions in this array) with ctx (borrowed: must outlive the kernel). Returns 0 or
 * MINGA_ENOMEM; on success *self_p is the caller's (minga_match_kernel_destroy). */
int minga_match_kernel_new(minga_match_kernel_t **self_p, const minga_match_ctx_t *ctx,
                           const minga_match_offer_t *offers, size_t noffers);

/* Frees the kernel, NULLs *self_p; accepts NULL. */
void minga_match_kernel_destroy(minga_match_kernel_t **self_p);

/* Scores demands[0..ndemands) (demand index = position) against every offer, adding to
 * *out (made by minga_match_topk_init for ndemands and the kernel's noffers, with the ctx's
 * K). Successive calls on the same out must pass demands in increasing index order: out's
 * demand indexes are relative to each call's array only when the caller offsets them, so
 * the simple use is one call per shard. Returns the path used. */
minga_match_path_t minga_match_kernel_score(minga_match_kernel_t *self,
                                            const minga_match_demand_t *demands, size_t ndemands,
                                            minga_match_topk_t *out, minga_match_path_t path);

/* The reference: minga_match_pair() on every pair, the same lists. Slow; for tests and the
 * benchmark. */
void minga_match_reference_score(const minga_match_ctx_t *ctx, const minga_match_demand_t *demands,
                                 size_t ndemands, const minga_match_offer_t *offers, size_t noffers,
                                 minga_match_topk_t *out);

/* "scalar" or "avx2". */
const char *minga_match_path_name(minga_match_path_t path);

/* True when the CPU runs the AVX2 path. */
bool minga_match_have_avx2(void);

#endif
