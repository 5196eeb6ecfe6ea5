/*
 * meeting.c: the meeting records of an event — encoding, the atomic writes (replace the
 * timetable, change a status, cancel into the history), reading back in key order, the
 * export, and the times of the event's slots. See meeting.h for the layout.
 */
#include "minga/meeting.h"

#include "minga/error.h"
#include "minga/io.h"
#include "minga/match_store.h"
#include "minga/mpguard.h"
#include "minga/proto.h"

#include <jansson.h>
#include <stdlib.h>
#include <string.h>

#define S_KEY_LEN (MINGA_KEY_ID + 4)
#define S_HKEY_LEN (MINGA_KEY_ID + 8)

/* ---- status ---- */

static const char *const s_status_names[] = {"scheduled", "held", "noshow", "cancelled"};
static const char *const s_status_texts[] = {"programada", "realizada", "no asistió", "cancelada"};

const char *minga_meeting_status_name(int status)
{
    return status >= 0 && status < 4 ? s_status_names[status] : NULL;
}

int minga_meeting_status_parse(const char *name)
{
    for (int i = 0; name && i < 4; i++)
        if (strcmp(name, s_status_names[i]) == 0)
            return i;
    return -1;
}

const char *minga_meeting_status_text(int status)
{
    return status >= 0 && status < 4 ? s_status_texts[status] : "?";
}

/* ---- slot times ---- */

static int s_hm(const char *s)
{
    if (!s || strlen(s) != 5 || s[2] != ':')
        return -1;
    for (int i = 0; i < 5; i++)
        if (i != 2 && (s[i] < '0' || s[i] > '9'))
            return -1;
    return ((s[0] - '0') * 10 + (s[1] - '0')) * 60 + (s[3] - '0') * 10 + (s[4] - '0');
}

/* Days since 1970-01-01 of a proleptic Gregorian date (Howard Hinnant's days_from_civil). */
static long s_days(int y, unsigned m, unsigned d)
{
    y -= m <= 2;
    long era = (y >= 0 ? y : y - 399) / 400;
    unsigned yoe = (unsigned)(y - era * 400);
    unsigned doy = (153 * (m + (m > 2 ? -3 : 9)) + 2) / 5 + d - 1;
    unsigned doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    return era * 146097 + (long)doe - 719468;
}

static void s_civil(long z, int *y, unsigned *m, unsigned *d)
{
    z += 719468;
    long era = (z >= 0 ? z : z - 146096) / 146097;
    unsigned doe = (unsigned)(z - era * 146097);
    unsigned yoe = (doe - doe / 1460 + doe / 36524 - doe / 146096) / 365;
    unsigned doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    unsigned mp = (5 * doy + 2) / 153;
    *d = doy - (153 * mp + 2) / 5 + 1;
    *m = mp < 10 ? mp + 3 : mp - 9;
    *y = (int)yoe + (int)era * 400 + (*m <= 2);
}

static int s_date(const char *s, long *days)
{
    if (!s || strlen(s) != 10 || s[4] != '-' || s[7] != '-')
        return MINGA_EINVAL;
    int y = atoi(s), m = atoi(s + 5), d = atoi(s + 8);
    if (m < 1 || m > 12 || d < 1 || d > 31)
        return MINGA_EINVAL;
    *days = s_days(y, (unsigned)m, (unsigned)d);
    return 0;
}

static int s_offset(const char *tz, int *minutes)
{
    static const struct {
        const char *name;
        int offset;
    } zones[] = {
        {"America/Guayaquil", -300}, {"Pacific/Galapagos", -360}, {"UTC", 0}, {"Etc/UTC", 0}};
    for (size_t i = 0; i < sizeof zones / sizeof zones[0]; i++)
        if (tz && strcmp(tz, zones[i].name) == 0) {
            *minutes = zones[i].offset;
            return 0;
        }
    return MINGA_EINVAL;
}

unsigned minga_event_slots_per_day(const minga_event_t *ev)
{
    int a = s_hm(ev->day_start), b = s_hm(ev->day_end);
    if (a < 0 || b < a || ev->slot_minutes == 0)
        return 0;
    return (unsigned)((uint64_t)(b - a) / ev->slot_minutes);
}

unsigned minga_event_slots(const minga_event_t *ev)
{
    long d0, d1;
    if (s_date(ev->date_start, &d0) || s_date(ev->date_end, &d1) || d1 < d0)
        return 0;
    uint64_t n = (uint64_t)(d1 - d0 + 1) * minga_event_slots_per_day(ev);
    return n > 65535 ? 65535 : (unsigned)n;
}

static void s_iso(char *out, size_t cap, long day, int minute, int offset)
{
    int y;
    unsigned m, d;
    s_civil(day, &y, &m, &d);
    int off = offset < 0 ? -offset : offset;
    snprintf(out, cap, "%04d-%02u-%02uT%02d:%02d:00%c%02d:%02d", y, m, d, minute / 60, minute % 60,
             offset < 0 ? '-' : '+', off / 60, off % 60);
}

int minga_event_slot_time(const minga_event_t *ev, unsigned slot, minga_slot_time_t *out)
{
    memset(out, 0, sizeof *out);
    unsigned per_day = minga_event_slots_per_day(ev);
    long d0;
    int offset;
    if (per_day == 0 || slot < 1 || slot > minga_event_slots(ev) || s_date(ev->date_start, &d0) ||
        s_offset(ev->timezone, &offset))
        return MINGA_EINVAL;
    unsigned i = slot - 1;
    out->day = i / per_day;
    int start = s_hm(ev->day_start) + (int)((i % per_day) * ev->slot_minutes);
    int end = start + (int)ev->slot_minutes;
    long day = d0 + (long)out->day;
    s_iso(out->start, sizeof out->start, day, start, offset);
    s_iso(out->end, sizeof out->end, day, end, offset);
    memcpy(out->date, out->start, 10);
    memcpy(out->start_hm, out->start + 11, 5);
    memcpy(out->end_hm, out->end + 11, 5);
    out->utc_offset_min = offset;
    return 0;
}

int minga_event_load(minga_store_t *store, MDB_txn *txn, const char *id, minga_event_t *ev)
{
    memset(ev, 0, sizeof *ev);
    uint8_t key[MINGA_KEY_ID];
    if (minga_key_id(key, id) != 0)
        return MINGA_EINVAL;
    MDB_txn *own = NULL;
    int rc = 0;
    if (!txn && (rc = minga_store_read_begin(store, &own)) != 0)
        return rc;
    MDB_val k = {MINGA_KEY_ID, key}, v;
    rc = mdb_get(txn ? txn : own, minga_store_dbi(store, MINGA_DB_EVENT), &k, &v);
    if (rc == MDB_NOTFOUND)
        rc = MINGA_ENOTFOUND;
    char err[256];
    if (rc == 0)
        rc = minga_record_decode(&minga_rtype_event, v.mv_data, v.mv_size, ev, err, sizeof err);
    if (own)
        mdb_txn_abort(own);
    return rc;
}

/* ---- encoding ---- */

int minga_meeting_encode(const minga_meeting_t *m, msgpack_sbuffer *sb)
{
    msgpack_packer pk;
    msgpack_packer_init(&pk, sb, msgpack_sbuffer_write);
    size_t before = sb->size;
    bool hist = m->status == MINGA_MEETING_CANCELLED;
    int rc = msgpack_pack_map(&pk, hist ? 11 : 10);
    rc |= minga_pk_kv_uint(&pk, "v", MINGA_MEETING_VERSION);
    rc |= minga_pk_kv_uint(&pk, "slot", m->slot);
    rc |= minga_pk_kv_uint(&pk, "table", m->table);
    rc |= minga_pk_kv_str(&pk, "gad", m->gad);
    rc |= minga_pk_kv_str(&pk, "cooperante", m->cooperante);
    rc |= minga_pk_kv_str(&pk, "demand", m->demand);
    rc |= minga_pk_kv_str(&pk, "offer", m->offer);
    rc |= minga_pk_kv_uint(&pk, "score", m->score < 0 ? 0 : (uint64_t)m->score);
    rc |= minga_pk_kv_str(&pk, "status", minga_meeting_status_name(m->status));
    rc |= minga_pk_str(&pk, "reasons");
    rc |= msgpack_pack_array(&pk, m->nreasons);
    for (unsigned i = 0; i < m->nreasons; i++)
        rc |= msgpack_pack_uint32(&pk, m->reasons[i]);
    if (hist)
        rc |= minga_pk_kv_uint(&pk, "cancelled_at", m->cancelled_at);
    if (rc) {
        sb->size = before;
        return MINGA_ENOMEM;
    }
    return 0;
}

static int s_copy_str(const msgpack_object *o, char *dst, size_t cap, bool required)
{
    size_t len;
    const char *p = minga_pobj_str(o, &len);
    if (!p)
        return required ? MINGA_EFORMAT : 0;
    if (len >= cap || memchr(p, 0, len))
        return MINGA_EFORMAT;
    memcpy(dst, p, len);
    dst[len] = 0;
    return 0;
}

int minga_meeting_decode(const void *buf, size_t len, minga_meeting_t *m)
{
    memset(m, 0, sizeof *m);
    static const minga_pfield_t fields[] = {
        {"v", MINGA_PF_UINT, true, 1, UINT64_MAX},
        {"slot", MINGA_PF_UINT, true, 1, 65535},
        {"table", MINGA_PF_UINT, true, 1, 65535},
        {"gad", MINGA_PF_STR, true, 4, 4},
        {"cooperante", MINGA_PF_STR, true, 1, MINGA_KEY_ID},
        {"demand", MINGA_PF_STR, true, 1, MINGA_KEY_ID},
        {"offer", MINGA_PF_STR, true, 1, MINGA_KEY_ID},
        {"score", MINGA_PF_UINT, true, 0, MINGA_MATCH_SCORE_MAX},
        {"status", MINGA_PF_STR, true, 1, 16},
        {"reasons", MINGA_PF_ARRAY, false, 0, MINGA_MATCH_REASONS_MAX},
        {"cancelled_at", MINGA_PF_UINT, false, 0, UINT64_MAX},
    };
    const msgpack_object *v[11];
    msgpack_unpacked up;
    msgpack_unpacked_init(&up);
    size_t off = 0;
    char err[128];
    int rc = MINGA_EFORMAT;
    if (minga_mpguard_check(buf, len, 4) != 0 ||
        msgpack_unpack_next(&up, buf, len, &off) != MSGPACK_UNPACK_SUCCESS ||
        minga_pfields(&up.data, fields, 11, v, false, err, sizeof err) != 0)
        goto done;
    if (minga_pobj_uint(v[0], 0) > MINGA_MEETING_VERSION) {
        rc = MINGA_EVERSION;
        goto done;
    }
    m->slot = (uint16_t)minga_pobj_uint(v[1], 0);
    m->table = (uint16_t)minga_pobj_uint(v[2], 0);
    if (s_copy_str(v[3], m->gad, sizeof m->gad, true) ||
        s_copy_str(v[4], m->cooperante, sizeof m->cooperante, true) ||
        s_copy_str(v[5], m->demand, sizeof m->demand, true) ||
        s_copy_str(v[6], m->offer, sizeof m->offer, true))
        goto done;
    m->score = (int32_t)minga_pobj_uint(v[7], 0);
    char status[17];
    if (s_copy_str(v[8], status, sizeof status, true))
        goto done;
    int st = minga_meeting_status_parse(status);
    if (st < 0)
        goto done;
    m->status = (uint8_t)st;
    for (uint32_t i = 0; v[9] && i < v[9]->via.array.size; i++) {
        const msgpack_object *r = &v[9]->via.array.ptr[i];
        if (r->type != MSGPACK_OBJECT_POSITIVE_INTEGER || r->via.u64 > UINT32_MAX)
            goto done;
        m->reasons[m->nreasons++] = (uint32_t)r->via.u64;
    }
    m->cancelled_at = minga_pobj_uint(v[10], 0);
    rc = 0;
done:
    msgpack_unpacked_destroy(&up);
    if (rc)
        memset(m, 0, sizeof *m);
    return rc;
}

/* ---- keys and the summary ---- */

static int s_key(uint8_t *key, const char *event, unsigned slot, unsigned table)
{
    memset(key, 0, S_KEY_LEN);
    if (!event || minga_key_id(key, event) != 0 || !minga_id_valid(event))
        return MINGA_EINVAL;
    minga_key_u16(key + MINGA_KEY_ID, (uint16_t)slot);
    minga_key_u16(key + MINGA_KEY_ID + 2, (uint16_t)table);
    return 0;
}

static int s_put_summary(MDB_txn *txn, MDB_dbi dbi, const char *event,
                         const minga_meeting_summary_t *s)
{
    minga_pbuf_t b;
    minga_pbuf_init(&b);
    msgpack_pack_map(&b.pk, 10);
    minga_pk_kv_uint(&b.pk, "v", MINGA_MEETING_VERSION);
    minga_pk_kv_uint(&b.pk, "revision", s->revision);
    minga_pk_kv_uint(&b.pk, "meetings", s->meetings);
    minga_pk_kv_uint(&b.pk, "total_score", s->total_score);
    minga_pk_kv_uint(&b.pk, "gads", s->gads);
    minga_pk_kv_uint(&b.pk, "gads_below", s->gads_below);
    minga_pk_kv_uint(&b.pk, "slots_used", s->slots_used);
    minga_pk_kv_uint(&b.pk, "tables_used", s->tables_used);
    minga_pk_kv_uint(&b.pk, "scheduled_at", s->scheduled_at);
    minga_pk_kv_uint(&b.pk, "elapsed_ms", s->elapsed_ms);
    uint8_t key[S_KEY_LEN];
    s_key(key, event, 0, 0);
    MDB_val k = {S_KEY_LEN, key}, v = {b.sbuf.size, b.sbuf.data};
    int rc = mdb_put(txn, dbi, &k, &v, 0);
    minga_pbuf_clear(&b);
    return rc;
}

static int s_get_summary(MDB_txn *txn, MDB_dbi dbi, const char *event, minga_meeting_summary_t *s)
{
    memset(s, 0, sizeof *s);
    uint8_t key[S_KEY_LEN];
    if (s_key(key, event, 0, 0))
        return MINGA_EINVAL;
    MDB_val k = {S_KEY_LEN, key}, v;
    int rc = mdb_get(txn, dbi, &k, &v);
    if (rc == MDB_NOTFOUND)
        return MINGA_ENOTFOUND;
    if (rc)
        return rc;
    msgpack_unpacked up;
    msgpack_unpacked_init(&up);
    size_t off = 0;
    rc = MINGA_EFORMAT;
    if (minga_mpguard_check(v.mv_data, v.mv_size, 4) == 0 &&
        msgpack_unpack_next(&up, v.mv_data, v.mv_size, &off) == MSGPACK_UNPACK_SUCCESS &&
        up.data.type == MSGPACK_OBJECT_MAP) {
        const msgpack_object *o = &up.data;
        s->revision = minga_pobj_uint(minga_pobj_get(o, "revision"), 0);
        s->meetings = minga_pobj_uint(minga_pobj_get(o, "meetings"), 0);
        s->total_score = minga_pobj_uint(minga_pobj_get(o, "total_score"), 0);
        s->gads = minga_pobj_uint(minga_pobj_get(o, "gads"), 0);
        s->gads_below = minga_pobj_uint(minga_pobj_get(o, "gads_below"), 0);
        s->slots_used = minga_pobj_uint(minga_pobj_get(o, "slots_used"), 0);
        s->tables_used = minga_pobj_uint(minga_pobj_get(o, "tables_used"), 0);
        s->scheduled_at = minga_pobj_uint(minga_pobj_get(o, "scheduled_at"), 0);
        s->elapsed_ms = minga_pobj_uint(minga_pobj_get(o, "elapsed_ms"), 0);
        rc = 0;
    }
    msgpack_unpacked_destroy(&up);
    return rc;
}

/* Bumps the revision of the summary (creating one when there is none). */
static int s_bump(MDB_txn *txn, MDB_dbi dbi, const char *event, int64_t dmeetings, int64_t dscore)
{
    minga_meeting_summary_t s;
    int rc = s_get_summary(txn, dbi, event, &s);
    if (rc && rc != MINGA_ENOTFOUND)
        return rc;
    s.revision++;
    s.meetings = (uint64_t)((int64_t)s.meetings + dmeetings);
    s.total_score = (uint64_t)((int64_t)s.total_score + dscore);
    return s_put_summary(txn, dbi, event, &s);
}

/* Appends m to the history of event as cancelled, now. */
static int s_history_put(MDB_txn *txn, MDB_dbi hdbi, const char *event, minga_meeting_t *m)
{
    uint8_t key[S_HKEY_LEN], last[S_HKEY_LEN];
    memset(key, 0, sizeof key);
    minga_key_id(key, event);
    memcpy(last, key, MINGA_KEY_ID);
    minga_key_u64(last + MINGA_KEY_ID, UINT64_MAX);
    MDB_cursor *cur;
    int rc = mdb_cursor_open(txn, hdbi, &cur);
    if (rc)
        return rc;
    uint64_t seq = 1;
    MDB_val k = {S_HKEY_LEN, last}, v;
    rc = mdb_cursor_get(cur, &k, &v, MDB_SET_RANGE);
    if (rc == 0)
        rc = mdb_cursor_get(cur, &k, &v, MDB_PREV);
    else if (rc == MDB_NOTFOUND)
        rc = mdb_cursor_get(cur, &k, &v, MDB_LAST);
    if (rc == 0 && k.mv_size == S_HKEY_LEN && memcmp(k.mv_data, key, MINGA_KEY_ID) == 0)
        seq = minga_key_get_u64((const uint8_t *)k.mv_data + MINGA_KEY_ID) + 1;
    mdb_cursor_close(cur);
    if (rc && rc != MDB_NOTFOUND)
        return rc;
    m->status = MINGA_MEETING_CANCELLED;
    m->cancelled_at = minga_now_ms();
    m->seq = seq;
    minga_key_u64(key + MINGA_KEY_ID, seq);
    msgpack_sbuffer sb;
    msgpack_sbuffer_init(&sb);
    rc = minga_meeting_encode(m, &sb);
    MDB_val hk = {S_HKEY_LEN, key}, hv = {sb.size, sb.data};
    if (rc == 0)
        rc = mdb_put(txn, hdbi, &hk, &hv, 0);
    msgpack_sbuffer_destroy(&sb);
    return rc;
}

/* ---- replace ---- */

typedef struct {
    minga_store_t *store;
    const char *event;
    const minga_meeting_t *m;
    size_t n;
    const minga_meeting_summary_t *summary;
    bool history;
} s_replace_t;

static int s_cmp_meeting(const void *a, const void *b)
{
    const minga_meeting_t *x = *(const minga_meeting_t *const *)a;
    const minga_meeting_t *y = *(const minga_meeting_t *const *)b;
    if (x->slot != y->slot)
        return x->slot < y->slot ? -1 : 1;
    return x->table < y->table ? -1 : x->table > y->table;
}

/* Is the old meeting o kept by the new timetable (same place, same parties)? */
static bool s_kept(const s_replace_t *r, const minga_meeting_t *o,
                   const minga_meeting_t *const *sorted)
{
    size_t lo = 0, hi = r->n;
    while (lo < hi) {
        size_t mid = (lo + hi) / 2;
        const minga_meeting_t *x = sorted[mid];
        int c = x->slot != o->slot ? (x->slot < o->slot ? -1 : 1)
                                   : (x->table < o->table ? -1 : x->table > o->table);
        if (c == 0)
            return strcmp(x->gad, o->gad) == 0 && strcmp(x->cooperante, o->cooperante) == 0;
        if (c < 0)
            lo = mid + 1;
        else
            hi = mid;
    }
    return false;
}

static int s_replace_fn(MDB_txn *txn, void *arg)
{
    s_replace_t *r = arg;
    MDB_dbi dbi = minga_store_dbi(r->store, MINGA_DB_MEETING);
    MDB_dbi hdbi = minga_store_dbi(r->store, MINGA_DB_MEETING_HISTORY);
    const minga_meeting_t **sorted = malloc((r->n ? r->n : 1) * sizeof *sorted);
    if (!sorted)
        return MINGA_ENOMEM;
    for (size_t i = 0; i < r->n; i++)
        sorted[i] = &r->m[i];
    qsort(sorted, r->n, sizeof *sorted, s_cmp_meeting);
    minga_meeting_summary_t old;
    int rc = s_get_summary(txn, dbi, r->event, &old);
    if (rc == MINGA_ENOTFOUND)
        rc = 0;
    uint8_t prefix[S_KEY_LEN];
    s_key(prefix, r->event, 0, 0);
    MDB_cursor *cur = NULL;
    if (rc == 0)
        rc = mdb_cursor_open(txn, dbi, &cur);
    MDB_val k = {S_KEY_LEN, prefix}, v;
    for (int c = rc ? rc : mdb_cursor_get(cur, &k, &v, MDB_SET_RANGE); c == 0 && rc == 0;
         c = mdb_cursor_get(cur, &k, &v, MDB_NEXT)) {
        if (k.mv_size != S_KEY_LEN || memcmp(k.mv_data, prefix, MINGA_KEY_ID) != 0)
            break;
        if (r->history && minga_key_get_u32((const uint8_t *)k.mv_data + MINGA_KEY_ID) != 0) {
            minga_meeting_t o;
            if (minga_meeting_decode(v.mv_data, v.mv_size, &o) == 0 && !s_kept(r, &o, sorted))
                rc = s_history_put(txn, hdbi, r->event, &o);
        }
        if (rc == 0)
            rc = mdb_cursor_del(cur, 0);
    }
    if (cur)
        mdb_cursor_close(cur);
    msgpack_sbuffer sb;
    msgpack_sbuffer_init(&sb);
    for (size_t i = 0; rc == 0 && i < r->n; i++) {
        const minga_meeting_t *m = sorted[i];
        uint8_t key[S_KEY_LEN];
        s_key(key, r->event, m->slot, m->table);
        msgpack_sbuffer_clear(&sb);
        minga_meeting_t copy = *m;
        if (copy.status == MINGA_MEETING_CANCELLED)
            copy.status = MINGA_MEETING_SCHEDULED;
        if ((rc = minga_meeting_encode(&copy, &sb)) != 0)
            break;
        MDB_val mk = {S_KEY_LEN, key}, mv = {sb.size, sb.data};
        rc = mdb_put(txn, dbi, &mk, &mv, MDB_NOOVERWRITE);
        if (rc == MDB_KEYEXIST)
            rc = MINGA_EINVAL;
    }
    msgpack_sbuffer_destroy(&sb);
    if (rc == 0) {
        minga_meeting_summary_t s = *r->summary;
        s.revision = old.revision + 1;
        rc = s_put_summary(txn, dbi, r->event, &s);
    }
    free(sorted);
    return rc;
}

int minga_meeting_replace(minga_store_t *store, const char *event, const minga_meeting_t *m,
                          size_t n, const minga_meeting_summary_t *summary, bool history)
{
    uint8_t key[S_KEY_LEN];
    if (s_key(key, event, 0, 0))
        return MINGA_EINVAL;
    for (size_t i = 0; i < n; i++)
        if (m[i].slot == 0 || m[i].table == 0)
            return MINGA_EINVAL;
    minga_meeting_summary_t none;
    memset(&none, 0, sizeof none);
    s_replace_t r = {store, event, m, n, summary ? summary : &none, history};
    return minga_store_write(store, s_replace_fn, &r);
}

/* ---- status and cancel ---- */

typedef struct {
    minga_store_t *store;
    const char *event;
    unsigned slot, table;
    int status; /* -1: cancel */
    minga_meeting_t m;
} s_change_t;

static int s_change_fn(MDB_txn *txn, void *arg)
{
    s_change_t *c = arg;
    MDB_dbi dbi = minga_store_dbi(c->store, MINGA_DB_MEETING);
    uint8_t key[S_KEY_LEN];
    s_key(key, c->event, c->slot, c->table);
    MDB_val k = {S_KEY_LEN, key}, v;
    int rc = mdb_get(txn, dbi, &k, &v);
    if (rc == MDB_NOTFOUND)
        return MINGA_ENOTFOUND;
    if (rc || (rc = minga_meeting_decode(v.mv_data, v.mv_size, &c->m)) != 0)
        return rc;
    if (c->status < 0) {
        if ((rc = mdb_del(txn, dbi, &k, NULL)) != 0)
            return rc;
        rc = s_history_put(txn, minga_store_dbi(c->store, MINGA_DB_MEETING_HISTORY), c->event,
                           &c->m);
        return rc ? rc : s_bump(txn, dbi, c->event, -1, -(int64_t)c->m.score);
    }
    c->m.status = (uint8_t)c->status;
    msgpack_sbuffer sb;
    msgpack_sbuffer_init(&sb);
    rc = minga_meeting_encode(&c->m, &sb);
    MDB_val nv = {sb.size, sb.data};
    if (rc == 0)
        rc = mdb_put(txn, dbi, &k, &nv, 0);
    msgpack_sbuffer_destroy(&sb);
    return rc ? rc : s_bump(txn, dbi, c->event, 0, 0);
}

int minga_meeting_set_status(minga_store_t *store, const char *event, unsigned slot, unsigned table,
                             int status)
{
    uint8_t key[S_KEY_LEN];
    if (s_key(key, event, slot, table) || slot < 1 || table < 1 || slot > 65535 || table > 65535 ||
        status < MINGA_MEETING_SCHEDULED || status > MINGA_MEETING_NOSHOW)
        return MINGA_EINVAL;
    s_change_t c = {store, event, slot, table, status, {0}};
    return minga_store_write(store, s_change_fn, &c);
}

int minga_meeting_cancel(minga_store_t *store, const char *event, unsigned slot, unsigned table,
                         minga_meeting_t *out)
{
    uint8_t key[S_KEY_LEN];
    if (s_key(key, event, slot, table) || slot < 1 || table < 1 || slot > 65535 || table > 65535)
        return MINGA_EINVAL;
    s_change_t c = {store, event, slot, table, -1, {0}};
    int rc = minga_store_write(store, s_change_fn, &c);
    if (rc == 0 && out)
        *out = c.m;
    return rc;
}

/* ---- reading ---- */

static int s_each(minga_store_t *store, MDB_txn *txn, minga_db_t db, const char *event,
                  minga_meeting_fn *fn, void *arg)
{
    uint8_t prefix[S_HKEY_LEN];
    memset(prefix, 0, sizeof prefix);
    if (!event || minga_key_id(prefix, event) != 0)
        return MINGA_EINVAL;
    size_t klen = db == MINGA_DB_MEETING ? S_KEY_LEN : S_HKEY_LEN;
    MDB_txn *own = NULL;
    MDB_cursor *cur = NULL;
    int rc = 0;
    if (!txn && (rc = minga_store_read_begin(store, &own)) != 0)
        return rc;
    if ((rc = mdb_cursor_open(txn ? txn : own, minga_store_dbi(store, db), &cur)) != 0)
        goto done;
    MDB_val k = {klen, prefix}, v;
    for (rc = mdb_cursor_get(cur, &k, &v, MDB_SET_RANGE); rc == 0;
         rc = mdb_cursor_get(cur, &k, &v, MDB_NEXT)) {
        const uint8_t *kd = k.mv_data;
        if (k.mv_size != klen || memcmp(kd, prefix, MINGA_KEY_ID) != 0)
            break;
        if (db == MINGA_DB_MEETING && minga_key_get_u16(kd + MINGA_KEY_ID) == 0)
            continue; /* the summary */
        minga_meeting_t m;
        if ((rc = minga_meeting_decode(v.mv_data, v.mv_size, &m)) != 0)
            break;
        if (db == MINGA_DB_MEETING_HISTORY) {
            m.seq = minga_key_get_u64(kd + MINGA_KEY_ID);
            m.status = MINGA_MEETING_CANCELLED;
        }
        if ((rc = fn(&m, arg)) != 0)
            break;
    }
    if (rc == MDB_NOTFOUND)
        rc = 0;
done:
    if (cur)
        mdb_cursor_close(cur);
    if (own)
        mdb_txn_abort(own);
    return rc;
}

int minga_meetings_each(minga_store_t *store, MDB_txn *txn, const char *event, minga_meeting_fn *fn,
                        void *arg)
{
    return s_each(store, txn, MINGA_DB_MEETING, event, fn, arg);
}

int minga_meeting_history_each(minga_store_t *store, MDB_txn *txn, const char *event,
                               minga_meeting_fn *fn, void *arg)
{
    return s_each(store, txn, MINGA_DB_MEETING_HISTORY, event, fn, arg);
}

int minga_meeting_get(minga_store_t *store, const char *event, unsigned slot, unsigned table,
                      minga_meeting_t *out)
{
    uint8_t key[S_KEY_LEN];
    if (s_key(key, event, slot, table) || slot < 1 || table < 1)
        return MINGA_EINVAL;
    MDB_txn *txn;
    int rc = minga_store_read_begin(store, &txn);
    if (rc)
        return rc;
    MDB_val k = {S_KEY_LEN, key}, v;
    rc = mdb_get(txn, minga_store_dbi(store, MINGA_DB_MEETING), &k, &v);
    if (rc == MDB_NOTFOUND)
        rc = MINGA_ENOTFOUND;
    if (rc == 0)
        rc = minga_meeting_decode(v.mv_data, v.mv_size, out);
    mdb_txn_abort(txn);
    return rc;
}

int minga_meeting_summary(minga_store_t *store, MDB_txn *txn, const char *event,
                          minga_meeting_summary_t *s)
{
    MDB_txn *own = NULL;
    int rc = 0;
    if (!txn && (rc = minga_store_read_begin(store, &own)) != 0)
        return rc;
    rc = s_get_summary(txn ? txn : own, minga_store_dbi(store, MINGA_DB_MEETING), event, s);
    if (own)
        mdb_txn_abort(own);
    return rc;
}

/* ---- export ---- */

typedef struct {
    FILE *out;
    bool json;
    size_t count;
    minga_event_t ev;
} s_export_t;

static void s_json_str(FILE *out, const char *s)
{
    json_t *j = json_string(s);
    char *t = j ? json_dumps(j, JSON_ENCODE_ANY) : NULL;
    fputs(t ? t : "\"\"", out);
    free(t);
    json_decref(j);
}

static int s_export_row(const minga_meeting_t *m, void *arg)
{
    s_export_t *x = arg;
    minga_slot_time_t t;
    if (minga_event_slot_time(&x->ev, m->slot, &t) != 0)
        return MINGA_EFORMAT;
    char score[32];
    minga_match_score_text(m->score, score, sizeof score);
    const char *status = minga_meeting_status_name(m->status);
    if (!x->json) {
        fprintf(x->out, "%u;%s;%s;%u;", m->slot, t.start, t.end, m->table);
        const char *f[] = {m->gad, m->cooperante, m->demand, m->offer};
        for (int i = 0; i < 4; i++) {
            minga_csv_put_field(x->out, f[i]);
            fputc(';', x->out);
        }
        fprintf(x->out, "%s;%s\n", score, status);
    } else {
        fprintf(x->out, "%s{\"slot\": %u, \"start\": \"%s\", \"end\": \"%s\", \"table\": %u",
                x->count ? ",\n  " : "\n  ", m->slot, t.start, t.end, m->table);
        const char *keys[] = {"gad", "cooperante", "demand_id", "offer_id"};
        const char *f[] = {m->gad, m->cooperante, m->demand, m->offer};
        for (int i = 0; i < 4; i++) {
            fprintf(x->out, ", \"%s\": ", keys[i]);
            s_json_str(x->out, f[i]);
        }
        fprintf(x->out, ", \"score\": %s, \"status\": \"%s\"}", score, status);
    }
    x->count++;
    return ferror(x->out) ? MINGA_EIO : 0;
}

int minga_meeting_export(minga_store_t *store, const char *event, bool json, FILE *out,
                         size_t *count)
{
    s_export_t x = {out, json, 0, {0}};
    *count = 0;
    MDB_txn *txn;
    int rc = minga_store_read_begin(store, &txn);
    if (rc)
        return rc;
    if ((rc = minga_event_load(store, txn, event, &x.ev)) != 0) {
        mdb_txn_abort(txn);
        return rc;
    }
    if (!json)
        fputs("\xEF\xBB\xBF"
              "slot;start;end;table;gad;cooperante;demand_id;offer_id;score;status\n",
              out);
    else
        fputs("[", out);
    rc = minga_meetings_each(store, txn, event, s_export_row, &x);
    if (json)
        fputs(x.count ? "\n]\n" : "]\n", out);
    if (fflush(out) != 0 && rc == 0)
        rc = MINGA_EIO;
    mdb_txn_abort(txn);
    minga_record_clear(&minga_rtype_event, &x.ev);
    *count = x.count;
    return rc;
}
