/*
 * record_defs.c: the descriptor tables of the seven registry records — the C side of
 * the files in schemas/records/. Each table lists, in file column order, every field with its
 * msgpack name, its header in CSV/JSON files, type, code list, whether it is required, and its
 * meaning; tests/unit/test_schema.c checks them against the schema files. The cross-field
 * checks and key builders of each kind are here too.
 */
#include "minga/record.h"

#include "minga/error.h"

#include <stdio.h>
#include <string.h>

#define F(st, fld, hdr, ty, cl, req, max, meaning)                                                 \
    {                                                                                              \
#fld, hdr, MINGA_FT_##ty, MINGA_CL_##cl, req, offsetof(st, fld), max, meaning              \
    }
#define NFIELDS(a) (sizeof(a) / sizeof((a)[0]))

/* ---- gad ---- */

static const minga_field_t s_gad_fields[] = {
    F(minga_gad_t, code, "código", ID, CANTON, true, 4, "INEC DPA canton code, 4 digits"),
    F(minga_gad_t, name, "nombre", STR, NONE, true, 200, "name of the canton"),
    F(minga_gad_t, province, "provincia", CODE, PROVINCE, true, 2,
      "INEC DPA province code, 2 digits: the first two of the canton code"),
    F(minga_gad_t, region, "región", CODE, REGION, true, 16, "natural region of the province"),
    F(minga_gad_t, population, "población", UINT, NONE, true, 0, "inhabitants"),
    F(minga_gad_t, email, "correo", EMAIL, NONE, false, 254, "contact e-mail of the GAD"),
    F(minga_gad_t, ame_regional, "regional_ame", STR, NONE, false, 100,
      "AME regional office that serves the GAD"),
};

static int s_gad_check(const void *rec, const char **field, char *err, size_t cap)
{
    const minga_gad_t *g = rec;
    const minga_canton_t *c = minga_canton_find(g->code);
    if (c && strcmp(c->province, g->province) != 0) {
        *field = "provincia";
        snprintf(err, cap, "canton %s belongs to province %s, not %s", g->code, c->province,
                 g->province);
        return MINGA_EINVAL;
    }
    const minga_province_t *p = minga_province_find(g->province);
    if (p && strcmp(minga_region_code(p->region), g->region) != 0) {
        *field = "región";
        snprintf(err, cap, "province %s lies in region %s, not %s", g->province,
                 minga_region_code(p->region), g->region);
        return MINGA_EINVAL;
    }
    return 0;
}

static int s_key_u16_code(const char *code, uint8_t *key)
{
    unsigned v = 0;
    for (int i = 0; i < 4; i++) {
        if (!code || code[i] < '0' || code[i] > '9')
            return MINGA_EINVAL;
        v = v * 10 + (unsigned)(code[i] - '0');
    }
    minga_key_u16(key, (uint16_t)v);
    return 2;
}

static int s_gad_key(const void *rec, uint8_t *key)
{
    return s_key_u16_code(((const minga_gad_t *)rec)->code, key);
}

const minga_rtype_t minga_rtype_gad = {"gads",
                                       "gad",
                                       1,
                                       MINGA_DB_GAD,
                                       sizeof(minga_gad_t),
                                       s_gad_fields,
                                       NFIELDS(s_gad_fields),
                                       0,
                                       false,
                                       s_gad_check,
                                       s_gad_key};

/* ---- cooperante ---- */

static const minga_field_t s_cooperante_fields[] = {
    F(minga_cooperante_t, id, "id", ID, NONE, true, 32, "cooperante id"),
    F(minga_cooperante_t, name, "nombre", STR, NONE, true, 200, "name of the agency"),
    F(minga_cooperante_t, kind, "tipo", CODE, KIND, true, 32, "kind of cooperation"),
    F(minga_cooperante_t, private_kind, "subtipo", CODE, PRIVATE_KIND, false, 32,
      "for kind privada: empresa, universidad, ONG or fundación"),
    F(minga_cooperante_t, country, "país", STR, NONE, true, 80,
      "country of origin (Spanish name), or the organisation's seat"),
    F(minga_cooperante_t, languages, "idiomas", STRS, NONE, false, 8,
      "working languages, ISO 639-1 codes"),
    F(minga_cooperante_t, email, "correo", EMAIL, NONE, false, 254, "contact e-mail"),
    F(minga_cooperante_t, gad, "gad", ID, CANTON, false, 4,
      "for a GAD that offers its good practices (kind intermunicipal): its DPA code"),
    F(minga_cooperante_t, updated_at, "actualizado", DATE, NONE, false, 10,
      "date of the last update in the SIOC"),
};

static int s_id_key(const char *id, uint8_t *key)
{
    int rc = minga_key_id(key, id);
    return rc < 0 ? rc : MINGA_KEY_ID;
}

static int s_cooperante_check(const void *rec, const char **field, char *err, size_t cap)
{
    const minga_cooperante_t *c = rec;
    if (c->private_kind && strcmp(c->kind, "privada") != 0) {
        *field = "subtipo";
        snprintf(err, cap, "subtipo '%s' is only for kind privada, not %s", c->private_kind,
                 c->kind);
        return MINGA_EINVAL;
    }
    if (c->gad && strcmp(c->kind, "intermunicipal") != 0) {
        *field = "gad";
        snprintf(err, cap, "a GAD code is only for kind intermunicipal, not %s", c->kind);
        return MINGA_EINVAL;
    }
    return 0;
}

static int s_cooperante_key(const void *rec, uint8_t *key)
{
    return s_id_key(((const minga_cooperante_t *)rec)->id, key);
}

const minga_rtype_t minga_rtype_cooperante = {"cooperantes",
                                              "cooperante",
                                              1,
                                              MINGA_DB_COOPERANTE,
                                              sizeof(minga_cooperante_t),
                                              s_cooperante_fields,
                                              NFIELDS(s_cooperante_fields),
                                              0,
                                              false,
                                              s_cooperante_check,
                                              s_cooperante_key};

/* ---- offer ---- */

static const minga_field_t s_offer_fields[] = {
    F(minga_offer_t, id, "id", ID, NONE, true, 32, "offer id"),
    F(minga_offer_t, cooperante, "cooperante", ID, NONE, true, 32, "id of the cooperante"),
    F(minga_offer_t, title, "título", STR, NONE, true, 300, "title of the offer"),
    F(minga_offer_t, competencies, "competencias", CODES, COMPETENCY, false, 14,
      "COOTAD art. 55 competencies the offer serves"),
    F(minga_offer_t, dac, "sectores_cad", CODES, DAC, true, 16, "OECD DAC purpose codes"),
    F(minga_offer_t, modality, "modalidad", CODE, MODALITY, true, 32, "modality"),
    F(minga_offer_t, amount_min, "monto_mín", UINT, NONE, false, 0,
      "smallest amount financed, USD (subvención)"),
    F(minga_offer_t, amount_max, "monto_máx", UINT, NONE, false, 0,
      "largest amount financed, USD (subvención); 0 = no amount"),
    F(minga_offer_t, scope, "ámbito", CODE, SCOPE, true, 16,
      "territorial scope: nacional, regiones, provincias or cantones"),
    F(minga_offer_t, regions, "regiones", CODES, REGION, false, 4, "eligible regions"),
    F(minga_offer_t, provinces, "provincias", CODES, PROVINCE, false, 24, "eligible provinces"),
    F(minga_offer_t, cantons, "cantones", CODES, CANTON, false, 221, "eligible cantons"),
    F(minga_offer_t, population_max, "población_máx", UINT, NONE, false, 0,
      "eligible only up to this population; 0 = no cap"),
    F(minga_offer_t, cofinancing_required, "cofinanciamiento_requerido", BOOL, NONE, false, 0,
      "the cooperante requires co-financing from the GAD"),
    F(minga_offer_t, valid_from, "válida_desde", DATE, NONE, true, 10, "first valid day"),
    F(minga_offer_t, valid_to, "válida_hasta", DATE, NONE, true, 10, "last valid day"),
};

static int s_offer_check(const void *rec, const char **field, char *err, size_t cap)
{
    const minga_offer_t *o = rec;
    if (o->amount_min > o->amount_max) {
        *field = "monto_mín";
        snprintf(err, cap, "min %llu > max %llu", (unsigned long long)o->amount_min,
                 (unsigned long long)o->amount_max);
        return MINGA_EINVAL;
    }
    if (strcmp(o->modality, "subvencion") == 0 && o->amount_max == 0) {
        *field = "monto_máx";
        snprintf(err, cap, "a subvención needs an amount range (monto_máx > 0)");
        return MINGA_EINVAL;
    }
    if (strcmp(o->valid_from, o->valid_to) > 0) {
        *field = "válida_hasta";
        snprintf(err, cap, "end %s before start %s", o->valid_to, o->valid_from);
        return MINGA_EINVAL;
    }
    struct {
        const char *scope, *header;
        size_t n;
    } need[] = {{"regiones", "regiones", o->regions.n},
                {"provincias", "provincias", o->provinces.n},
                {"cantones", "cantones", o->cantons.n}};
    for (size_t i = 0; i < 3; i++) {
        if (strcmp(o->scope, need[i].scope) == 0 && need[i].n == 0) {
            *field = need[i].header;
            snprintf(err, cap, "scope %s needs at least one entry in %s", o->scope, need[i].header);
            return MINGA_EINVAL;
        }
    }
    return 0;
}

static int s_offer_key(const void *rec, uint8_t *key)
{
    return s_id_key(((const minga_offer_t *)rec)->id, key);
}

const minga_rtype_t minga_rtype_offer = {"offers",
                                         "offer",
                                         1,
                                         MINGA_DB_OFFER,
                                         sizeof(minga_offer_t),
                                         s_offer_fields,
                                         NFIELDS(s_offer_fields),
                                         0,
                                         false,
                                         s_offer_check,
                                         s_offer_key};

/* ---- demand ---- */

static const minga_field_t s_demand_fields[] = {
    F(minga_demand_t, id, "id", ID, NONE, true, 32, "demand id"),
    F(minga_demand_t, gad, "gad", ID, CANTON, true, 4, "DPA code of the GAD that demands"),
    F(minga_demand_t, title, "título", STR, NONE, true, 300, "project title, from the GAD's PDOT"),
    F(minga_demand_t, competency, "competencia", CODE, COMPETENCY, true, 1,
      "COOTAD art. 55 competency of the project"),
    F(minga_demand_t, dac, "sectores_cad", CODES, DAC, true, 16, "OECD DAC purpose codes"),
    F(minga_demand_t, modality, "modalidad", CODE, MODALITY, true, 32, "modality wanted"),
    F(minga_demand_t, amount, "monto", UINT, NONE, false, 0, "amount needed, USD"),
    F(minga_demand_t, cofinancing, "cofinanciamiento", UINT, NONE, false, 0,
      "co-financing the GAD brings, USD"),
    F(minga_demand_t, priority, "prioridad", UINT, NONE, true, 0, "1 (highest) to 5"),
};

static int s_demand_check(const void *rec, const char **field, char *err, size_t cap)
{
    const minga_demand_t *d = rec;
    if (d->priority < 1 || d->priority > 5) {
        *field = "prioridad";
        snprintf(err, cap, "priority %llu is not between 1 and 5", (unsigned long long)d->priority);
        return MINGA_EINVAL;
    }
    if (strcmp(d->modality, "subvencion") == 0 && d->amount == 0) {
        *field = "monto";
        snprintf(err, cap, "a subvención demand needs an amount");
        return MINGA_EINVAL;
    }
    return 0;
}

static int s_demand_key(const void *rec, uint8_t *key)
{
    return s_id_key(((const minga_demand_t *)rec)->id, key);
}

const minga_rtype_t minga_rtype_demand = {"demands",
                                          "demand",
                                          1,
                                          MINGA_DB_DEMAND,
                                          sizeof(minga_demand_t),
                                          s_demand_fields,
                                          NFIELDS(s_demand_fields),
                                          0,
                                          false,
                                          s_demand_check,
                                          s_demand_key};

/* ---- event ---- */

static const minga_field_t s_event_fields[] = {
    F(minga_event_t, id, "id", ID, NONE, true, 32, "event id"),
    F(minga_event_t, name, "nombre", STR, NONE, true, 200, "name of the event"),
    F(minga_event_t, venue, "lugar", STR, NONE, false, 200, "venue"),
    F(minga_event_t, date_start, "fecha_inicio", DATE, NONE, true, 10, "first day"),
    F(minga_event_t, date_end, "fecha_fin", DATE, NONE, true, 10, "last day"),
    F(minga_event_t, timezone, "zona_horaria", STR, NONE, true, 64,
      "IANA time zone of the times (America/Guayaquil)"),
    F(minga_event_t, day_start, "hora_inicio", TIME, NONE, true, 5,
      "each day's first slot starts at this time"),
    F(minga_event_t, day_end, "hora_fin", TIME, NONE, true, 5,
      "each day's last slot ends at or before this time"),
    F(minga_event_t, slot_minutes, "minutos_por_turno", UINT, NONE, true, 0,
      "length of a slot in minutes"),
    F(minga_event_t, tables, "mesas", UINT, NONE, true, 0, "tables in the venue"),
    F(minga_event_t, max_meetings, "máx_reuniones", UINT, NONE, true, 0,
      "default maximum of meetings per participant"),
    F(minga_event_t, min_meetings_gad, "mín_reuniones_gad", UINT, NONE, false, 0,
      "default minimum of meetings per GAD"),
    F(minga_event_t, meetings_per_pair, "reuniones_por_par", UINT, NONE, false, 0,
      "at most this many meetings per GAD and cooperante pair (1 when empty)"),
    F(minga_event_t, attendance_required, "asistencia_requerida", BOOL, NONE, false, 0,
      "only cooperantes registered as participants are matched"),
};

/* Minutes since midnight of "HH:MM" (validated by the parser). */
static int s_minutes(const char *hhmm)
{
    return ((hhmm[0] - '0') * 10 + (hhmm[1] - '0')) * 60 + (hhmm[3] - '0') * 10 + (hhmm[4] - '0');
}

static int s_event_check(const void *rec, const char **field, char *err, size_t cap)
{
    const minga_event_t *e = rec;
    if (strcmp(e->date_start, e->date_end) > 0) {
        *field = "fecha_fin";
        snprintf(err, cap, "end %s before start %s", e->date_end, e->date_start);
        return MINGA_EINVAL;
    }
    if (e->slot_minutes < 5 || e->slot_minutes > 240) {
        *field = "minutos_por_turno";
        snprintf(err, cap, "slot length %llu min is outside 5..240",
                 (unsigned long long)e->slot_minutes);
        return MINGA_EINVAL;
    }
    if (s_minutes(e->day_end) - s_minutes(e->day_start) < (int)e->slot_minutes) {
        *field = "hora_fin";
        snprintf(err, cap, "day %s-%s holds no slot of %llu min", e->day_start, e->day_end,
                 (unsigned long long)e->slot_minutes);
        return MINGA_EINVAL;
    }
    if (e->tables < 1 || e->tables > 65535) {
        *field = "mesas";
        snprintf(err, cap, "tables %llu is outside 1..65535", (unsigned long long)e->tables);
        return MINGA_EINVAL;
    }
    if (e->min_meetings_gad > e->max_meetings) {
        *field = "mín_reuniones_gad";
        snprintf(err, cap, "min %llu > max %llu", (unsigned long long)e->min_meetings_gad,
                 (unsigned long long)e->max_meetings);
        return MINGA_EINVAL;
    }
    return 0;
}

static int s_event_key(const void *rec, uint8_t *key)
{
    return s_id_key(((const minga_event_t *)rec)->id, key);
}

const minga_rtype_t minga_rtype_event = {"events",
                                         "event",
                                         1,
                                         MINGA_DB_EVENT,
                                         sizeof(minga_event_t),
                                         s_event_fields,
                                         NFIELDS(s_event_fields),
                                         0,
                                         false,
                                         s_event_check,
                                         s_event_key};

/* ---- participant (English columns: DESIGN.md §11) ---- */

static const minga_field_t s_participant_fields[] = {
    F(minga_participant_t, party, "party", ID, PARTY_KIND, true, 32,
      "DPA code of a GAD or id of a cooperante"),
    F(minga_participant_t, kind, "kind", CODE, PARTY_KIND, true, 16, "gad or cooperante"),
    F(minga_participant_t, min_meetings, "min_meetings", UINT, NONE, false, 0,
      "fewest meetings wanted"),
    F(minga_participant_t, max_meetings, "max_meetings", UINT, NONE, true, 0,
      "most meetings accepted"),
    F(minga_participant_t, tables, "tables", UINT, NONE, false, 0,
      "a cooperante's representatives, each holding one table (1 when empty); 0 for a GAD"),
    F(minga_participant_t, available_slots, "available_slots", RANGES, NONE, false, 4000,
      "slots the participant is available in, as ranges (1-8,11-14); empty = all"),
    F(minga_participant_t, email, "email", EMAIL, NONE, false, 254, "where its agenda goes"),
};

static int s_participant_check(const void *rec, const char **field, char *err, size_t cap)
{
    const minga_participant_t *p = rec;
    bool is_gad = strcmp(p->kind, "gad") == 0;
    if (is_gad != (minga_canton_find(p->party) != NULL)) {
        *field = "kind";
        snprintf(err, cap, "party %s is %s, but kind says %s", p->party,
                 is_gad ? "not a DPA canton code" : "a DPA canton code", p->kind);
        return MINGA_EINVAL;
    }
    if (!is_gad && !minga_id_valid(p->party)) {
        *field = "party";
        snprintf(err, cap, "'%s' is not a valid id", p->party);
        return MINGA_EINVAL;
    }
    if (p->min_meetings > p->max_meetings) {
        *field = "min_meetings";
        snprintf(err, cap, "min %llu > max %llu", (unsigned long long)p->min_meetings,
                 (unsigned long long)p->max_meetings);
        return MINGA_EINVAL;
    }
    if (is_gad && p->tables > 0) {
        *field = "tables";
        snprintf(err, cap, "a GAD holds no table (tables must be empty or 0)");
        return MINGA_EINVAL;
    }
    if (p->tables > 50) {
        *field = "tables";
        snprintf(err, cap, "%llu representatives is more than 50", (unsigned long long)p->tables);
        return MINGA_EINVAL;
    }
    return 0;
}

static int s_participant_key(const void *rec, uint8_t *key)
{
    const minga_participant_t *p = rec;
    if (minga_key_id(key, p->event) < 0 || minga_key_id(key + MINGA_KEY_ID, p->party) < 0)
        return MINGA_EINVAL;
    return 2 * MINGA_KEY_ID;
}

const minga_rtype_t minga_rtype_participant = {"participants",
                                               "participant",
                                               1,
                                               MINGA_DB_PARTICIPANT,
                                               sizeof(minga_participant_t),
                                               s_participant_fields,
                                               NFIELDS(s_participant_fields),
                                               0,
                                               true,
                                               s_participant_check,
                                               s_participant_key};

/* ---- preference ---- */

static const minga_field_t s_preference_fields[] = {
    F(minga_preference_t, from, "de", ID, PARTY_KIND, true, 32,
      "party that states the preference (DPA code or cooperante id)"),
    F(minga_preference_t, to, "para", ID, PARTY_KIND, true, 32, "the other party"),
    F(minga_preference_t, preference, "preferencia", CODE, PREFERENCE, true, 16,
      "obligatoria (must meet), deseada (meet) or no (never)"),
};

static int s_preference_check(const void *rec, const char **field, char *err, size_t cap)
{
    const minga_preference_t *p = rec;
    bool from_gad = minga_canton_find(p->from) != NULL;
    bool to_gad = minga_canton_find(p->to) != NULL;
    if (from_gad == to_gad) {
        *field = "para";
        snprintf(err, cap, "a preference joins a GAD and a cooperante, not %s and %s", p->from,
                 p->to);
        return MINGA_EINVAL;
    }
    return 0;
}

static int s_preference_key(const void *rec, uint8_t *key)
{
    const minga_preference_t *p = rec;
    if (minga_key_id(key, p->event) < 0 || minga_key_id(key + MINGA_KEY_ID, p->from) < 0 ||
        minga_key_id(key + 2 * MINGA_KEY_ID, p->to) < 0)
        return MINGA_EINVAL;
    return 3 * MINGA_KEY_ID;
}

const minga_rtype_t minga_rtype_preference = {"preferences",
                                              "preference",
                                              1,
                                              MINGA_DB_PREFERENCE,
                                              sizeof(minga_preference_t),
                                              s_preference_fields,
                                              NFIELDS(s_preference_fields),
                                              0,
                                              true,
                                              s_preference_check,
                                              s_preference_key};

/* ---- the list ---- */

static const minga_rtype_t *const s_rtypes[] = {
    &minga_rtype_gad,   &minga_rtype_cooperante,  &minga_rtype_offer,     &minga_rtype_demand,
    &minga_rtype_event, &minga_rtype_participant, &minga_rtype_preference};

const minga_rtype_t *const *minga_rtypes(size_t *n)
{
    *n = NFIELDS(s_rtypes);
    return s_rtypes;
}

const minga_rtype_t *minga_rtype_find(const char *name)
{
    for (size_t i = 0; i < NFIELDS(s_rtypes); i++)
        if (strcmp(s_rtypes[i]->kind, name) == 0 || strcmp(s_rtypes[i]->record, name) == 0)
            return s_rtypes[i];
    return NULL;
}
