/*
 * record.h: the registry records and their table-driven codecs.
 *
 * Each record kind is a C struct plus a table of field descriptors (minga_field_t) that says,
 * for every field: its msgpack key, its header in CSV/JSON files, its type, whether it is
 * required, which code list it takes its values from, and where it lives in the struct. The
 * msgpack codec (stored values), the CSV/JSON importer and exporter, and the schema files in
 * schemas/records/ all follow these tables; tests/unit/test_schema.c fails when the tables and
 * the schemas/records/ files disagree.
 *
 * Stored value: a msgpack map {"v": version, <field>: <value>...}; optional fields that are
 * empty are left out. Field C types by descriptor type:
 *   STR, DATE, TIME, EMAIL, CODE, ID, RANGES  -> char *   (NULL = empty; owned by the record)
 *   UINT                                      -> uint64_t
 *   BOOL                                      -> bool
 *   CODES, STRS                               -> minga_strv_t (owned by the record)
 */
#ifndef MINGA_RECORD_H
#define MINGA_RECORD_H

#include "minga/codes.h"
#include "minga/store.h"

#include <msgpack.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

typedef struct {
    char **v;
    size_t n;
} minga_strv_t;

typedef enum {
    MINGA_FT_STR,    /* free UTF-8 text, one line or more */
    MINGA_FT_ID,     /* [A-Za-z][A-Za-z0-9._-]{0,31}; codes=CANTON: a DPA canton code;
                        codes=PARTY_KIND: either (a party) */
    MINGA_FT_UINT,   /* unsigned integer */
    MINGA_FT_BOOL,   /* "sí"/"no" in CSV ("si", "true", "1"... accepted), true/false in JSON */
    MINGA_FT_DATE,   /* YYYY-MM-DD */
    MINGA_FT_TIME,   /* HH:MM, 24 h */
    MINGA_FT_EMAIL,  /* local@domain, no spaces, no control characters */
    MINGA_FT_CODE,   /* one code of a code list */
    MINGA_FT_CODES,  /* a list of codes, "," between them in CSV, an array in JSON */
    MINGA_FT_STRS,   /* a list of short strings, likewise */
    MINGA_FT_RANGES, /* slot ranges "1-8,11-14" */
} minga_ftype_t;

typedef struct {
    const char *name;   /* msgpack key, English snake_case */
    const char *header; /* CSV header and JSON key in files */
    minga_ftype_t type;
    minga_codelist_t codes; /* for CODE, CODES, and ID of a canton */
    bool required;
    size_t offset;       /* offsetof the field in the record struct */
    size_t max_len;      /* text: the longest value in bytes (0 = 1024); CODES: the most items;
                            STRS: the longest item; RANGES: the longest canonical text */
    const char *meaning; /* what the field means (English), for the schema text */
} minga_field_t;

typedef struct minga_rtype_t minga_rtype_t;

/* Cross-field check: min <= max, dates in order... Writes a message into err and returns
 * MINGA_EINVAL when the record is not valid; field receives the header of the field at fault. */
typedef int(minga_record_check_fn)(const void *rec, const char **field, char *err, size_t errcap);

/* Builds the record's key into key (at most MINGA_KEY_ID * 3 bytes) and returns its length,
 * or a negative code. event is the event for participant and preference, else NULL. */
typedef int(minga_record_key_fn)(const void *rec, uint8_t *key);

struct minga_rtype_t {
    const char *kind;   /* "gads": the name `minga import` takes */
    const char *record; /* "gad": the record's name, its schema file schemas/records/gad.json */
    unsigned version;   /* schema version written in "v" */
    minga_db_t db;
    size_t size; /* sizeof the struct */
    const minga_field_t *fields;
    size_t nfields;
    size_t id_field; /* index of the field that identifies the record in messages */
    bool per_event;  /* participants and preferences belong to an event: their struct begins
                        with "char *event", which is stored as "event" and not in fields */
    minga_record_check_fn *check;
    minga_record_key_fn *key;
};

/* ---- the records ---- */

typedef struct {
    char *code; /* DPA canton code, 4 digits */
    char *name;
    char *province; /* 2 digits */
    char *region;   /* code of MINGA_CL_REGION */
    uint64_t population;
    char *email;
    char *ame_regional;
} minga_gad_t;

typedef struct {
    char *id;
    char *name;
    char *kind;         /* MINGA_CL_KIND */
    char *private_kind; /* MINGA_CL_PRIVATE_KIND, for kind "privada" */
    char *country;
    minga_strv_t languages; /* ISO 639-1 codes */
    char *email;
    char *gad;        /* DPA code of a GAD that offers its good practices (intermunicipal) */
    char *updated_at; /* date */
} minga_cooperante_t;

typedef struct {
    char *id;
    char *cooperante;
    char *title;
    minga_strv_t competencies;       /* MINGA_CL_COMPETENCY */
    minga_strv_t dac;                /* MINGA_CL_DAC */
    char *modality;                  /* MINGA_CL_MODALITY */
    uint64_t amount_min, amount_max; /* USD, for modality subvencion */
    char *scope;                     /* MINGA_CL_SCOPE */
    minga_strv_t regions, provinces, cantons;
    uint64_t population_max; /* 0 = no cap */
    bool cofinancing_required;
    char *valid_from, *valid_to;
} minga_offer_t;

typedef struct {
    char *id;
    char *gad; /* DPA code */
    char *title;
    char *competency; /* MINGA_CL_COMPETENCY */
    minga_strv_t dac;
    char *modality;
    uint64_t amount;      /* USD needed */
    uint64_t cofinancing; /* USD the GAD brings */
    uint64_t priority;    /* 1 (highest) .. 5 */
} minga_demand_t;

typedef struct {
    char *id;
    char *name;
    char *venue;
    char *date_start, *date_end; /* dates */
    char *timezone;              /* "America/Guayaquil" */
    char *day_start, *day_end;   /* "09:00", "17:00": each day's slots lie within */
    uint64_t slot_minutes;
    uint64_t tables;
    uint64_t max_meetings;      /* per party, default for participants */
    uint64_t min_meetings_gad;  /* per GAD, default for participants */
    uint64_t meetings_per_pair; /* at most this many meetings per (GAD, cooperante) */
    bool attendance_required;   /* only cooperantes registered as participants are matched */
} minga_event_t;

typedef struct {
    char *event; /* set from --event on import */
    char *party; /* DPA code or cooperante id */
    char *kind;  /* MINGA_CL_PARTY_KIND */
    uint64_t min_meetings, max_meetings;
    uint64_t tables;       /* a cooperante's representatives, 1 by default; 0 for a GAD */
    char *available_slots; /* ranges "1-8,11-14"; empty = every slot */
    char *email;
} minga_participant_t;

typedef struct {
    char *event;
    char *from;       /* party id */
    char *to;         /* party id */
    char *preference; /* MINGA_CL_PREFERENCE */
} minga_preference_t;

/* ---- the record types ---- */

extern const minga_rtype_t minga_rtype_gad;
extern const minga_rtype_t minga_rtype_cooperante;
extern const minga_rtype_t minga_rtype_offer;
extern const minga_rtype_t minga_rtype_demand;
extern const minga_rtype_t minga_rtype_event;
extern const minga_rtype_t minga_rtype_participant;
extern const minga_rtype_t minga_rtype_preference;

/* The seven types in load order (gads, cooperantes, offers, demands, events, participants,
 * preferences); *n receives 7. */
const minga_rtype_t *const *minga_rtypes(size_t *n);

/* The type whose kind ("gads") or record ("gad") name is name, or NULL. */
const minga_rtype_t *minga_rtype_find(const char *name);

/* ---- the generic codec ---- */

/* Allocates a zeroed record of type t (the caller's: minga_record_free()). NULL on ENOMEM. */
void *minga_record_new(const minga_rtype_t *t);
/* Frees the fields of rec, not rec itself, and zeroes it. */
void minga_record_clear(const minga_rtype_t *t, void *rec);
/* Frees rec and its fields; accepts NULL. */
void minga_record_free(const minga_rtype_t *t, void *rec);

/* Encodes rec as a msgpack map into pk. Returns 0 or a negative code. */
int minga_record_pack(const minga_rtype_t *t, const void *rec, msgpack_packer *pk);

/* Appends rec's encoding to sb, byte for byte what minga_record_pack writes, in one reserve and
 * without a call per piece (the importer's hot path). Returns 0 or MINGA_ENOMEM. */
int minga_record_append(const minga_rtype_t *t, const void *rec, msgpack_sbuffer *sb);

/* Encodes rec into a new buffer: *buf (the caller's, free()) of *len bytes. */
int minga_record_encode(const minga_rtype_t *t, const void *rec, char **buf, size_t *len);

/* Decodes a stored value into rec (zeroed, or cleared first). Untrusted input: a truncated or
 * hostile buffer, a value of the wrong msgpack type, a version newer than t->version, a
 * missing required field or an oversized one all return MINGA_EFORMAT / MINGA_EVERSION with a
 * message in err naming the field. Unknown keys are ignored. On error rec is cleared. */
int minga_record_decode(const minga_rtype_t *t, const void *buf, size_t len, void *rec, char *err,
                        size_t errcap);

/* Text of field f of rec as it is written in CSV (lists joined with ","; bools "si"/"no";
 * numbers in decimal; empty = ""). Returns a new string (the caller's) or NULL on ENOMEM. */
char *minga_field_format(const minga_field_t *f, const void *rec);

/* Parses text into field f of rec (replacing what was there) and validates it against its
 * type and code list. Empty text leaves an optional field empty, and is an error for a
 * required one. Returns 0, or MINGA_EINVAL with what is wrong in err (Spanish-free English,
 * e.g. "unknown DAC code 99999"). */
int minga_field_parse(const minga_field_t *f, void *rec, const char *text, char *err,
                      size_t errcap);

/* Record key; see minga_record_key_fn. */
int minga_record_key(const minga_rtype_t *t, const void *rec, uint8_t *key);

/* Field accessors by descriptor. */
#define MINGA_FIELD_PTR(rec, f) ((void *)((char *)(rec) + (f)->offset))

/* strv helpers: push a copy of s (0 or MINGA_ENOMEM); free all. */
int minga_strv_push(minga_strv_t *v, const char *s);
void minga_strv_clear(minga_strv_t *v);

/* Validity of ids: 1–32 of [A-Za-z0-9._-], the first a letter. */
bool minga_id_valid(const char *id);

#endif
