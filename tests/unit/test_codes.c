/*
 * test_codes.c: the compiled-in code lists (codes.h).
 *
 * Two halves. The first checks the lists on their own: sizes, order, the regions of known
 * provinces, the total population, DAC codes and categories, the COOTAD competencies, word
 * matching and minga_fold. The second cross-checks the DPA tables against the reference files
 * in $MINGA_SHARED/reference/ (CTest sets MINGA_SHARED to <source>/../shared): the canton and
 * province codes exactly, every one present and none extra; canton names without regard to
 * case or accents against INEC's Censo 2022 spelling; populations equal; the province of each
 * canton. Those tests are skipped, saying so, only when the directory is absent.
 */
#include "minga/codes.h"

#include <csv.h>
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <cmocka.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

/* ---- the lists on their own ---- */

static void test_sizes(void **state)
{
    (void)state;
    size_t n = 0;
    minga_provinces(&n);
    assert_int_equal(n, 24);
    minga_cantons(&n);
    assert_int_equal(n, 221);
    const minga_code_t *c = minga_codes(MINGA_CL_PROVINCE, &n);
    assert_int_equal(n, 24);
    assert_string_equal(c[0].code, "01");
    assert_string_equal(c[0].label, "Azuay");
    c = minga_codes(MINGA_CL_CANTON, &n);
    assert_int_equal(n, 221);
    for (size_t i = 0; i < n; i++) {
        assert_string_equal(c[i].code, minga_cantons(NULL)[i].code);
        assert_string_equal(c[i].label, minga_cantons(NULL)[i].name);
    }
    assert_null(minga_codes(MINGA_CL_NONE, &n));
    assert_int_equal(n, 0);
    assert_null(minga_codes(MINGA_CL_COUNT, &n));
}

/* The numeric lists are searched by bisection: they must be in strictly increasing order. */
static void test_sorted(void **state)
{
    (void)state;
    const minga_codelist_t lists[] = {MINGA_CL_DAC, MINGA_CL_DAC_CATEGORY, MINGA_CL_PROVINCE,
                                      MINGA_CL_CANTON, MINGA_CL_COMPETENCY};
    for (size_t l = 0; l < sizeof lists / sizeof lists[0]; l++) {
        size_t n;
        const minga_code_t *c = minga_codes(lists[l], &n);
        assert_true(n > 0);
        for (size_t i = 1; i < n; i++)
            if (strcmp(c[i - 1].code, c[i].code) >= 0)
                fail_msg("%s: '%s' before '%s'", minga_codelist_name(lists[l]), c[i - 1].code,
                         c[i].code);
        for (size_t i = 0; i < n; i++)
            assert_ptr_equal(minga_code_find(lists[l], c[i].code), &c[i]);
    }
}

static void test_province_regions(void **state)
{
    (void)state;
    const struct {
        const char *code, *name;
        minga_region_t region;
    } known[] = {
        {"01", "Azuay", MINGA_REGION_SIERRA},
        {"02", "Bolívar", MINGA_REGION_SIERRA},
        {"03", "Cañar", MINGA_REGION_SIERRA},
        {"09", "Guayas", MINGA_REGION_COSTA},
        {"12", "Los Ríos", MINGA_REGION_COSTA},
        {"13", "Manabí", MINGA_REGION_COSTA},
        {"14", "Morona Santiago", MINGA_REGION_AMAZONIA},
        {"15", "Napo", MINGA_REGION_AMAZONIA},
        {"17", "Pichincha", MINGA_REGION_SIERRA},
        {"20", "Galápagos", MINGA_REGION_INSULAR},
        {"21", "Sucumbíos", MINGA_REGION_AMAZONIA},
        {"22", "Orellana", MINGA_REGION_AMAZONIA},
        {"23", "Santo Domingo de los Tsáchilas", MINGA_REGION_COSTA},
        {"24", "Santa Elena", MINGA_REGION_COSTA},
    };
    for (size_t i = 0; i < sizeof known / sizeof known[0]; i++) {
        const minga_province_t *p = minga_province_find(known[i].code);
        assert_non_null(p);
        assert_string_equal(p->name, known[i].name);
        assert_int_equal(p->region, known[i].region);
    }
    size_t n, count[5] = {0};
    const minga_province_t *p = minga_provinces(&n);
    for (size_t i = 0; i < n; i++) {
        assert_true(p[i].region >= MINGA_REGION_COSTA && p[i].region <= MINGA_REGION_INSULAR);
        count[p[i].region]++;
    }
    assert_int_equal(count[MINGA_REGION_COSTA], 7);
    assert_int_equal(count[MINGA_REGION_SIERRA], 10);
    assert_int_equal(count[MINGA_REGION_AMAZONIA], 6);
    assert_int_equal(count[MINGA_REGION_INSULAR], 1);
    assert_null(minga_province_find("25"));
    assert_null(minga_province_find("1"));
    assert_null(minga_province_find(NULL));
}

static void test_cantons(void **state)
{
    (void)state;
    size_t n;
    const minga_canton_t *c = minga_cantons(&n);
    unsigned long long total = 0;
    for (size_t i = 0; i < n; i++) {
        assert_int_equal(strlen(c[i].code), 4);
        assert_int_equal(strlen(c[i].province), 2);
        assert_memory_equal(c[i].code, c[i].province, 2);
        const minga_province_t *p = minga_province_find(c[i].province);
        assert_non_null(p);
        if (c[i].region != p->region)
            fail_msg("%s %s: region %d, its province's is %d", c[i].code, c[i].name,
                     (int)c[i].region, (int)p->region);
        assert_true(c[i].population > 0);
        assert_ptr_equal(minga_canton_find(c[i].code), &c[i]);
        /* written with Spanish capitalisation, not in capitals */
        assert_non_null(strpbrk(c[i].name, "abcdefghijklmnopqrstuvwxyz"));
        total += c[i].population;
    }
    assert_int_equal(total, 17468736ULL);
    const minga_canton_t *cuenca = minga_canton_find("0101");
    assert_non_null(cuenca);
    assert_string_equal(cuenca->name, "Cuenca");
    assert_int_equal(cuenca->population, 636996);
    assert_string_equal(minga_canton_find("0102")->name, "Girón");
    assert_string_equal(minga_canton_find("0902")->name, "Alfredo Baquerizo Moreno (Juján)");
    assert_string_equal(minga_canton_find("2001")->name, "San Cristóbal");
    assert_int_equal(minga_canton_find("2001")->region, MINGA_REGION_INSULAR);
    assert_null(minga_canton_find("0915")); /* a gap in Guayas */
    assert_null(minga_canton_find("101"));
    assert_null(minga_canton_find("01010"));
    assert_null(minga_canton_find(""));
    assert_null(minga_canton_find(NULL));
}

static void test_dac(void **state)
{
    (void)state;
    const minga_code_t *c = minga_code_find(MINGA_CL_DAC, "14030");
    assert_non_null(c);
    assert_string_equal(c->label, "Agua potable y saneamiento básico");
    assert_null(minga_code_find(MINGA_CL_DAC, "99999"));
    assert_null(minga_code_find(MINGA_CL_DAC, "1403"));
    assert_null(minga_code_find(MINGA_CL_DAC, "140300"));
    assert_null(minga_code_find(MINGA_CL_DAC, "Agua potable y saneamiento básico"));
    const char *must[] = {"14010", "14050", "15112", "15150", "15185", "15210", "16010", "16030",
                          "21020", "23110", "23210", "23630", "31120", "31220", "31320", "32130",
                          "32220", "32310", "41010", "41030", "43030", "43040", "43060", "74020"};
    for (size_t i = 0; i < sizeof must / sizeof must[0]; i++)
        if (!minga_code_find(MINGA_CL_DAC, must[i]))
            fail_msg("DAC code %s missing", must[i]);
    assert_string_equal(minga_code_find(MINGA_CL_DAC, "43060")->label,
                        "Reducción del riesgo de desastres");
    assert_string_equal(minga_code_find(MINGA_CL_DAC, "15112")->label,
                        "Descentralización y apoyo a los gobiernos subnacionales");

    size_t n, ncat;
    const minga_code_t *dac = minga_codes(MINGA_CL_DAC, &n);
    const minga_code_t *cat = minga_codes(MINGA_CL_DAC_CATEGORY, &ncat);
    assert_true(n >= 200);
    for (size_t i = 0; i < n; i++) {
        assert_int_equal(strlen(dac[i].code), 5);
        assert_int_equal(strspn(dac[i].code, "0123456789"), 5);
        assert_true(dac[i].label[0] != '\0');
        char prefix[4];
        memcpy(prefix, dac[i].code, 3);
        prefix[3] = '\0';
        if (!minga_code_find(MINGA_CL_DAC_CATEGORY, prefix))
            fail_msg("DAC code %s: no category %s", dac[i].code, prefix);
    }
    for (size_t j = 0; j < ncat; j++) {
        assert_int_equal(strlen(cat[j].code), 3);
        size_t used = 0;
        for (size_t i = 0; i < n; i++)
            used += strncmp(dac[i].code, cat[j].code, 3) == 0;
        if (!used)
            fail_msg("DAC category %s has no code", cat[j].code);
    }
    const char *cats[] = {"140", "151", "152", "160", "210", "231", "232", "233", "234", "235",
                          "236", "311", "312", "313", "321", "322", "323", "410", "430", "740"};
    for (size_t i = 0; i < sizeof cats / sizeof cats[0]; i++)
        if (!minga_code_find(MINGA_CL_DAC_CATEGORY, cats[i]))
            fail_msg("DAC category %s missing", cats[i]);
}

static void test_competencies(void **state)
{
    (void)state;
    size_t n;
    const minga_code_t *c = minga_codes(MINGA_CL_COMPETENCY, &n);
    assert_int_equal(n, 14);
    for (size_t i = 0; i < n; i++) {
        char code[2] = {(char)('a' + i), '\0'};
        assert_string_equal(c[i].code, code);
    }
    assert_string_equal(c[2].label, "Planificar, construir y mantener la vialidad urbana");
    assert_ptr_equal(minga_code_find(MINGA_CL_COMPETENCY, "N"), &c[13]);
    assert_null(minga_code_find(MINGA_CL_COMPETENCY, "o"));
}

static void test_word_lists(void **state)
{
    (void)state;
    const struct {
        minga_codelist_t list;
        const char *query, *code;
    } cases[] = {
        {MINGA_CL_REGION, "Amazonía", "amazonia"},
        {MINGA_CL_REGION, "AMAZONIA", "amazonia"},
        {MINGA_CL_REGION, " sierra ", "sierra"},
        {MINGA_CL_MODALITY, "Asistencia técnica", "asistencia_tecnica"},
        {MINGA_CL_MODALITY, "ASISTENCIA_TECNICA", "asistencia_tecnica"},
        {MINGA_CL_MODALITY, "Subvención (no reembolsable)", "subvencion"},
        {MINGA_CL_MODALITY, "subvención", "subvencion"},
        {MINGA_CL_MODALITY, "Pasantías", "pasantias"},
        {MINGA_CL_MODALITY, "asesoría", "asistencia_tecnica"},
        {MINGA_CL_KIND, "Sur-Sur", "sur-sur"},
        {MINGA_CL_KIND, "sur sur", "sur-sur"},
        {MINGA_CL_KIND, "Descentralizada", "descentralizada"},
        {MINGA_CL_PRIVATE_KIND, "Fundación", "fundacion"},
        {MINGA_CL_PRIVATE_KIND, "ONG", "ong"},
        {MINGA_CL_PREFERENCE, "Reunión obligatoria", "obligatoria"},
        {MINGA_CL_PREFERENCE, "NO", "no"},
        {MINGA_CL_PARTY_KIND, "GAD municipal", "gad"},
        {MINGA_CL_SCOPE, "Provincias", "provincias"},
        {MINGA_CL_COMPETENCY,
         "Elaborar y administrar los catastros inmobiliarios urbanos y "
         "rurales",
         "i"},
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        const minga_code_t *c = minga_code_find(cases[i].list, cases[i].query);
        if (!c || strcmp(c->code, cases[i].code) != 0)
            fail_msg("'%s' in %s: got %s, want %s", cases[i].query,
                     minga_codelist_name(cases[i].list), c ? c->code : "nothing", cases[i].code);
    }
    assert_null(minga_code_find(MINGA_CL_REGION, "andes"));
    assert_null(minga_code_find(MINGA_CL_REGION, ""));
    assert_null(minga_code_find(MINGA_CL_REGION, NULL));
    assert_null(minga_code_find(MINGA_CL_NONE, "costa"));
    assert_null(minga_code_find(MINGA_CL_KIND, "costa"));

    const char *kinds[] = {"bilateral", "multilateral", "descentralizada", "intermunicipal",
                           "sur-sur",   "triangular",   "privada"};
    for (size_t i = 0; i < sizeof kinds / sizeof kinds[0]; i++)
        assert_non_null(minga_code_find(MINGA_CL_KIND, kinds[i]));
    size_t n;
    minga_codes(MINGA_CL_MODALITY, &n);
    assert_int_equal(n, 6);
    minga_codes(MINGA_CL_KIND, &n);
    assert_int_equal(n, 7);
    minga_codes(MINGA_CL_SCOPE, &n);
    assert_int_equal(n, 4);
}

static void test_regions(void **state)
{
    (void)state;
    assert_string_equal(minga_region_code(MINGA_REGION_COSTA), "costa");
    assert_string_equal(minga_region_label(MINGA_REGION_AMAZONIA), "Amazonía");
    assert_string_equal(minga_region_code(MINGA_REGION_INSULAR), "insular");
    assert_string_equal(minga_region_label(MINGA_REGION_SIERRA), "Sierra");
    assert_null(minga_region_code((minga_region_t)0));
    assert_null(minga_region_label((minga_region_t)5));
    size_t n;
    const minga_code_t *r = minga_codes(MINGA_CL_REGION, &n);
    assert_int_equal(n, 4);
    for (int i = MINGA_REGION_COSTA; i <= MINGA_REGION_INSULAR; i++)
        assert_string_equal(r[i - 1].code, minga_region_code((minga_region_t)i));
}

static void test_codelist_names(void **state)
{
    (void)state;
    for (int i = MINGA_CL_NONE + 1; i < MINGA_CL_COUNT; i++) {
        const char *name = minga_codelist_name((minga_codelist_t)i);
        assert_non_null(name);
        assert_int_equal(minga_codelist_by_name(name), i);
    }
    const char *names[] = {"competencies", "dac",         "modalities",     "kinds",
                           "provinces",    "cantons",     "dac-categories", "private-kinds",
                           "regions",      "preferences", "scopes"};
    for (size_t i = 0; i < sizeof names / sizeof names[0]; i++)
        assert_int_not_equal(minga_codelist_by_name(names[i]), MINGA_CL_NONE);
    assert_int_equal(minga_codelist_by_name("cantons"), MINGA_CL_CANTON);
    assert_int_equal(minga_codelist_by_name("nada"), MINGA_CL_NONE);
    assert_int_equal(minga_codelist_by_name(NULL), MINGA_CL_NONE);
    assert_null(minga_codelist_name(MINGA_CL_NONE));
}

static void test_fold(void **state)
{
    (void)state;
    char buf[64];
    assert_string_equal(minga_fold(buf, sizeof buf, "Amazonía"), "amazonia");
    assert_string_equal(minga_fold(buf, sizeof buf, "ÁÉÍÓÚ áéíóú Üü Ññ"), "aeiou aeiou uu nn");
    assert_string_equal(minga_fold(buf, sizeof buf, "SANTO DOMINGO DE LOS TSÁCHILAS"),
                        "santo domingo de los tsachilas");
    assert_string_equal(minga_fold(buf, sizeof buf, "Alfredo Baquerizo Moreno (JUJÁN)"),
                        "alfredo baquerizo moreno (jujan)");
    /* decomposed: "i" + U+0301 COMBINING ACUTE ACCENT */
    assert_string_equal(minga_fold(buf, sizeof buf,
                                   "Amazoni\xCC\x81"
                                   "a"),
                        "amazonia");
    /* other characters pass through; a stray byte does not swallow the next */
    assert_string_equal(minga_fold(buf, sizeof buf, "€1 \xFFZ"), "€1 \xFFz");
    assert_string_equal(minga_fold(buf, sizeof buf, ""), "");
    assert_string_equal(minga_fold(buf, sizeof buf, NULL), "");
    /* at most cap bytes, NUL included, never half a character */
    assert_string_equal(minga_fold(buf, 4, "Cañar"), "can");
    assert_string_equal(minga_fold(buf, 1, "Cañar"), "");
    assert_string_equal(minga_fold(buf, 3, "a€"), "a");
    assert_ptr_equal(minga_fold(buf, 0, "x"), buf);
}

/* ---- the cross-check against ../shared/reference ---- */

typedef struct {
    char *field[6];
    size_t nfields;
} s_ref_row_t;

typedef struct {
    s_ref_row_t *rows;
    size_t nrows, cap;
    s_ref_row_t cur;
} s_ref_t;

static void s_ref_field(void *data, size_t len, void *ctx)
{
    s_ref_t *r = ctx;
    if (r->cur.nfields < 6)
        r->cur.field[r->cur.nfields++] = strndup(data ? data : "", len);
}

static void s_ref_row(int c, void *ctx)
{
    (void)c;
    s_ref_t *r = ctx;
    if (r->nrows == r->cap) {
        r->cap = r->cap ? 2 * r->cap : 256;
        r->rows = realloc(r->rows, r->cap * sizeof r->rows[0]);
        assert_non_null(r->rows);
    }
    r->rows[r->nrows++] = r->cur;
    memset(&r->cur, 0, sizeof r->cur);
}

static void s_ref_free(s_ref_t *r)
{
    for (size_t i = 0; i < r->nrows; i++)
        for (size_t f = 0; f < r->rows[i].nfields; f++)
            free(r->rows[i].field[f]);
    free(r->rows);
    memset(r, 0, sizeof *r);
}

static char s_refdir[4096];

static int s_setup_ref(void **state)
{
    (void)state;
    const char *shared = getenv("MINGA_SHARED");
    struct stat st;
    if (shared && *shared)
        snprintf(s_refdir, sizeof s_refdir, "%s/reference", shared);
    if (!s_refdir[0] || stat(s_refdir, &st) != 0 || !S_ISDIR(st.st_mode))
        s_refdir[0] = '\0';
    return 0;
}

/* Reads name from the reference directory, with delim between fields, header row dropped.
 * Skips the calling test, saying why, when there is no reference directory. */
static void s_ref_read(s_ref_t *r, const char *name, unsigned char delim)
{
    memset(r, 0, sizeof *r);
    if (!s_refdir[0]) {
        print_message("[  SKIP    ] MINGA_SHARED/reference is absent (MINGA_SHARED=%s): "
                      "not cross-checking %s\n",
                      getenv("MINGA_SHARED") ? getenv("MINGA_SHARED") : "unset", name);
        skip();
    }
    char path[4200];
    snprintf(path, sizeof path, "%s/%s", s_refdir, name);
    FILE *f = fopen(path, "rb");
    if (!f)
        fail_msg("cannot open %s", path);
    struct csv_parser p;
    assert_int_equal(csv_init(&p, CSV_APPEND_NULL), 0);
    csv_set_delim(&p, delim);
    char buf[4096];
    size_t len;
    while ((len = fread(buf, 1, sizeof buf, f)) > 0)
        assert_int_equal(csv_parse(&p, buf, len, s_ref_field, s_ref_row, r), len);
    csv_fini(&p, s_ref_field, s_ref_row, r);
    csv_free(&p);
    fclose(f);
    assert_true(r->nrows > 1);
    /* drop the header */
    for (size_t fi = 0; fi < r->rows[0].nfields; fi++)
        free(r->rows[0].field[fi]);
    memmove(r->rows, r->rows + 1, (r->nrows - 1) * sizeof r->rows[0]);
    r->nrows--;
}

static const s_ref_row_t *s_ref_find(const s_ref_t *r, size_t col, const char *value)
{
    for (size_t i = 0; i < r->nrows; i++)
        if (r->rows[i].nfields > col && strcmp(r->rows[i].field[col], value) == 0)
            return &r->rows[i];
    return NULL;
}

static void s_assert_same_name(const char *what, const char *ours, const char *ref)
{
    char a[256], b[256];
    minga_fold(a, sizeof a, ours);
    minga_fold(b, sizeof b, ref);
    if (strcmp(a, b) != 0)
        fail_msg("%s: our name '%s' is not the reference's '%s'", what, ours, ref);
}

/* ec-cantons-population.csv: code;name;province_code;population;source_year */
static void test_ref_cantons_population(void **state)
{
    (void)state;
    s_ref_t r;
    s_ref_read(&r, "ec-cantons-population.csv", ';');
    assert_int_equal(r.nrows, 221);
    for (size_t i = 0; i < r.nrows; i++) {
        const s_ref_row_t *row = &r.rows[i];
        assert_int_equal(row->nfields, 5);
        const minga_canton_t *c = minga_canton_find(row->field[0]);
        if (!c)
            fail_msg("canton %s (%s) is missing", row->field[0], row->field[1]);
        s_assert_same_name(c->code, c->name, row->field[1]);
        assert_string_equal(c->province, row->field[2]);
        if (c->population != strtoul(row->field[3], NULL, 10))
            fail_msg("canton %s %s: population %u, reference %s", c->code, c->name,
                     (unsigned)c->population, row->field[3]);
    }
    size_t n;
    const minga_canton_t *c = minga_cantons(&n);
    for (size_t i = 0; i < n; i++)
        if (!s_ref_find(&r, 0, c[i].code))
            fail_msg("canton %s %s is not in the reference", c[i].code, c[i].name);
    s_ref_free(&r);
}

/* ec-cantons-oca.csv: "id","state_id:id","code","name" (names without accents) */
static void test_ref_cantons_oca(void **state)
{
    (void)state;
    s_ref_t r;
    s_ref_read(&r, "ec-cantons-oca.csv", ',');
    assert_int_equal(r.nrows, 221);
    for (size_t i = 0; i < r.nrows; i++) {
        const s_ref_row_t *row = &r.rows[i];
        assert_int_equal(row->nfields, 4);
        const minga_canton_t *c = minga_canton_find(row->field[2]);
        if (!c)
            fail_msg("canton %s (%s) is missing", row->field[2], row->field[3]);
        char state_id[32];
        snprintf(state_id, sizeof state_id, "state_ec_%s", c->province);
        assert_string_equal(row->field[1], state_id);
    }
    size_t n;
    const minga_canton_t *c = minga_cantons(&n);
    for (size_t i = 0; i < n; i++)
        if (!s_ref_find(&r, 2, c[i].code))
            fail_msg("canton %s %s is not in the reference", c[i].code, c[i].name);
    s_ref_free(&r);
}

/* ec-provinces-oca.csv: "id","code","name","country_id:id" */
static void test_ref_provinces(void **state)
{
    (void)state;
    s_ref_t r;
    s_ref_read(&r, "ec-provinces-oca.csv", ',');
    assert_int_equal(r.nrows, 24);
    for (size_t i = 0; i < r.nrows; i++) {
        const s_ref_row_t *row = &r.rows[i];
        assert_int_equal(row->nfields, 4);
        const minga_province_t *p = minga_province_find(row->field[1]);
        if (!p)
            fail_msg("province %s (%s) is missing", row->field[1], row->field[2]);
        s_assert_same_name(p->code, p->name, row->field[2]);
    }
    size_t n;
    const minga_province_t *p = minga_provinces(&n);
    for (size_t i = 0; i < n; i++)
        if (!s_ref_find(&r, 1, p[i].code))
            fail_msg("province %s %s is not in the reference", p[i].code, p[i].name);
    s_ref_free(&r);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_sizes),
        cmocka_unit_test(test_sorted),
        cmocka_unit_test(test_province_regions),
        cmocka_unit_test(test_cantons),
        cmocka_unit_test(test_dac),
        cmocka_unit_test(test_competencies),
        cmocka_unit_test(test_word_lists),
        cmocka_unit_test(test_regions),
        cmocka_unit_test(test_codelist_names),
        cmocka_unit_test(test_fold),
        cmocka_unit_test(test_ref_cantons_population),
        cmocka_unit_test(test_ref_cantons_oca),
        cmocka_unit_test(test_ref_provinces),
    };
    return cmocka_run_group_tests(tests, s_setup_ref, NULL);
}
