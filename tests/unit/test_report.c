/*
 * test_report.c: the pure pieces of the reports (report.h) — the formats list, the Gini
 * coefficient and the median against values worked by hand, the coverage gap of a hand-made
 * set of demands (counts by competency, province and both, its order, its amount, codes
 * outside the lists) — and the reports of a small hand-made event in a temporary store:
 * every file is written and recorded, the meetings CSV holds the meetings in key order with
 * Spanish headers and decimal commas, a participant with no meeting gets an agenda, the gap
 * CSV lists the one demand with no candidate, the figures agree with the meetings, and the
 * stored report records have the fields of schemas/records/report.json.
 */
#include "minga/error.h"
#include "minga/match_store.h"
#include "minga/meeting.h"
#include "minga/pdf.h"
#include "minga/record.h"
#include "minga/report.h"
#include "minga/report_data.h"

#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <cmocka.h>

#include <jansson.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

static bool s_near(double a, double b)
{
    return fabs(a - b) < 1e-9;
}

static void test_formats(void **state)
{
    (void)state;
    unsigned f;
    char err[128], text[32];
    assert_int_equal(minga_report_formats_parse("csv,pdf", &f, err, sizeof err), 0);
    assert_int_equal(f, MINGA_REPORT_CSV | MINGA_REPORT_PDF);
    assert_string_equal(minga_report_formats_text(f, text, sizeof text), "csv,pdf");
    assert_int_equal(minga_report_formats_parse("all", &f, err, sizeof err), 0);
    assert_int_equal(f, MINGA_REPORT_ALL);
    assert_string_equal(minga_report_formats_text(f, text, sizeof text), "csv,html,pdf");
    assert_int_equal(minga_report_formats_parse("html", &f, err, sizeof err), 0);
    assert_string_equal(minga_report_formats_text(f, text, sizeof text), "html");
    assert_int_equal(minga_report_formats_parse("csv,xls", &f, err, sizeof err), MINGA_EINVAL);
    assert_non_null(strstr(err, "'xls'"));
    assert_int_equal(minga_report_formats_parse("", &f, err, sizeof err), MINGA_EINVAL);
    assert_int_equal(minga_report_formats_parse("csv,", &f, err, sizeof err), 0);
}

static void test_gini_median(void **state)
{
    (void)state;
    double equal[] = {3, 3, 3, 3}, one[] = {0, 10, 0, 0}, ramp[] = {4, 1, 3, 2}, zeros[] = {0, 0};
    assert_true(s_near(minga_report_gini(equal, 4), 0));
    assert_true(s_near(minga_report_gini(one, 4), 0.75));  /* (n-1)/n */
    assert_true(s_near(minga_report_gini(ramp, 4), 0.25)); /* 10 / (4 * 10) */
    assert_true(s_near(minga_report_gini(zeros, 2), 0));
    assert_true(s_near(minga_report_gini(ramp, 1), 0));
    assert_true(s_near(minga_report_median(ramp, 4), 2.5));
    assert_true(s_near(minga_report_median(ramp, 3), 3)); /* {4, 1, 3} */
    assert_true(s_near(minga_report_median(one, 4), 0));
    assert_true(s_near(minga_report_median(NULL, 0), 0));
    /* the input is not reordered */
    assert_true(ramp[0] == 4 && ramp[1] == 1);
}

static void test_gap(void **state)
{
    (void)state;
    minga_demand_t d[6] = {
        {.id = "D5", .gad = "0101", .competency = "d", .amount = 100},
        {.id = "D1", .gad = "1701", .competency = "d", .amount = 200},
        {.id = "D3", .gad = "0102", .competency = "a", .amount = 400},
        {.id = "D2", .gad = "0101", .competency = "d", .amount = 800},
        {.id = "D4", .gad = "9901", .competency = "d", .amount = 1600}, /* no such province */
        {.id = "D6", .gad = "0101", .competency = "d", .amount = 3200},
    };
    const minga_demand_t *p[6] = {&d[0], &d[1], &d[2], &d[3], &d[4], &d[5]};
    bool covered[6] = {false, false, false, false, false, true};
    minga_report_gap_t g;
    assert_int_equal(minga_report_gap(p, 6, covered, &g), 0);
    assert_int_equal(g.demands, 6);
    assert_int_equal(g.uncovered, 5);
    assert_int_equal(g.other, 1);
    assert_int_equal(g.amount, 100 + 200 + 400 + 800 + 1600);
    assert_int_equal(g.by_comp[3], 3); /* d: D5, D1, D2 (D4 is "other") */
    assert_int_equal(g.by_comp[0], 1);
    assert_int_equal(g.by_prov[0], 3);  /* Azuay: D5, D3, D2 */
    assert_int_equal(g.by_prov[16], 1); /* Pichincha: D1 */
    assert_int_equal(g.cell[3][0], 2);
    assert_int_equal(g.cell[0][0], 1);
    assert_int_equal(g.cell[3][16], 1);
    /* by competency, then province, then id; unknown codes last */
    const char *want[] = {"D3", "D2", "D5", "D1", "D4"};
    for (int i = 0; i < 5; i++)
        assert_string_equal(d[g.list[i]].id, want[i]);
    minga_report_gap_clear(&g);
    assert_int_equal(minga_report_comp_index("n"), 13);
    assert_int_equal(minga_report_comp_index("o"), -1);
    assert_int_equal(minga_report_prov_index("24"), 23);
    assert_int_equal(minga_report_prov_index("25"), -1);
    assert_int_equal(minga_report_prov_index("00"), -1);
}

/* ---- a small event in a store ---- */

static char s_dir[64];

static int s_put(minga_store_t *store, const minga_rtype_t *t, const void *rec)
{
    char *buf;
    size_t len;
    uint8_t key[3 * MINGA_KEY_ID];
    int klen = minga_record_key(t, rec, key);
    if (klen < 0 || minga_record_encode(t, rec, &buf, &len) != 0)
        return -1;
    MDB_txn *txn;
    int rc = mdb_txn_begin(minga_store_env(store), NULL, 0, &txn);
    MDB_val k = {(size_t)klen, key}, v = {len, buf};
    if (rc == 0)
        rc = mdb_put(txn, minga_store_dbi(store, t->db), &k, &v, 0);
    rc = rc ? (mdb_txn_abort(txn), rc) : mdb_txn_commit(txn);
    free(buf);
    return rc;
}

/* Reads a whole file into a string (the caller's). */
static char *s_slurp(const char *path)
{
    FILE *f = fopen(path, "rb");
    if (!f)
        return NULL;
    char *buf = NULL;
    size_t len = 0;
    FILE *m = open_memstream(&buf, &len);
    char chunk[4096];
    size_t n;
    while ((n = fread(chunk, 1, sizeof chunk, f)) > 0)
        fwrite(chunk, 1, n, m);
    fclose(f);
    fclose(m);
    return buf;
}

static void s_event(minga_store_t *store)
{
    minga_event_t e = {.id = "feria",
                       .name = "Feria de Cooperación Andina",
                       .venue = "Casa de la Cultura, Cuenca",
                       .date_start = "2026-11-12",
                       .date_end = "2026-11-12",
                       .timezone = "America/Guayaquil",
                       .day_start = "09:00",
                       .day_end = "10:00",
                       .slot_minutes = 20,
                       .tables = 4,
                       .max_meetings = 3,
                       .min_meetings_gad = 1,
                       .meetings_per_pair = 1};
    assert_int_equal(s_put(store, &minga_rtype_event, &e), 0);
    minga_gad_t g1 = {.code = "0101",
                      .name = "Cuenca",
                      .province = "01",
                      .region = "sierra",
                      .population = 636996};
    minga_gad_t g2 = {.code = "0103",
                      .name = "Cañar Alto",
                      .province = "01",
                      .region = "sierra",
                      .population = 20000};
    minga_gad_t g3 = {.code = "1701",
                      .name = "Quito",
                      .province = "17",
                      .region = "sierra",
                      .population = 2781641};
    assert_int_equal(s_put(store, &minga_rtype_gad, &g1), 0);
    assert_int_equal(s_put(store, &minga_rtype_gad, &g2), 0);
    assert_int_equal(s_put(store, &minga_rtype_gad, &g3), 0);
    minga_cooperante_t c = {.id = "GIZ",
                            .name = "Agencia Alemana de Cooperación",
                            .kind = "bilateral",
                            .country = "DE"};
    assert_int_equal(s_put(store, &minga_rtype_cooperante, &c), 0);
    char *dac1[] = {"14030"}, *comp1[] = {"d"};
    minga_offer_t o = {.id = "O1",
                       .cooperante = "GIZ",
                       .title = "Agua segura en cada hogar",
                       .competencies = {comp1, 1},
                       .dac = {dac1, 1},
                       .modality = "asistencia_tecnica",
                       .scope = "nacional",
                       .valid_from = "2026-01-01",
                       .valid_to = "2027-12-31"};
    assert_int_equal(s_put(store, &minga_rtype_offer, &o), 0);
    minga_demand_t d1 = {.id = "DA",
                         .gad = "0101",
                         .title = "Planta de tratamiento en Turi",
                         .competency = "d",
                         .dac = {dac1, 1},
                         .modality = "asistencia_tecnica",
                         .amount = 50000,
                         .priority = 1};
    minga_demand_t d2 = {.id = "DB",
                         .gad = "1701",
                         .title = "Alcantarillado de Calderón",
                         .competency = "d",
                         .dac = {dac1, 1},
                         .modality = "asistencia_tecnica",
                         .amount = 70000,
                         .priority = 2};
    minga_demand_t d3 = {.id = "DC",
                         .gad = "0103",
                         .title = "=Señalética turística",
                         .competency = "a",
                         .dac = {dac1, 1},
                         .modality = "subvencion",
                         .amount = 9000,
                         .priority = 3};
    assert_int_equal(s_put(store, &minga_rtype_demand, &d1), 0);
    assert_int_equal(s_put(store, &minga_rtype_demand, &d2), 0);
    assert_int_equal(s_put(store, &minga_rtype_demand, &d3), 0);
    minga_participant_t p1 = {.event = "feria", .party = "0101", .kind = "gad", .max_meetings = 3};
    minga_participant_t p2 = {.event = "feria", .party = "0103", .kind = "gad", .max_meetings = 3};
    minga_participant_t p3 = {.event = "feria", .party = "1701", .kind = "gad", .max_meetings = 3};
    minga_participant_t p4 = {.event = "feria",
                              .party = "GIZ",
                              .kind = "cooperante",
                              .max_meetings = 3,
                              .tables = 1,
                              .email = "giz@example.org"};
    assert_int_equal(s_put(store, &minga_rtype_participant, &p1), 0);
    assert_int_equal(s_put(store, &minga_rtype_participant, &p2), 0);
    assert_int_equal(s_put(store, &minga_rtype_participant, &p3), 0);
    assert_int_equal(s_put(store, &minga_rtype_participant, &p4), 0);
    minga_meeting_t m[3];
    memset(m, 0, sizeof m);
    m[0] = (minga_meeting_t){.slot = 2,
                             .table = 1,
                             .gad = "1701",
                             .cooperante = "GIZ",
                             .demand = "DB",
                             .offer = "O1",
                             .score = 7125,
                             .nreasons = 1,
                             .reasons = {MINGA_MATCH_REASON(MINGA_MATCH_R_SECTOR_DAC, 0)}};
    m[1] = (minga_meeting_t){.slot = 1,
                             .table = 1,
                             .gad = "0101",
                             .cooperante = "GIZ",
                             .demand = "DA",
                             .offer = "O1",
                             .score = 8850,
                             .status = MINGA_MEETING_HELD};
    m[2] = (minga_meeting_t){.slot = 3,
                             .table = 2,
                             .gad = "0103",
                             .cooperante = "GIZ",
                             .demand = "DC",
                             .offer = "O1",
                             .score = 5000};
    minga_meeting_summary_t sum = {.meetings = 3};
    assert_int_equal(minga_meeting_replace(store, "feria", m, 3, &sum, false), 0);
    /* Cañar Alto's only meeting is cancelled: it moves to the history */
    assert_int_equal(minga_meeting_cancel(store, "feria", 3, 2, NULL), 0);
}

static int s_recorded(const minga_report_record_t *r, void *arg)
{
    assert_int_equal(r->job, 42);
    assert_string_equal(r->event, "feria");
    assert_non_null(strstr(r->path, "/reports/feria/"));
    assert_true(r->created_at > 0);
    assert_int_equal(r->files, strcmp(r->kind, "agendas") == 0 ? 4 : 1);
    (*(size_t *)arg)++;
    return 0;
}

/* schemas/records/report.json names the keys of every stored report value, in order. */
static void s_check_schema(minga_store_t *store)
{
    json_error_t jerr;
    json_t *js = json_load_file(MINGA_SOURCE_DIR "/schemas/records/report.json", 0, &jerr);
    if (!js)
        fail_msg("report.json: line %d: %s", jerr.line, jerr.text);
    json_t *fields = json_object_get(js, "fields");
    assert_true(json_is_array(fields));
    assert_string_equal(json_string_value(json_object_get(js, "database")), "report");
    assert_int_equal(json_integer_value(json_object_get(js, "version")), MINGA_REPORT_VERSION);
    MDB_txn *txn;
    MDB_cursor *cur;
    assert_int_equal(minga_store_read_begin(store, &txn), 0);
    assert_int_equal(mdb_cursor_open(txn, minga_store_dbi(store, MINGA_DB_REPORT), &cur), 0);
    MDB_val k, v;
    size_t seen = 0;
    for (int rc = mdb_cursor_get(cur, &k, &v, MDB_FIRST); rc == 0;
         rc = mdb_cursor_get(cur, &k, &v, MDB_NEXT), seen++) {
        assert_int_equal(k.mv_size, json_integer_value(json_object_get(js, "key_bytes")));
        msgpack_unpacked up;
        msgpack_unpacked_init(&up);
        assert_int_equal(msgpack_unpack_next(&up, v.mv_data, v.mv_size, NULL),
                         MSGPACK_UNPACK_SUCCESS);
        assert_int_equal(up.data.type, MSGPACK_OBJECT_MAP);
        assert_int_equal(up.data.via.map.size, json_array_size(fields));
        for (uint32_t i = 0; i < up.data.via.map.size; i++) {
            const msgpack_object *key = &up.data.via.map.ptr[i].key;
            const char *want =
                json_string_value(json_object_get(json_array_get(fields, i), "name"));
            assert_int_equal(key->type, MSGPACK_OBJECT_STR);
            assert_int_equal(key->via.str.size, strlen(want));
            assert_memory_equal(key->via.str.ptr, want, key->via.str.size);
        }
        msgpack_unpacked_destroy(&up);
    }
    assert_int_equal(seen, 7);
    mdb_cursor_close(cur);
    mdb_txn_abort(txn);
    json_decref(js);
}

static void test_event_reports(void **state)
{
    (void)state;
    snprintf(s_dir, sizeof s_dir, "/tmp/minga-XXXXXX");
    assert_non_null(mkdtemp(s_dir));
    minga_store_t *store = NULL;
    assert_int_equal(minga_store_open(&store, s_dir, MINGA_STORE_CREATE), 0);
    s_event(store);

    minga_report_result_t res;
    char err[512];
    assert_int_equal(
        minga_report_event(store, "nada", MINGA_REPORT_ALL, 0, NULL, NULL, &res, err, sizeof err),
        MINGA_ENOTFOUND);
    assert_non_null(strstr(err, "nada"));
    /* never scored: the gap is unknown, and the report says so */
    assert_int_equal(minga_report_event(store, "feria", MINGA_REPORT_CSV | MINGA_REPORT_HTML, 41,
                                        NULL, NULL, &res, err, sizeof err),
                     0);
    assert_int_equal(res.gap, 0);
    minga_report_result_clear(&res);
    char path[256];
    snprintf(path, sizeof path, "%s/reports/feria/informe.html", s_dir);
    char *text = s_slurp(path);
    assert_non_null(strstr(text, "todavía no tiene candidatos calculados"));
    assert_non_null(strstr(text, "<dd>sin calcular</dd>"));
    free(text);

    /* scored: DA and DB pass every gate against O1; DC wants a grant that O1 does not give */
    minga_match_shard_t job = {.event = "feria", .gen = 1, .shard = 0, .shards = 1};
    minga_match_config_defaults(&job.cfg);
    minga_match_shard_result_t sr;
    assert_int_equal(minga_match_run_shard(store, &job, NULL, NULL, &sr, err, sizeof err), 0);
    assert_true(sr.merged);
    int rc =
        minga_report_event(store, "feria", MINGA_REPORT_ALL, 42, NULL, NULL, &res, err, sizeof err);
    if (rc)
        fail_msg("minga_report_event: %s", err);
    assert_int_equal(res.meetings, 2);
    assert_int_equal(res.participants, 4);
    assert_int_equal(res.gap, 1);
    assert_int_equal(res.nfiles, 7);
    snprintf(path, sizeof path, "%s/reports/feria/reuniones.csv", s_dir);
    char *csv = s_slurp(path);
    assert_non_null(csv);
    assert_memory_equal(csv,
                        "\xEF\xBB\xBF"
                        "Franja;Fecha;Inicio;Fin;Mesa;Código DPA;GAD;",
                        35);
    /* key order: slot 1 first; decimal commas; local dates; Spanish status */
    const char *r1 = strstr(csv, "\n1;12/11/2026;09:00;09:20;1;0101;Cuenca;Azuay;GIZ;");
    const char *r2 = strstr(csv, "\n2;12/11/2026;09:20;09:40;1;1701;Quito;Pichincha;GIZ;");
    assert_non_null(r1);
    assert_non_null(r2);
    assert_true(r1 < r2);
    assert_non_null(strstr(r1, ";88,50;realizada;"));
    assert_non_null(strstr(r2, ";71,25;programada;"));
    free(csv);

    snprintf(path, sizeof path, "%s/reports/feria/brecha.csv", s_dir);
    csv = s_slurp(path);
    assert_non_null(csv);
    assert_non_null(strstr(csv, "\na;"));
    assert_non_null(strstr(csv, ";'=Señalética turística;")); /* not a formula in Excel */
    assert_null(strstr(csv, ";DA;")); /* covered demands are not in the gap */
    assert_null(strstr(csv, ";DB;"));
    free(csv);
    snprintf(path, sizeof path, "%s/reports/feria/candidatos.csv", s_dir);
    csv = s_slurp(path);
    assert_non_null(strstr(csv, "\nDA;0101;Cuenca;O1;GIZ;Agencia Alemana de Cooperación;1;"));
    assert_non_null(strstr(csv, "\nDB;1701;Quito;O1;GIZ;"));
    assert_null(strstr(csv, "\nDC;"));
    free(csv);

    snprintf(path, sizeof path, "%s/reports/feria/agendas.csv", s_dir);
    csv = s_slurp(path);
    assert_non_null(strstr(csv, "\n0103;GAD;Cañar Alto;;;;;;;;;;;sin reuniones asignadas;"));
    assert_non_null(strstr(csv, "\n0103;GAD;Cañar Alto;3;12/11/2026;09:40;10:00;2;GIZ;"));
    assert_non_null(strstr(csv, ";DC;O1;50,00;cancelada;"));
    assert_non_null(strstr(csv, "\nGIZ;Cooperante;Agencia Alemana de Cooperación;1;"));
    free(csv);

    struct stat st;
    const char *pdfs[] = {"agendas/0101.pdf", "agendas/0103.pdf", "agendas/1701.pdf",
                          "agendas/GIZ.pdf",  "grilla.pdf",       "informe.html"};
    for (size_t i = 0; i < sizeof pdfs / sizeof pdfs[0]; i++) {
        snprintf(path, sizeof path, "%s/reports/feria/%s", s_dir, pdfs[i]);
        assert_int_equal(stat(path, &st), 0);
        assert_true(st.st_size > 500);
    }
    snprintf(path, sizeof path, "%s/reports/feria/agendas/0101.pdf", s_dir);
    char *pdf = s_slurp(path);
    assert_memory_equal(pdf, "%PDF-", 5);
    free(pdf);
    snprintf(path, sizeof path, "%s/reports/feria/informe.html", s_dir);
    char *html = s_slurp(path);
    assert_non_null(strstr(html, "<html lang=\"es\">"));
    assert_non_null(strstr(html, "Feria de Cooperación Andina"));
    assert_null(strstr(html, "<script"));
    assert_null(strstr(html, "src="));
    assert_null(strstr(html, "http:"));
    assert_null(strstr(html, "https:"));
    assert_non_null(strstr(html, "Content-Security-Policy\" content=\"default-src 'none'"));
    free(html);

    /* each file recorded with its job */
    minga_report_result_clear(&res);
    size_t recorded = 0;
    assert_int_equal(minga_report_records_each(store, "feria", s_recorded, &recorded), 0);
    assert_int_equal(recorded, 7);
    s_check_schema(store);
    minga_report_data_t d;
    assert_int_equal(minga_report_data_load(&d, store, "feria", err, sizeof err), 0);
    minga_report_figures_t f;
    assert_int_equal(minga_report_figures(&d, &f), 0);
    assert_int_equal(f.meetings, 2);
    assert_int_equal(f.province[0].count, 1);  /* Azuay */
    assert_int_equal(f.province[16].count, 1); /* Pichincha */
    assert_int_equal(f.ngads, 3);
    assert_int_equal(f.gads_without, 1);
    assert_true(s_near(f.median, 1));
    assert_true(s_near(f.max, 1));
    assert_int_equal(f.per_slot[0], 1);
    assert_int_equal(f.per_slot[1], 1);
    assert_int_equal(f.nslots, 3);
    assert_int_equal(f.ntop, 1);
    assert_int_equal(f.top[0].count, 2); /* GIZ covers DA and DB */
    const size_t *ix;
    assert_int_equal(minga_report_party_meetings(&d, "GIZ", &ix), 2);
    assert_int_equal(d.meetings[ix[0]].slot, 1);
    assert_int_equal(minga_report_party_meetings(&d, "0103", &ix), 0);
    minga_report_figures_clear(&f);
    minga_report_data_clear(&d);
    minga_store_destroy(&store);
    if (getenv("MINGA_TEST_KEEP")) { /* to look at the files: MINGA_TEST_KEEP=1 test_report */
        print_message("reports kept in %s/reports/feria\n", s_dir);
        return;
    }
    char cmd[128];
    snprintf(cmd, sizeof cmd, "rm -rf %s", s_dir);
    assert_int_equal(system(cmd), 0);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_formats),
        cmocka_unit_test(test_gini_median),
        cmocka_unit_test(test_gap),
        cmocka_unit_test(test_event_reports),
    };
    int failed = cmocka_run_group_tests(tests, NULL, NULL);
    minga_pdf_cleanup();
    return failed;
}
