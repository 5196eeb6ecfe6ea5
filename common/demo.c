/*
 * demo.c: the embedded Jornada data set generator (see demo.h for what it produces).
 *
 * The generator runs in passes, one per kind, in load order; each pass hands its records to
 * the caller's function and keeps only what later passes need (a cooperante's group, focus
 * themes and number of offers; each GAD's demand themes and attendance). Randomness comes
 * from one xoshiro256** stream per pass, each seeded from the seed and the pass number through
 * splitmix64, so a change in one pass does not shift the others. Only integers reach the
 * output: amounts come from a log-spaced ladder of round figures, never from pow().
 *
 * Realism is table-driven:
 *   - cooperante groups (multilateral, bilateral, descentralizada, intermunicipal, sur-sur,
 *     triangular, and the four private sub-kinds) each have a share of the registry, a weight
 *     for the number of offers (a few multilaterals hold many), a mix of modalities, a range
 *     on the amount ladder, a mix of territorial scopes and a weight per theme;
 *   - themes tie COOTAD competencies to the DAC codes that fit them (water 140xx with d,
 *     urban 43030 with a/b, roads 21020 with c, risk 43060/74020 with m...), with Spanish
 *     phrases for offer titles and PDOT title templates for demands;
 *   - demands follow each region's needs, and several of them (roads, beaches and river
 *     banks, aggregates) are frequent among demands and rare among offers, which together
 *     with scoped offers, population caps, validity and large amounts leaves a coverage gap.
 * Codes are resolved against the compiled-in code lists at start (a DAC code missing there
 * is skipped, never written), so every row passes import validation.
 */
#include "minga/demo.h"

#include "minga/codes.h"
#include "minga/error.h"
#include "minga/io.h"

#include <errno.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#define S_NELEMS(a) (sizeof(a) / sizeof((a)[0]))

/* ---- the event ---- */

#define S_EVENT_DAY1 "2026-11-12"
#define S_EVENT_DAY2 "2026-11-13"
#define S_SLOTS_PER_DAY 24 /* 09:00-17:00 in 20-minute slots */
#define S_SLOTS (2 * S_SLOTS_PER_DAY)
#define S_TABLES_BASE 180

/* ---- PRNG: xoshiro256** seeded by splitmix64 ---- */

typedef struct {
    uint64_t s[4];
} s_rng_t;

static uint64_t s_splitmix(uint64_t *x)
{
    uint64_t z = (*x += 0x9E3779B97F4A7C15ULL);
    z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9ULL;
    z = (z ^ (z >> 27)) * 0x94D049BB133111EBULL;
    return z ^ (z >> 31);
}

static void s_rng_seed(s_rng_t *r, uint64_t seed, uint64_t stream)
{
    uint64_t x = seed ^ (stream * 0xD1B54A32D192ED03ULL);
    for (int i = 0; i < 4; i++)
        r->s[i] = s_splitmix(&x);
}

static uint64_t s_rotl(uint64_t x, int k)
{
    return (x << k) | (x >> (64 - k));
}

static uint64_t s_next(s_rng_t *r)
{
    uint64_t *s = r->s;
    uint64_t result = s_rotl(s[1] * 5, 7) * 9;
    uint64_t t = s[1] << 17;
    s[2] ^= s[0];
    s[3] ^= s[1];
    s[1] ^= s[2];
    s[0] ^= s[3];
    s[2] ^= t;
    s[3] = s_rotl(s[3], 45);
    return result;
}

/* Uniform in [0, n), n > 0, without bias (Lemire's multiply-and-reject). */
static uint32_t s_below(s_rng_t *r, uint32_t n)
{
    uint64_t m = (s_next(r) >> 32) * (uint64_t)n;
    uint32_t low = (uint32_t)m;
    if (low < n) {
        uint32_t floor_ = (uint32_t)(-n) % n;
        while (low < floor_) {
            m = (s_next(r) >> 32) * (uint64_t)n;
            low = (uint32_t)m;
        }
    }
    return (uint32_t)(m >> 32);
}

/* Uniform in [lo, hi]. */
static uint32_t s_between(s_rng_t *r, uint32_t lo, uint32_t hi)
{
    return lo + s_below(r, hi - lo + 1);
}

static bool s_pct(s_rng_t *r, unsigned pct)
{
    return s_below(r, 100) < pct;
}

/* Index drawn with weights w[0..n-1]; the weights must not all be zero. */
static size_t s_pick(s_rng_t *r, const uint8_t *w, size_t n)
{
    uint32_t total = 0;
    for (size_t i = 0; i < n; i++)
        total += w[i];
    uint32_t x = s_below(r, total);
    for (size_t i = 0; i < n; i++) {
        if (x < w[i])
            return i;
        x -= w[i];
    }
    return n - 1;
}

/* ---- dates (proleptic Gregorian, days since 1970-01-01) ---- */

static int32_t s_days(int32_t y, int32_t m, int32_t d)
{
    y -= m <= 2;
    int32_t era = (y >= 0 ? y : y - 399) / 400;
    int32_t yoe = y - era * 400;
    int32_t doy = (153 * (m + (m > 2 ? -3 : 9)) + 2) / 5 + d - 1;
    int32_t doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    return era * 146097 + doe - 719468;
}

static void s_date(char out[11], int32_t z)
{
    z += 719468;
    int32_t era = (z >= 0 ? z : z - 146096) / 146097;
    int32_t doe = z - era * 146097;
    int32_t yoe = (doe - doe / 1460 + doe / 36524 - doe / 146096) / 365;
    int32_t y = yoe + era * 400;
    int32_t doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    int32_t mp = (5 * doy + 2) / 153;
    int32_t d = doy - (153 * mp + 2) / 5 + 1;
    int32_t m = mp + (mp < 10 ? 3 : -9);
    y += m <= 2;
    snprintf(out, 11, "%04u-%02u-%02u", (unsigned)y % 10000u, (unsigned)m % 100u,
             (unsigned)d % 100u);
}

/* A random date in [from, to]. */
static void s_date_between(s_rng_t *r, char out[11], int32_t from, int32_t to)
{
    s_date(out, from + (int32_t)s_below(r, (uint32_t)(to - from + 1)));
}

/* ---- amounts: a log-spaced ladder of round figures (USD) ---- */

static const uint64_t s_ladder[] = {5000,    7500,    10000,    15000,   20000,   30000,
                                    50000,   75000,   100000,   150000,  200000,  300000,
                                    500000,  750000,  1000000,  1500000, 2000000, 3000000,
                                    5000000, 7500000, 10000000, 15000000};
#define S_LADDER_N S_NELEMS(s_ladder)

/* An amount between rung k and the next, rounded down to a thousand. */
static uint64_t s_amount_near(s_rng_t *r, size_t k)
{
    uint64_t lo = s_ladder[k], hi = s_ladder[k + 1];
    uint64_t a = lo + s_below(r, (uint32_t)(hi - lo));
    return a / 1000 * 1000;
}

/* ---- text helpers ---- */

/* Copies template tmpl into dst, replacing each "{}" by arg (no printf formats from tables). */
static void s_subst(char *dst, size_t cap, const char *tmpl, const char *arg)
{
    size_t n = 0;
    for (const char *p = tmpl; *p && n + 1 < cap; p++) {
        if (p[0] == '{' && p[1] == '}') {
            for (const char *a = arg; *a && n + 1 < cap; a++)
                dst[n++] = *a;
            p++;
        } else {
            dst[n++] = *p;
        }
    }
    dst[n] = '\0';
}

/* Appends src to dst (of capacity cap), truncating. */
static void s_cat(char *dst, size_t cap, const char *src)
{
    size_t n = strlen(dst);
    if (n + 1 < cap)
        snprintf(dst + n, cap - n, "%s", src);
}

/* The ASCII letters and digits of src, folded to lower case without accents. */
static void s_slug(char *dst, size_t cap, const char *src)
{
    char folded[256];
    minga_fold(folded, sizeof folded, src);
    size_t n = 0;
    for (const char *p = folded; *p && n + 1 < cap; p++) {
        char c = *p;
        if (c >= 'A' && c <= 'Z')
            c = (char)(c - 'A' + 'a');
        if ((c >= 'a' && c <= 'z') || (c >= '0' && c <= '9'))
            dst[n++] = c;
    }
    dst[n] = '\0';
}

/* The lower-case initials of the words of src that are longer than two letters. */
static void s_initials(char *dst, size_t cap, const char *src)
{
    char folded[256];
    minga_fold(folded, sizeof folded, src);
    size_t n = 0, len = 0;
    char first = 0;
    for (const char *p = folded;; p++) {
        char c = *p;
        bool letter = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z');
        if (letter) {
            if (len++ == 0)
                first = c;
            continue;
        }
        if (len > 2 && n + 1 < cap)
            dst[n++] = (char)(first >= 'A' && first <= 'Z' ? first - 'A' + 'a' : first);
        len = 0;
        if (!c)
            break;
    }
    dst[n] = '\0';
}

/* ---- code lists resolved at start ---- */

enum { S_MOD_SUB, S_MOD_AT, S_MOD_CAP, S_MOD_VOL, S_MOD_BEC, S_MOD_PAS, S_MOD_N };

enum {
    S_KIND_BILAT,
    S_KIND_MULTI,
    S_KIND_DESC,
    S_KIND_INTER,
    S_KIND_SUR,
    S_KIND_TRI,
    S_KIND_PRIV,
    S_KIND_N
};

enum { S_PRIV_EMP, S_PRIV_UNIV, S_PRIV_ONG, S_PRIV_FUND, S_PRIV_N };

/* Cooperante groups: the kinds, with privada split by sub-kind. */
enum {
    S_G_MULTI,
    S_G_BILAT,
    S_G_DESC,
    S_G_INTER,
    S_G_SUR,
    S_G_TRI,
    S_G_EMP,
    S_G_UNIV,
    S_G_ONG,
    S_G_FUND,
    S_G_N
};

enum {
    S_T_WATER,
    S_T_WASTE,
    S_T_URBAN,
    S_T_ROADS,
    S_T_TRANSIT,
    S_T_RISK,
    S_T_HERITAGE,
    S_T_GOV,
    S_T_FINANCE,
    S_T_ENV,
    S_T_SOCIAL,
    S_T_ECON,
    S_T_COAST,
    S_T_ARIDOS,
    S_T_ENERGY,
    S_T_COOPM,
    S_T_N
};

typedef struct {
    const char *comps;      /* COOTAD literals */
    const char *dac[6];     /* candidate DAC codes, kept when the code list has them */
    const char *phrase[4];  /* what an offer is about, for its title */
    const char *title[4];   /* PDOT demand titles, "{}" = the canton's name */
    uint8_t w_offer[S_G_N]; /* weight among each group's offers */
    uint8_t w_demand[4];    /* weight among demands: costa, sierra, amazonía, insular */
    uint8_t offer_sub_pct;  /* share of a group's subvenciones kept in this theme */
    uint8_t demand_sub_pct; /* share of demands that ask for a subvención */
    uint8_t demand_rungs;   /* extra rungs of cost (roads are dear) */
} s_theme_t;

static const s_theme_t s_themes[S_T_N] = {
    [S_T_WATER] = {"d",
                   {"14030", "14031", "14032", "14020", "14021", "14022"},
                   {"agua potable y saneamiento", "tratamiento de aguas residuales",
                    "reducción de agua no contabilizada", "juntas administradoras de agua"},
                   {"Ampliación del sistema de agua potable de {}",
                    "Construcción del alcantarillado sanitario de {}",
                    "Planta de tratamiento de aguas residuales de {}",
                    "Agua potable para las comunidades rurales de {}"},
                   {20, 15, 10, 12, 8, 8, 14, 6, 14, 10},
                   {22, 22, 24, 20},
                   100,
                   60,
                   1},
    [S_T_WASTE] = {"d",
                   {"14050"},
                   {"gestión integral de residuos sólidos",
                    "economía circular y reciclaje inclusivo", "cierre técnico de botaderos"},
                   {"Gestión integral de residuos sólidos del cantón {}",
                    "Cierre técnico del botadero de {}", "Relleno sanitario de {}",
                    "Reciclaje inclusivo en {}"},
                   {8, 8, 10, 12, 6, 6, 16, 4, 8, 4},
                   {8, 8, 8, 14},
                   100,
                   55,
                   0},
    [S_T_URBAN] = {"ab",
                   {"43030", "43031", "43032", "16030", "16040"},
                   {"planificación urbana y planes de uso y gestión del suelo",
                    "espacio público y regeneración urbana",
                    "control del uso y ocupación del suelo"},
                   {"Regeneración urbana del centro de {}", "Plan de Uso y Gestión del Suelo de {}",
                    "Mejoramiento de barrios periféricos de {}",
                    "Control del uso y ocupación del suelo en {}"},
                   {15, 8, 8, 8, 6, 6, 6, 16, 4, 4},
                   {8, 10, 6, 6},
                   100,
                   50,
                   0},
    [S_T_ROADS] = {"c",
                   {"21020", "21021", "21022"},
                   {"vialidad urbana", "mantenimiento vial por microempresas"},
                   {"Asfaltado de calles urbanas de {}",
                    "Mantenimiento de la vialidad urbana de {}",
                    "Adoquinado y aceras de la cabecera cantonal de {}", "Puente peatonal en {}"},
                   {4, 1, 0, 2, 1, 1, 4, 1, 0, 0},
                   {16, 14, 18, 6},
                   20,
                   85,
                   2},
    [S_T_TRANSIT] = {"f",
                     {"21010", "21011", "21012", "21013"},
                     {"movilidad sostenible y transporte público", "seguridad vial"},
                     {"Plan de movilidad sostenible de {}", "Terminal terrestre de {}",
                      "Seguridad vial y semaforización en {}"},
                     {5, 4, 2, 4, 3, 3, 4, 6, 1, 1},
                     {3, 5, 1, 3},
                     40,
                     55,
                     1},
    [S_T_RISK] = {"m",
                  {"43060", "74020", "15133"},
                  {"gestión de riesgos de desastres", "sistemas de alerta temprana",
                   "bomberos y respuesta a emergencias"},
                  {"Sistema de alerta temprana ante inundaciones en {}",
                   "Equipamiento del cuerpo de bomberos de {}", "Estabilización de taludes en {}",
                   "Plan cantonal de gestión de riesgos de {}"},
                  {15, 10, 5, 6, 15, 12, 4, 10, 10, 6},
                  {8, 6, 6, 6},
                  100,
                  50,
                  0},
    [S_T_HERITAGE] = {"h",
                      {"16066", "16061", "41040"},
                      {"patrimonio cultural edificado", "centros históricos vivos"},
                      {"Restauración del patrimonio edificado de {}",
                       "Rehabilitación del centro histórico de {}",
                       "Inventario del patrimonio cultural de {}"},
                      {2, 5, 10, 8, 4, 4, 1, 8, 3, 10},
                      {2, 6, 2, 3},
                      70,
                      60,
                      0},
    [S_T_GOV] = {"an",
                 {"15112", "15110", "15150", "15185"},
                 {"gobierno abierto y participación ciudadana",
                  "fortalecimiento institucional municipal",
                  "descentralización y gobernanza local"},
                 {"Fortalecimiento de la participación ciudadana en {}",
                  "Gobierno electrónico del GAD de {}", "Actualización del PDOT de {}"},
                 {10, 12, 15, 10, 12, 12, 3, 6, 10, 6},
                 {4, 4, 4, 4},
                 60,
                 25,
                 0},
    [S_T_FINANCE] = {"ei",
                     {"15111", "15114", "15116", "15128"},
                     {"catastro multifinalitario", "finanzas municipales y recaudación"},
                     {"Actualización del catastro urbano y rural de {}",
                      "Modernización de la recaudación tributaria de {}",
                      "Catastro multifinalitario de {}"},
                     {8, 6, 4, 10, 10, 10, 6, 12, 1, 1},
                     {4, 5, 3, 4},
                     60,
                     30,
                     0},
    [S_T_ENV] = {"d",
                 {"41010", "41020", "41030", "41081"},
                 {"adaptación al cambio climático", "protección de fuentes hídricas y bosques",
                  "infraestructura verde urbana"},
                 {"Protección de fuentes de agua de {}", "Reforestación de microcuencas de {}",
                  "Plan de adaptación al cambio climático de {}",
                  "Parque lineal y áreas verdes de {}"},
                 {15, 14, 8, 6, 6, 6, 8, 12, 14, 10},
                 {4, 4, 8, 14},
                 100,
                 50,
                 0},
    [S_T_SOCIAL] = {"g",
                    {"16010", "16015", "16065", "16066"},
                    {"equipamientos comunitarios, deportivos y culturales",
                     "protección de derechos de grupos de atención prioritaria",
                     "espacios públicos para la niñez"},
                    {"Centro de desarrollo infantil de {}", "Complejo deportivo y cultural de {}",
                     "Espacios públicos inclusivos en {}", "Centro gerontológico de {}"},
                    {3, 6, 14, 8, 8, 8, 2, 4, 20, 22},
                    {8, 8, 8, 6},
                    100,
                    65,
                    0},
    [S_T_ECON] = {"a",
                  {"43040", "32130", "31120", "33210", "32140"},
                  {"desarrollo económico local", "turismo comunitario",
                   "cadenas productivas y mercados"},
                  {"Mercado municipal de {}", "Fortalecimiento del turismo comunitario en {}",
                   "Centro de acopio para productores de {}", "Desarrollo económico local de {}"},
                  {6, 10, 10, 6, 12, 12, 10, 8, 10, 14},
                  {6, 6, 6, 8},
                  100,
                  55,
                  0},
    [S_T_COAST] = {"jk",
                   {"14015", "41040"},
                   {"manejo costero integrado", "gestión de playas y riberas"},
                   {"Ordenamiento de playas y riberas de {}",
                    "Recuperación de las riberas del río en {}",
                    "Malecón y acceso público a la ribera de {}"},
                   {1, 2, 1, 2, 1, 1, 1, 2, 2, 1},
                   {6, 2, 2, 8},
                   30,
                   60,
                   1},
    [S_T_ARIDOS] = {"l",
                    {"32210", "32266"},
                    {"control de la explotación de áridos y pétreos"},
                    {"Regulación de la explotación de áridos y pétreos en {}",
                     "Control de canteras de materiales pétreos de {}"},
                    {0, 0, 0, 1, 0, 0, 2, 1, 0, 0},
                    {3, 3, 3, 0},
                    0,
                    20,
                    0},
    [S_T_ENERGY] = {"a",
                    {"23183", "23230", "23231", "23110"},
                    {"eficiencia energética municipal", "energía solar en edificios públicos"},
                    {"Alumbrado público eficiente en {}",
                     "Paneles solares para edificios municipales de {}"},
                    {6, 8, 3, 2, 3, 3, 18, 4, 2, 3},
                    {2, 2, 2, 4},
                    100,
                    60,
                    0},
    [S_T_COOPM] = {"n",
                   {"15112", "43010"},
                   {"gestión de la cooperación internacional", "internacionalización de ciudades"},
                   {"Unidad de cooperación internacional del GAD de {}",
                    "Estrategia de cooperación internacional de {}"},
                   {2, 3, 8, 4, 5, 5, 0, 2, 1, 1},
                   {1, 1, 1, 1},
                   50,
                   20,
                   0},
};

/* The theme a broad programme adds to each theme. */
static const uint8_t s_related[S_T_N] = {
    [S_T_WATER] = S_T_ENV,     [S_T_WASTE] = S_T_WATER,   [S_T_URBAN] = S_T_SOCIAL,
    [S_T_ROADS] = S_T_TRANSIT, [S_T_TRANSIT] = S_T_URBAN, [S_T_RISK] = S_T_ENV,
    [S_T_HERITAGE] = S_T_ECON, [S_T_GOV] = S_T_FINANCE,   [S_T_FINANCE] = S_T_GOV,
    [S_T_ENV] = S_T_WATER,     [S_T_SOCIAL] = S_T_URBAN,  [S_T_ECON] = S_T_HERITAGE,
    [S_T_COAST] = S_T_ENV,     [S_T_ARIDOS] = S_T_ENV,    [S_T_ENERGY] = S_T_ENV,
    [S_T_COOPM] = S_T_GOV};

/* What each group of cooperantes is like. */
typedef struct {
    uint8_t share_permille;   /* of the registry (privada's groups split its share) */
    uint8_t w_lo, w_hi;       /* weight for the number of offers beyond the first */
    uint8_t w_mod[S_MOD_N];   /* modality mix */
    uint8_t rung_lo, rung_hi; /* subvención amounts, rungs of s_ladder */
    uint8_t w_scope[4];       /* nacional, regiones, provincias, cantones */
    uint8_t cofin_pct;        /* subvenciones that require co-financing */
    uint8_t attend_pct;       /* share that attends the Jornada */
} s_group_t;

static const s_group_t s_groups[S_G_N] = {
    [S_G_MULTI] = {80, 10, 60, {55, 30, 12, 0, 3, 0}, 8, 18, {45, 30, 18, 7}, 70, 70},
    [S_G_BILAT] = {150, 4, 20, {40, 30, 12, 5, 10, 3}, 4, 16, {40, 25, 25, 10}, 50, 60},
    [S_G_DESC] = {150, 1, 6, {45, 30, 15, 5, 0, 5}, 2, 13, {20, 10, 40, 30}, 40, 30},
    [S_G_INTER] = {100, 0, 2, {0, 45, 25, 0, 0, 30}, 0, 0, {70, 10, 12, 8}, 0, 40},
    [S_G_SUR] = {50, 1, 4, {0, 60, 25, 0, 5, 10}, 0, 0, {80, 10, 10, 0}, 0, 30},
    [S_G_TRI] = {30, 1, 4, {10, 55, 25, 0, 0, 10}, 4, 12, {80, 10, 10, 0}, 30, 35},
    [S_G_EMP] = {0, 0, 2, {30, 45, 20, 5, 0, 0}, 0, 10, {50, 0, 30, 20}, 30, 10},
    [S_G_UNIV] = {0, 0, 3, {0, 35, 35, 5, 15, 10}, 0, 0, {45, 10, 45, 0}, 0, 15},
    [S_G_ONG] = {0, 0, 2, {25, 30, 20, 25, 0, 0}, 0, 9, {30, 20, 30, 20}, 30, 12},
    [S_G_FUND] = {0, 0, 2, {55, 20, 15, 5, 5, 0}, 0, 11, {35, 15, 30, 20}, 30, 12},
};

/* ---- countries, places and names ---- */

typedef struct {
    const char *name;  /* Spanish name, the cooperante's país */
    const char *of;    /* "de Alemania" */
    const char *langs; /* ISO 639-1, "," between */
    const char *tld;
    const char *agency[3]; /* kinds of agencies of that country */
    const char *legal;     /* a company's legal form there */
} s_country_t;

enum {
    S_C_DE,
    S_C_ES,
    S_C_JP,
    S_C_KR,
    S_C_US,
    S_C_IT,
    S_C_FR,
    S_C_BE,
    S_C_CH,
    S_C_CA,
    S_C_CN,
    S_C_NL,
    S_C_UK,
    S_C_SE,
    S_C_NO,
    S_C_EC,
    S_C_BR,
    S_C_MX,
    S_C_CO,
    S_C_PE,
    S_C_CL,
    S_C_AR,
    S_C_UY,
    S_C_CU,
    S_C_CR,
    S_C_KE,
    S_C_PA,
    S_C_N
};

static const s_country_t s_countries[S_C_N] = {
    [S_C_DE] = {"Alemania",
                "de Alemania",
                "de,es",
                "de",
                {"Agencia de cooperación técnica", "Banco de desarrollo", "Fundación política"},
                "GmbH"},
    [S_C_ES] = {"España",
                "de España",
                "es",
                "es",
                {"Agencia de cooperación internacional", "Oficina técnica de cooperación",
                 "Fondo de cooperación para agua y saneamiento"},
                "S.L."},
    [S_C_JP] = {"Japón",
                "de Japón",
                "ja,es",
                "jp",
                {"Agencia de cooperación internacional",
                 "Fondo de asistencia a proyectos comunitarios", NULL},
                "K.K."},
    [S_C_KR] = {"Corea del Sur",
                "de Corea del Sur",
                "ko,es",
                "kr",
                {"Agencia de cooperación internacional", "Centro de intercambio de conocimiento",
                 NULL},
                "Co. Ltd."},
    [S_C_US] = {"Estados Unidos",
                "de Estados Unidos",
                "en,es",
                "org",
                {"Agencia para el desarrollo internacional", "Fundación para el desarrollo de base",
                 "Cuerpo de voluntarios"},
                "Inc."},
    [S_C_IT] = {"Italia",
                "de Italia",
                "it,es",
                "it",
                {"Agencia de cooperación para el desarrollo", "Fondo de conversión de deuda", NULL},
                "S.r.l."},
    [S_C_FR] = {"Francia",
                "de Francia",
                "fr,es",
                "fr",
                {"Agencia de desarrollo", "Fondo de solidaridad para proyectos innovadores", NULL},
                "SAS"},
    [S_C_BE] = {"Bélgica",
                "de Bélgica",
                "fr,en",
                "be",
                {"Agencia de desarrollo", "Consejo de cooperación universitaria", NULL},
                "S.A."},
    [S_C_CH] = {"Suiza",
                "de Suiza",
                "de,fr,es",
                "ch",
                {"Agencia de desarrollo y cooperación", "Secretaría de asuntos económicos", NULL},
                "AG"},
    [S_C_CA] = {"Canadá",
                "de Canadá",
                "en,fr",
                "ca",
                {"Fondo para iniciativas locales", "Fondo de cooperación municipal", NULL},
                "Ltd."},
    [S_C_CN] = {"China",
                "de China",
                "zh,es",
                "cn",
                {"Agencia de cooperación para el desarrollo", "Fondo de cooperación Sur-Sur", NULL},
                "Co. Ltd."},
    [S_C_NL] = {"Países Bajos",
                "de los Países Bajos",
                "en",
                "nl",
                {"Agencia empresarial para el desarrollo", "Fondo de cooperación en agua", NULL},
                "B.V."},
    [S_C_UK] = {"Reino Unido",
                "del Reino Unido",
                "en",
                "uk",
                {"Fondo de prosperidad", "Fondo de acción climática", NULL},
                "Ltd."},
    [S_C_SE] = {"Suecia",
                "de Suecia",
                "en",
                "se",
                {"Agencia de cooperación para el desarrollo", NULL, NULL},
                "AB"},
    [S_C_NO] = {"Noruega",
                "de Noruega",
                "en",
                "no",
                {"Agencia de cooperación para el desarrollo", NULL, NULL},
                "AS"},
    [S_C_EC] = {"Ecuador", "del Ecuador", "es", "ec", {NULL, NULL, NULL}, "S.A."},
    [S_C_BR] = {"Brasil",
                "de Brasil",
                "pt,es",
                "br",
                {"Agencia de cooperación", "Agencia de cooperación técnica", NULL},
                "Ltda."},
    [S_C_MX] = {"México",
                "de México",
                "es",
                "mx",
                {"Agencia de cooperación internacional para el desarrollo", NULL, NULL},
                "S.A. de C.V."},
    [S_C_CO] = {"Colombia",
                "de Colombia",
                "es",
                "co",
                {"Agencia presidencial de cooperación", NULL, NULL},
                "S.A.S."},
    [S_C_PE] = {"Perú",
                "del Perú",
                "es",
                "pe",
                {"Agencia de cooperación internacional", NULL, NULL},
                "S.A.C."},
    [S_C_CL] = {"Chile",
                "de Chile",
                "es",
                "cl",
                {"Agencia de cooperación internacional para el desarrollo", NULL, NULL},
                "SpA"},
    [S_C_AR] = {"Argentina",
                "de Argentina",
                "es",
                "ar",
                {"Fondo de cooperación Sur-Sur y triangular", NULL, NULL},
                "S.R.L."},
    [S_C_UY] = {"Uruguay",
                "del Uruguay",
                "es",
                "uy",
                {"Agencia de cooperación internacional", NULL, NULL},
                "S.A."},
    [S_C_CU] =
        {"Cuba", "de Cuba", "es", "cu", {"Brigadas de colaboración técnica", NULL, NULL}, "S.A."},
    [S_C_CR] = {"Costa Rica",
                "de Costa Rica",
                "es,en",
                "cr",
                {"Oficina de cooperación técnica", NULL, NULL},
                "S.A."},
    [S_C_KE] = {"Kenia", "de Kenia", "en", "ke", {NULL, NULL, NULL}, "Ltd."},
    [S_C_PA] = {"Panamá", "de Panamá", "es,en", "pa", {NULL, NULL, NULL}, "S.A."},
};

static const uint8_t s_w_bilateral[S_C_N] = {
    [S_C_DE] = 16, [S_C_ES] = 14, [S_C_JP] = 10, [S_C_KR] = 8, [S_C_US] = 10,
    [S_C_IT] = 8,  [S_C_FR] = 7,  [S_C_BE] = 6,  [S_C_CH] = 5, [S_C_CA] = 4,
    [S_C_CN] = 6,  [S_C_NL] = 3,  [S_C_UK] = 2,  [S_C_SE] = 1, [S_C_NO] = 1};
static const uint8_t s_w_sur[S_C_N] = {
    [S_C_BR] = 8, [S_C_MX] = 8, [S_C_CO] = 8, [S_C_PE] = 5, [S_C_CL] = 8,
    [S_C_AR] = 6, [S_C_UY] = 4, [S_C_CU] = 4, [S_C_CR] = 3};
static const uint8_t s_w_pivot[S_C_N] = {
    [S_C_BR] = 5, [S_C_MX] = 6, [S_C_CO] = 6, [S_C_CL] = 8, [S_C_CR] = 4};
static const uint8_t s_w_donor[S_C_N] = {
    [S_C_DE] = 8, [S_C_ES] = 6, [S_C_JP] = 6, [S_C_KR] = 4, [S_C_US] = 3, [S_C_CA] = 2};
static const uint8_t s_w_multi_seat[S_C_N] = {
    [S_C_US] = 10, [S_C_CH] = 8, [S_C_BE] = 6, [S_C_IT] = 4,
    [S_C_KE] = 2,  [S_C_KR] = 2, [S_C_FR] = 3, [S_C_PA] = 5};
static const uint8_t s_w_private[S_C_N] = {
    [S_C_EC] = 50, [S_C_ES] = 12, [S_C_US] = 9, [S_C_DE] = 6, [S_C_FR] = 4,
    [S_C_IT] = 5,  [S_C_JP] = 3,  [S_C_KR] = 3, [S_C_CN] = 4, [S_C_BR] = 2,
    [S_C_BE] = 2,  [S_C_CH] = 2,  [S_C_CO] = 2, [S_C_CL] = 1};

static const char *const s_programmes[] = {
    "Programa Ciudades Sostenibles",   "Programa Agua y Territorio",
    "Programa Municipios Resilientes", "Programa Gobernanza Local",
    "Programa Amazonía Viva",          "Programa Costa Segura",
    "Programa Andes Verdes",           "Programa Desarrollo Territorial",
    "Programa Ciudades Intermedias",   "Programa Acción Climática Local",
    "Programa Territorios Inclusivos", "Programa Economía Local"};

static const char *const s_multi_bodies[] = {"Banco multilateral de desarrollo",
                                             "Banco regional de desarrollo",
                                             "Fondo climático multilateral",
                                             "Fondo fiduciario de agua y saneamiento",
                                             "Agencia de Naciones Unidas para el desarrollo urbano",
                                             "Programa conjunto de Naciones Unidas",
                                             "Delegación de la Unión Europea",
                                             "Fondo de desarrollo de capital",
                                             "Organismo andino de integración",
                                             "Fondo internacional de desarrollo rural"};

typedef struct {
    const char *place;
    uint8_t country;
    bool city;
} s_place_t;

static const s_place_t s_places[] = {{"Barcelona", S_C_ES, true},
                                     {"Madrid", S_C_ES, true},
                                     {"Bilbao", S_C_ES, true},
                                     {"Valencia", S_C_ES, true},
                                     {"Sevilla", S_C_ES, true},
                                     {"Córdoba", S_C_ES, true},
                                     {"Málaga", S_C_ES, true},
                                     {"Zaragoza", S_C_ES, true},
                                     {"Andalucía", S_C_ES, false},
                                     {"Cataluña", S_C_ES, false},
                                     {"País Vasco", S_C_ES, false},
                                     {"la Comunidad Valenciana", S_C_ES, false},
                                     {"Navarra", S_C_ES, false},
                                     {"Asturias", S_C_ES, false},
                                     {"Galicia", S_C_ES, false},
                                     {"Extremadura", S_C_ES, false},
                                     {"Castilla-La Mancha", S_C_ES, false},
                                     {"las Islas Baleares", S_C_ES, false},
                                     {"Toscana", S_C_IT, false},
                                     {"Emilia-Romaña", S_C_IT, false},
                                     {"Piamonte", S_C_IT, false},
                                     {"Lombardía", S_C_IT, false},
                                     {"Véneto", S_C_IT, false},
                                     {"Lacio", S_C_IT, false},
                                     {"Turín", S_C_IT, true},
                                     {"Milán", S_C_IT, true},
                                     {"Bolonia", S_C_IT, true},
                                     {"Florencia", S_C_IT, true},
                                     {"Isla de Francia", S_C_FR, false},
                                     {"Nueva Aquitania", S_C_FR, false},
                                     {"Bretaña", S_C_FR, false},
                                     {"Occitania", S_C_FR, false},
                                     {"Lyon", S_C_FR, true},
                                     {"Burdeos", S_C_FR, true},
                                     {"Nantes", S_C_FR, true},
                                     {"Grenoble", S_C_FR, true},
                                     {"Valonia", S_C_BE, false},
                                     {"Flandes", S_C_BE, false},
                                     {"Bruselas-Capital", S_C_BE, false},
                                     {"Lieja", S_C_BE, true},
                                     {"Gante", S_C_BE, true}};

static const char *const s_city_bodies[] = {"Ayuntamiento", "Ayuntamiento", "Municipio",
                                            "Ciudad",       "Ayuntamiento", "Municipio"};
static const char *const s_region_bodies[] = {
    "Gobierno regional", "Agencia de cooperación", "Región",
    "Consejo regional",  "Fondo de cooperación",   "Región"};
/* Body of a place by country (ES, IT, FR, BE) for cities and regions. */
static const char *s_place_body(const s_place_t *p)
{
    size_t i = p->country == S_C_ES ? 0 : p->country == S_C_IT ? 2 : p->country == S_C_FR ? 3 : 5;
    if (p->city)
        return i == 0 ? s_city_bodies[0] : s_city_bodies[i];
    return i == 0 ? s_region_bodies[0] : s_region_bodies[i];
}

static const char *const s_company_a[] = {"Andina", "Pacífico", "Hidro",  "Ecoterra", "Solaris",
                                          "Geo",    "Aqua",     "Urbe",   "Kallpa",   "Sumak",
                                          "Nexo",   "Terra",    "Cóndor", "Quinde",   "Volcán"};
static const char *const s_company_b[] = {
    "Ingeniería",  "Consultores",     "Soluciones Ambientales", "Energía",
    "Tecnologías", "Infraestructura", "Servicios Urbanos",      "Agua y Saneamiento"};
static const char *const s_univ_cities[] = {
    "Quito",     "Cuenca",  "Loja",    "Guayaquil", "Ambato",    "Riobamba", "Manta",    "Ibarra",
    "Salamanca", "Granada", "Bolonia", "Padua",     "Stuttgart", "Kassel",   "Montreal", "Lovaina"};
static const uint8_t s_univ_country[] = {S_C_EC, S_C_EC, S_C_EC, S_C_EC, S_C_EC, S_C_EC,
                                         S_C_EC, S_C_EC, S_C_ES, S_C_ES, S_C_IT, S_C_IT,
                                         S_C_DE, S_C_DE, S_C_CA, S_C_BE};
static const char *const s_univ_groups[] = {
    "planificación territorial", "gestión del agua", "riesgos naturales",   "ciudades inteligentes",
    "patrimonio construido",     "economía local",   "energías renovables", "ecología urbana"};
static const char *const s_ong_a[] = {"Acción",     "Red",        "Alianza",
                                      "Asociación", "Iniciativa", "Plataforma"};
static const char *const s_ong_b[] = {
    "por el Agua",       "Comunitaria",         "Verde",     "Andina",
    "Solidaria",         "Ciudadana",           "Amazónica", "por la Infancia",
    "Territorios Vivos", "Mujeres y Territorio"};
static const char *const s_surnames[] = {"Alvarado", "Cevallos",  "Montalvo", "Espinosa",
                                         "Villacís", "Andrade",   "Carrión",  "Benalcázar",
                                         "Larrea",   "Moscoso",   "Ordóñez",  "Salazar",
                                         "Zambrano", "Jaramillo", "Naranjo",  "Rocafuerte"};
static const char *const s_fund_aims[] = {"para el Desarrollo Local", "por la Niñez",
                                          "para la Cultura", "por el Ambiente",
                                          "para la Equidad Territorial"};

/* ---- availability patterns of participants ---- */

typedef struct {
    const char *ranges;
    uint64_t mask; /* bit s-1 = slot s */
    unsigned slots;
    uint8_t w_gad, w_coop;
} s_avail_t;

#define S_BITS(lo, hi) ((((uint64_t)1 << ((hi) - (lo) + 1)) - 1) << ((lo)-1))

static const s_avail_t s_avail[] = {
    {"1-48", S_BITS(1, 48), 48, 58, 70},
    {"1-24", S_BITS(1, 24), 24, 12, 8},
    {"25-48", S_BITS(25, 48), 24, 10, 8},
    {"1-12,25-36", S_BITS(1, 12) | S_BITS(25, 36), 24, 8, 5},
    {"13-24,37-48", S_BITS(13, 24) | S_BITS(37, 48), 24, 4, 3},
    {"1-36", S_BITS(1, 36), 36, 8, 6},
};
#define S_AVAIL_N S_NELEMS(s_avail)

/* AME's regional offices by province (index: province code - 1). */
static const uint8_t s_ame_regional[24] = {6, 5, 6, 1, 3, 3, 7, 1, 5, 1, 7, 5,
                                           4, 6, 2, 3, 2, 3, 7, 5, 1, 2, 4, 5};
/* How often a scoped offer names each province (index: province code - 1). */
static const uint8_t s_w_province[24] = {8, 2, 3, 4, 5, 7, 3, 9, 6, 8, 6, 1,
                                         9, 6, 6, 5, 7, 4, 5, 4, 7, 6, 1, 2};

/* ---- the generator's state ---- */

typedef struct {
    uint8_t group;
    uint8_t country;
    uint8_t focus[3];
    uint8_t reps; /* representatives at the event; 0 = does not attend */
    uint8_t avail;
    uint16_t gad; /* canton index + 1 for intermunicipal */
    uint32_t noffers;
    char domain[64];
} s_coop_t;

typedef struct {
    minga_demo_fn *fn;
    void *arg;
    uint64_t seed;
    uint64_t scale_m; /* scale in thousandths */
    minga_demo_counts_t counts;
    /* code lists */
    const char *mod[S_MOD_N];
    const char *kind[S_KIND_N];
    const char *pkind[S_PRIV_N];
    const char *dac[S_T_N][6];
    size_t ndac[S_T_N];
    /* cantons */
    const minga_canton_t *cantons;
    size_t ncantons;
    char (*gad_domain)[48];
    uint16_t *prov_cantons; /* canton indexes grouped by province */
    size_t prov_first[25];  /* prov_cantons[prov_first[p]..prov_first[p+1]) for code p+1 */
    uint16_t *gad_themes;   /* bit set of demand themes per canton */
    uint8_t *gad_avail;     /* availability pattern + 1 per canton, 0 = absent */
    /* cooperantes */
    s_coop_t *coops;
    size_t ncoops;
    uint64_t tables;
} s_gen_t;

static int s_emit(s_gen_t *g, const minga_rtype_t *t, const void *rec, size_t *count)
{
    (*count)++;
    return g->fn(t, rec, g->arg);
}

/* Classifies each code of list by the keys its folded code or label contains. */
static void s_resolve(minga_codelist_t list, const char *const *keys, size_t nkeys,
                      const char **out)
{
    size_t n;
    const minga_code_t *c = minga_codes(list, &n);
    for (size_t k = 0; k < nkeys; k++)
        out[k] = NULL;
    for (size_t i = 0; c && i < n; i++) {
        char code[64], label[128];
        minga_fold(code, sizeof code, c[i].code);
        minga_fold(label, sizeof label, c[i].label ? c[i].label : "");
        for (size_t k = 0; k < nkeys; k++)
            if (!out[k] && (strstr(code, keys[k]) || strstr(label, keys[k])))
                out[k] = c[i].code;
    }
}

static int s_resolve_codes(s_gen_t *g)
{
    static const char *const mods[S_MOD_N] = {"subven", "asist", "capacit",
                                              "volunt", "beca",  "pasant"};
    static const char *const kinds[S_KIND_N] = {"bilateral",      "multilateral", "descentraliz",
                                                "intermunicipal", "sur",          "triangular",
                                                "privad"};
    static const char *const pkinds[S_PRIV_N] = {"empresa", "universidad", "ong", "fundac"};
    s_resolve(MINGA_CL_MODALITY, mods, S_MOD_N, g->mod);
    if (!g->mod[S_MOD_AT])
        s_resolve(MINGA_CL_MODALITY, (const char *const[]){"asesor"}, 1, &g->mod[S_MOD_AT]);
    s_resolve(MINGA_CL_KIND, kinds, S_KIND_N, g->kind);
    s_resolve(MINGA_CL_PRIVATE_KIND, pkinds, S_PRIV_N, g->pkind);
    /* "sur" must not catch another kind; sur-sur and triangular fall back to bilateral. */
    if (g->kind[S_KIND_SUR] && !strstr(g->kind[S_KIND_SUR], "sur"))
        g->kind[S_KIND_SUR] = NULL;
    if (!g->mod[S_MOD_SUB] || !g->mod[S_MOD_AT] || !g->kind[S_KIND_BILAT] ||
        !g->kind[S_KIND_MULTI] || !g->kind[S_KIND_PRIV])
        return MINGA_EINVAL;
    for (size_t k = 0; k < S_KIND_N; k++)
        if (!g->kind[k])
            g->kind[k] = g->kind[S_KIND_BILAT];
    for (size_t t = 0; t < S_T_N; t++) {
        g->ndac[t] = 0;
        for (size_t i = 0; i < 6 && s_themes[t].dac[i]; i++)
            if (minga_code_find(MINGA_CL_DAC, s_themes[t].dac[i]))
                g->dac[t][g->ndac[t]++] = s_themes[t].dac[i];
    }
    return 0;
}

/* The group's weights over modalities that exist in the code list. */
static size_t s_pick_modality(s_gen_t *g, s_rng_t *r, const uint8_t *w_in)
{
    uint8_t w[S_MOD_N];
    uint32_t total = 0;
    for (size_t m = 0; m < S_MOD_N; m++) {
        w[m] = g->mod[m] ? w_in[m] : 0;
        total += w[m];
    }
    return total ? s_pick(r, w, S_MOD_N) : S_MOD_AT;
}

/* A theme among those that have DAC codes: for offers, with the weights of group k; for
 * demands, with those of region k (0 = costa). */
static size_t s_pick_theme(s_gen_t *g, s_rng_t *r, bool demand, size_t k)
{
    uint8_t w[S_T_N];
    uint32_t total = 0;
    for (size_t t = 0; t < S_T_N; t++) {
        w[t] = !g->ndac[t] ? 0 : demand ? s_themes[t].w_demand[k] : s_themes[t].w_offer[k];
        total += w[t];
    }
    if (!total) {
        for (size_t t = 0; t < S_T_N; t++)
            if (g->ndac[t])
                return t;
        return S_T_WATER;
    }
    return s_pick(r, w, S_T_N);
}

/* ---- gads ---- */

static int s_init_cantons(s_gen_t *g)
{
    g->cantons = minga_cantons(&g->ncantons);
    if (!g->cantons || g->ncantons == 0 || g->ncantons > 65535)
        return MINGA_EINVAL;
    g->gad_domain = calloc(g->ncantons, sizeof *g->gad_domain);
    g->prov_cantons = calloc(g->ncantons, sizeof *g->prov_cantons);
    g->gad_themes = calloc(g->ncantons, sizeof *g->gad_themes);
    g->gad_avail = calloc(g->ncantons, sizeof *g->gad_avail);
    if (!g->gad_domain || !g->prov_cantons || !g->gad_themes || !g->gad_avail)
        return MINGA_ENOMEM;
    size_t per[25] = {0};
    for (size_t i = 0; i < g->ncantons; i++) {
        int p = atoi(g->cantons[i].province);
        if (p < 1 || p > 24)
            return MINGA_EINVAL;
        per[p - 1]++;
        s_slug(g->gad_domain[i], sizeof g->gad_domain[i], g->cantons[i].name);
    }
    g->prov_first[0] = 0;
    for (size_t p = 0; p < 24; p++)
        g->prov_first[p + 1] = g->prov_first[p] + per[p];
    size_t fill[24];
    memcpy(fill, g->prov_first, sizeof fill);
    for (size_t i = 0; i < g->ncantons; i++)
        g->prov_cantons[fill[atoi(g->cantons[i].province) - 1]++] = (uint16_t)i;
    /* Cantons that share a name (Bolívar, Olmedo...) get their province in the domain. */
    for (size_t i = 0; i < g->ncantons; i++) {
        bool dup = false;
        for (size_t j = 0; j < g->ncantons && !dup; j++)
            dup = j != i && strcmp(g->cantons[i].name, g->cantons[j].name) == 0;
        if (dup) {
            const minga_province_t *p = minga_province_find(g->cantons[i].province);
            char ps[48];
            s_slug(ps, sizeof ps, p ? p->name : g->cantons[i].province);
            s_cat(g->gad_domain[i], sizeof g->gad_domain[i], ps);
        }
    }
    return 0;
}

static int s_gen_gads(s_gen_t *g)
{
    for (size_t i = 0; i < g->ncantons; i++) {
        const minga_canton_t *c = &g->cantons[i];
        char email[96], regional[32];
        snprintf(email, sizeof email, "alcaldia@%s.gob.ec", g->gad_domain[i]);
        snprintf(regional, sizeof regional, "Regional %u",
                 (unsigned)s_ame_regional[atoi(c->province) - 1]);
        minga_gad_t rec = {.code = (char *)c->code,
                           .name = (char *)c->name,
                           .province = (char *)c->province,
                           .region = (char *)minga_region_code(c->region),
                           .population = c->population,
                           .email = email,
                           .ame_regional = regional};
        int rc = s_emit(g, &minga_rtype_gad, &rec, &g->counts.gads);
        if (rc)
            return rc;
    }
    return 0;
}

typedef struct {
    uint64_t *slot;
    size_t cap;
} s_set_t;

/* Inserts key (non-zero) into the open-addressing set; false if it was there. */
static bool s_set_add(s_set_t *s, uint64_t key)
{
    size_t i = (size_t)(key * 0x9E3779B97F4A7C15ULL >> 20) & (s->cap - 1);
    while (s->slot[i]) {
        if (s->slot[i] == key)
            return false;
        i = (i + 1) & (s->cap - 1);
    }
    s->slot[i] = key;
    return true;
}

/* FNV-1a of s, never 0. */
static uint64_t s_hash(const char *s)
{
    uint64_t h = 0xcbf29ce484222325ULL;
    for (; *s; s++)
        h = (h ^ (unsigned char)*s) * 0x100000001b3ULL;
    return h ? h : 1;
}

/* ---- cooperantes ---- */

/* Size class of a canton's population, 0 (< 10,000) to 5 (>= 300,000). */
static unsigned s_size_class(uint32_t pop)
{
    static const uint32_t bounds[] = {10000, 25000, 50000, 100000, 300000};
    unsigned k = 0;
    while (k < 5 && pop >= bounds[k])
        k++;
    return k;
}

/* Shuffled group of each cooperante, in exact shares. */
static void s_assign_groups(s_gen_t *g, s_rng_t *r)
{
    size_t n = g->ncoops, at = 0;
    for (size_t gr = 0; gr < S_G_EMP; gr++) {
        size_t k = n * s_groups[gr].share_permille / 1000;
        for (size_t i = 0; i < k && at < n; i++)
            g->coops[at++].group = (uint8_t)gr;
    }
    static const uint8_t w_priv[S_PRIV_N] = {30, 20, 30, 20};
    while (at < n)
        g->coops[at++].group = (uint8_t)(S_G_EMP + s_pick(r, w_priv, S_PRIV_N));
    for (size_t i = n; i > 1; i--) {
        size_t j = s_below(r, (uint32_t)i);
        uint8_t t = g->coops[i - 1].group;
        g->coops[i - 1].group = g->coops[j].group;
        g->coops[j].group = t;
    }
}

/* A GAD for an intermunicipal cooperante: larger cantons more often, each once until all
 * have been used. */
static size_t s_pick_gad_practice(s_gen_t *g, s_rng_t *r, uint8_t *used)
{
    static const uint8_t w_class[6] = {1, 2, 3, 5, 8, 12};
    uint32_t total = 0;
    for (size_t i = 0; i < g->ncantons; i++)
        total += used[i] ? 0 : w_class[s_size_class(g->cantons[i].population)];
    if (!total) {
        memset(used, 0, g->ncantons);
        return s_pick_gad_practice(g, r, used);
    }
    uint32_t x = s_below(r, total);
    for (size_t i = 0; i < g->ncantons; i++) {
        uint32_t w = used[i] ? 0 : w_class[s_size_class(g->cantons[i].population)];
        if (x < w) {
            used[i] = 1;
            return i;
        }
        x -= w;
    }
    return 0;
}

static const char *s_agency(s_rng_t *r, const s_country_t *c)
{
    size_t n = 0;
    while (n < 3 && c->agency[n])
        n++;
    return n ? c->agency[s_below(r, (uint32_t)n)] : "Agencia de cooperación";
}

#define S_PICK_STR(r, a) ((a)[s_below((r), (uint32_t)S_NELEMS(a))])

/* Writes the name, languages and the handle its web domain is made of (ASCII letters and
 * digits, without the top-level domain) of cooperante c, and sets its country. */
static void s_coop_identity(s_gen_t *g, s_rng_t *r, s_coop_t *c, char *name, size_t cap,
                            char *langs, size_t lcap, char *handle, size_t hcap)
{
    const s_country_t *co;
    char s1[64], s2[64];
    switch (c->group) {
    case S_G_MULTI: {
        const char *body = S_PICK_STR(r, s_multi_bodies);
        c->country = (uint8_t)s_pick(r, s_w_multi_seat, S_C_N);
        snprintf(name, cap, "%s – %s", body, S_PICK_STR(r, s_programmes));
        snprintf(langs, lcap, "%s", s_pct(r, 50) ? "es,en" : "es,en,fr");
        s_initials(handle, hcap, body);
        return;
    }
    case S_G_BILAT: {
        c->country = (uint8_t)s_pick(r, s_w_bilateral, S_C_N);
        co = &s_countries[c->country];
        const char *agency = s_agency(r, co);
        snprintf(name, cap, "%s %s – %s", agency, co->of, S_PICK_STR(r, s_programmes));
        s_initials(handle, hcap, agency);
        break;
    }
    case S_G_DESC: {
        const s_place_t *p = &s_places[s_below(r, (uint32_t)S_NELEMS(s_places))];
        c->country = p->country;
        snprintf(name, cap, "%s de %s – Cooperación descentralizada", s_place_body(p), p->place);
        if (s_pct(r, 40)) {
            s_cat(name, cap, ", ");
            s_cat(name, cap, S_PICK_STR(r, s_programmes));
        }
        s_slug(s1, sizeof s1, p->place);
        snprintf(handle, hcap, "coop%s", s1);
        co = &s_countries[c->country];
        break;
    }
    case S_G_INTER:
        c->country = S_C_EC;
        snprintf(name, cap, "GAD Municipal de %s – Buenas Prácticas Locales",
                 g->cantons[c->gad - 1].name);
        snprintf(langs, lcap, "es");
        snprintf(handle, hcap, "%s", g->gad_domain[c->gad - 1]);
        return;
    case S_G_SUR: {
        c->country = (uint8_t)s_pick(r, s_w_sur, S_C_N);
        co = &s_countries[c->country];
        const char *agency = s_agency(r, co);
        snprintf(name, cap, "%s %s – Cooperación Sur-Sur", agency, co->of);
        s_initials(handle, hcap, agency);
        break;
    }
    case S_G_TRI: {
        size_t donor = s_pick(r, s_w_donor, S_C_N);
        c->country = (uint8_t)s_pick(r, s_w_pivot, S_C_N);
        co = &s_countries[c->country];
        snprintf(name, cap, "Programa de cooperación triangular %s–%s: %s", co->name,
                 s_countries[donor].name, S_PICK_STR(r, s_programmes) + strlen("Programa "));
        if (strstr(s_countries[donor].langs, "es"))
            snprintf(langs, lcap, "%s", s_countries[donor].langs);
        else
            snprintf(langs, lcap, "es,%s", s_countries[donor].langs);
        s_slug(s1, sizeof s1, co->name);
        s_slug(s2, sizeof s2, s_countries[donor].name);
        snprintf(handle, hcap, "triangular%s%s", s1, s2);
        return;
    }
    case S_G_EMP: {
        const char *w1 = S_PICK_STR(r, s_company_a), *w2 = S_PICK_STR(r, s_company_b);
        c->country = (uint8_t)s_pick(r, s_w_private, S_C_N);
        co = &s_countries[c->country];
        snprintf(name, cap, "%s %s %s", w1, w2,
                 c->country == S_C_EC && s_pct(r, 50) ? "Cía. Ltda." : co->legal);
        s_slug(s1, sizeof s1, w1);
        s_slug(s2, sizeof s2, w2);
        snprintf(handle, hcap, "%s%.12s", s1, s2);
        break;
    }
    case S_G_UNIV: {
        size_t u = s_below(r, (uint32_t)S_NELEMS(s_univ_cities));
        c->country = s_univ_country[u];
        co = &s_countries[c->country];
        snprintf(name, cap, "Instituto universitario de %s de %s", S_PICK_STR(r, s_univ_groups),
                 s_univ_cities[u]);
        s_slug(s1, sizeof s1, s_univ_cities[u]);
        snprintf(handle, hcap, "iu%s", s1);
        break;
    }
    case S_G_ONG: {
        const char *w1 = S_PICK_STR(r, s_ong_a), *w2 = S_PICK_STR(r, s_ong_b);
        c->country = (uint8_t)s_pick(r, s_w_private, S_C_N);
        co = &s_countries[c->country];
        snprintf(name, cap, "%s %s", w1, w2);
        s_slug(s1, sizeof s1, w1);
        s_slug(s2, sizeof s2, w2);
        snprintf(handle, hcap, "%s%s", s1, s2);
        break;
    }
    default: { /* S_G_FUND */
        const char *n1 = S_PICK_STR(r, s_surnames), *n2 = S_PICK_STR(r, s_surnames);
        c->country = (uint8_t)s_pick(r, s_w_private, S_C_N);
        co = &s_countries[c->country];
        snprintf(name, cap, "Fundación %s %s %s", n1, n2, S_PICK_STR(r, s_fund_aims));
        s_slug(s1, sizeof s1, n1);
        s_slug(s2, sizeof s2, n2);
        snprintf(handle, hcap, "fundacion%s%s", s1, s2);
        break;
    }
    }
    /* Agencies abroad that work in Ecuador mostly list Spanish too. */
    if (!strstr(co->langs, "es") && s_pct(r, 60))
        snprintf(langs, lcap, "%s,es", co->langs);
    else
        snprintf(langs, lcap, "%s", co->langs);
}

/* The top-level domain of cooperante c's web address. */
static const char *s_coop_tld(const s_coop_t *c)
{
    static const char *const ec[S_G_N] = {[S_G_INTER] = "gob.ec",
                                          [S_G_EMP] = "com.ec",
                                          [S_G_UNIV] = "edu.ec",
                                          [S_G_ONG] = "org.ec",
                                          [S_G_FUND] = "org.ec"};
    if (c->group == S_G_MULTI || c->group == S_G_TRI)
        return "org";
    if (c->country == S_C_EC && ec[c->group])
        return ec[c->group];
    if ((c->group == S_G_ONG || c->group == S_G_FUND) && s_countries[c->country].tld[0] != 'e')
        return "org";
    return s_countries[c->country].tld;
}

/* Splits a "," list into v (at most cap entries) inside buf. */
static size_t s_split(char *buf, char **v, size_t cap)
{
    size_t n = 0;
    for (char *p = buf; p && *p && n < cap;) {
        v[n++] = p;
        p = strchr(p, ',');
        if (p)
            *p++ = '\0';
    }
    return n;
}

static int s_gen_cooperantes(s_gen_t *g)
{
    s_rng_t r;
    s_rng_seed(&r, g->seed, 2);
    uint8_t *used = calloc(g->ncantons, 1);
    if (!used)
        return MINGA_ENOMEM;
    s_assign_groups(g, &r);
    static const char *const locals[] = {"cooperacion", "contacto",      "proyectos",
                                         "info",        "oficina.quito", "alianzas"};
    s_set_t domains = {NULL, 64};
    while (domains.cap < 4 * g->ncoops)
        domains.cap *= 2;
    domains.slot = calloc(domains.cap, sizeof *domains.slot);
    int rc = domains.slot ? 0 : MINGA_ENOMEM;
    for (size_t k = 0; k < g->ncoops && !rc; k++) {
        s_coop_t *c = &g->coops[k];
        char id[32], name[300], email[96], updated[11], langbuf[32], handle[48];
        snprintf(id, sizeof id, "coop-%05zu", k + 1);
        if (c->group == S_G_INTER)
            c->gad = (uint16_t)(s_pick_gad_practice(g, &r, used) + 1);
        s_coop_identity(g, &r, c, name, sizeof name, langbuf, sizeof langbuf, handle,
                        sizeof handle);
        for (size_t f = 0; f < 3; f++)
            c->focus[f] = (uint8_t)s_pick_theme(g, &r, false, c->group);
        /* One domain per cooperante: a second one with the same handle gets a number. */
        snprintf(c->domain, sizeof c->domain, "%.24s.%s", handle, s_coop_tld(c));
        if (!s_set_add(&domains, s_hash(c->domain)))
            snprintf(c->domain, sizeof c->domain, "%.20s%zu.%s", handle, k + 1, s_coop_tld(c));
        snprintf(email, sizeof email, "%s@%s", S_PICK_STR(&r, locals), c->domain);
        s_date_between(&r, updated, s_days(2024, 6, 1), s_days(2026, 10, 31));
        char *lv[8];
        size_t nl = s_split(langbuf, lv, 8);
        size_t priv = c->group >= S_G_EMP ? (size_t)(c->group - S_G_EMP) : 0;
        const char *kind = c->group == S_G_MULTI   ? g->kind[S_KIND_MULTI]
                           : c->group == S_G_BILAT ? g->kind[S_KIND_BILAT]
                           : c->group == S_G_DESC  ? g->kind[S_KIND_DESC]
                           : c->group == S_G_INTER ? g->kind[S_KIND_INTER]
                           : c->group == S_G_SUR   ? g->kind[S_KIND_SUR]
                           : c->group == S_G_TRI   ? g->kind[S_KIND_TRI]
                                                   : g->kind[S_KIND_PRIV];
        bool is_priv = strcmp(kind, "privada") == 0;
        bool is_inter = strcmp(kind, "intermunicipal") == 0;
        minga_cooperante_t rec = {
            .id = id,
            .name = name,
            .kind = (char *)kind,
            .private_kind = is_priv && c->group >= S_G_EMP ? (char *)g->pkind[priv] : NULL,
            .country = (char *)s_countries[c->country].name,
            .languages = {lv, nl},
            .email = email,
            .gad = is_inter ? (char *)g->cantons[c->gad - 1].code : NULL,
            .updated_at = updated};
        rc = s_emit(g, &minga_rtype_cooperante, &rec, &g->counts.cooperantes);
    }
    free(used);
    free(domains.slot);
    return rc;
}

/* ---- offers ---- */

/* Number of offers of each cooperante: one each, the rest in proportion to random weights
 * drawn from the group's range (a fifth of the multilaterals are giants). */
static void s_share_offers(s_gen_t *g, s_rng_t *r, uint64_t noffers)
{
    uint64_t *w = calloc(g->ncoops, sizeof *w);
    uint64_t total = 0, extra = noffers - g->ncoops, given = 0;
    for (size_t k = 0; w && k < g->ncoops; k++) {
        const s_group_t *gr = &s_groups[g->coops[k].group];
        w[k] = s_between(r, gr->w_lo, gr->w_hi);
        if (g->coops[k].group == S_G_MULTI && s_pct(r, 20))
            w[k] *= 3;
        total += w[k];
    }
    for (size_t k = 0; k < g->ncoops; k++) {
        g->coops[k].noffers = 1 + (uint32_t)(w && total ? extra * w[k] / total : 0);
        given += g->coops[k].noffers;
    }
    for (size_t k = 0; given < noffers; k = (k + 1) % g->ncoops, given++)
        g->coops[k].noffers++;
    free(w);
}

typedef struct {
    char id[32], title[300];
    char *comps[4], *dac[6], *regions[4], *provinces[24], *cantons[24];
    char comp_buf[4][2];
    minga_offer_t rec;
} s_offer_buf_t;

static int s_cmp_str(const void *a, const void *b)
{
    return strcmp(*(char *const *)a, *(char *const *)b);
}

/* Adds s to v (n entries, at most cap) unless present; returns the new n. */
static size_t s_add_unique(char **v, size_t n, size_t cap, const char *s)
{
    for (size_t i = 0; i < n; i++)
        if (strcmp(v[i], s) == 0)
            return n;
    if (n < cap)
        v[n++] = (char *)s;
    return n;
}

static void s_offer_sectors(s_gen_t *g, s_rng_t *r, s_offer_buf_t *b, size_t theme)
{
    minga_offer_t *o = &b->rec;
    const char *comps = s_themes[theme].comps;
    size_t nc = strlen(comps);
    size_t take = nc > 1 && s_pct(r, 40) ? 1 : nc;
    size_t first = take == 1 ? s_below(r, (uint32_t)nc) : 0;
    for (size_t i = 0; i < take && o->competencies.n < 4; i++) {
        char *cb = b->comp_buf[o->competencies.n];
        cb[0] = comps[first + i];
        cb[1] = '\0';
        o->competencies.n = s_add_unique(b->comps, o->competencies.n, 4, cb);
    }
    size_t nd = 1 + s_below(r, (uint32_t)(g->ndac[theme] < 3 ? g->ndac[theme] : 3));
    size_t start = s_below(r, (uint32_t)g->ndac[theme]);
    for (size_t i = 0; i < nd; i++)
        o->dac.n = s_add_unique(b->dac, o->dac.n, 6, g->dac[theme][(start + i) % g->ndac[theme]]);
}

static void s_offer_scope(s_gen_t *g, s_rng_t *r, s_offer_buf_t *b, const s_coop_t *c)
{
    minga_offer_t *o = &b->rec;
    static const uint8_t w_region[4] = {28, 20, 45, 7};
    size_t scope = s_pick(r, s_groups[c->group].w_scope, 4);
    if (scope == 3 && c->group == S_G_INTER) {
        /* A good practice offered to the neighbours in its own province. */
        const minga_canton_t *own = &g->cantons[c->gad - 1];
        size_t p = (size_t)atoi(own->province) - 1;
        for (size_t i = g->prov_first[p]; i < g->prov_first[p + 1] && o->cantons.n < 12; i++)
            if (g->prov_cantons[i] != c->gad - 1 && s_pct(r, 60))
                b->cantons[o->cantons.n++] = (char *)g->cantons[g->prov_cantons[i]].code;
        if (o->cantons.n == 0)
            scope = 2;
    }
    if (scope == 3 && o->cantons.n == 0) {
        size_t nprov = 1 + (s_pct(r, 30) ? 1 : 0);
        for (size_t k = 0; k < nprov; k++) {
            size_t p = s_pick(r, s_w_province, 24);
            size_t want = s_between(r, 2, 10);
            for (size_t i = g->prov_first[p]; i < g->prov_first[p + 1] && want; i++) {
                if (s_below(r, 3) == 0)
                    continue;
                o->cantons.n =
                    s_add_unique(b->cantons, o->cantons.n, 24, g->cantons[g->prov_cantons[i]].code);
                want--;
            }
        }
        if (o->cantons.n == 0)
            scope = 2;
    }
    if (scope == 2) {
        size_t np = s_pct(r, 50) ? 1 : s_between(r, 2, 4);
        for (size_t k = 0; k < np; k++) {
            size_t p = c->group == S_G_INTER && k == 0
                           ? (size_t)atoi(g->cantons[c->gad - 1].province) - 1
                           : s_pick(r, s_w_province, 24);
            if (g->prov_first[p] < g->prov_first[p + 1])
                o->provinces.n =
                    s_add_unique(b->provinces, o->provinces.n, 24,
                                 g->cantons[g->prov_cantons[g->prov_first[p]]].province);
        }
        if (o->provinces.n == 0)
            scope = 0;
    }
    if (scope == 1) {
        size_t nr = s_pct(r, 20) ? 2 : 1;
        for (size_t k = 0; k < nr; k++)
            o->regions.n =
                s_add_unique(b->regions, o->regions.n, 4,
                             minga_region_code((minga_region_t)(s_pick(r, w_region, 4) + 1)));
    }
    static const char *const scopes[4] = {"nacional", "regiones", "provincias", "cantones"};
    o->scope = (char *)scopes[scope];
    qsort(b->regions, o->regions.n, sizeof(char *), s_cmp_str);
    qsort(b->provinces, o->provinces.n, sizeof(char *), s_cmp_str);
    qsort(b->cantons, o->cantons.n, sizeof(char *), s_cmp_str);
    /* Population caps: small cantons only; a GAD's practice for cantons up to its size. */
    static const uint32_t caps[] = {20000, 30000, 50000, 100000, 150000};
    if (c->group == S_G_INTER && s_pct(r, 30))
        o->population_max = g->cantons[c->gad - 1].population;
    else if (s_pct(r, 12))
        o->population_max = caps[s_below(r, (uint32_t)S_NELEMS(caps))];
}

static void s_offer_validity(s_rng_t *r, char from[11], char to[11])
{
    int32_t day1 = s_days(2026, 11, 12), day2 = day1 + 1;
    int32_t f = s_days(2025, 1, 1) + (int32_t)s_below(r, 669);   /* to 2026-10-31 */
    int32_t t = s_days(2026, 11, 30) + (int32_t)s_below(r, 762); /* to 2028-12-31 */
    uint32_t x = s_below(r, 100);
    if (x >= 88 && x < 90) {
        t = day2; /* ends on the last day: still valid */
    } else if (x >= 90 && x < 94) {
        t = s_days(2026, 3, 1) + (int32_t)s_below(r, 255); /* expired before the event */
        f = t - 90 - (int32_t)s_below(r, 600);
    } else if (x >= 94 && x < 96) {
        t = day1; /* ends on the first day: not valid on the second */
    } else if (x >= 96 && x < 98) {
        f = day2; /* opens on the second day */
    } else if (x >= 98) {
        f = s_days(2027, 1, 1) + (int32_t)s_below(r, 90); /* next year's call */
        t = f + 365 + (int32_t)s_below(r, 365);
    }
    s_date(from, f);
    s_date(to, t);
}

static void s_offer_title(s_gen_t *g, s_rng_t *r, s_offer_buf_t *b, const s_coop_t *c, size_t theme,
                          size_t mod)
{
    static const char *const prefix[S_MOD_N][3] = {
        {"Fondo no reembolsable para {}", "Convocatoria de financiamiento: {}",
         "Subvención para proyectos de {}"},
        {"Asistencia técnica en {}", "Acompañamiento técnico en {}",
         "Asesoría especializada en {}"},
        {"Programa de capacitación en {}", "Curso virtual de {}", "Diplomado en {}"},
        {"Voluntariado profesional en {}", "Voluntariado profesional en {}",
         "Voluntariado profesional en {}"},
        {"Becas de posgrado en {}", "Becas de especialización en {}", "Becas de posgrado en {}"},
        {"Pasantías e intercambio de experiencias en {}", "Pasantías en {}",
         "Intercambio de experiencias en {}"}};
    const s_theme_t *t = &s_themes[theme];
    size_t np = 0;
    while (np < 4 && t->phrase[np])
        np++;
    const char *phrase = t->phrase[s_below(r, (uint32_t)np)];
    if (c->group == S_G_INTER) {
        snprintf(b->title, sizeof b->title, "Buena práctica de %s: %s", g->cantons[c->gad - 1].name,
                 phrase);
    } else {
        s_subst(b->title, sizeof b->title, prefix[mod][s_below(r, 3)], phrase);
    }
    const minga_offer_t *o = &b->rec;
    if (o->regions.n == 1) {
        const minga_code_t *rc = minga_code_find(MINGA_CL_REGION, o->regions.v[0]);
        s_cat(b->title, sizeof b->title,
              strcmp(o->regions.v[0], "insular") == 0 ? " en " : " en la ");
        s_cat(b->title, sizeof b->title,
              strcmp(o->regions.v[0], "insular") == 0 ? "Galápagos"
              : rc                                    ? rc->label
                                                      : "región");
    } else if (o->provinces.n == 1) {
        const minga_province_t *p = minga_province_find(o->provinces.v[0]);
        s_cat(b->title, sizeof b->title, " en ");
        s_cat(b->title, sizeof b->title, p ? p->name : "la provincia");
    } else if (o->cantons.n > 0) {
        s_cat(b->title, sizeof b->title, " en cantones seleccionados");
    }
    if (o->population_max && o->population_max <= 50000)
        s_cat(b->title, sizeof b->title, " (cantones pequeños)");
    if (mod == S_MOD_SUB && s_pct(r, 30))
        s_cat(b->title, sizeof b->title, " – convocatoria 2026");
}

static int s_gen_offers(s_gen_t *g, uint64_t noffers)
{
    s_rng_t r;
    s_rng_seed(&r, g->seed, 3);
    s_share_offers(g, &r, noffers);
    /* Offers registered over time: the cooperantes' offers interleave. */
    uint32_t *owner = malloc(noffers * sizeof *owner);
    if (!owner)
        return MINGA_ENOMEM;
    size_t at = 0;
    for (size_t k = 0; k < g->ncoops; k++)
        for (uint32_t i = 0; i < g->coops[k].noffers; i++)
            owner[at++] = (uint32_t)k;
    for (size_t i = noffers; i > 1; i--) {
        size_t j = s_below(&r, (uint32_t)i);
        uint32_t t = owner[i - 1];
        owner[i - 1] = owner[j];
        owner[j] = t;
    }
    int rc = 0;
    for (size_t n = 0; n < noffers && !rc; n++) {
        const s_coop_t *c = &g->coops[owner[n]];
        const s_group_t *gr = &s_groups[c->group];
        s_offer_buf_t b;
        memset(&b, 0, sizeof b);
        minga_offer_t *o = &b.rec;
        char coop_id[32], from[11], to[11];
        snprintf(b.id, sizeof b.id, "of-%06zu", n + 1);
        snprintf(coop_id, sizeof coop_id, "coop-%05u", owner[n] + 1);
        o->id = b.id;
        o->cooperante = coop_id;
        o->competencies.v = b.comps;
        o->dac.v = b.dac;
        o->regions.v = b.regions;
        o->provinces.v = b.provinces;
        o->cantons.v = b.cantons;
        size_t theme =
            s_pct(&r, 80) ? c->focus[s_below(&r, 3)] : s_pick_theme(g, &r, false, c->group);
        s_offer_sectors(g, &r, &b, theme);
        if ((c->group == S_G_MULTI || c->group == S_G_BILAT) && s_pct(&r, 20) &&
            g->ndac[s_related[theme]])
            s_offer_sectors(g, &r, &b, s_related[theme]);
        qsort(b.comps, o->competencies.n, sizeof(char *), s_cmp_str);
        qsort(b.dac, o->dac.n, sizeof(char *), s_cmp_str);
        size_t mod = s_pick_modality(g, &r, gr->w_mod);
        if (mod == S_MOD_SUB && !s_pct(&r, s_themes[theme].offer_sub_pct)) {
            uint8_t w[S_MOD_N];
            memcpy(w, gr->w_mod, sizeof w);
            w[S_MOD_SUB] = 0;
            mod = s_pick_modality(g, &r, w);
        }
        o->modality = (char *)g->mod[mod];
        if (mod == S_MOD_SUB) {
            size_t lo = gr->rung_lo, hi = gr->rung_hi > gr->rung_lo ? gr->rung_hi : lo + 8;
            size_t i = s_between(&r, (uint32_t)lo, (uint32_t)(hi - 2));
            size_t j = i + s_between(&r, 2, 6);
            o->amount_min = s_ladder[i];
            o->amount_max = s_ladder[j < hi ? j : hi];
            o->cofinancing_required = s_pct(&r, gr->cofin_pct);
        } else {
            o->cofinancing_required = s_pct(&r, 5);
        }
        s_offer_scope(g, &r, &b, c);
        s_offer_validity(&r, from, to);
        o->valid_from = from;
        o->valid_to = to;
        s_offer_title(g, &r, &b, c, theme, mod);
        o->title = b.title;
        rc = s_emit(g, &minga_rtype_offer, o, &g->counts.offers);
    }
    free(owner);
    return rc;
}

/* ---- demands ---- */

/* Demands per canton at scale 1 by size class (2-10), then shared out to ndemands in
 * proportion, by largest remainders. */
static uint32_t *s_share_demands(s_gen_t *g, s_rng_t *r, uint64_t ndemands)
{
    static const uint8_t lo[6] = {2, 3, 4, 6, 7, 9}, span[6] = {2, 3, 3, 3, 3, 2};
    size_t n = g->ncantons;
    uint32_t *base = calloc(n, sizeof *base), *count = calloc(n, sizeof *count);
    uint64_t *rem = calloc(n, sizeof *rem);
    uint64_t total = 0, given = 0;
    if (!base || !count || !rem) {
        free(base);
        free(count);
        free(rem);
        return NULL;
    }
    for (size_t i = 0; i < n; i++) {
        unsigned k = s_size_class(g->cantons[i].population);
        base[i] = lo[k] + s_below(r, span[k]);
        total += base[i];
    }
    for (size_t i = 0; i < n; i++) {
        count[i] = (uint32_t)(ndemands * base[i] / total);
        rem[i] = ndemands * base[i] % total;
        given += count[i];
    }
    while (given < ndemands) {
        size_t best = 0;
        for (size_t i = 1; i < n; i++)
            if (rem[i] > rem[best])
                best = i;
        count[best]++;
        rem[best] = 0;
        given++;
    }
    free(base);
    free(rem);
    return count;
}

static void s_demand_amount(s_rng_t *r, minga_demand_t *d, uint32_t pop, size_t mod, size_t dear)
{
    static const uint8_t rung_lo[6] = {2, 3, 4, 5, 6, 9}, rung_hi[6] = {10, 11, 12, 14, 16, 19};
    unsigned k = s_size_class(pop);
    if (mod != S_MOD_SUB) {
        d->amount = s_pct(r, 20) ? s_amount_near(r, s_between(r, 0, 4)) : 0;
        return;
    }
    size_t rung = s_pct(r, 3) ? s_between(r, 18, (uint32_t)S_LADDER_N - 2)
                              : s_between(r, rung_lo[k], rung_hi[k]) + dear;
    rung = rung > S_LADDER_N - 2 ? S_LADDER_N - 2 : rung;
    d->amount = s_amount_near(r, rung);
    if (s_pct(r, 60)) {
        static const uint8_t share[] = {10, 15, 20, 25, 30, 40, 50};
        d->cofinancing =
            d->amount * share[s_below(r, (uint32_t)S_NELEMS(share))] / 100 / 1000 * 1000;
    }
}

static int s_gen_demands(s_gen_t *g, uint64_t ndemands)
{
    s_rng_t r;
    s_rng_seed(&r, g->seed, 4);
    uint32_t *count = s_share_demands(g, &r, ndemands);
    if (!count)
        return MINGA_ENOMEM;
    static const uint8_t w_mod[S_MOD_N] = {0, 55, 27, 5, 7, 6}; /* besides subvención */
    static const uint8_t w_prio[5] = {30, 30, 20, 12, 8};
    int rc = 0;
    size_t seq = 0;
    for (size_t i = 0; i < g->ncantons && !rc; i++) {
        const minga_canton_t *c = &g->cantons[i];
        uint8_t used[S_T_N] = {0};
        for (uint32_t k = 0; k < count[i] && !rc; k++) {
            char id[32], title[300], *dac[2];
            size_t theme = s_pick_theme(g, &r, true, (size_t)c->region - 1);
            const s_theme_t *t = &s_themes[theme];
            size_t nt = 0;
            while (nt < 4 && t->title[nt])
                nt++;
            s_subst(title, sizeof title, t->title[used[theme] % nt], c->name);
            if (used[theme] >= nt) {
                char phase[24];
                snprintf(phase, sizeof phase, ", fase %u", (unsigned)(used[theme] / nt + 1));
                s_cat(title, sizeof title, phase);
            }
            used[theme]++;
            g->gad_themes[i] |= (uint16_t)(1u << theme);
            size_t nd = g->ndac[theme] > 1 && s_pct(&r, 30) ? 2 : 1;
            size_t first = s_below(&r, (uint32_t)g->ndac[theme]);
            dac[0] = (char *)g->dac[theme][first];
            dac[1] = (char *)g->dac[theme][(first + 1) % g->ndac[theme]];
            if (nd == 2 && strcmp(dac[0], dac[1]) > 0) {
                char *tmp = dac[0];
                dac[0] = dac[1];
                dac[1] = tmp;
            }
            char comp[2] = {t->comps[s_below(&r, (uint32_t)strlen(t->comps))], '\0'};
            size_t mod = s_pct(&r, t->demand_sub_pct) ? S_MOD_SUB : s_pick_modality(g, &r, w_mod);
            snprintf(id, sizeof id, "dem-%06zu", ++seq);
            minga_demand_t d = {.id = id,
                                .gad = (char *)c->code,
                                .title = title,
                                .competency = comp,
                                .dac = {dac, nd},
                                .modality = (char *)g->mod[mod],
                                .priority = 1 + s_pick(&r, w_prio, 5)};
            s_demand_amount(&r, &d, c->population, mod, t->demand_rungs);
            rc = s_emit(g, &minga_rtype_demand, &d, &g->counts.demands);
        }
    }
    free(count);
    return rc;
}

/* ---- event ---- */

static int s_gen_event(s_gen_t *g)
{
    minga_event_t e = {.id = MINGA_DEMO_EVENT,
                       .name = "Jornada de Cooperación Internacional 2026",
                       .venue = "Centro de Convenciones Metropolitano, Quito",
                       .date_start = S_EVENT_DAY1,
                       .date_end = S_EVENT_DAY2,
                       .timezone = "America/Guayaquil",
                       .day_start = "09:00",
                       .day_end = "17:00",
                       .slot_minutes = 20,
                       .tables = g->tables,
                       .max_meetings = 12,
                       .min_meetings_gad = 3,
                       .meetings_per_pair = 1,
                       .attendance_required = true};
    return s_emit(g, &minga_rtype_event, &e, &g->counts.events);
}

/* ---- participants ---- */

static size_t s_pick_avail(s_rng_t *r, bool gad)
{
    uint8_t w[S_AVAIL_N];
    for (size_t i = 0; i < S_AVAIL_N; i++)
        w[i] = gad ? s_avail[i].w_gad : s_avail[i].w_coop;
    return s_pick(r, w, S_AVAIL_N);
}

/* Who attends: most GADs, about 30 % of the cooperantes, within the event's tables. */
static void s_choose_attendance(s_gen_t *g, s_rng_t *r)
{
    static const uint8_t gad_pct[6] = {70, 78, 82, 88, 95, 100};
    for (size_t i = 0; i < g->ncantons; i++) {
        unsigned pct = gad_pct[s_size_class(g->cantons[i].population)];
        if (g->cantons[i].region == MINGA_REGION_INSULAR)
            pct = 65;
        g->gad_avail[i] = s_pct(r, pct) ? (uint8_t)(s_pick_avail(r, true) + 1) : 0;
    }
    uint64_t used = 0;
    for (size_t k = 0; k < g->ncoops; k++) {
        s_coop_t *c = &g->coops[k];
        c->reps = 0;
        if (!s_pct(r, s_groups[c->group].attend_pct))
            continue;
        c->reps = 1;
        if (c->noffers >= 8)
            c->reps = (uint8_t)(s_pct(r, 20) ? 3 : s_pct(r, 50) ? 2 : 1);
        else if (c->noffers >= 4 && s_pct(r, 15))
            c->reps = 2;
        c->avail = (uint8_t)s_pick_avail(r, false);
        used += c->reps;
    }
    /* Over the tables: fewer representatives first, then fewer cooperantes, from the end. */
    for (size_t k = g->ncoops; k-- > 0 && used > g->tables;)
        if (g->coops[k].reps > 1) {
            used -= g->coops[k].reps - 1u;
            g->coops[k].reps = 1;
        }
    for (size_t k = g->ncoops; k-- > 0 && used > g->tables;)
        if (g->coops[k].reps) {
            used -= g->coops[k].reps;
            g->coops[k].reps = 0;
        }
}

static int s_gen_participants(s_gen_t *g)
{
    s_rng_t r;
    s_rng_seed(&r, g->seed, 6);
    s_choose_attendance(g, &r);
    static const uint8_t w_min[3] = {30, 50, 20};
    int rc = 0;
    for (size_t i = 0; i < g->ncantons && !rc; i++) {
        if (!g->gad_avail[i])
            continue;
        char email[96];
        snprintf(email, sizeof email, "%s@%s.gob.ec",
                 s_pct(&r, 50) ? "planificacion" : "cooperacion", g->gad_domain[i]);
        minga_participant_t p = {.event = MINGA_DEMO_EVENT,
                                 .party = (char *)g->cantons[i].code,
                                 .kind = "gad",
                                 .min_meetings = 2 + s_pick(&r, w_min, 3),
                                 .max_meetings = s_between(&r, 8, 12),
                                 .tables = 0,
                                 .available_slots = (char *)s_avail[g->gad_avail[i] - 1].ranges,
                                 .email = email};
        rc = s_emit(g, &minga_rtype_participant, &p, &g->counts.participants);
    }
    for (size_t k = 0; k < g->ncoops && !rc; k++) {
        const s_coop_t *c = &g->coops[k];
        if (!c->reps)
            continue;
        char id[32], email[96];
        snprintf(id, sizeof id, "coop-%05zu", k + 1);
        snprintf(email, sizeof email, "%s@%s", s_pct(&r, 50) ? "jornada" : "delegacion", c->domain);
        uint64_t cap = (uint64_t)s_avail[c->avail].slots * c->reps;
        uint64_t max =
            c->reps == 1 ? s_between(&r, 8, 16) : s_between(&r, 12 * c->reps - 4, 14 * c->reps);
        if (c->noffers >= 10 && c->reps == 1)
            max += s_between(&r, 0, 6);
        minga_participant_t p = {.event = MINGA_DEMO_EVENT,
                                 .party = id,
                                 .kind = "cooperante",
                                 .min_meetings = 0,
                                 .max_meetings = max < cap ? max : cap,
                                 .tables = c->reps,
                                 .available_slots = (char *)s_avail[c->avail].ranges,
                                 .email = email};
        rc = s_emit(g, &minga_rtype_participant, &p, &g->counts.participants);
    }
    return rc;
}

/* ---- preferences ---- */

static int s_gen_preferences(s_gen_t *g)
{
    s_rng_t r;
    s_rng_seed(&r, g->seed, 7);
    size_t ngad = 0, ncoop = 0;
    uint16_t *gads = malloc(g->ncantons * sizeof *gads);
    uint32_t *coops = malloc((g->ncoops + 1) * sizeof *coops);
    uint8_t *must = calloc(g->ncantons, 1);
    uint64_t want = (40 * g->scale_m + 500) / 1000;
    s_set_t set = {NULL, 64};
    while (set.cap < 4 * want + 64)
        set.cap *= 2;
    set.slot = calloc(set.cap, sizeof *set.slot);
    int rc = 0;
    if (!gads || !coops || !must || !set.slot) {
        rc = MINGA_ENOMEM;
        goto done;
    }
    for (size_t i = 0; i < g->ncantons; i++)
        if (g->gad_avail[i])
            gads[ngad++] = (uint16_t)i;
    for (size_t k = 0; k < g->ncoops; k++)
        if (g->coops[k].reps)
            coops[ncoop++] = (uint32_t)k;
    if (!ngad || !ncoop)
        goto done;
    static const uint8_t w_pref[3] = {25, 55, 20};
    static const char *const prefs[3] = {"obligatoria", "deseada", "no"};
    for (uint64_t tries = 0; g->counts.preferences < want && tries < 20 * want && !rc; tries++) {
        size_t k = coops[s_below(&r, (uint32_t)ncoop)];
        const s_coop_t *c = &g->coops[k];
        size_t pref = s_pick(&r, w_pref, 3);
        /* Wishes go to a GAD with a demand in the cooperante's main theme. */
        size_t gi = gads[s_below(&r, (uint32_t)ngad)];
        for (size_t t = 0; pref != 2 && t < 8 && !(g->gad_themes[gi] & (1u << c->focus[0])); t++)
            gi = gads[s_below(&r, (uint32_t)ngad)];
        if (pref == 0 &&
            (must[gi] >= 2 || !(s_avail[g->gad_avail[gi] - 1].mask & s_avail[c->avail].mask)))
            pref = 1;
        if (!s_set_add(&set, ((uint64_t)gi << 32 | k) + 1))
            continue;
        if (pref == 0)
            must[gi]++;
        char id[32];
        snprintf(id, sizeof id, "coop-%05zu", k + 1);
        bool from_gad = s_pct(&r, 60);
        minga_preference_t p = {.event = MINGA_DEMO_EVENT,
                                .from = from_gad ? (char *)g->cantons[gi].code : id,
                                .to = from_gad ? id : (char *)g->cantons[gi].code,
                                .preference = (char *)prefs[pref]};
        rc = s_emit(g, &minga_rtype_preference, &p, &g->counts.preferences);
    }
done:
    free(gads);
    free(coops);
    free(must);
    free(set.slot);
    return rc;
}

/* ---- the whole run ---- */

static void s_gen_free(s_gen_t *g)
{
    free(g->gad_domain);
    free(g->prov_cantons);
    free(g->gad_themes);
    free(g->gad_avail);
    free(g->coops);
}

int minga_demo_generate(uint64_t seed, double scale, minga_demo_fn *fn, void *arg,
                        minga_demo_counts_t *counts)
{
    if (!(scale >= MINGA_DEMO_SCALE_MIN && scale <= MINGA_DEMO_SCALE_MAX) || !fn)
        return MINGA_EINVAL;
    s_gen_t g;
    memset(&g, 0, sizeof g);
    g.fn = fn;
    g.arg = arg;
    g.seed = seed;
    g.scale_m = (uint64_t)(scale * 1000.0 + 0.5);
    if (g.scale_m == 0)
        g.scale_m = 1;
    g.ncoops = (size_t)((500 * g.scale_m + 500) / 1000);
    g.ncoops = g.ncoops ? g.ncoops : 1;
    uint64_t noffers = (1500 * g.scale_m + 500) / 1000;
    uint64_t ndemands = (1100 * g.scale_m + 500) / 1000;
    noffers = noffers < g.ncoops ? g.ncoops : noffers;
    ndemands = ndemands ? ndemands : 1;
    g.tables = (S_TABLES_BASE * g.scale_m + 500) / 1000;
    g.tables = g.tables < S_TABLES_BASE ? S_TABLES_BASE : g.tables > 65535 ? 65535 : g.tables;
    int rc = s_resolve_codes(&g);
    if (!rc)
        rc = s_init_cantons(&g);
    if (!rc) {
        g.coops = calloc(g.ncoops, sizeof *g.coops);
        rc = g.coops ? 0 : MINGA_ENOMEM;
    }
    if (!rc)
        rc = s_gen_gads(&g);
    if (!rc)
        rc = s_gen_cooperantes(&g);
    if (!rc)
        rc = s_gen_offers(&g, noffers);
    if (!rc)
        rc = s_gen_demands(&g, ndemands);
    if (!rc)
        rc = s_gen_event(&g);
    if (!rc)
        rc = s_gen_participants(&g);
    if (!rc)
        rc = s_gen_preferences(&g);
    if (counts)
        *counts = g.counts;
    s_gen_free(&g);
    return rc;
}

/* ---- writing the files ---- */

#define S_NKINDS 7

typedef struct {
    const minga_rtype_t *type[S_NKINDS];
    FILE *file[S_NKINDS];
    minga_writer_t *writer[S_NKINDS];
    char tmp[S_NKINDS][4096];
    char path[S_NKINDS][4096];
    int failed; /* index of the file at fault + 1 */
} s_out_t;

static int s_out_put(const minga_rtype_t *t, const void *rec, void *arg)
{
    s_out_t *out = arg;
    for (size_t i = 0; i < S_NKINDS; i++)
        if (out->type[i] == t) {
            int rc = minga_writer_put(out->writer[i], rec);
            if (rc)
                out->failed = (int)i + 1;
            return rc;
        }
    return MINGA_EINVAL;
}

/* mkdir -p. Returns 0 or -errno. */
static int s_mkdirs(const char *dir)
{
    char buf[4096];
    if (snprintf(buf, sizeof buf, "%s", dir) >= (int)sizeof buf)
        return -ENAMETOOLONG;
    for (char *p = buf + 1;; p++) {
        if (*p == '/' || !*p) {
            char c = *p;
            *p = '\0';
            if (mkdir(buf, 0777) != 0 && errno != EEXIST)
                return -errno;
            *p = c;
            if (!c)
                break;
        }
    }
    struct stat st;
    if (stat(dir, &st) != 0)
        return -errno;
    return S_ISDIR(st.st_mode) ? 0 : -ENOTDIR;
}

static void s_out_close(s_out_t *out, bool remove_tmp)
{
    for (size_t i = 0; i < S_NKINDS; i++) {
        minga_writer_destroy(&out->writer[i]);
        if (out->file[i])
            fclose(out->file[i]);
        out->file[i] = NULL;
        if (remove_tmp && out->tmp[i][0])
            unlink(out->tmp[i]);
    }
}

static int s_out_open(s_out_t *out, const char *dir)
{
    size_t n;
    const minga_rtype_t *const *types = minga_rtypes(&n);
    if (n != S_NKINDS)
        return MINGA_EINVAL;
    for (size_t i = 0; i < S_NKINDS; i++) {
        out->type[i] = types[i];
        if (snprintf(out->path[i], sizeof out->path[i], "%s/%s.csv", dir, types[i]->kind) >=
                (int)sizeof out->path[i] ||
            snprintf(out->tmp[i], sizeof out->tmp[i], "%s/.%s.csv.tmp", dir, types[i]->kind) >=
                (int)sizeof out->tmp[i]) {
            out->tmp[i][0] = '\0';
            out->failed = (int)i + 1;
            return -ENAMETOOLONG;
        }
        out->file[i] = fopen(out->tmp[i], "w");
        if (!out->file[i]) {
            int rc = -errno;
            out->tmp[i][0] = '\0';
            out->failed = (int)i + 1;
            return rc;
        }
        setvbuf(out->file[i], NULL, _IOFBF, 1 << 18);
        int rc = minga_writer_new(&out->writer[i], out->file[i], types[i], MINGA_FORMAT_CSV);
        if (rc) {
            out->failed = (int)i + 1;
            return rc;
        }
    }
    return 0;
}

static int s_out_commit(s_out_t *out)
{
    for (size_t i = 0; i < S_NKINDS; i++) {
        int rc = minga_writer_finish(out->writer[i]);
        minga_writer_destroy(&out->writer[i]);
        if (!rc && fflush(out->file[i]) != 0)
            rc = -errno;
        if (!rc && ferror(out->file[i]))
            rc = -EIO;
        if (fclose(out->file[i]) != 0 && !rc)
            rc = -errno;
        out->file[i] = NULL;
        if (rc) {
            out->failed = (int)i + 1;
            return rc;
        }
    }
    for (size_t i = 0; i < S_NKINDS; i++) {
        if (rename(out->tmp[i], out->path[i]) != 0) {
            out->failed = (int)i + 1;
            return -errno;
        }
        out->tmp[i][0] = '\0';
    }
    return 0;
}

int minga_demo_write(const char *dir, uint64_t seed, double scale, minga_demo_counts_t *counts,
                     char *err, size_t errcap)
{
    if (!(scale >= MINGA_DEMO_SCALE_MIN && scale <= MINGA_DEMO_SCALE_MAX)) {
        snprintf(err, errcap, "scale must be between %g and %g", MINGA_DEMO_SCALE_MIN,
                 MINGA_DEMO_SCALE_MAX);
        return MINGA_EINVAL;
    }
    int rc = s_mkdirs(dir);
    if (rc) {
        snprintf(err, errcap, "%s: %s", dir, minga_strerror(rc));
        return rc;
    }
    s_out_t *out = calloc(1, sizeof *out);
    if (!out) {
        snprintf(err, errcap, "%s", minga_strerror(MINGA_ENOMEM));
        return MINGA_ENOMEM;
    }
    rc = s_out_open(out, dir);
    if (!rc)
        rc = minga_demo_generate(seed, scale, s_out_put, out, counts);
    if (!rc)
        rc = s_out_commit(out);
    if (rc) {
        if (out->failed)
            snprintf(err, errcap, "%s: %s", out->path[out->failed - 1], minga_strerror(rc));
        else
            snprintf(err, errcap, "%s", minga_strerror(rc));
    }
    s_out_close(out, rc != 0);
    free(out);
    return rc;
}
