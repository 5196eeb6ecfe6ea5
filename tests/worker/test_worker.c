/*
 * test_worker.c: minga-test-worker, the worker of the `test.echo` job type, built with the
 * tests. Its body is a msgpack map, every key optional:
 *   sleep_ms  uint     sleep that long before answering
 *   fail      "retry"  fail retryable / "fatal" fail for good
 *   crash     true     SIGKILL itself while holding the job
 *   times     uint     fail and crash fire only on the first N attempts (default: every one)
 *   fetch     true     fetch the results of all the job's parents (minga_task_fetch), or
 *             [uint]   of these job ids, in this order
 *   result_bytes uint  the result is a bin of that many bytes (byte i = i * 31 % 251)
 * Its result is the body, unchanged; with fetch, the array of the fetched results (each as
 * received), followed by the bin when result_bytes is also given; with result_bytes alone, the
 * bin. A refused fetch fails the job for good (code fetch_refused, or fetch_failed; the
 * message is minga_task_fetch's). Unknown keys are ignored; a body that is not a map, or a
 * key of the wrong type, fails the job for good (bad_body).
 */
#include "minga/error.h"
#include "minga/mpguard.h"
#include "minga/worker.h"

#include <msgpack.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

typedef struct {
    uint64_t sleep_ms;
    const char *fail; /* "retry", "fatal" or NULL, borrowed from the unpacked body */
    size_t fail_len;
    bool crash;
    uint64_t times; /* 0: every attempt */
    bool fetch, fetch_parents;
    uint64_t fetch_ids[64];
    size_t nfetch;
    bool has_bytes;
    uint64_t result_bytes;
} s_echo_t;

#define S_MAX_RESULT_BYTES (1ull << 30)

static bool s_key_is(const msgpack_object *k, const char *name)
{
    return k->type == MSGPACK_OBJECT_STR && k->via.str.size == strlen(name) &&
           memcmp(k->via.str.ptr, name, k->via.str.size) == 0;
}

/* Reads the options of body into *e; returns NULL or what is wrong. */
static const char *s_parse(const msgpack_object *body, s_echo_t *e)
{
    memset(e, 0, sizeof *e);
    if (body->type == MSGPACK_OBJECT_NIL)
        return NULL;
    if (body->type != MSGPACK_OBJECT_MAP)
        return "the body is not a map";
    for (uint32_t i = 0; i < body->via.map.size; i++) {
        const msgpack_object *k = &body->via.map.ptr[i].key;
        const msgpack_object *v = &body->via.map.ptr[i].val;
        if (s_key_is(k, "sleep_ms")) {
            if (v->type != MSGPACK_OBJECT_POSITIVE_INTEGER)
                return "sleep_ms is not an unsigned integer";
            e->sleep_ms = v->via.u64;
        } else if (s_key_is(k, "times")) {
            if (v->type != MSGPACK_OBJECT_POSITIVE_INTEGER)
                return "times is not an unsigned integer";
            e->times = v->via.u64;
        } else if (s_key_is(k, "crash")) {
            if (v->type != MSGPACK_OBJECT_BOOLEAN)
                return "crash is not a boolean";
            e->crash = v->via.boolean;
        } else if (s_key_is(k, "fetch")) {
            e->fetch = true;
            if (v->type == MSGPACK_OBJECT_BOOLEAN && v->via.boolean) {
                e->fetch_parents = true;
            } else if (v->type == MSGPACK_OBJECT_ARRAY && v->via.array.size <= 64) {
                for (uint32_t j = 0; j < v->via.array.size; j++) {
                    if (v->via.array.ptr[j].type != MSGPACK_OBJECT_POSITIVE_INTEGER)
                        return "fetch[] holds something that is not a job id";
                    e->fetch_ids[e->nfetch++] = v->via.array.ptr[j].via.u64;
                }
            } else {
                return "fetch is neither true nor an array of at most 64 job ids";
            }
        } else if (s_key_is(k, "result_bytes")) {
            if (v->type != MSGPACK_OBJECT_POSITIVE_INTEGER || v->via.u64 > S_MAX_RESULT_BYTES)
                return "result_bytes is not an unsigned integer of at most 1 GiB";
            e->has_bytes = true;
            e->result_bytes = v->via.u64;
        } else if (s_key_is(k, "fail")) {
            if (v->type != MSGPACK_OBJECT_STR ||
                !((v->via.str.size == 5 && memcmp(v->via.str.ptr, "retry", 5) == 0) ||
                  (v->via.str.size == 5 && memcmp(v->via.str.ptr, "fatal", 5) == 0)))
                return "fail is neither \"retry\" nor \"fatal\"";
            e->fail = v->via.str.ptr;
            e->fail_len = v->via.str.size;
        }
    }
    return NULL;
}

/* Sleeps ms, reporting progress every 100 ms. */
static void s_sleep(minga_task_t *task, uint64_t ms)
{
    uint64_t slept = 0;
    while (slept < ms) {
        uint64_t step = ms - slept < 100 ? ms - slept : 100;
        struct timespec ts = {(time_t)(step / 1000), (long)(step % 1000) * 1000000L};
        nanosleep(&ts, NULL);
        slept += step;
        minga_task_progress(task, slept, ms, "durmiendo");
    }
}

/* The result of a job with fetch or result_bytes: [fetched..., bin] or the bin alone. */
static int s_build_result(minga_task_t *task, const s_echo_t *e)
{
    uint64_t ids[64];
    size_t n = e->nfetch;
    if (e->fetch_parents) {
        n = minga_task_parents(task, ids, 64);
        if (n > 64)
            n = 64;
    } else {
        memcpy(ids, e->fetch_ids, n * sizeof *ids);
    }
    msgpack_sbuffer sb;
    msgpack_sbuffer_init(&sb);
    msgpack_packer pk;
    msgpack_packer_init(&pk, &sb, msgpack_sbuffer_write);
    if (e->fetch)
        msgpack_pack_array(&pk, n + (e->has_bytes ? 1 : 0));
    int rc = 0;
    for (size_t i = 0; e->fetch && i < n && rc == 0; i++) {
        const uint8_t *data;
        size_t len;
        char err[512];
        rc = minga_task_fetch(task, ids[i], &data, &len, err, sizeof err);
        if (rc != 0)
            minga_task_fail(task, false, rc == MINGA_ENOTFOUND ? "fetch_refused" : "fetch_failed",
                            "test.echo: %s", err);
        else
            msgpack_sbuffer_write(&sb, (const char *)data, len);
    }
    if (rc == 0 && e->has_bytes) {
        msgpack_pack_bin(&pk, (size_t)e->result_bytes);
        char *pad = malloc(e->result_bytes ? e->result_bytes : 1);
        if (!pad)
            rc = MINGA_ENOMEM;
        for (uint64_t i = 0; pad && i < e->result_bytes; i++)
            pad[i] = (char)(i * 31 % 251);
        if (pad)
            msgpack_pack_bin_body(&pk, pad, (size_t)e->result_bytes);
        free(pad);
    }
    if (rc == 0)
        rc = minga_task_set_result(task, (const uint8_t *)sb.data, sb.size);
    msgpack_sbuffer_destroy(&sb);
    return rc;
}

static int s_echo(minga_task_t *task, void *arg)
{
    (void)arg;
    size_t size;
    const uint8_t *data = minga_task_body(task, &size);
    msgpack_unpacked up;
    msgpack_unpacked_init(&up);
    s_echo_t e;
    const char *wrong = NULL;
    if (size > 0 &&
        (minga_mpguard_check(data, size, 32) != 0 ||
         msgpack_unpack_next(&up, (const char *)data, size, NULL) != MSGPACK_UNPACK_SUCCESS))
        wrong = "the body is not msgpack";
    else if (size > 0)
        wrong = s_parse(&up.data, &e);
    else
        memset(&e, 0, sizeof e);
    if (wrong) {
        msgpack_unpacked_destroy(&up);
        minga_task_fail(task, false, "bad_body", "test.echo: %s", wrong);
        return MINGA_EINVAL;
    }
    bool fire = e.times == 0 || minga_task_attempt(task) <= e.times;
    bool fatal = e.fail && memcmp(e.fail, "fatal", 5) == 0;
    bool fail = e.fail != NULL;
    bool build = e.fetch || e.has_bytes;
    msgpack_unpacked_destroy(&up);
    if (e.sleep_ms)
        s_sleep(task, e.sleep_ms);
    if (fire && e.crash)
        kill(getpid(), SIGKILL);
    if (fire && fail) {
        minga_task_fail(task, !fatal, fatal ? "test_fatal" : "test_retry",
                        "test.echo failed on purpose (attempt %u)", minga_task_attempt(task));
        return MINGA_EREJECTED;
    }
    if (build)
        return s_build_result(task, &e);
    return minga_task_set_result(task, data, size);
}

/* A test.echo job that does not sleep takes microseconds: it may run on the runtime's main
 * thread (worker.h, minga_quick_fn). A body that does not parse goes the usual way, where
 * the handler reports what is wrong. */
static bool s_echo_quick(const uint8_t *data, size_t size, void *arg)
{
    (void)arg;
    if (size == 0)
        return true;
    msgpack_unpacked up;
    msgpack_unpacked_init(&up);
    s_echo_t e;
    bool quick =
        minga_mpguard_check(data, size, 32) == 0 &&
        msgpack_unpack_next(&up, (const char *)data, size, NULL) == MSGPACK_UNPACK_SUCCESS &&
        s_parse(&up.data, &e) == NULL && e.sleep_ms == 0 && !e.fetch && !e.has_bytes;
    msgpack_unpacked_destroy(&up);
    return quick;
}

static const minga_handler_t s_handlers[] = {
    {"test.echo", s_echo, NULL},
    {NULL, NULL, NULL},
};

int main(int argc, char **argv)
{
    minga_worker_set_quick("test.echo", s_echo_quick);
    return minga_worker_main("minga-test-worker", s_handlers, argc, argv);
}
