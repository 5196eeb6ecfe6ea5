/*
 * cmd_import.c: `minga import KIND FILE` and `minga export KIND` — registry records between
 * files (CSV or JSON) and the store — and `minga changes`, the registry's change log.
 */
#include "cli.h"

#include "minga/error.h"
#include "minga/io.h"
#include "minga/match_store.h"
#include "minga/meeting.h"

#include <errno.h>
#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#define S_KINDS "gads cooperantes offers demands events participants preferences"

static const minga_rtype_t *s_kind(const char *cmd, const char *name)
{
    size_t n;
    const minga_rtype_t *const *all = minga_rtypes(&n);
    for (size_t i = 0; i < n; i++)
        if (strcmp(all[i]->kind, name) == 0)
            return all[i];
    minga_cli_usage(cmd, "unknown kind '%s' (kinds: %s)", name, S_KINDS);
    return NULL;
}

static int s_import(minga_cli_t *cli, int argc, char **argv)
{
    const char *kind = NULL, *file = NULL, *event = NULL, *max = NULL;
    minga_import_opts_t opts = {0};
    for (int i = 1; i < argc; i++) {
        int r;
        if ((r = minga_cli_opt("import", argc, argv, &i, "--event", &event)) ||
            (r = minga_cli_opt("import", argc, argv, &i, "--max-errors", &max))) {
            if (r < 0)
                return MINGA_EXIT_USAGE;
        } else if (strcmp(argv[i], "--dry-run") == 0) {
            opts.dry_run = true;
        } else if (argv[i][0] == '-' && argv[i][1]) {
            return minga_cli_usage("import", "unknown option '%s'", argv[i]);
        } else if (!kind) {
            kind = argv[i];
        } else if (!file) {
            file = argv[i];
        } else {
            return minga_cli_usage("import", "unexpected argument '%s'", argv[i]);
        }
    }
    if (!kind || !file)
        return minga_cli_usage("import", "needs KIND and FILE");
    const minga_rtype_t *t = s_kind("import", kind);
    if (!t)
        return MINGA_EXIT_USAGE;
    if (t->per_event && !event)
        return minga_cli_usage("import", "%s belong to an event: give --event E", kind);
    if (!t->per_event && event)
        return minga_cli_usage("import", "%s do not belong to an event: drop --event", kind);
    if (event && !minga_id_valid(event))
        return minga_cli_usage("import", "'%s' is not a valid event id", event);
    if (max) {
        char *end;
        long m = strtol(max, &end, 10);
        if (*end || m < 1 || m > 100000)
            return minga_cli_usage("import", "--max-errors takes 1..100000, not '%s'", max);
        opts.max_errors = (size_t)m;
    }
    opts.event = event;
    minga_store_t *store;
    if (minga_cli_open_store(cli, 0, &store))
        return MINGA_EXIT_FAIL;
    minga_import_report_t rep;
    int rc = minga_import_file(store, t, file, &opts, &rep);
    minga_store_destroy(&store);
    if (rc == MINGA_EREJECTED) {
        size_t shown = rep.nerrors < (opts.max_errors ? opts.max_errors : 50)
                           ? rep.nerrors
                           : (opts.max_errors ? opts.max_errors : 50);
        for (size_t i = 0; i < shown; i++) {
            const minga_import_error_t *e = &rep.errors[i];
            fprintf(stderr, "%s:%ld:", e->file, e->line);
            if (e->column)
                fprintf(stderr, "%d:", e->column);
            if (e->field[0])
                fprintf(stderr, " field '%s':", e->field);
            fprintf(stderr, " %s\n", e->message);
        }
        if (rep.nerrors > shown)
            fprintf(stderr, "... and %zu more errors\n", rep.nerrors - shown);
        fprintf(stderr,
                "minga import: %s rejected: %zu error(s) in %zu row(s); nothing was imported\n",
                file, rep.nerrors, rep.rows);
        minga_import_report_clear(&rep);
        return MINGA_EXIT_FAIL;
    }
    if (rc) {
        minga_import_report_clear(&rep);
        fprintf(stderr, "minga import: %s: %s; nothing was imported\n", file, minga_strerror(rc));
        return MINGA_EXIT_FAIL;
    }
    if (opts.dry_run)
        printf("%s: %zu filas válidas (prueba: no se importó nada)\n", file, rep.rows);
    else
        printf("%s: %zu filas: %zu nuevas, %zu modificadas, %zu sin cambios\n", file, rep.rows,
               rep.created, rep.updated, rep.unchanged);
    minga_import_report_clear(&rep);
    return MINGA_EXIT_OK;
}

MINGA_COMMAND(import, "import", 30, s_import, "importa registros desde un archivo CSV o JSON",
              "Uso: minga import TIPO ARCHIVO [--event E] [--dry-run] [--max-errors N]\n\n"
              "Importa registros de TIPO (gads, cooperantes, offers, demands, events,\n"
              "participants, preferences) desde ARCHIVO: CSV separado por «;» o «,» (UTF-8, con\n"
              "o sin BOM, campos entre comillas con saltos de línea) o JSON (un arreglo de\n"
              "objetos). Las columnas son las que documenta schemas/RECORDS.md.\n\n"
              "La importación es todo o nada: si una fila es inválida no se escribe nada, y se\n"
              "listan todos los errores (hasta --max-errors, 50 por omisión) con archivo, línea,\n"
              "columna y campo. Los registros que ya existían y cambiaron se actualizan, y cada\n"
              "cambio queda en el registro de cambios («minga changes»).\n\n"
              "  --event E       evento al que pertenecen participants y preferences\n"
              "  --dry-run       solo valida; no escribe nada\n"
              "  --max-errors N  cuántos errores mostrar como máximo\n")

static int s_export(minga_cli_t *cli, int argc, char **argv)
{
    const char *kind = NULL, *event = NULL, *format = "csv", *out = NULL;
    for (int i = 1; i < argc; i++) {
        int r;
        if ((r = minga_cli_opt("export", argc, argv, &i, "--event", &event)) ||
            (r = minga_cli_opt("export", argc, argv, &i, "--format", &format)) ||
            (r = minga_cli_opt("export", argc, argv, &i, "--out", &out))) {
            if (r < 0)
                return MINGA_EXIT_USAGE;
        } else if (argv[i][0] == '-' && argv[i][1]) {
            return minga_cli_usage("export", "unknown option '%s'", argv[i]);
        } else if (!kind) {
            kind = argv[i];
        } else {
            return minga_cli_usage("export", "unexpected argument '%s'", argv[i]);
        }
    }
    if (!kind)
        return minga_cli_usage("export", "needs KIND");
    bool candidates = strcmp(kind, "candidates") == 0; /* match_store.h */
    bool meetings = strcmp(kind, "meetings") == 0;     /* meeting.h */
    const minga_rtype_t *t = candidates || meetings ? NULL : s_kind("export", kind);
    if (!candidates && !meetings && !t)
        return MINGA_EXIT_USAGE;
    if ((candidates || meetings || t->per_event) && !event)
        return minga_cli_usage("export", "%s belong to an event: give --event E", kind);
    minga_format_t fmt;
    if (strcmp(format, "csv") == 0)
        fmt = MINGA_FORMAT_CSV;
    else if (strcmp(format, "json") == 0)
        fmt = MINGA_FORMAT_JSON;
    else
        return minga_cli_usage("export", "--format takes csv or json, not '%s'", format);
    minga_store_t *store;
    if (minga_cli_open_store(cli, MINGA_STORE_RDONLY, &store))
        return MINGA_EXIT_FAIL;
    FILE *f = stdout;
    char tmp[4096] = "";
    if (out) {
        snprintf(tmp, sizeof tmp, "%s.tmp.%d", out, (int)getpid());
        if (!(f = fopen(tmp, "w"))) {
            fprintf(stderr, "minga export: cannot write %s: %s\n", tmp, strerror(errno));
            minga_store_destroy(&store);
            return MINGA_EXIT_FAIL;
        }
    }
    size_t count = 0;
    int rc = candidates ? minga_match_export(store, event, fmt == MINGA_FORMAT_JSON, f, &count)
             : meetings ? minga_meeting_export(store, event, fmt == MINGA_FORMAT_JSON, f, &count)
                        : minga_export(store, t, event, fmt, f, &count);
    minga_store_destroy(&store);
    if (out) {
        if (fclose(f) != 0 && rc == 0)
            rc = -errno;
        if (rc == 0 && rename(tmp, out) != 0)
            rc = -errno;
        if (rc)
            unlink(tmp);
    }
    if (rc) {
        fprintf(stderr, "minga export: %s%s%s: %s\n", kind, out ? " to " : "", out ? out : "",
                minga_strerror(rc));
        return MINGA_EXIT_FAIL;
    }
    if (out)
        fprintf(stderr, "%s: %zu registros exportados\n", out, count);
    return MINGA_EXIT_OK;
}

MINGA_COMMAND(export, "export", 31, s_export, "exporta registros a CSV o JSON",
              "Uso: minga export TIPO [--event E] [--format csv|json] [--out ARCHIVO]\n\n"
              "Escribe los registros de TIPO (gads, cooperantes, offers, demands, events,\n"
              "participants, preferences; candidates y meetings con --event) en la salida\n"
              "estándar o en ARCHIVO: CSV (UTF-8 con\n"
              "BOM, separado por «;», como lo abre Excel en español) o JSON. Lo exportado se\n"
              "vuelve a importar tal cual: exportar, importar y exportar da el mismo archivo.\n\n"
              "  --event E          evento (para participants y preferences)\n"
              "  --format csv|json  formato (csv por omisión)\n"
              "  --out ARCHIVO      escribe en ARCHIVO (de forma atómica) en vez de stdout\n")

typedef struct {
    bool json;
    size_t count;
} s_changes_ctx_t;

static int s_print_change(const minga_change_t *c, void *arg)
{
    s_changes_ctx_t *ctx = arg;
    ctx->count++;
    if (ctx->json) {
        json_t *o =
            json_pack("{s:I, s:s, s:s, s:s, s:s, s:s, s:s, s:s, s:s}", "seq", (json_int_t)c->seq,
                      "at", c->at, "who", c->who, "kind", c->kind, "id", c->id, "field", c->field,
                      "old", c->old_value, "new", c->new_value, "source", c->source);
        char *text = o ? json_dumps(o, JSON_PRESERVE_ORDER | JSON_COMPACT) : NULL;
        if (text)
            printf("%s\n", text);
        free(text);
        json_decref(o);
    } else if (strcmp(c->field, "import") == 0) {
        printf("%s  %s  importación de %s (%s): %s\n", c->at, c->who, c->kind, c->source,
               c->new_value);
    } else {
        printf("%s  %s  %s %s: %s: «%s» → «%s» (%s)\n", c->at, c->who, c->kind, c->id, c->field,
               c->old_value, c->new_value, c->source);
    }
    return 0;
}

static int s_changes(minga_cli_t *cli, int argc, char **argv)
{
    const char *kind = NULL, *id = NULL;
    s_changes_ctx_t ctx = {0};
    for (int i = 1; i < argc; i++) {
        int r;
        if ((r = minga_cli_opt("changes", argc, argv, &i, "--kind", &kind)) ||
            (r = minga_cli_opt("changes", argc, argv, &i, "--id", &id))) {
            if (r < 0)
                return MINGA_EXIT_USAGE;
        } else if (strcmp(argv[i], "--json") == 0) {
            ctx.json = true;
        } else {
            return minga_cli_usage("changes", "unexpected argument '%s'", argv[i]);
        }
    }
    if (kind && !s_kind("changes", kind))
        return MINGA_EXIT_USAGE;
    minga_store_t *store;
    if (minga_cli_open_store(cli, MINGA_STORE_RDONLY, &store))
        return MINGA_EXIT_FAIL;
    int rc = minga_changes_each(store, kind, id, s_print_change, &ctx);
    minga_store_destroy(&store);
    if (rc) {
        fprintf(stderr, "minga changes: store %s: %s\n", cli->store_dir, minga_strerror(rc));
        return MINGA_EXIT_FAIL;
    }
    if (!ctx.json && ctx.count == 0)
        fprintf(stderr, "Sin cambios registrados.\n");
    return MINGA_EXIT_OK;
}

MINGA_COMMAND(changes, "changes", 32, s_changes,
              "registro de cambios del registro (quién, qué, cuándo)",
              "Uso: minga changes [--kind TIPO] [--id ID] [--json]\n\n"
              "Lista los cambios que las importaciones hicieron en registros que ya existían:\n"
              "fecha y hora, quién, tipo, registro, campo, valor anterior y nuevo, y el archivo\n"
              "y la línea de donde vino; y una línea por cada importación que cambió algo.\n"
              "Con --json, un objeto JSON por línea.\n")
