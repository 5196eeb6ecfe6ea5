/*
 * test_client.c: the client API (client.h) against a scripted broker (a ROUTER in a thread),
 * and the JSON conversions: a call with no broker times out naming the endpoint; an ERROR
 * reply gives MINGA_EREJECTED with the broker's code and message; a late reply to another rid
 * is dropped; WAIT passes each PROGRESS to the callback; JSON <-> msgpack round trips; a job
 * as JSON carries the fields of PROTOCOL.md; job ids parse strictly.
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

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_calls),
        cmocka_unit_test(test_timeout),
        cmocka_unit_test(test_json),
        cmocka_unit_test(test_parse_id),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
