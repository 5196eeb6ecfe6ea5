/*
 * codes.c: the compiled-in code lists of codes.h and their look-ups.
 *
 * The small word lists (competencies, modalities, kinds, regions, preferences, party kinds,
 * scopes) live here, in the order DESIGN.md gives them (regions in minga_region_t order); the
 * DAC purpose codes in codes_dac.c and the DPA provinces and cantons in codes_dpa.c, those in
 * code order.
 *
 * Look-ups are table-driven through s_lists. The numeric lists (DAC codes and categories,
 * provinces, cantons) are searched by bisection on the exact code, with no folding: importers
 * call minga_canton_find() and minga_code_find(MINGA_CL_DAC, ...) once per CSV row. The word
 * lists are a handful of entries each; there the query is folded once (minga_fold, then '_'
 * and '-' read as spaces) and compared with each code and each label, so "Amazonía",
 * "AMAZONIA" and "amazonia" all find the region amazonia, and "Asistencia técnica" finds
 * asistencia_tecnica.
 *
 * The province and canton lists of minga_codes() (code and name) are built once, under
 * pthread_once, from the DPA tables.
 */
#include "minga/codes.h"

#include <pthread.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>

/* Tables defined in codes_dac.c and codes_dpa.c, in code order. */
extern const minga_code_t minga__dac_categories[];
extern const size_t minga__ndac_categories;
extern const minga_code_t minga__dac[];
extern const size_t minga__ndac;
extern const minga_province_t minga__provinces[];
extern const size_t minga__nprovinces;
extern const minga_canton_t minga__cantons[];
extern const size_t minga__ncantons;

#define S_COUNT(a) (sizeof(a) / sizeof((a)[0]))

/* COOTAD art. 55 (Constitución art. 264): the exclusive competencies of municipal GADs. The
 * long literals are cut after their main clause. */
static const minga_code_t s_competencies[] = {
    {"a", "Planificar el desarrollo cantonal y formular los correspondientes planes de "
          "ordenamiento territorial"},
    {"b", "Ejercer el control sobre el uso y ocupación del suelo en el cantón"},
    {"c", "Planificar, construir y mantener la vialidad urbana"},
    {"d", "Prestar los servicios públicos de agua potable, alcantarillado, depuración de aguas "
          "residuales, manejo de desechos sólidos y actividades de saneamiento ambiental"},
    {"e", "Crear, modificar, exonerar o suprimir mediante ordenanzas tasas, tarifas y "
          "contribuciones especiales de mejoras"},
    {"f", "Planificar, regular y controlar el tránsito y el transporte terrestre dentro de su "
          "circunscripción cantonal"},
    {"g", "Planificar, construir y mantener la infraestructura física y los equipamientos de "
          "salud y educación, así como los espacios públicos destinados al desarrollo social, "
          "cultural y deportivo"},
    {"h", "Preservar, mantener y difundir el patrimonio arquitectónico, cultural y natural del "
          "cantón y construir los espacios públicos para estos fines"},
    {"i", "Elaborar y administrar los catastros inmobiliarios urbanos y rurales"},
    {"j", "Delimitar, regular, autorizar y controlar el uso de las playas de mar, riberas y "
          "lechos de ríos, lagos y lagunas"},
    {"k", "Preservar y garantizar el acceso efectivo de las personas al uso de las playas de "
          "mar, riberas de ríos, lagos y lagunas"},
    {"l", "Regular, autorizar y controlar la explotación de materiales áridos y pétreos que se "
          "encuentren en los lechos de los ríos, lagos, playas de mar y canteras"},
    {"m", "Gestionar los servicios de prevención, protección, socorro y extinción de incendios"},
    {"n", "Gestionar la cooperación internacional para el cumplimiento de sus competencias"},
};

static const minga_code_t s_modalities[] = {
    {"subvencion", "Subvención (no reembolsable)"},
    {"asistencia_tecnica", "Asistencia técnica"},
    {"capacitacion", "Capacitación"},
    {"voluntariado", "Voluntariado"},
    {"becas", "Becas"},
    {"pasantias", "Pasantías"},
};

static const minga_code_t s_kinds[] = {
    {"bilateral", "Bilateral"},
    {"multilateral", "Multilateral"},
    {"descentralizada", "Descentralizada"},
    {"intermunicipal", "Intermunicipal"},
    {"sur-sur", "Sur-Sur"},
    {"triangular", "Triangular"},
    {"privada", "Privada"},
};

static const minga_code_t s_private_kinds[] = {
    {"empresa", "Empresa"},
    {"universidad", "Universidad"},
    {"ong", "ONG"},
    {"fundacion", "Fundación"},
};

/* In minga_region_t order: s_regions[region - 1]. */
static const minga_code_t s_regions[] = {
    {"costa", "Costa"},
    {"sierra", "Sierra"},
    {"amazonia", "Amazonía"},
    {"insular", "Insular"},
};

static const minga_code_t s_preferences[] = {
    {"obligatoria", "Reunión obligatoria"},
    {"deseada", "Reunión deseada"},
    {"no", "No reunirse"},
};

static const minga_code_t s_party_kinds[] = {
    {"gad", "GAD municipal"},
    {"cooperante", "Cooperante"},
};

static const minga_code_t s_scopes[] = {
    {"nacional", "Nacional"},
    {"regiones", "Regiones"},
    {"provincias", "Provincias"},
    {"cantones", "Cantones"},
};

/* Spellings that are neither a code nor a label but name an entry all the same. */
typedef struct {
    minga_codelist_t list;
    const char *alias; /* folded as s_key() folds */
    const char *code;
} s_alias_t;

static const s_alias_t s_aliases[] = {
    {MINGA_CL_MODALITY, "asesoria", "asistencia_tecnica"},
    {MINGA_CL_MODALITY, "asesoria tecnica", "asistencia_tecnica"},
    {MINGA_CL_MODALITY, "subvencion no reembolsable", "subvencion"},
    {MINGA_CL_MODALITY, "beca", "becas"},
    {MINGA_CL_MODALITY, "pasantia", "pasantias"},
    {MINGA_CL_PREFERENCE, "debe reunirse", "obligatoria"},
    {MINGA_CL_PREFERENCE, "reunirse", "deseada"},
};

static minga_code_t s_province_codes[24];
static minga_code_t s_canton_codes[221];
static pthread_once_t s_dpa_once = PTHREAD_ONCE_INIT;

static void s_dpa_build(void)
{
    for (size_t i = 0; i < minga__nprovinces && i < S_COUNT(s_province_codes); i++)
        s_province_codes[i] = (minga_code_t){minga__provinces[i].code, minga__provinces[i].name};
    for (size_t i = 0; i < minga__ncantons && i < S_COUNT(s_canton_codes); i++)
        s_canton_codes[i] = (minga_code_t){minga__cantons[i].code, minga__cantons[i].name};
}

/* One row per list: its name for `minga codes`, its entries, and how codes are matched. */
typedef struct {
    const char *name;
    const minga_code_t *entries; /* NULL: the DPA lists, see s_entries() */
    size_t n;
    bool words; /* match folded code or label; else the exact code by bisection */
} s_list_t;

static const s_list_t s_lists[MINGA_CL_COUNT] = {
    [MINGA_CL_NONE] = {NULL, NULL, 0, false},
    [MINGA_CL_COMPETENCY] = {"competencies", s_competencies, S_COUNT(s_competencies), true},
    [MINGA_CL_DAC] = {"dac", NULL, 0, false},
    [MINGA_CL_DAC_CATEGORY] = {"dac-categories", NULL, 0, false},
    [MINGA_CL_MODALITY] = {"modalities", s_modalities, S_COUNT(s_modalities), true},
    [MINGA_CL_KIND] = {"kinds", s_kinds, S_COUNT(s_kinds), true},
    [MINGA_CL_PRIVATE_KIND] = {"private-kinds", s_private_kinds, S_COUNT(s_private_kinds), true},
    [MINGA_CL_REGION] = {"regions", s_regions, S_COUNT(s_regions), true},
    [MINGA_CL_PROVINCE] = {"provinces", NULL, 0, false},
    [MINGA_CL_CANTON] = {"cantons", NULL, 0, false},
    [MINGA_CL_PREFERENCE] = {"preferences", s_preferences, S_COUNT(s_preferences), true},
    [MINGA_CL_PARTY_KIND] = {"party-kinds", s_party_kinds, S_COUNT(s_party_kinds), true},
    [MINGA_CL_SCOPE] = {"scopes", s_scopes, S_COUNT(s_scopes), true},
};

static bool s_valid(minga_codelist_t list)
{
    return list > MINGA_CL_NONE && list < MINGA_CL_COUNT;
}

/* The entries of a valid list; the lists defined in other files are resolved here because
 * their sizes are not constant expressions in this file. */
static const minga_code_t *s_entries(minga_codelist_t list, size_t *n)
{
    switch (list) {
    case MINGA_CL_DAC:
        *n = minga__ndac;
        return minga__dac;
    case MINGA_CL_DAC_CATEGORY:
        *n = minga__ndac_categories;
        return minga__dac_categories;
    case MINGA_CL_PROVINCE:
        pthread_once(&s_dpa_once, s_dpa_build);
        *n = minga__nprovinces < S_COUNT(s_province_codes) ? minga__nprovinces
                                                           : S_COUNT(s_province_codes);
        return s_province_codes;
    case MINGA_CL_CANTON:
        pthread_once(&s_dpa_once, s_dpa_build);
        *n = minga__ncantons < S_COUNT(s_canton_codes) ? minga__ncantons : S_COUNT(s_canton_codes);
        return s_canton_codes;
    default:
        *n = s_lists[list].n;
        return s_lists[list].entries;
    }
}

const minga_code_t *minga_codes(minga_codelist_t list, size_t *n)
{
    size_t count = 0;
    const minga_code_t *entries = s_valid(list) ? s_entries(list, &count) : NULL;
    if (n)
        *n = count;
    return entries;
}

/* Index of code in the sorted array base of n elements of size size whose first member is a
 * `const char *` code, or -1. */
static long s_bisect(const void *base, size_t n, size_t size, const char *code)
{
    size_t lo = 0, hi = n;
    while (lo < hi) {
        size_t mid = lo + (hi - lo) / 2;
        const char *key = *(const char *const *)((const char *)base + mid * size);
        int c = strcmp(code, key);
        if (c == 0)
            return (long)mid;
        if (c < 0)
            hi = mid;
        else
            lo = mid + 1;
    }
    return -1;
}

/* Folds src for word matching: minga_fold, then '_' and '-' as spaces, runs of white space as
 * one space, none at either end. */
static char *s_key(char *dst, size_t cap, const char *src)
{
    minga_fold(dst, cap, src);
    size_t out = 0;
    bool space = true; /* drops leading blanks */
    for (size_t i = 0; dst[i]; i++) {
        char c = dst[i];
        if (c == '_' || c == '-' || c == ' ' || c == '\t' || c == '\r' || c == '\n')
            c = ' ';
        if (c == ' ' && space)
            continue;
        space = c == ' ';
        dst[out++] = c;
    }
    if (out > 0 && dst[out - 1] == ' ')
        out--;
    dst[out] = '\0';
    return dst;
}

static const minga_code_t *s_find_code(const minga_code_t *entries, size_t n, const char *code)
{
    for (size_t i = 0; i < n; i++)
        if (strcmp(entries[i].code, code) == 0)
            return &entries[i];
    return NULL;
}

static const minga_code_t *s_find_word(minga_codelist_t list, const char *query)
{
    const s_list_t *l = &s_lists[list];
    for (size_t i = 0; i < l->n; i++) /* the canonical code itself: no folding */
        if (strcmp(query, l->entries[i].code) == 0)
            return &l->entries[i];
    char want[512], have[512];
    s_key(want, sizeof want, query);
    if (!want[0])
        return NULL;
    for (size_t i = 0; i < l->n; i++)
        if (strcmp(want, s_key(have, sizeof have, l->entries[i].code)) == 0)
            return &l->entries[i];
    for (size_t i = 0; i < l->n; i++)
        if (strcmp(want, s_key(have, sizeof have, l->entries[i].label)) == 0)
            return &l->entries[i];
    for (size_t i = 0; i < S_COUNT(s_aliases); i++)
        if (s_aliases[i].list == list && strcmp(want, s_aliases[i].alias) == 0)
            return s_find_code(l->entries, l->n, s_aliases[i].code);
    return NULL;
}

/* Direct indexes by the code's number, built once: the importer looks up a canton or a DAC
 * code per field of every row. Slot 0 = absent, else position + 1. */
static uint16_t s_canton_index[10000];
static uint16_t s_dac_index[100000];
static pthread_once_t s_index_once = PTHREAD_ONCE_INIT;

static void s_index_build(void)
{
    for (size_t i = 0; i < minga__ncantons; i++)
        s_canton_index[atoi(minga__cantons[i].code)] = (uint16_t)(i + 1);
    for (size_t i = 0; i < minga__ndac; i++)
        s_dac_index[atoi(minga__dac[i].code)] = (uint16_t)(i + 1);
}

/* The number written by exactly n decimal digits, or -1. */
static long s_digits(const char *code, int n)
{
    long v = 0;
    for (int i = 0; i < n; i++) {
        if (code[i] < '0' || code[i] > '9')
            return -1;
        v = v * 10 + (code[i] - '0');
    }
    return code[n] == '\0' ? v : -1;
}

const minga_code_t *minga_code_find(minga_codelist_t list, const char *code)
{
    if (!s_valid(list) || !code)
        return NULL;
    if (s_lists[list].words)
        return s_find_word(list, code);
    if (list == MINGA_CL_DAC) {
        long v = s_digits(code, 5);
        if (v < 0)
            return NULL;
        pthread_once(&s_index_once, s_index_build);
        return s_dac_index[v] ? &minga__dac[s_dac_index[v] - 1] : NULL;
    }
    size_t n;
    const minga_code_t *entries = s_entries(list, &n);
    long i = s_bisect(entries, n, sizeof entries[0], code);
    return i < 0 ? NULL : &entries[i];
}

const char *minga_codelist_name(minga_codelist_t list)
{
    return s_valid(list) ? s_lists[list].name : NULL;
}

minga_codelist_t minga_codelist_by_name(const char *name)
{
    if (!name)
        return MINGA_CL_NONE;
    for (int i = MINGA_CL_NONE + 1; i < MINGA_CL_COUNT; i++)
        if (strcmp(s_lists[i].name, name) == 0)
            return (minga_codelist_t)i;
    return MINGA_CL_NONE;
}

const char *minga_region_code(minga_region_t region)
{
    if (region < MINGA_REGION_COSTA || region > MINGA_REGION_INSULAR)
        return NULL;
    return s_regions[region - 1].code;
}

const char *minga_region_label(minga_region_t region)
{
    if (region < MINGA_REGION_COSTA || region > MINGA_REGION_INSULAR)
        return NULL;
    return s_regions[region - 1].label;
}

const minga_province_t *minga_provinces(size_t *n)
{
    if (n)
        *n = minga__nprovinces;
    return minga__provinces;
}

const minga_province_t *minga_province_find(const char *code)
{
    if (!code)
        return NULL;
    long i = s_bisect(minga__provinces, minga__nprovinces, sizeof minga__provinces[0], code);
    return i < 0 ? NULL : &minga__provinces[i];
}

const minga_canton_t *minga_cantons(size_t *n)
{
    if (n)
        *n = minga__ncantons;
    return minga__cantons;
}

const minga_canton_t *minga_canton_find(const char *code)
{
    long v = code ? s_digits(code, 4) : -1;
    if (v < 0)
        return NULL;
    pthread_once(&s_index_once, s_index_build);
    return s_canton_index[v] ? &minga__cantons[s_canton_index[v] - 1] : NULL;
}

/* ASCII letter for the Latin-1 code point 0xC0 + i (U+00C0..U+00FF) with its accent removed
 * and in lower case, or 0 where there is none (Æ, Ð, ×, Ø, Þ, ß, æ, ð, ÷, ø, þ). */
static const char s_latin1_fold[64] = "aaaaaa\0ceeeeiiii\0nooooo\0\0uuuuy\0\0"
                                      "aaaaaa\0ceeeeiiii\0nooooo\0\0uuuuy\0y";

/* Bytes of the UTF-8 sequence that begins with lead byte b (1 for a stray byte). */
static size_t s_utf8_len(unsigned char b)
{
    if (b >= 0xF0 && b <= 0xF4)
        return 4;
    if (b >= 0xE0)
        return b <= 0xEF ? 3 : 1;
    if (b >= 0xC2)
        return 2;
    return 1;
}

char *minga_fold(char *dst, size_t cap, const char *src)
{
    if (!dst || cap == 0)
        return dst;
    size_t out = 0;
    const unsigned char *s = (const unsigned char *)(src ? src : "");
    while (*s) {
        unsigned char b = s[0];
        size_t len = b < 0x80 ? 1 : s_utf8_len(b);
        for (size_t k = 1; k < len; k++)
            if ((s[k] & 0xC0) != 0x80)
                len = 1; /* malformed: the lead byte alone */
        char ascii = 0;
        bool drop = false;
        if (b < 0x80)
            ascii = (char)(b >= 'A' && b <= 'Z' ? b + ('a' - 'A') : b);
        else if (len == 2 && b == 0xC3)
            ascii = s_latin1_fold[s[1] - 0x80];
        else if (len == 2 && (b == 0xCC || (b == 0xCD && s[1] <= 0xAF)))
            drop = true; /* combining diacritical mark, U+0300..U+036F */
        size_t need = drop ? 0 : ascii ? 1 : len;
        if (out + need >= cap)
            break;
        if (ascii)
            dst[out] = ascii;
        else if (!drop)
            memcpy(dst + out, s, len);
        out += need;
        s += len;
    }
    dst[out] = '\0';
    return dst;
}
