/*
 * match_data.h: the inputs of one scoring run, gathered and prepared — the offers, a range of
 * demands, the event, its attending cooperantes and its preferences, the GADs' populations —
 * from the store (one read snapshot) or from any source of records (the demo generator in the
 * benchmark and the tests).
 *
 * Use: minga_match_data_init(), minga_match_data_add() for every record (any order), then
 * minga_match_data_prepare(), which sorts offers and demands by id (their indexes are then
 * the tie-breaking order), numbers the cooperantes, prepares the records and builds the
 * context. minga_match_data_clear() frees everything.
 */
#ifndef MINGA_MATCH_DATA_H
#define MINGA_MATCH_DATA_H

#include "minga/match_rules.h"
#include "minga/store.h"

#include <lmdb.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

typedef struct {
    char event_id[MINGA_KEY_ID + 1];
    /* what was added (owned copies) */
    minga_offer_t **offers;
    size_t noffers, offers_cap;
    minga_demand_t **demands;
    size_t ndemands, demands_cap;
    minga_event_t *event;
    char **attending; /* cooperante ids registered as participants of the event */
    size_t nattending, attending_cap;
    minga_preference_t **prefs;
    size_t nprefs, prefs_cap;
    uint32_t population[MINGA_MATCH_NCANTONS];
    /* after prepare */
    char **coops; /* sorted, unique: the cooperante of index i */
    size_t ncoops;
    minga_match_offer_t *poffers;   /* parallel to offers */
    minga_match_demand_t *pdemands; /* parallel to demands */
    minga_match_ctx_t ctx;
    bool prepared;
    bool no_demands; /* minga_match_data_load() leaves the demands out */
} minga_match_data_t;

/* Starts an empty set for event_id (at most 32 bytes). Populations start as INEC's. */
void minga_match_data_init(minga_match_data_t *d, const char *event_id);

/* Adds a copy of rec, of type t: gads (population), offers, demands, the event called
 * event_id (others are ignored), participants (of event_id, or with no event) and
 * preferences (likewise). Cooperantes are not needed. Returns 0 or MINGA_ENOMEM. */
int minga_match_data_add(minga_match_data_t *d, const minga_rtype_t *t, const void *rec);

/* Reads from txn the GADs, every offer, the demands with from <= id < to (from NULL: from the
 * first; to NULL or "": to the last), the event, its participants and its preferences.
 * Returns 0, MINGA_ENOTFOUND when the event does not exist, or a negative code with err
 * naming what could not be read. */
int minga_match_data_load(minga_match_data_t *d, minga_store_t *store, MDB_txn *txn,
                          const char *from, const char *to, char *err, size_t errcap);

/* Reads only the demands with from <= id < to (as minga_match_data_load). */
int minga_match_data_load_demands(minga_match_data_t *d, minga_store_t *store, MDB_txn *txn,
                                  const char *from, const char *to, char *err, size_t errcap);

/* Sorts and prepares the demands only (a set of demands scored against another set's offers
 * and context). Returns 0, MINGA_EINVAL (named in err) or MINGA_ENOMEM. */
int minga_match_data_prepare_demands(minga_match_data_t *d, char *err, size_t errcap);

/* Sorts, numbers and prepares; builds d->ctx with cfg. Returns 0, MINGA_ENOTFOUND (no event
 * was added), MINGA_EINVAL (a record with a code outside the lists, named in err) or
 * MINGA_ENOMEM. */
int minga_match_data_prepare(minga_match_data_t *d, const minga_match_config_t *cfg, char *err,
                             size_t errcap);

/* Frees everything and empties d. */
void minga_match_data_clear(minga_match_data_t *d);

#endif
