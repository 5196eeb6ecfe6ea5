/*
 * mail.c: the MIME builder (mail.h). Everything that reaches a header goes through one of
 * three doors: minga_mail_clean() + minga_mail_encode_header() for text (names, subject),
 * minga_mail_addr_valid() for addresses, s_ascii_ok() for machine values (Message-ID, the
 * X-Minga-* headers). Bodies are quoted-printable and the attachment base64, so that no body
 * line can look like a boundary or a header.
 */
#include "minga/mail.h"

#include "minga/error.h"
#include "minga/ics.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* ---- a growable buffer ---- */

typedef struct {
    char *data;
    size_t len, cap;
    bool oom;
} s_buf_t;

static void s_put(s_buf_t *b, const char *s, size_t n)
{
    if (b->oom)
        return;
    if (b->len + n + 1 > b->cap) {
        size_t cap = b->cap ? b->cap : 4096;
        while (cap < b->len + n + 1)
            cap *= 2;
        char *d = realloc(b->data, cap);
        if (!d) {
            b->oom = true;
            return;
        }
        b->data = d;
        b->cap = cap;
    }
    memcpy(b->data + b->len, s, n);
    b->len += n;
    b->data[b->len] = 0;
}

static void s_printf(s_buf_t *b, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static void s_printf(s_buf_t *b, const char *fmt, ...)
{
    char small[512];
    va_list ap;
    va_start(ap, fmt);
    int n = vsnprintf(small, sizeof small, fmt, ap);
    va_end(ap);
    if (n < 0) {
        b->oom = true;
        return;
    }
    if ((size_t)n < sizeof small) {
        s_put(b, small, (size_t)n);
        return;
    }
    char *big = malloc((size_t)n + 1);
    if (!big) {
        b->oom = true;
        return;
    }
    va_start(ap, fmt);
    vsnprintf(big, (size_t)n + 1, fmt, ap);
    va_end(ap);
    s_put(b, big, (size_t)n);
    free(big);
}

/* ---- UTF-8 ---- */

/* The length of the valid UTF-8 sequence at s (n bytes left), or 0 when it is not one. */
static size_t s_utf8_len(const unsigned char *s, size_t n)
{
    if (s[0] < 0x80)
        return 1;
    size_t len;
    uint32_t cp;
    if (s[0] >= 0xc2 && s[0] <= 0xdf)
        len = 2, cp = s[0] & 0x1f;
    else if (s[0] >= 0xe0 && s[0] <= 0xef)
        len = 3, cp = s[0] & 0x0f;
    else if (s[0] >= 0xf0 && s[0] <= 0xf4)
        len = 4, cp = s[0] & 0x07;
    else
        return 0;
    if (len > n)
        return 0;
    for (size_t i = 1; i < len; i++) {
        if ((s[i] & 0xc0) != 0x80)
            return 0;
        cp = cp << 6 | (s[i] & 0x3f);
    }
    if ((len == 3 && cp < 0x800) || (len == 4 && (cp < 0x10000 || cp > 0x10ffff)) ||
        (cp >= 0xd800 && cp <= 0xdfff))
        return 0;
    return len;
}

/* True for a code point that is a control character (C0, DEL, C1, line/paragraph separators). */
static bool s_is_control(const unsigned char *s, size_t len)
{
    if (len == 1)
        return s[0] < 0x20 || s[0] == 0x7f;
    if (len == 2 && s[0] == 0xc2 && s[1] < 0xa0)
        return true;
    return len == 3 && s[0] == 0xe2 && s[1] == 0x80 && (s[2] == 0xa8 || s[2] == 0xa9);
}

char *minga_mail_clean(const char *s, size_t max)
{
    static const char repl[] = "\xef\xbf\xbd", ell[] = "\xe2\x80\xa6";
    const unsigned char *p = (const unsigned char *)(s ? s : "");
    size_t n = strlen((const char *)p);
    if (max < 4)
        max = 4;
    char *out = malloc(max + 1);
    if (!out)
        return NULL;
    size_t o = 0;
    bool space = true, cut = false; /* space: the last byte written is a space (or none yet) */
    while (n > 0) {
        size_t len = s_utf8_len(p, n);
        const char *piece = (const char *)p;
        size_t plen = len;
        if (len == 0) {
            piece = repl, plen = 3, len = 1;
        } else if (s_is_control(p, len) || p[0] == ' ') {
            piece = " ", plen = 1;
        }
        p += len, n -= len;
        if (piece[0] == ' ' && plen == 1) {
            if (space)
                continue;
            space = true;
        } else {
            space = false;
        }
        if (o + plen > max - 3 && (n > 0 || o + plen > max)) {
            cut = true;
            break;
        }
        memcpy(out + o, piece, plen);
        o += plen;
    }
    while (o > 0 && out[o - 1] == ' ')
        o--;
    if (cut) {
        memcpy(out + o, ell, 3);
        o += 3;
    }
    out[o] = 0;
    return out;
}

/* ---- addresses and ASCII values ---- */

bool minga_mail_addr_valid(const char *addr)
{
    if (!addr)
        return false;
    size_t n = strlen(addr), at = n;
    if (n < 3 || n > 254)
        return false;
    for (size_t i = 0; i < n; i++) {
        unsigned char c = (unsigned char)addr[i];
        if (c <= 0x20 || c >= 0x7f || strchr("<>()[],;:\"\\", c))
            return false;
        if (c == '@') {
            if (at != n)
                return false;
            at = i;
        }
    }
    if (at == 0 || at == n || at + 1 >= n)
        return false;
    const char *dom = addr + at + 1;
    if (dom[0] == '.' || addr[n - 1] == '.' || strstr(dom, ".."))
        return false;
    return strchr(dom, '.') != NULL;
}

static bool s_ascii_ok(const char *s, size_t max)
{
    size_t n = s ? strlen(s) : 0;
    if (n == 0 || n > max)
        return false;
    for (size_t i = 0; i < n; i++)
        if ((unsigned char)s[i] < 0x20 || (unsigned char)s[i] >= 0x7f)
            return false;
    return true;
}

static bool s_field_name_ok(const char *s)
{
    size_t n = s ? strlen(s) : 0;
    if (n == 0 || n > 64)
        return false;
    for (size_t i = 0; i < n; i++)
        if (!((s[i] >= 'A' && s[i] <= 'Z') || (s[i] >= 'a' && s[i] <= 'z') ||
              (s[i] >= '0' && s[i] <= '9') || s[i] == '-'))
            return false;
    return true;
}

/* ---- header encoding ---- */

static const char s_b64[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";

static size_t s_b64_block(char *dst, const unsigned char *src, size_t n)
{
    size_t o = 0;
    for (size_t i = 0; i < n; i += 3) {
        uint32_t v = (uint32_t)src[i] << 16;
        if (i + 1 < n)
            v |= (uint32_t)src[i + 1] << 8;
        if (i + 2 < n)
            v |= src[i + 2];
        dst[o++] = s_b64[v >> 18 & 63];
        dst[o++] = s_b64[v >> 12 & 63];
        dst[o++] = i + 1 < n ? s_b64[v >> 6 & 63] : '=';
        dst[o++] = i + 2 < n ? s_b64[v & 63] : '=';
    }
    return o;
}

size_t minga_mail_encode_size(const char *s)
{
    return 80 + (strlen(s) / 30 + 1) * 80;
}

#define S_WORD_RAW 45 /* bytes of UTF-8 per encoded word: 60 base64 + 12 = 72 columns */

size_t minga_mail_encode_header(char *dst, const char *s, size_t name_len)
{
    size_t n = strlen(s);
    bool plain = name_len + 2 + n <= 78;
    for (size_t i = 0; plain && i < n; i++)
        if ((unsigned char)s[i] < 0x20 || (unsigned char)s[i] >= 0x7f)
            plain = false;
    if (plain && !strstr(s, "=?")) {
        memcpy(dst, s, n + 1);
        return n;
    }
    size_t o = 0;
    const unsigned char *p = (const unsigned char *)s;
    /* the first word shares its line with "Name: ", the others follow one space */
    size_t room = name_len + 2 + 12 < 78 ? (78 - name_len - 2 - 12) / 4 * 3 : 0;
    size_t limit = room < 6 ? 6 : room > S_WORD_RAW ? S_WORD_RAW : room;
    while (n > 0) {
        size_t take = 0;
        while (take < n) {
            size_t len = s_utf8_len(p + take, n - take);
            if (len == 0)
                len = 1;
            if (take + len > limit && take > 0)
                break;
            take += len;
        }
        /* end a word after a space when one is near: decoders that keep the folding white
         * space between words (Python's, in address headers) then split no word in two */
        for (size_t k = take; take < n && k > take / 2; k--)
            if (p[k - 1] == ' ') {
                take = k;
                break;
            }
        if (o > 0) {
            memcpy(dst + o, "\r\n ", 3);
            o += 3;
        }
        memcpy(dst + o, "=?UTF-8?B?", 10);
        o += 10;
        o += s_b64_block(dst + o, p, take);
        memcpy(dst + o, "?=", 2);
        o += 2;
        p += take, n -= take;
        limit = S_WORD_RAW;
    }
    dst[o] = 0;
    return o;
}

/* Writes "Name: value" folded, value text encoded when needed. */
static void s_header_text(s_buf_t *b, const char *name, const char *value)
{
    char *enc = malloc(minga_mail_encode_size(value));
    if (!enc) {
        b->oom = true;
        return;
    }
    minga_mail_encode_header(enc, value, strlen(name));
    s_printf(b, "%s: %s\r\n", name, enc);
    free(enc);
}

/* Writes "Name: display <addr>" with the display name quoted or encoded. */
static void s_header_addr(s_buf_t *b, const char *name, const char *display, const char *addr)
{
    char *clean = minga_mail_clean(display, MINGA_MAIL_NAME_MAX);
    if (!clean) {
        b->oom = true;
        return;
    }
    if (!clean[0]) {
        s_printf(b, "%s: <%s>\r\n", name, addr);
        free(clean);
        return;
    }
    bool ascii = true;
    size_t quoted = 2; /* the quoted string's length: its quotes, its text, its escapes */
    for (const char *c = clean; *c; c++) {
        if ((unsigned char)*c >= 0x7f)
            ascii = false;
        quoted += 1 + (*c == '"' || *c == '\\');
    }
    if (ascii && strlen(name) + 2 + quoted + 1 + strlen(addr) + 2 <= 78 && !strstr(clean, "=?")) {
        s_printf(b, "%s: \"", name);
        for (const char *c = clean; *c; c++) {
            if (*c == '"' || *c == '\\')
                s_put(b, "\\", 1);
            s_put(b, c, 1);
        }
        s_printf(b, "\" <%s>\r\n", addr);
    } else {
        char *enc = malloc(minga_mail_encode_size(clean));
        if (!enc) {
            b->oom = true;
            free(clean);
            return;
        }
        minga_mail_encode_header(enc, clean, strlen(name));
        if (strcmp(enc, clean) == 0) {
            /* plain ASCII but long: encoded words keep specials out of the address */
            size_t m = 0;
            const unsigned char *p = (const unsigned char *)clean;
            size_t n = strlen(clean);
            while (n > 0) {
                size_t take = n < S_WORD_RAW ? n : S_WORD_RAW;
                if (m > 0) {
                    memcpy(enc + m, "\r\n ", 3);
                    m += 3;
                }
                memcpy(enc + m, "=?UTF-8?B?", 10);
                m += 10;
                m += s_b64_block(enc + m, p, take);
                memcpy(enc + m, "?=", 2);
                m += 2;
                p += take, n -= take;
            }
            enc[m] = 0;
        }
        s_printf(b, "%s: %s\r\n <%s>\r\n", name, enc, addr);
        free(enc);
    }
    free(clean);
}

/* ---- bodies ---- */

char *minga_mail_qp(const char *s, size_t len, size_t *out_len)
{
    static const char hex[] = "0123456789ABCDEF";
    s_buf_t b = {0};
    size_t col = 0;
    for (size_t i = 0; i < len; i++) {
        unsigned char c = (unsigned char)s[i];
        if (c == '\n') {
            /* a space or tab before a line end must be encoded */
            if (b.len > 0 && (b.data[b.len - 1] == ' ' || b.data[b.len - 1] == '\t')) {
                char t = b.data[b.len - 1];
                b.len--;
                char e[3] = {'=', hex[(unsigned char)t >> 4], hex[t & 15]};
                s_put(&b, e, 3);
            }
            s_put(&b, "\r\n", 2);
            col = 0;
            continue;
        }
        if (c == '\r')
            continue;
        char e[3];
        size_t elen;
        if ((c >= 33 && c <= 126 && c != '=') || c == ' ' || c == '\t') {
            e[0] = (char)c, elen = 1;
        } else {
            e[0] = '=', e[1] = hex[c >> 4], e[2] = hex[c & 15], elen = 3;
        }
        /* a leading "." or "From " could be mangled on the way: encode a line-initial dot */
        if (col == 0 && c == '.') {
            e[0] = '=', e[1] = '2', e[2] = 'E', elen = 3;
        }
        if (col + elen > 75) {
            s_put(&b, "=\r\n", 3);
            col = 0;
        }
        s_put(&b, e, elen);
        col += elen;
    }
    if (b.len > 0 && (b.data[b.len - 1] == ' ' || b.data[b.len - 1] == '\t')) {
        char t = b.data[b.len - 1];
        b.len--;
        char e[3] = {'=', hex[(unsigned char)t >> 4], hex[t & 15]};
        s_put(&b, e, 3);
    }
    if (!b.data)
        s_put(&b, "", 0);
    if (b.oom) {
        free(b.data);
        return NULL;
    }
    *out_len = b.len;
    return b.data;
}

char *minga_mail_base64(const void *data, size_t len, size_t *out_len)
{
    size_t lines = len / 57 + 1;
    char *out = malloc(lines * 78 + 1);
    if (!out)
        return NULL;
    size_t o = 0;
    const unsigned char *p = data;
    for (size_t i = 0; i < len; i += 57) {
        size_t take = len - i < 57 ? len - i : 57;
        o += s_b64_block(out + o, p + i, take);
        out[o++] = '\r';
        out[o++] = '\n';
    }
    out[o] = 0;
    *out_len = o;
    return out;
}

int minga_mail_date(int64_t t, const char *tz, char *dst, size_t cap)
{
    static const char *const days[] = {"Sun", "Mon", "Tue", "Wed", "Thu", "Fri", "Sat"};
    static const char *const months[] = {"Jan", "Feb", "Mar", "Apr", "May", "Jun",
                                         "Jul", "Aug", "Sep", "Oct", "Nov", "Dec"};
    struct tm tm;
    int off = 0;
    if (tz) {
        int rc = minga_tz_local(tz, t, &tm, &off);
        if (rc)
            return rc;
    } else {
        time_t tt = (time_t)t;
        gmtime_r(&tt, &tm);
    }
    int a = off < 0 ? -off : off;
    snprintf(dst, cap, "%s, %02d %s %04d %02d:%02d:%02d %c%02d%02d", days[tm.tm_wday % 7],
             tm.tm_mday, months[tm.tm_mon % 12], tm.tm_year + 1900, tm.tm_hour, tm.tm_min,
             tm.tm_sec, off < 0 ? '-' : '+', a / 3600, a % 3600 / 60);
    return 0;
}

/* ---- the message ---- */

/* A boundary that no part can contain: quoted-printable and base64 never hold "=_". */
static void s_boundary(char *dst, size_t cap, const char *kind, const char *message_id)
{
    uint64_t h = 1469598103934665603ull;
    for (const char *c = message_id; *c; c++)
        h = (h ^ (unsigned char)*c) * 1099511628211ull;
    snprintf(dst, cap, "=_minga_%s_%016llx", kind, (unsigned long long)h);
}

static int s_body_part(s_buf_t *b, const char *type, const char *text)
{
    char *clean = NULL;
    const char *src = text ? text : "";
    size_t n = strlen(src), qlen;
    /* bodies keep their line ends and tabs but never invalid UTF-8 */
    for (size_t i = 0; i < n;) {
        size_t l = s_utf8_len((const unsigned char *)src + i, n - i);
        if (l == 0) {
            clean = malloc(n * 3 + 1);
            if (!clean)
                return MINGA_ENOMEM;
            size_t o = 0;
            for (size_t j = 0; j < n;) {
                size_t m = s_utf8_len((const unsigned char *)src + j, n - j);
                if (m == 0) {
                    memcpy(clean + o, "\xef\xbf\xbd", 3), o += 3, j++;
                } else {
                    memcpy(clean + o, src + j, m), o += m, j += m;
                }
            }
            clean[o] = 0;
            src = clean, n = o;
            break;
        }
        i += l;
    }
    char *qp = minga_mail_qp(src, n, &qlen);
    free(clean);
    if (!qp)
        return MINGA_ENOMEM;
    s_printf(
        b, "Content-Type: %s; charset=UTF-8\r\nContent-Transfer-Encoding: quoted-printable\r\n\r\n",
        type);
    s_put(b, qp, qlen);
    if (qlen < 2 || qp[qlen - 1] != '\n')
        s_put(b, "\r\n", 2);
    free(qp);
    return 0;
}

static int s_check(const minga_mail_t *m)
{
    if (!minga_mail_addr_valid(m->from_addr) || !minga_mail_addr_valid(m->to_addr))
        return MINGA_EINVAL;
    if (!s_ascii_ok(m->message_id, 900) || m->message_id[0] != '<' ||
        m->message_id[strlen(m->message_id) - 1] != '>' || strchr(m->message_id, ' '))
        return MINGA_EINVAL;
    for (const char *const *x = m->extra; x && x[0]; x += 2)
        if (!s_field_name_ok(x[0]) || !s_ascii_ok(x[1], 900))
            return MINGA_EINVAL;
    if (m->attach) {
        const char *f = m->attach->filename;
        if (!s_ascii_ok(f, 64) || !s_ascii_ok(m->attach->content_type, 200) ||
            strpbrk(f, "\"\\/ ;"))
            return MINGA_EINVAL;
    }
    return 0;
}

int minga_mail_render(const minga_mail_t *m, char **out, size_t *len)
{
    int rc = s_check(m);
    if (rc)
        return rc;
    char date[64], mixed[64], alt[64];
    if ((rc = minga_mail_date(m->date, m->date_tz, date, sizeof date)) != 0)
        return rc;
    s_boundary(mixed, sizeof mixed, "mixed", m->message_id);
    s_boundary(alt, sizeof alt, "alt", m->message_id);
    char *subject = minga_mail_clean(m->subject, MINGA_MAIL_SUBJECT_MAX);
    if (!subject)
        return MINGA_ENOMEM;
    s_buf_t b = {0};
    s_header_addr(&b, "From", m->from_name, m->from_addr);
    s_header_addr(&b, "To", m->to_name, m->to_addr);
    s_header_text(&b, "Subject", subject);
    s_printf(&b, "Date: %s\r\nMessage-ID: %s\r\nMIME-Version: 1.0\r\n", date, m->message_id);
    for (const char *const *x = m->extra; x && x[0]; x += 2)
        s_printf(&b, "%s: %s\r\n", x[0], x[1]);
    free(subject);
    if (m->attach)
        s_printf(&b, "Content-Type: multipart/mixed;\r\n boundary=\"%s\"\r\n\r\n--%s\r\n", mixed,
                 mixed);
    s_printf(&b, "Content-Type: multipart/alternative;\r\n boundary=\"%s\"\r\n\r\n--%s\r\n", alt,
             alt);
    if ((rc = s_body_part(&b, "text/plain", m->text)) != 0)
        goto fail;
    s_printf(&b, "--%s\r\n", alt);
    if ((rc = s_body_part(&b, "text/html", m->html)) != 0)
        goto fail;
    s_printf(&b, "--%s--\r\n", alt);
    if (m->attach) {
        size_t blen;
        char *b64 = minga_mail_base64(m->attach->data, m->attach->len, &blen);
        if (!b64) {
            rc = MINGA_ENOMEM;
            goto fail;
        }
        s_printf(&b,
                 "--%s\r\nContent-Type: %s;\r\n name=\"%s\"\r\nContent-Transfer-Encoding: "
                 "base64\r\nContent-Disposition: attachment;\r\n filename=\"%s\"\r\n\r\n",
                 mixed, m->attach->content_type, m->attach->filename, m->attach->filename);
        s_put(&b, b64, blen);
        free(b64);
        s_printf(&b, "--%s--\r\n", mixed);
    }
    if (b.oom) {
        rc = MINGA_ENOMEM;
        goto fail;
    }
    *out = b.data;
    *len = b.len;
    return 0;
fail:
    free(b.data);
    return rc;
}
