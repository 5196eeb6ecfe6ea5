/*
 * fuzz_mail.c: the notify pieces that take outside data — the outbox decoder on hostile stored
 * values, and the MIME builder on hostile names, subjects, addresses and bodies.
 *
 * The first input byte picks the mode. Mode 0: the rest is a stored outbox value; a decode
 * may fail, but must not crash, leak or read out of bounds; when it succeeds, encode and
 * decode again must give the same record. Mode 1: the rest is split at NUL bytes into a
 * display name, a subject, an address and a body; a rendered message must keep every header
 * line under 79 octets (a line that is only "To: <address>" or " <address>" may be as long as
 * the address, at most 254), end every line with CRLF, hold exactly one To, one Subject and no Bcc,
 * and an address that minga_mail_addr_valid() refuses must be refused by the render.
 */
#include "minga/error.h"
#include "minga/mail.h"
#include "minga/outbox.h"

#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static void s_outbox(const uint8_t *data, size_t size)
{
    minga_outbox_t r, d;
    if (minga_outbox_decode(data, size, &r) != 0)
        return;
    uint8_t *buf;
    size_t len;
    if (minga_outbox_encode(&r, &buf, &len) != 0)
        abort();
    if (minga_outbox_decode(buf, len, &d) != 0 || d.version != r.version || d.state != r.state ||
        d.message_len != r.message_len || strcmp(d.party, r.party) != 0 ||
        (r.message_len && memcmp(d.message, r.message, r.message_len) != 0))
        abort();
    free(buf);
    minga_outbox_clear(&r);
    minga_outbox_clear(&d);
}

/* Checks the header block of msg: line lengths (at most 78 octets, but for a line that holds
 * only a long address: at most 998), CRLF, one To, one Subject, no Bcc. */
static void s_check_headers(const char *msg, const char *addr)
{
    char bracketed[300];
    snprintf(bracketed, sizeof bracketed, "<%s>", addr);
    const char *end = strstr(msg, "\r\n\r\n");
    if (!end)
        abort();
    int to = 0, subject = 0;
    for (const char *p = msg; p <= end;) {
        const char *eol = strstr(p, "\r\n");
        size_t n = eol ? (size_t)(eol - p) : 0;
        if (!eol || n > 998 || memchr(p, '\n', n) || memchr(p, '\r', n))
            abort();
        if (n > 78 && !(n >= strlen(bracketed) &&
                        memcmp(eol - strlen(bracketed), bracketed, strlen(bracketed)) == 0 &&
                        n - strlen(bracketed) <= 4))
            abort();
        if (strncasecmp(p, "To:", 3) == 0)
            to++;
        if (strncasecmp(p, "Subject:", 8) == 0)
            subject++;
        if (strncasecmp(p, "Bcc:", 4) == 0)
            abort();
        p = eol + 2;
    }
    if (to != 1 || subject != 1)
        abort();
}

static void s_mail(const uint8_t *data, size_t size)
{
    char *copy = malloc(size + 1);
    if (!copy)
        return;
    memcpy(copy, data, size);
    copy[size] = 0;
    const char *piece[4] = {"", "", "", ""};
    char *p = copy;
    for (int i = 0; i < 4 && p <= copy + size; i++) {
        piece[i] = p;
        p += strlen(p) + 1;
    }
    minga_mail_t m = {
        .from_name = "Rueda",
        .from_addr = "rueda@ame.gob.ec",
        .to_name = piece[0],
        .to_addr = piece[2],
        .subject = piece[1],
        .message_id = "<minga.e.p.v1@x.y>",
        .date = 1794492000,
        .date_tz = NULL,
        .text = piece[3],
        .html = piece[3],
    };
    char *out = NULL;
    size_t len = 0;
    int rc = minga_mail_render(&m, &out, &len);
    if (!minga_mail_addr_valid(piece[2])) {
        if (rc != MINGA_EINVAL)
            abort();
    } else if (rc == 0) {
        if (strlen(out) != len)
            abort();
        s_check_headers(out, piece[2]);
    }
    free(out);
    char *clean = minga_mail_clean(piece[0], 64);
    if (clean && strlen(clean) > 64)
        abort();
    free(clean);
    free(copy);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (size < 1)
        return 0;
    if (data[0] % 2 == 0)
        s_outbox(data + 1, size - 1);
    else
        s_mail(data + 1, size - 1);
    return 0;
}
