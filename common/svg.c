/*
 * svg.c: inline SVG charts for the HTML report (svg.h), and the text helpers it shares with
 * the report: XML escaping, Spanish numbers, UTF-8 lengths.
 *
 * The charts are plain SVG 1.1 elements with presentation attributes and classes that the
 * report's inline CSS styles (.bar, .lbl, .val, .grid, .axis); nothing is fetched, nothing
 * is scripted. Text widths are estimated (7 px per character at 12 px), which is enough to
 * decide where labels go and when to cut them.
 */
#include "minga/svg.h"

#include <errno.h>
#include <math.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#define S_WIDTH 720u
#define S_ROW 22      /* px per bar of a horizontal chart */
#define S_BAR 14      /* bar thickness */
#define S_CHAR_PX 7.0 /* estimated width of one character at 12 px */
#define S_LABEL_MAX 48

size_t minga_utf8_len(const char *s)
{
    size_t n = 0;
    for (; s && *s; s++)
        n += ((unsigned char)*s & 0xc0) != 0x80;
    return n;
}

void minga_xml_put(FILE *out, const char *text)
{
    for (const char *p = text; p && *p; p++) {
        switch (*p) {
        case '&':
            fputs("&amp;", out);
            break;
        case '<':
            fputs("&lt;", out);
            break;
        case '>':
            fputs("&gt;", out);
            break;
        case '"':
            fputs("&quot;", out);
            break;
        case '\'':
            fputs("&#39;", out);
            break;
        default:
            fputc(*p, out);
        }
    }
}

char *minga_num_es(char *buf, size_t cap, double value, unsigned decimals, int thousands)
{
    char raw[64];
    if (decimals > 6)
        decimals = 6;
    if (!isfinite(value))
        value = 0;
    snprintf(raw, sizeof raw, "%.*f", (int)decimals, value);
    const char *p = raw;
    size_t o = 0;
    if (*p == '-') {
        if (o + 1 < cap)
            buf[o++] = '-';
        p++;
    }
    const char *dot = strchr(p, '.');
    size_t ilen = dot ? (size_t)(dot - p) : strlen(p);
    for (size_t i = 0; i < ilen && o + 1 < cap; i++) {
        if (thousands && i > 0 && (ilen - i) % 3 == 0 && o + 2 < cap)
            buf[o++] = '.';
        buf[o++] = p[i];
    }
    if (dot && o + 1 < cap) {
        buf[o++] = ',';
        for (const char *d = dot + 1; *d && o + 1 < cap; d++)
            buf[o++] = *d;
    }
    if (cap)
        buf[o < cap ? o : cap - 1] = '\0';
    return buf;
}

double minga_svg_step(double max, unsigned ticks)
{
    if (!(max > 0) || ticks == 0)
        return 1;
    double raw = max / ticks, mag = pow(10, floor(log10(raw)));
    double f = raw / mag;
    double nice = f <= 1 ? 1 : f <= 2 ? 2 : f <= 5 ? 5 : 10;
    double step = nice * mag;
    return step < 1 && max >= 1 ? 1 : step;
}

/* Writes label cut to at most max characters, with "…" when cut. */
static void s_put_cut(FILE *out, const char *label, size_t max)
{
    size_t n = minga_utf8_len(label);
    if (n <= max) {
        minga_xml_put(out, label);
        return;
    }
    char buf[256];
    size_t o = 0, chars = 0;
    for (const char *p = label; *p && o + 4 < sizeof buf; p++) {
        if (((unsigned char)*p & 0xc0) != 0x80 && ++chars > max - 1)
            break;
        buf[o++] = *p;
    }
    buf[o] = '\0';
    minga_xml_put(out, buf);
    fputs("…", out);
}

static void s_open(FILE *out, const minga_svg_opts_t *o, unsigned w, unsigned h, const char *kind)
{
    static unsigned s_seq; /* unique ids within one process's page */
    unsigned id = __atomic_add_fetch(&s_seq, 1, __ATOMIC_RELAXED);
    fprintf(out,
            "<svg class=\"chart %s\" viewBox=\"0 0 %u %u\" "
            "width=\"100%%\" style=\"max-width:%upx\" role=\"img\" "
            "aria-labelledby=\"svgt%u svgd%u\"><title id=\"svgt%u\">",
            kind, w, h, w, id, id, id);
    minga_xml_put(out, o && o->title ? o->title : "Gráfico");
    fprintf(out, "</title><desc id=\"svgd%u\">", id);
    minga_xml_put(out, o && o->desc ? o->desc : "Los mismos datos están en la tabla siguiente.");
    fputs("</desc>\n", out);
}

static int s_close(FILE *out)
{
    fputs("</svg>\n", out);
    return ferror(out) ? -EIO : 0;
}

static double s_max(const minga_svg_item_t *items, size_t n)
{
    double m = 0;
    for (size_t i = 0; i < n; i++)
        if (isfinite(items[i].value) && items[i].value > m)
            m = items[i].value;
    return m;
}

static void s_value(FILE *out, double v, const minga_svg_opts_t *o)
{
    char num[64];
    minga_num_es(num, sizeof num, v, o ? o->decimals : 0, 1);
    fputs(num, out);
    if (o && o->suffix)
        minga_xml_put(out, o->suffix);
}

static int s_empty(FILE *out, const minga_svg_opts_t *o, unsigned w)
{
    s_open(out, o, w, 40, "empty");
    fprintf(out, "<text class=\"lbl\" x=\"%u\" y=\"24\" text-anchor=\"middle\">Sin datos</text>\n",
            w / 2);
    return s_close(out);
}

int minga_svg_hbars(FILE *out, const minga_svg_item_t *items, size_t n,
                    const minga_svg_opts_t *opts)
{
    unsigned w = opts && opts->width ? opts->width : S_WIDTH;
    if (n == 0)
        return s_empty(out, opts, w);
    size_t longest = 0;
    for (size_t i = 0; i < n; i++) {
        size_t l = minga_utf8_len(items[i].label);
        longest = l > longest ? l : longest;
    }
    if (longest > S_LABEL_MAX)
        longest = S_LABEL_MAX;
    double label_w = longest * S_CHAR_PX + 12, value_w = 80;
    if (label_w > w * 0.45)
        label_w = w * 0.45;
    double plot = w - label_w - value_w, max = s_max(items, n);
    unsigned h = (unsigned)(n * S_ROW + 12);
    s_open(out, opts, w, h, "hbars");
    for (size_t i = 0; i < n; i++) {
        double v = isfinite(items[i].value) && items[i].value > 0 ? items[i].value : 0;
        double len = max > 0 ? plot * v / max : 0, y = 6 + i * S_ROW;
        fputs("<g><title>", out);
        minga_xml_put(out, items[i].label);
        fputs(": ", out);
        s_value(out, v, opts);
        fprintf(out,
                "</title><text class=\"lbl\" x=\"%.1f\" y=\"%.1f\" text-anchor=\"end\" "
                "dominant-baseline=\"central\">",
                label_w - 6, y + S_ROW / 2.0);
        s_put_cut(out, items[i].label, S_LABEL_MAX);
        fprintf(out,
                "</text><rect class=\"bar\" x=\"%.1f\" y=\"%.1f\" width=\"%.1f\" "
                "height=\"%d\"/>",
                label_w, y + (S_ROW - S_BAR) / 2.0, len, S_BAR);
        fprintf(out, "<text class=\"val\" x=\"%.1f\" y=\"%.1f\" dominant-baseline=\"central\">",
                label_w + len + 4, y + S_ROW / 2.0);
        s_value(out, v, opts);
        fputs("</text></g>\n", out);
    }
    return s_close(out);
}

/* The values' axis of a column chart: gridlines and their labels; returns the axis top. */
static double s_grid(FILE *out, double max, double left, double right, double top, double bottom)
{
    double step = minga_svg_step(max, 5);
    double ceiling = max > 0 ? ceil(max / step) * step : step;
    for (double t = 0; t <= ceiling + step / 2; t += step) {
        double y = bottom - (bottom - top) * t / ceiling;
        char num[64];
        minga_num_es(num, sizeof num, t, step < 1 ? (step < 0.1 ? 2 : 1) : 0, 1);
        fprintf(out,
                "<line class=\"grid\" x1=\"%.1f\" y1=\"%.1f\" x2=\"%.1f\" y2=\"%.1f\"/>"
                "<text class=\"axis\" x=\"%.1f\" y=\"%.1f\" text-anchor=\"end\" "
                "dominant-baseline=\"central\">%s</text>\n",
                left, y, right, y, left - 4, y, num);
    }
    return ceiling;
}

int minga_svg_columns(FILE *out, const minga_svg_item_t *items, size_t n,
                      const minga_svg_opts_t *opts)
{
    unsigned w = opts && opts->width ? opts->width : S_WIDTH, h = 280;
    if (n == 0)
        return s_empty(out, opts, w);
    double left = 56, right = w - 8, top = 14, bottom = h - 44;
    double colw = (right - left) / n, barw = colw * 0.8;
    size_t longest = 1;
    for (size_t i = 0; i < n; i++) {
        size_t l = minga_utf8_len(items[i].label);
        longest = l > longest ? l : longest;
    }
    size_t every = (size_t)ceil((longest * S_CHAR_PX + 6) / colw);
    every = every < 1 ? 1 : every;
    s_open(out, opts, w, h, "columns");
    double ceiling = s_grid(out, s_max(items, n), left, right, top, bottom);
    for (size_t i = 0; i < n; i++) {
        double v = isfinite(items[i].value) && items[i].value > 0 ? items[i].value : 0;
        double bh = (bottom - top) * v / ceiling, x = left + i * colw + (colw - barw) / 2;
        fputs("<g><title>", out);
        minga_xml_put(out, items[i].label);
        fputs(": ", out);
        s_value(out, v, opts);
        fprintf(out,
                "</title><rect class=\"bar\" x=\"%.1f\" y=\"%.1f\" width=\"%.1f\" "
                "height=\"%.1f\"/>",
                x, bottom - bh, barw, bh);
        if (n <= 30 && barw >= 14) {
            fprintf(out, "<text class=\"val\" x=\"%.1f\" y=\"%.1f\" text-anchor=\"middle\">",
                    x + barw / 2, bottom - bh - 3);
            s_value(out, v, opts);
            fputs("</text>", out);
        }
        if (i % every == 0) {
            fprintf(out, "<text class=\"axis\" x=\"%.1f\" y=\"%.1f\" text-anchor=\"middle\">",
                    x + barw / 2, bottom + 14);
            s_put_cut(out, items[i].label, 12);
            fputs("</text>", out);
        }
        fputs("</g>\n", out);
    }
    fprintf(out, "<line class=\"base\" x1=\"%.1f\" y1=\"%.1f\" x2=\"%.1f\" y2=\"%.1f\"/>\n", left,
            bottom, right, bottom);
    if (opts && opts->x_axis) {
        fprintf(out, "<text class=\"axis\" x=\"%.1f\" y=\"%u\" text-anchor=\"middle\">",
                (left + right) / 2, h - 6);
        minga_xml_put(out, opts->x_axis);
        fputs("</text>\n", out);
    }
    if (opts && opts->y_axis) {
        fprintf(out,
                "<text class=\"axis\" transform=\"translate(12 %.1f) rotate(-90)\" "
                "text-anchor=\"middle\">",
                (top + bottom) / 2);
        minga_xml_put(out, opts->y_axis);
        fputs("</text>\n", out);
    }
    return s_close(out);
}
