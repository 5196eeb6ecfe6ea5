/*
 * test_match_rules.c: the matching rules (match_rules.h) on hand-made records — every hard
 * gate with its edge (an offer valid up to the last day, for all of Amazonía, a population
 * equal to the cap, amounts at the range's bounds, a GAD with no eligible offer), every part
 * of the score, preferences in both directions, the clamp at 100, the reasons' Spanish text,
 * and the configuration section "match".
 */
#include "minga/codes.h"
#include "minga/error.h"
#include "minga/match_kernel.h"
#include "minga/match_rules.h"

#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <cmocka.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

/* ---- hand-made records ---- */

typedef struct {
    char *dac[4], *comp[4], *regions[4], *provinces[4], *cantons[4];
    minga_offer_t o;
} s_offer_t;

static minga_strv_t s_v(char **v)
{
    size_t n = 0;
    while (n < 4 && v[n])
        n++;
    return (minga_strv_t){v, n};
}

/* Technical assistance for water (14030, competency d), national, valid all of 2026-2027. */
static void s_offer(s_offer_t *b)
{
    memset(b, 0, sizeof *b);
    b->dac[0] = "14030";
    b->comp[0] = "d";
    b->o.id = "of-1";
    b->o.cooperante = "coop-1";
    b->o.title = "Asistencia técnica en agua potable";
    b->o.modality = "asistencia_tecnica";
    b->o.scope = "nacional";
    b->o.valid_from = "2026-01-01";
    b->o.valid_to = "2027-12-31";
}

static void s_offer_fix(s_offer_t *b)
{
    b->o.dac = s_v(b->dac);
    b->o.competencies = s_v(b->comp);
    b->o.regions = s_v(b->regions);
    b->o.provinces = s_v(b->provinces);
    b->o.cantons = s_v(b->cantons);
}

typedef struct {
    char *dac[4];
    minga_demand_t d;
} s_demand_t;

/* Cuenca (0101) asks technical assistance for water, priority 1. */
static void s_demand(s_demand_t *b)
{
    memset(b, 0, sizeof *b);
    b->dac[0] = "14030";
    b->d.id = "dem-1";
    b->d.gad = "0101";
    b->d.title = "Agua potable para Cuenca";
    b->d.competency = "d";
    b->d.modality = "asistencia_tecnica";
    b->d.priority = 1;
}

static minga_event_t s_event(void)
{
    minga_event_t e;
    memset(&e, 0, sizeof e);
    e.id = "jornada";
    e.date_start = "2026-11-12";
    e.date_end = "2026-11-13";
    return e;
}

typedef struct {
    minga_match_config_t cfg;
    minga_match_ctx_t ctx;
    minga_match_offer_t o;
    minga_match_demand_t d;
    minga_match_why_t why;
    minga_match_pref_t prefs[4];
    size_t nprefs;
} s_case_t;

/* Prepares both records and a context holding only this offer; returns the score. */
static int32_t s_score(s_case_t *c, s_offer_t *ob, s_demand_t *db)
{
    minga_event_t ev = s_event();
    s_offer_fix(ob);
    db->d.dac = s_v(db->dac);
    assert_int_equal(minga_match_offer_prepare(&ob->o, &ev, 7, true, NULL, &c->o), 0);
    assert_int_equal(minga_match_demand_prepare(&db->d, &c->d), 0);
    assert_int_equal(minga_match_ctx_init(&c->ctx, &c->cfg, NULL, &c->o, 1, c->prefs, c->nprefs),
                     0);
    int32_t s = minga_match_pair(&c->ctx, &c->d, &c->o, &c->why);
    minga_match_ctx_clear(&c->ctx);
    return s;
}

static void s_case(s_case_t *c, s_offer_t *ob, s_demand_t *db)
{
    memset(c, 0, sizeof *c);
    minga_match_config_defaults(&c->cfg);
    /* Equity and priority out of the way unless a test wants them. */
    c->cfg.equity_small = c->cfg.equity_underserved = 0;
    s_offer(ob);
    s_demand(db);
}

static bool s_has_reason(const minga_match_why_t *w, unsigned code)
{
    for (uint32_t i = 0; i < w->n; i++)
        if (w->r[i] >> 16 == code)
            return true;
    return false;
}

/* ---- gates ---- */

static void test_gate_validity(void **state)
{
    (void)state;
    s_case_t c;
    s_offer_t ob;
    s_demand_t db;
    s_case(&c, &ob, &db);
    ob.o.valid_to = "2026-11-13"; /* ends on the last day: valid every day */
    assert_true(s_score(&c, &ob, &db) >= 0);
    ob.o.valid_to = "2026-11-12"; /* ends on the first day */
    assert_int_equal(s_score(&c, &ob, &db), -1);
    assert_int_equal(c.why.gate, MINGA_MATCH_GATE_VALIDITY);
    ob.o.valid_to = "2027-01-01";
    ob.o.valid_from = "2026-11-13"; /* opens on the second day */
    assert_int_equal(s_score(&c, &ob, &db), -1);
    ob.o.valid_from = "2026-11-12";
    assert_true(s_score(&c, &ob, &db) >= 0);
}

static void test_gate_attendance(void **state)
{
    (void)state;
    s_case_t c;
    s_offer_t ob;
    s_demand_t db;
    s_case(&c, &ob, &db);
    minga_event_t ev = s_event();
    s_offer_fix(&ob);
    db.d.dac = s_v(db.dac);
    assert_int_equal(minga_match_offer_prepare(&ob.o, &ev, 7, false, NULL, &c.o), 0);
    assert_int_equal(minga_match_demand_prepare(&db.d, &c.d), 0);
    assert_int_equal(minga_match_ctx_init(&c.ctx, &c.cfg, NULL, &c.o, 1, NULL, 0), 0);
    assert_int_equal(minga_match_pair(&c.ctx, &c.d, &c.o, &c.why), -1);
    assert_int_equal(c.why.gate, MINGA_MATCH_GATE_ATTENDANCE);
    minga_match_ctx_clear(&c.ctx);
}

static void test_gate_territory_amazonia(void **state)
{
    (void)state;
    s_case_t c;
    s_offer_t ob;
    s_demand_t db;
    s_case(&c, &ob, &db);
    ob.o.scope = "regiones";
    ob.regions[0] = "amazonia";
    size_t n, amazonia = 0;
    const minga_canton_t *all = minga_cantons(&n);
    for (size_t i = 0; i < n; i++) {
        db.d.gad = (char *)all[i].code;
        int32_t s = s_score(&c, &ob, &db);
        if (all[i].region == MINGA_REGION_AMAZONIA) {
            assert_true(s >= 0);
            amazonia++;
        } else {
            assert_int_equal(s, -1);
            assert_int_equal(c.why.gate, MINGA_MATCH_GATE_TERRITORY);
        }
    }
    assert_int_equal(amazonia, 41); /* the six Amazonian provinces' cantons */
}

static void test_gate_territory_lists(void **state)
{
    (void)state;
    s_case_t c;
    s_offer_t ob;
    s_demand_t db;
    s_case(&c, &ob, &db);
    ob.o.scope = "provincias";
    ob.provinces[0] = "01";
    db.d.gad = "0102";
    assert_true(s_score(&c, &ob, &db) >= 0);
    db.d.gad = "0201";
    assert_int_equal(s_score(&c, &ob, &db), -1);
    ob.o.scope = "cantones";
    ob.provinces[0] = NULL;
    ob.cantons[0] = "0201";
    assert_true(s_score(&c, &ob, &db) >= 0);
    db.d.gad = "0101";
    assert_int_equal(s_score(&c, &ob, &db), -1);
    assert_int_equal(c.why.gate, MINGA_MATCH_GATE_TERRITORY);
}

static void test_gate_population_cap(void **state)
{
    (void)state;
    s_case_t c;
    s_offer_t ob;
    s_demand_t db;
    s_case(&c, &ob, &db);
    db.d.gad = "0102";
    uint32_t pop = minga_canton_find("0102")->population;
    ob.o.population_max = pop; /* equal: passes */
    assert_true(s_score(&c, &ob, &db) >= 0);
    ob.o.population_max = pop - 1;
    assert_int_equal(s_score(&c, &ob, &db), -1);
    assert_int_equal(c.why.gate, MINGA_MATCH_GATE_TERRITORY);
    /* the GAD record's population wins over INEC's table */
    uint32_t popv[MINGA_MATCH_NCANTONS];
    size_t n;
    const minga_canton_t *all = minga_cantons(&n);
    for (size_t i = 0; i < n; i++)
        popv[i] = all[i].population;
    popv[minga_canton_find("0102") - all] = pop - 1;
    minga_event_t ev = s_event();
    s_offer_fix(&ob);
    assert_int_equal(minga_match_offer_prepare(&ob.o, &ev, 1, true, popv, &c.o), 0);
    assert_true(c.o.cantons[(minga_canton_find("0102") - all) / 32] &
                1u << ((minga_canton_find("0102") - all) % 32));
}

static void test_gate_modality(void **state)
{
    (void)state;
    s_case_t c;
    s_offer_t ob;
    s_demand_t db;
    s_case(&c, &ob, &db);
    ob.o.modality = "subvencion";
    ob.o.amount_min = 1;
    ob.o.amount_max = 10;
    assert_int_equal(s_score(&c, &ob, &db), -1);
    assert_int_equal(c.why.gate, MINGA_MATCH_GATE_MODALITY);
    ob.o.modality = "capacitacion"; /* related to asistencia técnica */
    assert_true(s_score(&c, &ob, &db) >= 0);
    assert_int_equal(c.why.parts[1], 500);
    assert_true(s_has_reason(&c.why, MINGA_MATCH_R_MOD_RELATED));
    ob.o.modality = "becas";
    assert_int_equal(s_score(&c, &ob, &db), -1);
    ob.o.modality = "asistencia_tecnica";
    assert_true(s_score(&c, &ob, &db) >= 0);
    assert_int_equal(c.why.parts[1], 1000);
    db.d.modality = "subvencion";
    db.d.amount = 5;
    assert_int_equal(s_score(&c, &ob, &db), -1);
    assert_int_equal(c.why.gate, MINGA_MATCH_GATE_MODALITY);
}

static void test_gate_amount_bounds(void **state)
{
    (void)state;
    s_case_t c;
    s_offer_t ob;
    s_demand_t db;
    s_case(&c, &ob, &db);
    ob.o.modality = "subvencion";
    ob.o.amount_min = 5000;
    ob.o.amount_max = 50000;
    db.d.modality = "subvencion";
    const struct {
        uint64_t amount;
        int32_t part; /* -1: fails the gate */
    } cases[] = {{4999, -1},   {5000, 400},   {9999, 400},   {10000, 700},
                 {24999, 700}, {25000, 1000}, {50000, 1000}, {50001, -1}};
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        db.d.amount = cases[i].amount;
        int32_t s = s_score(&c, &ob, &db);
        if (cases[i].part < 0) {
            assert_int_equal(s, -1);
            assert_int_equal(c.why.gate, MINGA_MATCH_GATE_AMOUNT);
        } else {
            assert_true(s >= 0);
            assert_int_equal(c.why.parts[2], cases[i].part);
        }
    }
    /* non-financial offers have no amount gate */
    ob.o.modality = "asistencia_tecnica";
    db.d.modality = "asistencia_tecnica";
    db.d.amount = 999999999;
    assert_true(s_score(&c, &ob, &db) >= 0);
    assert_int_equal(c.why.parts[2], 700);
}

static void test_gate_preference(void **state)
{
    (void)state;
    s_case_t c;
    s_offer_t ob;
    s_demand_t db;
    s_case(&c, &ob, &db);
    uint16_t cuenca = 0; /* 0101 is the first canton */
    int32_t base = s_score(&c, &ob, &db);
    c.prefs[0] = (minga_match_pref_t){cuenca, 7, MINGA_MATCH_PREF_WANT};
    c.nprefs = 1;
    assert_int_equal(s_score(&c, &ob, &db), base + 1000);
    c.prefs[0].kind = MINGA_MATCH_PREF_MUST;
    assert_int_equal(s_score(&c, &ob, &db), base + 2000);
    assert_true(s_has_reason(&c.why, MINGA_MATCH_R_PREF_MUST));
    c.prefs[1] = (minga_match_pref_t){cuenca, 7, MINGA_MATCH_PREF_NO}; /* the other way */
    c.nprefs = 2;
    assert_int_equal(s_score(&c, &ob, &db), -1);
    assert_int_equal(c.why.gate, MINGA_MATCH_GATE_PREFERENCE);
    c.prefs[1].coop = 8; /* another cooperante's "no" changes nothing */
    assert_int_equal(s_score(&c, &ob, &db), base + 2000);
}

static void test_gate_sector(void **state)
{
    (void)state;
    s_case_t c;
    s_offer_t ob;
    s_demand_t db;
    s_case(&c, &ob, &db);
    ob.dac[0] = "21020";
    ob.comp[0] = "c";
    assert_int_equal(s_score(&c, &ob, &db), -1);
    assert_int_equal(c.why.gate, MINGA_MATCH_GATE_SECTOR);
    c.cfg.sector_gate = 0;
    assert_true(s_score(&c, &ob, &db) >= 0);
    assert_int_equal(c.why.parts[0], 0);
}

/* ---- the parts of the score ---- */

static void test_part_sector(void **state)
{
    (void)state;
    s_case_t c;
    s_offer_t ob;
    s_demand_t db;
    s_case(&c, &ob, &db);
    s_score(&c, &ob, &db);
    assert_int_equal(c.why.parts[0], 3500);
    assert_int_equal(c.why.r[0] >> 16, MINGA_MATCH_R_SECTOR_DAC);
    ob.dac[0] = "14050"; /* same category 140 */
    s_score(&c, &ob, &db);
    assert_int_equal(c.why.parts[0], 2500);
    assert_int_equal(c.why.r[0] >> 16, MINGA_MATCH_R_SECTOR_CAT);
    ob.dac[0] = "21020"; /* only the competency */
    s_score(&c, &ob, &db);
    assert_int_equal(c.why.parts[0], 1500);
    assert_int_equal(c.why.r[0] >> 16, MINGA_MATCH_R_SECTOR_COMP);
    ob.dac[1] = "14030"; /* a second code that matches */
    s_score(&c, &ob, &db);
    assert_int_equal(c.why.parts[0], 3500);
}

static void test_part_cofinancing(void **state)
{
    (void)state;
    s_case_t c;
    s_offer_t ob;
    s_demand_t db;
    s_case(&c, &ob, &db);
    ob.o.cofinancing_required = true;
    db.d.amount = 100000;
    const struct {
        uint64_t cof;
        int32_t part;
    } cases[] = {{20000, 500}, {19999, 250}, {1, 250}, {0, 0}};
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        db.d.cofinancing = cases[i].cof;
        s_score(&c, &ob, &db);
        assert_int_equal(c.why.parts[3], cases[i].part);
    }
    ob.o.cofinancing_required = false;
    db.d.cofinancing = 0;
    s_score(&c, &ob, &db);
    assert_int_equal(c.why.parts[3], 500);
}

static void test_part_priority(void **state)
{
    (void)state;
    s_case_t c;
    s_offer_t ob;
    s_demand_t db;
    s_case(&c, &ob, &db);
    const int32_t want[6] = {0, 1000, 800, 600, 400, 200};
    for (uint64_t p = 1; p <= 5; p++) {
        db.d.priority = p;
        s_score(&c, &ob, &db);
        assert_int_equal(c.why.parts[4], want[p]);
    }
}

static void test_part_equity(void **state)
{
    (void)state;
    s_case_t c;
    s_offer_t ob, ob2;
    s_demand_t db;
    s_case(&c, &ob, &db);
    c.cfg.equity_small = 500;
    c.cfg.equity_underserved = 500;
    s_offer(&ob2);
    ob2.o.scope = "cantones";
    ob2.cantons[0] = "0102";
    s_offer_fix(&ob);
    s_offer_fix(&ob2);
    minga_event_t ev = s_event();
    minga_match_offer_t o[2];
    assert_int_equal(minga_match_offer_prepare(&ob.o, &ev, 1, true, NULL, &o[0]), 0);
    assert_int_equal(minga_match_offer_prepare(&ob2.o, &ev, 2, true, NULL, &o[1]), 0);
    assert_int_equal(minga_match_ctx_init(&c.ctx, &c.cfg, NULL, o, 2, NULL, 0), 0);
    /* Girón (13,037 people) has both offers: small, well served */
    db.d.gad = "0102";
    db.d.dac = s_v(db.dac);
    assert_int_equal(minga_match_demand_prepare(&db.d, &c.d), 0);
    minga_match_pair(&c.ctx, &c.d, &o[0], &c.why);
    assert_int_equal(c.why.parts[5], 500);
    assert_true(s_has_reason(&c.why, MINGA_MATCH_R_EQUITY_SMALL));
    /* Cuenca: large, and only the national offer (1 <= 50 % of 2): poorly served */
    db.d.gad = "0101";
    assert_int_equal(minga_match_demand_prepare(&db.d, &c.d), 0);
    minga_match_pair(&c.ctx, &c.d, &o[0], &c.why);
    assert_int_equal(c.why.parts[5], 500);
    assert_true(s_has_reason(&c.why, MINGA_MATCH_R_EQUITY_UNDER));
    assert_false(s_has_reason(&c.why, MINGA_MATCH_R_EQUITY_SMALL));
    minga_match_ctx_clear(&c.ctx);
}

static void test_score_sum_and_clamp(void **state)
{
    (void)state;
    s_case_t c;
    s_offer_t ob;
    s_demand_t db;
    s_case(&c, &ob, &db);
    /* code 3500 + exact 1000 + non-financial 700 + co-financing 500 + priority 1000 */
    assert_int_equal(s_score(&c, &ob, &db), 6700);
    c.cfg.sector_dac = 9000;
    c.cfg.priority = 9000;
    assert_int_equal(s_score(&c, &ob, &db), MINGA_MATCH_SCORE_MAX);
    minga_match_config_t d;
    minga_match_config_defaults(&d);
    assert_int_equal(d.sector_dac + d.modality_exact + d.amount_high + d.cofinancing + d.priority +
                         d.equity_small + d.equity_underserved + d.preference_must,
                     10000);
}

/* A GAD that no offer serves gets no candidate; the others do. */
static void test_gad_without_offer(void **state)
{
    (void)state;
    s_case_t c;
    s_offer_t ob;
    s_demand_t db, db2;
    s_case(&c, &ob, &db);
    s_demand(&db2);
    ob.o.scope = "regiones";
    ob.regions[0] = "amazonia";
    db2.d.id = "dem-2";
    db2.d.gad = "1501"; /* Tena */
    s_offer_fix(&ob);
    db.d.dac = s_v(db.dac);
    db2.d.dac = s_v(db2.dac);
    minga_event_t ev = s_event();
    minga_match_offer_t o;
    minga_match_demand_t d[2];
    assert_int_equal(minga_match_offer_prepare(&ob.o, &ev, 1, true, NULL, &o), 0);
    assert_int_equal(minga_match_demand_prepare(&db.d, &d[0]), 0);
    assert_int_equal(minga_match_demand_prepare(&db2.d, &d[1]), 0);
    assert_int_equal(minga_match_ctx_init(&c.ctx, &c.cfg, NULL, &o, 1, NULL, 0), 0);
    minga_match_kernel_t *k = NULL;
    minga_match_topk_t t;
    assert_int_equal(minga_match_kernel_new(&k, &c.ctx, &o, 1), 0);
    assert_int_equal(minga_match_topk_init(&t, 2, 1, 10, 10), 0);
    minga_match_kernel_score(k, d, 2, &t, MINGA_MATCH_PATH_AUTO);
    minga_match_topk_finish(&t);
    assert_int_equal(t.demand_n[0], 0);
    assert_int_equal(t.demand_n[1], 1);
    assert_int_equal(t.offer_n[0], 1);
    assert_int_equal(t.offer_top[0].id, 1);
    minga_match_topk_clear(&t);
    minga_match_kernel_destroy(&k);
    minga_match_ctx_clear(&c.ctx);
}

/* ---- reasons and configuration ---- */

static void test_reason_text(void **state)
{
    (void)state;
    s_case_t c;
    s_offer_t ob;
    s_demand_t db;
    s_case(&c, &ob, &db);
    ob.o.modality = "subvencion";
    ob.o.amount_min = 1000;
    ob.o.amount_max = 2000;
    db.d.modality = "subvencion";
    db.d.amount = 2000;
    assert_true(s_score(&c, &ob, &db) >= 0);
    char buf[512];
    assert_string_equal(minga_match_reason_text(c.why.r[0], buf, sizeof buf),
                        "Sector CAD 14030 Agua potable y saneamiento básico coincide");
    bool amount = false, modality = false;
    for (uint32_t i = 0; i < c.why.n; i++) {
        minga_match_reason_text(c.why.r[i], buf, sizeof buf);
        amount |= strncmp(buf, "Monto dentro del rango de la oferta", 35) == 0;
        modality |= strcmp(buf, "Modalidad: Subvención (no reembolsable)") == 0;
    }
    assert_true(amount);
    assert_true(modality);
    assert_string_equal(
        minga_match_reason_text(MINGA_MATCH_REASON(MINGA_MATCH_R_PREF_WANT, 0), buf, sizeof buf),
        "Preferencia: reunión deseada");
    assert_string_equal(minga_match_reason_text(0xffff0000u, buf, sizeof buf), "motivo 4294901760");
}

static void test_config(void **state)
{
    (void)state;
    char path[] = "/tmp/minga-match-cfg-XXXXXX";
    int fd = mkstemp(path);
    assert_true(fd >= 0);
    const char *text = "broker\n    heartbeat_ms = 500\nmatch\n    sector_dac = 4000\n"
                       "    k_demand = 5\n";
    assert_int_equal(write(fd, text, strlen(text)), (ssize_t)strlen(text));
    close(fd);
    minga_match_config_t cfg;
    char err[256];
    assert_int_equal(minga_match_config_load(&cfg, path, err, sizeof err), 0);
    assert_int_equal(cfg.sector_dac, 4000);
    assert_int_equal(cfg.k_demand, 5);
    assert_int_equal(cfg.k_offer, 10);
    FILE *f = fopen(path, "w");
    fputs("match\n    k_demand = 0\n", f);
    fclose(f);
    assert_int_not_equal(minga_match_config_load(&cfg, path, err, sizeof err), 0);
    assert_non_null(strstr(err, "k_demand"));
    f = fopen(path, "w");
    fputs("match\n    no_such_weight = 1\n", f);
    fclose(f);
    assert_int_not_equal(minga_match_config_load(&cfg, path, err, sizeof err), 0);
    assert_non_null(strstr(err, "no_such_weight"));
    unlink(path);
    assert_int_equal(minga_match_config_load(&cfg, NULL, err, sizeof err), 0);
    assert_int_equal(cfg.sector_dac, 3500);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_gate_validity),
        cmocka_unit_test(test_gate_attendance),
        cmocka_unit_test(test_gate_territory_amazonia),
        cmocka_unit_test(test_gate_territory_lists),
        cmocka_unit_test(test_gate_population_cap),
        cmocka_unit_test(test_gate_modality),
        cmocka_unit_test(test_gate_amount_bounds),
        cmocka_unit_test(test_gate_preference),
        cmocka_unit_test(test_gate_sector),
        cmocka_unit_test(test_part_sector),
        cmocka_unit_test(test_part_cofinancing),
        cmocka_unit_test(test_part_priority),
        cmocka_unit_test(test_part_equity),
        cmocka_unit_test(test_score_sum_and_clamp),
        cmocka_unit_test(test_gad_without_offer),
        cmocka_unit_test(test_reason_text),
        cmocka_unit_test(test_config),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
