/*
 * test_svg.c: the report's SVG charts and text helpers (svg.h) — Spanish numbers, axis
 * steps, XML escaping; a bar chart draws one bar per item scaled to the largest, escapes and
 * cuts labels but keeps the full text in a title; a column chart thins its labels; an empty
 * chart says so; every chart is an accessible image (role, title, desc) with nothing that
 * would fetch anything.
 */
#include "minga/svg.h"

#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <cmocka.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* Runs a chart writer into a string (the caller's). */
static char *s_render(int (*fn)(FILE *, const minga_svg_item_t *, size_t, const minga_svg_opts_t *),
                      const minga_svg_item_t *items, size_t n, const minga_svg_opts_t *o)
{
    char *buf = NULL;
    size_t len = 0;
    FILE *f = open_memstream(&buf, &len);
    assert_non_null(f);
    assert_int_equal(fn(f, items, n, o), 0);
    fclose(f);
    return buf;
}

static size_t s_count(const char *hay, const char *needle)
{
    size_t n = 0;
    for (const char *p = hay; (p = strstr(p, needle)); p += strlen(needle))
        n++;
    return n;
}

/* The width attribute of the k-th (from 0) bar. */
static double s_bar_width(const char *svg, size_t k)
{
    const char *p = svg;
    for (size_t i = 0; i <= k; i++) {
        p = strstr(p, "class=\"bar\"");
        assert_non_null(p);
        p++;
    }
    const char *w = strstr(p, "width=\"");
    assert_non_null(w);
    return strtod(w + 7, NULL);
}

static void test_numbers(void **state)
{
    (void)state;
    char b[64];
    assert_string_equal(minga_num_es(b, sizeof b, 1234.5, 2, 1), "1.234,50");
    assert_string_equal(minga_num_es(b, sizeof b, 1234.5, 2, 0), "1234,50");
    assert_string_equal(minga_num_es(b, sizeof b, -1234567, 0, 1), "-1.234.567");
    assert_string_equal(minga_num_es(b, sizeof b, 0, 0, 1), "0");
    assert_string_equal(minga_num_es(b, sizeof b, 999, 0, 1), "999");
    assert_string_equal(minga_num_es(b, sizeof b, 0.25, 3, 1), "0,250");
    assert_string_equal(minga_num_es(b, sizeof b, 87.25, 2, 0), "87,25");
    assert_true(strlen(minga_num_es(b, 5, 123456, 0, 1)) < 5); /* cut, still terminated */
    assert_true(minga_svg_step(47, 5) == 10);
    assert_true(minga_svg_step(1000, 5) == 200);
    assert_true(minga_svg_step(3, 5) == 1);
    assert_true(minga_svg_step(0, 5) == 1);
    assert_true(minga_svg_step(100, 5) == 20);
    assert_int_equal(minga_utf8_len("Cañar"), 5);
    assert_int_equal(minga_utf8_len("Galápagos…"), 10);
}

static void test_escape(void **state)
{
    (void)state;
    char *buf = NULL;
    size_t len = 0;
    FILE *f = open_memstream(&buf, &len);
    minga_xml_put(f, "a<b> & \"c\" 'd' ñ");
    minga_xml_put(f, NULL);
    fclose(f);
    assert_string_equal(buf, "a&lt;b&gt; &amp; &quot;c&quot; &#39;d&#39; ñ");
    free(buf);
}

static void test_hbars(void **state)
{
    (void)state;
    minga_svg_item_t items[] = {
        {"Azuay", 10},
        {"Santo Domingo de los Tsáchilas & <más> — un nombre muy largo de verdad", 40},
        {"Galápagos", 0},
        {"Loja", 20},
    };
    minga_svg_opts_t o = {.title = "Reuniones por provincia", .suffix = " reuniones"};
    char *svg = s_render(minga_svg_hbars, items, 4, &o);
    assert_int_equal(s_count(svg, "class=\"bar\""), 4);
    assert_non_null(strstr(svg, "role=\"img\""));
    assert_non_null(strstr(svg, "<title id=\"svgt"));
    assert_non_null(strstr(svg, ">Reuniones por provincia</title>"));
    assert_non_null(strstr(svg, "<desc"));
    /* bars proportional to the values: the largest has the full width */
    double w0 = s_bar_width(svg, 0), w1 = s_bar_width(svg, 1), w2 = s_bar_width(svg, 2),
           w3 = s_bar_width(svg, 3);
    assert_true(w1 > 100);
    assert_true(w2 == 0);
    assert_true(w0 > w1 / 4 - 0.2 && w0 < w1 / 4 + 0.2);
    assert_true(w3 > w1 / 2 - 0.2 && w3 < w1 / 2 + 0.2);
    /* the long label is escaped, cut on screen, whole in its title */
    assert_non_null(strstr(svg, "<title>Santo Domingo de los Tsáchilas &amp; &lt;más&gt; — un "
                                "nombre muy largo de verdad: 40 reuniones</title>"));
    assert_non_null(strstr(svg, "…</text>"));
    assert_null(strstr(svg, "<más>"));
    assert_non_null(strstr(svg, ">10 reuniones</text>"));
    /* nothing that loads anything */
    assert_null(strstr(svg, "http"));
    assert_null(strstr(svg, "href"));
    assert_null(strstr(svg, "<script"));
    free(svg);

    svg = s_render(minga_svg_hbars, items, 0, &o);
    assert_non_null(strstr(svg, "Sin datos"));
    assert_int_equal(s_count(svg, "class=\"bar\""), 0);
    free(svg);
}

static void test_columns(void **state)
{
    (void)state;
    enum { N = 48 };
    minga_svg_item_t items[N];
    char labels[N][8];
    for (int i = 0; i < N; i++) {
        snprintf(labels[i], sizeof labels[i], "%d", i + 1);
        items[i] = (minga_svg_item_t){labels[i], (double)(i % 7) * 10.5};
    }
    minga_svg_opts_t o = {.title = "Uso de mesas",
                          .decimals = 1,
                          .suffix = " %",
                          .x_axis = "franja",
                          .y_axis = "% de mesas"};
    char *svg = s_render(minga_svg_columns, items, N, &o);
    assert_int_equal(s_count(svg, "class=\"bar\""), N);
    /* 48 columns in 656 px: not every label fits, so fewer than 48 axis labels, and more
     * than a handful */
    size_t labels_drawn = s_count(svg, "class=\"axis\" x=") - s_count(svg, "dominant-baseline");
    assert_true(labels_drawn < N);
    assert_true(labels_drawn >= 8);
    assert_non_null(strstr(svg, ">franja</text>"));
    assert_non_null(strstr(svg, "rotate(-90)"));
    /* the gridlines' labels use decimal commas */
    assert_non_null(strstr(svg, "<title>7: 63,0 %</title>"));
    free(svg);
    minga_svg_item_t few[] = {{"0", 3}, {"1", 12}, {"2", 7}};
    svg = s_render(minga_svg_columns, few, 3, &o);
    assert_int_equal(s_count(svg, "class=\"bar\""), 3);
    assert_non_null(strstr(svg, ">12,0 %</text>")); /* value labels when there is room */
    free(svg);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_numbers),
        cmocka_unit_test(test_escape),
        cmocka_unit_test(test_hbars),
        cmocka_unit_test(test_columns),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
