/*
 * demo.h: the embedded Jornada data set — a deterministic, realistic synthetic SIOC.
 *
 * The generator produces, in load order, the seven registry kinds:
 *   gads         the real 221 cantons of minga_cantons() (code, name, province, region,
 *                population), a contact e-mail and the AME regional office that serves them;
 *   cooperantes  ~500 × scale agencies: bilateral, multilateral, descentralizada,
 *                intermunicipal (GADs offering their Buenas Prácticas Locales), sur-sur,
 *                triangular and privada (empresa, universidad, ONG, fundación), with real
 *                donor countries and languages but synthetic names;
 *   offers       ~1,500 × scale, skewed (a few large multilaterals hold many offers, most
 *                cooperantes one or two), sectors and competencies that fit each kind, USD
 *                amounts on a log scale for subvención, territorial scope and validity;
 *   demands      ~1,100 × scale PDOT projects, 2–10 per GAD by size at scale 1, some of them
 *                beyond what any offer covers (the coverage gap);
 *   events       one event, MINGA_DEMO_EVENT: two days in Quito, 20-minute slots;
 *   participants the attending GADs and cooperantes of that event (no event column);
 *   preferences  a few dozen must-meet / meet / never between attending parties.
 * Every name, title and amount is synthetic: no row describes a real agency's offer.
 *
 * Determinism: the generator uses its own PRNG (xoshiro256** seeded by splitmix64) and integer
 * arithmetic only, so the same seed and scale give byte-identical files on every machine.
 * The cost is linear in the scale.
 */
#ifndef MINGA_DEMO_H
#define MINGA_DEMO_H

#include "minga/record.h"

#include <stddef.h>
#include <stdint.h>

/* The event the participants and preferences belong to. */
#define MINGA_DEMO_EVENT "jornada-2026"
#define MINGA_DEMO_SEED 2026
/* Accepted scale: MINGA_DEMO_SCALE_MIN <= scale <= MINGA_DEMO_SCALE_MAX. */
#define MINGA_DEMO_SCALE_MIN 0.001
#define MINGA_DEMO_SCALE_MAX 1000.0

/* How many records of each kind a run produced. */
typedef struct {
    size_t gads, cooperantes, offers, demands, events, participants, preferences;
} minga_demo_counts_t;

/* Receives each generated record: t is its type, rec a borrowed record of that type, valid
 * only during the call (its strings belong to the generator: do not free or keep them).
 * Records come kind by kind in load order. A non-zero return stops the generation, and
 * minga_demo_generate() returns that value. */
typedef int(minga_demo_fn)(const minga_rtype_t *t, const void *rec, void *arg);

/* Generates the data set for seed and scale, handing every record to fn. counts (may be NULL)
 * receives the numbers. Returns 0, MINGA_EINVAL for a scale outside the accepted range (or
 * not a number), MINGA_ENOMEM, or what fn returned. */
int minga_demo_generate(uint64_t seed, double scale, minga_demo_fn *fn, void *arg,
                        minga_demo_counts_t *counts);

/* Writes the data set as CSV (minga_writer_*) to DIR/gads.csv, cooperantes.csv, offers.csv,
 * demands.csv, events.csv, participants.csv and preferences.csv, creating dir (and its
 * parents) when missing. Each file is written beside its final name and renamed into place
 * at the end, so a failed run leaves no half-written file under a final name. Returns 0, or
 * a negative code with a message naming the file at fault in err. counts may be NULL. */
int minga_demo_write(const char *dir, uint64_t seed, double scale, minga_demo_counts_t *counts,
                     char *err, size_t errcap);

#endif
