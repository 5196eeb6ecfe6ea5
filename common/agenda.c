/*
 * agenda.c: a participant's agenda assembled from one read snapshot of the store — the
 * event, the party's registry and participant records, its meetings and cancelled meetings,
 * the counterparts' names, the demand and offer titles and the reasons' Spanish texts; and
 * the list of an event's parties. See agenda.h.
 */
#include "minga/agenda.h"

#include "minga/codes.h"
#include "minga/error.h"

#include <stdlib.h>
#include <string.h>

/* ---- reading records ---- */

/* Decodes the record of type t under key into rec (cleared first). 0, MINGA_ENOTFOUND or a
 * decode error. */
static int s_get(minga_store_t *store, MDB_txn *txn, const minga_rtype_t *t, const uint8_t *key,
                 size_t klen, void *rec)
{
    minga_record_clear(t, rec);
    MDB_val k = {klen, (void *)key}, v;
    int rc = mdb_get(txn, minga_store_dbi(store, t->db), &k, &v);
    if (rc == MDB_NOTFOUND)
        return MINGA_ENOTFOUND;
    char err[256];
    return rc ? rc : minga_record_decode(t, v.mv_data, v.mv_size, rec, err, sizeof err);
}

static int s_get_id(minga_store_t *store, MDB_txn *txn, const minga_rtype_t *t, const char *id,
                    void *rec)
{
    uint8_t key[MINGA_KEY_ID];
    if (minga_key_id(key, id) != 0)
        return MINGA_EINVAL;
    return s_get(store, txn, t, key, MINGA_KEY_ID, rec);
}

static int s_get_gad(minga_store_t *store, MDB_txn *txn, const char *code, minga_gad_t *g)
{
    unsigned v = 0;
    for (int i = 0; i < 4; i++) {
        if (!code[i] || code[i] < '0' || code[i] > '9')
            return MINGA_EINVAL;
        v = v * 10 + (unsigned)(code[i] - '0');
    }
    uint8_t key[2];
    minga_key_u16(key, (uint16_t)v);
    return s_get(store, txn, &minga_rtype_gad, key, 2, g);
}

static int s_get_participant(minga_store_t *store, MDB_txn *txn, const char *event,
                             const char *party, minga_participant_t *p)
{
    uint8_t key[2 * MINGA_KEY_ID];
    if (minga_key_id(key, event) != 0 || minga_key_id(key + MINGA_KEY_ID, party) != 0)
        return MINGA_EINVAL;
    return s_get(store, txn, &minga_rtype_participant, key, sizeof key, p);
}

static char *s_dup(const char *s)
{
    return s ? strdup(s) : NULL;
}

static bool s_is_gad(const char *party)
{
    return minga_canton_find(party) != NULL;
}

/* ---- names ---- */

typedef struct {
    minga_store_t *store;
    MDB_txn *txn;
    minga_gad_t gad;
    minga_cooperante_t coop;
    minga_demand_t demand;
    minga_offer_t offer;
} s_ctx_t;

/* The display name and detail of a party into *name and *detail (new strings). */
static int s_party_names(s_ctx_t *c, const char *party, char **name, char **detail)
{
    if (s_is_gad(party)) {
        const minga_canton_t *ct = minga_canton_find(party);
        int rc = s_get_gad(c->store, c->txn, party, &c->gad);
        const char *nm = rc == 0 ? c->gad.name : ct->name;
        const minga_province_t *p = minga_province_find(ct->province);
        char buf[128];
        snprintf(buf, sizeof buf, "provincia de %s", p ? p->name : ct->province);
        *name = strdup(nm);
        *detail = strdup(buf);
    } else {
        int rc = s_get_id(c->store, c->txn, &minga_rtype_cooperante, party, &c->coop);
        *name = strdup(rc == 0 ? c->coop.name : party);
        *detail = rc == 0 && c->coop.country ? strdup(c->coop.country) : NULL;
    }
    return *name ? 0 : MINGA_ENOMEM;
}

static void s_item_free(minga_agenda_item_t *it)
{
    free(it->counterpart);
    free(it->counterpart_name);
    free(it->counterpart_detail);
    free(it->demand);
    free(it->demand_title);
    free(it->offer);
    free(it->offer_title);
    for (size_t i = 0; i < it->nreasons; i++)
        free(it->reasons[i]);
    free(it->reasons);
    memset(it, 0, sizeof *it);
}

static int s_item_fill(s_ctx_t *c, const minga_event_t *ev, const char *party,
                       const minga_meeting_t *m, minga_agenda_item_t *it)
{
    memset(it, 0, sizeof *it);
    it->slot = m->slot;
    it->table = m->table;
    minga_event_slot_time(ev, m->slot, &it->time);
    it->status = m->status;
    it->cancelled_at = m->cancelled_at;
    it->score = m->score;
    bool party_gad = strcmp(m->gad, party) == 0;
    const char *other = party_gad ? m->cooperante : m->gad;
    it->counterpart_kind = party_gad ? "cooperante" : "gad";
    it->counterpart = strdup(other);
    it->demand = strdup(m->demand);
    it->offer = strdup(m->offer);
    if (!it->counterpart || !it->demand || !it->offer)
        return MINGA_ENOMEM;
    int rc = s_party_names(c, other, &it->counterpart_name, &it->counterpart_detail);
    if (rc)
        return rc;
    it->demand_title =
        strdup(s_get_id(c->store, c->txn, &minga_rtype_demand, m->demand, &c->demand) == 0
                   ? c->demand.title
                   : m->demand);
    it->offer_title = strdup(
        s_get_id(c->store, c->txn, &minga_rtype_offer, m->offer, &c->offer) == 0 ? c->offer.title
                                                                                 : m->offer);
    if (!it->demand_title || !it->offer_title)
        return MINGA_ENOMEM;
    if (m->nreasons && !(it->reasons = calloc(m->nreasons, sizeof *it->reasons)))
        return MINGA_ENOMEM;
    for (unsigned i = 0; i < m->nreasons; i++) {
        char text[512];
        minga_match_reason_text(m->reasons[i], text, sizeof text);
        if (!(it->reasons[i] = strdup(text)))
            return MINGA_ENOMEM;
        it->nreasons++;
    }
    return 0;
}

/* ---- collecting the party's meetings ---- */

typedef struct {
    s_ctx_t *c;
    const minga_event_t *ev;
    const char *party;
    minga_agenda_item_t **items;
    size_t *n, cap;
} s_collect_t;

static int s_collect(const minga_meeting_t *m, void *arg)
{
    s_collect_t *x = arg;
    if (strcmp(m->gad, x->party) != 0 && strcmp(m->cooperante, x->party) != 0)
        return 0;
    if (*x->n == x->cap) {
        size_t cap = x->cap ? 2 * x->cap : 16;
        minga_agenda_item_t *g = realloc(*x->items, cap * sizeof *g);
        if (!g)
            return MINGA_ENOMEM;
        *x->items = g;
        x->cap = cap;
    }
    minga_agenda_item_t *it = &(*x->items)[*x->n];
    (*x->n)++;
    return s_item_fill(x->c, x->ev, x->party, m, it);
}

static int s_load_party(s_ctx_t *c, minga_agenda_t *a, const char *party)
{
    a->party = strdup(party);
    if (!a->party)
        return MINGA_ENOMEM;
    minga_participant_t p;
    memset(&p, 0, sizeof p);
    int rc = s_get_participant(c->store, c->txn, a->event.id, party, &p);
    if (rc && rc != MINGA_ENOTFOUND)
        return rc;
    a->participant = rc == 0;
    bool gad = s_is_gad(party);
    a->kind = gad ? "gad" : "cooperante";
    a->max_meetings = (unsigned)(a->participant ? p.max_meetings : a->event.max_meetings);
    a->min_meetings = (unsigned)(a->participant && p.min_meetings ? p.min_meetings
                                 : gad                            ? a->event.min_meetings_gad
                                                                  : 0);
    a->tables = gad ? 0 : (unsigned)(a->participant && p.tables ? p.tables : 1);
    bool known = false;
    if (gad) {
        const minga_canton_t *ct = minga_canton_find(party);
        const minga_province_t *pv = minga_province_find(ct->province);
        known = s_get_gad(c->store, c->txn, party, &c->gad) == 0;
        a->name = strdup(known ? c->gad.name : ct->name);
        a->email = s_dup(p.email ? p.email : known ? c->gad.email : NULL);
        a->province = strdup(ct->province);
        a->province_name = strdup(pv ? pv->name : ct->province);
    } else {
        known = s_get_id(c->store, c->txn, &minga_rtype_cooperante, party, &c->coop) == 0;
        a->name = strdup(known ? c->coop.name : party);
        a->email = s_dup(p.email ? p.email : known ? c->coop.email : NULL);
        a->country = s_dup(known ? c->coop.country : NULL);
    }
    minga_record_clear(&minga_rtype_participant, &p);
    if (!a->name || (gad && (!a->province || !a->province_name)))
        return MINGA_ENOMEM;
    return known || a->participant ? 0 : MINGA_ENOTFOUND;
}

int minga_agenda_load(minga_store_t *store, const char *event, const char *party,
                      minga_agenda_t *agenda)
{
    memset(agenda, 0, sizeof *agenda);
    if (!event || !party || !minga_id_valid(event) || (!s_is_gad(party) && !minga_id_valid(party)))
        return MINGA_EINVAL;
    s_ctx_t c;
    memset(&c, 0, sizeof c);
    c.store = store;
    int rc = minga_store_read_begin(store, &c.txn);
    if (rc)
        return rc;
    if ((rc = minga_event_load(store, c.txn, event, &agenda->event)) != 0)
        goto done;
    minga_meeting_summary_t sum;
    if (minga_meeting_summary(store, c.txn, event, &sum) == 0)
        agenda->revision = sum.revision;
    int prc = s_load_party(&c, agenda, party);
    if (prc && prc != MINGA_ENOTFOUND) {
        rc = prc;
        goto done;
    }
    s_collect_t x = {&c, &agenda->event, party, &agenda->items, &agenda->n, 0};
    rc = minga_meetings_each(store, c.txn, event, s_collect, &x);
    s_collect_t h = {&c, &agenda->event, party, &agenda->cancelled, &agenda->ncancelled, 0};
    if (rc == 0)
        rc = minga_meeting_history_each(store, c.txn, event, s_collect, &h);
    if (rc == 0 && prc == MINGA_ENOTFOUND && agenda->n == 0 && agenda->ncancelled == 0)
        rc = MINGA_ENOTFOUND;
done:
    mdb_txn_abort(c.txn);
    minga_record_clear(&minga_rtype_gad, &c.gad);
    minga_record_clear(&minga_rtype_cooperante, &c.coop);
    minga_record_clear(&minga_rtype_demand, &c.demand);
    minga_record_clear(&minga_rtype_offer, &c.offer);
    if (rc)
        minga_agenda_free(agenda);
    return rc;
}

void minga_agenda_free(minga_agenda_t *a)
{
    if (!a)
        return;
    minga_record_clear(&minga_rtype_event, &a->event);
    free(a->party);
    free(a->name);
    free(a->email);
    free(a->province);
    free(a->province_name);
    free(a->country);
    for (size_t i = 0; i < a->n; i++)
        s_item_free(&a->items[i]);
    free(a->items);
    for (size_t i = 0; i < a->ncancelled; i++)
        s_item_free(&a->cancelled[i]);
    free(a->cancelled);
    memset(a, 0, sizeof *a);
}

/* ---- the parties of an event ---- */

typedef struct {
    char id[MINGA_KEY_ID + 1];
    unsigned meetings, cancelled;
    bool listed;
} s_count_t;

typedef struct {
    s_count_t *v;
    size_t n, cap;
    bool history;
} s_counts_t;

static s_count_t *s_count_find(s_counts_t *cs, const char *id)
{
    for (size_t i = 0; i < cs->n; i++) /* a few hundred parties: a scan is enough */
        if (strcmp(cs->v[i].id, id) == 0)
            return &cs->v[i];
    if (cs->n == cs->cap) {
        size_t cap = cs->cap ? 2 * cs->cap : 64;
        s_count_t *g = realloc(cs->v, cap * sizeof *g);
        if (!g)
            return NULL;
        cs->v = g;
        cs->cap = cap;
    }
    s_count_t *c = &cs->v[cs->n++];
    memset(c, 0, sizeof *c);
    snprintf(c->id, sizeof c->id, "%s", id);
    return c;
}

static int s_count(const minga_meeting_t *m, void *arg)
{
    s_counts_t *cs = arg;
    const char *ids[2] = {m->gad, m->cooperante};
    for (int i = 0; i < 2; i++) {
        s_count_t *c = s_count_find(cs, ids[i]);
        if (!c)
            return MINGA_ENOMEM;
        if (cs->history)
            c->cancelled++;
        else
            c->meetings++;
    }
    return 0;
}

static int s_cmp_count(const void *a, const void *b)
{
    const s_count_t *x = a, *y = b;
    return strcmp(x->id, y->id);
}

static int s_emit(s_ctx_t *c, const char *party, const minga_participant_t *p, s_count_t *cnt,
                  minga_agenda_party_fn *fn, void *arg)
{
    char *name = NULL, *detail = NULL;
    int rc = s_party_names(c, party, &name, &detail);
    const char *email = p && p->email ? p->email : NULL;
    if (rc == 0 && !email)
        email = s_is_gad(party)
                    ? (s_get_gad(c->store, c->txn, party, &c->gad) == 0 ? c->gad.email : NULL)
                    : (s_get_id(c->store, c->txn, &minga_rtype_cooperante, party, &c->coop) == 0
                           ? c->coop.email
                           : NULL);
    minga_agenda_party_t ap = {party,
                               s_is_gad(party) ? "gad" : "cooperante",
                               name,
                               email,
                               p != NULL,
                               cnt ? cnt->meetings : 0,
                               cnt ? cnt->cancelled : 0};
    if (rc == 0)
        rc = fn(&ap, arg);
    free(name);
    free(detail);
    return rc;
}

int minga_agenda_parties(minga_store_t *store, const char *event, minga_agenda_party_fn *fn,
                         void *arg)
{
    s_ctx_t c;
    memset(&c, 0, sizeof c);
    c.store = store;
    s_counts_t cs = {NULL, 0, 0, false};
    minga_event_t ev;
    memset(&ev, 0, sizeof ev);
    minga_participant_t p;
    memset(&p, 0, sizeof p);
    MDB_cursor *cur = NULL;
    int rc = minga_store_read_begin(store, &c.txn);
    if (rc)
        return rc;
    if ((rc = minga_event_load(store, c.txn, event, &ev)) != 0)
        goto done;
    if ((rc = minga_meetings_each(store, c.txn, event, s_count, &cs)) != 0)
        goto done;
    cs.history = true;
    if ((rc = minga_meeting_history_each(store, c.txn, event, s_count, &cs)) != 0)
        goto done;
    if (cs.n)
        qsort(cs.v, cs.n, sizeof *cs.v, s_cmp_count);
    uint8_t prefix[2 * MINGA_KEY_ID];
    memset(prefix, 0, sizeof prefix);
    minga_key_id(prefix, event);
    if ((rc = mdb_cursor_open(c.txn, minga_store_dbi(store, MINGA_DB_PARTICIPANT), &cur)) != 0)
        goto done;
    MDB_val k = {sizeof prefix, prefix}, v;
    for (rc = mdb_cursor_get(cur, &k, &v, MDB_SET_RANGE); rc == 0;
         rc = mdb_cursor_get(cur, &k, &v, MDB_NEXT)) {
        if (k.mv_size != sizeof prefix || memcmp(k.mv_data, prefix, MINGA_KEY_ID) != 0)
            break;
        char err[256];
        if ((rc = minga_record_decode(&minga_rtype_participant, v.mv_data, v.mv_size, &p, err,
                                      sizeof err)) != 0)
            break;
        s_count_t key, *cnt;
        snprintf(key.id, sizeof key.id, "%s", p.party);
        cnt = cs.n ? bsearch(&key, cs.v, cs.n, sizeof *cs.v, s_cmp_count) : NULL;
        if (cnt)
            cnt->listed = true;
        if ((rc = s_emit(&c, p.party, &p, cnt, fn, arg)) != 0)
            break;
    }
    if (rc == MDB_NOTFOUND)
        rc = 0;
    for (size_t i = 0; rc == 0 && i < cs.n; i++)
        if (!cs.v[i].listed)
            rc = s_emit(&c, cs.v[i].id, NULL, &cs.v[i], fn, arg);
done:
    if (cur)
        mdb_cursor_close(cur);
    mdb_txn_abort(c.txn);
    minga_record_clear(&minga_rtype_participant, &p);
    minga_record_clear(&minga_rtype_event, &ev);
    minga_record_clear(&minga_rtype_gad, &c.gad);
    minga_record_clear(&minga_rtype_cooperante, &c.coop);
    free(cs.v);
    return rc;
}
