/*
 * schedule_store.c: an event's scheduling problem read from the store, solved by schedule.c,
 * and its timetable written back (see schedule_store.h for the rules of the translation).
 */
#include "minga/schedule_store.h"

#include "minga/codes.h"
#include "minga/error.h"
#include "minga/match_store.h"
#include "minga/proto.h"

#include <stdlib.h>
#include <string.h>
#include <time.h>

/* ---- the problem being built ---- */

typedef struct {
    char id[MINGA_KEY_ID + 1];
    uint32_t idx;
} s_name_t;

typedef struct {
    uint32_t gad, coop;
    int32_t score;
    char demand[MINGA_KEY_ID + 1], offer[MINGA_KEY_ID + 1];
    uint8_t nreasons;
    uint32_t reasons[MINGA_MATCH_REASONS_MAX];
} s_cand_t;

typedef struct {
    minga_store_t *store;
    const char *event;
    minga_event_t ev;
    uint32_t nslots;
    size_t words;
    /* GADs: index by DPA code */
    int32_t gad_of_code[10000];
    char (*gad_code)[5];
    minga_sched_gad_t *gads;
    size_t ngads;
    /* cooperantes, sorted by id once read */
    s_name_t *coop_names;
    const char **coop_id; /* by index, into coop_names (set by s_make_pairs) */
    minga_sched_coop_t *coops;
    size_t ncoops, coops_cap;
    uint64_t *avail; /* (ngads + ncoops) x words, indexes into it stored as offsets */
    size_t navail, avail_cap;
    size_t *gad_avail_at, *coop_avail_at; /* offset into avail, or SIZE_MAX for all */
    /* candidates, then pairs */
    s_cand_t *cands;
    size_t ncands, cands_cap;
    minga_sched_pair_t *pairs;
    s_cand_t **pair_cand; /* the best candidate of each pair */
    size_t npairs;
    /* preferences: (canton, coop id) no / must */
    struct {
        char gad[5], coop[MINGA_KEY_ID + 1];
        bool no;
    } * prefs;
    size_t nprefs, prefs_cap;
    /* meetings standing (re-schedule), and the cancelled ones of the history */
    minga_meeting_t *old;
    size_t nold, old_cap;
    minga_meeting_t *gone;
    size_t ngone, gone_cap;
} s_build_t;

static void s_build_free(s_build_t *b)
{
    minga_record_clear(&minga_rtype_event, &b->ev);
    free(b->gad_code);
    free(b->gads);
    free(b->coop_names);
    free(b->coop_id);
    free(b->coops);
    free(b->avail);
    free(b->gad_avail_at);
    free(b->coop_avail_at);
    free(b->cands);
    free(b->pairs);
    free(b->pair_cand);
    free(b->prefs);
    free(b->old);
    free(b->gone);
}

static int s_grow(void **v, size_t *cap, size_t n, size_t size)
{
    if (n < *cap)
        return 0;
    size_t c = *cap ? 2 * *cap : 256;
    void *g = realloc(*v, c * size);
    if (!g)
        return MINGA_ENOMEM;
    *v = g;
    *cap = c;
    return 0;
}

/* Parses "1-8,11-14" into a new slot set at the end of b->avail; *at receives its offset,
 * SIZE_MAX for an empty text (every slot). */
static int s_ranges(s_build_t *b, const char *text, size_t *at)
{
    if (!text || !*text) {
        *at = SIZE_MAX;
        return 0;
    }
    while (b->navail + b->words > b->avail_cap) {
        size_t c = b->avail_cap ? 2 * b->avail_cap : 1024;
        uint64_t *g = realloc(b->avail, c * sizeof *g);
        if (!g)
            return MINGA_ENOMEM;
        b->avail = g;
        b->avail_cap = c;
    }
    uint64_t *set = b->avail + b->navail;
    memset(set, 0, b->words * sizeof *set);
    const char *s = text;
    while (*s) {
        char *end;
        unsigned long lo = strtoul(s, &end, 10), hi = lo;
        if (end == s)
            return MINGA_EFORMAT;
        s = end;
        if (*s == '-') {
            hi = strtoul(s + 1, &end, 10);
            if (end == s + 1)
                return MINGA_EFORMAT;
            s = end;
        }
        for (unsigned long x = lo < 1 ? 1 : lo; x <= hi && x <= b->nslots; x++)
            set[(x - 1) / 64] |= 1ull << ((x - 1) % 64);
        while (*s == ',' || *s == ' ')
            s++;
    }
    *at = b->navail;
    b->navail += b->words;
    return 0;
}

static int s_cmp_name(const void *a, const void *c)
{
    return strcmp(((const s_name_t *)a)->id, ((const s_name_t *)c)->id);
}

static int32_t s_coop_find(const s_build_t *b, const char *id)
{
    s_name_t key;
    snprintf(key.id, sizeof key.id, "%s", id);
    const s_name_t *n =
        b->ncoops ? bsearch(&key, b->coop_names, b->ncoops, sizeof key, s_cmp_name) : NULL;
    return n ? (int32_t)n->idx : -1;
}

static int s_code(const char *code)
{
    if (!code || strlen(code) != 4)
        return -1;
    int v = 0;
    for (int i = 0; i < 4; i++) {
        if (code[i] < '0' || code[i] > '9')
            return -1;
        v = v * 10 + code[i] - '0';
    }
    return v;
}

/* ---- reading ---- */

static int s_add_coop(s_build_t *b, const char *id, uint32_t max, uint32_t tables,
                      const char *ranges)
{
    size_t cap = b->coops_cap;
    int rc = s_grow((void **)&b->coops, &cap, b->ncoops, sizeof *b->coops);
    size_t cap2 = b->coops_cap;
    if (rc == 0)
        rc = s_grow((void **)&b->coop_names, &cap2, b->ncoops, sizeof *b->coop_names);
    size_t cap3 = b->coops_cap;
    if (rc == 0)
        rc = s_grow((void **)&b->coop_avail_at, &cap3, b->ncoops, sizeof *b->coop_avail_at);
    if (rc)
        return rc;
    b->coops_cap = cap;
    size_t at;
    if ((rc = s_ranges(b, ranges, &at)) != 0)
        return rc;
    b->coops[b->ncoops] = (minga_sched_coop_t){max, tables ? tables : 1, NULL, 0};
    snprintf(b->coop_names[b->ncoops].id, sizeof b->coop_names[0].id, "%s", id);
    b->coop_names[b->ncoops].idx = (uint32_t)b->ncoops;
    b->coop_avail_at[b->ncoops] = at;
    b->ncoops++;
    return 0;
}

static int s_read_participants(s_build_t *b, MDB_txn *txn)
{
    b->gad_code = calloc(MINGA_MATCH_NCANTONS + 1, sizeof *b->gad_code);
    b->gads = calloc(MINGA_MATCH_NCANTONS + 1, sizeof *b->gads);
    b->gad_avail_at = calloc(MINGA_MATCH_NCANTONS + 1, sizeof *b->gad_avail_at);
    if (!b->gad_code || !b->gads || !b->gad_avail_at)
        return MINGA_ENOMEM;
    for (int i = 0; i < 10000; i++)
        b->gad_of_code[i] = -1;
    uint8_t prefix[2 * MINGA_KEY_ID];
    memset(prefix, 0, sizeof prefix);
    minga_key_id(prefix, b->event);
    MDB_cursor *cur;
    int rc = mdb_cursor_open(txn, minga_store_dbi(b->store, MINGA_DB_PARTICIPANT), &cur);
    if (rc)
        return rc;
    minga_participant_t p;
    memset(&p, 0, sizeof p);
    MDB_val k = {sizeof prefix, prefix}, v;
    for (rc = mdb_cursor_get(cur, &k, &v, MDB_SET_RANGE); rc == 0;
         rc = mdb_cursor_get(cur, &k, &v, MDB_NEXT)) {
        if (k.mv_size != sizeof prefix || memcmp(k.mv_data, prefix, MINGA_KEY_ID) != 0)
            break;
        char err[256];
        if ((rc = minga_record_decode(&minga_rtype_participant, v.mv_data, v.mv_size, &p, err,
                                      sizeof err)) != 0)
            break;
        uint32_t max = (uint32_t)(p.max_meetings > 65535 ? 65535 : p.max_meetings);
        if (strcmp(p.kind, "gad") == 0) {
            int code = s_code(p.party);
            if (code < 0 || b->gad_of_code[code] >= 0 || b->ngads > MINGA_MATCH_NCANTONS)
                continue;
            size_t at;
            if ((rc = s_ranges(b, p.available_slots, &at)) != 0)
                break;
            uint64_t min = p.min_meetings ? p.min_meetings : b->ev.min_meetings_gad;
            b->gads[b->ngads] =
                (minga_sched_gad_t){(uint32_t)(min > 65535 ? 65535 : min), max, NULL};
            b->gad_avail_at[b->ngads] = at;
            snprintf(b->gad_code[b->ngads], 5, "%s", p.party);
            b->gad_of_code[code] = (int32_t)b->ngads++;
        } else if ((rc = s_add_coop(b, p.party, max, (uint32_t)p.tables, p.available_slots)) != 0) {
            break;
        }
    }
    if (rc == MDB_NOTFOUND)
        rc = 0;
    minga_record_clear(&minga_rtype_participant, &p);
    mdb_cursor_close(cur);
    if (rc == 0 && b->ncoops)
        qsort(b->coop_names, b->ncoops, sizeof *b->coop_names, s_cmp_name);
    return rc;
}

static int s_read_prefs(s_build_t *b, MDB_txn *txn)
{
    uint8_t prefix[3 * MINGA_KEY_ID];
    memset(prefix, 0, sizeof prefix);
    minga_key_id(prefix, b->event);
    MDB_cursor *cur;
    int rc = mdb_cursor_open(txn, minga_store_dbi(b->store, MINGA_DB_PREFERENCE), &cur);
    if (rc)
        return rc;
    minga_preference_t p;
    memset(&p, 0, sizeof p);
    MDB_val k = {sizeof prefix, prefix}, v;
    for (rc = mdb_cursor_get(cur, &k, &v, MDB_SET_RANGE); rc == 0;
         rc = mdb_cursor_get(cur, &k, &v, MDB_NEXT)) {
        if (k.mv_size != sizeof prefix || memcmp(k.mv_data, prefix, MINGA_KEY_ID) != 0)
            break;
        char err[256];
        if ((rc = minga_record_decode(&minga_rtype_preference, v.mv_data, v.mv_size, &p, err,
                                      sizeof err)) != 0)
            break;
        bool no = strcmp(p.preference, "no") == 0;
        if (!no && strcmp(p.preference, "obligatoria") != 0)
            continue;
        if ((rc = s_grow((void **)&b->prefs, &b->prefs_cap, b->nprefs, sizeof *b->prefs)) != 0)
            break;
        bool from_gad = s_code(p.from) >= 0;
        snprintf(b->prefs[b->nprefs].gad, 5, "%s", from_gad ? p.from : p.to);
        snprintf(b->prefs[b->nprefs].coop, MINGA_KEY_ID + 1, "%s", from_gad ? p.to : p.from);
        b->prefs[b->nprefs++].no = no;
    }
    if (rc == MDB_NOTFOUND)
        rc = 0;
    minga_record_clear(&minga_rtype_preference, &p);
    mdb_cursor_close(cur);
    return rc;
}

/* 0 none, 1 no, 2 must. */
static int s_pref(const s_build_t *b, const char *gad, const char *coop)
{
    int r = 0;
    for (size_t i = 0; i < b->nprefs; i++)
        if (strcmp(b->prefs[i].gad, gad) == 0 && strcmp(b->prefs[i].coop, coop) == 0)
            r = b->prefs[i].no ? 1 : (r ? r : 2);
    return r;
}

static int s_on_cand(const minga_match_candidate_t *c, void *arg)
{
    s_build_t *b = arg;
    int code = s_code(c->gad);
    if (code < 0 || b->gad_of_code[code] < 0)
        return 0;
    int32_t coop = s_coop_find(b, c->cooperante);
    if (coop < 0) {
        if (b->ev.attendance_required)
            return 0;
        /* an unregistered cooperante: every slot, the event's maximum, one table */
        int rc = s_add_coop(b, c->cooperante, (uint32_t)b->ev.max_meetings, 1, NULL);
        if (rc)
            return rc;
        coop = (int32_t)(b->ncoops - 1);
        /* keep the names sorted: move the new last one to its place */
        s_name_t x = b->coop_names[b->ncoops - 1];
        size_t at = b->ncoops - 1;
        while (at > 0 && strcmp(b->coop_names[at - 1].id, x.id) > 0)
            at--;
        memmove(b->coop_names + at + 1, b->coop_names + at,
                (b->ncoops - 1 - at) * sizeof *b->coop_names);
        b->coop_names[at] = x;
    }
    int rc = s_grow((void **)&b->cands, &b->cands_cap, b->ncands, sizeof *b->cands);
    if (rc)
        return rc;
    s_cand_t *x = &b->cands[b->ncands++];
    memset(x, 0, sizeof *x);
    x->gad = (uint32_t)b->gad_of_code[code];
    x->coop = (uint32_t)coop;
    x->score = c->score;
    snprintf(x->demand, sizeof x->demand, "%s", c->demand);
    snprintf(x->offer, sizeof x->offer, "%s", c->offer);
    for (size_t i = 0; i < c->nreasons && i < MINGA_MATCH_REASONS_MAX; i++)
        x->reasons[x->nreasons++] = c->reasons[i];
    return 0;
}

static int s_cmp_cand(const void *a, const void *c)
{
    const s_cand_t *x = a, *y = c;
    if (x->gad != y->gad)
        return x->gad < y->gad ? -1 : 1;
    if (x->coop != y->coop)
        return x->coop < y->coop ? -1 : 1;
    if (x->score != y->score)
        return x->score > y->score ? -1 : 1;
    int d = strcmp(x->demand, y->demand);
    return d ? d : strcmp(x->offer, y->offer);
}

static int s_on_gone(const minga_meeting_t *m, void *arg)
{
    s_build_t *b = arg;
    int rc = s_grow((void **)&b->gone, &b->gone_cap, b->ngone, sizeof *b->gone);
    if (rc == 0)
        b->gone[b->ngone++] = *m;
    return rc;
}

/* Re-schedule: a pair whose meeting was cancelled, and that has no meeting standing, is not
 * offered again (the operator cancelled it for a reason). */
static bool s_cancelled_pair(const s_build_t *b, const char *gad, const char *coop)
{
    bool gone = false;
    for (size_t i = 0; i < b->ngone && !gone; i++)
        gone = strcmp(b->gone[i].gad, gad) == 0 && strcmp(b->gone[i].cooperante, coop) == 0;
    for (size_t i = 0; i < b->nold && gone; i++)
        if (strcmp(b->old[i].gad, gad) == 0 && strcmp(b->old[i].cooperante, coop) == 0)
            return false;
    return gone;
}

/* One pair per (GAD, cooperante): the best candidate, "no" pairs left out. */
static int s_make_pairs(s_build_t *b)
{
    if (b->ncands)
        qsort(b->cands, b->ncands, sizeof *b->cands, s_cmp_cand);
    b->coop_id = calloc(b->ncoops ? b->ncoops : 1, sizeof *b->coop_id);
    if (!b->coop_id)
        return MINGA_ENOMEM;
    for (size_t k = 0; k < b->ncoops; k++)
        b->coop_id[b->coop_names[k].idx] = b->coop_names[k].id;
    b->pairs = malloc((b->ncands ? b->ncands : 1) * sizeof *b->pairs);
    b->pair_cand = malloc((b->ncands ? b->ncands : 1) * sizeof *b->pair_cand);
    if (!b->pairs || !b->pair_cand)
        return MINGA_ENOMEM;
    for (size_t i = 0; i < b->ncands; i++) {
        s_cand_t *x = &b->cands[i];
        if (i > 0 && x->gad == b->cands[i - 1].gad && x->coop == b->cands[i - 1].coop)
            continue;
        const char *coop_id = b->coop_id[x->coop];
        int pref = b->nprefs && coop_id ? s_pref(b, b->gad_code[x->gad], coop_id) : 0;
        if (pref == 1 || (b->ngone && s_cancelled_pair(b, b->gad_code[x->gad], coop_id)))
            continue;
        b->pairs[b->npairs] = (minga_sched_pair_t){x->gad, x->coop, x->score, pref == 2};
        b->pair_cand[b->npairs++] = x;
    }
    return 0;
}

static int s_on_old(const minga_meeting_t *m, void *arg)
{
    s_build_t *b = arg;
    int rc = s_grow((void **)&b->old, &b->old_cap, b->nold, sizeof *b->old);
    if (rc == 0)
        b->old[b->nold++] = *m;
    return rc;
}

static int s_read(s_build_t *b, bool reschedule, char *err, size_t errcap)
{
    MDB_txn *txn;
    int rc = minga_store_read_begin(b->store, &txn);
    if (rc) {
        snprintf(err, errcap, "cannot read the store: %s", minga_strerror(rc));
        return rc;
    }
    rc = minga_event_load(b->store, txn, b->event, &b->ev);
    if (rc == MINGA_ENOTFOUND)
        snprintf(err, errcap, "event %s does not exist", b->event);
    else if (rc)
        snprintf(err, errcap, "event %s: %s", b->event, minga_strerror(rc));
    minga_slot_time_t t;
    if (rc == 0 && ((b->nslots = minga_event_slots(&b->ev)) == 0 ||
                    minga_event_slot_time(&b->ev, 1, &t) != 0)) {
        snprintf(err, errcap, "event %s: its days (%s..%s, %s-%s, %llu min, zone %s) hold no slot",
                 b->event, b->ev.date_start, b->ev.date_end, b->ev.day_start, b->ev.day_end,
                 (unsigned long long)b->ev.slot_minutes, b->ev.timezone);
        rc = MINGA_EINVAL;
    }
    b->words = MINGA_SCHED_WORDS(b->nslots);
    if (rc == 0 && (rc = s_read_participants(b, txn)) != 0)
        snprintf(err, errcap, "participants of %s: %s", b->event, minga_strerror(rc));
    if (rc == 0 && (rc = s_read_prefs(b, txn)) != 0)
        snprintf(err, errcap, "preferences of %s: %s", b->event, minga_strerror(rc));
    mdb_txn_abort(txn);
    /* candidates and meetings: their own snapshots (they take their own transactions) */
    if (rc == 0 && (rc = minga_match_candidates_each(b->store, b->event, s_on_cand, b)) != 0)
        snprintf(err, errcap, "candidates of %s: %s", b->event, minga_strerror(rc));
    if (rc == 0 && reschedule &&
        (rc = minga_meetings_each(b->store, NULL, b->event, s_on_old, b)) != 0)
        snprintf(err, errcap, "meetings of %s: %s", b->event, minga_strerror(rc));
    if (rc == 0 && reschedule &&
        (rc = minga_meeting_history_each(b->store, NULL, b->event, s_on_gone, b)) != 0)
        snprintf(err, errcap, "meeting history of %s: %s", b->event, minga_strerror(rc));
    if (rc == 0 && (rc = s_make_pairs(b)) != 0)
        snprintf(err, errcap, "out of memory");
    if (rc)
        return rc;
    for (size_t g = 0; g < b->ngads; g++)
        b->gads[g].avail = b->gad_avail_at[g] == SIZE_MAX ? NULL : b->avail + b->gad_avail_at[g];
    for (size_t c = 0; c < b->ncoops; c++)
        b->coops[c].avail = b->coop_avail_at[c] == SIZE_MAX ? NULL : b->avail + b->coop_avail_at[c];
    return 0;
}

/* ---- fixed meetings (re-schedule) ---- */

static int s_cmp_pair(const void *a, const void *c)
{
    const minga_sched_pair_t *x = a, *y = c;
    if (x->gad != y->gad)
        return x->gad < y->gad ? -1 : 1;
    return x->coop < y->coop ? -1 : x->coop > y->coop;
}

/* Turns the meetings standing into fixed meetings (pairs are sorted by (gad, coop)); sets
 * each cooperante's table_first from its meetings. *fixed_src[i] = index into b->old. */
static int s_fixed(s_build_t *b, minga_sched_meeting_t **fixed, size_t **src, size_t *n)
{
    *fixed = malloc((b->nold ? b->nold : 1) * sizeof **fixed);
    *src = malloc((b->nold ? b->nold : 1) * sizeof **src);
    *n = 0;
    if (!*fixed || !*src)
        return MINGA_ENOMEM;
    for (size_t i = 0; i < b->nold; i++) {
        const minga_meeting_t *m = &b->old[i];
        int code = s_code(m->gad);
        int32_t coop = s_coop_find(b, m->cooperante);
        if (code < 0 || b->gad_of_code[code] < 0 || coop < 0)
            continue;
        minga_sched_pair_t key = {(uint32_t)b->gad_of_code[code], (uint32_t)coop, 0, false};
        const minga_sched_pair_t *pr = bsearch(&key, b->pairs, b->npairs, sizeof key, s_cmp_pair);
        if (!pr)
            continue;
        minga_sched_coop_t *cp = &b->coops[coop];
        if (!cp->table_first || m->table < cp->table_first)
            cp->table_first = m->table;
        (*fixed)[*n] = (minga_sched_meeting_t){(uint32_t)(pr - b->pairs), m->slot, m->table};
        (*src)[(*n)++] = i;
    }
    return 0;
}

/* ---- writing ---- */

static void s_fill_meeting(const s_build_t *b, uint32_t pair, const minga_sched_meeting_t *sm,
                           minga_meeting_t *m)
{
    memset(m, 0, sizeof *m);
    const s_cand_t *x = b->pair_cand[pair];
    m->slot = sm->slot;
    m->table = sm->table;
    snprintf(m->gad, sizeof m->gad, "%s", b->gad_code[x->gad]);
    snprintf(m->cooperante, sizeof m->cooperante, "%s", b->coop_id[x->coop]);
    snprintf(m->demand, sizeof m->demand, "%s", x->demand);
    snprintf(m->offer, sizeof m->offer, "%s", x->offer);
    m->score = x->score;
    m->status = MINGA_MEETING_SCHEDULED;
    m->nreasons = x->nreasons;
    memcpy(m->reasons, x->reasons, sizeof m->reasons);
}

static uint64_t s_ms(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (uint64_t)ts.tv_sec * 1000u + (uint64_t)ts.tv_nsec / 1000000u;
}

static int s_report_below(s_build_t *b, const minga_sched_result_t *r, minga_schedule_report_t *rep)
{
    rep->below = calloc(r->gads_below ? r->gads_below : 1, sizeof *rep->below);
    if (!rep->below)
        return MINGA_ENOMEM;
    for (size_t g = 0; g < b->ngads; g++) {
        if (r->gad_meetings[g] >= b->gads[g].min)
            continue;
        minga_schedule_below_t *x = &rep->below[rep->nbelow++];
        snprintf(x->gad, sizeof x->gad, "%s", b->gad_code[g]);
        const minga_canton_t *ct = minga_canton_find(b->gad_code[g]);
        snprintf(x->name, sizeof x->name, "%s", ct ? ct->name : b->gad_code[g]);
        x->meetings = r->gad_meetings[g];
        x->min = b->gads[g].min;
        x->why = r->gad_below[g];
    }
    return 0;
}

int minga_schedule_run(minga_store_t *store, const char *event, const minga_schedule_opts_t *opts,
                       minga_schedule_progress_fn *progress, void *arg,
                       minga_schedule_report_t *rep, char *err, size_t errcap)
{
    memset(rep, 0, sizeof *rep);
    if (!event || !minga_id_valid(event)) {
        snprintf(err, errcap, "'%s' is not an event id", event ? event : "");
        return MINGA_EINVAL;
    }
    snprintf(rep->event, sizeof rep->event, "%s", event);
    rep->reschedule = opts && opts->reschedule;
    s_build_t *b = calloc(1, sizeof *b);
    if (!b) {
        snprintf(err, errcap, "out of memory");
        return MINGA_ENOMEM;
    }
    b->store = store;
    b->event = event;
    minga_sched_result_t r;
    memset(&r, 0, sizeof r);
    minga_sched_meeting_t *fixed = NULL;
    size_t *src = NULL, nfixed = 0;
    minga_meeting_t *out = NULL;
    uint64_t t0 = s_ms();
    if (progress)
        progress(0, 3, "leyendo participantes y candidatos", arg);
    int rc = s_read(b, rep->reschedule, err, errcap);
    if (rc)
        goto done;
    if (rep->reschedule && (rc = s_fixed(b, &fixed, &src, &nfixed)) != 0) {
        snprintf(err, errcap, "out of memory");
        goto done;
    }
    rep->read_ms = s_ms() - t0;
    if (progress)
        progress(1, 3, "eligiendo y ubicando las reuniones", arg);
    uint64_t per_pair = b->ev.meetings_per_pair ? b->ev.meetings_per_pair : 1;
    minga_sched_problem_t p = {b->nslots,
                               (uint32_t)(b->ev.tables > 65535 ? 65535 : b->ev.tables),
                               (uint32_t)(per_pair > 65535 ? 65535 : per_pair),
                               b->gads,
                               b->ngads,
                               b->coops,
                               b->ncoops,
                               b->pairs,
                               b->npairs,
                               fixed,
                               nfixed,
                               opts ? opts->method : MINGA_SCHED_FLOW};
    for (size_t c = 0; c < b->ncoops; c++)
        if (b->coops[c].tables > p.ntables)
            b->coops[c].tables = p.ntables; /* more representatives than the venue's tables */
    uint64_t t1 = s_ms();
    if ((rc = minga_sched_solve(&p, &r, err, errcap)) != 0)
        goto done;
    rep->solve_ms = s_ms() - t1;
    if (progress)
        progress(2, 3, "guardando el cronograma", arg);
    out = calloc(r.n ? r.n : 1, sizeof *out);
    if (!out) {
        rc = MINGA_ENOMEM;
        snprintf(err, errcap, "out of memory");
        goto done;
    }
    for (size_t i = 0; i < r.n; i++) {
        s_fill_meeting(b, r.meetings[i].pair, &r.meetings[i], &out[i]);
        for (size_t k = 0; k < nfixed; k++) /* a kept meeting keeps its status */
            if (fixed[k].slot == r.meetings[i].slot && fixed[k].table == r.meetings[i].table &&
                fixed[k].pair == r.meetings[i].pair) {
                out[i].status = b->old[src[k]].status;
                break;
            }
    }
    minga_meeting_summary_t *s = &rep->summary;
    s->meetings = r.n;
    s->total_score = (uint64_t)r.total_score;
    s->gads = b->ngads;
    s->gads_below = r.gads_below;
    s->slots_used = r.slots_used;
    s->tables_used = r.tables_used;
    s->scheduled_at = minga_now_ms();
    s->elapsed_ms = rep->solve_ms;
    uint64_t t2 = s_ms();
    if ((rc = minga_meeting_replace(store, event, out, r.n, s, rep->reschedule)) != 0) {
        snprintf(err, errcap, "writing the meetings of %s: %s", event, minga_strerror(rc));
        goto done;
    }
    rep->store_ms = s_ms() - t2;
    minga_meeting_summary(store, NULL, event, s);
    rep->gads = b->ngads;
    rep->coops = b->ncoops;
    rep->pairs = b->npairs;
    rep->candidates = b->ncands;
    rep->slots = b->nslots;
    rep->tables = p.ntables;
    for (size_t c = 0; c < b->ncoops; c++) {
        bool has = false;
        for (size_t i = 0; i < b->npairs && !has; i++)
            has = b->pairs[i].coop == c;
        rep->coops_no_table += has && !r.coop_table_first[c];
    }
    rep->kept = r.fixed_kept;
    rep->dropped = b->nold - r.fixed_kept;
    rep->unplaced = r.unplaced;
    rep->refilled = r.refilled;
    rep->choice_proven = r.choice_proven;
    rep->choice_flows = r.choice_flows;
    rep->max_degree = r.max_degree;
    rc = s_report_below(b, &r, rep);
    if (progress)
        progress(3, 3, "cronograma guardado", arg);
done:
    free(out);
    free(fixed);
    free(src);
    minga_sched_result_clear(&r);
    s_build_free(b);
    free(b);
    if (rc)
        minga_schedule_report_clear(rep);
    return rc;
}

void minga_schedule_report_clear(minga_schedule_report_t *rep)
{
    free(rep->below);
    rep->below = NULL;
    rep->nbelow = 0;
}

int minga_schedule_report_pack(const minga_schedule_report_t *r, msgpack_packer *pk)
{
    int rc = msgpack_pack_map(pk, 27);
    rc |= minga_pk_kv_str(pk, "event", r->event);
    rc |= minga_pk_kv_bool(pk, "reschedule", r->reschedule);
    rc |= minga_pk_kv_uint(pk, "revision", r->summary.revision);
    rc |= minga_pk_kv_uint(pk, "meetings", r->summary.meetings);
    rc |= minga_pk_kv_uint(pk, "total_score", r->summary.total_score);
    rc |= minga_pk_kv_uint(pk, "gads", r->gads);
    rc |= minga_pk_kv_uint(pk, "gads_at_minimum", r->gads - r->nbelow);
    rc |= minga_pk_kv_uint(pk, "gads_below", r->nbelow);
    rc |= minga_pk_str(pk, "below");
    rc |= msgpack_pack_array(pk, (uint32_t)r->nbelow);
    for (size_t i = 0; i < r->nbelow; i++) {
        const minga_schedule_below_t *x = &r->below[i];
        rc |= msgpack_pack_map(pk, 5);
        rc |= minga_pk_kv_str(pk, "gad", x->gad);
        rc |= minga_pk_kv_str(pk, "name", x->name);
        rc |= minga_pk_kv_uint(pk, "meetings", x->meetings);
        rc |= minga_pk_kv_uint(pk, "min", x->min);
        rc |= minga_pk_kv_str(pk, "why", minga_sched_below_text(x->why));
    }
    rc |= minga_pk_kv_uint(pk, "cooperantes", r->coops);
    rc |= minga_pk_kv_uint(pk, "pairs", r->pairs);
    rc |= minga_pk_kv_uint(pk, "candidates", r->candidates);
    rc |= minga_pk_kv_uint(pk, "slots", r->slots);
    rc |= minga_pk_kv_uint(pk, "slots_used", r->summary.slots_used);
    rc |= minga_pk_kv_uint(pk, "tables", r->tables);
    rc |= minga_pk_kv_uint(pk, "tables_used", r->summary.tables_used);
    rc |= minga_pk_kv_uint(pk, "coops_no_table", r->coops_no_table);
    rc |= minga_pk_kv_uint(pk, "max_degree", r->max_degree);
    rc |= minga_pk_kv_uint(pk, "kept", r->kept);
    rc |= minga_pk_kv_uint(pk, "dropped", r->dropped);
    rc |= minga_pk_kv_uint(pk, "unplaced", r->unplaced);
    rc |= minga_pk_kv_uint(pk, "refilled", r->refilled);
    rc |= minga_pk_kv_bool(pk, "choice_proven", r->choice_proven);
    rc |= minga_pk_kv_uint(pk, "choice_flows", r->choice_flows);
    rc |= minga_pk_kv_uint(pk, "read_ms", r->read_ms);
    rc |= minga_pk_kv_uint(pk, "solve_ms", r->solve_ms);
    rc |= minga_pk_kv_uint(pk, "store_ms", r->store_ms);
    return rc ? -1 : 0;
}

static uint64_t s_u(const msgpack_object *o, const char *key)
{
    return minga_pobj_uint(minga_pobj_get(o, key), 0);
}

static void s_decimal(char *buf, size_t cap, double v, int decimals)
{
    snprintf(buf, cap, "%.*f", decimals, v);
    char *dot = strchr(buf, '.');
    if (dot)
        *dot = ',';
}

void minga_schedule_summary_print(FILE *out, const msgpack_object *o)
{
    if (!o || o->type != MSGPACK_OBJECT_MAP)
        return;
    size_t len;
    const char *ev = minga_pobj_str(minga_pobj_get(o, "event"), &len);
    uint64_t meetings = s_u(o, "meetings"), score = s_u(o, "total_score");
    uint64_t gads = s_u(o, "gads"), below = s_u(o, "gads_below");
    char avg[32], pct[32];
    s_decimal(avg, sizeof avg, meetings ? (double)score / 100.0 / (double)meetings : 0.0, 2);
    s_decimal(pct, sizeof pct, gads ? 100.0 * (double)(gads - below) / (double)gads : 100.0, 1);
    fprintf(out, "\nCronograma de la rueda %.*s (revisión %llu):\n", ev ? (int)len : 0,
            ev ? ev : "", (unsigned long long)s_u(o, "revision"));
    fprintf(out, "  Reuniones:            %llu, puntaje total %llu,%02llu (promedio %s)\n",
            (unsigned long long)meetings, (unsigned long long)(score / 100),
            (unsigned long long)(score % 100), avg);
    fprintf(out, "  GAD con su mínimo:    %llu de %llu (%s %%)\n",
            (unsigned long long)(gads - below), (unsigned long long)gads, pct);
    fprintf(out, "  Turnos usados:        %llu de %llu\n", (unsigned long long)s_u(o, "slots_used"),
            (unsigned long long)s_u(o, "slots"));
    fprintf(out, "  Mesas usadas:         %llu de %llu\n",
            (unsigned long long)s_u(o, "tables_used"), (unsigned long long)s_u(o, "tables"));
    fprintf(out, "  Cooperantes:          %llu; pares candidatos: %llu\n",
            (unsigned long long)s_u(o, "cooperantes"), (unsigned long long)s_u(o, "pairs"));
    if (s_u(o, "coops_no_table"))
        fprintf(out, "  Sin mesa (no alcanzan las mesas del lugar): %llu cooperantes\n",
                (unsigned long long)s_u(o, "coops_no_table"));
    if (minga_pobj_bool(minga_pobj_get(o, "reschedule"), false))
        fprintf(out, "  Reprogramación:       %llu reuniones se mantienen, %llu canceladas\n",
                (unsigned long long)s_u(o, "kept"), (unsigned long long)s_u(o, "dropped"));
    fprintf(out, "  Tiempo de cálculo:    %llu ms\n", (unsigned long long)s_u(o, "solve_ms"));
    /* stage 1 solves a relaxation (per-pair and per-party slot counts, the venue's tables
     * left out): its proven optimum is the schedule's when every chosen meeting found a slot
     * and a table */
    const msgpack_object *proven = minga_pobj_get(o, "choice_proven");
    uint64_t unplaced = s_u(o, "unplaced"), notable = s_u(o, "coops_no_table");
    if (proven && !minga_pobj_bool(proven, false))
        fprintf(out, "  Optimalidad:          no demostrada (la búsqueda agotó su presupuesto; es "
                     "la mejor elección hallada)\n");
    else if (proven && (unplaced || notable))
        fprintf(out,
                "  Optimalidad:          no demostrada (la elección era óptima, pero no todo cupo "
                "en turnos y mesas: %llu reuniones sin ubicar, %llu cooperantes sin mesa)\n",
                (unsigned long long)unplaced, (unsigned long long)notable);
    else if (proven)
        fprintf(out, "  Optimalidad:          demostrada (la mayor cantidad de GAD con su mínimo "
                     "y, con ellos, el mayor puntaje)\n");
    const msgpack_object *bl = minga_pobj_get(o, "below");
    if (below && bl && bl->type == MSGPACK_OBJECT_ARRAY) {
        fprintf(out, "  GAD bajo su mínimo (%llu):\n", (unsigned long long)below);
        for (uint32_t i = 0; i < bl->via.array.size; i++) {
            const msgpack_object *x = &bl->via.array.ptr[i];
            size_t gl, nl, wl;
            const char *g = minga_pobj_str(minga_pobj_get(x, "gad"), &gl);
            const char *n = minga_pobj_str(minga_pobj_get(x, "name"), &nl);
            const char *w = minga_pobj_str(minga_pobj_get(x, "why"), &wl);
            fprintf(out, "    %.*s %.*s: %llu de %llu reuniones; %.*s\n", g ? (int)gl : 0,
                    g ? g : "", n ? (int)nl : 0, n ? n : "", (unsigned long long)s_u(x, "meetings"),
                    (unsigned long long)s_u(x, "min"), w ? (int)wl : 0, w ? w : "");
        }
    } else {
        fprintf(out, "  Todos los GAD alcanzan su mínimo de reuniones.\n");
    }
}
