/*
 * test_mail.c: the MIME builder (mail.h) and the calendar (ics.h): header encoding and
 * folding, hostile names and addresses that must not add or break headers, quoted-printable
 * and base64 round trips, the Date in America/Guayaquil, and the .ics's structure.
 */
#include "minga/error.h"
#include "minga/ics.h"
#include "minga/mail.h"

#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <cmocka.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* ---- helpers ---- */

/* The header block of msg (up to the first empty line), a copy. */
static char *s_headers(const char *msg)
{
    const char *end = strstr(msg, "\r\n\r\n");
    assert_non_null(end);
    return strndup(msg, (size_t)(end - msg) + 2);
}

/* Number of header fields (lines that do not begin with white space) named name. */
static int s_count_field(const char *headers, const char *name)
{
    int n = 0;
    size_t len = strlen(name);
    for (const char *p = headers; p && *p;) {
        if (strncasecmp(p, name, len) == 0 && p[len] == ':')
            n++;
        p = strstr(p, "\r\n");
        if (p)
            p += 2;
    }
    return n;
}

/* Every line of s ends in CRLF, holds no bare CR or LF, and is at most max octets. */
static void s_assert_lines(const char *s, size_t max)
{
    size_t col = 0;
    for (const char *p = s; *p; p++) {
        if (*p == '\r') {
            assert_int_equal(p[1], '\n');
            if (col > max)
                fail_msg("line of %zu octets: %.*s", col, (int)col, p - col);
            col = 0;
            p++;
            continue;
        }
        assert_true(*p != '\n');
        col++;
    }
    assert_int_equal(col, 0);
}

static int s_b64v(int c)
{
    const char *t = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
    const char *p = c ? strchr(t, c) : NULL;
    return p ? (int)(p - t) : -1;
}

/* Decodes base64 (skipping CRLF) into a new buffer. */
static char *s_unbase64(const char *s, size_t n, size_t *out)
{
    char *d = malloc(n + 1);
    size_t o = 0;
    uint32_t acc = 0;
    int bits = 0;
    for (size_t i = 0; i < n; i++) {
        int v = s_b64v((unsigned char)s[i]);
        if (v < 0)
            continue;
        acc = acc << 6 | (uint32_t)v;
        bits += 6;
        if (bits >= 8) {
            bits -= 8;
            d[o++] = (char)(acc >> bits & 0xff);
        }
    }
    d[o] = 0;
    *out = o;
    return d;
}

/* Decodes quoted-printable into a new buffer, CRLF back to LF. */
static char *s_unqp(const char *s, size_t n)
{
    char *d = malloc(n + 1);
    size_t o = 0;
    for (size_t i = 0; i < n; i++) {
        if (s[i] == '=' && i + 2 < n && s[i + 1] == '\r' && s[i + 2] == '\n') {
            i += 2;
        } else if (s[i] == '=' && i + 2 < n) {
            char hx[3] = {s[i + 1], s[i + 2], 0};
            d[o++] = (char)strtol(hx, NULL, 16);
            i += 2;
        } else if (s[i] == '\r') {
            continue;
        } else {
            d[o++] = s[i];
        }
    }
    d[o] = 0;
    return d;
}

static char *s_render(const char *to_name, const char *to_addr, const char *subject, int *rc)
{
    static const char *const extra[] = {
        "X-Minga-Event", "jornada-2026", "X-Minga-Party", "0101", "X-Minga-Version", "3", NULL};
    minga_mail_part_t ics = {"agenda.ics", "text/calendar; charset=UTF-8; method=PUBLISH",
                             "BEGIN:VCALENDAR\r\nEND:VCALENDAR\r\n", 30};
    minga_mail_t m = {
        .from_name = "Rueda de Negocios — AME",
        .from_addr = "rueda@ame.gob.ec",
        .to_name = to_name,
        .to_addr = to_addr,
        .subject = subject,
        .message_id = "<minga.jornada-2026.0101.v3@ame.gob.ec>",
        .date = 1794492000, /* 2026-11-12 14:00 UTC */
        .date_tz = "America/Guayaquil",
        .text = "Señora alcaldesa:\nSu reunión es a las 09:00 en la mesa 12.\n.\nFin \n",
        .html = "<p>Reunión en la <b>mesa 12</b></p>",
        .attach = &ics,
        .extra = extra,
    };
    char *out = NULL;
    size_t len = 0;
    *rc = minga_mail_render(&m, &out, &len);
    if (*rc == 0)
        assert_int_equal(strlen(out), len);
    return out;
}

/* ---- tests ---- */

static void test_render_structure(void **state)
{
    (void)state;
    int rc;
    char *msg = s_render("Gobierno Autónomo Descentralizado de Cuenca", "alcaldia@cuenca.gob.ec",
                         "Su agenda de la Jornada de Cooperación (versión 3)", &rc);
    assert_int_equal(rc, 0);
    s_assert_lines(msg, 78);
    char *h = s_headers(msg);
    assert_int_equal(s_count_field(h, "From"), 1);
    assert_int_equal(s_count_field(h, "To"), 1);
    assert_int_equal(s_count_field(h, "Subject"), 1);
    assert_int_equal(s_count_field(h, "Message-ID"), 1);
    assert_int_equal(s_count_field(h, "X-Minga-Version"), 1);
    assert_non_null(strstr(h, "Message-ID: <minga.jornada-2026.0101.v3@ame.gob.ec>\r\n"));
    assert_non_null(strstr(h, "Date: Thu, 12 Nov 2026 09:00:00 -0500\r\n"));
    assert_non_null(strstr(h, "Subject: =?UTF-8?B?"));
    assert_non_null(strstr(h, "<alcaldia@cuenca.gob.ec>"));
    assert_non_null(strstr(msg, "Content-Type: multipart/mixed;"));
    assert_non_null(strstr(msg, "Content-Type: multipart/alternative;"));
    assert_non_null(strstr(msg, "filename=\"agenda.ics\""));
    /* the text part decodes back to the text, the dot line encoded */
    const char *qp = strstr(msg, "quoted-printable\r\n\r\n");
    assert_non_null(qp);
    qp += strlen("quoted-printable\r\n\r\n");
    const char *end = strstr(qp, "\r\n--=_minga_alt");
    assert_non_null(end);
    char *text = s_unqp(qp, (size_t)(end - qp) + 2);
    assert_string_equal(text,
                        "Señora alcaldesa:\nSu reunión es a las 09:00 en la mesa 12.\n.\nFin \n");
    assert_null(strstr(qp, "\r\n.\r\n"));
    free(text);
    free(h);
    free(msg);
}

/* The encoded subject decodes back to the cleaned text, whole characters per word. */
static void test_subject_encoding(void **state)
{
    (void)state;
    const char *subject = "Agenda — Jornada de Cooperación Internacional: reuniones con "
                          "cooperantes de España, Japón y Corea; versión 12 ñandú";
    char *enc = malloc(minga_mail_encode_size(subject));
    minga_mail_encode_header(enc, subject, strlen("Subject"));
    char *decoded = calloc(1, 4096);
    for (const char *p = enc; (p = strstr(p, "=?UTF-8?B?"));) {
        p += 10;
        const char *q = strstr(p, "?=");
        size_t n;
        char *part = s_unbase64(p, (size_t)(q - p), &n);
        strcat(decoded, part);
        free(part);
        p = q + 2;
        assert_true(q - p < 76);
    }
    assert_string_equal(decoded, subject);
    free(decoded);
    free(enc);
}

/* CR/LF, NUL-free junk, very long and non-UTF-8 names never make a new header line. */
static void test_hostile_names(void **state)
{
    (void)state;
    char longname[5000];
    memset(longname, 'A', sizeof longname - 1);
    longname[sizeof longname - 1] = 0;
    const char *names[] = {
        "Evil\r\nBcc: victim@example.com",
        "Evil\nX-Injected: 1",
        "Evil\rSubject: spam",
        "\xff\xfe\x80 bad \xc3\x28 utf8",
        longname,
        "\"quoted\" <fake@evil.com>",
        "=?UTF-8?B?SGVsbG8=?=\r\n Bcc: x@y.z",
        "Ñandú\xe2\x80\xa8"
        "Bcc: a@b.c",
    };
    for (size_t i = 0; i < sizeof names / sizeof names[0]; i++) {
        int rc;
        char *msg = s_render(names[i], "alcaldia@cuenca.gob.ec", names[i], &rc);
        assert_int_equal(rc, 0);
        s_assert_lines(msg, 78);
        char *h = s_headers(msg);
        assert_int_equal(s_count_field(h, "Bcc"), 0);
        assert_int_equal(s_count_field(h, "X-Injected"), 0);
        assert_int_equal(s_count_field(h, "Subject"), 1);
        assert_int_equal(s_count_field(h, "To"), 1);
        free(h);
        free(msg);
    }
}

static void test_hostile_addresses(void **state)
{
    (void)state;
    const char *bad[] = {
        "a@b.c\r\nBcc: x@y.z", "a b@c.d", "<a@b.c>",        "a@b", "@b.c", "a@", "a@@b.c", "a@b..c",
        "a\xc3\xb1@b.c",       "a,b@c.d", "a@b.c>\r\nX: y", "",    NULL};
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        assert_false(minga_mail_addr_valid(bad[i]));
        int rc;
        char *msg = s_render("X", bad[i], "s", &rc);
        assert_int_equal(rc, MINGA_EINVAL);
        assert_null(msg);
    }
    char huge[400];
    memset(huge, 'a', sizeof huge - 1);
    huge[sizeof huge - 1] = 0;
    memcpy(huge + 300, "@example.com", 13);
    assert_false(minga_mail_addr_valid(huge));
    assert_true(minga_mail_addr_valid("tecnico.pdot+rueda@municipio-loja.gob.ec"));
}

static void test_clean(void **state)
{
    (void)state;
    char *c = minga_mail_clean("  a\r\n\tb  \xff c ", 100);
    assert_string_equal(c, "a b \xef\xbf\xbd c");
    free(c);
    char longs[300];
    for (int i = 0; i < 299; i++)
        longs[i] = i % 2 ? '\xb1' : '\xc3'; /* "ñ" * 149 + a lone lead byte */
    longs[299] = 0;
    c = minga_mail_clean(longs, 50);
    assert_true(strlen(c) <= 50);
    assert_non_null(strstr(c, "\xe2\x80\xa6"));
    assert_int_equal((unsigned char)c[0], 0xc3);
    free(c);
}

static void test_qp_base64(void **state)
{
    (void)state;
    char line[400];
    for (int i = 0; i < 399; i++)
        line[i] = "áé=x "[i % 5];
    line[399] = 0;
    size_t n;
    line[398] = '\n';
    char *qp = minga_mail_qp(line, strlen(line), &n);
    s_assert_lines(qp, 76);
    char *back = s_unqp(qp, n);
    assert_string_equal(back, line);
    free(back);
    free(qp);
    unsigned char bin[1000];
    for (int i = 0; i < 1000; i++)
        bin[i] = (unsigned char)(i * 7);
    char *b64 = minga_mail_base64(bin, sizeof bin, &n);
    s_assert_lines(b64, 76);
    size_t m;
    char *dec = s_unbase64(b64, n, &m);
    assert_int_equal(m, sizeof bin);
    assert_memory_equal(dec, bin, sizeof bin);
    free(dec);
    free(b64);
}

static void test_date_and_iso(void **state)
{
    (void)state;
    char d[64];
    assert_int_equal(minga_mail_date(1794492000, "America/Guayaquil", d, sizeof d), 0);
    assert_string_equal(d, "Thu, 12 Nov 2026 09:00:00 -0500");
    assert_int_equal(minga_mail_date(0, "Nowhere/Atlantis", d, sizeof d), MINGA_ENOTFOUND);
    int64_t t;
    assert_int_equal(minga_iso8601_parse("2026-11-12T09:00:00-05:00", &t), 0);
    assert_int_equal(t, 1794492000);
    assert_int_equal(minga_iso8601_parse("2026-11-12T14:00Z", &t), 0);
    assert_int_equal(t, 1794492000);
    assert_int_equal(minga_iso8601_parse("2026-11-12 09:00", &t), MINGA_EINVAL);
    assert_int_equal(minga_iso8601_parse("2026-13-12T09:00:00-05:00", &t), MINGA_EINVAL);
}

static void test_ics(void **state)
{
    (void)state;
    minga_ics_event_t ev[2] = {
        {"jornada-2026.s3.t12.0101.giz@minga", 1794492000, 1794492000 + 1800,
         "Reunión con GIZ — Agua potable", "Por qué: sector DAC 14030 exacto", "Mesa 12", false},
        {"jornada-2026.s5.t4.0101.jica@minga", 1794499200, 1794499200 + 1800, "Reunión con JICA",
         NULL, "Mesa 4", true},
    };
    minga_ics_t cal = {"America/Guayaquil", "Agenda — Cuenca", 1794400000, 2, ev, 2};
    char *out = NULL;
    assert_int_equal(minga_ics_render(&cal, &out), 0);
    assert_non_null(strstr(out, "METHOD:PUBLISH"));
    assert_non_null(strstr(out, "BEGIN:VTIMEZONE"));
    assert_non_null(strstr(out, "TZID:America/Guayaquil"));
    assert_non_null(strstr(out, "DTSTART;TZID=America/Guayaquil:20261112T090000"));
    assert_non_null(strstr(out, "DTEND;TZID=America/Guayaquil:20261112T093000"));
    assert_non_null(strstr(out, "UID:jornada-2026.s3.t12.0101.giz@minga"));
    assert_non_null(strstr(out, "STATUS:CANCELLED"));
    assert_non_null(strstr(out, "STATUS:CONFIRMED"));
    assert_non_null(strstr(out, "LOCATION:Mesa 12"));
    assert_non_null(strstr(out, "SEQUENCE:2"));
    free(out);
    ev[0].end = ev[0].start - 1;
    assert_int_equal(minga_ics_render(&cal, &out), MINGA_EINVAL);
    cal.tzid = "Nowhere/Atlantis";
    assert_int_equal(minga_ics_render(&cal, &out), MINGA_ENOTFOUND);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_render_structure),
        cmocka_unit_test(test_subject_encoding),
        cmocka_unit_test(test_hostile_names),
        cmocka_unit_test(test_hostile_addresses),
        cmocka_unit_test(test_clean),
        cmocka_unit_test(test_qp_base64),
        cmocka_unit_test(test_date_and_iso),
        cmocka_unit_test(test_ics),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
