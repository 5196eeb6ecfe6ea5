/*
 * test_outbox.c: the outbox record and the notify run's state machine (outbox.h, notify.h)
 * on a real store: the Jornada's registry imported, a small timetable written with
 * minga_meeting_replace(). Checks the codec (round trip, hostile values), the rendered agenda
 * (Spanish text, .ics with one VEVENT per meeting), the dry run (files, store untouched), a
 * relay that refuses connections (messages stay pending with their Message-ID, the next run
 * sends the same version, no new one), and versions: after a cancellation only the two
 * parties of that meeting get a new version, whose .ics marks it CANCELLED.
 */
#include "minga/agenda.h"
#include "demo_store.h"
#include "minga/demo.h"
#include "minga/error.h"
#include "minga/io.h"
#include "minga/meeting.h"
#include "minga/notify.h"
#include "minga/outbox.h"
#include "minga/proto.h"
#include "minga/smtp.h"

#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <cmocka.h>

#include <dirent.h>
#include <jansson.h>
#include <msgpack.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#define S_EVENT MINGA_DEMO_EVENT
#define S_MEETINGS 24

static char s_dir[64];
static minga_store_t *s_store;
static char s_gads[S_MEETINGS][8], s_coops[S_MEETINGS][40];
static minga_smtp_config_t s_smtp;

typedef struct {
    size_t ngad, ncoop;
} s_pick_t;

/* Picks GADs and cooperantes with an e-mail among the event's participants, read from the
 * store (before any timetable exists). */
static int s_pick(s_pick_t *k)
{
    MDB_txn *txn;
    MDB_cursor *cur;
    if (minga_store_read_begin(s_store, &txn) != 0)
        return -1;
    if (mdb_cursor_open(txn, minga_store_dbi(s_store, MINGA_DB_PARTICIPANT), &cur) != 0) {
        mdb_txn_abort(txn);
        return -1;
    }
    MDB_val key, val;
    for (int c = mdb_cursor_get(cur, &key, &val, MDB_FIRST); c == 0;
         c = mdb_cursor_get(cur, &key, &val, MDB_NEXT)) {
        minga_participant_t p;
        memset(&p, 0, sizeof p);
        char err[128];
        if (minga_record_decode(&minga_rtype_participant, val.mv_data, val.mv_size, &p, err,
                                sizeof err) != 0)
            continue;
        if (p.email && strcmp(p.kind, "gad") == 0 && k->ngad < S_MEETINGS)
            snprintf(s_gads[k->ngad++], sizeof s_gads[0], "%s", p.party);
        else if (p.email && strcmp(p.kind, "cooperante") == 0 && k->ncoop < S_MEETINGS)
            snprintf(s_coops[k->ncoop++], sizeof s_coops[0], "%s", p.party);
        minga_record_clear(&minga_rtype_participant, &p);
    }
    mdb_cursor_close(cur);
    mdb_txn_abort(txn);
    return 0;
}

static int s_setup(void **state)
{
    (void)state;
    if (minga_test_demo_store(s_dir, sizeof s_dir, 0.2, S_EVENT, &s_store) != 0)
        return -1;
    s_pick_t k = {0, 0};
    if (s_pick(&k) != 0 || k.ngad < S_MEETINGS || k.ncoop < 4)
        return -1;
    /* each GAD meets a cooperante; cooperante j meets the GADs j, j+4, j+8... */
    minga_meeting_t m[S_MEETINGS];
    memset(m, 0, sizeof m);
    for (int i = 0; i < S_MEETINGS; i++) {
        m[i].slot = (uint16_t)(i / 4 + 1);
        m[i].table = (uint16_t)(i % 4 + 1);
        snprintf(m[i].gad, sizeof m[i].gad, "%s", s_gads[i]);
        snprintf(m[i].cooperante, sizeof m[i].cooperante, "%s", s_coops[i % 4]);
        snprintf(m[i].demand, sizeof m[i].demand, "D-%d", i);
        snprintf(m[i].offer, sizeof m[i].offer, "O-%d", i);
        m[i].score = 7000 + i;
    }
    minga_meeting_summary_t sum = {0};
    sum.meetings = S_MEETINGS;
    if (minga_meeting_replace(s_store, S_EVENT, m, S_MEETINGS, &sum, false) != 0)
        return -1;
    char err[256];
    if (minga_smtp_config_load(&s_smtp, NULL, err, sizeof err) != 0)
        return -1;
    free(s_smtp.host);
    s_smtp.host = strdup("127.0.0.1");
    s_smtp.port = 1; /* nothing listens there: connection refused */
    s_smtp.tries = 1;
    s_smtp.backoff_ms = 0;
    free(s_smtp.domain);
    s_smtp.domain = strdup("test.minga");
    return 0;
}

static int s_teardown(void **state)
{
    (void)state;
    minga_smtp_config_free(&s_smtp);
    minga_store_destroy(&s_store);
    char cmd[128];
    snprintf(cmd, sizeof cmd, "rm -rf %s", s_dir);
    return system(cmd) == 0 ? 0 : -1;
}

/* ---- the codec ---- */

static void test_codec(void **state)
{
    (void)state;
    minga_outbox_t r = {.kind = MINGA_OUTBOX_AGENDA,
                        .version = 7,
                        .state = MINGA_OUTBOX_SENT,
                        .attempts = 3,
                        .hash = 0xfeedfacecafebeefull,
                        .created_at = 1,
                        .updated_at = 2,
                        .sent_at = 3};
    snprintf(r.event, sizeof r.event, "jornada-2026");
    snprintf(r.party, sizeof r.party, "0101");
    r.message_id = strdup("<minga.jornada-2026.0101.v7@x.y>");
    r.to = strdup("a@b.cd");
    r.reply = strdup("250 OK");
    r.message = (uint8_t *)strdup("Subject: x\r\n\r\nhola\r\n");
    r.message_len = strlen((char *)r.message);
    uint8_t *buf;
    size_t len;
    assert_int_equal(minga_outbox_encode(&r, &buf, &len), 0);
    minga_outbox_t d;
    assert_int_equal(minga_outbox_decode(buf, len, &d), 0);
    assert_string_equal(d.event, r.event);
    assert_string_equal(d.party, r.party);
    assert_int_equal(d.version, 7);
    assert_int_equal(d.state, MINGA_OUTBOX_SENT);
    assert_int_equal(d.attempts, 3);
    assert_true(d.hash == r.hash);
    assert_string_equal(d.message_id, r.message_id);
    assert_string_equal(d.reply, "250 OK");
    assert_null(d.error);
    assert_int_equal(d.message_len, r.message_len);
    assert_memory_equal(d.message, r.message, r.message_len);
    minga_outbox_clear(&d);
    /* every truncation is an error, never a crash */
    for (size_t cut = 0; cut < len; cut++)
        assert_int_not_equal(minga_outbox_decode(buf, cut, &d), 0);
    /* a newer schema version is refused */
    buf[5] = 9; /* map16 header (3 bytes), key "v" (2 bytes), then its value */
    assert_int_equal(minga_outbox_decode(buf, len, &d), MINGA_EVERSION);
    free(buf);
    minga_outbox_clear(&r);
    assert_int_equal(minga_outbox_state_parse("sent"), MINGA_OUTBOX_SENT);
    assert_int_equal(minga_outbox_state_parse("bogus"), -1);
}

/* schemas/records/outbox.json names the stored map's keys, in the order the codec writes them */
static void test_schema_file(void **state)
{
    (void)state;
    json_error_t jerr;
    json_t *js = json_load_file(MINGA_SOURCE_DIR "/schemas/records/outbox.json", 0, &jerr);
    if (!js)
        fail_msg("outbox.json: line %d: %s", jerr.line, jerr.text);
    assert_int_equal(json_integer_value(json_object_get(js, "version")), MINGA_OUTBOX_VERSION);
    assert_int_equal(json_integer_value(json_object_get(js, "key_bytes")), MINGA_OUTBOX_KEY);
    minga_outbox_t r = {.kind = MINGA_OUTBOX_AGENDA, .version = 1};
    snprintf(r.event, sizeof r.event, "e");
    snprintf(r.party, sizeof r.party, "p");
    uint8_t *buf;
    size_t len, off = 0;
    assert_int_equal(minga_outbox_encode(&r, &buf, &len), 0);
    msgpack_unpacked up;
    msgpack_unpacked_init(&up);
    assert_int_equal(msgpack_unpack_next(&up, (const char *)buf, len, &off),
                     MSGPACK_UNPACK_SUCCESS);
    json_t *fields = json_object_get(js, "fields");
    assert_int_equal(json_array_size(fields), up.data.via.map.size);
    for (size_t i = 0; i < json_array_size(fields); i++) {
        const char *name = json_string_value(json_object_get(json_array_get(fields, i), "name"));
        const msgpack_object *k = &up.data.via.map.ptr[i].key;
        if (strlen(name) != k->via.str.size || memcmp(name, k->via.str.ptr, k->via.str.size))
            fail_msg("field %zu: schema '%s', codec '%.*s'", i, name, (int)k->via.str.size,
                     k->via.str.ptr);
    }
    msgpack_unpacked_destroy(&up);
    free(buf);
    json_decref(js);
}

/* The relay's rate limit holds across senders that share the rate file, and a refused
 * connection is a temporary outcome. */
static void test_rate_limit(void **state)
{
    (void)state;
    minga_smtp_config_t cfg;
    char err[256], rate[128];
    assert_int_equal(minga_smtp_config_load(&cfg, NULL, err, sizeof err), 0);
    free(cfg.host);
    cfg.host = strdup("127.0.0.1");
    cfg.port = 1;
    cfg.rate = 20; /* one message every 50 ms */
    snprintf(rate, sizeof rate, "%s/rate", s_dir);
    minga_smtp_t *a, *b;
    assert_int_equal(minga_smtp_new(&a, &cfg), 0);
    assert_int_equal(minga_smtp_new(&b, &cfg), 0);
    minga_smtp_set_rate_file(a, rate);
    minga_smtp_set_rate_file(b, rate);
    uint64_t t0 = minga_now_ms();
    minga_smtp_result_t res;
    for (int i = 0; i < 6; i++) {
        assert_int_equal(minga_smtp_send(i % 2 ? a : b, "x@y.ec", "x\r\n", 3, &res), 0);
        assert_int_equal(res.outcome, MINGA_SMTP_TEMPORARY);
    }
    uint64_t dt = minga_now_ms() - t0;
    if (dt < 240)
        fail_msg("6 sends at 20/s through two senders took %llu ms, want >= 250",
                 (unsigned long long)dt);
    minga_smtp_destroy(&a);
    minga_smtp_destroy(&b);
    minga_smtp_config_free(&cfg);
}

/* ---- rendering ---- */

static void test_render(void **state)
{
    (void)state;
    minga_agenda_t a;
    assert_int_equal(minga_agenda_load(s_store, S_EVENT, s_coops[1], &a), 0);
    assert_int_equal(a.n, S_MEETINGS / 4);
    minga_notify_content_t c;
    assert_int_equal(minga_notify_render(&a, NULL, 0, 1, 1794400000, &c), 0);
    assert_non_null(strstr(c.text, "Estimados representantes de"));
    assert_non_null(strstr(c.text, "Tienen 6 reuniones programadas:"));
    assert_non_null(strstr(c.text, "noviembre de 2026"));
    assert_non_null(strstr(c.text, "mesa 2"));
    assert_non_null(strstr(c.html, "<table"));
    assert_string_equal(c.subject, "Su agenda para la Jornada de Cooperación Internacional 2026");
    size_t vevents = 0;
    for (const char *p = c.ics; (p = strstr(p, "BEGIN:VEVENT")); p++)
        vevents++;
    assert_int_equal(vevents, S_MEETINGS / 4);
    assert_null(strstr(c.ics, "STATUS:CANCELLED"));
    uint64_t h = c.hash;
    minga_notify_content_t c2;
    /* the same agenda over its own items: same hash (no cancellations invented) */
    assert_int_equal(minga_notify_render(&a, c.packed, c.packed_len, 2, 1794500000, &c2), 0);
    assert_true(c2.hash == h);
    assert_non_null(strstr(c2.subject, "(versión 2)"));
    minga_notify_content_clear(&c2);
    minga_notify_content_clear(&c);
    minga_agenda_free(&a);
}

/* ---- runs ---- */

static int s_count_cb(const minga_outbox_t *r, void *arg)
{
    size_t *n = arg;
    n[r->state]++;
    n[3] += r->version > 1;
    return 0;
}

static void s_count(size_t n[4])
{
    memset(n, 0, 4 * sizeof *n);
    assert_int_equal(minga_outbox_each(s_store, S_EVENT, s_count_cb, n), 0);
}

static void test_dry_run(void **state)
{
    (void)state;
    char dir[128];
    snprintf(dir, sizeof dir, "%s/dry/x", s_dir);
    minga_notify_job_t job = {S_EVENT, NULL, 0, 1, dir, &s_smtp, NULL, 0};
    minga_notify_result_t res;
    char err[512] = "";
    assert_int_equal(minga_notify_run(s_store, &job, NULL, NULL, &res, err, sizeof err), 0);
    assert_true(res.written > 0);
    assert_int_equal(res.written + res.failed, res.parties);
    char path[256];
    snprintf(path, sizeof path, "%s/%s-v1.eml", dir, s_gads[0]);
    assert_int_equal(access(path, R_OK), 0);
    size_t n[4];
    s_count(n);
    assert_int_equal(n[0] + n[1] + n[2], 0); /* the store is untouched */
}

typedef struct {
    const char *party;
    char *message_id;
    uint32_t version;
    int state;
} s_find_t;

static int s_find_cb(const minga_outbox_t *r, void *arg)
{
    s_find_t *f = arg;
    if (strcmp(r->party, f->party) == 0 && r->version >= f->version) {
        free(f->message_id);
        f->message_id = r->message_id ? strdup(r->message_id) : NULL;
        f->version = r->version;
        f->state = (int)r->state;
    }
    return 0;
}

static int s_mark_sent_fn(MDB_txn *txn, void *arg)
{
    (void)arg;
    MDB_cursor *cur;
    int rc = mdb_cursor_open(txn, minga_store_dbi(s_store, MINGA_DB_OUTBOX), &cur);
    MDB_val k, v;
    for (int c = rc ? rc : mdb_cursor_get(cur, &k, &v, MDB_FIRST); c == 0 && rc == 0;
         c = mdb_cursor_get(cur, &k, &v, MDB_NEXT)) {
        minga_outbox_t r;
        if ((rc = minga_outbox_decode(v.mv_data, v.mv_size, &r)) != 0)
            break;
        if (r.state == MINGA_OUTBOX_PENDING) {
            r.state = MINGA_OUTBOX_SENT;
            rc = minga_outbox_put(s_store, txn, &r);
        }
        minga_outbox_clear(&r);
    }
    mdb_cursor_close(cur);
    return rc;
}

static void test_relay_away_then_versions(void **state)
{
    (void)state;
    minga_notify_job_t job = {S_EVENT, NULL, 0, 1, NULL, &s_smtp, NULL, 0};
    minga_notify_result_t res;
    char err[512] = "";
    assert_int_equal(minga_notify_run(s_store, &job, NULL, NULL, &res, err, sizeof err),
                     MINGA_ETIMEOUT);
    assert_non_null(strstr(err, "127.0.0.1:1"));
    assert_int_equal(res.sent, 0);
    size_t n[4];
    s_count(n);
    assert_true(n[MINGA_OUTBOX_PENDING] > 0);
    assert_int_equal(n[3], 0);
    /* the first party's message is pending with its Message-ID stored before any success */
    s_find_t f = {s_gads[0], NULL, 0, -1};
    assert_int_equal(minga_outbox_each(s_store, S_EVENT, s_find_cb, &f), 0);
    assert_int_equal(f.state, MINGA_OUTBOX_PENDING);
    assert_int_equal(f.version, 1);
    char want[128];
    snprintf(want, sizeof want, "<minga.%s.%s.v1@test.minga>", S_EVENT, s_gads[0]);
    assert_string_equal(f.message_id, want);
    /* again: the same version, no new one */
    assert_int_equal(minga_notify_run(s_store, &job, NULL, NULL, &res, err, sizeof err),
                     MINGA_ETIMEOUT);
    assert_int_equal(res.versions, 0);
    s_count(n);
    assert_int_equal(n[3], 0);
    /* let every party's v1 through (as if the relay had taken them) */
    job.party = NULL;
    for (int round = 0; round < 100; round++) {
        assert_int_equal(minga_store_write(s_store, s_mark_sent_fn, NULL), 0);
        int rc = minga_notify_run(s_store, &job, NULL, NULL, &res, err, sizeof err);
        if (rc == 0)
            break;
        assert_int_equal(rc, MINGA_ETIMEOUT);
    }
    assert_int_equal(res.versions, 0);
    size_t before[4];
    s_count(before);
    assert_int_equal(before[MINGA_OUTBOX_PENDING], 0);
    /* cancel meeting (slot 1, table 2): GAD 1 and cooperante 1 change, nobody else */
    assert_int_equal(minga_meeting_cancel(s_store, S_EVENT, 1, 2, NULL), 0);
    assert_int_equal(minga_notify_run(s_store, &job, NULL, NULL, &res, err, sizeof err),
                     MINGA_ETIMEOUT);
    for (int round = 0; round < 10 && res.versions < 2; round++) {
        size_t made = res.versions;
        assert_int_equal(minga_store_write(s_store, s_mark_sent_fn, NULL), 0);
        minga_notify_run(s_store, &job, NULL, NULL, &res, err, sizeof err);
        res.versions += made;
    }
    s_count(n);
    assert_int_equal(n[3], 2);
    free(f.message_id);
    s_find_t g = {s_gads[1], NULL, 0, -1};
    assert_int_equal(minga_outbox_each(s_store, S_EVENT, s_find_cb, &g), 0);
    assert_int_equal(g.version, 2);
    free(g.message_id);
    /* v2's calendar marks the meeting cancelled; its text says so */
    MDB_txn *txn;
    assert_int_equal(minga_store_read_begin(s_store, &txn), 0);
    minga_outbox_t v1;
    assert_int_equal(
        minga_outbox_get(s_store, txn, S_EVENT, s_gads[1], MINGA_OUTBOX_AGENDA, 1, &v1), 0);
    mdb_txn_abort(txn);
    minga_agenda_t a;
    assert_int_equal(minga_agenda_load(s_store, S_EVENT, s_gads[1], &a), 0);
    assert_int_equal(a.n, 0);
    minga_notify_content_t c;
    assert_int_equal(minga_notify_render(&a, v1.items, v1.items_len, 2, 1794400000, &c), 0);
    assert_non_null(strstr(c.ics, "STATUS:CANCELLED"));
    assert_non_null(strstr(c.text, "Reuniones canceladas"));
    assert_non_null(strstr(c.text, "no tienen reuniones programadas"));
    minga_notify_content_clear(&c);
    minga_agenda_free(&a);
    minga_outbox_clear(&v1);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_codec),      cmocka_unit_test(test_schema_file),
        cmocka_unit_test(test_rate_limit), cmocka_unit_test(test_render),
        cmocka_unit_test(test_dry_run),    cmocka_unit_test(test_relay_away_then_versions),
    };
    return cmocka_run_group_tests(tests, s_setup, s_teardown);
}
