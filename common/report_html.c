/*
 * report_html.c: informe.html, the event report (report.h): one self-contained page in
 * Spanish — inline CSS, inline SVG charts (svg.h), no script, no image, font or style sheet
 * from anywhere else — so it opens offline, is sent by e-mail as it is, and prints.
 *
 * A Content-Security-Policy that allows nothing but the inline style makes a browser refuse
 * (and report on its console) any request the page would make.
 *
 * Accessibility: one h1, an h2 per section, a table of contents, every chart an <svg
 * role="img"> with a title and a description, and beside each chart a <table> with the same
 * figures (caption, th scope). Print: no navigation, sections kept whole where they fit,
 * tables with their headers repeated.
 */
#include "minga/report_data.h"

#include "minga/codes.h"
#include "minga/error.h"
#include "minga/svg.h"

#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

static const char s_css[] =
    "body{font-family:'DejaVu Sans',system-ui,sans-serif;color:#1a202c;background:#fff;"
    "margin:0 auto;max-width:980px;padding:1.5rem;line-height:1.45}"
    "h1{font-size:1.7rem;margin:.2rem 0 .5rem}h2{font-size:1.3rem;margin-top:2.2rem;"
    "border-bottom:2px solid #2b6cb0;padding-bottom:.2rem}h3{font-size:1.05rem}"
    ".meta{color:#4a5568}dl.kpi{display:grid;grid-template-columns:repeat(auto-fill,"
    "minmax(200px,1fr));gap:.6rem;margin:1rem 0}dl.kpi div{border:1px solid #cbd5e0;"
    "border-radius:6px;padding:.5rem .7rem}dl.kpi dt{font-size:.85rem;color:#4a5568}"
    "dl.kpi dd{margin:0;font-size:1.35rem;font-weight:bold}"
    "nav ol{columns:2;font-size:.95rem}a{color:#2b6cb0}"
    "table{border-collapse:collapse;margin:.8rem 0 1.2rem;font-size:.88rem;width:100%}"
    "caption{text-align:left;font-weight:bold;padding:.3rem 0}"
    "th,td{border:1px solid #cbd5e0;padding:.25rem .5rem;text-align:left;vertical-align:top}"
    "td.n,th.n{text-align:right;font-variant-numeric:tabular-nums}td.c{white-space:nowrap}thead "
    "th{background:#edf2f7}"
    "svg.chart{display:block;margin:.6rem 0;height:auto}"
    "svg .bar{fill:#2b6cb0}svg .lbl,svg .val,svg .axis{font-size:12px;fill:#1a202c;"
    "font-family:'DejaVu Sans',sans-serif}svg .axis{font-size:11px;fill:#4a5568}"
    "svg .grid{stroke:#e2e8f0;stroke-width:1}svg .base{stroke:#4a5568;stroke-width:1}"
    "p.note{font-size:.9rem;color:#4a5568}"
    "@media print{body{max-width:none;padding:0;font-size:10pt}nav{display:none}"
    "svg.chart,dl.kpi{break-inside:avoid}"
    "h2{break-after:avoid}table{break-inside:auto}thead{display:table-header-group}"
    "tr{break-inside:avoid}svg .bar{fill:#2b6cb0;print-color-adjust:exact;"
    "-webkit-print-color-adjust:exact}@page{size:A4;margin:15mm}}";

static void s_put(FILE *out, const char *text)
{
    minga_xml_put(out, text);
}

static const char *s_num(char *buf, size_t cap, double v, unsigned decimals)
{
    return minga_num_es(buf, cap, v, decimals, 1);
}

static void s_pct(FILE *out, size_t part, size_t whole)
{
    char b[32];
    fprintf(out, "%s %%", s_num(b, sizeof b, whole ? 100.0 * part / whole : 0, 1));
}

/* A section's opening: id, heading, a sentence. */
static void s_section(FILE *out, const char *id, const char *title, const char *intro)
{
    fprintf(out, "<section id=\"%s\" aria-labelledby=\"h-%s\">\n<h2 id=\"h-%s\">", id, id, id);
    s_put(out, title);
    fputs("</h2>\n", out);
    if (intro) {
        fputs("<p>", out);
        s_put(out, intro);
        fputs("</p>\n", out);
    }
}

/* A count table: caption, the label's header, rows with count and share of total. */
static void s_count_table(FILE *out, const char *caption, const char *what,
                          const minga_report_count_t *c, size_t n, size_t total, bool code,
                          bool skip_zero)
{
    fputs("<table><caption>", out);
    s_put(out, caption);
    fputs("</caption>\n<thead><tr>", out);
    if (code)
        fputs("<th scope=\"col\">Código</th>", out);
    fputs("<th scope=\"col\">", out);
    s_put(out, what);
    fputs("</th><th scope=\"col\" class=\"n\">Reuniones</th><th scope=\"col\" class=\"n\">% "
          "del total</th></tr></thead>\n<tbody>\n",
          out);
    for (size_t i = 0; i < n; i++) {
        if (skip_zero && c[i].count == 0)
            continue;
        fputs("<tr>", out);
        if (code) {
            fputs("<td>", out);
            s_put(out, c[i].code);
            fputs("</td>", out);
        }
        fputs("<th scope=\"row\">", out);
        s_put(out, c[i].label);
        fprintf(out, "</th><td class=\"n\">%zu</td><td class=\"n\">", c[i].count);
        s_pct(out, c[i].count, total);
        fputs("</td></tr>\n", out);
    }
    fprintf(out,
            "</tbody>\n<tfoot><tr><th scope=\"row\"%s>Total</th><td class=\"n\">%zu</td>"
            "<td class=\"n\">100,0 %%</td></tr></tfoot></table>\n",
            code ? " colspan=\"2\"" : "", total);
}

/* A bar chart of c (labels "code) label" for the competencies). */
static int s_bars(FILE *out, const minga_report_count_t *c, size_t n, const char *title,
                  bool prefix_code, bool skip_zero)
{
    minga_svg_item_t *items = calloc(n ? n : 1, sizeof *items);
    char(*labels)[160] = calloc(n ? n : 1, sizeof *labels);
    if (!items || !labels) {
        free(items);
        free(labels);
        return MINGA_ENOMEM;
    }
    size_t k = 0;
    for (size_t i = 0; i < n; i++) {
        if (skip_zero && c[i].count == 0)
            continue;
        if (prefix_code)
            snprintf(labels[k], sizeof labels[k], "%s) %s", c[i].code, c[i].label);
        else
            snprintf(labels[k], sizeof labels[k], "%s", c[i].label);
        items[k].label = labels[k];
        items[k].value = (double)c[i].count;
        k++;
    }
    minga_svg_opts_t o = {.title = title, .width = 900};
    int rc = minga_svg_hbars(out, items, k, &o);
    free(items);
    free(labels);
    return rc;
}

static int s_cmp_count_desc(const void *a, const void *b)
{
    const minga_report_count_t *x = a, *y = b;
    if (x->count != y->count)
        return x->count > y->count ? -1 : 1;
    return strcmp(x->code, y->code);
}

static void s_head(FILE *out, const minga_report_data_t *d, const minga_report_figures_t *f)
{
    const minga_event_t *e = d->event;
    char a[32], b[32], when[64];
    time_t now = (time_t)(d->snapshot_ms / 1000);
    struct tm tm;
    time_t local = now - 5 * 3600; /* America/Guayaquil: UTC-5 all year, no daylight time */
    gmtime_r(&local, &tm);
    strftime(when, sizeof when, "%d/%m/%Y %H:%M", &tm);
    fputs("<!DOCTYPE html>\n<html lang=\"es\">\n<head>\n<meta charset=\"utf-8\">\n"
          "<meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">\n"
          "<meta http-equiv=\"Content-Security-Policy\" content=\"default-src 'none'; "
          "style-src 'unsafe-inline'\">\n<title>",
          out);
    s_put(out, "Informe de la rueda — ");
    s_put(out, e->name ? e->name : d->event_id);
    fprintf(out, "</title>\n<style>%s</style>\n</head>\n<body>\n<header>\n<h1>", s_css);
    s_put(out, e->name ? e->name : d->event_id);
    fputs("</h1>\n<p class=\"meta\">Informe de la rueda de negocios · ", out);
    s_put(out, e->venue ? e->venue : "");
    fprintf(out, " · del %s al %s · evento <code>",
            minga_report_date_es(e->date_start, a, sizeof a),
            minga_report_date_es(e->date_end, b, sizeof b));
    s_put(out, d->event_id);
    fprintf(out, "</code> · datos del %s (hora de Ecuador continental)</p>\n</header>\n", when);
    size_t gads_met = f->ngads - f->gads_without;
    char g[32], k[7][32];
    fprintf(out,
            "<dl class=\"kpi\">\n<div><dt>Reuniones</dt><dd>%s</dd></div>\n"
            "<div><dt>Participantes</dt><dd>%s</dd></div>\n"
            "<div><dt>GAD con al menos una reunión</dt><dd>%s de %s</dd></div>\n"
            "<div><dt>Demandas del evento</dt><dd>%s</dd></div>\n"
            "<div><dt>Candidatos (pares demanda–oferta)</dt><dd>%s</dd></div>\n"
            "<div><dt>Demandas sin oferta (brecha)</dt><dd>%s</dd></div>\n"
            "<div><dt>Coeficiente de Gini de reuniones por GAD</dt><dd>%s</dd></div>\n</dl>\n",
            s_num(k[0], sizeof k[0], (double)f->meetings, 0),
            s_num(k[1], sizeof k[1], (double)d->nparts, 0),
            s_num(k[2], sizeof k[2], (double)gads_met, 0),
            s_num(k[3], sizeof k[3], (double)f->ngads, 0),
            s_num(k[4], sizeof k[4], (double)d->ndemands, 0),
            s_num(k[5], sizeof k[5], (double)d->ncandidates, 0),
            d->scored ? s_num(k[6], sizeof k[6], (double)f->gap.uncovered, 0) : "sin calcular",
            s_num(g, sizeof g, f->gini, 3));
    fputs("<nav aria-label=\"Contenido\"><h2 id=\"contenido\">Contenido</h2><ol>"
          "<li><a href=\"#provincia\">Reuniones por provincia</a></li>"
          "<li><a href=\"#competencia\">Reuniones por competencia COOTAD</a></li>"
          "<li><a href=\"#sector\">Reuniones por sector CAD</a></li>"
          "<li><a href=\"#modalidad\">Reuniones por modalidad</a></li>"
          "<li><a href=\"#por-gad\">Reuniones por GAD</a></li>"
          "<li><a href=\"#mesas\">Uso de mesas por franja</a></li>"
          "<li><a href=\"#brecha\">Brecha de cobertura</a></li>"
          "<li><a href=\"#cooperantes\">Cooperantes con más demandas cubiertas</a></li>"
          "</ol></nav>\n<main>\n",
          out);
}

static int s_provinces(FILE *out, const minga_report_figures_t *f)
{
    s_section(out, "provincia", "Reuniones por provincia",
              "Reuniones de los GAD de cada una de las 24 provincias del Ecuador (según el código "
              "DPA del cantón).");
    int rc = s_bars(out, f->province, MINGA_REPORT_NPROV,
                    "Reuniones por provincia, gráfico de barras", false, false);
    s_count_table(out, "Reuniones por provincia", "Provincia", f->province, MINGA_REPORT_NPROV,
                  f->meetings, true, false);
    fputs("</section>\n", out);
    return rc;
}

static int s_codes_section(FILE *out, const char *id, const char *title, const char *intro,
                           const char *what, minga_report_count_t *c, size_t n, size_t total,
                           bool by_count, bool prefix_code)
{
    s_section(out, id, title, intro);
    if (by_count)
        qsort(c, n, sizeof *c, s_cmp_count_desc);
    char chart[160];
    snprintf(chart, sizeof chart, "%s, gráfico de barras", title);
    int rc = s_bars(out, c, n, chart, prefix_code, by_count);
    s_count_table(out, title, what, c, n, total, true, by_count);
    fputs("</section>\n", out);
    return rc;
}

static int s_per_gad(FILE *out, const minga_report_figures_t *f)
{
    s_section(out, "por-gad", "Reuniones por GAD",
              "Distribución del número de reuniones de cada GAD participante: cuántos GAD "
              "tienen 0, 1, 2… reuniones. Un coeficiente de Gini cercano a 0 indica un reparto "
              "parejo; cercano a 1, concentrado en pocos GAD.");
    char a[32], b[32], c[32], m[32], g[32];
    fprintf(out,
            "<dl class=\"kpi\"><div><dt>Mínimo</dt><dd>%s</dd></div><div><dt>Mediana</dt>"
            "<dd>%s</dd></div><div><dt>Máximo</dt><dd>%s</dd></div><div><dt>Media</dt>"
            "<dd>%s</dd></div><div><dt>Gini</dt><dd>%s</dd></div><div><dt>GAD sin reuniones"
            "</dt><dd>%zu de %zu</dd></div></dl>\n",
            s_num(a, sizeof a, f->min, 0), s_num(b, sizeof b, f->median, 1),
            s_num(c, sizeof c, f->max, 0), s_num(m, sizeof m, f->mean, 2),
            s_num(g, sizeof g, f->gini, 3), f->gads_without, f->ngads);
    size_t n = f->ngads ? f->hist_max + 1 : 0;
    minga_svg_item_t *items = calloc(n ? n : 1, sizeof *items);
    char(*labels)[16] = calloc(n ? n : 1, sizeof *labels);
    if (!items || !labels) {
        free(items);
        free(labels);
        return MINGA_ENOMEM;
    }
    for (size_t k = 0; k < n; k++) {
        snprintf(labels[k], sizeof labels[k], "%zu", k);
        items[k] = (minga_svg_item_t){labels[k], (double)f->hist[k]};
    }
    minga_svg_opts_t o = {.title = "Número de GAD según sus reuniones, histograma",
                          .x_axis = "reuniones del GAD",
                          .y_axis = "GAD"};
    int rc = minga_svg_columns(out, items, n, &o);
    fputs("<table><caption>GAD según su número de reuniones</caption><thead><tr>"
          "<th scope=\"col\" class=\"n\">Reuniones</th><th scope=\"col\" class=\"n\">GAD</th>"
          "<th scope=\"col\" class=\"n\">% de los GAD</th></tr></thead><tbody>\n",
          out);
    for (size_t k = 0; k < n; k++) {
        fprintf(out,
                "<tr><th scope=\"row\" class=\"n\">%zu</th><td class=\"n\">%zu</td>"
                "<td class=\"n\">",
                k, f->hist[k]);
        s_pct(out, f->hist[k], f->ngads);
        fputs("</td></tr>\n", out);
    }
    fprintf(out,
            "</tbody><tfoot><tr><th scope=\"row\">Total</th><td class=\"n\">%zu</td>"
            "<td class=\"n\">100,0 %%</td></tr></tfoot></table>\n</section>\n",
            f->ngads);
    free(items);
    free(labels);
    return rc;
}

static int s_tables(FILE *out, const minga_report_data_t *d, const minga_report_figures_t *f)
{
    char intro[256];
    snprintf(intro, sizeof intro,
             "Reuniones en cada franja horaria y porcentaje de las %u mesas del local que "
             "ocupan.",
             f->ntables);
    s_section(out, "mesas", "Uso de mesas por franja", intro);
    size_t n = f->nslots;
    minga_svg_item_t *items = calloc(n ? n : 1, sizeof *items);
    char(*labels)[16] = calloc(n ? n : 1, sizeof *labels);
    if (!items || !labels) {
        free(items);
        free(labels);
        return MINGA_ENOMEM;
    }
    for (size_t s = 0; s < n; s++) {
        snprintf(labels[s], sizeof labels[s], "%zu", s + 1);
        items[s] =
            (minga_svg_item_t){labels[s], f->ntables ? 100.0 * f->per_slot[s] / f->ntables : 0};
    }
    minga_svg_opts_t o = {.title = "Porcentaje de mesas ocupadas por franja, gráfico de columnas",
                          .decimals = 0,
                          .suffix = " %",
                          .x_axis = "franja",
                          .y_axis = "% de mesas ocupadas"};
    int rc = minga_svg_columns(out, items, n, &o);
    fputs("<table><caption>Uso de mesas por franja</caption><thead><tr><th scope=\"col\" "
          "class=\"n\">Franja</th><th scope=\"col\">Fecha</th><th scope=\"col\">Hora</th>"
          "<th scope=\"col\" class=\"n\">Reuniones</th><th scope=\"col\" class=\"n\">% de mesas"
          "</th></tr></thead><tbody>\n",
          out);
    size_t total = 0;
    for (size_t s = 0; s < n; s++) {
        char date[16] = "", hhmm[8] = "";
        minga_report_slot_time(d->event, (unsigned)s + 1, date, sizeof date, hhmm, sizeof hhmm);
        fprintf(out,
                "<tr><th scope=\"row\" class=\"n\">%zu</th><td>%s</td><td>%s</td>"
                "<td class=\"n\">%zu</td><td class=\"n\">",
                s + 1, date, hhmm, f->per_slot[s]);
        s_pct(out, f->per_slot[s], f->ntables);
        fputs("</td></tr>\n", out);
        total += f->per_slot[s];
    }
    fprintf(out,
            "</tbody><tfoot><tr><th scope=\"row\" colspan=\"3\">Total</th>"
            "<td class=\"n\">%zu</td><td class=\"n\">",
            total);
    s_pct(out, total, (size_t)f->ntables * n);
    fputs("</td></tr></tfoot></table>\n</section>\n", out);
    free(items);
    free(labels);
    return rc;
}

/* The cantons of the uncovered demands of competency c and province p, each once. */
static void s_cantons(FILE *out, const minga_report_data_t *d, const minga_report_gap_t *g,
                      size_t c, size_t p)
{
    const char *seen[64];
    size_t nseen = 0;
    for (size_t k = 0; k < g->uncovered; k++) {
        const minga_demand_t *dm = d->demands[g->list[k]];
        if (minga_report_comp_index(dm->competency) != (int)c ||
            minga_report_prov_index(dm->gad) != (int)p)
            continue;
        bool dup = false;
        for (size_t i = 0; i < nseen && !dup; i++)
            dup = strcmp(seen[i], dm->gad) == 0;
        if (dup)
            continue;
        if (nseen == sizeof seen / sizeof seen[0]) {
            fputs(", …", out);
            return;
        }
        if (nseen)
            fputs(", ", out);
        s_put(out, minga_report_party_name(d, dm->gad));
        seen[nseen++] = dm->gad;
    }
}

static int s_gap(FILE *out, const minga_report_data_t *d, const minga_report_figures_t *f)
{
    const minga_report_gap_t *g = &f->gap;
    char amount[48];
    s_section(out, "brecha", "Brecha de cobertura", NULL);
    if (!d->scored) {
        fputs("<p><strong>El evento todavía no tiene candidatos calculados</strong> (minga rueda "
              "score): no se sabe aún qué demandas quedan sin oferta. Vuelva a generar este "
              "informe después de puntuar la rueda.</p>\n</section>\n",
              out);
        return 0;
    }
    fprintf(out,
            "<p>Demandas de los GAD para las que <strong>ninguna oferta pasó los filtros</strong> "
            "(territorio, vigencia, modalidad, monto, preferencias): <strong>%zu de %zu</strong> "
            "demandas, por un total de USD %s. Es la lista que la AME lleva a los cooperantes. "
            "El detalle, demanda por demanda, está en <a href=\"brecha.csv\">brecha.csv</a>.</p>\n",
            g->uncovered, g->demands, s_num(amount, sizeof amount, (double)g->amount, 0));
    minga_report_count_t comp[MINGA_REPORT_NCOMP], prov[MINGA_REPORT_NPROV];
    size_t nc;
    const minga_code_t *cc = minga_codes(MINGA_CL_COMPETENCY, &nc);
    for (size_t i = 0; i < MINGA_REPORT_NCOMP; i++)
        comp[i] = (minga_report_count_t){i < nc ? cc[i].code : "", i < nc ? cc[i].label : "",
                                         g->by_comp[i], 0};
    for (size_t i = 0; i < MINGA_REPORT_NPROV; i++)
        prov[i] =
            (minga_report_count_t){f->province[i].code, f->province[i].label, g->by_prov[i], 0};
    fputs("<h3 id=\"brecha-competencia\">Demandas sin oferta por competencia COOTAD</h3>\n", out);
    int rc = s_bars(out, comp, MINGA_REPORT_NCOMP,
                    "Demandas sin oferta por competencia COOTAD, gráfico de barras", true, false);
    fputs("<table><caption>Demandas sin oferta por competencia COOTAD</caption><thead><tr>"
          "<th scope=\"col\">Código</th><th scope=\"col\">Competencia</th><th scope=\"col\" "
          "class=\"n\">Demandas sin oferta</th></tr></thead><tbody>\n",
          out);
    for (size_t i = 0; i < MINGA_REPORT_NCOMP; i++) {
        fprintf(out, "<tr><td>%s</td><th scope=\"row\">", comp[i].code);
        s_put(out, comp[i].label);
        fprintf(out, "</th><td class=\"n\">%zu</td></tr>\n", comp[i].count);
    }
    fprintf(out,
            "</tbody><tfoot><tr><th scope=\"row\" colspan=\"2\">Total</th>"
            "<td class=\"n\">%zu</td></tr></tfoot></table>\n",
            g->uncovered - g->other);
    fputs("<h3 id=\"brecha-provincia\">Demandas sin oferta por provincia</h3>\n", out);
    if (rc == 0)
        rc = s_bars(out, prov, MINGA_REPORT_NPROV,
                    "Demandas sin oferta por provincia, gráfico de barras", false, false);
    fputs("<h3 id=\"brecha-cruce\">Por competencia y provincia</h3>\n<table><caption>Demandas "
          "sin oferta por competencia y provincia (solo las combinaciones con demandas)"
          "</caption><thead><tr><th scope=\"col\">Competencia</th><th scope=\"col\">Provincia"
          "</th><th scope=\"col\" class=\"n\">Demandas</th><th scope=\"col\">Cantones</th>"
          "</tr></thead><tbody>\n",
          out);
    for (size_t c = 0; c < MINGA_REPORT_NCOMP; c++) {
        size_t rows = 0;
        for (size_t p = 0; p < MINGA_REPORT_NPROV; p++)
            rows += g->cell[c][p] != 0;
        for (size_t p = 0, k = 0; p < MINGA_REPORT_NPROV; p++) {
            if (!g->cell[c][p])
                continue;
            fputs("<tr>", out);
            if (k++ == 0) { /* the competency once, over its provinces */
                fprintf(out, "<th scope=\"rowgroup\" rowspan=\"%zu\">%s) ", rows, comp[c].code);
                s_put(out, comp[c].label);
                fputs("</th>", out);
            }
            fputs("<th scope=\"row\">", out);
            s_put(out, prov[p].label);
            fprintf(out, "</th><td class=\"n\">%zu</td><td>", g->cell[c][p]);
            s_cantons(out, d, g, c, p);
            fputs("</td></tr>\n", out);
        }
    }
    fputs("</tbody></table>\n</section>\n", out);
    return rc;
}

static int s_top(FILE *out, const minga_report_figures_t *f)
{
    s_section(out, "cooperantes", "Cooperantes con más demandas cubiertas",
              "Cooperantes ordenados por el número de demandas distintas de los GAD que tratan en "
              "sus reuniones (los 15 primeros).");
    minga_svg_item_t items[16];
    size_t n = f->ntop < 16 ? f->ntop : 16;
    for (size_t i = 0; i < n; i++)
        items[i] = (minga_svg_item_t){f->top[i].label, (double)f->top[i].count};
    minga_svg_opts_t o = {.title = "Demandas cubiertas por cooperante, gráfico de barras",
                          .width = 900};
    int rc = minga_svg_hbars(out, items, n, &o);
    fputs("<table><caption>Cooperantes con más demandas cubiertas</caption><thead><tr>"
          "<th scope=\"col\" class=\"n\">Puesto</th><th scope=\"col\">Cooperante</th>"
          "<th scope=\"col\">Código</th><th scope=\"col\" class=\"n\">Demandas cubiertas</th>"
          "<th scope=\"col\" class=\"n\">Reuniones</th></tr></thead><tbody>\n",
          out);
    for (size_t i = 0; i < n; i++) {
        fprintf(out, "<tr><td class=\"n\">%zu</td><th scope=\"row\">", i + 1);
        s_put(out, f->top[i].label);
        fputs("</th><td class=\"c\">", out);
        s_put(out, f->top[i].code);
        fprintf(out, "</td><td class=\"n\">%zu</td><td class=\"n\">%.0f</td></tr>\n",
                f->top[i].count, f->top[i].extra);
    }
    fputs("</tbody></table>\n</section>\n", out);
    return rc;
}

int minga_report_write_html(const minga_report_data_t *d, const minga_report_figures_t *f,
                            const char *path)
{
    FILE *out;
    int rc = minga_report_file_open(path, &out);
    if (rc)
        return rc;
    /* the sections sort their own copies of the code counts */
    minga_report_figures_t c = *f;
    minga_report_count_t *comp = malloc((f->ncompetency + 1) * sizeof *comp);
    minga_report_count_t *dac = malloc((f->ndac + 1) * sizeof *dac);
    minga_report_count_t *mod = malloc((f->nmodality + 1) * sizeof *mod);
    if (!comp || !dac || !mod) {
        rc = MINGA_ENOMEM;
        goto done;
    }
    memcpy(comp, f->competency, f->ncompetency * sizeof *comp);
    memcpy(dac, f->dac, f->ndac * sizeof *dac);
    memcpy(mod, f->modality, f->nmodality * sizeof *mod);
    s_head(out, d, f);
    rc = s_provinces(out, &c);
    if (rc == 0)
        rc = s_codes_section(out, "competencia", "Reuniones por competencia COOTAD",
                             "Competencias exclusivas de los GAD municipales (COOTAD, art. 55) de "
                             "la demanda que justifica cada reunión.",
                             "Competencia", comp, f->ncompetency, f->meetings, false, true);
    if (rc == 0)
        rc = s_codes_section(out, "sector", "Reuniones por sector CAD",
                             "Sector CAD de la OCDE (código de propósito de 5 dígitos) de la "
                             "demanda, el primero de su lista; solo los sectores con reuniones.",
                             "Sector", dac, f->ndac, f->meetings, true, false);
    if (rc == 0)
        rc = s_codes_section(out, "modalidad", "Reuniones por modalidad",
                             "Modalidad de cooperación de la oferta que se trata en cada reunión.",
                             "Modalidad", mod, f->nmodality, f->meetings, false, false);
    if (rc == 0)
        rc = s_per_gad(out, f);
    if (rc == 0)
        rc = s_tables(out, d, f);
    if (rc == 0)
        rc = s_gap(out, d, f);
    if (rc == 0)
        rc = s_top(out, f);
    fputs("</main>\n<footer><p class=\"note\">Generado por Minga (rueda de negocios de "
          "cooperación internacional, AME). Los archivos CSV de este evento están en la misma "
          "carpeta: reuniones.csv, candidatos.csv, agendas.csv y brecha.csv.</p></footer>\n"
          "</body>\n</html>\n",
          out);
done:
    free(comp);
    free(dac);
    free(mod);
    return minga_report_file_close(out, path, rc);
}
