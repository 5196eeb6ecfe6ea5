/*
 * record_text.c: a record field as text, both ways (see minga_field_parse and
 * minga_field_format in record.h). Parsing validates and canonicalises: codes become their
 * canonical code, lists are trimmed, slot ranges sorted and merged, booleans "sí"/"no".
 */
#include "minga/record.h"

#include "minga/error.h"

#include <ctype.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define S_DEFAULT_MAX_LEN 1024
#define S_MAX_SLOT 65535

static int s_fail(char *err, size_t cap, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

static int s_fail(char *err, size_t cap, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(err, cap, fmt, ap);
    va_end(ap);
    return MINGA_EINVAL;
}

/* A copy of text[0..n) without surrounding white space (the caller frees). */
static char *s_trimmed(const char *text, size_t n)
{
    while (n && isspace((unsigned char)*text))
        text++, n--;
    while (n && isspace((unsigned char)text[n - 1]))
        n--;
    char *s = malloc(n + 1);
    if (s) {
        memcpy(s, text, n);
        s[n] = '\0';
    }
    return s;
}

/* Free text: valid UTF-8, no control characters but tab and line breaks. */
static int s_check_text(const char *s, size_t max, char *err, size_t cap)
{
    /* one pass: length, UTF-8 shape (no overlongs, surrogates or code points past U+10FFFF)
     * and no control characters but tab and line breaks */
    const unsigned char *p = (const unsigned char *)s;
    while (*p) {
        unsigned c = *p;
        if (c < 0x80) {
            if ((c < 0x20 && c != '\t' && c != '\n' && c != '\r') || c == 0x7f)
                return s_fail(err, cap, "text holds control character 0x%02x", c);
            p++;
            continue;
        }
        int n = (c & 0xe0) == 0xc0 ? 1 : (c & 0xf0) == 0xe0 ? 2 : (c & 0xf8) == 0xf0 ? 3 : -1;
        if (n < 0 || (n == 1 && c < 0xc2) || (n == 3 && c > 0xf4))
            return s_fail(err, cap, "text is not valid UTF-8");
        unsigned cp = c & (0x3fu >> n);
        for (int i = 1; i <= n; i++) {
            if ((p[i] & 0xc0) != 0x80)
                return s_fail(err, cap, "text is not valid UTF-8");
            cp = (cp << 6) | (p[i] & 0x3f);
        }
        if ((n == 2 && (cp < 0x800 || (cp >= 0xd800 && cp <= 0xdfff))) ||
            (n == 3 && (cp < 0x10000 || cp > 0x10ffff)))
            return s_fail(err, cap, "text is not valid UTF-8");
        p += n + 1;
    }
    size_t len = (size_t)((const char *)p - s);
    if (len > max)
        return s_fail(err, cap, "text of %zu bytes is longer than %zu", len, max);
    return 0;
}

static bool s_all_digits(const char *s, size_t n)
{
    if (strlen(s) != n)
        return false;
    for (size_t i = 0; i < n; i++)
        if (!isdigit((unsigned char)s[i]))
            return false;
    return true;
}

static int s_check_date(const char *s, char *err, size_t cap)
{
    static const int days[] = {31, 29, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31};
    bool shape = strlen(s) == 10 && s[4] == '-' && s[7] == '-';
    for (int i = 0; shape && i < 10; i++)
        if (i != 4 && i != 7 && !isdigit((unsigned char)s[i]))
            shape = false;
    if (!shape)
        return s_fail(err, cap, "'%s' is not a date YYYY-MM-DD", s);
    int y = atoi(s), m = atoi(s + 5), d = atoi(s + 8);
    bool leap = (y % 4 == 0 && y % 100 != 0) || y % 400 == 0;
    if (y < 1900 || y > 2199 || m < 1 || m > 12 || d < 1 || d > days[m - 1] ||
        (m == 2 && d == 29 && !leap))
        return s_fail(err, cap, "'%s' is not a real date", s);
    return 0;
}

static int s_check_time(const char *s, char *err, size_t cap)
{
    if (strlen(s) != 5 || s[2] != ':' || !isdigit((unsigned char)s[0]) ||
        !isdigit((unsigned char)s[1]) || !isdigit((unsigned char)s[3]) ||
        !isdigit((unsigned char)s[4]) || atoi(s) > 23 || atoi(s + 3) > 59)
        return s_fail(err, cap, "'%s' is not a time HH:MM", s);
    return 0;
}

static int s_check_email(const char *s, char *err, size_t cap)
{
    const char *at = strchr(s, '@');
    if (!at || at == s || strchr(at + 1, '@') || strlen(s) > 254 || at - s > 64)
        return s_fail(err, cap, "malformed e-mail '%.80s'", s);
    for (const unsigned char *p = (const unsigned char *)s; *p; p++) {
        if (*p <= 0x20 || *p >= 0x7f || strchr("<>()[]\\,;:\"", *p))
            return s_fail(err, cap, "malformed e-mail '%.80s': character not allowed", s);
    }
    const char *dom = at + 1, *dot = strrchr(dom, '.');
    if (!dot || dot == dom || dot[1] == '\0' || strstr(dom, "..") || dom[0] == '-' || s[0] == '.' ||
        at[-1] == '.')
        return s_fail(err, cap, "malformed e-mail '%.80s': bad domain", s);
    return 0;
}

static int s_check_id(const minga_field_t *f, const char *s, char *err, size_t cap)
{
    bool canton = minga_canton_find(s) != NULL;
    if (f->codes == MINGA_CL_CANTON) {
        if (!canton)
            return s_fail(err, cap, "unknown DPA canton code '%.40s'", s);
        return 0;
    }
    if (f->codes == MINGA_CL_PARTY_KIND && canton)
        return 0;
    if (f->codes == MINGA_CL_PARTY_KIND && s_all_digits(s, strlen(s)))
        return s_fail(err, cap, "unknown DPA canton code '%.40s'", s);
    if (!minga_id_valid(s))
        return s_fail(err, cap,
                      "'%.40s' is not a valid id (1-32 of A-Z a-z 0-9 . _ -, first a letter)", s);
    return 0;
}

static const char *s_code_name(minga_codelist_t cl)
{
    switch (cl) {
    case MINGA_CL_DAC:
        return "DAC code";
    case MINGA_CL_COMPETENCY:
        return "COOTAD competency";
    case MINGA_CL_CANTON:
        return "DPA canton code";
    case MINGA_CL_PROVINCE:
        return "DPA province code";
    case MINGA_CL_REGION:
        return "region";
    case MINGA_CL_MODALITY:
        return "modality";
    case MINGA_CL_KIND:
        return "cooperation kind";
    case MINGA_CL_PRIVATE_KIND:
        return "private kind";
    case MINGA_CL_SCOPE:
        return "territorial scope";
    case MINGA_CL_PREFERENCE:
        return "preference";
    case MINGA_CL_PARTY_KIND:
        return "party kind";
    case MINGA_CL_DAC_CATEGORY:
        return "DAC category";
    default:
        return minga_codelist_name(cl) ? minga_codelist_name(cl) : "code";
    }
}

static int s_parse_code(const minga_field_t *f, const char *s, const char **canon, char *err,
                        size_t cap)
{
    const minga_code_t *c = minga_code_find(f->codes, s);
    if (!c)
        return s_fail(err, cap, "unknown %s '%.40s'", s_code_name(f->codes), s);
    *canon = c->code;
    return 0;
}

static int s_parse_uint(const char *s, uint64_t *out, char *err, size_t cap)
{
    if (!*s || strlen(s) > 19 || !s_all_digits(s, strlen(s)))
        return s_fail(err, cap, "'%.40s' is not a whole number >= 0", s);
    *out = strtoull(s, NULL, 10);
    return 0;
}

static int s_parse_bool(const char *s, bool *out, char *err, size_t cap)
{
    char folded[16];
    minga_fold(folded, sizeof folded, s);
    static const char *yes[] = {"si", "s", "true", "1", "yes", "verdadero", "x"};
    static const char *no[] = {"no", "n", "false", "0", "falso"};
    for (size_t i = 0; i < sizeof yes / sizeof yes[0]; i++)
        if (strcmp(folded, yes[i]) == 0)
            return (*out = true), 0;
    for (size_t i = 0; i < sizeof no / sizeof no[0]; i++)
        if (strcmp(folded, no[i]) == 0)
            return (*out = false), 0;
    return s_fail(err, cap, "'%.40s' is not sí or no", s);
}

/* Parses "1-8,11-14" into a sorted, merged canonical string. */
static int s_parse_ranges(const char *s, char **out, char *err, size_t cap)
{
    typedef struct {
        unsigned a, b;
    } range_t;
    range_t r[512];
    size_t n = 0;
    const char *p = s;
    while (*p) {
        while (*p == ' ')
            p++;
        char *end;
        if (!isdigit((unsigned char)*p))
            return s_fail(err, cap, "'%.60s' is not a list of slot ranges like 1-8,11-14", s);
        unsigned long a = strtoul(p, &end, 10), b = a;
        p = end;
        if (*p == '-') {
            p++;
            if (!isdigit((unsigned char)*p))
                return s_fail(err, cap, "'%.60s' is not a list of slot ranges like 1-8,11-14", s);
            b = strtoul(p, &end, 10);
            p = end;
        }
        while (*p == ' ')
            p++;
        if (a < 1 || b > S_MAX_SLOT || a > b)
            return s_fail(err, cap, "slot range %lu-%lu is empty or outside 1..%d", a, b,
                          S_MAX_SLOT);
        if (n == sizeof r / sizeof r[0])
            return s_fail(err, cap, "more than %zu slot ranges", n);
        r[n++] = (range_t){(unsigned)a, (unsigned)b};
        if (*p == ',')
            p++;
        else if (*p)
            return s_fail(err, cap, "'%.60s' is not a list of slot ranges like 1-8,11-14", s);
    }
    for (size_t i = 1; i < n; i++) /* insertion sort: few ranges */
        for (size_t j = i; j > 0 && r[j].a < r[j - 1].a; j--) {
            range_t t = r[j];
            r[j] = r[j - 1];
            r[j - 1] = t;
        }
    char *buf = malloc(n * 12 + 1), *w = buf;
    if (!buf)
        return MINGA_ENOMEM;
    *w = '\0';
    for (size_t i = 0; i < n;) {
        unsigned a = r[i].a, b = r[i].b;
        for (i++; i < n && r[i].a <= b + 1; i++)
            if (r[i].b > b)
                b = r[i].b;
        w += sprintf(w, w == buf ? "%u" : ",%u", a);
        if (b != a)
            w += sprintf(w, "-%u", b);
    }
    *out = buf;
    return 0;
}

/* Parses a ','- (or '|'-) separated list into v, each item validated. */
static int s_parse_list(const minga_field_t *f, const char *s, minga_strv_t *v, char *err,
                        size_t cap)
{
    const char *p = s;
    while (*p) {
        size_t n = strcspn(p, ",|");
        char *item = s_trimmed(p, n);
        if (!item)
            return MINGA_ENOMEM;
        int rc = 0;
        const char *canon = item;
        if (*item == '\0')
            rc = s_fail(err, cap, "empty item in list '%.60s'", s);
        else if (f->type == MINGA_FT_CODES)
            rc = s_parse_code(f, item, &canon, err, cap);
        else if (strlen(item) > (f->max_len ? f->max_len : 64) || !minga_id_valid(item))
            rc = s_fail(err, cap, "'%.40s' is not a valid list item", item);
        for (size_t i = 0; rc == 0 && i < v->n; i++)
            if (strcmp(v->v[i], canon) == 0)
                rc = s_fail(err, cap, "'%.40s' appears twice in the list", canon);
        if (rc == 0)
            rc = minga_strv_push(v, canon);
        free(item);
        if (rc)
            return rc;
        p += n;
        if (*p)
            p++;
    }
    return 0;
}

int minga_field_parse(const minga_field_t *f, void *rec, const char *text, char *err, size_t cap)
{
    /* the text itself when it needs no trimming (the usual case): no copy */
    size_t tlen = text ? strlen(text) : 0;
    bool copied =
        tlen && (isspace((unsigned char)text[0]) || isspace((unsigned char)text[tlen - 1]));
    char *s = copied ? s_trimmed(text, tlen) : (char *)(text ? text : "");
    if (!s)
        return MINGA_ENOMEM;
    void *p = MINGA_FIELD_PTR(rec, f);
    int rc = 0;
    const char *canon = s;
    char *owned = NULL;
    if (*s == '\0') {
        if (f->required)
            rc = s_fail(err, cap, "required value is empty");
        else if (f->type == MINGA_FT_UINT)
            *(uint64_t *)p = 0;
        else if (f->type == MINGA_FT_BOOL)
            *(bool *)p = false;
        else if (f->type == MINGA_FT_CODES || f->type == MINGA_FT_STRS)
            minga_strv_clear(p);
        else {
            free(*(char **)p);
            *(char **)p = NULL;
        }
        if (copied)
            free(s);
        return rc;
    }
    switch (f->type) {
    case MINGA_FT_UINT:
        rc = s_parse_uint(s, p, err, cap);
        break;
    case MINGA_FT_BOOL:
        rc = s_parse_bool(s, p, err, cap);
        break;
    case MINGA_FT_CODES:
    case MINGA_FT_STRS: {
        minga_strv_t v = {0};
        rc = s_parse_list(f, s, &v, err, cap);
        if (rc == 0 && f->type == MINGA_FT_CODES && f->max_len && v.n > f->max_len)
            rc = s_fail(err, cap, "%zu codes is more than the %zu allowed", v.n, f->max_len);
        if (rc == 0) {
            minga_strv_clear(p);
            *(minga_strv_t *)p = v;
        } else {
            minga_strv_clear(&v);
        }
        break;
    }
    default:
        if (f->type == MINGA_FT_STR)
            rc = s_check_text(s, f->max_len ? f->max_len : S_DEFAULT_MAX_LEN, err, cap);
        else if (f->type == MINGA_FT_ID)
            rc = s_check_id(f, s, err, cap);
        else if (f->type == MINGA_FT_DATE)
            rc = s_check_date(s, err, cap);
        else if (f->type == MINGA_FT_TIME)
            rc = s_check_time(s, err, cap);
        else if (f->type == MINGA_FT_EMAIL)
            rc = s_check_email(s, err, cap);
        else if (f->type == MINGA_FT_CODE)
            rc = s_parse_code(f, s, &canon, err, cap);
        else if (f->type == MINGA_FT_RANGES)
            rc = s_parse_ranges(s, &owned, err, cap), canon = owned;
        if (rc == 0 && f->type == MINGA_FT_RANGES && f->max_len && strlen(owned) > f->max_len)
            rc = s_fail(err, cap, "slot ranges of %zu bytes are longer than %zu", strlen(owned),
                        f->max_len);
        if (rc == 0) {
            char *copy = owned ? owned : (copied && canon == s) ? s : strdup(canon);
            if (copy == s)
                copied = false; /* the record owns the trimmed copy now */
            owned = NULL;
            if (!copy) {
                rc = MINGA_ENOMEM;
                break;
            }
            free(*(char **)p);
            *(char **)p = copy;
        }
        break;
    }
    free(owned);
    if (copied)
        free(s);
    return rc;
}

char *minga_field_format(const minga_field_t *f, const void *rec)
{
    const void *p = MINGA_FIELD_PTR(rec, f);
    char num[32];
    switch (f->type) {
    case MINGA_FT_UINT:
        if (!f->required && *(const uint64_t *)p == 0)
            return strdup("");
        snprintf(num, sizeof num, "%llu", (unsigned long long)*(const uint64_t *)p);
        return strdup(num);
    case MINGA_FT_BOOL:
        return strdup(*(const bool *)p ? "sí" : "no");
    case MINGA_FT_CODES:
    case MINGA_FT_STRS: {
        const minga_strv_t *v = p;
        size_t len = 1;
        for (size_t i = 0; i < v->n; i++)
            len += strlen(v->v[i]) + 1;
        char *s = malloc(len), *w = s;
        if (!s)
            return NULL;
        *w = '\0';
        for (size_t i = 0; i < v->n; i++)
            w += sprintf(w, i ? ",%s" : "%s", v->v[i]);
        return s;
    }
    default:
        return strdup(*(char *const *)p ? *(char *const *)p : "");
    }
}
