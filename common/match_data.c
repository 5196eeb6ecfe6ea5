/*
 * match_data.c: gathering and preparing the inputs of a scoring run (see match_data.h).
 * Records are deep-copied through the record codec (encode, decode), so that borrowed records
 * (the demo generator's) and stored ones take one path.
 */
#include "minga/match_data.h"

#include "minga/codes.h"
#include "minga/error.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

void minga_match_data_init(minga_match_data_t *d, const char *event_id)
{
    memset(d, 0, sizeof *d);
    snprintf(d->event_id, sizeof d->event_id, "%s", event_id ? event_id : "");
    size_t n;
    const minga_canton_t *c = minga_cantons(&n);
    for (size_t i = 0; i < n && i < MINGA_MATCH_NCANTONS; i++)
        d->population[i] = c[i].population;
}

/* A deep copy of rec (the caller's: minga_record_free), or NULL. */
static void *s_copy(const minga_rtype_t *t, const void *rec)
{
    char *buf = NULL;
    size_t len = 0;
    void *copy = minga_record_new(t);
    char err[128];
    if (!copy || minga_record_encode(t, rec, &buf, &len) != 0 ||
        minga_record_decode(t, buf, len, copy, err, sizeof err) != 0) {
        minga_record_free(t, copy);
        copy = NULL;
    }
    free(buf);
    return copy;
}

/* Appends p to a growing array of pointers. */
static int s_push(void ***v, size_t *n, size_t *cap, void *p)
{
    if (!p)
        return MINGA_ENOMEM;
    if (*n == *cap) {
        size_t nc = *cap ? *cap * 2 : 64;
        void **g = realloc(*v, nc * sizeof *g);
        if (!g)
            return MINGA_ENOMEM;
        *v = g;
        *cap = nc;
    }
    (*v)[(*n)++] = p;
    return 0;
}

static bool s_this_event(const minga_match_data_t *d, const char *event)
{
    return !event || strcmp(event, d->event_id) == 0;
}

int minga_match_data_add(minga_match_data_t *d, const minga_rtype_t *t, const void *rec)
{
    if (t == &minga_rtype_gad) {
        const minga_gad_t *g = rec;
        size_t n;
        const minga_canton_t *all = minga_cantons(&n);
        const minga_canton_t *c = minga_canton_find(g->code);
        if (c && (size_t)(c - all) < MINGA_MATCH_NCANTONS)
            d->population[c - all] =
                g->population > UINT32_MAX ? UINT32_MAX : (uint32_t)g->population;
        return 0;
    }
    if (t == &minga_rtype_offer)
        return s_push((void ***)&d->offers, &d->noffers, &d->offers_cap, s_copy(t, rec));
    if (t == &minga_rtype_demand)
        return s_push((void ***)&d->demands, &d->ndemands, &d->demands_cap, s_copy(t, rec));
    if (t == &minga_rtype_event) {
        if (strcmp(((const minga_event_t *)rec)->id, d->event_id) != 0 || d->event)
            return 0;
        return (d->event = s_copy(t, rec)) ? 0 : MINGA_ENOMEM;
    }
    if (t == &minga_rtype_participant) {
        const minga_participant_t *p = rec;
        if (!s_this_event(d, p->event) || !p->kind || strcmp(p->kind, "cooperante") != 0)
            return 0;
        return s_push((void ***)&d->attending, &d->nattending, &d->attending_cap, strdup(p->party));
    }
    if (t == &minga_rtype_preference) {
        if (!s_this_event(d, ((const minga_preference_t *)rec)->event))
            return 0;
        return s_push((void ***)&d->prefs, &d->nprefs, &d->prefs_cap, s_copy(t, rec));
    }
    return 0;
}

/* ---- from the store ---- */

/* Keeps a decoded offer, demand or preference of this event as is (no copy); returns false
 * (rec untouched) for other records or when memory runs out (then the caller copies). */
static bool s_take(minga_match_data_t *d, const minga_rtype_t *t, void *rec)
{
    if (t == &minga_rtype_offer)
        return s_push((void ***)&d->offers, &d->noffers, &d->offers_cap, rec) == 0;
    if (t == &minga_rtype_demand)
        return s_push((void ***)&d->demands, &d->ndemands, &d->demands_cap, rec) == 0;
    if (t == &minga_rtype_preference && s_this_event(d, ((minga_preference_t *)rec)->event))
        return s_push((void ***)&d->prefs, &d->nprefs, &d->prefs_cap, rec) == 0;
    return false;
}

/* Adds every record of t whose key starts with prefix[0..plen) and, for demands, whose id
 * lies in [from, to). */
static int s_load_kind(minga_match_data_t *d, minga_store_t *store, MDB_txn *txn,
                       const minga_rtype_t *t, const uint8_t *prefix, size_t plen, const char *from,
                       const char *to, char *err, size_t errcap)
{
    MDB_cursor *cur = NULL;
    void *rec = minga_record_new(t);
    int rc = rec ? mdb_cursor_open(txn, minga_store_dbi(store, t->db), &cur) : MINGA_ENOMEM;
    uint8_t start[MINGA_KEY_ID];
    size_t slen = plen;
    if (!rc && from && *from) {
        minga_key_id(start, from);
        slen = MINGA_KEY_ID;
    } else if (plen) {
        memcpy(start, prefix, plen);
    }
    MDB_val k = {slen, start}, v;
    for (rc = rc ? rc : mdb_cursor_get(cur, &k, &v, slen ? MDB_SET_RANGE : MDB_FIRST); rc == 0;
         rc = mdb_cursor_get(cur, &k, &v, MDB_NEXT)) {
        if (plen && (k.mv_size < plen || memcmp(k.mv_data, prefix, plen) != 0))
            break;
        if (to && *to) {
            uint8_t end[MINGA_KEY_ID];
            minga_key_id(end, to);
            if (k.mv_size >= MINGA_KEY_ID && memcmp(k.mv_data, end, MINGA_KEY_ID) >= 0)
                break;
        }
        char why[256];
        if ((rc = minga_record_decode(t, v.mv_data, v.mv_size, rec, why, sizeof why)) != 0) {
            snprintf(err, errcap, "a stored %s cannot be read: %s", t->record, why);
            break;
        }
        if (s_take(d, t, rec)) {
            rec = minga_record_new(t);
            rc = rec ? 0 : MINGA_ENOMEM;
        } else {
            rc = minga_match_data_add(d, t, rec);
            minga_record_clear(t, rec);
        }
        if (rc)
            break;
    }
    if (rc == MDB_NOTFOUND)
        rc = 0;
    if (cur)
        mdb_cursor_close(cur);
    minga_record_free(t, rec);
    return rc;
}

int minga_match_data_load(minga_match_data_t *d, minga_store_t *store, MDB_txn *txn,
                          const char *from, const char *to, char *err, size_t errcap)
{
    uint8_t ev[MINGA_KEY_ID];
    if (minga_key_id(ev, d->event_id) != 0)
        return MINGA_EINVAL;
    MDB_val k = {MINGA_KEY_ID, ev}, v;
    int rc = mdb_get(txn, minga_store_dbi(store, MINGA_DB_EVENT), &k, &v);
    if (rc == MDB_NOTFOUND) {
        snprintf(err, errcap, "event %s does not exist", d->event_id);
        return MINGA_ENOTFOUND;
    }
    if (rc)
        return rc;
    minga_event_t evrec;
    memset(&evrec, 0, sizeof evrec);
    char why[256];
    if ((rc = minga_record_decode(&minga_rtype_event, v.mv_data, v.mv_size, &evrec, why,
                                  sizeof why)) != 0) {
        snprintf(err, errcap, "event %s cannot be read: %s", d->event_id, why);
        return rc;
    }
    rc = minga_match_data_add(d, &minga_rtype_event, &evrec);
    minga_record_clear(&minga_rtype_event, &evrec);
    if (!rc)
        rc = s_load_kind(d, store, txn, &minga_rtype_gad, NULL, 0, NULL, NULL, err, errcap);
    if (!rc)
        rc = s_load_kind(d, store, txn, &minga_rtype_offer, NULL, 0, NULL, NULL, err, errcap);
    if (!rc && !d->no_demands)
        rc = s_load_kind(d, store, txn, &minga_rtype_demand, NULL, 0, from, to, err, errcap);
    if (!rc)
        rc = s_load_kind(d, store, txn, &minga_rtype_participant, ev, MINGA_KEY_ID, NULL, NULL, err,
                         errcap);
    if (!rc)
        rc = s_load_kind(d, store, txn, &minga_rtype_preference, ev, MINGA_KEY_ID, NULL, NULL, err,
                         errcap);
    return rc;
}

/* ---- prepare ---- */

static int s_cmp_str(const void *a, const void *b)
{
    return strcmp(*(char *const *)a, *(char *const *)b);
}

static int s_cmp_offer(const void *a, const void *b)
{
    return strcmp((*(minga_offer_t *const *)a)->id, (*(minga_offer_t *const *)b)->id);
}

static int s_cmp_demand(const void *a, const void *b)
{
    return strcmp((*(minga_demand_t *const *)a)->id, (*(minga_demand_t *const *)b)->id);
}

static int s_find(char **v, size_t n, const char *s)
{
    char *const *hit = s ? bsearch(&s, v, n, sizeof *v, s_cmp_str) : NULL;
    return hit ? (int)(hit - v) : -1;
}

static int s_number_coops(minga_match_data_t *d)
{
    d->coops = malloc((d->noffers + 1) * sizeof *d->coops);
    if (!d->coops)
        return MINGA_ENOMEM;
    for (size_t i = 0; i < d->noffers; i++)
        d->coops[i] = d->offers[i]->cooperante;
    qsort(d->coops, d->noffers, sizeof *d->coops, s_cmp_str);
    size_t w = 0;
    for (size_t i = 0; i < d->noffers; i++)
        if (!w || strcmp(d->coops[w - 1], d->coops[i]) != 0)
            d->coops[w++] = d->coops[i];
    d->ncoops = w;
    if (d->nattending)
        qsort(d->attending, d->nattending, sizeof *d->attending, s_cmp_str);
    return 0;
}

/* The preferences between a GAD and a cooperante with offers, in either direction. */
static int s_prefs(minga_match_data_t *d, minga_match_pref_t **out, size_t *n)
{
    *out = malloc((d->nprefs + 1) * sizeof **out);
    *n = 0;
    if (!*out)
        return MINGA_ENOMEM;
    size_t nc;
    const minga_canton_t *all = minga_cantons(&nc);
    for (size_t i = 0; i < d->nprefs; i++) {
        const minga_preference_t *p = d->prefs[i];
        const minga_canton_t *c = minga_canton_find(p->from);
        const char *coop = p->to;
        if (!c) {
            c = minga_canton_find(p->to);
            coop = p->from;
        }
        int ci = c ? s_find(d->coops, d->ncoops, coop) : -1;
        uint8_t kind = !p->preference                              ? 0
                       : strcmp(p->preference, "no") == 0          ? MINGA_MATCH_PREF_NO
                       : strcmp(p->preference, "obligatoria") == 0 ? MINGA_MATCH_PREF_MUST
                       : strcmp(p->preference, "deseada") == 0     ? MINGA_MATCH_PREF_WANT
                                                                   : 0;
        if (ci < 0 || !kind)
            continue;
        (*out)[(*n)++] = (minga_match_pref_t){(uint16_t)(c - all), (uint32_t)ci, kind};
    }
    return 0;
}

int minga_match_data_load_demands(minga_match_data_t *d, minga_store_t *store, MDB_txn *txn,
                                  const char *from, const char *to, char *err, size_t errcap)
{
    return s_load_kind(d, store, txn, &minga_rtype_demand, NULL, 0, from, to, err, errcap);
}

int minga_match_data_prepare_demands(minga_match_data_t *d, char *err, size_t errcap)
{
    if (d->ndemands)
        qsort(d->demands, d->ndemands, sizeof *d->demands, s_cmp_demand);
    free(d->pdemands);
    d->pdemands = calloc(d->ndemands + 1, sizeof *d->pdemands);
    if (!d->pdemands)
        return MINGA_ENOMEM;
    for (size_t i = 0; i < d->ndemands; i++) {
        if (minga_match_demand_prepare(d->demands[i], &d->pdemands[i]) != 0) {
            snprintf(err, errcap, "demand %s has a code outside Minga's lists", d->demands[i]->id);
            return MINGA_EINVAL;
        }
    }
    return 0;
}

int minga_match_data_prepare(minga_match_data_t *d, const minga_match_config_t *cfg, char *err,
                             size_t errcap)
{
    if (!d->event) {
        snprintf(err, errcap, "event %s does not exist", d->event_id);
        return MINGA_ENOTFOUND;
    }
    if (d->noffers)
        qsort(d->offers, d->noffers, sizeof *d->offers, s_cmp_offer);
    int rc = s_number_coops(d);
    d->poffers = calloc(d->noffers + 1, sizeof *d->poffers);
    if (rc || !d->poffers)
        return MINGA_ENOMEM;
    for (size_t i = 0; i < d->noffers; i++) {
        const minga_offer_t *o = d->offers[i];
        int coop = s_find(d->coops, d->ncoops, o->cooperante);
        bool attends = !d->event->attendance_required ||
                       s_find(d->attending, d->nattending, o->cooperante) >= 0;
        if (minga_match_offer_prepare(o, d->event, (uint32_t)coop, attends, d->population,
                                      &d->poffers[i]) != 0) {
            snprintf(err, errcap, "offer %s has a code outside Minga's lists", o->id);
            return MINGA_EINVAL;
        }
    }
    if ((rc = minga_match_data_prepare_demands(d, err, errcap)) != 0)
        return rc;
    minga_match_pref_t *prefs = NULL;
    size_t np = 0;
    if ((rc = s_prefs(d, &prefs, &np)) == 0)
        rc = minga_match_ctx_init(&d->ctx, cfg, d->population, d->poffers, d->noffers, prefs, np);
    free(prefs);
    if (rc == MINGA_EINVAL)
        snprintf(err, errcap, "K must be 1..%d", MINGA_MATCH_K_MAX);
    d->prepared = rc == 0;
    return rc;
}

void minga_match_data_clear(minga_match_data_t *d)
{
    for (size_t i = 0; i < d->noffers; i++)
        minga_record_free(&minga_rtype_offer, d->offers[i]);
    for (size_t i = 0; i < d->ndemands; i++)
        minga_record_free(&minga_rtype_demand, d->demands[i]);
    for (size_t i = 0; i < d->nprefs; i++)
        minga_record_free(&minga_rtype_preference, d->prefs[i]);
    for (size_t i = 0; i < d->nattending; i++)
        free(d->attending[i]);
    minga_record_free(&minga_rtype_event, d->event);
    free(d->offers);
    free(d->demands);
    free(d->prefs);
    free(d->attending);
    free(d->coops);
    free(d->poffers);
    free(d->pdemands);
    if (d->prepared)
        minga_match_ctx_clear(&d->ctx);
    memset(d, 0, sizeof *d);
}
