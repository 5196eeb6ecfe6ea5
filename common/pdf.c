/*
 * pdf.c: the agendas and the venue grid as PDF (pdf.h), cairo for the pages, pango for the
 * text: every piece of text is a PangoLayout of a known width, measured before it is drawn,
 * so that rows are as tall as their wrapped text, pages break between rows, and the count of
 * pages is known before the first one is drawn ("Página N de M").
 *
 * One s_doc_t per file: the PDF surface, its cairo context, one PangoContext and one layout
 * reused for every piece of text (creating a layout per text costs more than drawing it).
 */
#include "minga/pdf.h"

#include "minga/codes.h"
#include "minga/error.h"

#include <cairo-pdf.h>
#include <cairo.h>
#include <errno.h>
#include <fontconfig/fontconfig.h>
#include <pango/pangocairo.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#define S_A4_W 595.28
#define S_A4_H 841.89
#define S_FONT "DejaVu Sans"

typedef struct {
    cairo_surface_t *surface;
    cairo_t *cr;
    PangoContext *ctx;
    PangoLayout *layout;
    double w, h;
    char tmp[4200];
} s_doc_t;

static int s_doc_open(s_doc_t *doc, const char *path, double w, double h, const char *title)
{
    memset(doc, 0, sizeof *doc);
    doc->w = w;
    doc->h = h;
    int rc = minga_report_tmp_path(path, doc->tmp, sizeof doc->tmp);
    if (rc)
        return rc;
    doc->surface = cairo_pdf_surface_create(doc->tmp, w, h);
    if (cairo_surface_status(doc->surface) != CAIRO_STATUS_SUCCESS) {
        int e = errno ? errno : EIO;
        cairo_surface_destroy(doc->surface);
        doc->surface = NULL;
        return -e;
    }
    cairo_pdf_surface_set_metadata(doc->surface, CAIRO_PDF_METADATA_TITLE, title);
    cairo_pdf_surface_set_metadata(doc->surface, CAIRO_PDF_METADATA_CREATOR, "Minga");
    doc->cr = cairo_create(doc->surface);
    doc->ctx = pango_cairo_create_context(doc->cr);
    doc->layout = pango_layout_new(doc->ctx);
    pango_layout_set_wrap(doc->layout, PANGO_WRAP_WORD_CHAR);
    return 0;
}

/* Finishes the file and renames it into place; on failure removes it. */
static int s_doc_close(s_doc_t *doc, const char *path, int rc)
{
    if (doc->layout)
        g_object_unref(doc->layout);
    if (doc->ctx)
        g_object_unref(doc->ctx);
    if (doc->cr)
        cairo_destroy(doc->cr);
    if (doc->surface) {
        cairo_surface_finish(doc->surface);
        if (rc == 0 && cairo_surface_status(doc->surface) != CAIRO_STATUS_SUCCESS)
            rc = MINGA_EIO;
        cairo_surface_destroy(doc->surface);
    }
    if (rc == 0 && rename(doc->tmp, path) != 0)
        rc = -errno;
    if (rc)
        unlink(doc->tmp);
    return rc;
}

/* Sets the layout to text (markup when markup is true) in font at size pt, width px (0: no
 * wrapping), one line cut with "…" when ellipsize; returns its height. */
static double s_set_layout(PangoLayout *l, const char *text, bool markup, double pt, bool bold,
                           double width, bool ellipsize)
{
    PangoFontDescription *fd = pango_font_description_new();
    pango_font_description_set_family(fd, S_FONT);
    pango_font_description_set_absolute_size(fd, pt * PANGO_SCALE);
    pango_font_description_set_weight(fd, bold ? PANGO_WEIGHT_BOLD : PANGO_WEIGHT_NORMAL);
    pango_layout_set_font_description(l, fd);
    pango_font_description_free(fd);
    pango_layout_set_width(l, width > 0 ? (int)(width * PANGO_SCALE) : -1);
    pango_layout_set_ellipsize(l, ellipsize ? PANGO_ELLIPSIZE_END : PANGO_ELLIPSIZE_NONE);
    pango_layout_set_height(l, -1);
    if (markup)
        pango_layout_set_markup(l, text, -1);
    else {
        pango_layout_set_attributes(l, NULL); /* markup's attributes would stay */
        pango_layout_set_text(l, text, -1);
    }
    int w, h;
    pango_layout_get_size(l, &w, &h);
    return (double)h / PANGO_SCALE;
}

static double s_set(s_doc_t *doc, const char *text, bool markup, double pt, bool bold, double width,
                    bool ellipsize)
{
    return s_set_layout(doc->layout, text, markup, pt, bold, width, ellipsize);
}

static void s_draw(s_doc_t *doc, double x, double y)
{
    cairo_move_to(doc->cr, x, y);
    pango_cairo_show_layout(doc->cr, doc->layout);
}

/* Sets, draws, and returns the height. */
static double s_text(s_doc_t *doc, double x, double y, double width, double pt, bool bold,
                     const char *text)
{
    double h = s_set(doc, text, false, pt, bold, width, false);
    s_draw(doc, x, y);
    return h;
}

static void s_rgb(cairo_t *cr, unsigned rgb)
{
    cairo_set_source_rgb(cr, (rgb >> 16 & 255) / 255.0, (rgb >> 8 & 255) / 255.0,
                         (rgb & 255) / 255.0);
}

static void s_rect(s_doc_t *doc, double x, double y, double w, double h, unsigned fill,
                   unsigned stroke)
{
    cairo_rectangle(doc->cr, x, y, w, h);
    if (fill != 0xffffffu) {
        s_rgb(doc->cr, fill);
        cairo_fill_preserve(doc->cr);
    }
    s_rgb(doc->cr, stroke);
    cairo_set_line_width(doc->cr, 0.5);
    cairo_stroke(doc->cr);
    s_rgb(doc->cr, 0x1a202c);
}

/* g_markup_printf_escaped into a fixed buffer. */
static const char *s_markup(char *buf, size_t cap, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

static const char *s_markup(char *buf, size_t cap, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    char *m = g_markup_vprintf_escaped(fmt, ap);
    va_end(ap);
    snprintf(buf, cap, "%s", m ? m : "");
    g_free(m);
    return buf;
}

/* ---- the agenda ---- */

#define S_MARGIN 42.0
#define S_PAD 4.0

static const struct {
    const char *title;
    double width;
} s_cols[] = {{"Hora", 78}, {"Mesa", 38}, {"Contraparte", 150}, {"Tema y motivos", 0}};
#define S_NCOLS 4

typedef struct {
    const minga_report_data_t *d;
    const minga_participant_t *part;
    bool gad;
    const char *name;
    const minga_report_meeting_t **rows; /* its meetings in time order, then its cancelled */
    size_t n, nrows;                     /* meetings standing; rows in all */
    double colw[S_NCOLS];
    char (*cells)[S_NCOLS][2048]; /* markup of each cell, per meeting */
    PangoLayout *(*lay)[S_NCOLS]; /* each cell laid out once: measured, then drawn */
    double *heights;              /* per meeting row */
} s_agenda_t;

static void s_agenda_cells(s_agenda_t *a, size_t k)
{
    const minga_report_data_t *d = a->d;
    const minga_report_meeting_t *m = a->rows[k];
    const char *other = a->gad ? m->cooperante : m->gad;
    char(*c)[2048] = a->cells[k];
    s_markup(c[0], sizeof c[0], "%s\n<b>%s–%s</b>", m->date, m->hhmm, m->end_hhmm);
    snprintf(c[1], sizeof c[1], "<b>%u</b>", m->table);
    if (a->gad) {
        const minga_cooperante_t *co = minga_report_coop(d, other);
        const minga_code_t *kind = co && co->kind ? minga_code_find(MINGA_CL_KIND, co->kind) : NULL;
        s_markup(c[2], sizeof c[2], "<b>%s</b>\n%s%s%s", minga_report_party_name(d, other),
                 kind ? kind->label : "cooperante", co && co->country ? " · " : "",
                 co && co->country ? co->country : "");
    } else {
        char code[3] = {other[0], other[0] ? other[1] : 0, 0};
        const minga_province_t *p = minga_province_find(code);
        s_markup(c[2], sizeof c[2], "<b>GAD de %s</b>\nProvincia: %s · DPA %s",
                 minga_report_party_name(d, other), p ? p->name : "", other);
    }
    const minga_demand_t *dm = minga_report_demand(d, m->demand);
    const minga_offer_t *of = minga_report_offer(d, m->offer);
    char reasons[1536];
    minga_report_reasons(m, "; ", reasons, sizeof reasons);
    const char *status = minga_report_status_es(m->status);
    bool plain = strcmp(status, "programada") == 0;
    s_markup(c[3], sizeof c[3], "<b>Demanda:</b> %s\n<b>Oferta:</b> %s%s<i>%s</i>%s%s",
             dm && dm->title ? dm->title : m->demand, of && of->title ? of->title : m->offer,
             *reasons ? "\nPor qué: " : "", reasons,
             plain ? "" : "\nEstado: ", plain ? "" : status);
}

/* Measures every row; returns the number of pages. */
static unsigned s_agenda_measure(s_doc_t *doc, s_agenda_t *a, double first_top, double top,
                                 double bottom, double head_h)
{
    unsigned pages = 1;
    double y = first_top + head_h;
    for (size_t k = 0; k < a->nrows; k++) {
        double h = 0;
        for (int c = 0; c < S_NCOLS; c++) {
            a->lay[k][c] = pango_layout_new(doc->ctx);
            pango_layout_set_wrap(a->lay[k][c], PANGO_WRAP_WORD_CHAR);
            double t = s_set_layout(a->lay[k][c], a->cells[k][c], true, 8.5, false,
                                    a->colw[c] - 2 * S_PAD, false);
            h = t > h ? t : h;
        }
        a->heights[k] = h + 2 * S_PAD;
        if (y + a->heights[k] > bottom) {
            pages++;
            y = top + head_h;
        }
        y += a->heights[k];
    }
    return pages;
}

static double s_table_head(s_doc_t *doc, const s_agenda_t *a, double y)
{
    double x = S_MARGIN, h = 18;
    for (int c = 0; c < S_NCOLS; c++) {
        s_rect(doc, x, y, a->colw[c], h, 0xe2e8f0, 0x718096);
        s_text(doc, x + S_PAD, y + 3, a->colw[c] - 2 * S_PAD, 9, true, s_cols[c].title);
        x += a->colw[c];
    }
    return h;
}

static void s_footer(s_doc_t *doc, const char *left, unsigned page, unsigned pages)
{
    char buf[512];
    s_set(doc, left, false, 7.5, false, doc->w / 2, true);
    s_draw(doc, S_MARGIN, doc->h - 28);
    snprintf(buf, sizeof buf, "Página %u de %u", page, pages);
    double w = doc->w - 2 * S_MARGIN;
    s_set(doc, buf, false, 7.5, false, w, false);
    pango_layout_set_alignment(doc->layout, PANGO_ALIGN_RIGHT);
    s_draw(doc, S_MARGIN, doc->h - 28);
    pango_layout_set_alignment(doc->layout, PANGO_ALIGN_LEFT);
}

/* The agenda's header block; returns its bottom. */
static double s_agenda_header(s_doc_t *doc, const s_agenda_t *a)
{
    const minga_report_data_t *d = a->d;
    const minga_event_t *e = d->event;
    double x = S_MARGIN, y = S_MARGIN, w = doc->w - 2 * S_MARGIN;
    char buf[2048], d1[16], d2[16];
    y += s_text(doc, x, y, w, 9, false, e->name ? e->name : d->event_id) + 2;
    snprintf(buf, sizeof buf, "%s · del %s al %s", e->venue ? e->venue : "",
             minga_report_date_es(e->date_start, d1, sizeof d1),
             minga_report_date_es(e->date_end, d2, sizeof d2));
    y += s_text(doc, x, y, w, 9, false, buf) + 10;
    y += s_text(doc, x, y, w, 18, true, "Agenda de reuniones") + 4;
    if (a->gad) {
        char code[3] = {a->part->party[0], a->part->party[1], 0};
        const minga_province_t *p = minga_province_find(code);
        snprintf(buf, sizeof buf, "GAD Municipal de %s", a->name);
        y += s_text(doc, x, y, w, 13, true, buf) + 2;
        snprintf(buf, sizeof buf, "Código DPA %s · Provincia: %s", a->part->party,
                 p ? p->name : "");
    } else {
        const minga_cooperante_t *co = minga_report_coop(d, a->part->party);
        const minga_code_t *kind = co && co->kind ? minga_code_find(MINGA_CL_KIND, co->kind) : NULL;
        y += s_text(doc, x, y, w, 13, true, a->name) + 2;
        snprintf(buf, sizeof buf, "Cooperante %s · %s%s%s · %llu mesa%s", a->part->party,
                 kind ? kind->label : "", co && co->country ? " · " : "",
                 co && co->country ? co->country : "", (unsigned long long)a->part->tables,
                 a->part->tables == 1 ? "" : "s");
    }
    y += s_text(doc, x, y, w, 9.5, false, buf) + 2;
    if (a->part->email) {
        snprintf(buf, sizeof buf, "Correo: %s", a->part->email);
        y += s_text(doc, x, y, w, 9.5, false, buf) + 2;
    }
    if (a->n)
        snprintf(buf, sizeof buf,
                 "%zu reunion%s. Llegue a su mesa unos minutos antes de cada "
                 "hora; cada reunión dura %llu minutos.",
                 a->n, a->n == 1 ? "" : "es", (unsigned long long)e->slot_minutes);
    else
        snprintf(buf, sizeof buf, "%s", "");
    if (a->n)
        y += s_text(doc, x, y + 6, w, 9.5, false, buf) + 6;
    return y + 10;
}

/* The box that says there is no meeting; returns its height. */
static double s_no_meetings(s_doc_t *doc, double y)
{
    double w = doc->w - 2 * S_MARGIN;
    double h = s_set(doc,
                     "<b>No tiene reuniones asignadas en esta rueda.</b>\nSi desea reunirse con "
                     "algún participante, acérquese a la mesa de coordinación de la AME durante "
                     "la Jornada.",
                     true, 11, false, w - 24, false);
    s_rect(doc, S_MARGIN, y, w, h + 24, 0xf7fafc, 0x718096); /* the layout stays as it is */
    s_draw(doc, S_MARGIN + 12, y + 12);
    return h + 24 + 14;
}

/* The header and, for a participant with no meeting, the box that says so; returns where the
 * table begins. */
static double s_agenda_top(s_doc_t *doc, const s_agenda_t *a)
{
    double y = s_agenda_header(doc, a);
    return a->n == 0 ? y + s_no_meetings(doc, y) : y;
}

static void s_agenda_draw(s_doc_t *doc, s_agenda_t *a, unsigned pages)
{
    char foot[512];
    snprintf(foot, sizeof foot, "%s · agenda de %s", a->d->event->name ? a->d->event->name : "",
             a->name);
    double bottom = doc->h - 48, y = s_agenda_top(doc, a);
    unsigned page = 1;
    if (a->nrows)
        y += s_table_head(doc, a, y);
    for (size_t k = 0; k < a->nrows; k++) {
        if (y + a->heights[k] > bottom) {
            s_footer(doc, foot, page++, pages);
            cairo_show_page(doc->cr);
            y = S_MARGIN;
            y += s_table_head(doc, a, y);
        }
        double x = S_MARGIN;
        unsigned fill = k >= a->n ? 0xedf2f7 : k % 2 ? 0xf7fafc : 0xffffff;
        for (int c = 0; c < S_NCOLS; c++) {
            s_rect(doc, x, y, a->colw[c], a->heights[k], fill, 0xa0aec0);
            cairo_move_to(doc->cr, x + S_PAD, y + S_PAD);
            pango_cairo_show_layout(doc->cr, a->lay[k][c]);
            x += a->colw[c];
        }
        y += a->heights[k];
    }
    s_footer(doc, foot, page, pages);
    cairo_show_page(doc->cr);
}

/* The rows of the agenda: the party's meetings, then its cancelled ones. NULL on ENOMEM. */
static const minga_report_meeting_t **s_rows(const minga_report_data_t *d, const char *party,
                                             size_t *n, size_t *nrows)
{
    const size_t *ix;
    *n = minga_report_party_meetings(d, party, &ix);
    const minga_report_meeting_t **rows = calloc(*n + d->ncancelled + 1, sizeof *rows);
    if (!rows)
        return NULL;
    for (size_t k = 0; k < *n; k++)
        rows[k] = &d->meetings[ix[k]];
    *nrows = *n;
    for (size_t k = 0; k < d->ncancelled; k++)
        if (strcmp(d->cancelled[k].gad, party) == 0 ||
            strcmp(d->cancelled[k].cooperante, party) == 0)
            rows[(*nrows)++] = &d->cancelled[k];
    return rows;
}

int minga_pdf_agenda(const minga_report_data_t *d, size_t p, const char *path)
{
    if (p >= d->nparts)
        return MINGA_EINVAL;
    s_agenda_t a = {.d = d, .part = d->parts[p]};
    a.gad = a.part->kind && strcmp(a.part->kind, "gad") == 0;
    a.name = minga_report_party_name(d, a.part->party);
    a.rows = s_rows(d, a.part->party, &a.n, &a.nrows);
    a.cells = calloc(a.nrows ? a.nrows : 1, sizeof *a.cells);
    a.heights = calloc(a.nrows ? a.nrows : 1, sizeof *a.heights);
    a.lay = calloc(a.nrows ? a.nrows : 1, sizeof *a.lay);
    char title[512];
    snprintf(title, sizeof title, "Agenda de %s — %s", a.name,
             d->event->name ? d->event->name : d->event_id);
    s_doc_t doc;
    int rc = a.rows && a.cells && a.heights ? s_doc_open(&doc, path, S_A4_W, S_A4_H, title)
                                            : MINGA_ENOMEM;
    if (rc) {
        free(a.rows);
        free(a.cells);
        free(a.heights);
        return rc;
    }
    double fixed = 0;
    for (int c = 0; c < S_NCOLS; c++)
        fixed += s_cols[c].width;
    for (int c = 0; c < S_NCOLS; c++)
        a.colw[c] = s_cols[c].width ? s_cols[c].width : doc.w - 2 * S_MARGIN - fixed;
    for (size_t k = 0; k < a.nrows; k++)
        s_agenda_cells(&a, k);
    /* the header's height, measured by drawing it on a scratch page that is never shown */
    cairo_push_group(doc.cr);
    double first_top = s_agenda_top(&doc, &a);
    cairo_pattern_destroy(cairo_pop_group(doc.cr));
    unsigned pages = s_agenda_measure(&doc, &a, first_top, S_MARGIN, doc.h - 48, 18);
    s_agenda_draw(&doc, &a, pages);
    for (size_t k = 0; k < a.nrows; k++)
        for (int c = 0; c < S_NCOLS; c++)
            if (a.lay[k][c])
                g_object_unref(a.lay[k][c]);
    free(a.lay);
    free(a.rows);
    free(a.cells);
    free(a.heights);
    return s_doc_close(&doc, path, 0);
}

/* ---- the venue grid ---- */

#define S_GRID_TABLES 10 /* tables across a page */
#define S_GRID_SLOTS 24  /* slots down a page, at most */

typedef struct {
    unsigned slot0, nslots; /* first slot (from 1) and how many on this page */
    unsigned table0, ntables;
} s_page_t;

/* The meeting at (slot, table), from the key-ordered list, or NULL. */
static const minga_report_meeting_t *s_at(const minga_report_data_t *d, unsigned slot,
                                          unsigned table)
{
    size_t lo = 0, hi = d->nmeetings;
    uint32_t want = (uint32_t)slot << 16 | table;
    while (lo < hi) {
        size_t mid = (lo + hi) / 2;
        const minga_report_meeting_t *m = &d->meetings[mid];
        uint32_t key = (uint32_t)m->slot << 16 | m->table;
        if (key == want)
            return m;
        if (key < want)
            lo = mid + 1;
        else
            hi = mid;
    }
    return NULL;
}

/* Slots per day of the event (the grid's pages follow days). */
static unsigned s_per_day(const minga_report_data_t *d, unsigned nslots)
{
    int h1, n1, h2, n2;
    const minga_event_t *e = d->event;
    if (!e->day_start || !e->day_end || !e->slot_minutes ||
        sscanf(e->day_start, "%d:%d", &h1, &n1) != 2 || sscanf(e->day_end, "%d:%d", &h2, &n2) != 2)
        return nslots ? nslots : 1;
    long per = ((h2 * 60 + n2) - (h1 * 60 + n1)) / (long)e->slot_minutes;
    return per > 0 ? (unsigned)per : 1;
}

static void s_grid_page(s_doc_t *doc, const minga_report_data_t *d, const s_page_t *pg,
                        unsigned page, unsigned pages)
{
    double m = 28, x0 = m, top = m, w = doc->w - 2 * m, slotw = 64;
    double cellw = (w - slotw) / S_GRID_TABLES;
    char buf[512], date[16] = "", hhmm[8] = "";
    minga_report_slot_time(d->event, pg->slot0, date, sizeof date, hhmm, sizeof hhmm);
    snprintf(buf, sizeof buf, "Grilla de reuniones — %s",
             d->event->name ? d->event->name : d->event_id);
    top += s_text(doc, x0, top, w, 13, true, buf) + 2;
    snprintf(buf, sizeof buf, "%s · %s · mesas %u a %u · franjas %u a %u",
             d->event->venue ? d->event->venue : "", date, pg->table0, pg->table0 + pg->ntables - 1,
             pg->slot0, pg->slot0 + pg->nslots - 1);
    top += s_text(doc, x0, top, w, 9, false, buf) + 8;
    double bottom = doc->h - 40, headh = 16;
    double rowh = (bottom - top - headh) / (pg->nslots > 12 ? pg->nslots : 12);
    s_rect(doc, x0, top, slotw, headh, 0xe2e8f0, 0x718096);
    s_text(doc, x0 + 3, top + 3, slotw - 6, 8, true, "Franja");
    for (unsigned t = 0; t < pg->ntables; t++) {
        double x = x0 + slotw + t * cellw;
        s_rect(doc, x, top, cellw, headh, 0xe2e8f0, 0x718096);
        snprintf(buf, sizeof buf, "Mesa %u", pg->table0 + t);
        s_set(doc, buf, false, 8, true, cellw - 6, true);
        pango_layout_set_alignment(doc->layout, PANGO_ALIGN_CENTER);
        s_draw(doc, x + 3, top + 3);
        pango_layout_set_alignment(doc->layout, PANGO_ALIGN_LEFT);
    }
    for (unsigned s = 0; s < pg->nslots; s++) {
        unsigned slot = pg->slot0 + s;
        double y = top + headh + s * rowh;
        minga_report_slot_time(d->event, slot, date, sizeof date, hhmm, sizeof hhmm);
        s_rect(doc, x0, y, slotw, rowh, 0xedf2f7, 0x718096);
        snprintf(buf, sizeof buf, "<b>%s</b>  <span size=\"smaller\">(%u)</span>", hhmm, slot);
        s_set(doc, buf, true, 8, false, slotw - 6, true);
        s_draw(doc, x0 + 3, y + 2);
        for (unsigned t = 0; t < pg->ntables; t++) {
            double x = x0 + slotw + t * cellw;
            const minga_report_meeting_t *mt = s_at(d, slot, pg->table0 + t);
            s_rect(doc, x, y, cellw, rowh, mt ? 0xffffff : 0xf7fafc, 0xa0aec0);
            if (!mt)
                continue;
            s_set(doc, minga_report_party_name(d, mt->gad), false, 7, true, cellw - 4, true);
            s_draw(doc, x + 2, y + 1.5);
            s_set(doc, minga_report_party_name(d, mt->cooperante), false, 6.5, false, cellw - 4,
                  true);
            s_draw(doc, x + 2, y + 1.5 + rowh / 2 - 1);
        }
    }
    snprintf(buf, sizeof buf, "En cada mesa: arriba el GAD, abajo el cooperante. %s",
             d->event->name ? d->event->name : "");
    s_footer(doc, buf, page, pages);
    cairo_show_page(doc->cr);
}

/* Slots on the page that begins at slot s: the rest of its day, at most per_page. */
static unsigned s_block(unsigned s, unsigned per_day, unsigned per_page, unsigned nslots)
{
    unsigned day_end = ((s - 1) / per_day + 1) * per_day;
    unsigned n = day_end - s + 1 < per_page ? day_end - s + 1 : per_page;
    return s + n - 1 > nslots ? nslots - s + 1 : n;
}

int minga_pdf_grid(const minga_report_data_t *d, const char *path, unsigned *pages_out)
{
    unsigned nslots = d->nslots, ntables = d->ntables;
    for (size_t i = 0; i < d->nmeetings; i++) {
        nslots = d->meetings[i].slot > nslots ? d->meetings[i].slot : nslots;
        ntables = d->meetings[i].table > ntables ? d->meetings[i].table : ntables;
    }
    nslots = nslots ? nslots : 1;
    ntables = ntables ? ntables : 1;
    unsigned per_day = s_per_day(d, nslots),
             per_page = per_day < S_GRID_SLOTS ? per_day : S_GRID_SLOTS;
    unsigned nblocks = 0;
    for (unsigned s = 1; s <= nslots; s += s_block(s, per_day, per_page, nslots))
        nblocks++;
    unsigned nchunks = (ntables + S_GRID_TABLES - 1) / S_GRID_TABLES;
    unsigned pages = nblocks * nchunks;
    char title[512];
    snprintf(title, sizeof title, "Grilla de reuniones — %s",
             d->event->name ? d->event->name : d->event_id);
    s_doc_t doc;
    int rc = s_doc_open(&doc, path, S_A4_H, S_A4_W, title);
    if (rc)
        return rc;
    unsigned page = 1;
    for (unsigned s = 1; s <= nslots;) {
        unsigned n = s_block(s, per_day, per_page, nslots);
        for (unsigned c = 0; c < nchunks; c++) {
            unsigned t0 = c * S_GRID_TABLES + 1;
            s_page_t pg = {s, n, t0,
                           ntables - t0 + 1 < S_GRID_TABLES ? ntables - t0 + 1 : S_GRID_TABLES};
            s_grid_page(&doc, d, &pg, page++, pages);
        }
        s += n;
    }
    if (pages_out)
        *pages_out = page - 1;
    return s_doc_close(&doc, path, 0);
}

void minga_pdf_release_thread(void)
{
    pango_cairo_font_map_set_default(NULL);
}

void minga_pdf_cleanup(void)
{
    pango_cairo_font_map_set_default(NULL);
    cairo_debug_reset_static_data();
    FcFini();
}
