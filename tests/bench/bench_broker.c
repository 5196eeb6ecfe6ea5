/*
 * bench_broker.c: the job-queue benchmark driver (tests/bench/run_broker.sh runs it).
 *
 * The same work for every system: N jobs of a 64-byte body that does nothing, one producer
 * with at most `inflight` jobs enqueued and not yet done, W worker processes. Throughput is N
 * divided by the time from the first enqueue to the last job done.
 *
 *   bench_broker throughput minga --store DIR --worker-bin PATH [--capacity C]
 *       [--enqueue-batch B]: the producer enqueues up to B specs per BATCH message (still at
 *       most --inflight jobs in flight; default 1: one ENQUEUE per job); the broker's CPU per
 *       job (from /proc, its pid from STORE/run/minga-broker.pid) is in the output
 *       over TCP (issue 9: the cost of CurveZMQ), to a broker bound there by the caller:
 *       --clients-ep EP --workers-ep EP --events-ep EP --curve on|off, and with CURVE on
 *       --broker-key FILE --cert FILE (the client's) --worker-cert FILE
 *   bench_broker throughput beanstalkd --port P       (workers: reserve + delete)
 *   bench_broker throughput gearmand --port P         (background jobs; workers: libgearman)
 *   bench_broker throughput zmq                       (a raw libzmq load-balancing broker with
 *                                                      worker credit, no persistence: the ceiling)
 *       common: --jobs N --workers W --inflight K
 *   bench_broker latency --store DIR --worker-bin PATH --rate R --seconds S --workers W
 *       open loop: one ENQUEUE every 1/R s whatever happens; latency = ENQUEUE sent -> the
 *       broker's `done` event received; prints p50, p99, max
 *   bench_broker fill --store DIR --jobs N          enqueues N jobs (BATCH), no worker
 *   bench_broker serve --store DIR --worker-bin PATH
 *       after a restart: time until PING answers and until a priority-0 job is done
 *
 * Every mode prints one JSON object on stdout. Minga is driven through its wire protocol
 * (proto.h) with many requests in flight on one DEALER, and completions are counted from its
 * events socket; the other systems' workers count completions in a shared-memory counter.
 */
#include "minga/client.h"
#include "minga/curve.h"
#include "minga/proto.h"

#include <arpa/inet.h>
#include <czmq.h>
#include <errno.h>
#include <fcntl.h>
#include <libgearman-1.0/gearman.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <signal.h>
#include <stdarg.h>
#include <stdatomic.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#define S_BODY_SIZE 64
#define S_MAX_WORKERS 64

typedef struct {
    const char *mode, *system, *store, *worker_bin, *done_by;
    long jobs, workers, inflight, capacity, port, rate, seconds;
    long enqueue_batch; /* throughput minga: specs per BATCH message (1: one ENQUEUE each) */
} s_opts_t;

/* The TCP endpoints and CURVE settings of a run over tcp:// (clients NULL: the store's ipc). */
static struct {
    const char *clients, *workers, *events, *curve, *broker_key, *cert, *worker_cert;
    minga_curve_t c;
} s_net;

static atomic_long *s_done_counter; /* shared with forked workers */
static pid_t s_workers[S_MAX_WORKERS];
static int s_nworkers;

static int64_t s_now_ns(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (int64_t)ts.tv_sec * 1000000000 + ts.tv_nsec;
}

static void s_die(const char *fmt, ...) __attribute__((format(printf, 1, 2), noreturn));
static void s_die(const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    fprintf(stderr, "bench_broker: ");
    vfprintf(stderr, fmt, ap);
    fprintf(stderr, "\n");
    va_end(ap);
    for (int i = 0; i < s_nworkers; i++)
        kill(s_workers[i], SIGKILL);
    _exit(1);
}

static void s_stop_workers(int sig)
{
    for (int i = 0; i < s_nworkers; i++)
        kill(s_workers[i], sig);
    for (int i = 0; i < s_nworkers; i++)
        waitpid(s_workers[i], NULL, 0);
    s_nworkers = 0;
}

static void s_fork_worker(void (*fn)(const s_opts_t *, int), const s_opts_t *o, int index)
{
    pid_t pid = fork();
    if (pid < 0)
        s_die("fork: %s", strerror(errno));
    if (pid == 0) {
        fn(o, index);
        _exit(0);
    }
    s_workers[s_nworkers++] = pid;
}

/* The 64-byte job body: for test.echo a msgpack map {"p": "xxx..."} of exactly 64 bytes. */
static void s_minga_body(uint8_t body[S_BODY_SIZE])
{
    body[0] = 0x81; /* fixmap 1 */
    body[1] = 0xa1; /* fixstr 1 */
    body[2] = 'p';
    body[3] = 0xd9; /* str8 */
    body[4] = S_BODY_SIZE - 5;
    memset(body + 5, 'x', S_BODY_SIZE - 5);
}

/* CPU seconds (user + system) of the children waited for so far: the workers. */
static double s_children_cpu(void)
{
    struct rusage ru;
    getrusage(RUSAGE_CHILDREN, &ru);
    return (double)ru.ru_utime.tv_sec + (double)ru.ru_utime.tv_usec / 1e6 +
           (double)ru.ru_stime.tv_sec + (double)ru.ru_stime.tv_usec / 1e6;
}

/* Extra fields of the throughput line (",\"name\":value..."), set by the system's driver. */
static char s_extra[256];

/* Prints the figure; call after the workers were stopped and waited for. */
static void s_print_result(const s_opts_t *o, double secs, long jobs)
{
    char net[96] = "";
    if (s_net.clients)
        snprintf(net, sizeof net, ",\"transport\":\"tcp\",\"curve\":%s",
                 s_net.c.enabled ? "true" : "false");
    printf("{\"mode\":\"throughput\",\"system\":\"%s\",\"jobs\":%ld,\"workers\":%ld,"
           "\"inflight\":%ld,\"capacity\":%ld,\"seconds\":%.3f,\"jobs_per_s\":%.0f,"
           "\"worker_cpu_us_per_job\":%.1f%s%s}\n",
           o->system, jobs, o->workers, o->inflight, o->capacity, secs, (double)jobs / secs,
           s_children_cpu() * 1e6 / (double)jobs, net, s_extra);
    fflush(stdout);
}

/* ---------------------------------------------------------------- minga */

typedef struct {
    zsock_t *dealer, *sub;
    minga_pbuf_t pb;
    uint64_t rid;
} s_minga_t;

/* The endpoint NAME of the broker: the store's ipc one, or the run's tcp one. */
static void s_endpoint(const char *store, const char *name, char *ep, size_t cap)
{
    char err[256];
    const char *tcp = strcmp(name, "clients") == 0 ? s_net.clients : s_net.events;
    if (s_net.clients)
        snprintf(ep, cap, "%s", tcp);
    else if (minga_proto_ipc_endpoint(store, name, ep, cap, err, sizeof err) != 0)
        s_die("store %s: %s", store, err);
}

/* Connects sock to ep, as a CURVE client when the run says so. */
static void s_connect_to(zsock_t *sock, const char *ep)
{
    char err[512];
    if (!sock || minga_curve_client_setup(sock, ep, &s_net.c, err, sizeof err) != 0)
        s_die("%s: %s", ep, sock ? err : "cannot make a socket");
    if (zsock_connect(sock, "%s", ep) != 0)
        s_die("cannot connect to %s", ep);
}

static void s_minga_connect(s_minga_t *m, const char *store)
{
    char ep[256];
    minga_pbuf_init(&m->pb);
    m->rid = 0;
    m->dealer = zsock_new(ZMQ_DEALER);
    m->sub = zsock_new(ZMQ_SUB);
    if (!m->dealer || !m->sub)
        s_die("cannot connect to the broker of %s", store);
    zsock_set_rcvhwm(m->sub, 0);
    zsock_set_sndhwm(m->dealer, 0);
    zsock_set_rcvhwm(m->dealer, 0);
    zsock_set_subscribe(m->sub, "job/");
    s_endpoint(store, "clients", ep, sizeof ep);
    s_connect_to(m->dealer, ep);
    s_endpoint(store, "events", ep, sizeof ep);
    s_connect_to(m->sub, ep);
    zclock_sleep(300); /* the SUB's slow joiner */
}

static void s_minga_close(s_minga_t *m)
{
    zsock_destroy(&m->dealer);
    zsock_destroy(&m->sub);
    minga_pbuf_clear(&m->pb);
}

static void s_minga_enqueue(s_minga_t *m, int priority)
{
    uint8_t body[S_BODY_SIZE];
    s_minga_body(body);
    msgpack_packer *pk = &m->pb.pk;
    minga_pbuf_reset(&m->pb);
    msgpack_pack_map(pk, priority >= 0 ? 4 : 3);
    minga_pk_kv_uint(pk, "rid", ++m->rid);
    minga_pk_kv_str(pk, "type", "test.echo");
    minga_pk_kv_raw(pk, "body", body, sizeof body);
    if (priority >= 0)
        minga_pk_kv_uint(pk, "priority", (uint64_t)priority);
    if (minga_proto_send(m->dealer, NULL, true, MINGA_CMD_ENQUEUE, m->pb.sbuf.data,
                         m->pb.sbuf.size) != 0)
        s_die("send ENQUEUE: %s", zmq_strerror(zmq_errno()));
}

/* Reads one reply: returns its rid and sets *id; dies on ERROR. */
static uint64_t s_minga_reply(s_minga_t *m, uint64_t *id)
{
    zmsg_t *zm = zmsg_recv(m->dealer);
    minga_pmsg_t pm;
    minga_perr_t perr;
    char err[256];
    minga_pmsg_init(&pm);
    if (minga_pmsg_decode(&pm, &zm, false, 0, &perr, err, sizeof err) != 0)
        s_die("malformed reply: %s", err);
    if (pm.cmd == MINGA_CMD_ERROR) {
        char *msg = minga_pobj_strdup(minga_pobj_get(pm.root, "message"));
        s_die("the broker answered ERROR: %s", msg ? msg : "?");
    }
    *id = minga_pobj_uint(minga_pobj_get(pm.root, "id"), 0);
    uint64_t rid = pm.rid;
    minga_pmsg_clear(&pm);
    return rid;
}

/* Reads one event; returns the job id when it says `done`, else 0. */
static uint64_t s_minga_event(s_minga_t *m)
{
    zmsg_t *zm = zmsg_recv(m->sub);
    if (!zm)
        return 0;
    char *topic = zmsg_popstr(zm);
    uint64_t id = 0;
    if (topic) {
        const char *state = strrchr(topic, '/');
        if (state && strcmp(state, "/done") == 0)
            id = strtoull(topic + 4, NULL, 10);
    }
    free(topic);
    zmsg_destroy(&zm);
    return id;
}

static void s_minga_start_workers(const s_opts_t *o)
{
    char cap[32];
    snprintf(cap, sizeof cap, "%ld", o->capacity);
    for (long i = 0; i < o->workers; i++) {
        pid_t pid = fork();
        if (pid == 0) {
            char name[64];
            snprintf(name, sizeof name, "bench-worker-%ld", i + 1);
            int null = open("/dev/null", O_WRONLY);
            dup2(null, 2);
            if (s_net.clients && s_net.c.enabled)
                execl(o->worker_bin, o->worker_bin, "--broker", s_net.workers, "--curve", "on",
                      "--broker-key", s_net.broker_key, "--cert", s_net.worker_cert, "--capacity",
                      cap, "--name", name, (char *)NULL);
            else if (s_net.clients)
                execl(o->worker_bin, o->worker_bin, "--broker", s_net.workers, "--curve", "off",
                      "--capacity", cap, "--name", name, (char *)NULL);
            else
                execl(o->worker_bin, o->worker_bin, "--store", o->store, "--capacity", cap,
                      "--name", name, (char *)NULL);
            _exit(127);
        }
        s_workers[s_nworkers++] = pid;
    }
    /* Wait until the broker has them all. */
    minga_client_t *client = NULL;
    if (minga_client_new_store(&client, o->store, 5000) != 0)
        s_die("no broker for %s", o->store);
    for (int tries = 0; tries < 200; tries++) {
        json_t *reply = NULL;
        if (minga_client_workers(client, &reply) == 0 &&
            (long)json_array_size(json_object_get(reply, "workers")) >= o->workers) {
            json_decref(reply);
            minga_client_destroy(&client);
            return;
        }
        json_decref(reply);
        zclock_sleep(50);
    }
    s_die("the %ld workers did not register", o->workers);
}

/* totals.done of STATS. */
static long s_minga_done_total(minga_client_t *c)
{
    json_t *reply = NULL;
    if (minga_client_stats(c, &reply) != 0)
        s_die("STATS: %s", minga_client_error(c));
    long n = (long)json_integer_value(json_object_get(json_object_get(reply, "totals"), "done"));
    json_decref(reply);
    return n;
}

/* CPU seconds (user + system) of the store's broker so far, from /proc; -1 when unknown. */
static double s_broker_cpu(const char *store)
{
    char path[4096], buf[1024];
    snprintf(path, sizeof path, "%s/run/minga-broker.pid", store);
    FILE *f = fopen(path, "r");
    long pid = 0;
    if (!f)
        return -1;
    if (fscanf(f, "%ld", &pid) != 1)
        pid = 0;
    fclose(f);
    snprintf(path, sizeof path, "/proc/%ld/stat", pid);
    if (pid <= 0 || !(f = fopen(path, "r")))
        return -1;
    size_t n = fread(buf, 1, sizeof buf - 1, f);
    fclose(f);
    buf[n] = '\0';
    const char *p = strrchr(buf, ')'); /* the name may hold spaces; fields follow it */
    unsigned long long ut = 0, st = 0;
    if (!p || sscanf(p + 2, "%*c %*d %*d %*d %*d %*d %*u %*u %*u %*u %*u %llu %llu", &ut, &st) != 2)
        return -1;
    return (double)(ut + st) / (double)sysconf(_SC_CLK_TCK);
}

/* Sends k job specs, as one ENQUEUE (k = 1) or one BATCH. */
static void s_minga_enqueue_n(s_minga_t *m, long k)
{
    if (k <= 1) {
        s_minga_enqueue(m, -1);
        return;
    }
    uint8_t body[S_BODY_SIZE];
    s_minga_body(body);
    msgpack_packer *pk = &m->pb.pk;
    minga_pbuf_reset(&m->pb);
    msgpack_pack_map(pk, 2);
    minga_pk_kv_uint(pk, "rid", ++m->rid);
    minga_pk_str(pk, "jobs");
    msgpack_pack_array(pk, (size_t)k);
    for (long j = 0; j < k; j++) {
        msgpack_pack_map(pk, 2);
        minga_pk_kv_str(pk, "type", "test.echo");
        minga_pk_kv_raw(pk, "body", body, sizeof body);
    }
    if (minga_proto_send(m->dealer, NULL, true, MINGA_CMD_BATCH, m->pb.sbuf.data,
                         m->pb.sbuf.size) != 0)
        s_die("send BATCH: %s", zmq_strerror(zmq_errno()));
}

static void s_minga_throughput(const s_opts_t *o)
{
    s_minga_start_workers(o);
    s_minga_t m;
    s_minga_connect(&m, o->store);
    bool by_stats = o->done_by && strcmp(o->done_by, "stats") == 0;
    minga_client_t *stats = NULL;
    long done0 = 0;
    if (by_stats) {
        zsock_set_unsubscribe(m.sub, "job/"); /* no events: count done from STATS */
        if (minga_client_new_store(&stats, o->store, 5000) != 0)
            s_die("no broker for STATS");
        done0 = s_minga_done_total(stats);
    }
    long sent = 0, replies = 0, done = 0;
    double cpu0 = s_net.clients ? -1 : s_broker_cpu(o->store);
    int64_t start = s_now_ns(), last_progress = start;
    zmq_pollitem_t items[2] = {{zsock_resolve(m.dealer), 0, ZMQ_POLLIN, 0},
                               {zsock_resolve(m.sub), 0, ZMQ_POLLIN, 0}};
    while (done < o->jobs) {
        /* whole batches only, while they fit in the window of inflight jobs */
        long k = o->enqueue_batch > 1 ? o->enqueue_batch : 1;
        if (k > o->inflight)
            k = o->inflight;
        while (sent < o->jobs &&
               sent - done + (k < o->jobs - sent ? k : o->jobs - sent) <= o->inflight) {
            long n = k < o->jobs - sent ? k : o->jobs - sent;
            s_minga_enqueue_n(&m, n);
            sent += n;
        }
        if (zmq_poll(items, 2, by_stats ? 2 : 100) < 0)
            s_die("poll: %s", zmq_strerror(zmq_errno()));
        if (by_stats) {
            long now_done = s_minga_done_total(stats) - done0;
            if (now_done > done)
                last_progress = s_now_ns();
            done = now_done;
        }
        while (zsock_events(m.dealer) & ZMQ_POLLIN) {
            uint64_t id;
            s_minga_reply(&m, &id);
            replies++;
        }
        while (zsock_events(m.sub) & ZMQ_POLLIN)
            if (s_minga_event(&m)) {
                done++;
                last_progress = s_now_ns();
            }
        if (s_now_ns() - last_progress > 10 * 1000000000LL)
            s_die("stalled: %ld sent, %ld accepted, %ld done", sent, replies, done);
    }
    double secs = (double)(s_now_ns() - start) / 1e9;
    double cpu1 = cpu0 >= 0 ? s_broker_cpu(o->store) : -1;
    s_stop_workers(SIGTERM);
    snprintf(s_extra, sizeof s_extra, ",\"enqueue_batch\":%ld", o->enqueue_batch);
    if (cpu0 >= 0 && cpu1 >= cpu0)
        snprintf(s_extra + strlen(s_extra), sizeof s_extra - strlen(s_extra),
                 ",\"broker_cpu_us_per_job\":%.1f", (cpu1 - cpu0) * 1e6 / (double)done);
    s_print_result(o, secs, done);
    s_minga_close(&m);
    minga_client_destroy(&stats);
}

typedef struct {
    uint64_t id;
    int64_t at;
} s_done_t;

static int s_cmp_i64(const void *a, const void *b)
{
    int64_t x = *(const int64_t *)a, y = *(const int64_t *)b;
    return (x > y) - (x < y);
}

static void s_minga_latency(const s_opts_t *o)
{
    s_minga_start_workers(o);
    s_minga_t m;
    s_minga_connect(&m, o->store);
    long n = o->rate * o->seconds;
    int64_t *sent_at = calloc((size_t)n, sizeof *sent_at);
    uint64_t *id_of = calloc((size_t)n, sizeof *id_of);
    s_done_t *dones = calloc((size_t)n, sizeof *dones);
    long sent = 0, ndone = 0;
    int64_t start = s_now_ns(), period = 1000000000LL / o->rate;
    int64_t deadline = 0;
    uint64_t rid0 = m.rid;
    zmq_pollitem_t items[2] = {{zsock_resolve(m.dealer), 0, ZMQ_POLLIN, 0},
                               {zsock_resolve(m.sub), 0, ZMQ_POLLIN, 0}};
    while (ndone < n) {
        int64_t now = s_now_ns();
        while (sent < n && now >= start + sent * period) {
            sent_at[sent] = s_now_ns();
            s_minga_enqueue(&m, -1);
            sent++;
        }
        if (sent == n && !deadline)
            deadline = now + 10 * 1000000000LL;
        if (deadline && now > deadline)
            break;
        /* Pace without spinning (2 CPUs): sleep to the next send when it is less than 1 ms
         * away (zmq_poll counts in ms), else poll until 1 ms before it. Replies and events
         * that arrive during the sleep are stamped when read: at most ~0.2 ms late. */
        int64_t next = sent < n ? start + sent * period : now + 100000000;
        if (next - now < 1000000) {
            struct timespec ts = {0, next > now ? (long)(next - now) : 0};
            zmq_poll(items, 2, 0);
            if (!(items[0].revents | items[1].revents) && ts.tv_nsec)
                nanosleep(&ts, NULL);
        } else {
            zmq_poll(items, 2, (long)((next - now) / 1000000));
        }
        while (zsock_events(m.dealer) & ZMQ_POLLIN) {
            uint64_t id, rid = s_minga_reply(&m, &id);
            if (rid > rid0 && rid - rid0 <= (uint64_t)n)
                id_of[rid - rid0 - 1] = id;
        }
        while (zsock_events(m.sub) & ZMQ_POLLIN) {
            uint64_t id = s_minga_event(&m);
            if (id && ndone < n)
                dones[ndone++] = (s_done_t){id, s_now_ns()};
        }
    }
    /* ids grow with rids (one producer): match each done to its send by binary search. */
    int64_t *lat = calloc((size_t)n, sizeof *lat);
    long nlat = 0;
    for (long i = 0; i < ndone; i++) {
        long lo = 0, hi = n - 1;
        while (lo <= hi) {
            long mid = (lo + hi) / 2;
            if (id_of[mid] == dones[i].id) {
                lat[nlat++] = dones[i].at - sent_at[mid];
                break;
            }
            if (id_of[mid] < dones[i].id)
                lo = mid + 1;
            else
                hi = mid - 1;
        }
    }
    qsort(lat, (size_t)nlat, sizeof *lat, s_cmp_i64);
    double achieved = (double)sent / ((double)(s_now_ns() - start) / 1e9);
    printf("{\"mode\":\"latency\",\"system\":\"minga\",\"rate\":%ld,\"seconds\":%ld,"
           "\"workers\":%ld,\"capacity\":%ld,\"jobs\":%ld,\"measured\":%ld,"
           "\"send_rate\":%.0f,\"p50_ms\":%.3f,\"p90_ms\":%.3f,\"p99_ms\":%.3f,"
           "\"p999_ms\":%.3f,\"max_ms\":%.3f}\n",
           o->rate, o->seconds, o->workers, o->capacity, n, nlat, achieved,
           nlat ? (double)lat[nlat / 2] / 1e6 : -1,
           nlat ? (double)lat[(long)((double)nlat * 0.9)] / 1e6 : -1,
           nlat ? (double)lat[(long)((double)nlat * 0.99)] / 1e6 : -1,
           nlat ? (double)lat[(long)((double)nlat * 0.999)] / 1e6 : -1,
           nlat ? (double)lat[nlat - 1] / 1e6 : -1);
    free(lat);
    free(sent_at);
    free(id_of);
    free(dones);
    s_minga_close(&m);
    s_stop_workers(SIGTERM);
}

/* fill: N jobs by BATCH of 10,000 specs, a few batches in flight. */
static void s_minga_fill(const s_opts_t *o)
{
    s_minga_t m;
    s_minga_connect(&m, o->store);
    uint8_t body[S_BODY_SIZE];
    s_minga_body(body);
    long sent = 0, accepted = 0, batches_out = 0;
    int64_t start = s_now_ns();
    while (accepted < o->jobs) {
        while (sent < o->jobs && batches_out < 4) {
            long k = o->jobs - sent < 10000 ? o->jobs - sent : 10000;
            msgpack_packer *pk = &m.pb.pk;
            minga_pbuf_reset(&m.pb);
            msgpack_pack_map(pk, 2);
            minga_pk_kv_uint(pk, "rid", ++m.rid);
            minga_pk_str(pk, "jobs");
            msgpack_pack_array(pk, (size_t)k);
            for (long i = 0; i < k; i++) {
                msgpack_pack_map(pk, 2);
                minga_pk_kv_str(pk, "type", "test.echo");
                minga_pk_kv_raw(pk, "body", body, sizeof body);
            }
            if (minga_proto_send(m.dealer, NULL, true, MINGA_CMD_BATCH, m.pb.sbuf.data,
                                 m.pb.sbuf.size) != 0)
                s_die("send BATCH: %s", zmq_strerror(zmq_errno()));
            sent += k;
            batches_out++;
        }
        zmq_pollitem_t item = {zsock_resolve(m.dealer), 0, ZMQ_POLLIN, 0};
        if (zmq_poll(&item, 1, 60000) <= 0)
            s_die("no reply to BATCH within 60 s (%ld accepted)", accepted);
        zmsg_t *zm = zmsg_recv(m.dealer);
        minga_pmsg_t pm;
        minga_perr_t perr;
        char err[256];
        minga_pmsg_init(&pm);
        if (minga_pmsg_decode(&pm, &zm, false, 0, &perr, err, sizeof err) != 0 ||
            pm.cmd != MINGA_CMD_BATCH)
            s_die("BATCH refused: %s %s", pm.cmd_text, err);
        const msgpack_object *jobs = minga_pobj_get(pm.root, "jobs");
        accepted += jobs && jobs->type == MSGPACK_OBJECT_ARRAY ? jobs->via.array.size : 0;
        batches_out--;
        minga_pmsg_clear(&pm);
    }
    double secs = (double)(s_now_ns() - start) / 1e9;
    printf("{\"mode\":\"fill\",\"system\":\"minga\",\"jobs\":%ld,\"seconds\":%.3f,"
           "\"jobs_per_s\":%.0f}\n",
           accepted, secs, (double)accepted / secs);
    s_minga_close(&m);
}

/* serve: time until PING answers, then until a priority-0 job is done by one worker. */
static void s_minga_serve(const s_opts_t *o)
{
    int64_t start = s_now_ns();
    minga_client_t *client = NULL;
    json_t *reply = NULL;
    int rc = -1;
    while (rc != 0 && s_now_ns() - start < 120 * 1000000000LL) {
        minga_client_destroy(&client);
        if (minga_client_new_store(&client, o->store, 100) == 0)
            rc = minga_client_ping(client, &reply);
        else
            zclock_sleep(20);
    }
    if (rc)
        s_die("the broker did not answer PING within 120 s");
    json_decref(reply);
    double ping_s = (double)(s_now_ns() - start) / 1e9;
    minga_client_destroy(&client);
    s_opts_t one = *o;
    one.workers = 1;
    one.capacity = 1;
    s_minga_start_workers(&one);
    s_minga_t m;
    s_minga_connect(&m, o->store);
    s_minga_enqueue(&m, 0);
    uint64_t id = 0;
    zmq_pollitem_t item = {zsock_resolve(m.dealer), 0, ZMQ_POLLIN, 0};
    if (zmq_poll(&item, 1, 60000) <= 0)
        s_die("no reply to ENQUEUE after restart");
    s_minga_reply(&m, &id);
    if (minga_client_new_store(&client, o->store, 60000) != 0)
        s_die("no client");
    minga_job_t job;
    minga_job_init(&job);
    if (minga_client_wait(client, id, 60000, NULL, NULL, &job) != 0)
        s_die("the priority-0 job did not end: %s", minga_client_error(client));
    double job_s = (double)(s_now_ns() - start) / 1e9;
    printf("{\"mode\":\"serve\",\"system\":\"minga\",\"ping_s\":%.3f,\"first_job_done_s\":%.3f,"
           "\"state\":\"%s\"}\n",
           ping_s, job_s, minga_job_state_name(job.state));
    minga_job_clear(&job);
    minga_client_destroy(&client);
    s_minga_close(&m);
    s_stop_workers(SIGTERM);
}

/* ---------------------------------------------------------------- beanstalkd */

static int s_tcp_connect(long port)
{
    int fd = socket(AF_INET, SOCK_STREAM, 0);
    struct sockaddr_in sa = {.sin_family = AF_INET, .sin_port = htons((uint16_t)port)};
    sa.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    if (fd < 0 || connect(fd, (struct sockaddr *)&sa, sizeof sa) != 0)
        s_die("connect 127.0.0.1:%ld: %s", port, strerror(errno));
    int one = 1;
    setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
    return fd;
}

typedef struct {
    int fd;
    char buf[1 << 16];
    size_t len, pos;
} s_reader_t;

static void s_write_all(int fd, const char *p, size_t n)
{
    while (n) {
        ssize_t w = write(fd, p, n);
        if (w < 0 && errno == EINTR)
            continue;
        if (w <= 0)
            s_die("write: %s", strerror(errno));
        p += w;
        n -= (size_t)w;
    }
}

/* Reads up to and including "\r\n" into line (NUL-terminated, without it). */
static void s_read_line(s_reader_t *r, char *line, size_t size)
{
    size_t n = 0;
    while (true) {
        if (r->pos == r->len) {
            ssize_t got = read(r->fd, r->buf, sizeof r->buf);
            if (got <= 0)
                s_die("read: %s", got ? strerror(errno) : "connection closed");
            r->len = (size_t)got;
            r->pos = 0;
        }
        char c = r->buf[r->pos++];
        if (c == '\n') {
            if (n && line[n - 1] == '\r')
                n--;
            line[n] = 0;
            return;
        }
        if (n + 1 < size)
            line[n++] = c;
    }
}

static void s_skip(s_reader_t *r, size_t n)
{
    char tmp[256];
    while (n) {
        size_t k = n < sizeof tmp - 1 ? n : sizeof tmp - 1;
        for (size_t i = 0; i < k; i++) {
            if (r->pos == r->len) {
                ssize_t got = read(r->fd, r->buf, sizeof r->buf);
                if (got <= 0)
                    s_die("read: connection closed");
                r->len = (size_t)got;
                r->pos = 0;
            }
            r->pos++;
        }
        n -= k;
    }
}

static void s_beanstalk_worker(const s_opts_t *o, int index)
{
    (void)index;
    s_reader_t *r = calloc(1, sizeof *r);
    r->fd = s_tcp_connect(o->port);
    char line[256], cmd[64];
    while (true) {
        s_write_all(r->fd, "reserve\r\n", 9);
        s_read_line(r, line, sizeof line);
        unsigned long long id;
        size_t bytes;
        if (sscanf(line, "RESERVED %llu %zu", &id, &bytes) != 2)
            s_die("beanstalkd worker: %s", line);
        s_skip(r, bytes + 2);
        int n = snprintf(cmd, sizeof cmd, "delete %llu\r\n", id);
        s_write_all(r->fd, cmd, (size_t)n);
        s_read_line(r, line, sizeof line);
        if (strcmp(line, "DELETED") != 0)
            s_die("beanstalkd worker: %s", line);
        atomic_fetch_add(s_done_counter, 1);
    }
}

static void s_wait_inflight(const s_opts_t *o, long sent)
{
    while (sent - atomic_load(s_done_counter) >= o->inflight)
        usleep(20);
}

static void s_beanstalk_throughput(const s_opts_t *o)
{
    for (int i = 0; i < o->workers; i++)
        s_fork_worker(s_beanstalk_worker, o, i);
    s_reader_t *r = calloc(1, sizeof *r);
    r->fd = s_tcp_connect(o->port);
    char body[S_BODY_SIZE];
    memset(body, 'x', sizeof body);
    size_t putlen = 0;
    char put[128];
    putlen = (size_t)snprintf(put, sizeof put, "put 1024 0 60 %d\r\n", S_BODY_SIZE);
    char *chunk = malloc((size_t)o->inflight * (putlen + S_BODY_SIZE + 2));
    zclock_sleep(200);
    long sent = 0;
    int64_t start = s_now_ns();
    while (sent < o->jobs) {
        s_wait_inflight(o, sent);
        long k = o->inflight - (sent - atomic_load(s_done_counter));
        if (k > o->jobs - sent)
            k = o->jobs - sent;
        size_t len = 0;
        for (long i = 0; i < k; i++) {
            memcpy(chunk + len, put, putlen);
            len += putlen;
            memcpy(chunk + len, body, S_BODY_SIZE);
            len += S_BODY_SIZE;
            memcpy(chunk + len, "\r\n", 2);
            len += 2;
        }
        s_write_all(r->fd, chunk, len);
        char line[128];
        for (long i = 0; i < k; i++) {
            s_read_line(r, line, sizeof line);
            if (strncmp(line, "INSERTED", 8) != 0)
                s_die("beanstalkd put: %s", line);
        }
        sent += k;
    }
    while (atomic_load(s_done_counter) < o->jobs)
        usleep(20);
    double secs = (double)(s_now_ns() - start) / 1e9;
    s_stop_workers(SIGKILL);
    s_print_result(o, secs, o->jobs);
    free(chunk);
}

/* ---------------------------------------------------------------- gearmand */

static void *s_gearman_noop(gearman_job_st *job, void *context, size_t *result_size,
                            gearman_return_t *ret_ptr)
{
    (void)job;
    (void)context;
    *result_size = 0;
    *ret_ptr = GEARMAN_SUCCESS;
    atomic_fetch_add(s_done_counter, 1);
    return NULL;
}

static void s_gearman_worker(const s_opts_t *o, int index)
{
    (void)index;
    gearman_worker_st *w = gearman_worker_create(NULL);
    if (!w || gearman_worker_add_server(w, "127.0.0.1", (in_port_t)o->port) != GEARMAN_SUCCESS ||
        gearman_worker_add_function(w, "noop", 0, s_gearman_noop, NULL) != GEARMAN_SUCCESS)
        s_die("gearman worker setup");
    while (true) {
        gearman_return_t rc = gearman_worker_work(w);
        if (rc != GEARMAN_SUCCESS)
            s_die("gearman worker: %s", gearman_worker_error(w));
    }
}

static void s_gearman_throughput(const s_opts_t *o)
{
    for (int i = 0; i < o->workers; i++)
        s_fork_worker(s_gearman_worker, o, i);
    gearman_client_st *c = gearman_client_create(NULL);
    if (!c || gearman_client_add_server(c, "127.0.0.1", (in_port_t)o->port) != GEARMAN_SUCCESS)
        s_die("gearman client setup");
    gearman_client_add_options(c, GEARMAN_CLIENT_FREE_TASKS);
    char body[S_BODY_SIZE];
    memset(body, 'x', sizeof body);
    zclock_sleep(300);
    long sent = 0;
    int64_t start = s_now_ns();
    while (sent < o->jobs) {
        s_wait_inflight(o, sent);
        long k = o->inflight - (sent - atomic_load(s_done_counter));
        if (k > o->jobs - sent)
            k = o->jobs - sent;
        for (long i = 0; i < k; i++) {
            gearman_return_t rc;
            if (!gearman_client_add_task_background(c, NULL, NULL, "noop", NULL, body, sizeof body,
                                                    &rc) ||
                rc != GEARMAN_SUCCESS)
                s_die("gearman add task: %s", gearman_client_error(c));
        }
        if (gearman_client_run_tasks(c) != GEARMAN_SUCCESS)
            s_die("gearman run tasks: %s", gearman_client_error(c));
        sent += k;
    }
    while (atomic_load(s_done_counter) < o->jobs)
        usleep(20);
    double secs = (double)(s_now_ns() - start) / 1e9;
    s_stop_workers(SIGKILL);
    s_print_result(o, secs, o->jobs);
    gearman_client_free(c);
}

/* ---------------------------------------------------------------- raw zmq: the ceiling */

static char s_zmq_dir[64];

/* The broker: jobs from clients (ROUTER) queue in memory and go to workers (ROUTER) that have
 * credit; DONE goes back to the client. No persistence, no bookkeeping: the ceiling. */
static void s_zmq_broker(const s_opts_t *o, int index)
{
    (void)index;
    zsock_t *front = zsock_new_router(NULL), *back = zsock_new_router(NULL);
    zsock_set_sndhwm(front, 0);
    zsock_set_rcvhwm(front, 0);
    zsock_set_sndhwm(back, 0);
    zsock_set_rcvhwm(back, 0);
    zsock_bind(front, "ipc://%s/clients", s_zmq_dir);
    zsock_bind(back, "ipc://%s/workers", s_zmq_dir);
    (void)o;
    zlist_t *queue = zlist_new();
    zframe_t *wid[S_MAX_WORKERS];
    long credit[S_MAX_WORKERS];
    int nw = 0, rr = 0;
    zmq_pollitem_t items[2] = {{zsock_resolve(front), 0, ZMQ_POLLIN, 0},
                               {zsock_resolve(back), 0, ZMQ_POLLIN, 0}};
    while (zmq_poll(items, 2, -1) >= 0) {
        while (zsock_events(front) & ZMQ_POLLIN) {
            zmsg_t *msg = zmsg_recv(front); /* [client][job] */
            zlist_append(queue, msg);
        }
        while (zsock_events(back) & ZMQ_POLLIN) {
            zmsg_t *msg = zmsg_recv(back); /* [worker]["R" credit] or [worker]["D"][client] */
            zframe_t *w = zmsg_pop(msg);
            char *cmd = zmsg_popstr(msg);
            if (cmd && cmd[0] == 'R' && nw < S_MAX_WORKERS) {
                wid[nw] = w;
                credit[nw++] = atol(cmd + 1);
                w = NULL;
            } else if (cmd && cmd[0] == 'D') {
                for (int i = 0; i < nw; i++)
                    if (zframe_eq(wid[i], w))
                        credit[i]++;
                zframe_t *client = zmsg_pop(msg);
                zmsg_t *done = zmsg_new();
                zmsg_append(done, &client);
                zmsg_addstr(done, "D");
                zmsg_send(&done, front);
            }
            free(cmd);
            zframe_destroy(&w);
            zmsg_destroy(&msg);
        }
        for (int spins = 0; zlist_size(queue) && nw && spins < nw;) {
            int i = rr++ % nw;
            if (credit[i] <= 0) {
                spins++;
                continue;
            }
            spins = 0;
            zmsg_t *job = zlist_pop(queue);
            zmsg_pushmem(job, zframe_data(wid[i]), zframe_size(wid[i]));
            credit[i]--;
            zmsg_send(&job, back);
        }
    }
}

static void s_zmq_worker(const s_opts_t *o, int index)
{
    (void)index;
    zsock_t *s = zsock_new(ZMQ_DEALER);
    zsock_set_sndhwm(s, 0);
    zsock_set_rcvhwm(s, 0);
    zsock_connect(s, "ipc://%s/workers", s_zmq_dir);
    zstr_sendf(s, "R%ld", o->capacity);
    while (true) {
        zmsg_t *job = zmsg_recv(s); /* [client][job] */
        if (!job)
            break;
        zframe_t *client = zmsg_pop(job);
        zmsg_t *done = zmsg_new();
        zmsg_addstr(done, "D");
        zmsg_append(done, &client);
        zmsg_send(&done, s);
        zmsg_destroy(&job);
    }
}

static void s_zmq_throughput(const s_opts_t *o)
{
    snprintf(s_zmq_dir, sizeof s_zmq_dir, "/tmp/minga-bench-zmq-%ld", (long)getpid());
    mkdir(s_zmq_dir, 0700);
    s_fork_worker(s_zmq_broker, o, 0);
    zclock_sleep(100);
    for (int i = 0; i < o->workers; i++)
        s_fork_worker(s_zmq_worker, o, i);
    zsock_t *s = zsock_new(ZMQ_DEALER);
    zsock_set_sndhwm(s, 0);
    zsock_set_rcvhwm(s, 0);
    zsock_connect(s, "ipc://%s/clients", s_zmq_dir);
    zclock_sleep(300);
    char body[S_BODY_SIZE];
    memset(body, 'x', sizeof body);
    long sent = 0, done = 0;
    int64_t start = s_now_ns();
    while (done < o->jobs) {
        while (sent < o->jobs && sent - done < o->inflight) {
            zmq_send(zsock_resolve(s), body, sizeof body, 0);
            sent++;
        }
        zmsg_t *msg = zmsg_recv(s);
        zmsg_destroy(&msg);
        done++;
        while (zsock_events(s) & ZMQ_POLLIN) {
            msg = zmsg_recv(s);
            zmsg_destroy(&msg);
            done++;
        }
    }
    double secs = (double)(s_now_ns() - start) / 1e9;
    zsock_destroy(&s);
    s_stop_workers(SIGKILL);
    s_print_result(o, secs, done);
    char path[128];
    snprintf(path, sizeof path, "%s/clients", s_zmq_dir);
    unlink(path);
    snprintf(path, sizeof path, "%s/workers", s_zmq_dir);
    unlink(path);
    rmdir(s_zmq_dir);
}

/* ---------------------------------------------------------------- fsync floor */

/* fsync --store DIR --jobs N: N times a 4 KiB pwrite then fdatasync of a file in DIR, the
 * way LMDB makes a commit durable (it does it twice per commit: data pages, then the meta
 * page). The distribution is the floor under any durable commit on this disk. */
static void s_fsync_floor(const s_opts_t *o)
{
    char path[4096];
    snprintf(path, sizeof path, "%s/fsync-floor.tmp", o->store);
    int fd = open(path, O_CREAT | O_TRUNC | O_WRONLY, 0600);
    if (fd < 0)
        s_die("open %s: %s", path, strerror(errno));
    long n = o->jobs > 0 ? o->jobs : 1000;
    int64_t *t = calloc((size_t)n, sizeof *t);
    char page[4096];
    memset(page, 'x', sizeof page);
    for (long i = 0; i < n; i++) {
        if (pwrite(fd, page, sizeof page, (off_t)(i % 64) * 4096) != (ssize_t)sizeof page)
            s_die("pwrite %s: %s", path, strerror(errno));
        int64_t a = s_now_ns();
        if (fdatasync(fd) != 0)
            s_die("fdatasync %s: %s", path, strerror(errno));
        t[i] = s_now_ns() - a;
    }
    close(fd);
    unlink(path);
    qsort(t, (size_t)n, sizeof *t, s_cmp_i64);
    printf("{\"mode\":\"fsync\",\"system\":\"disk\",\"n\":%ld,\"p50_ms\":%.3f,"
           "\"p90_ms\":%.3f,\"p99_ms\":%.3f,\"max_ms\":%.3f}\n",
           n, (double)t[n / 2] / 1e6, (double)t[(long)((double)n * 0.9)] / 1e6,
           (double)t[(long)((double)n * 0.99)] / 1e6, (double)t[n - 1] / 1e6);
    free(t);
}

/* ---------------------------------------------------------------- main */

static void s_usage(void)
{
    fprintf(stderr, "usage: bench_broker throughput minga|beanstalkd|gearmand|zmq [options]\n"
                    "       bench_broker latency|fill|serve|fsync [options]\n"
                    "options: --store DIR --worker-bin PATH --port P --jobs N --workers W\n"
                    "         --inflight K --capacity C --rate R --seconds S --enqueue-batch B\n"
                    "         --clients-ep EP --workers-ep EP --events-ep EP --curve on|off\n"
                    "         --broker-key FILE --cert FILE --worker-cert FILE\n");
    exit(2);
}

/* Checks the tcp options and points the client API (STATS, WORKERS) at the tcp endpoint. */
static void s_net_setup(void)
{
    minga_curve_init(&s_net.c);
    if (!s_net.clients)
        return;
    if (!s_net.workers || !s_net.events || !s_net.curve)
        s_usage();
    s_net.c.enabled = strcmp(s_net.curve, "on") == 0;
    if (s_net.c.enabled && (!s_net.broker_key || !s_net.cert || !s_net.worker_cert))
        s_usage();
    s_net.c.broker_key = s_net.broker_key ? strdup(s_net.broker_key) : NULL;
    s_net.c.cert = s_net.cert ? strdup(s_net.cert) : NULL;
    if (minga_client_set_defaults(s_net.clients, &s_net.c) != 0)
        s_die("out of memory");
}

static void s_parse(s_opts_t *o, int argc, char **argv)
{
    static const struct {
        const char *name;
        size_t offset;
    } longs[] = {
        {"--jobs", offsetof(s_opts_t, jobs)},
        {"--workers", offsetof(s_opts_t, workers)},
        {"--inflight", offsetof(s_opts_t, inflight)},
        {"--capacity", offsetof(s_opts_t, capacity)},
        {"--port", offsetof(s_opts_t, port)},
        {"--rate", offsetof(s_opts_t, rate)},
        {"--seconds", offsetof(s_opts_t, seconds)},
        {"--enqueue-batch", offsetof(s_opts_t, enqueue_batch)},
    };
    if (argc < 2)
        s_usage();
    o->mode = argv[1];
    int i = 2;
    if (strcmp(o->mode, "throughput") == 0) {
        if (argc < 3)
            s_usage();
        o->system = argv[2];
        i = 3;
    } else {
        o->system = "minga";
    }
    for (; i < argc; i++) {
        if (i + 1 >= argc)
            s_usage();
        if (strcmp(argv[i], "--store") == 0) {
            o->store = argv[++i];
            continue;
        }
        if (strcmp(argv[i], "--done-by") == 0) {
            o->done_by = argv[++i];
            continue;
        }
        if (strcmp(argv[i], "--worker-bin") == 0) {
            o->worker_bin = argv[++i];
            continue;
        }
        static const struct {
            const char *name;
            const char **dst;
        } strs[] = {
            {"--clients-ep", &s_net.clients},      {"--workers-ep", &s_net.workers},
            {"--events-ep", &s_net.events},        {"--curve", &s_net.curve},
            {"--broker-key", &s_net.broker_key},   {"--cert", &s_net.cert},
            {"--worker-cert", &s_net.worker_cert},
        };
        size_t j = 0;
        while (j < sizeof strs / sizeof strs[0] && strcmp(strs[j].name, argv[i]) != 0)
            j++;
        if (j < sizeof strs / sizeof strs[0]) {
            *strs[j].dst = argv[++i];
            continue;
        }
        size_t k = 0;
        while (k < sizeof longs / sizeof longs[0] && strcmp(longs[k].name, argv[i]) != 0)
            k++;
        if (k == sizeof longs / sizeof longs[0])
            s_usage();
        *(long *)((char *)o + longs[k].offset) = atol(argv[++i]);
    }
    if (o->workers > S_MAX_WORKERS)
        o->workers = S_MAX_WORKERS;
    s_net_setup();
}

int main(int argc, char **argv)
{
    s_opts_t o = {NULL, NULL, NULL, NULL, "events", 100000, 2, 1000, 1, 0, 5000, 10, 1};
    s_parse(&o, argc, argv);
    signal(SIGPIPE, SIG_IGN);
    s_done_counter = mmap(NULL, sizeof *s_done_counter, PROT_READ | PROT_WRITE,
                          MAP_SHARED | MAP_ANONYMOUS, -1, 0);
    atomic_store(s_done_counter, 0);
    bool is_minga = strcmp(o.system, "minga") == 0;
    bool no_worker = strcmp(o.mode, "fill") == 0 || strcmp(o.mode, "fsync") == 0;
    if (is_minga && (!o.store || (!no_worker && !o.worker_bin)))
        s_usage();
    if (strcmp(o.mode, "throughput") == 0) {
        if (is_minga)
            s_minga_throughput(&o);
        else if (strcmp(o.system, "beanstalkd") == 0)
            s_beanstalk_throughput(&o);
        else if (strcmp(o.system, "gearmand") == 0)
            s_gearman_throughput(&o);
        else if (strcmp(o.system, "zmq") == 0)
            s_zmq_throughput(&o);
        else
            s_usage();
    } else if (strcmp(o.mode, "latency") == 0) {
        s_minga_latency(&o);
    } else if (strcmp(o.mode, "fill") == 0) {
        s_minga_fill(&o);
    } else if (strcmp(o.mode, "serve") == 0) {
        s_minga_serve(&o);
    } else if (strcmp(o.mode, "fsync") == 0) {
        s_fsync_floor(&o);
    } else {
        s_usage();
    }
    return 0;
}
