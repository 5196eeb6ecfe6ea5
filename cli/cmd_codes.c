/*
 * cmd_codes.c: `minga codes KIND [--format text|csv|json]`, the code lists Minga validates
 * against (codes.h), for people and for tools.
 *
 * Every list is first laid out as a table (s_table_t: columns, and a function that fills row
 * i), then written by one of three writers: text (aligned by characters, not bytes, with the
 * last text column wrapped to S_TEXT_WIDTH), CSV (UTF-8 BOM, ';', a header row of English
 * keys, "\n" line ends, quoting as io.h describes) or JSON (one array of objects with the same
 * keys; populations as numbers). In CSV and JSON a canton's province is its 2-digit code and a
 * region is its code (as gad records store them); the text table shows names and labels.
 */
#include "cli.h"

#include "minga/codes.h"

#include <jansson.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define S_MAXCOLS 5
#define S_TEXT_WIDTH 100

typedef enum { S_TEXT, S_CSV, S_JSON } s_format_t;

typedef struct {
    const char *key;   /* CSV header and JSON key */
    const char *title; /* text column title, Spanish */
    bool number;       /* right-aligned in text, a number in JSON */
} s_col_t;

typedef struct {
    const char *cell[S_MAXCOLS];
    char num[24];
} s_row_t;

typedef struct s_table_t s_table_t;
typedef void(s_fill_fn)(const s_table_t *t, size_t i, s_format_t fmt, s_row_t *row);

struct s_table_t {
    minga_codelist_t list;
    size_t ncols;
    s_col_t cols[S_MAXCOLS];
    size_t nrows;
    const minga_code_t *codes; /* the word and DAC lists */
    s_fill_fn *fill;
};

/* Titles of the code and label columns of the plain lists. */
static const struct {
    minga_codelist_t list;
    const char *code_title;
    const char *label_title;
} s_titles[] = {
    {MINGA_CL_COMPETENCY, "Literal", "Competencia exclusiva (COOTAD, art. 55)"},
    {MINGA_CL_DAC, "Código", "Sector CAD (OCDE)"},
    {MINGA_CL_DAC_CATEGORY, "Código", "Categoría CAD (OCDE)"},
    {MINGA_CL_MODALITY, "Código", "Modalidad"},
    {MINGA_CL_KIND, "Código", "Tipo de cooperación"},
    {MINGA_CL_PRIVATE_KIND, "Código", "Tipo de cooperante privado"},
    {MINGA_CL_REGION, "Código", "Región"},
    {MINGA_CL_PREFERENCE, "Código", "Preferencia"},
    {MINGA_CL_PARTY_KIND, "Código", "Tipo de participante"},
    {MINGA_CL_SCOPE, "Código", "Ámbito territorial"},
};

static void s_fill_code(const s_table_t *t, size_t i, s_format_t fmt, s_row_t *row)
{
    (void)fmt;
    row->cell[0] = t->codes[i].code;
    row->cell[1] = t->codes[i].label;
}

static const char *s_region(minga_region_t region, s_format_t fmt)
{
    const char *s = fmt == S_TEXT ? minga_region_label(region) : minga_region_code(region);
    return s ? s : "";
}

static void s_fill_province(const s_table_t *t, size_t i, s_format_t fmt, s_row_t *row)
{
    (void)t;
    const minga_province_t *p = &minga_provinces(NULL)[i];
    row->cell[0] = p->code;
    row->cell[1] = p->name;
    row->cell[2] = s_region(p->region, fmt);
}

static void s_fill_canton(const s_table_t *t, size_t i, s_format_t fmt, s_row_t *row)
{
    (void)t;
    const minga_canton_t *c = &minga_cantons(NULL)[i];
    const minga_province_t *p = minga_province_find(c->province);
    row->cell[0] = c->code;
    row->cell[1] = c->name;
    row->cell[2] = fmt == S_TEXT && p ? p->name : c->province;
    row->cell[3] = s_region(c->region, fmt);
    snprintf(row->num, sizeof row->num, "%u", (unsigned)c->population);
    row->cell[4] = row->num;
}

/* Lays out list as a table. */
static void s_table_init(s_table_t *t, minga_codelist_t list)
{
    memset(t, 0, sizeof *t);
    t->list = list;
    if (list == MINGA_CL_PROVINCE) {
        minga_provinces(&t->nrows);
        t->ncols = 3;
        t->cols[0] = (s_col_t){"code", "Código", false};
        t->cols[1] = (s_col_t){"name", "Provincia", false};
        t->cols[2] = (s_col_t){"region", "Región", false};
        t->fill = s_fill_province;
        return;
    }
    if (list == MINGA_CL_CANTON) {
        minga_cantons(&t->nrows);
        t->ncols = 5;
        t->cols[0] = (s_col_t){"code", "Código", false};
        t->cols[1] = (s_col_t){"name", "Cantón", false};
        t->cols[2] = (s_col_t){"province", "Provincia", false};
        t->cols[3] = (s_col_t){"region", "Región", false};
        t->cols[4] = (s_col_t){"population", "Población", true};
        t->fill = s_fill_canton;
        return;
    }
    t->codes = minga_codes(list, &t->nrows);
    t->ncols = 2;
    t->cols[0] = (s_col_t){"code", "Código", false};
    t->cols[1] = (s_col_t){"label", "Descripción", false};
    for (size_t i = 0; i < sizeof s_titles / sizeof s_titles[0]; i++)
        if (s_titles[i].list == list) {
            t->cols[0].title = s_titles[i].code_title;
            t->cols[1].title = s_titles[i].label_title;
        }
    t->fill = s_fill_code;
}

/* Characters (code points) of the UTF-8 string s, or of its first n bytes. */
static size_t s_width_n(const char *s, size_t n)
{
    size_t w = 0;
    for (size_t i = 0; i < n && s[i]; i++)
        if (((unsigned char)s[i] & 0xC0) != 0x80)
            w++;
    return w;
}

static size_t s_width(const char *s)
{
    return s_width_n(s, strlen(s));
}

static void s_pad(size_t n)
{
    for (size_t i = 0; i < n; i++)
        putchar(' ');
}

/* Writes text from column indent on, wrapped at spaces to width characters per line; the
 * lines after the first begin with indent spaces. */
static void s_put_wrapped(const char *text, size_t indent, size_t width)
{
    bool first = true;
    while (*text) {
        size_t len = strlen(text), cut = len;
        if (s_width(text) > width) {
            size_t last_space = 0;
            for (size_t i = 0; i < len && s_width_n(text, i) <= width; i++)
                if (text[i] == ' ')
                    last_space = i;
            cut = last_space ? last_space : len;
        }
        if (!first)
            s_pad(indent);
        fwrite(text, 1, cut, stdout);
        putchar('\n');
        first = false;
        text += cut;
        while (*text == ' ')
            text++;
    }
    if (first)
        putchar('\n');
}

static void s_put_text_row(const s_table_t *t, const char *const *cells, const size_t *widths)
{
    size_t at = 0;
    for (size_t c = 0; c < t->ncols; c++) {
        size_t w = s_width(cells[c]);
        bool last = c + 1 == t->ncols;
        if (t->cols[c].number)
            s_pad(widths[c] - w);
        if (last && !t->cols[c].number) {
            size_t room = S_TEXT_WIDTH > at + 30 ? S_TEXT_WIDTH - at : 30;
            s_put_wrapped(cells[c], at, room);
            return;
        }
        fputs(cells[c], stdout);
        if (last) {
            putchar('\n');
            return;
        }
        if (!t->cols[c].number)
            s_pad(widths[c] - w);
        fputs("  ", stdout);
        at += widths[c] + 2;
    }
}

static int s_write_text(const s_table_t *t)
{
    size_t widths[S_MAXCOLS];
    const char *titles[S_MAXCOLS];
    for (size_t c = 0; c < t->ncols; c++) {
        titles[c] = t->cols[c].title;
        widths[c] = s_width(titles[c]);
    }
    for (size_t i = 0; i < t->nrows; i++) {
        s_row_t row = {0};
        t->fill(t, i, S_TEXT, &row);
        for (size_t c = 0; c < t->ncols; c++)
            if (s_width(row.cell[c]) > widths[c])
                widths[c] = s_width(row.cell[c]);
    }
    size_t total = 0;
    for (size_t c = 0; c < t->ncols; c++)
        total += widths[c] + (c ? 2 : 0);
    if (total > S_TEXT_WIDTH)
        total = S_TEXT_WIDTH;
    s_put_text_row(t, titles, widths);
    for (size_t i = 0; i < total; i++)
        putchar('-');
    putchar('\n');
    for (size_t i = 0; i < t->nrows; i++) {
        s_row_t row = {0};
        t->fill(t, i, S_TEXT, &row);
        s_put_text_row(t, row.cell, widths);
    }
    return 0;
}

static void s_csv_field(const char *s)
{
    size_t len = strlen(s);
    bool quote = len > 0 && (s[0] == ' ' || s[len - 1] == ' ');
    quote = quote || strpbrk(s, ";\"\r\n") != NULL;
    if (!quote) {
        fputs(s, stdout);
        return;
    }
    putchar('"');
    for (; *s; s++) {
        if (*s == '"')
            putchar('"');
        putchar(*s);
    }
    putchar('"');
}

static int s_write_csv(const s_table_t *t)
{
    fputs("\xEF\xBB\xBF", stdout);
    for (size_t c = 0; c < t->ncols; c++) {
        if (c)
            putchar(';');
        s_csv_field(t->cols[c].key);
    }
    putchar('\n');
    for (size_t i = 0; i < t->nrows; i++) {
        s_row_t row = {0};
        t->fill(t, i, S_CSV, &row);
        for (size_t c = 0; c < t->ncols; c++) {
            if (c)
                putchar(';');
            s_csv_field(row.cell[c]);
        }
        putchar('\n');
    }
    return 0;
}

static json_t *s_json_row(const s_table_t *t, const s_row_t *row)
{
    json_t *obj = json_object();
    if (!obj)
        return NULL;
    for (size_t c = 0; c < t->ncols; c++) {
        json_t *v = t->cols[c].number ? json_integer(strtoll(row->cell[c], NULL, 10))
                                      : json_string(row->cell[c]);
        if (!v || json_object_set_new(obj, t->cols[c].key, v) != 0) {
            json_decref(obj);
            return NULL;
        }
    }
    return obj;
}

static int s_write_json(const s_table_t *t)
{
    json_t *arr = json_array();
    if (!arr)
        goto fail;
    for (size_t i = 0; i < t->nrows; i++) {
        s_row_t row = {0};
        t->fill(t, i, S_JSON, &row);
        json_t *obj = s_json_row(t, &row);
        if (!obj || json_array_append_new(arr, obj) != 0)
            goto fail;
    }
    if (json_dumpf(arr, stdout, JSON_INDENT(2) | JSON_PRESERVE_ORDER) != 0)
        goto fail;
    putchar('\n');
    json_decref(arr);
    return 0;
fail:
    json_decref(arr);
    fprintf(stderr, "minga codes: cannot write the JSON output (out of memory?)\n");
    return -1;
}

static const char *const s_kind_names = "competencies, dac, dac-categories, modalities, kinds, "
                                        "private-kinds, regions, provinces, cantons, "
                                        "preferences, party-kinds, scopes";

/* Takes the options; returns MINGA_EXIT_OK with *list and *fmt set, or a usage exit. */
static int s_parse(int argc, char **argv, minga_codelist_t *list, s_format_t *fmt)
{
    const char *kind = NULL, *format = "text";
    for (int i = 1; i < argc; i++) {
        const char *a = argv[i];
        if (strcmp(a, "--format") == 0) {
            if (i + 1 >= argc)
                return minga_cli_usage("codes", "--format needs a value: text, csv or json");
            format = argv[++i];
        } else if (strncmp(a, "--format=", 9) == 0) {
            format = a + 9;
        } else if (strcmp(a, "--json") == 0) {
            format = "json";
        } else if (a[0] == '-' && a[1]) {
            return minga_cli_usage("codes", "unknown option '%s'", a);
        } else if (kind) {
            return minga_cli_usage("codes", "one KIND only (got '%s' and '%s')", kind, a);
        } else {
            kind = a;
        }
    }
    if (!kind)
        return minga_cli_usage("codes", "which list? KIND is one of: %s", s_kind_names);
    *list = minga_codelist_by_name(kind);
    if (*list == MINGA_CL_NONE)
        return minga_cli_usage("codes", "unknown KIND '%s'; KIND is one of: %s", kind,
                               s_kind_names);
    if (strcmp(format, "text") == 0)
        *fmt = S_TEXT;
    else if (strcmp(format, "csv") == 0)
        *fmt = S_CSV;
    else if (strcmp(format, "json") == 0)
        *fmt = S_JSON;
    else
        return minga_cli_usage("codes", "unknown format '%s' (text, csv or json)", format);
    return MINGA_EXIT_OK;
}

static int s_run_codes(minga_cli_t *cli, int argc, char **argv)
{
    (void)cli;
    minga_codelist_t list = MINGA_CL_NONE;
    s_format_t fmt = S_TEXT;
    int rc = s_parse(argc, argv, &list, &fmt);
    if (rc != MINGA_EXIT_OK)
        return rc;
    s_table_t t;
    s_table_init(&t, list);
    if (fmt == S_CSV)
        rc = s_write_csv(&t);
    else if (fmt == S_JSON)
        rc = s_write_json(&t);
    else
        rc = s_write_text(&t);
    if (fflush(stdout) != 0 || ferror(stdout)) {
        perror("minga codes: stdout");
        return MINGA_EXIT_FAIL;
    }
    return rc == 0 ? MINGA_EXIT_OK : MINGA_EXIT_FAIL;
}

MINGA_COMMAND(codes, "codes", 60, s_run_codes,
              "lista los códigos: competencias, sectores CAD, cantones…",
              "Uso: minga codes TIPO [--format text|csv|json]\n"
              "\n"
              "Muestra una de las listas de códigos con las que Minga valida los datos. No usa\n"
              "el almacén: las listas vienen incorporadas en el programa.\n"
              "\n"
              "TIPO:\n"
              "  competencies     competencias exclusivas de los GAD municipales (COOTAD,\n"
              "                   art. 55, literales a–n)\n"
              "  dac              sectores CAD de la OCDE (códigos de 5 cifras) que usan los\n"
              "                   proyectos municipales\n"
              "  dac-categories   categorías CAD de 3 cifras\n"
              "  modalities       modalidades de cooperación\n"
              "  kinds            tipos de cooperación (bilateral, multilateral…)\n"
              "  private-kinds    tipos de cooperante privado\n"
              "  regions          regiones naturales\n"
              "  provinces        las 24 provincias (código DPA del INEC de 2 cifras)\n"
              "  cantons          los 221 cantones (código DPA de 4 cifras, nombre, provincia,\n"
              "                   región y población según la proyección del INEC para 2020)\n"
              "  preferences      preferencias de reunión\n"
              "  party-kinds      tipos de participante en la rueda\n"
              "  scopes           ámbitos territoriales de una oferta\n"
              "\n"
              "Opciones:\n"
              "  --format FORMATO  text (por omisión): tabla legible; csv: UTF-8 con BOM,\n"
              "                    separador «;» y fila de encabezado; json: un arreglo de\n"
              "                    objetos con las mismas claves\n"
              "  --json            igual que --format json\n"
              "\n"
              "Columnas de csv y json: code;label, salvo provinces (code;name;region) y\n"
              "cantons (code;name;province;region;population). En ellas la provincia y la\n"
              "región van como códigos («01», «sierra»).\n"
              "\n"
              "Ejemplos:\n"
              "  minga codes cantons\n"
              "  minga codes dac --format csv > sectores.csv\n"
              "\n"
              "Estado de salida: 0 éxito, 2 error de uso (p. ej. un TIPO desconocido).\n")
