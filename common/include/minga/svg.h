/*
 * svg.h: the charts of the HTML event report, written as inline SVG by the project (no
 * script, no font or image from outside the file), plus the text helpers the report's HTML
 * shares with them: XML escaping and numbers the Spanish way (decimal comma, thousands
 * point).
 *
 * Every chart is an <svg role="img"> with a <title> (its accessible name) and a <desc> that
 * says what it shows in words; the report puts a table with the same figures beside each
 * chart. Sizes are in CSS pixels through a viewBox, so the chart scales with the page and
 * prints.
 */
#ifndef MINGA_SVG_H
#define MINGA_SVG_H

#include <stddef.h>
#include <stdio.h>

/* One bar: its label (UTF-8, escaped on output) and its value (>= 0). */
typedef struct {
    const char *label;
    double value;
} minga_svg_item_t;

typedef struct {
    const char *title;  /* accessible name: the <title> of the chart */
    const char *desc;   /* a sentence for screen readers, may be NULL */
    unsigned width;     /* width of the viewBox in px; 0 means 720 */
    unsigned decimals;  /* digits after the decimal comma in the value labels */
    const char *suffix; /* written after each value label (" %"), may be NULL */
    const char *x_axis; /* columns: the caption under the axis, may be NULL */
    const char *y_axis; /* columns: the caption of the values' axis, may be NULL */
} minga_svg_opts_t;

/* Writes a horizontal bar chart of the n items, in the given order, one row each, the label
 * on the left (cut with "…" past 48 characters; the full text stays in a <title> of its
 * row), the bar scaled to the largest value and the value at its end. n = 0 writes a chart
 * that says "Sin datos". Returns 0, or -errno of a failed write. */
int minga_svg_hbars(FILE *out, const minga_svg_item_t *items, size_t n,
                    const minga_svg_opts_t *opts);

/* Writes a vertical column chart of the n items (a distribution, a series over slots): the
 * labels under the columns (only every k-th when they would overlap), a values' axis with
 * gridlines at round steps. Returns 0, or -errno of a failed write. */
int minga_svg_columns(FILE *out, const minga_svg_item_t *items, size_t n,
                      const minga_svg_opts_t *opts);

/* Writes text with &, <, >, " and ' escaped for XML/HTML text and attributes; NULL writes
 * nothing. */
void minga_xml_put(FILE *out, const char *text);

/* Formats value with the given decimals the Spanish way: decimal comma and, when thousands
 * is true, a point between groups of three digits ("1.234,50"). Writes at most cap bytes
 * (NUL included) into buf and returns buf. */
char *minga_num_es(char *buf, size_t cap, double value, unsigned decimals, int thousands);

/* The "nice" step of an axis for values up to max with about ticks gridlines (1, 2, 5 times
 * a power of ten); 1 for max <= 0. */
double minga_svg_step(double max, unsigned ticks);

/* Number of characters (code points) of a UTF-8 string. */
size_t minga_utf8_len(const char *s);

#endif
