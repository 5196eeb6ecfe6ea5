/*
 * test_import.c: registry import and export — CSV with ';' and ',', BOM or not, quoted fields
 * with line breaks, JSON; all or nothing; every error named with line, column and field; the
 * change log; export → import → export identical; a full map leaves the store as before.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include "minga/error.h"
#include "minga/io.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static char s_dir[64];
static minga_store_t *s_store;

static const char *s_gads = "\xEF\xBB\xBF"
                            "código;nombre;provincia;región;población;correo;regional_ame\n"
                            "0101;Cuenca;01;sierra;636996;alcaldia@cuenca.gob.ec;Regional 6\n"
                            "0102;Girón;01;Sierra;13037;;\n"
                            "2201;Lago Agrio;22;Amazonía;105000;;\n";

static const char *s_coops =
    "id,nombre,tipo,subtipo,país,idiomas,correo,gad,actualizado\n"
    "coop-1,Agencia Uno,bilateral,,Alemania,\"de,es\",a@uno.de,,2026-01-05\n"
    "coop-2,\"Fundación\nDos\",privada,fundacion,Ecuador,es,,,\n";

static const char *s_offers =
    "id;cooperante;título;competencias;sectores_cad;modalidad;monto_mín;monto_máx;ámbito;"
    "regiones;provincias;cantones;población_máx;cofinanciamiento_requerido;válida_desde;"
    "válida_hasta\n"
    "of-1;coop-1;Agua para todos;d;14030,14050;subvencion;10000;500000;regiones;amazonia;;;"
    "200000;sí;2026-01-01;2026-12-31\n"
    "of-2;coop-2;Catastro;\"a,b\";43030;asistencia_tecnica;;;nacional;;;;;no;2026-01-01;"
    "2027-06-30\n";

static int s_setup(void **state)
{
    (void)state;
    strcpy(s_dir, "/tmp/minga-XXXXXX");
    assert_non_null(mkdtemp(s_dir));
    return minga_store_open(&s_store, s_dir, MINGA_STORE_CREATE);
}

static int s_teardown(void **state)
{
    (void)state;
    minga_store_destroy(&s_store);
    char cmd[128];
    snprintf(cmd, sizeof cmd, "rm -rf %s", s_dir);
    return system(cmd) == 0 ? 0 : -1;
}

static int s_import(const char *kind, const char *name, const char *text,
                    minga_import_report_t *rep)
{
    minga_import_opts_t opts = {.event = "jornada-2026", .who = "test"};
    return minga_import_buffer(s_store, minga_rtype_find(kind), name, text, strlen(text), &opts,
                               rep);
}

static void s_import_ok(const char *kind, const char *text)
{
    minga_import_report_t rep;
    int rc = s_import(kind, kind, text, &rep);
    for (size_t i = 0; i < rep.nerrors && i < 50; i++)
        fprintf(stderr, "%s:%ld:%d: %s: %s\n", rep.errors[i].file, rep.errors[i].line,
                rep.errors[i].column, rep.errors[i].field, rep.errors[i].message);
    assert_int_equal(rc, 0);
    minga_import_report_clear(&rep);
}

static char *s_export(const char *kind, minga_format_t fmt)
{
    char *buf = NULL;
    size_t len = 0, count;
    FILE *f = open_memstream(&buf, &len);
    assert_int_equal(minga_export(s_store, minga_rtype_find(kind), "jornada-2026", fmt, f, &count),
                     0);
    fclose(f);
    return buf;
}

static uint64_t s_entries(minga_db_t db)
{
    minga_store_info_t info;
    assert_int_equal(minga_store_info(s_store, &info), 0);
    return info.db[db].entries;
}

/* The error list holds one on line with field and a message containing what. */
static bool s_has_error(const minga_import_report_t *rep, long line, const char *field,
                        const char *what)
{
    for (size_t i = 0; i < rep->nerrors && i < 50; i++)
        if (rep->errors[i].line == line && strcmp(rep->errors[i].field, field) == 0 &&
            strstr(rep->errors[i].message, what))
            return true;
    for (size_t i = 0; i < rep->nerrors && i < 50; i++)
        fprintf(stderr, "  have %ld %s: %s\n", rep->errors[i].line, rep->errors[i].field,
                rep->errors[i].message);
    return false;
}

static void test_csv_both_delimiters_and_quotes(void **state)
{
    (void)state;
    s_import_ok("gads", s_gads);
    s_import_ok("cooperantes", s_coops);
    s_import_ok("offers", s_offers);
    assert_int_equal(s_entries(MINGA_DB_GAD), 3);
    assert_int_equal(s_entries(MINGA_DB_COOPERANTE), 2);
    assert_int_equal(s_entries(MINGA_DB_OFFER), 2);
    char *csv = s_export("cooperantes", MINGA_FORMAT_CSV);
    /* the quoted name with a line break survives; lists come back joined by ',' */
    assert_non_null(strstr(csv, "\"Fundación\nDos\""));
    assert_non_null(strstr(csv, ";de,es;"));
    assert_memory_equal(csv, "\xEF\xBB\xBF", 3);
    free(csv);
    char *gads = s_export("gads", MINGA_FORMAT_CSV);
    /* labels are stored as their codes */
    assert_non_null(strstr(gads, "0102;Girón;01;sierra;13037;;\n"));
    assert_non_null(strstr(gads, "2201;Lago Agrio;22;amazonia;"));
    free(gads);
}

static void test_round_trip_identical(void **state)
{
    (void)state;
    s_import_ok("gads", s_gads);
    s_import_ok("cooperantes", s_coops);
    s_import_ok("offers", s_offers);
    const char *kinds[] = {"gads", "cooperantes", "offers"};
    for (int k = 0; k < 3; k++) {
        for (int fmt = 0; fmt < 2; fmt++) {
            char *a = s_export(kinds[k], (minga_format_t)fmt);
            minga_import_report_t rep;
            assert_int_equal(s_import(kinds[k], "again", a, &rep), 0);
            assert_int_equal(rep.unchanged, rep.rows);
            minga_import_report_clear(&rep);
            char *b = s_export(kinds[k], (minga_format_t)fmt);
            assert_string_equal(a, b);
            free(a);
            free(b);
        }
    }
}

static void test_json_import(void **state)
{
    (void)state;
    s_import_ok("gads", s_gads);
    s_import_ok("cooperantes", "[{\"id\":\"coop-9\",\"nombre\":\"Nueve\",\"tipo\":\"multilateral\","
                               "\"país\":\"Suiza\",\"idiomas\":[\"en\",\"fr\"]}]");
    char *json = s_export("cooperantes", MINGA_FORMAT_JSON);
    assert_non_null(strstr(json, "\"idiomas\":[\"en\",\"fr\"]"));
    free(json);
    minga_import_report_t rep;
    assert_int_equal(s_import("cooperantes", "c.json",
                              "[{\"id\":\"coop-8\",\"nombre\":\"X\",\"tipo\":\"nada\",\"país\":"
                              "\"Y\",\"colour\":1}, 3]",
                              &rep),
                     MINGA_EREJECTED);
    assert_true(s_has_error(&rep, 1, "tipo", "unknown"));
    assert_true(s_has_error(&rep, 1, "colour", "unknown field"));
    assert_true(s_has_error(&rep, 2, "", "not an object"));
    minga_import_report_clear(&rep);
    assert_int_equal(s_import("cooperantes", "c.json", "[{\"id\": ", &rep), MINGA_EREJECTED);
    assert_true(rep.nerrors == 1 && strstr(rep.errors[0].message, "malformed JSON"));
    minga_import_report_clear(&rep);
}

static void test_all_errors_named_nothing_written(void **state)
{
    (void)state;
    s_import_ok("gads", s_gads);
    s_import_ok("cooperantes", s_coops);
    const char *bad =
        "id;cooperante;título;competencias;sectores_cad;modalidad;monto_mín;monto_máx;ámbito;"
        "regiones;provincias;cantones;población_máx;cofinanciamiento_requerido;válida_desde;"
        "válida_hasta\n"
        "of-1;coop-1;Bien;d;14030;subvencion;100;200;nacional;;;;;no;2026-01-01;2026-12-31\n"
        "of-2;coop-1;DAC;d;99999;capacitacion;;;nacional;;;;;no;2026-01-01;2026-12-31\n"
        "of-3;coop-1;Montos;d;14030;subvencion;900;100;nacional;;;;;no;2026-01-01;2026-12-31\n"
        "of-4;coop-1;Fechas;d;14030;becas;;;nacional;;;;;no;2026-12-31;2026-01-01\n"
        "of-5;coop-404;Ref;d;14030;becas;;;nacional;;;;;no;2026-01-01;2026-12-31\n"
        "of-1;coop-1;Dup;d;14030;becas;;;nacional;;;;;no;2026-01-01;2026-12-31\n"
        "of-7;coop-1;\"Varias\nlíneas\";z;14030;becas;;;cantones;;;9999;;no;2026-01-01;"
        "2026-02-30\n"
        "8of;coop-1;Id;d;14030;becas;;;nacional;;;;;no;2026-01-01;2026-12-31\n"
        "of-9;coop-1;Corta\n";
    minga_import_report_t rep;
    assert_int_equal(s_import("offers", "offers.csv", bad, &rep), MINGA_EREJECTED);
    assert_true(s_has_error(&rep, 3, "sectores_cad", "unknown DAC code '99999'"));
    assert_true(s_has_error(&rep, 4, "monto_mín", "min 900 > max 100"));
    assert_true(s_has_error(&rep, 5, "válida_hasta", "end 2026-01-01 before start"));
    assert_true(s_has_error(&rep, 6, "cooperante", "unknown cooperante 'coop-404'"));
    assert_true(s_has_error(&rep, 7, "id", "duplicate id 'of-1' (also on line 2)"));
    assert_true(s_has_error(&rep, 8, "competencias", "unknown COOTAD competency 'z'"));
    assert_true(s_has_error(&rep, 8, "cantones", "unknown DPA canton code '9999'"));
    assert_true(s_has_error(&rep, 8, "válida_hasta", "not a real date"));
    assert_true(s_has_error(&rep, 10, "id", "not a valid id"));
    assert_true(s_has_error(&rep, 11, "", "row has 3 fields"));
    assert_string_equal(rep.errors[0].file, "offers.csv");
    /* columns count from 1: sectores_cad is the 5th */
    for (size_t i = 0; i < rep.nerrors; i++)
        if (strcmp(rep.errors[i].field, "sectores_cad") == 0)
            assert_int_equal(rep.errors[i].column, 5);
    minga_import_report_clear(&rep);
    assert_int_equal(s_entries(MINGA_DB_OFFER), 0);
}

static void test_email_and_header_errors(void **state)
{
    (void)state;
    minga_import_report_t rep;
    assert_int_equal(s_import("gads", "g.csv",
                              "código;nombre;provincia;región;población;correo\n"
                              "0101;Cuenca;01;sierra;1;no es correo\n"
                              "0102;Girón;02;sierra;1;a@b\n",
                              &rep),
                     MINGA_EREJECTED);
    assert_true(s_has_error(&rep, 2, "correo", "malformed e-mail"));
    assert_true(s_has_error(&rep, 3, "correo", "malformed e-mail"));
    minga_import_report_clear(&rep);
    assert_int_equal(s_import("gads", "g.csv", "código;nombre;color\n0101;Cuenca;rojo\n", &rep),
                     MINGA_EREJECTED);
    assert_true(s_has_error(&rep, 1, "color", "unknown column"));
    assert_true(s_has_error(&rep, 1, "provincia", "required column"));
    minga_import_report_clear(&rep);
    assert_int_equal(s_import("gads", "g.csv", "", &rep), MINGA_EREJECTED);
    minga_import_report_clear(&rep);
    assert_int_equal(s_import("gads", "g.csv", "código;nombre\n\"0101;x\n", &rep), MINGA_EREJECTED);
    assert_true(strstr(rep.errors[0].message, "malformed CSV") != NULL ||
                strstr(rep.errors[0].message, "required column") != NULL);
    minga_import_report_clear(&rep);
    assert_int_equal(s_entries(MINGA_DB_GAD), 0);
}

static void test_hostile_bytes(void **state)
{
    (void)state;
    static const char nul[] =
        "código;nombre;provincia;región;población\n0101;Cu\0enca;01;sierra;5\n";
    minga_import_opts_t opts = {.who = "test"};
    minga_import_report_t rep;
    assert_int_equal(
        minga_import_buffer(s_store, &minga_rtype_gad, "nul.csv", nul, sizeof nul - 1, &opts, &rep),
        MINGA_EREJECTED);
    assert_true(s_has_error(&rep, 2, "", "NUL byte"));
    minga_import_report_clear(&rep);
    /* a JSON object instead of an array is named as such, not as malformed CSV */
    assert_int_equal(s_import("gads", "o.json", "{\"código\": \"0101\"}", &rep), MINGA_EREJECTED);
    assert_true(s_has_error(&rep, 1, "", "array of objects"));
    minga_import_report_clear(&rep);
    /* not UTF-8 */
    assert_int_equal(
        s_import("gads", "l1.csv",
                 "código;nombre;provincia;región;población\n0101;Cuenca \xe9;01;sierra;5\n", &rep),
        MINGA_EREJECTED);
    assert_true(s_has_error(&rep, 2, "nombre", "not valid UTF-8"));
    minga_import_report_clear(&rep);
    assert_int_equal(s_entries(MINGA_DB_GAD), 0);
}

static void test_change_log(void **state)
{
    (void)state;
    s_import_ok("gads", s_gads);
    const char *changed = "código;nombre;provincia;región;población;correo;regional_ame\n"
                          "0101;Cuenca;01;sierra;700000;alcaldia@cuenca.gob.ec;Regional 6\n"
                          "0102;Girón;01;Sierra;13037;;\n";
    minga_import_report_t rep;
    assert_int_equal(s_import("gads", "g2.csv", changed, &rep), 0);
    assert_int_equal(rep.updated, 1);
    assert_int_equal(rep.unchanged, 1);
    assert_int_equal(rep.created, 0);
    minga_import_report_clear(&rep);
    typedef struct {
        int n;
        bool seen;
    } ctx_t;
    ctx_t ctx = {0, false};
    int fn(const minga_change_t *c, void *arg);
    assert_int_equal(minga_changes_each(s_store, "gads", "0101", fn, &ctx), 0);
    assert_int_equal(ctx.n, 1);
    assert_true(ctx.seen);
}

int fn(const minga_change_t *c, void *arg)
{
    struct {
        int n;
        bool seen;
    } *ctx = arg;
    ctx->n++;
    ctx->seen = strcmp(c->field, "población") == 0 && strcmp(c->old_value, "636996") == 0 &&
                strcmp(c->new_value, "700000") == 0 && strcmp(c->who, "test") == 0 &&
                strcmp(c->source, "g2.csv:2") == 0 && strlen(c->at) == 25;
    return 0;
}

static void test_participants_need_event(void **state)
{
    (void)state;
    s_import_ok("gads", s_gads);
    s_import_ok("cooperantes", s_coops);
    const char *parts = "party;kind;min_meetings;max_meetings;tables;available_slots;email\n"
                        "0101;gad;2;8;;1-8,11-14;\n"
                        "coop-1;cooperante;;10;2;;a@uno.de\n";
    minga_import_report_t rep;
    assert_int_equal(s_import("participants", "p.csv", parts, &rep), MINGA_EREJECTED);
    assert_true(s_has_error(&rep, 0, "event", "unknown event 'jornada-2026'"));
    minga_import_report_clear(&rep);
    s_import_ok("events", "id;nombre;fecha_inicio;fecha_fin;zona_horaria;hora_inicio;hora_fin;"
                          "minutos_por_turno;mesas;máx_reuniones;mín_reuniones_gad\n"
                          "jornada-2026;Jornada;2026-11-12;2026-11-13;America/Guayaquil;09:00;"
                          "17:00;20;50;12;3\n");
    s_import_ok("participants", parts);
    char *csv = s_export("participants", MINGA_FORMAT_CSV);
    assert_non_null(strstr(csv, "0101;gad;2;8;;1-8,11-14;\n"));
    free(csv);
    assert_int_equal(s_import("participants", "p.csv",
                              "party;kind;max_meetings;available_slots\n"
                              "0102;cooperante;3;\n2201;gad;3;40-49\ncoop-2;gad;4;5-1\n",
                              &rep),
                     MINGA_EREJECTED);
    assert_true(s_has_error(&rep, 2, "kind", "is a DPA canton code"));
    assert_true(s_has_error(&rep, 3, "available_slots", "past the event's last slot 48"));
    assert_true(s_has_error(&rep, 4, "available_slots", "empty"));
    minga_import_report_clear(&rep);
}

static void test_full_map_leaves_store(void **state)
{
    (void)state;
    s_import_ok("gads", s_gads);
    s_import_ok("cooperantes", s_coops);
    /* 200,000 offers do not fit in a map that may not grow past 64 MiB... */
    size_t cap = 128u << 20, len = 0;
    char *big = malloc(cap);
    len += (size_t)sprintf(big, "id;cooperante;título;sectores_cad;modalidad;ámbito;"
                                "válida_desde;válida_hasta\n");
    char title[900];
    memset(title, 'x', sizeof title - 1);
    title[sizeof title - 1] = '\0';
    for (int i = 0; i < 200000; i++)
        len += (size_t)sprintf(big + len,
                               "of-%d;coop-1;%.299s;14030;becas;nacional;2026-01-01;2026-12-31\n",
                               i, title);
    minga_store_set_map_max(s_store, MINGA_STORE_MAP_INITIAL);
    minga_import_report_t rep;
    minga_import_opts_t opts = {.who = "test"};
    int rc = minga_import_buffer(s_store, &minga_rtype_offer, "big.csv", big, len, &opts, &rep);
    assert_int_equal(rc, MINGA_EMAPFULL);
    minga_import_report_clear(&rep);
    assert_int_equal(s_entries(MINGA_DB_OFFER), 0);
    assert_int_equal(s_entries(MINGA_DB_GAD), 3);
    /* ...and do once it may */
    minga_store_set_map_max(s_store, 1ull << 30);
    rc = minga_import_buffer(s_store, &minga_rtype_offer, "big.csv", big, len, &opts, &rep);
    assert_int_equal(rc, 0);
    assert_int_equal(rep.created, 200000);
    minga_import_report_clear(&rep);
    free(big);
}

int main(void)
{
#define T(f) cmocka_unit_test_setup_teardown(f, s_setup, s_teardown)
    const struct CMUnitTest tests[] = {
        T(test_csv_both_delimiters_and_quotes),
        T(test_round_trip_identical),
        T(test_json_import),
        T(test_all_errors_named_nothing_written),
        T(test_email_and_header_errors),
        T(test_change_log),
        T(test_participants_need_event),
        T(test_full_map_leaves_store),
        T(test_hostile_bytes),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
