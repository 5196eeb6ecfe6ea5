/*
 * test_client.c: the client API (client.h) against a scripted broker (a ROUTER in a thread),
 * and the JSON conversions: a call with no broker times out naming the endpoint; an ERROR
 * reply gives MINGA_EREJECTED with the broker's code and message; a late reply to another rid
 * is dropped; WAIT passes each PROGRESS to the callback; JSON <-> msgpack round trips; a job
 * as JSON carries the fields of PROTOCOL.md; job ids parse strictly; minga_job_pack (which
 * writes the map straight into a buffer) makes exactly the bytes msgpack-c's packer makes,
 * at every size boundary of integers, strings and arrays, and they decode back; the broker's
 * compact record (minga_job_record_pack) decodes to the same job, an older job map is read as
 * a record, and every truncation, a wrong type and a newer version are refused.
 */
#include "minga/client.h"
#include "minga/error.h"
#include "minga/jobview.h"

#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <cmocka.h>

#include <czmq.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* The scripted broker: answers STATUS of id 1 with a done job (after a stray reply with
 * another rid), STATUS of anything else with ERROR not_found, WAIT with two PROGRESS then
 * the job, PING with a version. */
static void s_broker(zsock_t *pipe, void *arg)
{
    zsock_t *router = zsock_new_router((const char *)arg);
    zsock_signal(pipe, 0);
    zpoller_t *poller = zpoller_new(pipe, router, NULL);
    minga_pbuf_t pb;
    minga_pbuf_init(&pb);
    while (zpoller_wait(poller, -1) == router) {
        zmsg_t *zm = zmsg_recv(router);
        minga_pmsg_t m;
        minga_perr_t perr;
        char err[256];
        minga_pmsg_init(&m);
        if (minga_pmsg_decode(&m, &zm, true, 0, &perr, err, sizeof err) != 0) {
            minga_pmsg_clear(&m);
            continue;
        }
        uint64_t id = minga_pobj_uint(minga_pobj_get(m.root, "id"), 0);
        minga_job_t job;
        minga_job_init(&job);
        job.id = id;
        job.type = strdup("test.echo");
        job.state = MINGA_JOB_DONE;
        job.attempts = 1;
        job.max_attempts = 5;
        if (m.cmd == MINGA_CMD_STATUS && id != 1) {
            minga_proto_send_error(router, m.routing, m.delimiter, true, m.rid,
                                   MINGA_PERR_NOT_FOUND, "no job", id);
        } else if (m.cmd == MINGA_CMD_STATUS || m.cmd == MINGA_CMD_WAIT) {
            if (m.cmd == MINGA_CMD_STATUS) { /* a stray answer first */
                msgpack_pack_map(&pb.pk, 1);
                minga_pk_kv_uint(&pb.pk, "rid", m.rid + 1000);
                minga_proto_send(router, m.routing, m.delimiter, MINGA_CMD_STATUS, pb.sbuf.data,
                                 pb.sbuf.size);
                minga_pbuf_reset(&pb);
            }
            for (int i = 0; m.cmd == MINGA_CMD_WAIT && i < 2; i++) {
                msgpack_pack_map(&pb.pk, 4);
                minga_pk_kv_uint(&pb.pk, "rid", m.rid);
                minga_pk_kv_uint(&pb.pk, "id", id);
                minga_pk_kv_str(&pb.pk, "state", "leased");
                minga_pk_str(&pb.pk, "progress");
                msgpack_pack_map(&pb.pk, 3);
                minga_pk_kv_uint(&pb.pk, "done", (uint64_t)i + 1);
                minga_pk_kv_uint(&pb.pk, "total", 2);
                minga_pk_kv_str(&pb.pk, "text", "paso");
                minga_proto_send(router, m.routing, m.delimiter, MINGA_CMD_PROGRESS, pb.sbuf.data,
                                 pb.sbuf.size);
                minga_pbuf_reset(&pb);
            }
            msgpack_pack_map(&pb.pk, m.cmd == MINGA_CMD_WAIT ? 3 : 2);
            minga_pk_kv_uint(&pb.pk, "rid", m.rid);
            minga_pk_str(&pb.pk, "job");
            minga_job_pack(&job, &pb.pk, 0);
            if (m.cmd == MINGA_CMD_WAIT)
                minga_pk_kv_bool(&pb.pk, "timeout", false);
            minga_proto_send(router, m.routing, m.delimiter, m.cmd, pb.sbuf.data, pb.sbuf.size);
        } else if (m.cmd == MINGA_CMD_BATCH) { /* ids 100.. when the second spec is after 0 */
            const msgpack_object *jobs = minga_pobj_get(m.root, "jobs");
            const msgpack_object *after = minga_pobj_get(&jobs->via.array.ptr[1], "after");
            bool ok = jobs->via.array.size == 2 && after && after->via.array.size == 1 &&
                      after->via.array.ptr[0].via.u64 == 0;
            msgpack_pack_map(&pb.pk, 2);
            minga_pk_kv_uint(&pb.pk, "rid", m.rid);
            minga_pk_str(&pb.pk, "jobs");
            msgpack_pack_array(&pb.pk, ok ? 2 : 0);
            for (uint64_t i = 0; ok && i < 2; i++) {
                msgpack_pack_map(&pb.pk, 3);
                minga_pk_kv_uint(&pb.pk, "id", 100 + i);
                minga_pk_kv_str(&pb.pk, "state", i ? "waiting" : "queued");
                minga_pk_kv_bool(&pb.pk, "created", true);
            }
            minga_proto_send(router, m.routing, m.delimiter, m.cmd, pb.sbuf.data, pb.sbuf.size);
        } else if (m.cmd == MINGA_CMD_PING) {
            msgpack_pack_map(&pb.pk, 3);
            minga_pk_kv_uint(&pb.pk, "rid", m.rid);
            minga_pk_kv_str(&pb.pk, "version", "0.1.0");
            minga_pk_kv_uint(&pb.pk, "time", 1);
            minga_proto_send(router, m.routing, m.delimiter, m.cmd, pb.sbuf.data, pb.sbuf.size);
        }
        minga_pbuf_reset(&pb);
        minga_job_clear(&job);
        minga_pmsg_clear(&m);
    }
    minga_pbuf_clear(&pb);
    zpoller_destroy(&poller);
    zsock_destroy(&router);
}

static void s_count_progress(uint64_t id, minga_job_state_t state, const minga_progress_t *p,
                             void *arg)
{
    assert_int_equal(id, 1);
    assert_int_equal(state, MINGA_JOB_LEASED);
    assert_non_null(p);
    assert_string_equal(p->text, "paso");
    (*(int *)arg)++;
}

static void test_calls(void **state)
{
    (void)state;
    char ep[64];
    snprintf(ep, sizeof ep, "ipc:///tmp/minga-test-client-%d", (int)getpid());
    zactor_t *broker = zactor_new(s_broker, ep);
    minga_client_t *c = NULL;
    assert_int_equal(minga_client_new(&c, ep, 2000), 0);
    json_t *reply = NULL;
    assert_int_equal(minga_client_ping(c, &reply), 0);
    assert_string_equal(json_string_value(json_object_get(reply, "version")), "0.1.0");
    assert_null(json_object_get(reply, "rid"));
    json_decref(reply);

    minga_job_t job;
    minga_job_init(&job);
    assert_int_equal(minga_client_status(c, 1, &job), 0);
    assert_int_equal(job.state, MINGA_JOB_DONE);
    minga_job_clear(&job);
    assert_int_equal(minga_client_status(c, 2, &job), MINGA_EREJECTED);
    assert_int_equal(minga_client_error_code(c), MINGA_PERR_NOT_FOUND);
    assert_non_null(strstr(minga_client_error(c), "not_found: no job"));
    assert_non_null(strstr(minga_client_error(c), ep));

    int progress = 0;
    assert_int_equal(minga_client_wait(c, 1, 0, s_count_progress, &progress, &job), 0);
    assert_int_equal(progress, 2);
    assert_int_equal(job.state, MINGA_JOB_DONE);
    minga_job_clear(&job);

    minga_jobspec_t specs[2];
    uint32_t after0 = 0;
    for (int i = 0; i < 2; i++) {
        minga_jobspec_init(&specs[i]);
        specs[i].type = strdup("test.echo");
    }
    specs[1].after = malloc(sizeof after0);
    specs[1].after[0] = after0;
    specs[1].nafter = 1;
    uint64_t ids[2] = {0, 0};
    assert_int_equal(minga_client_batch(c, specs, 2, ids), 0);
    assert_int_equal(ids[0], 100);
    assert_int_equal(ids[1], 101);
    for (int i = 0; i < 2; i++)
        minga_jobspec_clear(&specs[i]);
    minga_client_destroy(&c);
    zactor_destroy(&broker);
}

static void test_timeout(void **state)
{
    (void)state;
    minga_client_t *c = NULL;
    assert_int_equal(minga_client_new(&c, "ipc:///tmp/minga-nobody-here", 200), 0);
    json_t *reply = NULL;
    int64_t t0 = zclock_mono();
    assert_int_equal(minga_client_ping(c, &reply), MINGA_ETIMEOUT);
    assert_true(zclock_mono() - t0 < 1000);
    assert_non_null(strstr(minga_client_error(c), "ipc:///tmp/minga-nobody-here"));
    assert_null(reply);
    minga_client_destroy(&c);
    assert_int_equal(minga_client_new_store(&c, "/nonexistent/store", 200) != 0, 1);
}

static void test_json(void **state)
{
    (void)state;
    uint8_t *data;
    size_t len;
    char err[128];
    const char *text = "{\"a\":[1,-2,3.5,true,null,\"año\"],\"b\":{\"c\":18446744073709}}";
    assert_int_equal(minga_json_to_msgpack(text, &data, &len, err, sizeof err), 0);
    json_t *back = minga_msgpack_bytes_to_json(data, len);
    char *dumped = json_dumps(back, JSON_COMPACT | JSON_SORT_KEYS);
    assert_string_equal(dumped, text);
    free(dumped);
    json_decref(back);
    free(data);
    assert_int_equal(minga_json_to_msgpack("{\"a\": }", &data, &len, err, sizeof err),
                     MINGA_EFORMAT);
    assert_non_null(strstr(err, "line 1"));
    assert_int_equal(minga_json_to_msgpack("{\"a\":1,\"a\":2}", &data, &len, err, sizeof err),
                     MINGA_EFORMAT);
    json_t *null = minga_msgpack_bytes_to_json((const uint8_t *)"\xc1", 1);
    assert_true(json_is_null(null));

    minga_job_t job;
    minga_job_init(&job);
    job.id = 42;
    job.type = strdup("test.echo");
    job.state = MINGA_JOB_DEAD;
    job.error_code = strdup("test_fatal");
    job.error_message = strdup("on purpose");
    json_t *j = minga_job_to_json(&job, false);
    const char *fields[] = {"id",      "type",     "state",  "attempts", "priority",
                            "parents", "progress", "result", "error"};
    for (size_t i = 0; i < sizeof fields / sizeof fields[0]; i++)
        assert_non_null(json_object_get(j, fields[i]));
    assert_string_equal(json_string_value(json_object_get(j, "state")), "dead");
    assert_string_equal(json_string_value(json_object_get(json_object_get(j, "error"), "code")),
                        "test_fatal");
    assert_null(json_object_get(j, "body"));
    json_decref(j);
    minga_job_clear(&job);
}

static void test_parse_id(void **state)
{
    (void)state;
    uint64_t id;
    assert_int_equal(minga_jobview_parse_id("17", &id), 0);
    assert_int_equal(id, 17);
    assert_int_equal(minga_jobview_parse_id("0", &id), MINGA_EINVAL);
    assert_int_equal(minga_jobview_parse_id("-3", &id), MINGA_EINVAL);
    assert_int_equal(minga_jobview_parse_id("12x", &id), MINGA_EINVAL);
    assert_int_equal(minga_jobview_parse_id("", &id), MINGA_EINVAL);
    assert_int_equal(minga_jobview_parse_id("99999999999999999999999", &id), MINGA_EINVAL);
}

/* The job map as msgpack-c's packer writes it, field by field (the reference). */
static void s_ref_pack(const minga_job_t *job, msgpack_packer *pk, unsigned flags)
{
    bool body = !(flags & (MINGA_JOB_PACK_NO_BODY | MINGA_JOB_PACK_NO_INPUT)) && job->body;
    bool result = !(flags & MINGA_JOB_PACK_NO_BODY) && job->result;
    size_t n = 12 + (job->key != NULL) + job->has_progress + (job->error_code != NULL) +
               (job->worker != NULL) + (job->finished_at != 0) + body + result;
    msgpack_pack_map(pk, n);
    minga_pk_kv_uint(pk, "v", MINGA_JOB_VERSION);
    minga_pk_kv_uint(pk, "id", job->id);
    minga_pk_kv_str(pk, "type", job->type);
    minga_pk_kv_str(pk, "state", minga_job_state_name(job->state));
    minga_pk_kv_uint(pk, "priority", job->priority);
    minga_pk_kv_uint(pk, "not_before", job->not_before);
    minga_pk_kv_uint(pk, "attempts", job->attempts);
    minga_pk_kv_uint(pk, "max_attempts", job->max_attempts);
    minga_pk_kv_uint(pk, "lease_ms", job->lease_ms);
    if (job->key)
        minga_pk_kv_str(pk, "key", job->key);
    minga_pk_str(pk, "parents");
    msgpack_pack_array(pk, job->nparents);
    for (size_t i = 0; i < job->nparents; i++)
        msgpack_pack_uint64(pk, job->parents[i]);
    if (body)
        minga_pk_kv_raw(pk, "body", job->body, job->body_len);
    if (job->has_progress) {
        minga_pk_str(pk, "progress");
        msgpack_pack_map(pk, 3);
        minga_pk_kv_uint(pk, "done", job->progress.done);
        minga_pk_kv_uint(pk, "total", job->progress.total);
        minga_pk_kv_str(pk, "text", job->progress.text ? job->progress.text : "");
    }
    if (result)
        minga_pk_kv_raw(pk, "result", job->result, job->result_len);
    if (job->error_code) {
        minga_pk_str(pk, "error");
        msgpack_pack_map(pk, 2);
        minga_pk_kv_str(pk, "code", job->error_code);
        minga_pk_kv_str(pk, "message", job->error_message ? job->error_message : "");
    }
    if (job->worker)
        minga_pk_kv_str(pk, "worker", job->worker);
    minga_pk_kv_uint(pk, "created_at", job->created_at);
    minga_pk_kv_uint(pk, "updated_at", job->updated_at);
    if (job->finished_at)
        minga_pk_kv_uint(pk, "finished_at", job->finished_at);
}

/* A string of n bytes 'a'..'z' (malloc'd). */
static char *s_str(size_t n)
{
    char *s = malloc(n + 1);
    assert_non_null(s);
    for (size_t i = 0; i < n; i++)
        s[i] = (char)('a' + i % 26);
    s[n] = '\0';
    return s;
}

/* A job with random fields at the size boundaries of msgpack's integers, strings and arrays.
 * With valid, only what a decoder takes back (ids and parents >= 1, strings within the
 * protocol's limits, a result that is one msgpack value); else anything the packer must write. */
static void s_random_job(minga_job_t *job, unsigned *seed, bool valid)
{
    static const uint64_t ints[] = {0,     1,          127,           128,         255,
                                    256,   65535,      65536,         4294967295u, 4294967296u,
                                    12345, UINT64_MAX, 1700000000000u};
    static const size_t lens[] = {0, 1, 31, 32, 255, 256, 65535, 65536};
    static const size_t nparents[] = {0, 1, 15, 16, 300};
#define PICK(a) (a)[rand_r(seed) % (sizeof(a) / sizeof(a)[0])]
#define LEN(max) (valid ? (size_t)rand_r(seed) % (max) : PICK(lens) % (max))
    minga_job_init(job);
    job->id = valid ? 1 + PICK(ints) % 1000000 : PICK(ints);
    job->type = s_str(1 + LEN(60));
    job->state = (minga_job_state_t)(rand_r(seed) % MINGA_JOB_STATE_COUNT);
    job->priority = (uint8_t)PICK(ints);
    job->not_before = PICK(ints);
    job->attempts = (uint32_t)PICK(ints);
    job->max_attempts = (uint32_t)PICK(ints);
    job->lease_ms = (uint32_t)PICK(ints);
    if (rand_r(seed) % 2)
        job->key = s_str(LEN(valid ? 200 : 300));
    job->nparents = valid ? (size_t)rand_r(seed) % 20 : PICK(nparents);
    job->parents = calloc(job->nparents + 1, sizeof *job->parents);
    for (size_t i = 0; i < job->nparents; i++)
        job->parents[i] = valid ? 1 + PICK(ints) % 1000000000 : PICK(ints);
    size_t blen = PICK(lens);
    if (!valid && rand_r(seed) % 3) { /* 0x81 0xa1 'n' then nils: copied as given */
        job->body = malloc(blen + 3);
        memcpy(job->body, "\x81\xa1n", 3);
        memset(job->body + 3, 0xc0, blen);
        job->body_len = rand_r(seed) % 5 ? blen + 3 : 0;
    }
    if ((job->has_progress = rand_r(seed) % 2)) {
        job->progress.done = (uint32_t)PICK(ints);
        job->progress.total = (uint32_t)PICK(ints);
        job->progress.text = valid || rand_r(seed) % 3 ? s_str(LEN(valid ? 300 : 1000)) : NULL;
    }
    if (rand_r(seed) % 2) { /* an array of 296 nils (array16), or nil alone */
        job->result = malloc(300);
        memcpy(job->result, "\xdc\x01\x28", 3);
        memset(job->result + 3, 0xc0, 296);
        job->result_len = rand_r(seed) % 3 ? 299 : 0;
    }
    if (rand_r(seed) % 3 == 0) {
        job->error_code = s_str(1 + LEN(40));
        job->error_message = valid || rand_r(seed) % 2 ? s_str(LEN(500)) : NULL;
    }
    if (rand_r(seed) % 2)
        job->worker = s_str(LEN(valid ? 520 : 200));
    job->created_at = PICK(ints);
    job->updated_at = PICK(ints);
    job->finished_at = rand_r(seed) % 2 ? PICK(ints) : 0;
#undef LEN
#undef PICK
}

static void test_job_pack_bytes(void **state)
{
    (void)state;
    unsigned seed = 7;
    for (int round = 0; round < 400; round++) {
        minga_job_t job;
        s_random_job(&job, &seed, false);
        static const unsigned flags[] = {0, MINGA_JOB_PACK_NO_BODY, MINGA_JOB_PACK_NO_INPUT};
        unsigned f = flags[round % 3];
        minga_pbuf_t a, b;
        minga_pbuf_init(&a);
        minga_pbuf_init(&b);
        msgpack_pack_array(&a.pk, 1); /* after other bytes, into the same buffer */
        msgpack_pack_array(&b.pk, 1);
        assert_int_equal(minga_job_pack(&job, &a.pk, f), 0);
        s_ref_pack(&job, &b.pk, f);
        assert_int_equal(a.sbuf.size, b.sbuf.size);
        assert_memory_equal(a.sbuf.data, b.sbuf.data, a.sbuf.size);
        if (job.body_len == 0 && job.result_len == 0 && job.id > 0 && job.type[0]) {
            minga_job_t back;
            char err[128];
            minga_job_init(&back);
            if (minga_job_decode(a.sbuf.data + 1, a.sbuf.size - 1, &back, err, sizeof err) == 0) {
                assert_int_equal(back.id, job.id);
                assert_string_equal(back.type, job.type);
                assert_int_equal(back.nparents, job.nparents);
            }
            minga_job_clear(&back);
        }
        minga_pbuf_clear(&a);
        minga_pbuf_clear(&b);
        minga_job_clear(&job);
    }
}

/* Every field of a and b agree (strings by content). */
static void s_job_equal(const minga_job_t *a, const minga_job_t *b)
{
#define S_STR_EQ(x, y) assert_string_equal((x) ? (x) : "", (y) ? (y) : "")
    assert_int_equal(a->id, b->id);
    S_STR_EQ(a->type, b->type);
    assert_int_equal(a->state, b->state);
    assert_int_equal(a->priority, b->priority);
    assert_int_equal(a->not_before, b->not_before);
    assert_int_equal(a->attempts, b->attempts);
    assert_int_equal(a->max_attempts, b->max_attempts);
    assert_int_equal(a->lease_ms, b->lease_ms);
    assert_int_equal(a->key != NULL, b->key != NULL);
    S_STR_EQ(a->key, b->key);
    assert_int_equal(a->nparents, b->nparents);
    if (a->nparents)
        assert_memory_equal(a->parents, b->parents, a->nparents * sizeof *a->parents);
    assert_int_equal(a->has_progress, b->has_progress);
    if (a->has_progress) {
        assert_int_equal(a->progress.done, b->progress.done);
        assert_int_equal(a->progress.total, b->progress.total);
        S_STR_EQ(a->progress.text, b->progress.text);
    }
    assert_int_equal(a->result != NULL, b->result != NULL);
    if (a->result && a->result_len && b->result_len) {
        assert_int_equal(a->result_len, b->result_len);
        assert_memory_equal(a->result, b->result, a->result_len);
    }
    assert_int_equal(a->error_code != NULL, b->error_code != NULL);
    S_STR_EQ(a->error_code, b->error_code);
    S_STR_EQ(a->error_message, b->error_message);
    assert_int_equal(a->worker != NULL, b->worker != NULL);
    S_STR_EQ(a->worker, b->worker);
    assert_int_equal(a->created_at, b->created_at);
    assert_int_equal(a->updated_at, b->updated_at);
    assert_int_equal(a->finished_at, b->finished_at);
#undef S_STR_EQ
}

static void test_job_record(void **state)
{
    (void)state;
    unsigned seed = 11;
    for (int round = 0; round < 300; round++) {
        minga_job_t job, back;
        s_random_job(&job, &seed, true);
        minga_job_init(&back);
        minga_pbuf_t rec, map;
        minga_pbuf_init(&rec);
        minga_pbuf_init(&map);
        assert_int_equal(minga_job_record_pack(&job, &rec.pk), 0);
        char err[200] = "";
        int rc = minga_job_record_decode(rec.sbuf.data, rec.sbuf.size, &back, err, sizeof err);
        if (rc != 0)
            print_error("round %d: %s\n", round, err);
        assert_int_equal(rc, 0);
        s_job_equal(&job, &back);
        /* the compact record is smaller than the map */
        assert_int_equal(minga_job_pack(&job, &map.pk, MINGA_JOB_PACK_NO_INPUT), 0);
        assert_true(rec.sbuf.size < map.sbuf.size);
        /* an older broker's record (the map) reads the same, where the map can carry it (a
         * worker name of at most MINGA_PROTO_MAX_NAME; a nil result there reads as none) */
        if (strlen(job.worker ? job.worker : "") <= MINGA_PROTO_MAX_NAME &&
            !(job.result && job.result_len == 0)) {
            rc = minga_job_record_decode(map.sbuf.data, map.sbuf.size, &back, err, sizeof err);
            if (rc != 0)
                print_error("round %d (map): %s\n", round, err);
            assert_int_equal(rc, 0);
            s_job_equal(&job, &back);
        }
        /* every truncation and a trailing byte are refused, naming the place */
        for (size_t cut = 0; cut < rec.sbuf.size; cut += 1 + cut / 16) {
            assert_int_equal(minga_job_record_decode(rec.sbuf.data, cut, &back, err, sizeof err),
                             MINGA_EFORMAT);
            assert_non_null(strstr(err, "job record"));
            assert_null(back.type);
        }
        msgpack_sbuffer_write(&rec.sbuf, "\xc0", 1);
        assert_int_equal(
            minga_job_record_decode(rec.sbuf.data, rec.sbuf.size, &back, err, sizeof err),
            MINGA_EFORMAT);
        assert_non_null(strstr(err, "end"));
        /* a newer record version */
        rec.sbuf.data[3] = 3; /* after the array16 header */
        assert_int_equal(
            minga_job_record_decode(rec.sbuf.data, rec.sbuf.size - 1, &back, err, sizeof err),
            MINGA_EVERSION);
        minga_pbuf_clear(&rec);
        minga_pbuf_clear(&map);
        minga_job_clear(&job);
        minga_job_clear(&back);
    }
    /* a wrong type: the state as a string names the field */
    const uint8_t bad[] = {0xdc, 0x00, 0x12, 0x02, 0x07, 0xa1, 't', 0xa4, 'd', 'o', 'n', 'e'};
    minga_job_t job;
    minga_job_init(&job);
    char err[200];
    assert_int_equal(minga_job_record_decode(bad, sizeof bad, &job, err, sizeof err),
                     MINGA_EFORMAT);
    assert_non_null(strstr(err, "state"));
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_calls),          cmocka_unit_test(test_timeout),
        cmocka_unit_test(test_json),           cmocka_unit_test(test_parse_id),
        cmocka_unit_test(test_job_pack_bytes), cmocka_unit_test(test_job_record),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
