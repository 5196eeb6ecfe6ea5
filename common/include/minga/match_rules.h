/*
 * match_rules.h: the rules of the rueda's matching — which (demand, offer) pairs may meet (the
 * hard gates) and how well they fit (a score 0..10000, hundredths of a point on a 0–100
 * scale), with the reasons a person can read.
 *
 * Records are first "prepared" into compact, pointer-free forms (minga_match_offer_t,
 * minga_match_demand_t): code lists become bit sets, the offer's territory and population cap
 * become one set of the eligible cantons, amounts become saturated 32-bit integers. The rules
 * below are stated on those forms; minga_match_pair() is the scalar reference that the kernel
 * (match_kernel.h) must reproduce bit for bit.
 *
 * Hard gates (a pair failing one is no candidate), in the order minga_match_pair() tests them:
 *   validity    the offer is valid on every day of the event (valid_from <= first day and
 *               valid_to >= last day);
 *   attendance  when the event has attendance_required, the offer's cooperante is a
 *               participant of the event;
 *   territory   the demand's canton is eligible: scope nacional (all), regiones (the canton's
 *               region listed), provincias (its province listed), cantones (itself listed);
 *               and its population is at most the offer's population cap (inclusive; 0 = none);
 *   modality    the offer's modality is one the demand's modality accepts (s_compat in
 *               match_rules.c: equal, or related such as capacitación for asistencia técnica;
 *               subvención only with subvención);
 *   amount      a subvención offer: the demand's amount lies in [amount_min, amount_max]
 *               (inclusive);
 *   preference  no "no" preference between the GAD and the cooperante, in either direction;
 *   sector      (when sector_gate = 1) some sector fit: a common DAC code, a common 3-digit DAC
 *               category or the demand's COOTAD competency among the offer's.
 *
 * Score: the sum of the parts below, at most MINGA_MATCH_SCORE_MAX; all integers.
 *   sector      sector_dac (common DAC code) > sector_category > sector_competency
 *   modality    modality_exact (same modality) or modality_related
 *   amount      subvención: amount_high when the demand asks at least half the offer's
 *               maximum (a >= ceil(max/2)), amount_mid from a fifth, amount_low below;
 *               other modalities: amount_nonfinancial
 *   co-finance  the offer does not require it, or the GAD brings >= 20 % of its amount (or
 *               any co-financing for a demand with no amount): cofinancing; brings less:
 *               cofinancing_partial; brings none: 0
 *   priority    priority * (6 - p) / 5 for the demand's priority p (1 highest .. 5)
 *   equity      equity_small when the canton's population <= equity_population; plus
 *               equity_underserved when the active offers eligible for the canton are at most
 *               equity_coverage_pct % of those of the best-served canton
 *   preference  preference_must for an "obligatoria" preference (either direction), else
 *               preference_want for "deseada"
 * Ties between equal scores are broken by id (the lower id first), never by order of arrival.
 */
#ifndef MINGA_MATCH_RULES_H
#define MINGA_MATCH_RULES_H

#include "minga/config.h"
#include "minga/record.h"

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define MINGA_MATCH_SCORE_MAX 10000
/* Amounts compare saturated at this value (USD), so that they fit 32-bit signed lanes. */
#define MINGA_MATCH_AMOUNT_CAP 2147483647u
#define MINGA_MATCH_DAC_WORDS 8    /* 256 bits: the DAC codes, by index in minga_codes() */
#define MINGA_MATCH_CANTON_WORDS 7 /* 224 bits: the 221 cantons, by index in minga_cantons() */
#define MINGA_MATCH_NCANTONS 221
#define MINGA_MATCH_K_MAX 100

/* ---- configuration ---- */

/* Weights (points in hundredths) and K. Every field is a setting "match/NAME" of the ZPL
 * configuration; the defaults (minga_match_config_defaults, and deploy/match.cfg.example):
 *   sector_dac 3500, sector_category 2500, sector_competency 1500, modality_exact 1000,
 *   modality_related 500, amount_high 1000, amount_mid 700, amount_low 400,
 *   amount_nonfinancial 700, cofinancing 500, cofinancing_partial 250, priority 1000,
 *   equity_small 500, equity_underserved 500, equity_population 50000,
 *   equity_coverage_pct 50, preference_must 2000, preference_want 1000, sector_gate 1,
 *   k_demand 10, k_offer 10.
 * The best parts add up to 10000. */
typedef struct {
    uint64_t sector_dac, sector_category, sector_competency;
    uint64_t modality_exact, modality_related;
    uint64_t amount_high, amount_mid, amount_low, amount_nonfinancial;
    uint64_t cofinancing, cofinancing_partial;
    uint64_t priority;
    uint64_t equity_small, equity_underserved, equity_population, equity_coverage_pct;
    uint64_t preference_must, preference_want;
    uint64_t sector_gate;
    uint64_t k_demand, k_offer;
} minga_match_config_t;

/* Fills *cfg with the documented defaults. */
void minga_match_config_defaults(minga_match_config_t *cfg);

/* The settings table (section "match") for minga_config_load(); *n receives its length. */
const minga_cfg_t *minga_match_config_table(size_t *n);

/* Fills *cfg with the defaults, then with the section "match" of file (NULL: defaults only).
 * Returns 0, or a negative code with err naming file, line and key. */
int minga_match_config_load(minga_match_config_t *cfg, const char *file, char *err, size_t errcap);

/* ---- prepared records ---- */

typedef struct {
    uint32_t dac[MINGA_MATCH_DAC_WORDS]; /* DAC codes */
    uint32_t cat;                        /* 3-digit DAC categories (22 in the list) */
    uint32_t comp;                       /* COOTAD competencies a..n, bits 0..13 */
} minga_match_sectors_t;

typedef enum {
    MINGA_MATCH_SCOPE_NACIONAL,
    MINGA_MATCH_SCOPE_REGIONES,
    MINGA_MATCH_SCOPE_PROVINCIAS,
    MINGA_MATCH_SCOPE_CANTONES
} minga_match_scope_t;

typedef struct {
    minga_match_sectors_t sec;
    uint32_t cantons[MINGA_MATCH_CANTON_WORDS]; /* eligible: territory and population cap */
    uint32_t coop;                              /* cooperante index (the caller's numbering) */
    uint32_t amount_min, amount_max;            /* saturated; for a financial offer */
    uint8_t modality;                           /* index in minga_codes(MINGA_CL_MODALITY) */
    uint8_t scope;                              /* minga_match_scope_t */
    bool financial;                             /* subvención: the amount gate applies */
    bool cofinancing_required;
    bool valid;   /* valid on every day of the event */
    bool attends; /* the cooperante may be matched (attends, or attendance not required) */
} minga_match_offer_t;

typedef struct {
    minga_match_sectors_t sec;
    uint32_t amount, cofinancing; /* saturated */
    uint16_t canton;              /* index in minga_cantons() */
    uint8_t modality;
    uint8_t priority; /* 1..5 */
} minga_match_demand_t;

/* Prepares an offer for event ev: sectors, modality, amounts, the eligible cantons (with
 * populations from gad_population, indexed as minga_cantons(); NULL: INEC's), validity on
 * every day of ev, and attends as given. coop is stored as is. Returns 0 or MINGA_EINVAL for
 * a code not in the compiled-in lists (a record that did not pass import). */
int minga_match_offer_prepare(const minga_offer_t *rec, const minga_event_t *ev, uint32_t coop,
                              bool attends, const uint32_t *gad_population,
                              minga_match_offer_t *out);

/* Prepares a demand. Returns 0 or MINGA_EINVAL (unknown GAD or code). */
int minga_match_demand_prepare(const minga_demand_t *rec, minga_match_demand_t *out);

/* ---- the context: configuration, preferences, equity ---- */

typedef enum {
    MINGA_MATCH_PREF_NO = 1,
    MINGA_MATCH_PREF_WANT,
    MINGA_MATCH_PREF_MUST
} minga_match_pref_kind_t;

typedef struct {
    uint16_t canton; /* the GAD */
    uint32_t coop;   /* the cooperante */
    uint8_t kind;    /* minga_match_pref_kind_t */
} minga_match_pref_t;

typedef struct {
    /* the weights as 32-bit integers */
    int32_t w_dac, w_cat, w_comp, w_mod_exact, w_mod_related;
    int32_t w_amt_high, w_amt_mid, w_amt_low, w_amt_na, w_cof, w_cof_partial, w_priority;
    int32_t w_eq_small, w_eq_under, w_pref_must, w_pref_want;
    bool sector_gate;
    uint32_t k_demand, k_offer;
    uint32_t population[MINGA_MATCH_NCANTONS]; /* per canton */
    uint32_t coverage[MINGA_MATCH_NCANTONS];   /* active offers eligible per canton */
    bool small[MINGA_MATCH_NCANTONS], underserved[MINGA_MATCH_NCANTONS];
    minga_match_pref_t *prefs; /* sorted by (canton, coop), one per pair, "no" winning */
    size_t nprefs;
    uint32_t *pref_first; /* prefs of canton c: [pref_first[c], pref_first[c + 1]) */
} minga_match_ctx_t;

/* Builds the context: weights from cfg; equity from the populations (NULL: INEC's) and the
 * offers (those valid and attending count for coverage); preferences from prefs (copied,
 * merged per pair: "no" > obligatoria > deseada). Returns 0, MINGA_EINVAL for a K outside
 * 1..MINGA_MATCH_K_MAX, or MINGA_ENOMEM. Release with minga_match_ctx_clear(). */
int minga_match_ctx_init(minga_match_ctx_t *ctx, const minga_match_config_t *cfg,
                         const uint32_t *gad_population, const minga_match_offer_t *offers,
                         size_t noffers, const minga_match_pref_t *prefs, size_t nprefs);

/* Frees what ctx owns. */
void minga_match_ctx_clear(minga_match_ctx_t *ctx);

/* The preference between canton and coop: 0 or a minga_match_pref_kind_t. */
int minga_match_ctx_pref(const minga_match_ctx_t *ctx, uint16_t canton, uint32_t coop);

/* The part of a demand's score that does not depend on the offer (priority and equity). */
int32_t minga_match_demand_const(const minga_match_ctx_t *ctx, const minga_match_demand_t *d);

/* The modalities (bits by index) a demand of modality m accepts. */
uint32_t minga_match_modality_accepts(uint8_t m);

/* The index of "subvencion" in the modality list. */
uint8_t minga_match_modality_financial(void);

/* ---- the pair ---- */

typedef enum {
    MINGA_MATCH_PASS = 0,
    MINGA_MATCH_GATE_VALIDITY,
    MINGA_MATCH_GATE_ATTENDANCE,
    MINGA_MATCH_GATE_TERRITORY,
    MINGA_MATCH_GATE_MODALITY,
    MINGA_MATCH_GATE_AMOUNT,
    MINGA_MATCH_GATE_PREFERENCE,
    MINGA_MATCH_GATE_SECTOR,
} minga_match_gate_t;

/* A reason: code << 16 | argument. */
typedef enum {
    MINGA_MATCH_R_SECTOR_DAC = 1, /* arg: DAC code index */
    MINGA_MATCH_R_SECTOR_CAT,     /* arg: DAC category index */
    MINGA_MATCH_R_SECTOR_COMP,    /* arg: competency index */
    MINGA_MATCH_R_TERRITORY,      /* arg: scope */
    MINGA_MATCH_R_MOD_EXACT,      /* arg: modality index */
    MINGA_MATCH_R_MOD_RELATED,    /* arg: offer modality | demand modality << 8 */
    MINGA_MATCH_R_AMOUNT_RANGE,   /* arg: 2 high, 1 mid, 0 low */
    MINGA_MATCH_R_AMOUNT_NA,
    MINGA_MATCH_R_COFIN_OK, /* arg: 1 required by the offer */
    MINGA_MATCH_R_COFIN_PARTIAL,
    MINGA_MATCH_R_COFIN_NONE,
    MINGA_MATCH_R_PRIORITY,     /* arg: priority */
    MINGA_MATCH_R_EQUITY_SMALL, /* arg: canton index */
    MINGA_MATCH_R_EQUITY_UNDER, /* arg: canton index */
    MINGA_MATCH_R_PREF_MUST,
    MINGA_MATCH_R_PREF_WANT,
    MINGA_MATCH_R_COUNT
} minga_match_reason_code_t;

#define MINGA_MATCH_REASON(code, arg) ((uint32_t)(code) << 16 | (uint32_t)(arg))
#define MINGA_MATCH_REASONS_MAX 12

typedef struct {
    minga_match_gate_t gate; /* the first gate failed, or MINGA_MATCH_PASS */
    uint32_t n;
    uint32_t r[MINGA_MATCH_REASONS_MAX];
    int32_t parts[7]; /* sector, modality, amount, cofinancing, priority, equity, preference */
} minga_match_why_t;

/* Scores the pair: returns the score 0..MINGA_MATCH_SCORE_MAX, or -1 when a gate fails. why
 * (may be NULL) receives the gate and, for a pair that passes, its reasons and parts. */
int32_t minga_match_pair(const minga_match_ctx_t *ctx, const minga_match_demand_t *d,
                         const minga_match_offer_t *o, minga_match_why_t *why);

/* The Spanish text of reason r into buf (cap bytes); returns buf. An unknown code gives
 * "motivo N". */
char *minga_match_reason_text(uint32_t r, char *buf, size_t cap);

/* The English name of a gate ("territory"), static. */
const char *minga_match_gate_name(minga_match_gate_t gate);

#endif
