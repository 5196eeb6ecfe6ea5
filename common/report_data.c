/*
 * report_data.c: reads one event's data for its reports (report_data.h) and computes the
 * figures the HTML report shows.
 *
 * Records come out of LMDB in key order, which is id order (ids are zero-padded in the key,
 * DPA codes big-endian), so each array is sorted and lookups are binary searches.
 */
#include "minga/report_data.h"

#include "minga/codes.h"
#include "minga/error.h"
#include "minga/match_store.h"
#include "minga/meeting.h"
#include "minga/proto.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

typedef struct {
    void ***items;
    size_t *n;
    size_t cap;
} s_array_t;

/* Reads every record of type t (of event, for per-event types) into a growing array. */
static int s_load(MDB_txn *txn, minga_store_t *store, const minga_rtype_t *t, const char *event,
                  void ***items, size_t *n, char *err, size_t errcap)
{
    uint8_t prefix[MINGA_KEY_ID];
    size_t plen = 0, cap = 0;
    if (t->per_event) {
        minga_key_id(prefix, event);
        plen = MINGA_KEY_ID;
    }
    MDB_cursor *cur = NULL;
    int rc = mdb_cursor_open(txn, minga_store_dbi(store, t->db), &cur);
    MDB_val k = {plen, prefix}, v;
    for (rc = rc ? rc : mdb_cursor_get(cur, &k, &v, plen ? MDB_SET_RANGE : MDB_FIRST); rc == 0;
         rc = mdb_cursor_get(cur, &k, &v, MDB_NEXT)) {
        if (plen && (k.mv_size < plen || memcmp(k.mv_data, prefix, plen) != 0))
            break;
        if (*n == cap) {
            cap = cap ? cap * 2 : 256;
            void **g = realloc(*items, cap * sizeof *g);
            if (!g) {
                rc = MINGA_ENOMEM;
                break;
            }
            *items = g;
        }
        void *rec = minga_record_new(t);
        char why[256];
        if (!rec) {
            rc = MINGA_ENOMEM;
            break;
        }
        if ((rc = minga_record_decode(t, v.mv_data, v.mv_size, rec, why, sizeof why)) != 0) {
            snprintf(err, errcap, "store %s: a %s record cannot be read: %s",
                     minga_store_path(store), t->record, why);
            minga_record_free(t, rec);
            break;
        }
        (*items)[(*n)++] = rec;
    }
    if (cur)
        mdb_cursor_close(cur);
    if (rc == MDB_NOTFOUND)
        rc = 0;
    if (rc && !*err)
        snprintf(err, errcap, "store %s: reading the %s records: %s", minga_store_path(store),
                 t->kind, minga_strerror(rc));
    return rc;
}

static int s_load_event(minga_report_data_t *d, MDB_txn *txn, minga_store_t *store, char *err,
                        size_t errcap)
{
    uint8_t key[MINGA_KEY_ID];
    minga_key_id(key, d->event_id);
    MDB_val k = {MINGA_KEY_ID, key}, v;
    int rc = mdb_get(txn, minga_store_dbi(store, MINGA_DB_EVENT), &k, &v);
    if (rc == MDB_NOTFOUND) {
        snprintf(err, errcap, "event %s does not exist", d->event_id);
        return MINGA_ENOTFOUND;
    }
    d->event = rc ? NULL : minga_record_new(&minga_rtype_event);
    if (rc == 0 && !d->event)
        rc = MINGA_ENOMEM;
    char why[256];
    if (rc == 0 && (rc = minga_record_decode(&minga_rtype_event, v.mv_data, v.mv_size, d->event,
                                             why, sizeof why)) != 0)
        snprintf(err, errcap, "event %s cannot be read: %s", d->event_id, why);
    else if (rc)
        snprintf(err, errcap, "event %s: %s", d->event_id, minga_strerror(rc));
    return rc;
}

typedef struct {
    minga_report_data_t *d;
    size_t at; /* the last demand found, to avoid a search per candidate */
} s_cover_t;

static int s_bsearch(void *const *items, size_t n, const char *id, size_t off)
{
    size_t lo = 0, hi = n;
    while (lo < hi) {
        size_t mid = (lo + hi) / 2;
        const char *m = *(char *const *)((const char *)items[mid] + off);
        int c = strcmp(m ? m : "", id);
        if (c == 0)
            return (int)mid;
        if (c < 0)
            lo = mid + 1;
        else
            hi = mid;
    }
    return -1;
}

static int s_cover(const minga_match_candidate_t *c, void *arg)
{
    s_cover_t *cv = arg;
    minga_report_data_t *d = cv->d;
    d->ncandidates++;
    if (cv->at < d->ndemands && strcmp(d->demands[cv->at]->id, c->demand) == 0)
        return 0;
    int i =
        s_bsearch((void *const *)d->demands, d->ndemands, c->demand, offsetof(minga_demand_t, id));
    if (i >= 0) {
        d->covered[i] = true;
        cv->at = (size_t)i;
    }
    return 0;
}

static int s_index(minga_report_data_t *d);

typedef struct {
    minga_report_data_t *d;
    minga_report_meeting_t **items; /* d->meetings or d->cancelled */
    size_t *n, cap;
} s_meet_t;

static int s_meeting(const minga_meeting_t *m, void *arg)
{
    s_meet_t *x = arg;
    minga_report_data_t *d = x->d;
    if (*x->n == x->cap) {
        x->cap = x->cap ? x->cap * 2 : 256;
        minga_report_meeting_t *g = realloc(*x->items, x->cap * sizeof *g);
        if (!g)
            return MINGA_ENOMEM;
        *x->items = g;
    }
    minga_report_meeting_t *r = &(*x->items)[*x->n];
    memset(r, 0, sizeof *r);
    r->slot = m->slot;
    r->table = m->table;
    snprintf(r->gad, sizeof r->gad, "%s", m->gad);
    r->status = m->status;
    r->score = m->score;
    r->cooperante = strdup(m->cooperante);
    r->demand = strdup(m->demand);
    r->offer = strdup(m->offer);
    r->nreasons = m->nreasons < MINGA_MATCH_REASONS_MAX ? m->nreasons : MINGA_MATCH_REASONS_MAX;
    r->reasons = malloc((r->nreasons ? r->nreasons : 1) * sizeof *r->reasons);
    r->cancelled_at = m->cancelled_at;
    (*x->n)++; /* counted now so that clear() frees what was copied */
    if (!r->cooperante || !r->demand || !r->offer || !r->reasons)
        return MINGA_ENOMEM;
    memcpy(r->reasons, m->reasons, r->nreasons * sizeof *r->reasons);
    minga_slot_time_t t;
    if (minga_event_slot_time(d->event, m->slot, &t) == 0) {
        snprintf(r->start, sizeof r->start, "%s", t.start);
        snprintf(r->end, sizeof r->end, "%s", t.end);
        minga_report_date_es(t.date, r->date, sizeof r->date);
        snprintf(r->hhmm, sizeof r->hhmm, "%s", t.start_hm);
        snprintf(r->end_hhmm, sizeof r->end_hhmm, "%s", t.end_hm);
    }
    return 0;
}

/* Fills d->meetings and d->cancelled from the meeting store, in txn, and indexes the
 * meetings by party. */
static int s_load_meetings(minga_report_data_t *d, minga_store_t *store, MDB_txn *txn, char *err,
                           size_t errcap)
{
    s_meet_t x = {d, &d->meetings, &d->nmeetings, 0};
    s_meet_t h = {d, &d->cancelled, &d->ncancelled, 0};
    int rc = minga_meetings_each(store, txn, d->event_id, s_meeting, &x);
    if (rc == 0)
        rc = minga_meeting_history_each(store, txn, d->event_id, s_meeting, &h);
    if (rc)
        snprintf(err, errcap, "the meetings of %s cannot be read: %s", d->event_id,
                 minga_strerror(rc));
    return rc ? rc : s_index(d);
}

int minga_report_data_load(minga_report_data_t *d, minga_store_t *store, const char *event,
                           char *err, size_t errcap)
{
    memset(d, 0, sizeof *d);
    *err = '\0';
    if (!event || !minga_id_valid(event)) {
        snprintf(err, errcap, "'%s' is not an event id", event ? event : "");
        return MINGA_EINVAL;
    }
    d->event_id = strdup(event);
    d->snapshot_ms = minga_now_ms();
    MDB_txn *txn = NULL;
    int rc = d->event_id ? minga_store_read_begin(store, &txn) : MINGA_ENOMEM;
    if (rc == 0)
        rc = s_load_event(d, txn, store, err, errcap);
    if (rc == 0)
        rc = s_load(txn, store, &minga_rtype_gad, NULL, (void ***)&d->gads, &d->ngads, err, errcap);
    if (rc == 0)
        rc = s_load(txn, store, &minga_rtype_cooperante, NULL, (void ***)&d->coops, &d->ncoops, err,
                    errcap);
    if (rc == 0)
        rc = s_load(txn, store, &minga_rtype_offer, NULL, (void ***)&d->offers, &d->noffers, err,
                    errcap);
    if (rc == 0)
        rc = s_load(txn, store, &minga_rtype_demand, NULL, (void ***)&d->demands, &d->ndemands, err,
                    errcap);
    if (rc == 0)
        rc = s_load(txn, store, &minga_rtype_participant, event, (void ***)&d->parts, &d->nparts,
                    err, errcap);
    if (rc == 0) {
        d->nslots = minga_event_slots(d->event);
        d->ntables = (unsigned)d->event->tables;
        rc = s_load_meetings(d, store, txn, err, errcap);
    }
    if (txn)
        mdb_txn_abort(txn);
    if (rc == 0) {
        d->covered = calloc(d->ndemands ? d->ndemands : 1, sizeof *d->covered);
        minga_match_summary_t sum;
        d->scored = minga_match_summary(store, event, &sum) == 0;
        s_cover_t cv = {d, (size_t)-1};
        rc = d->covered ? minga_match_candidates_each(store, event, s_cover, &cv) : MINGA_ENOMEM;
        if (rc && !*err)
            snprintf(err, errcap, "the candidates of %s cannot be read: %s", event,
                     minga_strerror(rc));
    }
    if (rc && !*err)
        snprintf(err, errcap, "reading event %s: %s", event, minga_strerror(rc));
    if (rc)
        minga_report_data_clear(d);
    return rc;
}

static void s_free_all(const minga_rtype_t *t, void **items, size_t n)
{
    for (size_t i = 0; i < n; i++)
        minga_record_free(t, items[i]);
    free(items);
}

static void s_free_meetings(minga_report_meeting_t *m, size_t n)
{
    for (size_t i = 0; i < n; i++) {
        free(m[i].cooperante);
        free(m[i].demand);
        free(m[i].offer);
        free(m[i].reasons);
    }
    free(m);
}

void minga_report_data_clear(minga_report_data_t *d)
{
    minga_record_free(&minga_rtype_event, d->event);
    s_free_all(&minga_rtype_gad, (void **)d->gads, d->ngads);
    s_free_all(&minga_rtype_cooperante, (void **)d->coops, d->ncoops);
    s_free_all(&minga_rtype_offer, (void **)d->offers, d->noffers);
    s_free_all(&minga_rtype_demand, (void **)d->demands, d->ndemands);
    s_free_all(&minga_rtype_participant, (void **)d->parts, d->nparts);
    s_free_meetings(d->meetings, d->nmeetings);
    s_free_meetings(d->cancelled, d->ncancelled);
    free(d->covered);
    free(d->by_gad);
    free(d->by_coop);
    free(d->event_id);
    memset(d, 0, sizeof *d);
}

const minga_gad_t *minga_report_gad(const minga_report_data_t *d, const char *code)
{
    int i =
        code ? s_bsearch((void *const *)d->gads, d->ngads, code, offsetof(minga_gad_t, code)) : -1;
    return i < 0 ? NULL : d->gads[i];
}

const minga_cooperante_t *minga_report_coop(const minga_report_data_t *d, const char *id)
{
    int i = id ? s_bsearch((void *const *)d->coops, d->ncoops, id, offsetof(minga_cooperante_t, id))
               : -1;
    return i < 0 ? NULL : d->coops[i];
}

const minga_offer_t *minga_report_offer(const minga_report_data_t *d, const char *id)
{
    int i =
        id ? s_bsearch((void *const *)d->offers, d->noffers, id, offsetof(minga_offer_t, id)) : -1;
    return i < 0 ? NULL : d->offers[i];
}

const minga_demand_t *minga_report_demand(const minga_report_data_t *d, const char *id)
{
    int i = id ? s_bsearch((void *const *)d->demands, d->ndemands, id, offsetof(minga_demand_t, id))
               : -1;
    return i < 0 ? NULL : d->demands[i];
}

const char *minga_report_party_name(const minga_report_data_t *d, const char *party)
{
    if (!party)
        return "";
    const minga_gad_t *g = party[0] >= '0' && party[0] <= '9' ? minga_report_gad(d, party) : NULL;
    if (g && g->name)
        return g->name;
    const minga_canton_t *c = g ? NULL : minga_canton_find(party);
    if (c)
        return c->name;
    const minga_cooperante_t *k = minga_report_coop(d, party);
    return k && k->name ? k->name : party;
}

char *minga_report_date_es(const char *iso, char *buf, size_t cap)
{
    int y, m, dd;
    if (iso && sscanf(iso, "%4d-%2d-%2d", &y, &m, &dd) == 3)
        snprintf(buf, cap, "%02d/%02d/%04d", dd, m, y);
    else
        snprintf(buf, cap, "%s", iso ? iso : "");
    return buf;
}

/* Sort context of the party indexes (qsort has no context argument in C11). */
static __thread const minga_report_data_t *s_sort_d;
static __thread bool s_sort_gad;

static const char *s_party_of(const minga_report_meeting_t *m, bool gad)
{
    return gad ? m->gad : m->cooperante;
}

static int s_party_cmp(const void *a, const void *b)
{
    const minga_report_meeting_t *x = &s_sort_d->meetings[*(const size_t *)a];
    const minga_report_meeting_t *y = &s_sort_d->meetings[*(const size_t *)b];
    int c = strcmp(s_party_of(x, s_sort_gad), s_party_of(y, s_sort_gad));
    if (c)
        return c;
    if (x->slot != y->slot)
        return x->slot < y->slot ? -1 : 1;
    return (x->table > y->table) - (x->table < y->table);
}

/* Builds d->by_gad and d->by_coop once the meetings are in. */
static int s_index(minga_report_data_t *d)
{
    size_t n = d->nmeetings;
    d->by_gad = malloc((n ? n : 1) * sizeof *d->by_gad);
    d->by_coop = malloc((n ? n : 1) * sizeof *d->by_coop);
    if (!d->by_gad || !d->by_coop)
        return MINGA_ENOMEM;
    for (size_t i = 0; i < n; i++)
        d->by_gad[i] = d->by_coop[i] = i;
    s_sort_d = d;
    s_sort_gad = true;
    qsort(d->by_gad, n, sizeof *d->by_gad, s_party_cmp);
    s_sort_gad = false;
    qsort(d->by_coop, n, sizeof *d->by_coop, s_party_cmp);
    s_sort_d = NULL;
    return 0;
}

size_t minga_report_party_meetings(const minga_report_data_t *d, const char *party,
                                   const size_t **idx)
{
    bool gad = party && party[0] >= '0' && party[0] <= '9';
    const size_t *ix = gad ? d->by_gad : d->by_coop;
    size_t lo = 0, hi = d->nmeetings;
    *idx = NULL;
    if (!party || !ix)
        return 0;
    while (lo < hi) { /* the first meeting whose party is >= party */
        size_t mid = (lo + hi) / 2;
        if (strcmp(s_party_of(&d->meetings[ix[mid]], gad), party) < 0)
            lo = mid + 1;
        else
            hi = mid;
    }
    size_t end = lo;
    while (end < d->nmeetings && strcmp(s_party_of(&d->meetings[ix[end]], gad), party) == 0)
        end++;
    *idx = ix + lo;
    return end - lo;
}

const char *minga_report_status_es(int status)
{
    return minga_meeting_status_text(status);
}

char *minga_report_reasons(const minga_report_meeting_t *m, const char *sep, char *buf, size_t cap)
{
    size_t o = 0;
    if (cap)
        buf[0] = '\0';
    for (size_t i = 0; i < m->nreasons && o + 1 < cap; i++) {
        char text[256];
        minga_match_reason_text(m->reasons[i], text, sizeof text);
        int w = snprintf(buf + o, cap - o, "%s%s", i ? sep : "", text);
        if (w < 0)
            break;
        o += (size_t)w < cap - o ? (size_t)w : cap - o - 1;
    }
    return buf;
}

int minga_report_slot_time(const minga_event_t *e, unsigned slot, char *date, size_t datecap,
                           char *hhmm, size_t hhmmcap)
{
    minga_slot_time_t t;
    int rc = minga_event_slot_time(e, slot, &t);
    if (rc)
        return rc;
    minga_report_date_es(t.date, date, datecap);
    snprintf(hhmm, hhmmcap, "%s", t.start_hm);
    return 0;
}
