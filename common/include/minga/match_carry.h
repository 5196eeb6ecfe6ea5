/*
 * match_carry.h: the data a carried scoring run moves through the broker instead of the store
 * (issue 9, remote workers; the design is in README.md, "Workers on other hosts").
 *
 * In a carried run the prepare stage (a worker that shares the store) reads the event once, in
 * one read snapshot, and packs everything a shard needs into one msgpack map, the blob: the
 * prepared offers and demands as compact arrays of 32-bit big-endian words, their ids, the
 * cooperantes, the GADs of the demands, the settings, the populations, the merged preferences
 * and the coverage per canton. A shard job (match.shard), on any host, unpacks it (once per
 * batch and process), scores its range of demands and returns its lists as its result; the
 * merge stage writes them into the store (match_store.h).
 *
 * The blob (a msgpack map):
 *   v           uint   MINGA_MATCH_CARRY_VERSION
 *   layout      uint   minga_match_carry_layout() of the build that packed it: a hash of the row
 *                      widths, the limits and the compiled-in code lists (bit and reason indexes
 *                      depend on them); a worker of another layout refuses the blob
 *   event       str    the event's id
 *   gen         uint   the run
 *   cfg         array  the settings (uint), in the order of minga_match_config_table()
 *   population  bin    221 words: the GADs' populations, by canton index
 *   coverage    bin    221 words: active offers eligible per canton (checked on unpacking)
 *   coops       array  str: the cooperante of index i (sorted, unique)
 *   prefs       bin    3 words per preference: canton, cooperante index, kind (merged, sorted)
 *   offers      bin    MINGA_MATCH_CARRY_OFFER_WORDS words per offer, in offer id order
 *   offer_ids   array  str
 *   demands     bin    MINGA_MATCH_CARRY_DEMAND_WORDS words per demand, in demand id order
 *   demand_ids  array  str
 *   demand_gads array  str
 * Every value is checked on unpacking (counts, ranges, bits outside the lists, ids sorted and
 * valid): a hostile or truncated blob is MINGA_EFORMAT with a message naming the field.
 */
#ifndef MINGA_MATCH_CARRY_H
#define MINGA_MATCH_CARRY_H

#include "minga/match_data.h"
#include "minga/match_kernel.h"

#include <msgpack.h>
#include <stddef.h>
#include <stdint.h>

#define MINGA_MATCH_CARRY_VERSION 1
#define MINGA_MATCH_CARRY_OFFER_WORDS 23
#define MINGA_MATCH_CARRY_DEMAND_WORDS 15

/* An unpacked blob: a prepared data set (match_data.h) whose offer and demand records hold
 * only their ids (offers: id and cooperante; demands: id and gad), its context built from the
 * carried settings, and the kernel over its offers. */
typedef struct {
    char event[MINGA_KEY_ID + 1];
    uint64_t gen;
    minga_match_config_t cfg;
    minga_match_data_t d; /* d.offers, d.demands, d.coops, d.poffers, d.pdemands, d.ctx */
    minga_match_kernel_t *kernel;
    size_t bytes; /* the blob's size */
} minga_match_carried_t;

/* The layout hash of this build (see above). */
uint64_t minga_match_carry_layout(void);

/* Packs d (prepared by minga_match_data_prepare with cfg, with the event's demands) as the blob
 * of run gen into out (appended). Returns 0, or MINGA_ENOMEM. */
int minga_match_carry_pack(const minga_match_data_t *d, const minga_match_config_t *cfg,
                           uint64_t gen, msgpack_sbuffer *out);

/* Unpacks the blob blob[0..len) into a new *self_p (the caller's: minga_match_carry_destroy).
 * Returns 0; MINGA_EVERSION when the blob's version or layout is not this build's (err says
 * both); MINGA_EFORMAT for anything malformed, err naming the field; MINGA_ENOMEM. */
int minga_match_carry_unpack(const uint8_t *blob, size_t len, minga_match_carried_t **self_p,
                             char *err, size_t errcap);

/* Frees an unpacked blob, NULLs *self_p; accepts NULL. */
void minga_match_carry_destroy(minga_match_carried_t **self_p);

/* The demands with from <= id < to (from, to: NULL or "" for no bound) as positions
 * [*first, *end) in c->d's demands. */
void minga_match_carry_range(const minga_match_carried_t *c, const char *from, const char *to,
                             size_t *first, size_t *end);

#endif
