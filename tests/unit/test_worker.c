/*
 * test_worker.c: the worker runtime (worker.h) against a scripted broker: a ROUTER socket in
 * the test thread speaks PROTOCOL.md §5 to a worker running in a second thread. Checks, in
 * order, the runtime's state machine: READY (types, capacity, name), WELCOME, JOB -> DONE
 * with the handler's result, a failing handler -> FAIL, an unknown job type -> FAIL not
 * retryable, CANCEL, heartbeats on their own timer while a handler sleeps, reconnection with a
 * new READY after the broker went silent, and the drain: READY with capacity 0,
 * DONE, DISCONNECT. Also the option parser and the configuration file. And batches: to a
 * broker whose WELCOME has batch_max the runtime sends READY again with batch (its capacity),
 * takes the jobs of a JOBS message, and answers with DONE {items}.
 */
#include "minga/error.h"
#include "minga/proto.h"
#include "minga/worker.h"

#include <czmq.h>
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <cmocka.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

/* The handler: body is a msgpack uint, milliseconds to sleep; 999 fails; result = body. */
static int s_sleep_handler(minga_task_t *task, void *arg)
{
    (void)arg;
    size_t size;
    const uint8_t *body = minga_task_body(task, &size);
    uint64_t ms = 0;
    msgpack_unpacked up;
    msgpack_unpacked_init(&up);
    if (size &&
        msgpack_unpack_next(&up, (const char *)body, size, NULL) == MSGPACK_UNPACK_SUCCESS &&
        up.data.type == MSGPACK_OBJECT_POSITIVE_INTEGER)
        ms = up.data.via.u64;
    msgpack_unpacked_destroy(&up);
    if (ms == 999) {
        minga_task_fail(task, true, "on_purpose", "failed on purpose");
        return MINGA_EREJECTED;
    }
    zclock_sleep((int)ms);
    minga_task_progress(task, 1, 1, "listo");
    return minga_task_set_result(task, body, size);
}

/* A long handler that stops when the worker drains and hands its job back. */
static int s_long_handler(minga_task_t *task, void *arg)
{
    (void)arg;
    for (int i = 0; i < 500 && !minga_task_draining(task); i++)
        zclock_sleep(10);
    if (minga_task_draining(task))
        minga_task_hand_back(task);
    return 0;
}

static const minga_handler_t s_table[] = {
    {"t.sleep", s_sleep_handler, NULL},
    {"t.long", s_long_handler, NULL},
    {NULL, NULL, NULL},
};

typedef struct {
    zsock_t *router;
    zframe_t *peer; /* routing id of the worker's current connection */
    char dir[64];
    minga_worker_t *worker;
    zactor_t *runner;
} s_fixture_t;

static void s_runner(zsock_t *pipe, void *arg)
{
    s_fixture_t *f = arg;
    zsock_signal(pipe, 0);
    int rc = minga_worker_run(f->worker);
    zsock_send(pipe, "i", rc);
    char *cmd = zstr_recv(pipe); /* $TERM */
    zstr_free(&cmd);
}

/* Receives the next message from the worker within ms; returns its command and fills *m. */
static int s_recv(s_fixture_t *f, minga_pmsg_t *m, int ms)
{
    zsock_set_rcvtimeo(f->router, ms);
    zmsg_t *zm = zmsg_recv(f->router);
    if (!zm)
        return -1;
    minga_perr_t perr;
    char err[256];
    minga_pmsg_clear(m);
    assert_int_equal(minga_pmsg_decode(m, &zm, true, 0, &perr, err, sizeof err), 0);
    zframe_destroy(&f->peer);
    f->peer = zframe_dup(m->routing);
    return (int)m->cmd;
}

/* The next message that is not a HEARTBEAT or PROGRESS. */
static int s_recv_cmd(s_fixture_t *f, minga_pmsg_t *m, int ms)
{
    int cmd;
    do
        cmd = s_recv(f, m, ms);
    while (cmd == MINGA_CMD_HEARTBEAT || cmd == MINGA_CMD_PROGRESS);
    return cmd;
}

static void s_send(s_fixture_t *f, minga_cmd_t cmd, minga_pbuf_t *pb)
{
    assert_int_equal(minga_proto_send(f->router, f->peer, true, cmd, pb ? pb->sbuf.data : NULL,
                                      pb ? pb->sbuf.size : 0),
                     0);
    if (pb)
        minga_pbuf_reset(pb);
}

static void s_send_job(s_fixture_t *f, uint64_t id, const char *type, uint64_t sleep_ms)
{
    minga_pbuf_t pb;
    minga_pbuf_init(&pb);
    minga_job_t job;
    minga_job_init(&job);
    job.id = id;
    job.type = strdup(type);
    job.state = MINGA_JOB_LEASED;
    job.attempts = 1;
    job.max_attempts = 5;
    job.lease_ms = 30000;
    msgpack_sbuffer sb;
    msgpack_sbuffer_init(&sb);
    msgpack_packer pk;
    msgpack_packer_init(&pk, &sb, msgpack_sbuffer_write);
    msgpack_pack_uint64(&pk, sleep_ms);
    job.body = malloc(sb.size);
    memcpy(job.body, sb.data, sb.size);
    job.body_len = sb.size;
    msgpack_sbuffer_destroy(&sb);
    msgpack_pack_map(&pb.pk, 1);
    minga_pk_str(&pb.pk, "job");
    assert_int_equal(minga_job_pack(&job, &pb.pk, 0), 0);
    s_send(f, MINGA_CMD_JOB, &pb);
    minga_job_clear(&job);
    minga_pbuf_clear(&pb);
}

static void s_send_welcome(s_fixture_t *f, unsigned heartbeat_ms)
{
    minga_pbuf_t pb;
    minga_pbuf_init(&pb);
    msgpack_pack_map(&pb.pk, 3);
    minga_pk_kv_uint(&pb.pk, "heartbeat_ms", heartbeat_ms);
    minga_pk_kv_uint(&pb.pk, "liveness", 3);
    minga_pk_kv_uint(&pb.pk, "max_body", 1 << 20);
    s_send(f, MINGA_CMD_WELCOME, &pb);
    minga_pbuf_clear(&pb);
}

static uint64_t s_uint(const minga_pmsg_t *m, const char *key)
{
    return minga_pobj_uint(minga_pobj_get(m->root, key), 0);
}

static void test_state_machine(void **state)
{
    (void)state;
    s_fixture_t f;
    memset(&f, 0, sizeof f);
    snprintf(f.dir, sizeof f.dir, "/tmp/minga-XXXXXX");
    assert_non_null(mkdtemp(f.dir));
    char run[128], pidfile[160];
    snprintf(run, sizeof run, "%s/run", f.dir);
    mkdir(run, 0700);
    snprintf(pidfile, sizeof pidfile, "%s/w.pid", run);
    f.router = zsock_new(ZMQ_ROUTER);
    assert_int_equal(zsock_bind(f.router, "ipc://%s/run/workers", f.dir), 0);

    minga_worker_options_t opts;
    minga_worker_options_init(&opts);
    opts.store_dir = f.dir;
    opts.name = "unit";
    opts.capacity = 2;
    opts.heartbeat_ms = 100;
    opts.drain_ms = 5000;
    opts.pid_file = pidfile;
    assert_int_equal(minga_worker_new(&f.worker, s_table, &opts), 0);
    minga_worker_t *second = NULL;
    assert_int_equal(minga_worker_new(&second, s_table, &opts), MINGA_EBUSY);
    f.runner = zactor_new(s_runner, &f);

    /* READY, WELCOME */
    minga_pmsg_t m;
    minga_pmsg_init(&m);
    assert_int_equal(s_recv_cmd(&f, &m, 3000), MINGA_CMD_READY);
    assert_int_equal(s_uint(&m, "capacity"), 2);
    const msgpack_object *types = minga_pobj_get(m.root, "types");
    assert_int_equal(types->via.array.size, 2);
    assert_true(minga_pobj_str_eq(&types->via.array.ptr[0], "t.sleep"));
    assert_true(minga_pobj_str_eq(&types->via.array.ptr[1], "t.long"));
    char *name = minga_pobj_strdup(minga_pobj_get(m.root, "name"));
    assert_true(strncmp(name, "unit@", 5) == 0);
    free(name);
    s_send_welcome(&f, 100);

    /* JOB -> DONE with the result */
    s_send_job(&f, 7, "t.sleep", 0);
    assert_int_equal(s_recv_cmd(&f, &m, 3000), MINGA_CMD_DONE);
    assert_int_equal(s_uint(&m, "id"), 7);
    assert_int_equal(minga_pobj_uint(minga_pobj_get(m.root, "result"), 1), 0);

    /* a failing handler, and a type without handler */
    s_send_job(&f, 8, "t.sleep", 999);
    assert_int_equal(s_recv_cmd(&f, &m, 3000), MINGA_CMD_FAIL);
    assert_int_equal(s_uint(&m, "id"), 8);
    assert_true(minga_pobj_bool(minga_pobj_get(m.root, "retryable"), false));
    assert_true(minga_pobj_str_eq(minga_pobj_get(m.root, "code"), "on_purpose"));
    s_send_job(&f, 9, "t.other", 0);
    assert_int_equal(s_recv_cmd(&f, &m, 3000), MINGA_CMD_FAIL);
    assert_false(minga_pobj_bool(minga_pobj_get(m.root, "retryable"), true));

    /* heartbeats keep coming while a handler sleeps 1 s; CANCEL (sent after 0.5 s, so that it
     * arrives before the end even on a loaded machine) drops its outcome */
    s_send_job(&f, 10, "t.sleep", 1000);
    int beats = 0;
    int64_t until = zclock_mono() + 500;
    while (zclock_mono() < until) {
        int cmd = s_recv(&f, &m, 200);
        beats += cmd == MINGA_CMD_HEARTBEAT;
        assert_true(cmd != MINGA_CMD_DONE);
        if (cmd == MINGA_CMD_HEARTBEAT)
            s_send(&f, MINGA_CMD_HEARTBEAT, NULL);
    }
    assert_true(beats >= 3);
    minga_pbuf_t pb;
    minga_pbuf_init(&pb);
    msgpack_pack_map(&pb.pk, 2);
    minga_pk_kv_uint(&pb.pk, "id", 10);
    minga_pk_kv_str(&pb.pk, "reason", "cancelled");
    s_send(&f, MINGA_CMD_CANCEL, &pb);
    until = zclock_mono() + 900;
    while (zclock_mono() < until) {
        int cmd = s_recv(&f, &m, 100);
        assert_true(cmd != MINGA_CMD_DONE && cmd != MINGA_CMD_FAIL);
        if (cmd == MINGA_CMD_HEARTBEAT)
            s_send(&f, MINGA_CMD_HEARTBEAT, NULL);
    }

    /* silence for liveness x heartbeat: the worker reconnects and registers again */
    zframe_t *old = zframe_dup(f.peer);
    int cmd;
    until = zclock_mono() + 3000;
    do
        cmd = s_recv(&f, &m, 3000);
    while (cmd != MINGA_CMD_READY && zclock_mono() < until);
    assert_int_equal(cmd, MINGA_CMD_READY);
    assert_false(zframe_eq(old, f.peer));
    zframe_destroy(&old);
    s_send_welcome(&f, 100);

    /* drain: a job in hand finishes, a long one hands itself back, the capacity drops to 0,
     * a job that arrives anyway is released, then DISCONNECT */
    s_send_job(&f, 11, "t.sleep", 300);
    s_send_job(&f, 13, "t.long", 0);
    zclock_sleep(50);
    minga_worker_stop();
    /* on a loaded machine job 11 (300 ms) may end before the stop is seen: its DONE may come
     * first, nothing else may */
    bool released = false, done = false, handed_back = false;
    while ((cmd = s_recv_cmd(&f, &m, 3000)) == MINGA_CMD_DONE && s_uint(&m, "id") == 11 && !done)
        done = true;
    assert_int_equal(cmd, MINGA_CMD_READY);
    assert_int_equal(minga_pobj_uint(minga_pobj_get(m.root, "capacity"), 99), 0);
    s_send_job(&f, 12, "t.sleep", 0); /* arrives while draining: handed back */
    while ((cmd = s_recv_cmd(&f, &m, 3000)) != MINGA_CMD_DISCONNECT) {
        assert_true(cmd == MINGA_CMD_RELEASE || cmd == MINGA_CMD_DONE || cmd == MINGA_CMD_READY);
        released |= cmd == MINGA_CMD_RELEASE && s_uint(&m, "id") == 12;
        handed_back |= cmd == MINGA_CMD_RELEASE && s_uint(&m, "id") == 13;
        done |= cmd == MINGA_CMD_DONE && s_uint(&m, "id") == 11;
        assert_false(cmd == MINGA_CMD_DONE && s_uint(&m, "id") == 13);
    }
    assert_true(released);
    assert_true(handed_back);
    assert_true(done);
    int rc = -1;
    assert_int_equal(zsock_recv(f.runner, "i", &rc), 0);
    assert_int_equal(rc, 0);

    minga_pmsg_clear(&m);
    minga_pbuf_clear(&pb);
    zactor_destroy(&f.runner);
    minga_worker_destroy(&f.worker);
    assert_int_equal(access(pidfile, F_OK), -1);
    zframe_destroy(&f.peer);
    zsock_destroy(&f.router);
    char path[160];
    snprintf(path, sizeof path, "%s/run/workers", f.dir);
    unlink(path);
    rmdir(run);
    rmdir(f.dir);
}

/* JOBS with jobs of the given ids (sleep 0 each), as a broker sends to a READY with batch. */
static void s_send_jobs(s_fixture_t *f, const uint64_t *ids, size_t n)
{
    minga_pbuf_t pb;
    minga_pbuf_init(&pb);
    msgpack_pack_map(&pb.pk, 1);
    minga_pk_str(&pb.pk, "jobs");
    msgpack_pack_array(&pb.pk, n);
    for (size_t i = 0; i < n; i++) {
        minga_job_t job;
        minga_job_init(&job);
        job.id = ids[i];
        job.type = strdup("t.sleep");
        job.state = MINGA_JOB_LEASED;
        job.attempts = 1;
        job.max_attempts = 5;
        job.lease_ms = 30000;
        job.body = malloc(1);
        job.body[0] = 0; /* msgpack 0: no sleep */
        job.body_len = 1;
        assert_int_equal(minga_job_pack(&job, &pb.pk, 0), 0);
        minga_job_clear(&job);
    }
    s_send(f, MINGA_CMD_JOBS, &pb);
    minga_pbuf_clear(&pb);
}

static void test_batches(void **state)
{
    (void)state;
    s_fixture_t f;
    memset(&f, 0, sizeof f);
    snprintf(f.dir, sizeof f.dir, "/tmp/minga-XXXXXX");
    assert_non_null(mkdtemp(f.dir));
    char run[128];
    snprintf(run, sizeof run, "%s/run", f.dir);
    mkdir(run, 0700);
    f.router = zsock_new(ZMQ_ROUTER);
    assert_int_equal(zsock_bind(f.router, "ipc://%s/run/workers", f.dir), 0);
    minga_worker_options_t opts;
    minga_worker_options_init(&opts);
    opts.store_dir = f.dir;
    opts.name = "unit-batch";
    opts.capacity = 4;
    opts.heartbeat_ms = 100;
    opts.drain_ms = 5000;
    assert_int_equal(minga_worker_new(&f.worker, s_table, &opts), 0);
    f.runner = zactor_new(s_runner, &f);

    minga_pmsg_t m;
    minga_pmsg_init(&m);
    assert_int_equal(s_recv_cmd(&f, &m, 3000), MINGA_CMD_READY);
    assert_null(minga_pobj_get(m.root, "batch")); /* not before the broker says it takes it */
    minga_pbuf_t pb;
    minga_pbuf_init(&pb);
    for (int k = 0; k < 2; k++) { /* the second answers the second READY: no third one */
        msgpack_pack_map(&pb.pk, 4);
        minga_pk_kv_uint(&pb.pk, "heartbeat_ms", 100);
        minga_pk_kv_uint(&pb.pk, "liveness", 3);
        minga_pk_kv_uint(&pb.pk, "max_body", 1 << 20);
        minga_pk_kv_uint(&pb.pk, "batch_max", 1000);
        s_send(&f, MINGA_CMD_WELCOME, &pb);
        if (k == 0) {
            assert_int_equal(s_recv_cmd(&f, &m, 3000), MINGA_CMD_READY);
            assert_int_equal(s_uint(&m, "batch"), 4);
            assert_int_equal(s_uint(&m, "capacity"), 4);
        }
    }

    uint64_t ids[4] = {31, 32, 33, 34};
    s_send_jobs(&f, ids, 4);
    unsigned seen = 0, items_msgs = 0;
    int64_t until = zclock_mono() + 3000;
    while (seen != 0xf && zclock_mono() < until) {
        int cmd = s_recv(&f, &m, 500);
        if (cmd == MINGA_CMD_HEARTBEAT) {
            s_send(&f, MINGA_CMD_HEARTBEAT, NULL);
            continue;
        }
        if (cmd == MINGA_CMD_PROGRESS || cmd < 0)
            continue;
        assert_int_equal(cmd, MINGA_CMD_DONE); /* not a READY again, not a FAIL */
        const msgpack_object *items = minga_pobj_get(m.root, "items");
        assert_non_null(items);
        assert_null(minga_pobj_get(m.root, "id"));
        items_msgs++;
        for (uint32_t i = 0; i < items->via.array.size; i++) {
            uint64_t id = minga_pobj_uint(minga_pobj_get(&items->via.array.ptr[i], "id"), 0);
            assert_true(id >= 31 && id <= 34);
            assert_false(seen & (1u << (id - 31))); /* each once */
            seen |= 1u << (id - 31);
            assert_int_equal(minga_pobj_uint(minga_pobj_get(&items->via.array.ptr[i], "result"), 9),
                             0);
        }
    }
    assert_int_equal(seen, 0xf);
    assert_true(items_msgs >= 1 && items_msgs <= 4);

    minga_worker_stop();
    int cmd;
    while ((cmd = s_recv_cmd(&f, &m, 3000)) != MINGA_CMD_DISCONNECT)
        assert_int_equal(cmd, MINGA_CMD_READY);
    int rc = -1;
    assert_int_equal(zsock_recv(f.runner, "i", &rc), 0);
    assert_int_equal(rc, 0);
    minga_pmsg_clear(&m);
    minga_pbuf_clear(&pb);
    zactor_destroy(&f.runner);
    minga_worker_destroy(&f.worker);
    zframe_destroy(&f.peer);
    zsock_destroy(&f.router);
    char path[160];
    snprintf(path, sizeof path, "%s/run/workers", f.dir);
    unlink(path);
    rmdir(run);
    rmdir(f.dir);
}

static void test_options(void **state)
{
    (void)state;
    minga_worker_options_t o;
    minga_worker_options_init(&o);
    char *ok[] = {"w", "--store", "/tmp/x", "--capacity=4", "--heartbeat", "250", "--drain-timeout",
                  "7", "--name",  "n1",     "--pid-file",   "/tmp/p",      NULL};
    assert_int_equal(minga_worker_options_parse(&o, "w", 12, ok), 0);
    assert_string_equal(o.store_dir, "/tmp/x");
    assert_int_equal(o.capacity, 4);
    assert_int_equal(o.heartbeat_ms, 250);
    assert_int_equal(o.drain_ms, 7000);
    assert_string_equal(o.name, "n1");
    assert_string_equal(o.pid_file, "/tmp/p");

    char *bad[] = {"w", "--capacity", "0", NULL};
    minga_worker_options_init(&o);
    assert_int_equal(minga_worker_options_parse(&o, "w", 3, bad), 2);
    char *unknown[] = {"w", "--capacty", "3", NULL};
    assert_int_equal(minga_worker_options_parse(&o, "w", 3, unknown), 2);
    char *missing[] = {"w", "--store", NULL};
    assert_int_equal(minga_worker_options_parse(&o, "w", 2, missing), 2);

    char cfg[] = "/tmp/minga-cfg-XXXXXX";
    int fd = mkstemp(cfg);
    assert_true(fd >= 0);
    const char *text = "worker\n    capacity = 9\n    broker = \"tcp://127.0.0.1:5555\"\n";
    assert_int_equal(write(fd, text, strlen(text)), (ssize_t)strlen(text));
    close(fd);
    char *with_cfg[] = {"w", "--config", cfg, "--heartbeat", "300", NULL};
    minga_worker_options_init(&o);
    assert_int_equal(minga_worker_options_parse(&o, "w", 5, with_cfg), 0);
    assert_int_equal(o.capacity, 9);
    assert_int_equal(o.heartbeat_ms, 300);
    assert_string_equal(o.endpoint, "tcp://127.0.0.1:5555");
    char *flag_wins[] = {"w", "--capacity", "3", "--config", cfg, NULL};
    minga_worker_options_init(&o);
    assert_int_equal(minga_worker_options_parse(&o, "w", 5, flag_wins), 0);
    assert_int_equal(o.capacity, 3);
    unlink(cfg);
}

int main(void)
{
    zsys_handler_set(NULL);
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_options),
        cmocka_unit_test(test_state_machine),
        cmocka_unit_test(test_batches),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
