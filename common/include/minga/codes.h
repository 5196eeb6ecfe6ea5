/*
 * codes.h: the code lists Minga validates against, compiled in, with Spanish labels.
 *
 *  - COOTAD art. 55 exclusive competencies of municipal GADs, literals a–n;
 *  - OECD DAC 5-digit purpose codes (CRS / IATI Sector vocabulary) used by municipal projects,
 *    and their 3-digit categories;
 *  - modalities, cooperation kinds and private sub-kinds, regions, preference values, party
 *    kinds;
 *  - INEC's División Político Administrativa: the 24 provinces (2 digits) with their region and
 *    the 221 cantons (4 digits) with official Spanish name, province, region and population
 *    (INEC's 2020 cantonal projection).
 *
 * All returned pointers are static and borrowed.
 */
#ifndef MINGA_CODES_H
#define MINGA_CODES_H

#include <stddef.h>
#include <stdint.h>

typedef enum {
    MINGA_CL_NONE = 0,
    MINGA_CL_COMPETENCY,   /* "a".."n" */
    MINGA_CL_DAC,          /* "14030" */
    MINGA_CL_DAC_CATEGORY, /* "140" */
    MINGA_CL_MODALITY,     /* "subvencion", "asistencia_tecnica", ... */
    MINGA_CL_KIND,         /* "bilateral", "multilateral", ... */
    MINGA_CL_PRIVATE_KIND, /* "empresa", "universidad", "ong", "fundacion" */
    MINGA_CL_REGION,       /* "costa", "sierra", "amazonia", "insular" */
    MINGA_CL_PROVINCE,     /* "01".."24" */
    MINGA_CL_CANTON,       /* "0101".."2403" */
    MINGA_CL_PREFERENCE,   /* "obligatoria", "deseada", "no" */
    MINGA_CL_PARTY_KIND,   /* "gad", "cooperante" */
    MINGA_CL_SCOPE,        /* territorial scope: "nacional", "regiones", "provincias", "cantones" */
    MINGA_CL_COUNT
} minga_codelist_t;

typedef struct {
    const char *code;  /* canonical code, ASCII */
    const char *label; /* Spanish label, UTF-8 */
} minga_code_t;

/* The entries of a list, in code order; *n receives their number. */
const minga_code_t *minga_codes(minga_codelist_t list, size_t *n);

/* The entry whose code is code, or NULL. For the lists with word codes (modality, kind,
 * region, preference, scope...) the label is accepted too, and both compare without regard to
 * case or accents ("Amazonía" finds "amazonia"). */
const minga_code_t *minga_code_find(minga_codelist_t list, const char *code);

/* The list's name as `minga codes` takes it ("competencies", "dac", "modalities", "kinds",
 * "provinces", "cantons", ...), or NULL for MINGA_CL_NONE. */
const char *minga_codelist_name(minga_codelist_t list);

/* The list called name, or MINGA_CL_NONE. */
minga_codelist_t minga_codelist_by_name(const char *name);

typedef enum {
    MINGA_REGION_COSTA = 1,
    MINGA_REGION_SIERRA,
    MINGA_REGION_AMAZONIA,
    MINGA_REGION_INSULAR
} minga_region_t;

/* "costa"... and "Costa", "Sierra", "Amazonía", "Insular". */
const char *minga_region_code(minga_region_t region);
const char *minga_region_label(minga_region_t region);

typedef struct {
    const char *code; /* "01" */
    const char *name; /* "Azuay" */
    minga_region_t region;
} minga_province_t;

typedef struct {
    const char *code;     /* "0101" */
    const char *name;     /* "Cuenca", official Spanish spelling with accents */
    const char *province; /* "01" */
    minga_region_t region;
    uint32_t population; /* INEC's 2020 cantonal projection */
} minga_canton_t;

const minga_province_t *minga_provinces(size_t *n);
const minga_province_t *minga_province_find(const char *code);
const minga_canton_t *minga_cantons(size_t *n);
const minga_canton_t *minga_canton_find(const char *code);

/* Folds a UTF-8 string for comparison: lower case, Spanish accents and ü removed, ñ kept as
 * "n". Writes at most cap bytes (NUL included) into dst and returns dst. */
char *minga_fold(char *dst, size_t cap, const char *src);

#endif
