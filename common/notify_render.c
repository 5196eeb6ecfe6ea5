/*
 * notify_render.c: a participant's agenda as the e-mail shows it (notify.h): the Spanish text
 * and HTML bodies, the .ics, the subject, the items kept in the outbox for the next version,
 * and the content hash that decides whether a new version is due.
 *
 * Every text that comes from the registry (names, titles, reasons) is cleaned to one line of
 * valid UTF-8 (minga_mail_clean) before it is used, and escaped in the HTML.
 */
#include "minga/error.h"
#include "minga/ics.h"
#include "minga/mail.h"
#include "minga/notify.h"
#include "minga/proto.h"

#include <msgpack.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

/* ---- a growable string ---- */

typedef struct {
    char *s;
    size_t len, cap;
    bool oom;
} s_str_t;

static void s_add(s_str_t *b, const char *s, size_t n)
{
    if (b->oom)
        return;
    if (b->len + n + 1 > b->cap) {
        size_t cap = b->cap ? b->cap * 2 : 2048;
        while (cap < b->len + n + 1)
            cap *= 2;
        char *d = realloc(b->s, cap);
        if (!d) {
            b->oom = true;
            return;
        }
        b->s = d, b->cap = cap;
    }
    memcpy(b->s + b->len, s, n);
    b->len += n;
    b->s[b->len] = 0;
}

static void s_addf(s_str_t *b, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static void s_addf(s_str_t *b, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    char *t = NULL;
    int n = vasprintf(&t, fmt, ap);
    va_end(ap);
    if (n < 0) {
        b->oom = true;
        return;
    }
    s_add(b, t, (size_t)n);
    free(t);
}

/* Appends s with the HTML specials escaped. */
static void s_add_html(s_str_t *b, const char *s)
{
    for (const char *p = s; *p; p++) {
        switch (*p) {
        case '&':
            s_add(b, "&amp;", 5);
            break;
        case '<':
            s_add(b, "&lt;", 4);
            break;
        case '>':
            s_add(b, "&gt;", 4);
            break;
        case '"':
            s_add(b, "&quot;", 6);
            break;
        case '\'':
            s_add(b, "&#39;", 5);
            break;
        default:
            s_add(b, p, 1);
        }
    }
}

/* ---- Spanish dates ---- */

static const char *const s_days[] = {"domingo", "lunes",   "martes", "miércoles",
                                     "jueves",  "viernes", "sábado"};
static const char *const s_months[] = {"enero",      "febrero", "marzo",     "abril",
                                       "mayo",       "junio",   "julio",     "agosto",
                                       "septiembre", "octubre", "noviembre", "diciembre"};

/* "jueves 12 de noviembre de 2026" from "2026-11-12" (the text itself when malformed). */
static void s_long_date(char *dst, size_t cap, const char *date, bool weekday)
{
    int y, m, d;
    if (!date || sscanf(date, "%4d-%2d-%2d", &y, &m, &d) != 3 || m < 1 || m > 12 || d < 1 ||
        d > 31) {
        snprintf(dst, cap, "%s", date ? date : "");
        return;
    }
    struct tm tm = {.tm_year = y - 1900, .tm_mon = m - 1, .tm_mday = d, .tm_hour = 12};
    time_t t = timegm(&tm);
    gmtime_r(&t, &tm);
    if (weekday)
        snprintf(dst, cap, "%s %d de %s de %d", s_days[tm.tm_wday], d, s_months[m - 1], y);
    else
        snprintf(dst, cap, "%d de %s de %d", d, s_months[m - 1], y);
}

/* ---- items ---- */

static char *s_clean(const char *s)
{
    return minga_mail_clean(s, 300);
}

static void s_item_clear(minga_notify_item_t *it)
{
    free(it->uid);
    free(it->date);
    free(it->start_hm);
    free(it->end_hm);
    free(it->counterpart);
    free(it->demand);
    free(it->offer);
    free(it->reasons);
    memset(it, 0, sizeof *it);
}

void minga_notify_content_clear(minga_notify_content_t *c)
{
    if (!c)
        return;
    free(c->subject);
    free(c->text);
    free(c->html);
    free(c->ics);
    free(c->to);
    free(c->name);
    for (size_t i = 0; i < c->n; i++)
        s_item_clear(&c->items[i]);
    free(c->items);
    free(c->packed);
    memset(c, 0, sizeof *c);
}

static int s_item_from_agenda(const minga_agenda_t *a, const minga_agenda_item_t *m,
                              minga_notify_item_t *it)
{
    const char *gad = strcmp(a->kind, "gad") == 0 ? a->party : m->counterpart;
    const char *coop = strcmp(a->kind, "gad") == 0 ? m->counterpart : a->party;
    if (asprintf(&it->uid, "%s.%s.%s.s%u.t%u@minga", a->event.id, gad, coop, m->slot, m->table) <
        0) {
        it->uid = NULL;
        return MINGA_ENOMEM;
    }
    if (minga_iso8601_parse(m->time.start, &it->start) != 0 ||
        minga_iso8601_parse(m->time.end, &it->end) != 0)
        return MINGA_EFORMAT;
    it->table = m->table;
    it->date = strdup(m->time.date);
    it->start_hm = strdup(m->time.start_hm);
    it->end_hm = strdup(m->time.end_hm);
    char *name = s_clean(m->counterpart_name ? m->counterpart_name : m->counterpart);
    char *detail =
        m->counterpart_detail && *m->counterpart_detail ? s_clean(m->counterpart_detail) : NULL;
    if (name && detail)
        (void)!asprintf(&it->counterpart, "%s (%s)", name, detail);
    else if (name)
        it->counterpart = strdup(name);
    free(name);
    free(detail);
    it->demand = s_clean(m->demand_title ? m->demand_title : m->demand);
    it->offer = s_clean(m->offer_title ? m->offer_title : m->offer);
    s_str_t r = {0};
    for (size_t i = 0; i < m->nreasons; i++) {
        char *c = s_clean(m->reasons[i]);
        if (c && *c)
            s_addf(&r, "%s%s", r.len ? "; " : "", c);
        free(c);
    }
    it->reasons = r.s ? r.s : strdup("");
    if (!it->date || !it->start_hm || !it->end_hm || !it->counterpart || !it->demand ||
        !it->offer || !it->reasons || r.oom)
        return MINGA_ENOMEM;
    return 0;
}

/* ---- the items kept in the outbox: [[uid, start, end, table, date, start_hm, end_hm,
 * counterpart, cancelled], ...] ---- */

static int s_pack_items(const minga_notify_content_t *c, uint8_t **out, size_t *len)
{
    minga_pbuf_t b;
    minga_pbuf_init(&b);
    msgpack_pack_array(&b.pk, (uint32_t)c->n);
    for (size_t i = 0; i < c->n; i++) {
        const minga_notify_item_t *it = &c->items[i];
        msgpack_pack_array(&b.pk, 9);
        minga_pk_str(&b.pk, it->uid);
        msgpack_pack_int64(&b.pk, it->start);
        msgpack_pack_int64(&b.pk, it->end);
        msgpack_pack_uint32(&b.pk, it->table);
        minga_pk_str(&b.pk, it->date);
        minga_pk_str(&b.pk, it->start_hm);
        minga_pk_str(&b.pk, it->end_hm);
        minga_pk_str(&b.pk, it->counterpart);
        if (it->cancelled)
            msgpack_pack_true(&b.pk);
        else
            msgpack_pack_false(&b.pk);
    }
    *out = malloc(b.sbuf.size);
    if (*out) {
        memcpy(*out, b.sbuf.data, b.sbuf.size);
        *len = b.sbuf.size;
    }
    minga_pbuf_clear(&b);
    return *out ? 0 : MINGA_ENOMEM;
}

static bool s_has_uid(const minga_notify_content_t *c, size_t n, const char *uid, size_t len)
{
    for (size_t i = 0; i < n; i++)
        if (strlen(c->items[i].uid) == len && memcmp(c->items[i].uid, uid, len) == 0)
            return true;
    return false;
}

static char *s_obj_str(const msgpack_object *o)
{
    if (o->type != MSGPACK_OBJECT_STR)
        return NULL;
    return strndup(o->via.str.ptr, o->via.str.size);
}

/* Adds, as cancelled, every item of prev (the latest version's) whose uid the standing
 * meetings (the first nstanding items) do not hold. Malformed entries are skipped. */
static int s_carry_cancelled(minga_notify_content_t *c, size_t nstanding, const uint8_t *prev,
                             size_t prev_len)
{
    if (!prev || !prev_len)
        return 0;
    msgpack_unpacked up;
    msgpack_unpacked_init(&up);
    size_t off = 0;
    int rc = 0;
    if (minga_mp_validate(prev, prev_len, 4) != 0 ||
        msgpack_unpack_next(&up, (const char *)prev, prev_len, &off) != MSGPACK_UNPACK_SUCCESS ||
        up.data.type != MSGPACK_OBJECT_ARRAY)
        goto done;
    for (uint32_t i = 0; i < up.data.via.array.size && rc == 0; i++) {
        const msgpack_object *e = &up.data.via.array.ptr[i];
        if (e->type != MSGPACK_OBJECT_ARRAY || e->via.array.size != 9)
            continue;
        const msgpack_object *f = e->via.array.ptr;
        if (f[0].type != MSGPACK_OBJECT_STR ||
            s_has_uid(c, nstanding, f[0].via.str.ptr, f[0].via.str.size) ||
            s_has_uid(c, c->n, f[0].via.str.ptr, f[0].via.str.size))
            continue;
        if ((f[1].type != MSGPACK_OBJECT_POSITIVE_INTEGER &&
             f[1].type != MSGPACK_OBJECT_NEGATIVE_INTEGER) ||
            (f[2].type != MSGPACK_OBJECT_POSITIVE_INTEGER &&
             f[2].type != MSGPACK_OBJECT_NEGATIVE_INTEGER) ||
            f[3].type != MSGPACK_OBJECT_POSITIVE_INTEGER)
            continue;
        minga_notify_item_t *items = realloc(c->items, (c->n + 1) * sizeof *items);
        if (!items) {
            rc = MINGA_ENOMEM;
            break;
        }
        c->items = items;
        minga_notify_item_t *it = &c->items[c->n];
        memset(it, 0, sizeof *it);
        it->uid = s_obj_str(&f[0]);
        it->start = f[1].via.i64;
        it->end = f[2].via.i64;
        it->table = (unsigned)f[3].via.u64;
        it->date = s_obj_str(&f[4]);
        it->start_hm = s_obj_str(&f[5]);
        it->end_hm = s_obj_str(&f[6]);
        it->counterpart = s_obj_str(&f[7]);
        it->demand = strdup("");
        it->offer = strdup("");
        it->reasons = strdup("");
        it->cancelled = true;
        if (!it->uid || !it->date || !it->start_hm || !it->end_hm || !it->counterpart ||
            !it->demand || !it->offer || !it->reasons) {
            s_item_clear(it);
            continue;
        }
        c->n++;
    }
done:
    msgpack_unpacked_destroy(&up);
    return rc;
}

static int s_cmp_cancelled(const void *a, const void *b)
{
    const minga_notify_item_t *x = a, *y = b;
    if (x->start != y->start)
        return x->start < y->start ? -1 : 1;
    return strcmp(x->uid, y->uid);
}

/* ---- bodies ---- */

static void s_text(s_str_t *t, const minga_agenda_t *a, const minga_notify_content_t *c,
                   size_t nstanding, const char *event_name, const char *venue)
{
    char d1[80], d2[80], when[200];
    s_long_date(d1, sizeof d1, a->event.date_start, false);
    s_long_date(d2, sizeof d2, a->event.date_end, false);
    const char *ds = a->event.date_start, *de = a->event.date_end;
    if (de && ds && strcmp(ds, de) && strlen(ds) == 10 && strlen(de) == 10 &&
        strncmp(ds, de, 8) == 0)
        snprintf(when, sizeof when, "del %d al %s", atoi(ds + 8), d2); /* same month */
    else if (de && ds && strcmp(ds, de))
        snprintf(when, sizeof when, "del %s al %s", d1, d2);
    else
        snprintf(when, sizeof when, "el %s", d1);
    s_addf(t, "Estimados representantes de %s:\n\n", c->name);
    s_addf(t, "Les enviamos su agenda para la %s, que se realizará %s%s%s.\n\n", event_name, when,
           *venue ? " en " : "", venue);
    if (nstanding == 0)
        s_addf(t, "Por ahora no tienen reuniones programadas en esta rueda de negocios. Les "
                  "avisaremos si esto cambia.\n\n");
    else
        s_addf(t, "Tienen %zu %s:\n\n", nstanding,
               nstanding == 1 ? "reunión programada" : "reuniones programadas");
    for (size_t i = 0; i < nstanding; i++) {
        const minga_notify_item_t *it = &c->items[i];
        char day[80];
        s_long_date(day, sizeof day, it->date, true);
        s_addf(t, "%zu. %s, de %s a %s, mesa %u\n", i + 1, day, it->start_hm, it->end_hm,
               it->table);
        s_addf(t, "   Con: %s\n   Demanda: %s\n   Oferta: %s\n", it->counterpart, it->demand,
               it->offer);
        if (*it->reasons)
            s_addf(t, "   Por qué coinciden: %s\n", it->reasons);
        s_add(t, "\n", 1);
    }
    if (c->n > nstanding) {
        s_addf(t, "Reuniones canceladas (ya no se realizarán):\n");
        for (size_t i = nstanding; i < c->n; i++) {
            const minga_notify_item_t *it = &c->items[i];
            char day[80];
            s_long_date(day, sizeof day, it->date, true);
            s_addf(t, "- %s, de %s a %s, mesa %u, con %s\n", day, it->start_hm, it->end_hm,
                   it->table, it->counterpart);
        }
        s_add(t, "\n", 1);
    }
    s_addf(t,
           "Adjuntamos el archivo agenda.ics para que puedan agregar sus reuniones a su "
           "calendario. Las horas están en la hora local del evento (%s).\n\n",
           a->event.timezone ? a->event.timezone : "America/Guayaquil");
    s_addf(t, "Atentamente,\nRueda de Negocios de Cooperación Internacional\nAsociación de "
              "Municipalidades Ecuatorianas (AME)\n");
}

static void s_html(s_str_t *h, const minga_notify_content_t *c, size_t nstanding,
                   const char *event_name, const char *venue)
{
    s_addf(h, "<!DOCTYPE html>\n<html lang=\"es\"><head><meta charset=\"utf-8\"><title>");
    s_add_html(h, c->subject);
    s_addf(h, "</title></head>\n<body style=\"font-family:sans-serif\">\n<p>Estimados "
              "representantes de <strong>");
    s_add_html(h, c->name);
    s_addf(h, "</strong>:</p>\n<p>Les enviamos su agenda para la ");
    s_add_html(h, event_name);
    if (*venue) {
        s_addf(h, " (");
        s_add_html(h, venue);
        s_addf(h, ")");
    }
    s_addf(h, ".</p>\n");
    if (nstanding == 0) {
        s_addf(h, "<p>Por ahora no tienen reuniones programadas en esta rueda de negocios. Les "
                  "avisaremos si esto cambia.</p>\n");
    } else {
        s_addf(h, "<table border=\"1\" cellpadding=\"4\" style=\"border-collapse:collapse\">\n"
                  "<tr><th>Fecha</th><th>Hora</th><th>Mesa</th><th>Con</th><th>Demanda</th>"
                  "<th>Oferta</th><th>Por qué coinciden</th></tr>\n");
        for (size_t i = 0; i < nstanding; i++) {
            const minga_notify_item_t *it = &c->items[i];
            char day[80];
            s_long_date(day, sizeof day, it->date, true);
            s_addf(h, "<tr><td>%s</td><td>%s–%s</td><td>%u</td><td>", day, it->start_hm, it->end_hm,
                   it->table);
            s_add_html(h, it->counterpart);
            s_addf(h, "</td><td>");
            s_add_html(h, it->demand);
            s_addf(h, "</td><td>");
            s_add_html(h, it->offer);
            s_addf(h, "</td><td>");
            s_add_html(h, it->reasons);
            s_addf(h, "</td></tr>\n");
        }
        s_addf(h, "</table>\n");
    }
    if (c->n > nstanding) {
        s_addf(h, "<p>Reuniones canceladas (ya no se realizarán):</p>\n<ul>\n");
        for (size_t i = nstanding; i < c->n; i++) {
            const minga_notify_item_t *it = &c->items[i];
            char day[80];
            s_long_date(day, sizeof day, it->date, true);
            s_addf(h, "<li><s>%s, de %s a %s, mesa %u</s>, con ", day, it->start_hm, it->end_hm,
                   it->table);
            s_add_html(h, it->counterpart);
            s_addf(h, "</li>\n");
        }
        s_addf(h, "</ul>\n");
    }
    s_addf(h, "<p>Adjuntamos el archivo <em>agenda.ics</em> para su calendario.</p>\n"
              "<p>Atentamente,<br>Rueda de Negocios de Cooperación Internacional<br>"
              "Asociación de Municipalidades Ecuatorianas (AME)</p>\n</body></html>\n");
}

static int s_ics(minga_notify_content_t *c, size_t nstanding, const minga_agenda_t *a,
                 const char *venue, uint32_t version, int64_t stamp)
{
    minga_ics_event_t *ev = calloc(c->n ? c->n : 1, sizeof *ev);
    char **texts = calloc(c->n ? c->n * 3 : 1, sizeof *texts);
    int rc = ev && texts ? 0 : MINGA_ENOMEM;
    for (size_t i = 0; rc == 0 && i < c->n; i++) {
        const minga_notify_item_t *it = &c->items[i];
        int n1 = asprintf(&texts[i * 3], "Reunión con %s", it->counterpart);
        int n2 = i < nstanding
                     ? asprintf(&texts[i * 3 + 1], "Demanda: %s\nOferta: %s\nPor qué coinciden: %s",
                                it->demand, it->offer, it->reasons)
                     : asprintf(&texts[i * 3 + 1], "Reunión cancelada.");
        int n3 = asprintf(&texts[i * 3 + 2], "Mesa %u%s%s", it->table, *venue ? " — " : "", venue);
        if (n1 < 0 || n2 < 0 || n3 < 0) {
            rc = MINGA_ENOMEM;
            break;
        }
        ev[i] = (minga_ics_event_t){it->uid,          it->start,        it->end,      texts[i * 3],
                                    texts[i * 3 + 1], texts[i * 3 + 2], it->cancelled};
    }
    char *calname = NULL;
    if (rc == 0 && asprintf(&calname, "Agenda de %s — %s", c->name,
                            a->event.name ? a->event.name : a->event.id) < 0)
        rc = MINGA_ENOMEM, calname = NULL;
    if (rc == 0) {
        minga_ics_t cal = {a->event.timezone && *a->event.timezone ? a->event.timezone
                                                                   : "America/Guayaquil",
                           calname,
                           stamp,
                           version,
                           ev,
                           c->n};
        rc = minga_ics_render(&cal, &c->ics);
    }
    for (size_t i = 0; texts && i < c->n * 3; i++)
        free(texts[i]);
    free(texts);
    free(ev);
    free(calname);
    return rc;
}

static uint64_t s_fnv(uint64_t h, const void *data, size_t n)
{
    const unsigned char *p = data;
    for (size_t i = 0; i < n; i++)
        h = (h ^ p[i]) * 1099511628211ull;
    return (h ^ 0xff) * 1099511628211ull; /* a separator, so that fields do not run together */
}

int minga_notify_render(const minga_agenda_t *a, const uint8_t *prev_items, size_t prev_len,
                        uint32_t version, int64_t stamp, minga_notify_content_t *c)
{
    memset(c, 0, sizeof *c);
    int rc = MINGA_ENOMEM;
    c->name = s_clean(a->name && *a->name ? a->name : a->party);
    c->to = a->email && *a->email ? strdup(a->email) : NULL;
    char *event_name = s_clean(a->event.name && *a->event.name ? a->event.name : a->event.id);
    char *venue = s_clean(a->event.venue);
    if (!c->name || (a->email && *a->email && !c->to) || !event_name || !venue)
        goto fail;
    c->items = calloc(a->n ? a->n : 1, sizeof *c->items);
    if (!c->items)
        goto fail;
    for (size_t i = 0; i < a->n; i++) {
        c->n = i + 1;
        if ((rc = s_item_from_agenda(a, &a->items[i], &c->items[i])) != 0)
            goto fail;
    }
    size_t nstanding = c->n;
    if ((rc = s_carry_cancelled(c, nstanding, prev_items, prev_len)) != 0)
        goto fail;
    qsort(c->items + nstanding, c->n - nstanding, sizeof *c->items, s_cmp_cancelled);
    rc = MINGA_ENOMEM;
    if (version > 1) {
        if (asprintf(&c->subject, "Su agenda para la %s (versión %u)", event_name, version) < 0)
            c->subject = NULL;
    } else if (asprintf(&c->subject, "Su agenda para la %s", event_name) < 0) {
        c->subject = NULL;
    }
    s_str_t t = {0}, h = {0};
    s_text(&t, a, c, nstanding, event_name, venue);
    c->text = t.s;
    if (!c->subject || t.oom)
        goto fail;
    s_html(&h, c, nstanding, event_name, venue);
    c->html = h.s;
    if (h.oom)
        goto fail;
    if ((rc = s_ics(c, nstanding, a, venue, version, stamp)) != 0 ||
        (rc = s_pack_items(c, &c->packed, &c->packed_len)) != 0)
        goto fail;
    uint64_t hash = 1469598103934665603ull;
    hash = s_fnv(hash, c->to ? c->to : "", c->to ? strlen(c->to) : 0);
    hash = s_fnv(hash, c->name, strlen(c->name));
    hash = s_fnv(hash, c->text, strlen(c->text));
    hash = s_fnv(hash, c->packed, c->packed_len);
    c->hash = hash;
    free(event_name);
    free(venue);
    return 0;
fail:
    free(event_name);
    free(venue);
    minga_notify_content_clear(c);
    return rc;
}

void minga_notify_message_id(char *dst, size_t cap, const char *event, const char *party,
                             uint32_t version, const char *domain)
{
    char host[256] = "localhost";
    if (!domain || !*domain) {
        if (gethostname(host, sizeof host) != 0 || !host[0])
            snprintf(host, sizeof host, "localhost");
        host[sizeof host - 1] = 0;
        domain = host;
    }
    snprintf(dst, cap, "<minga.%s.%s.v%u@%s>", event, party, version, domain);
}
