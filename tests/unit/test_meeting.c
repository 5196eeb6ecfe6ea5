/*
 * test_meeting.c: the meeting store (meeting.h), scheduling from the store without the broker
 * (schedule_store.h) and the agenda model (agenda.h) — a small Jornada (demo data at scale
 * 0.2) imported, scored in one shard and scheduled: slot times, the timetable in key order and
 * its summary, the codec against hostile bytes, status changes and cancellations with their
 * history and revisions, an atomic replace that refuses two meetings at one place, a
 * re-schedule of unchanged data that keeps everything, the greedy baseline below the flow, and
 * agendas and the list of parties consistent with the timetable.
 */
#include "minga/agenda.h"
#include "demo_store.h"
#include "minga/demo.h"
#include "minga/error.h"
#include "minga/io.h"
#include "minga/match_store.h"
#include "minga/meeting.h"
#include "minga/schedule_store.h"

#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>

#include <cmocka.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#define E MINGA_DEMO_EVENT

static char s_dir[64];
static minga_store_t *s_store;

static int s_setup(void **state)
{
    (void)state;
    if (minga_test_demo_store(s_dir, sizeof s_dir, 0.2, E, &s_store) != 0)
        return -1;
    minga_match_shard_t job = {E, 1, 0, 1, NULL, NULL, {0}};
    minga_match_config_defaults(&job.cfg);
    minga_match_shard_result_t res;
    char err[256];
    return minga_match_run_shard(s_store, &job, NULL, NULL, &res, err, sizeof err);
}

static int s_teardown(void **state)
{
    (void)state;
    return minga_test_store_remove(s_dir, &s_store);
}

static void s_schedule(bool reschedule, minga_sched_method_t method, minga_schedule_report_t *r)
{
    char err[512] = "";
    minga_schedule_opts_t opts = {reschedule, method};
    int rc = minga_schedule_run(s_store, E, &opts, NULL, NULL, r, err, sizeof err);
    if (rc)
        fail_msg("minga_schedule_run: %d %s", rc, err);
}

/* ---- collecting ---- */

typedef struct {
    minga_meeting_t *m;
    size_t n, cap;
} s_list_t;

static int s_collect(const minga_meeting_t *m, void *arg)
{
    s_list_t *l = arg;
    if (l->n == l->cap) {
        l->cap = l->cap ? 2 * l->cap : 256;
        l->m = realloc(l->m, l->cap * sizeof *l->m);
        assert_non_null(l->m);
    }
    l->m[l->n++] = *m;
    return 0;
}

static s_list_t s_meetings(void)
{
    s_list_t l = {NULL, 0, 0};
    assert_int_equal(minga_meetings_each(s_store, NULL, E, s_collect, &l), 0);
    return l;
}

static uint64_t s_revision(void)
{
    minga_meeting_summary_t s;
    assert_int_equal(minga_meeting_summary(s_store, NULL, E, &s), 0);
    return s.revision;
}

/* ---- tests ---- */

static void test_slot_times(void **state)
{
    (void)state;
    minga_event_t ev;
    assert_int_equal(minga_event_load(s_store, NULL, E, &ev), 0);
    assert_int_equal(minga_event_slots_per_day(&ev), 24);
    assert_int_equal(minga_event_slots(&ev), 48);
    minga_slot_time_t t;
    assert_int_equal(minga_event_slot_time(&ev, 1, &t), 0);
    assert_string_equal(t.start, "2026-11-12T09:00:00-05:00");
    assert_string_equal(t.end, "2026-11-12T09:20:00-05:00");
    assert_string_equal(t.date, "2026-11-12");
    assert_string_equal(t.start_hm, "09:00");
    assert_int_equal(minga_event_slot_time(&ev, 24, &t), 0);
    assert_string_equal(t.start, "2026-11-12T16:40:00-05:00");
    assert_string_equal(t.end, "2026-11-12T17:00:00-05:00");
    assert_int_equal(minga_event_slot_time(&ev, 25, &t), 0);
    assert_string_equal(t.start, "2026-11-13T09:00:00-05:00");
    assert_int_equal(t.day, 1);
    assert_int_equal(minga_event_slot_time(&ev, 49, &t), MINGA_EINVAL);
    assert_int_equal(minga_event_slot_time(&ev, 0, &t), MINGA_EINVAL);
    /* 45-minute slots from 08:30 to 17:00 over a month's end: 11 a day */
    minga_event_t e2 = ev;
    e2.slot_minutes = 45;
    e2.day_start = "08:30";
    e2.date_start = "2026-11-30";
    e2.date_end = "2026-12-01";
    assert_int_equal(minga_event_slots_per_day(&e2), 11);
    assert_int_equal(minga_event_slot_time(&e2, 12, &t), 0);
    assert_string_equal(t.start, "2026-12-01T08:30:00-05:00");
    assert_int_equal(minga_event_slot_time(&e2, 11, &t), 0);
    assert_string_equal(t.end, "2026-11-30T16:45:00-05:00");
    e2.timezone = "Pacific/Galapagos";
    assert_int_equal(minga_event_slot_time(&e2, 1, &t), 0);
    assert_string_equal(t.start, "2026-11-30T08:30:00-06:00");
    e2.timezone = "Europe/Nowhere";
    assert_int_equal(minga_event_slot_time(&e2, 1, &t), MINGA_EINVAL);
    minga_record_clear(&minga_rtype_event, &ev);
}

static void test_schedule_and_read_back(void **state)
{
    (void)state;
    minga_schedule_report_t r;
    s_schedule(false, MINGA_SCHED_FLOW, &r);
    assert_true(r.summary.meetings > 50);
    s_list_t l = s_meetings();
    assert_int_equal(l.n, r.summary.meetings);
    uint64_t total = 0;
    for (size_t i = 0; i < l.n; i++) {
        total += (uint64_t)l.m[i].score;
        assert_int_equal(l.m[i].status, MINGA_MEETING_SCHEDULED);
        assert_true(l.m[i].nreasons > 0);
        if (i)
            assert_true(l.m[i - 1].slot < l.m[i].slot ||
                        (l.m[i - 1].slot == l.m[i].slot && l.m[i - 1].table < l.m[i].table));
    }
    assert_int_equal(total, r.summary.total_score);
    minga_meeting_summary_t s;
    assert_int_equal(minga_meeting_summary(s_store, NULL, E, &s), 0);
    assert_int_equal(s.meetings, l.n);
    assert_int_equal(s.revision, r.summary.revision);
    /* the stored value round-trips */
    msgpack_sbuffer sb;
    msgpack_sbuffer_init(&sb);
    assert_int_equal(minga_meeting_encode(&l.m[0], &sb), 0);
    minga_meeting_t back;
    assert_int_equal(minga_meeting_decode(sb.data, sb.size, &back), 0);
    assert_memory_equal(&back, &l.m[0], sizeof back);
    /* hostile bytes: every truncation, and a newer version */
    for (size_t cut = 0; cut < sb.size; cut++)
        assert_int_not_equal(minga_meeting_decode(sb.data, cut, &back), 0);
    ((char *)sb.data)[3] = 9; /* "v": 1 -> 9 (map header, "v", then its value) */
    assert_int_equal(minga_meeting_decode(sb.data, sb.size, &back), MINGA_EVERSION);
    msgpack_sbuffer_destroy(&sb);
    /* the export: a header and one row per meeting */
    char *text = NULL;
    size_t len = 0, count = 0;
    FILE *f = open_memstream(&text, &len);
    assert_int_equal(minga_meeting_export(s_store, E, false, f, &count), 0);
    fclose(f);
    assert_int_equal(count, l.n);
    assert_non_null(strstr(text, "slot;start;end;table;gad;cooperante;demand_id;offer_id;score;"
                                 "status\n"));
    free(text);
    assert_int_equal(minga_meeting_export(s_store, "nope", false, stdout, &count), MINGA_ENOTFOUND);
    free(l.m);
    minga_schedule_report_clear(&r);
}

static void test_status_cancel_history(void **state)
{
    (void)state;
    s_list_t l = s_meetings();
    assert_true(l.n > 3);
    uint64_t rev = s_revision();
    minga_meeting_t a = l.m[0], b = l.m[1], got;
    assert_int_equal(minga_meeting_set_status(s_store, E, a.slot, a.table, MINGA_MEETING_HELD), 0);
    assert_int_equal(minga_meeting_get(s_store, E, a.slot, a.table, &got), 0);
    assert_int_equal(got.status, MINGA_MEETING_HELD);
    assert_int_equal(s_revision(), rev + 1);
    assert_int_equal(minga_meeting_set_status(s_store, E, a.slot, a.table, 7), MINGA_EINVAL);
    assert_int_equal(minga_meeting_cancel(s_store, E, b.slot, b.table, &got), 0);
    assert_string_equal(got.gad, b.gad);
    assert_int_equal(minga_meeting_get(s_store, E, b.slot, b.table, &got), MINGA_ENOTFOUND);
    assert_int_equal(minga_meeting_cancel(s_store, E, b.slot, b.table, NULL), MINGA_ENOTFOUND);
    assert_int_equal(minga_meeting_cancel(s_store, E, l.m[2].slot, l.m[2].table, NULL), 0);
    assert_int_equal(s_revision(), rev + 3);
    s_list_t h = {NULL, 0, 0};
    assert_int_equal(minga_meeting_history_each(s_store, NULL, E, s_collect, &h), 0);
    assert_true(h.n >= 2);
    assert_int_equal(h.m[h.n - 2].seq + 1, h.m[h.n - 1].seq);
    assert_int_equal(h.m[h.n - 2].status, MINGA_MEETING_CANCELLED);
    assert_true(h.m[h.n - 2].cancelled_at > 0);
    assert_string_equal(h.m[h.n - 2].cooperante, b.cooperante);
    minga_meeting_summary_t s;
    assert_int_equal(minga_meeting_summary(s_store, NULL, E, &s), 0);
    assert_int_equal(s.meetings, l.n - 2);
    free(h.m);
    free(l.m);
}

static void test_replace_is_atomic(void **state)
{
    (void)state;
    s_list_t before = s_meetings();
    uint64_t rev = s_revision();
    minga_meeting_t two[2] = {before.m[0], before.m[0]};
    minga_meeting_summary_t s = {0};
    assert_int_equal(minga_meeting_replace(s_store, E, two, 2, &s, false), MINGA_EINVAL);
    two[1].slot = 0;
    assert_int_equal(minga_meeting_replace(s_store, E, two, 2, &s, false), MINGA_EINVAL);
    s_list_t after = s_meetings();
    assert_int_equal(after.n, before.n);
    assert_memory_equal(after.m, before.m, before.n * sizeof *before.m);
    assert_int_equal(s_revision(), rev);
    free(before.m);
    free(after.m);
}

static void test_reschedule_keeps_everything(void **state)
{
    (void)state;
    s_list_t before = s_meetings();
    minga_schedule_report_t r;
    s_schedule(true, MINGA_SCHED_FLOW, &r);
    assert_int_equal(r.kept, before.n);
    assert_int_equal(r.dropped, 0);
    s_list_t after = s_meetings();
    /* every meeting is still there, same place, same status (held included) */
    size_t j = 0;
    for (size_t i = 0; i < before.n; i++) {
        while (j < after.n &&
               (after.m[j].slot < before.m[i].slot ||
                (after.m[j].slot == before.m[i].slot && after.m[j].table < before.m[i].table)))
            j++;
        assert_true(j < after.n);
        assert_int_equal(after.m[j].table, before.m[i].table);
        assert_string_equal(after.m[j].gad, before.m[i].gad);
        assert_string_equal(after.m[j].cooperante, before.m[i].cooperante);
        assert_int_equal(after.m[j].status, before.m[i].status);
    }
    free(before.m);
    free(after.m);
    minga_schedule_report_clear(&r);
}

static void test_greedy_below_flow(void **state)
{
    (void)state;
    minga_schedule_report_t g, f;
    s_schedule(false, MINGA_SCHED_GREEDY, &g);
    s_schedule(false, MINGA_SCHED_FLOW, &f);
    print_message("flow %llu (%zu below minimum), greedy %llu (%zu below)\n",
                  (unsigned long long)f.summary.total_score, f.nbelow,
                  (unsigned long long)g.summary.total_score, g.nbelow);
    assert_true(f.nbelow <= g.nbelow);
    assert_true(f.nbelow < g.nbelow || f.summary.total_score >= g.summary.total_score);
    minga_schedule_report_clear(&g);
    minga_schedule_report_clear(&f);
}

typedef struct {
    size_t parties, gads, meetings;
    char with[8], without[40];
} s_parties_t;

static int s_on_party(const minga_agenda_party_t *p, void *arg)
{
    s_parties_t *x = arg;
    x->parties++;
    x->gads += strcmp(p->kind, "gad") == 0;
    x->meetings += p->meetings;
    assert_non_null(p->name);
    if (p->meetings && !x->with[0] && strcmp(p->kind, "gad") == 0)
        snprintf(x->with, sizeof x->with, "%s", p->party);
    if (!p->meetings && !x->without[0])
        snprintf(x->without, sizeof x->without, "%s", p->party);
    return 0;
}

static void test_agenda(void **state)
{
    (void)state;
    s_parties_t x;
    memset(&x, 0, sizeof x);
    assert_int_equal(minga_agenda_parties(s_store, E, s_on_party, &x), 0);
    s_list_t l = s_meetings();
    assert_int_equal(x.meetings, 2 * l.n);
    assert_true(x.gads > 10 && x.parties > x.gads);
    minga_agenda_t a;
    assert_int_equal(minga_agenda_load(s_store, E, x.with, &a), 0);
    size_t n = 0;
    for (size_t i = 0; i < l.n; i++)
        n += strcmp(l.m[i].gad, x.with) == 0;
    assert_int_equal(a.n, n);
    assert_string_equal(a.kind, "gad");
    assert_non_null(a.province_name);
    assert_string_equal(a.event.id, E);
    for (size_t i = 0; i < a.n; i++) {
        assert_string_equal(a.items[i].counterpart_kind, "cooperante");
        assert_true(a.items[i].nreasons > 0);
        assert_non_null(a.items[i].offer_title);
        assert_int_equal(strlen(a.items[i].time.start), 25);
        if (i)
            assert_true(a.items[i - 1].slot < a.items[i].slot);
    }
    minga_agenda_free(&a);
    if (x.without[0]) {
        assert_int_equal(minga_agenda_load(s_store, E, x.without, &a), 0);
        assert_int_equal(a.n, 0);
        minga_agenda_free(&a);
    }
    assert_int_equal(minga_agenda_load(s_store, E, "nobody-here", &a), MINGA_ENOTFOUND);
    assert_int_equal(minga_agenda_load(s_store, "nope", x.with, &a), MINGA_ENOTFOUND);
    assert_int_equal(minga_agenda_load(s_store, E, "bad id!", &a), MINGA_EINVAL);
    free(l.m);
}

static int s_count_party(const minga_agenda_party_t *p, void *arg)
{
    (void)p;
    (*(size_t *)arg)++;
    return 0;
}

/* An event with no participant, candidate nor meeting: an empty timetable, no crash. */
static void test_empty_event(void **state)
{
    (void)state;
    static const char csv[] =
        "id;nombre;fecha_inicio;fecha_fin;zona_horaria;hora_inicio;hora_fin;minutos_por_turno;"
        "mesas;máx_reuniones\nvacio;Evento vacío;2026-12-01;2026-12-01;America/Guayaquil;"
        "09:00;12:00;30;10;5\n";
    minga_import_opts_t opts = {0};
    minga_import_report_t rep;
    assert_int_equal(minga_import_buffer(s_store, &minga_rtype_event, "vacio.csv", csv,
                                         sizeof csv - 1, &opts, &rep),
                     0);
    minga_import_report_clear(&rep);
    size_t n = 0;
    assert_int_equal(minga_agenda_parties(s_store, "vacio", s_count_party, &n), 0);
    assert_int_equal(n, 0);
    char err[256];
    minga_schedule_opts_t so = {false, MINGA_SCHED_FLOW};
    minga_schedule_report_t r;
    assert_int_equal(minga_schedule_run(s_store, "vacio", &so, NULL, NULL, &r, err, sizeof err), 0);
    assert_int_equal(r.summary.meetings, 0);
    assert_int_equal(r.slots, 6);
    minga_schedule_report_clear(&r);
    so.reschedule = true;
    assert_int_equal(minga_schedule_run(s_store, "vacio", &so, NULL, NULL, &r, err, sizeof err), 0);
    minga_schedule_report_clear(&r);
    assert_int_equal(minga_schedule_run(s_store, "nope", &so, NULL, NULL, &r, err, sizeof err),
                     MINGA_ENOTFOUND);
    assert_non_null(strstr(err, "nope"));
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_slot_times),
        cmocka_unit_test(test_schedule_and_read_back),
        cmocka_unit_test(test_status_cancel_history),
        cmocka_unit_test(test_replace_is_atomic),
        cmocka_unit_test(test_reschedule_keeps_everything),
        cmocka_unit_test(test_greedy_below_flow),
        cmocka_unit_test(test_agenda),
        cmocka_unit_test(test_empty_event),
    };
    return cmocka_run_group_tests(tests, s_setup, s_teardown);
}
