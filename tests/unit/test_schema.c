/*
 * test_schema.c: the record schemas (schemas/records/NAME.json) against the C descriptor
 * tables (record.h, record_defs.c), and the msgpack codec of every record.
 *
 * The schema files are the source of truth: the first test fails, naming the record and the
 * field, whenever a table disagrees with its file on the record's kind, version, database,
 * key width, per-event flag or id field, or on any field's position, name, header, type,
 * msgpack type, required flag, code list or max_len; and when a file exists for no C record
 * or a C record has no file. The other tests build a full record of each type from sample
 * texts with minga_field_parse, and check that encode → decode gives back every field, and
 * that hostile stored values (truncated, wrong types, a newer version, a required field
 * missing, oversized, huge declared lengths) are errors and not crashes.
 */
#include "minga/error.h"
#include "minga/record.h"

#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <cmocka.h>

#include <dirent.h>
#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define S_SCHEMA_DIR MINGA_SOURCE_DIR "/schemas/records"
#define S_EVENT "jornada-2026"

/* ---- the C side as the schema files spell it ---- */

static const char *const s_type_names[] = {
    [MINGA_FT_STR] = "str",     [MINGA_FT_ID] = "id",        [MINGA_FT_UINT] = "uint",
    [MINGA_FT_BOOL] = "bool",   [MINGA_FT_DATE] = "date",    [MINGA_FT_TIME] = "time",
    [MINGA_FT_EMAIL] = "email", [MINGA_FT_CODE] = "code",    [MINGA_FT_CODES] = "codes",
    [MINGA_FT_STRS] = "strs",   [MINGA_FT_RANGES] = "ranges"};

static const char *s_type_name(minga_ftype_t t)
{
    return (size_t)t < sizeof s_type_names / sizeof s_type_names[0] ? s_type_names[t] : "?";
}

static const char *s_msgpack_name(minga_ftype_t t)
{
    switch (t) {
    case MINGA_FT_UINT:
        return "uint";
    case MINGA_FT_BOOL:
        return "bool";
    case MINGA_FT_CODES:
    case MINGA_FT_STRS:
        return "array of str";
    default:
        return "str";
    }
}

/* ---- comparing a schema file with a table ---- */

typedef struct {
    const char *record;
    int mismatches;
} s_cmp_t;

static void s_mismatch(s_cmp_t *c, const char *field, const char *what, const char *fmt, ...)
    __attribute__((format(printf, 4, 5)));

static void s_mismatch(s_cmp_t *c, const char *field, const char *what, const char *fmt, ...)
{
    char detail[512];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(detail, sizeof detail, fmt, ap);
    va_end(ap);
    if (field)
        print_error("schema %s.json: field %s: %s\n", c->record, field, detail);
    else
        print_error("schema %s.json: %s\n", c->record, detail);
    (void)what;
    c->mismatches++;
}

static void s_cmp_str(s_cmp_t *c, const char *field, const char *what, json_t *obj,
                      const char *want)
{
    json_t *v = json_object_get(obj, what);
    if (want == NULL) {
        if (!json_is_null(v))
            s_mismatch(c, field, what, "%s: the file says %s, the C table has none", what,
                       json_is_string(v) ? json_string_value(v) : "a non-null value");
        return;
    }
    if (!json_is_string(v))
        s_mismatch(c, field, what, "%s: missing or not a string in the file (C: \"%s\")", what,
                   want);
    else if (strcmp(json_string_value(v), want) != 0)
        s_mismatch(c, field, what, "%s: file \"%s\", C \"%s\"", what, json_string_value(v), want);
}

static void s_cmp_int(s_cmp_t *c, const char *field, const char *what, json_t *obj, long long want)
{
    json_t *v = json_object_get(obj, what);
    if (!json_is_integer(v))
        s_mismatch(c, field, what, "%s: missing or not an integer in the file (C: %lld)", what,
                   want);
    else if (json_integer_value(v) != want)
        s_mismatch(c, field, what, "%s: file %lld, C %lld", what, (long long)json_integer_value(v),
                   want);
}

static void s_cmp_bool(s_cmp_t *c, const char *field, const char *what, json_t *obj, bool want)
{
    json_t *v = json_object_get(obj, what);
    if (!json_is_boolean(v))
        s_mismatch(c, field, what, "%s: missing or not a boolean in the file (C: %s)", what,
                   want ? "true" : "false");
    else if (json_is_true(v) != want)
        s_mismatch(c, field, what, "%s: file %s, C %s", what, json_is_true(v) ? "true" : "false",
                   want ? "true" : "false");
}

/* A sample record of each type, for the key width and the round trips (defined below). */
static void *s_sample(const minga_rtype_t *t, bool full);

static void s_cmp_field(s_cmp_t *c, size_t i, json_t *jf, const minga_field_t *f)
{
    char where[96];
    snprintf(where, sizeof where, "#%zu %s", i + 1, f->name);
    if (!json_is_object(jf)) {
        s_mismatch(c, where, "", "the file has no field at this position");
        return;
    }
    s_cmp_str(c, where, "name", jf, f->name);
    s_cmp_str(c, where, "header", jf, f->header);
    s_cmp_str(c, where, "type", jf, s_type_name(f->type));
    s_cmp_str(c, where, "msgpack", jf, s_msgpack_name(f->type));
    s_cmp_bool(c, where, "required", jf, f->required);
    s_cmp_str(c, where, "codes", jf, minga_codelist_name(f->codes));
    s_cmp_int(c, where, "max_len", jf, (long long)f->max_len);
    json_t *m = json_object_get(jf, "meaning");
    if (!json_is_string(m) || strlen(json_string_value(m)) == 0)
        s_mismatch(c, where, "meaning", "meaning: missing or empty in the file");
}

/* Compares one schema file with its C record type; returns the number of disagreements. */
static int s_cmp_schema(json_t *js, const minga_rtype_t *t)
{
    s_cmp_t c = {t->record, 0};
    s_cmp_str(&c, NULL, "record", js, t->record);
    s_cmp_str(&c, NULL, "kind", js, t->kind);
    s_cmp_int(&c, NULL, "version", js, t->version);
    s_cmp_str(&c, NULL, "database", js, minga_store_db_name(t->db));
    s_cmp_bool(&c, NULL, "per_event", js, t->per_event);
    s_cmp_str(&c, NULL, "id_field", js, t->fields[t->id_field].name);
    if (!json_is_string(json_object_get(js, "key")))
        s_mismatch(&c, NULL, "key", "key: the description of the key is missing");
    if (!json_is_string(json_object_get(js, "value")))
        s_mismatch(&c, NULL, "value", "value: the description of the stored value is missing");
    void *rec = s_sample(t, true);
    uint8_t key[3 * MINGA_KEY_ID];
    s_cmp_int(&c, NULL, "key_bytes", js, rec ? minga_record_key(t, rec, key) : -1);
    minga_record_free(t, rec);

    json_t *fields = json_object_get(js, "fields");
    if (!json_is_array(fields)) {
        s_mismatch(&c, NULL, "fields", "fields: missing or not an array");
        return c.mismatches;
    }
    for (size_t i = 0; i < t->nfields; i++)
        s_cmp_field(&c, i, json_array_get(fields, i), &t->fields[i]);
    for (size_t i = t->nfields; i < json_array_size(fields); i++) {
        json_t *name = json_object_get(json_array_get(fields, i), "name");
        s_mismatch(&c, json_is_string(name) ? json_string_value(name) : "?", "",
                   "is in the file (#%zu) but not in the C table of %zu fields", i + 1, t->nfields);
    }
    return c.mismatches;
}

static void test_schema_files_match_tables(void **state)
{
    (void)state;
    size_t n;
    const minga_rtype_t *const *types = minga_rtypes(&n);
    assert_int_equal(n, 7);
    bool found[16] = {false};
    int mismatches = 0;

    DIR *dir = opendir(S_SCHEMA_DIR);
    if (!dir)
        fail_msg("cannot open %s", S_SCHEMA_DIR);
    struct dirent *ent;
    while ((ent = readdir(dir))) {
        size_t len = strlen(ent->d_name);
        if (len < 6 || strcmp(ent->d_name + len - 5, ".json") != 0)
            continue;
        char record[256];
        snprintf(record, sizeof record, "%.*s", (int)(len - 5), ent->d_name);
        if (strcmp(record, "meeting") == 0 || strcmp(record, "outbox") == 0 ||
            strcmp(record, "report") == 0)
            continue; /* written by the scheduler (meeting.h), the notify worker (outbox.h) or
                         the report worker (report.h), not registry records */
        size_t i = 0;
        while (i < n && strcmp(types[i]->record, record) != 0)
            i++;
        if (i == n) {
            print_error("schema %s: no C record type is called '%s'\n", ent->d_name, record);
            mismatches++;
            continue;
        }
        char path[1024];
        snprintf(path, sizeof path, "%s/%s", S_SCHEMA_DIR, ent->d_name);
        json_error_t jerr;
        json_t *js = json_load_file(path, JSON_REJECT_DUPLICATES, &jerr);
        if (!js) {
            print_error("schema %s: line %d: %s\n", ent->d_name, jerr.line, jerr.text);
            mismatches++;
            continue;
        }
        found[i] = true;
        mismatches += s_cmp_schema(js, types[i]);
        json_decref(js);
    }
    closedir(dir);
    for (size_t i = 0; i < n; i++) {
        if (!found[i]) {
            print_error("record %s: no schema file %s/%s.json\n", types[i]->record, S_SCHEMA_DIR,
                        types[i]->record);
            mismatches++;
        }
    }
    if (mismatches)
        fail_msg("%d disagreements between schemas/records/ and the C tables", mismatches);
}

/* minga_rtype_find knows every record by kind and by record name. */
static void test_rtype_find(void **state)
{
    (void)state;
    size_t n;
    const minga_rtype_t *const *types = minga_rtypes(&n);
    for (size_t i = 0; i < n; i++) {
        assert_ptr_equal(minga_rtype_find(types[i]->kind), types[i]);
        assert_ptr_equal(minga_rtype_find(types[i]->record), types[i]);
        assert_true(types[i]->id_field < types[i]->nfields);
        assert_true(types[i]->nfields <= 64);
    }
    assert_null(minga_rtype_find("candidates"));
}

/* ---- sample records ---- */

typedef struct {
    const char *name; /* msgpack name of the field */
    const char *text; /* its text as in a CSV file */
} s_text_t;

typedef struct {
    const char *record;
    s_text_t texts[20];
} s_sample_t;

/* Every field of every record, with values that are valid on their own (a full cooperante
 * cannot pass its cross-field check: subtipo and gad exclude each other). */
static const s_sample_t s_samples[] = {
    {"gad",
     {{"code", "0101"},
      {"name", "Cuenca"},
      {"province", "01"},
      {"region", "Sierra"},
      {"population", "636996"},
      {"email", "cooperacion@cuenca.gob.ec"},
      {"ame_regional", "Regional 6 (Azuay, Cañar, Morona Santiago)"}}},
    {"cooperante",
     {{"id", "univ-cuenca-es"},
      {"name", "Universidad de Cuenca; Cooperación \"Norte-Sur\"\nsegunda línea"},
      {"kind", "privada"},
      {"private_kind", "Universidad"},
      {"country", "España"},
      {"languages", "es, en,de"},
      {"email", "ori@example.es"},
      {"gad", "1701"},
      {"updated_at", "2025-02-28"}}},
    {"offer",
     {{"id", "GIZ.2026-001"},
      {"cooperante", "giz"},
      {"title", "Gestión integral de residuos sólidos"},
      {"competencies", "d,a"},
      {"dac", "14050, 43030"},
      {"modality", "Subvención"},
      {"amount_min", "10000"},
      {"amount_max", "250000"},
      {"scope", "provincias"},
      {"regions", "sierra,costa"},
      {"provinces", "01,17"},
      {"cantons", "0101,1701,0901"},
      {"population_max", "500000"},
      {"cofinancing_required", "sí"},
      {"valid_from", "2026-01-01"},
      {"valid_to", "2027-12-31"}}},
    {"demand",
     {{"id", "d-0101-agua"},
      {"gad", "0101"},
      {"title", "Planta de tratamiento de aguas residuales (PDOT 2023-2027)"},
      {"competency", "d"},
      {"dac", "14030,14020"},
      {"modality", "subvencion"},
      {"amount", "1200000"},
      {"cofinancing", "300000"},
      {"priority", "1"}}},
    {"event",
     {{"id", S_EVENT},
      {"name", "Jornada de Cooperación Internacional 2026"},
      {"venue", "Quito, Centro de Convenciones"},
      {"date_start", "2026-11-12"},
      {"date_end", "2026-11-13"},
      {"timezone", "America/Guayaquil"},
      {"day_start", "09:00"},
      {"day_end", "17:00"},
      {"slot_minutes", "20"},
      {"tables", "40"},
      {"max_meetings", "12"},
      {"min_meetings_gad", "2"},
      {"meetings_per_pair", "1"},
      {"attendance_required", "sí"}}},
    {"participant",
     {{"party", "giz"},
      {"kind", "cooperante"},
      {"min_meetings", "1"},
      {"max_meetings", "10"},
      {"tables", "2"},
      {"available_slots", "11-14,1-8,9"},
      {"email", "agenda@giz.de"}}},
    {"preference", {{"from", "0101"}, {"to", "giz"}, {"preference", "obligatoria"}}},
};

static const s_sample_t *s_sample_of(const minga_rtype_t *t)
{
    for (size_t i = 0; i < sizeof s_samples / sizeof s_samples[0]; i++)
        if (strcmp(s_samples[i].record, t->record) == 0)
            return &s_samples[i];
    return NULL;
}

static const char *s_sample_text(const s_sample_t *s, const char *name)
{
    for (size_t i = 0; s && i < sizeof s->texts / sizeof s->texts[0] && s->texts[i].name; i++)
        if (strcmp(s->texts[i].name, name) == 0)
            return s->texts[i].text;
    return NULL;
}

/* A record of type t built with minga_field_parse from the sample texts: every field (full)
 * or the required ones only. NULL, with a message, when a field has no sample or its sample
 * does not parse. */
static void *s_sample(const minga_rtype_t *t, bool full)
{
    const s_sample_t *s = s_sample_of(t);
    void *rec = minga_record_new(t);
    if (!s || !rec) {
        print_error("record %s: no sample\n", t->record);
        minga_record_free(t, rec);
        return NULL;
    }
    if (t->per_event)
        *(char **)rec = strdup(S_EVENT);
    for (size_t i = 0; i < t->nfields; i++) {
        const minga_field_t *f = &t->fields[i];
        const char *text = s_sample_text(s, f->name);
        char err[320] = "";
        if (!text) {
            print_error("record %s: field '%s' has no sample text\n", t->record, f->name);
            minga_record_free(t, rec);
            return NULL;
        }
        if (!full && !f->required)
            continue;
        if (minga_field_parse(f, rec, text, err, sizeof err) != 0) {
            print_error("record %s: field '%s': sample '%s' does not parse: %s\n", t->record,
                        f->name, text, err);
            minga_record_free(t, rec);
            return NULL;
        }
    }
    return rec;
}

/* Fails, naming the record and field, when a and b format any field differently. */
static void s_assert_same(const minga_rtype_t *t, const void *a, const void *b)
{
    for (size_t i = 0; i < t->nfields; i++) {
        char *x = minga_field_format(&t->fields[i], a);
        char *y = minga_field_format(&t->fields[i], b);
        assert_non_null(x);
        assert_non_null(y);
        if (strcmp(x, y) != 0)
            fail_msg("record %s field '%s': '%s' became '%s'", t->record, t->fields[i].name, x, y);
        free(x);
        free(y);
    }
    if (t->per_event) {
        const char *x = *(char *const *)a, *y = *(char *const *)b;
        if (!x || !y || strcmp(x, y) != 0)
            fail_msg("record %s: event '%s' became '%s'", t->record, x ? x : "(null)",
                     y ? y : "(null)");
    }
}

/* Every field of the samples parses, and parsing canonicalises as the schema says. */
static void test_samples_parse(void **state)
{
    (void)state;
    size_t n;
    const minga_rtype_t *const *types = minga_rtypes(&n);
    for (size_t i = 0; i < n; i++) {
        void *rec = s_sample(types[i], true);
        if (!rec)
            fail_msg("record %s: the full sample cannot be built", types[i]->record);
        minga_record_free(types[i], rec);
    }
    minga_offer_t *o = s_sample(&minga_rtype_offer, true);
    assert_non_null(o);
    assert_string_equal(o->modality, "subvencion");
    char *text = minga_field_format(&minga_rtype_offer.fields[4], o);
    assert_string_equal(text, "14050,43030");
    free(text);
    text = minga_field_format(&minga_rtype_offer.fields[13], o);
    assert_string_equal(text, "sí");
    free(text);
    minga_record_free(&minga_rtype_offer, o);
    minga_participant_t *p = s_sample(&minga_rtype_participant, true);
    assert_non_null(p);
    assert_string_equal(p->available_slots, "1-9,11-14");
    minga_record_free(&minga_rtype_participant, p);
}

/* The samples that can be valid records pass their type's cross-field check. */
static void test_samples_check(void **state)
{
    (void)state;
    const minga_rtype_t *ok[] = {&minga_rtype_gad,         &minga_rtype_offer,
                                 &minga_rtype_demand,      &minga_rtype_event,
                                 &minga_rtype_participant, &minga_rtype_preference};
    for (size_t i = 0; i < sizeof ok / sizeof ok[0]; i++) {
        void *rec = s_sample(ok[i], true);
        assert_non_null(rec);
        const char *field = NULL;
        char err[320] = "";
        if (ok[i]->check(rec, &field, err, sizeof err) != 0)
            fail_msg("record %s: sample fails its check on %s: %s", ok[i]->record,
                     field ? field : "?", err);
        minga_record_free(ok[i], rec);
    }
}

/* ---- round trips ---- */

static void s_round_trip(const minga_rtype_t *t, bool full)
{
    void *rec = s_sample(t, full);
    if (!rec)
        fail_msg("record %s: the sample cannot be built", t->record);
    char *buf = NULL, *buf2 = NULL;
    size_t len = 0, len2 = 0;
    assert_int_equal(minga_record_encode(t, rec, &buf, &len), 0);
    void *back = minga_record_new(t);
    assert_non_null(back);
    char err[320] = "";
    int rc = minga_record_decode(t, buf, len, back, err, sizeof err);
    if (rc != 0)
        fail_msg("record %s: decode of its own encoding failed: %s", t->record, err);
    s_assert_same(t, rec, back);
    assert_int_equal(minga_record_encode(t, back, &buf2, &len2), 0);
    if (len != len2 || memcmp(buf, buf2, len) != 0)
        fail_msg("record %s: encode(decode(encode(r))) differs from encode(r)", t->record);
    free(buf);
    free(buf2);
    minga_record_free(t, back);
    minga_record_free(t, rec);
}

static void test_round_trip_full(void **state)
{
    (void)state;
    size_t n;
    const minga_rtype_t *const *types = minga_rtypes(&n);
    for (size_t i = 0; i < n; i++)
        s_round_trip(types[i], true);
}

static void test_round_trip_required_only(void **state)
{
    (void)state;
    size_t n;
    const minga_rtype_t *const *types = minga_rtypes(&n);
    for (size_t i = 0; i < n; i++)
        s_round_trip(types[i], false);
}

/* Empty optional fields are left out of the stored map: "v" (and "event") plus the required
 * fields only. */
static void test_empty_optional_left_out(void **state)
{
    (void)state;
    size_t n;
    const minga_rtype_t *const *types = minga_rtypes(&n);
    for (size_t i = 0; i < n; i++) {
        const minga_rtype_t *t = types[i];
        void *rec = s_sample(t, false);
        assert_non_null(rec);
        char *buf;
        size_t len, required = 0;
        assert_int_equal(minga_record_encode(t, rec, &buf, &len), 0);
        for (size_t j = 0; j < t->nfields; j++)
            required += t->fields[j].required;
        msgpack_unpacked up;
        msgpack_unpacked_init(&up);
        assert_int_equal(msgpack_unpack_next(&up, buf, len, NULL), MSGPACK_UNPACK_SUCCESS);
        assert_int_equal(up.data.type, MSGPACK_OBJECT_MAP);
        assert_int_equal(up.data.via.map.size, 1 + (t->per_event ? 1 : 0) + required);
        const msgpack_object *k = &up.data.via.map.ptr[0].key;
        assert_int_equal(k->type, MSGPACK_OBJECT_STR);
        assert_int_equal(k->via.str.size, 1);
        assert_memory_equal(k->via.str.ptr, "v", 1);
        assert_int_equal(up.data.via.map.ptr[0].val.via.u64, t->version);
        msgpack_unpacked_destroy(&up);
        free(buf);
        minga_record_free(t, rec);
    }
}

/* ---- hostile stored values ---- */

typedef enum { S_AS_IS, S_WRONG_TYPE, S_LEFT_OUT, S_TOO_LONG } s_mutation_t;

static void s_pack_str(msgpack_packer *pk, const char *s, size_t n)
{
    msgpack_pack_str(pk, n);
    msgpack_pack_str_body(pk, s, n);
}

/* A value of a msgpack type the field does not take. */
static void s_pack_wrong(msgpack_packer *pk, const minga_field_t *f)
{
    switch (f->type) {
    case MINGA_FT_UINT:
        s_pack_str(pk, "12", 2);
        break;
    case MINGA_FT_BOOL:
        msgpack_pack_uint8(pk, 1);
        break;
    case MINGA_FT_CODES:
    case MINGA_FT_STRS:
        msgpack_pack_array(pk, 2);
        msgpack_pack_uint8(pk, 1);
        msgpack_pack_uint8(pk, 2);
        break;
    default:
        msgpack_pack_int64(pk, -7);
        break;
    }
}

/* Packs rec as minga_record_pack does, with field `which` mutated and "v" = version. */
static void s_pack_mutated(const minga_rtype_t *t, const void *rec, size_t which, s_mutation_t how,
                           uint64_t version, msgpack_sbuffer *sb)
{
    char *buf;
    size_t len;
    assert_int_equal(minga_record_encode(t, rec, &buf, &len), 0);
    msgpack_unpacked up;
    msgpack_unpacked_init(&up);
    assert_int_equal(msgpack_unpack_next(&up, buf, len, NULL), MSGPACK_UNPACK_SUCCESS);
    const msgpack_object_map *m = &up.data.via.map;
    const char *name = which < t->nfields ? t->fields[which].name : "";
    msgpack_packer pk;
    msgpack_sbuffer_init(sb);
    msgpack_packer_init(&pk, sb, msgpack_sbuffer_write);
    msgpack_pack_map(&pk, m->size - (how == S_LEFT_OUT ? 1 : 0));
    for (uint32_t i = 0; i < m->size; i++) {
        const msgpack_object *k = &m->ptr[i].key;
        bool is_v = k->via.str.size == 1 && k->via.str.ptr[0] == 'v';
        bool hit =
            k->via.str.size == strlen(name) && memcmp(k->via.str.ptr, name, strlen(name)) == 0;
        if (hit && how == S_LEFT_OUT)
            continue;
        msgpack_pack_object(&pk, *k);
        if (is_v)
            msgpack_pack_uint64(&pk, version);
        else if (hit && how == S_WRONG_TYPE)
            s_pack_wrong(&pk, &t->fields[which]);
        else if (hit && how == S_TOO_LONG) {
            size_t n = (t->fields[which].max_len ? t->fields[which].max_len : 1024) * 4 + 1;
            char *big = malloc(n);
            assert_non_null(big);
            memset(big, 'a', n);
            s_pack_str(&pk, big, n);
            free(big);
        } else
            msgpack_pack_object(&pk, m->ptr[i].val);
    }
    msgpack_unpacked_destroy(&up);
    free(buf);
}

/* Decodes buf into a record that already holds values; requires error rc (or any error when
 * rc is 0) whose message names `name` when not NULL, and a cleared record afterwards. */
static void s_expect_error(const minga_rtype_t *t, const void *buf, size_t len, int rc,
                           const char *name, const char *what)
{
    void *rec = s_sample(t, true);
    assert_non_null(rec);
    char err[320] = "";
    int got = minga_record_decode(t, buf, len, rec, err, sizeof err);
    if (got == 0 || (rc != 0 && got != rc))
        fail_msg("record %s, %s: decode returned %d (%s), expected %d", t->record, what, got,
                 got ? minga_strerror(got) : "success", rc);
    if (name && !strstr(err, name))
        fail_msg("record %s, %s: the message '%s' does not name '%s'", t->record, what, err, name);
    void *zero = calloc(1, t->size);
    assert_non_null(zero);
    if (memcmp(rec, zero, t->size) != 0)
        fail_msg("record %s, %s: the record is not cleared after a failed decode", t->record, what);
    free(zero);
    minga_record_free(t, rec);
}

static void test_decode_truncated(void **state)
{
    (void)state;
    size_t n;
    const minga_rtype_t *const *types = minga_rtypes(&n);
    for (size_t i = 0; i < n; i++) {
        void *rec = s_sample(types[i], true);
        assert_non_null(rec);
        char *buf;
        size_t len;
        assert_int_equal(minga_record_encode(types[i], rec, &buf, &len), 0);
        for (size_t cut = 0; cut < len; cut++) {
            char what[64];
            snprintf(what, sizeof what, "truncated to %zu of %zu bytes", cut, len);
            /* a copy of exactly cut bytes, so that ASan sees any read past the end */
            char *part = malloc(cut ? cut : 1);
            assert_non_null(part);
            memcpy(part, buf, cut);
            s_expect_error(types[i], part, cut, MINGA_EFORMAT, NULL, what);
            free(part);
        }
        char *longer = malloc(len + 1);
        assert_non_null(longer);
        memcpy(longer, buf, len);
        longer[len] = '\xc0';
        s_expect_error(types[i], longer, len + 1, MINGA_EFORMAT, NULL, "a trailing byte");
        free(longer);
        free(buf);
        minga_record_free(types[i], rec);
    }
}

static void test_decode_wrong_type(void **state)
{
    (void)state;
    size_t n;
    const minga_rtype_t *const *types = minga_rtypes(&n);
    for (size_t i = 0; i < n; i++) {
        const minga_rtype_t *t = types[i];
        void *rec = s_sample(t, true);
        assert_non_null(rec);
        for (size_t j = 0; j < t->nfields; j++) {
            msgpack_sbuffer sb;
            s_pack_mutated(t, rec, j, S_WRONG_TYPE, t->version, &sb);
            char what[96];
            snprintf(what, sizeof what, "field '%s' of the wrong type", t->fields[j].name);
            s_expect_error(t, sb.data, sb.size, MINGA_EFORMAT, t->fields[j].name, what);
            msgpack_sbuffer_destroy(&sb);
            if (t->fields[j].type == MINGA_FT_UINT || t->fields[j].type == MINGA_FT_BOOL)
                continue;
            s_pack_mutated(t, rec, j, S_TOO_LONG, t->version, &sb);
            snprintf(what, sizeof what, "field '%s' too long", t->fields[j].name);
            s_expect_error(t, sb.data, sb.size, MINGA_EFORMAT, t->fields[j].name, what);
            msgpack_sbuffer_destroy(&sb);
        }
        minga_record_free(t, rec);
    }
}

static void test_decode_version(void **state)
{
    (void)state;
    size_t n;
    const minga_rtype_t *const *types = minga_rtypes(&n);
    for (size_t i = 0; i < n; i++) {
        const minga_rtype_t *t = types[i];
        void *rec = s_sample(t, true);
        assert_non_null(rec);
        msgpack_sbuffer sb;
        s_pack_mutated(t, rec, t->nfields, S_AS_IS, t->version + 1, &sb);
        s_expect_error(t, sb.data, sb.size, MINGA_EVERSION, "version", "a newer version");
        msgpack_sbuffer_destroy(&sb);
        s_pack_mutated(t, rec, t->nfields, S_AS_IS, 0, &sb);
        s_expect_error(t, sb.data, sb.size, MINGA_EVERSION, "version", "version 0");
        msgpack_sbuffer_destroy(&sb);
        s_pack_mutated(t, rec, t->nfields, S_AS_IS, t->version, &sb);
        void *back = minga_record_new(t);
        char err[320] = "";
        if (minga_record_decode(t, sb.data, sb.size, back, err, sizeof err) != 0)
            fail_msg("record %s: the repacked record does not decode: %s", t->record, err);
        s_assert_same(t, rec, back);
        minga_record_free(t, back);
        msgpack_sbuffer_destroy(&sb);
        minga_record_free(t, rec);
    }
}

static void test_decode_missing_required(void **state)
{
    (void)state;
    size_t n;
    const minga_rtype_t *const *types = minga_rtypes(&n);
    for (size_t i = 0; i < n; i++) {
        const minga_rtype_t *t = types[i];
        void *rec = s_sample(t, true);
        assert_non_null(rec);
        for (size_t j = 0; j < t->nfields; j++) {
            if (!t->fields[j].required)
                continue;
            msgpack_sbuffer sb;
            s_pack_mutated(t, rec, j, S_LEFT_OUT, t->version, &sb);
            char what[96];
            snprintf(what, sizeof what, "required field '%s' missing", t->fields[j].name);
            s_expect_error(t, sb.data, sb.size, MINGA_EFORMAT, t->fields[j].name, what);
            msgpack_sbuffer_destroy(&sb);
        }
        minga_record_free(t, rec);
    }
}

/* Buffers that are not records at all. */
static void test_decode_hostile(void **state)
{
    (void)state;
    static const struct {
        const char *what;
        const char *bytes;
        size_t len;
    } cases[] = {
        {"nothing", "", 0},
        {"nil", "\xc0", 1},
        {"an array", "\x91\x01", 2},
        {"a string", "\xa1v", 2},
        {"a map32 declaring 4 G pairs", "\xdf\xff\xff\xff\xff", 5},
        {"an array32 declaring 4 G items", "\xdd\xff\xff\xff\xff", 5},
        {"a str32 declaring 4 GB", "\x81\xa1v\xdb\xff\xff\xff\xff", 8},
        {"a bin32 declaring 4 GB", "\xc6\xff\xff\xff\xff", 5},
        {"a deep nesting", "\x81\xa1v\x91\x91\x91\x91\x91\x91\x91\x91\x01", 12},
        {"the never-used byte", "\x81\xa1v\xc1", 4},
        {"a map with an integer key", "\x81\x01\x01", 3},
        {"v as a string", "\x81\xa1v\xa1\x31", 4},
        {"v negative", "\x81\xa1v\xff", 4},
    };
    size_t n;
    const minga_rtype_t *const *types = minga_rtypes(&n);
    for (size_t i = 0; i < n; i++) {
        for (size_t c = 0; c < sizeof cases / sizeof cases[0]; c++) {
            char *copy = malloc(cases[c].len ? cases[c].len : 1);
            assert_non_null(copy);
            memcpy(copy, cases[c].bytes, cases[c].len);
            s_expect_error(types[i], copy, cases[c].len, 0, NULL, cases[c].what);
            free(copy);
        }
    }
}

/* A list longer than the decoder's cap of 4096 items is refused. */
static void test_decode_long_list(void **state)
{
    (void)state;
    const minga_rtype_t *t = &minga_rtype_offer;
    msgpack_sbuffer sb;
    msgpack_sbuffer_init(&sb);
    msgpack_packer pk;
    msgpack_packer_init(&pk, &sb, msgpack_sbuffer_write);
    msgpack_pack_map(&pk, 2);
    s_pack_str(&pk, "v", 1);
    msgpack_pack_uint8(&pk, 1);
    s_pack_str(&pk, "dac", 3);
    msgpack_pack_array(&pk, 5000);
    for (int i = 0; i < 5000; i++)
        s_pack_str(&pk, "14030", 5);
    s_expect_error(t, sb.data, sb.size, MINGA_EFORMAT, "dac", "a list of 5000 items");
    msgpack_sbuffer_destroy(&sb);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_schema_files_match_tables),
        cmocka_unit_test(test_rtype_find),
        cmocka_unit_test(test_samples_parse),
        cmocka_unit_test(test_samples_check),
        cmocka_unit_test(test_round_trip_full),
        cmocka_unit_test(test_round_trip_required_only),
        cmocka_unit_test(test_empty_optional_left_out),
        cmocka_unit_test(test_decode_truncated),
        cmocka_unit_test(test_decode_wrong_type),
        cmocka_unit_test(test_decode_version),
        cmocka_unit_test(test_decode_missing_required),
        cmocka_unit_test(test_decode_hostile),
        cmocka_unit_test(test_decode_long_list),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
