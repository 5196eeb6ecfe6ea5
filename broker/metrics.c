/*
 * metrics.c: the broker's Prometheus text metrics over HTTP (metrics.h).
 *
 * Two threads, one boundary:
 *  - the broker loop owns every counter and histogram here (the bk_metrics_on_* hooks) and
 *    renders them, with the broker's queues, workers and store use, into a text buffer;
 *  - libmicrohttpd's thread only copies the last rendered buffer, under lock.
 * A request bumps `asked` (atomic) and waits up to S_WAIT_MS on the condition variable for
 * the loop to publish a snapshot rendered after it asked, so that what a client reads right
 * after its jobs ended already counts them; the loop also renders every S_EVERY_MS.
 */
#include "metrics.h"

#include "broker_int.h"

#include "minga/error.h"
#include "minga/log.h"

#include <arpa/inet.h>
#include <errno.h>
#include <inttypes.h>
#include <limits.h>
#include <microhttpd.h>
#include <netdb.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#define S_EVERY_MS 250
#define S_WAIT_MS 300
#define S_MAX_BUCKETS 16

typedef struct {
    const double *le; /* upper bounds, ascending */
    size_t n;
    uint64_t count[S_MAX_BUCKETS]; /* per bucket, not cumulative */
    uint64_t total;
    double sum;
} s_hist_t;

static const double s_latency_le[] = {0.001, 0.005, 0.01, 0.05, 0.1, 0.5, 1, 5, 10, 60, 300};
static const double s_commit_le[] = {0.0001, 0.00025, 0.0005, 0.001, 0.0025, 0.005,
                                     0.01,   0.025,   0.05,   0.1,   0.25,   1};
static const double s_batch_le[] = {1, 2, 4, 8, 16, 32, 64, 128, 256, 512, 1024, 4096};

struct bk_metrics_t {
    /* HTTP side */
    struct MHD_Daemon *mhd;
    int fd;
    char addr[INET6_ADDRSTRLEN + 16];
    char *file; /* STORE/run/metrics */
    pthread_mutex_t lock;
    pthread_cond_t cond;
    char *snap; /* under lock */
    size_t snap_len;
    uint64_t served; /* under lock: the last request number the snapshot answers */
    atomic_uint_fast64_t asked;
    /* loop side */
    uint64_t last_render;
    uint64_t *t0; /* per job slab index: ready since (queued) or leased at (leased), ms */
    size_t t0cap;
    uint64_t enqueued[BK_MAX_TYPES], leased[BK_MAX_TYPES], ended[BK_MAX_TYPES][3];
    s_hist_t queue_latency, commit_seconds, commit_size;
};

/* ---- HTTP thread ---- */

/* Copies a snapshot rendered after this request (or the last one after S_WAIT_MS). */
static char *s_copy_snapshot(bk_metrics_t *self, size_t *len)
{
    uint64_t want = atomic_fetch_add(&self->asked, 1) + 1;
    struct timespec until;
    clock_gettime(CLOCK_REALTIME, &until);
    until.tv_nsec += S_WAIT_MS * 1000000L;
    until.tv_sec += until.tv_nsec / 1000000000L;
    until.tv_nsec %= 1000000000L;
    pthread_mutex_lock(&self->lock);
    while (self->served < want)
        if (pthread_cond_timedwait(&self->cond, &self->lock, &until) == ETIMEDOUT)
            break;
    char *copy = malloc(self->snap_len + 1);
    if (copy) {
        if (self->snap_len)
            memcpy(copy, self->snap, self->snap_len);
        copy[self->snap_len] = '\0';
        *len = self->snap_len;
    }
    pthread_mutex_unlock(&self->lock);
    return copy;
}

static enum MHD_Result s_reply_text(struct MHD_Connection *c, unsigned status, char *text,
                                    size_t len, const char *ctype)
{
    struct MHD_Response *r = MHD_create_response_from_buffer(len, text, MHD_RESPMEM_MUST_FREE);
    if (!r) {
        free(text);
        return MHD_NO;
    }
    MHD_add_response_header(r, "Content-Type", ctype);
    enum MHD_Result ret = MHD_queue_response(c, status, r);
    MHD_destroy_response(r);
    return ret;
}

static enum MHD_Result s_handle(void *cls, struct MHD_Connection *c, const char *url,
                                const char *method, const char *version, const char *upload,
                                size_t *upload_size, void **con_cls)
{
    (void)version;
    (void)upload;
    (void)con_cls;
    bk_metrics_t *self = cls;
    if (*upload_size) { /* a body is not expected: ignore it */
        *upload_size = 0;
        return MHD_YES;
    }
    bool get = strcmp(method, "GET") == 0 || strcmp(method, "HEAD") == 0;
    if (!get)
        return s_reply_text(c, MHD_HTTP_METHOD_NOT_ALLOWED, strdup("method not allowed\n"), 19,
                            "text/plain; charset=utf-8");
    if (strcmp(url, "/metrics") != 0)
        return s_reply_text(c, MHD_HTTP_NOT_FOUND, strdup("not found: try /metrics\n"), 24,
                            "text/plain; charset=utf-8");
    size_t len = 0;
    char *text = s_copy_snapshot(self, &len);
    if (!text)
        return MHD_NO;
    return s_reply_text(c, MHD_HTTP_OK, text, len, "text/plain; version=0.0.4; charset=utf-8");
}

/* ---- binding ---- */

/* Splits "host:port" or "[v6]:port" into host and port. 0, or MINGA_EINVAL. */
static int s_split(const char *addr, char *host, size_t hcap, char *port, size_t pcap)
{
    const char *colon;
    if (addr[0] == '[') {
        const char *end = strchr(addr, ']');
        if (!end || end[1] != ':')
            return MINGA_EINVAL;
        snprintf(host, hcap, "%.*s", (int)(end - addr - 1), addr + 1);
        colon = end + 1;
    } else {
        colon = strrchr(addr, ':');
        if (!colon || colon == addr)
            return MINGA_EINVAL;
        snprintf(host, hcap, "%.*s", (int)(colon - addr), addr);
    }
    if (!colon[1] || strspn(colon + 1, "0123456789") != strlen(colon + 1) ||
        strtoul(colon + 1, NULL, 10) > 65535)
        return MINGA_EINVAL;
    snprintf(port, pcap, "%s", colon + 1);
    return 0;
}

/* A listening socket on host:port; -errno on failure. */
static int s_listen(const char *host, const char *port)
{
    struct addrinfo hints = {.ai_family = AF_UNSPEC,
                             .ai_socktype = SOCK_STREAM,
                             .ai_flags = AI_PASSIVE | AI_NUMERICSERV};
    struct addrinfo *res = NULL;
    int rc = getaddrinfo(host, port, &hints, &res);
    if (rc != 0)
        return rc == EAI_SYSTEM ? -errno : -EADDRNOTAVAIL;
    int fd = socket(res->ai_family, res->ai_socktype | SOCK_CLOEXEC, res->ai_protocol);
    int one = 1;
    if (fd < 0)
        rc = -errno;
    else if (setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one) != 0 ||
             bind(fd, res->ai_addr, res->ai_addrlen) != 0 || listen(fd, 64) != 0) {
        rc = -errno;
        close(fd);
        fd = -1;
    }
    freeaddrinfo(res);
    return fd >= 0 ? fd : rc;
}

/* What fd is bound to, as "host:port" or "[v6]:port". */
static void s_bound(int fd, char *dst, size_t cap)
{
    struct sockaddr_storage ss;
    socklen_t len = sizeof ss;
    char host[INET6_ADDRSTRLEN], port[8];
    if (getsockname(fd, (struct sockaddr *)&ss, &len) != 0 ||
        getnameinfo((struct sockaddr *)&ss, len, host, sizeof host, port, sizeof port,
                    NI_NUMERICHOST | NI_NUMERICSERV) != 0) {
        snprintf(dst, cap, "?");
        return;
    }
    snprintf(dst, cap, ss.ss_family == AF_INET6 ? "[%s]:%s" : "%s:%s", host, port);
}

/* Binds addr; the default address falls back to a free port when its own is taken. */
static int s_bind(const char *addr)
{
    char host[256], port[8];
    if (s_split(addr, host, sizeof host, port, sizeof port) != 0) {
        minga_error("--metrics %s: not an address (host:port, [v6]:port or off)", addr);
        return MINGA_EINVAL;
    }
    int fd = s_listen(host, port);
    if (fd == -EADDRINUSE && strcmp(addr, BK_METRICS_DEFAULT) == 0) {
        minga_warn("metrics: %s is taken (another broker?): taking a free port on %s", addr, host);
        fd = s_listen(host, "0");
    }
    if (fd < 0)
        minga_error("metrics: cannot listen on %s: %s", addr, strerror(-fd));
    return fd;
}

/* Writes the bound address to self->file (a temporary file renamed over it). */
static int s_write_file(bk_metrics_t *self)
{
    char tmp[PATH_MAX + 8];
    snprintf(tmp, sizeof tmp, "%s.tmp", self->file);
    FILE *f = fopen(tmp, "w");
    if (!f || fprintf(f, "%s\n", self->addr) < 0 || fclose(f) != 0 || rename(tmp, self->file)) {
        minga_error("metrics: cannot write %s: %s", self->file, strerror(errno));
        return MINGA_EIO;
    }
    return 0;
}

int bk_metrics_new(bk_metrics_t **self_p, const char *addr, const char *run_dir)
{
    bk_metrics_t *self = calloc(1, sizeof *self);
    *self_p = NULL;
    if (!self)
        return MINGA_ENOMEM;
    self->fd = -1;
    pthread_mutex_init(&self->lock, NULL);
    pthread_cond_init(&self->cond, NULL);
    atomic_init(&self->asked, 0);
    self->queue_latency.le = s_latency_le;
    self->queue_latency.n = sizeof s_latency_le / sizeof *s_latency_le;
    self->commit_seconds.le = s_commit_le;
    self->commit_seconds.n = sizeof s_commit_le / sizeof *s_commit_le;
    self->commit_size.le = s_batch_le;
    self->commit_size.n = sizeof s_batch_le / sizeof *s_batch_le;
    *self_p = self;
    if (!addr || strcmp(addr, "off") == 0)
        return 0;
    int rc = MINGA_ENOMEM;
    if (asprintf(&self->file, "%s/metrics", run_dir) < 0) {
        self->file = NULL;
        goto fail;
    }
    if ((self->fd = s_bind(addr)) < 0) {
        rc = self->fd == MINGA_EINVAL ? MINGA_EINVAL : MINGA_EIO;
        self->fd = -1;
        goto fail;
    }
    s_bound(self->fd, self->addr, sizeof self->addr);
    self->mhd = MHD_start_daemon(MHD_USE_INTERNAL_POLLING_THREAD | MHD_USE_ERROR_LOG, 0, NULL, NULL,
                                 s_handle, self, MHD_OPTION_LISTEN_SOCKET, self->fd,
                                 MHD_OPTION_CONNECTION_LIMIT, 64u, MHD_OPTION_CONNECTION_TIMEOUT,
                                 10u, MHD_OPTION_END);
    if (!self->mhd) {
        minga_error("metrics: cannot start the HTTP server on %s", self->addr);
        rc = MINGA_EIO;
        goto fail;
    }
    if ((rc = s_write_file(self)) != 0)
        goto fail;
    minga_info("metrics: http://%s/metrics (address in %s)", self->addr, self->file);
    return 0;
fail:
    bk_metrics_destroy(self_p);
    return rc;
}

void bk_metrics_destroy(bk_metrics_t **self_p)
{
    bk_metrics_t *self = *self_p;
    if (!self)
        return;
    if (self->mhd) {
        MHD_stop_daemon(self->mhd);
        unlink(self->file);
    }
    if (self->fd >= 0)
        close(self->fd);
    pthread_mutex_destroy(&self->lock);
    pthread_cond_destroy(&self->cond);
    free(self->snap);
    free(self->file);
    free(self->t0);
    free(self);
    *self_p = NULL;
}

const char *bk_metrics_address(const bk_metrics_t *self)
{
    return self ? self->addr : "";
}

/* ---- hooks (broker loop) ---- */

static void s_observe(s_hist_t *h, double v)
{
    size_t i = 0;
    while (i < h->n && v > h->le[i])
        i++;
    h->count[i]++;
    h->total++;
    h->sum += v;
}

/* The start time slot of job idx, grown on demand; NULL when out of memory. */
static uint64_t *s_t0(bk_metrics_t *self, uint32_t idx)
{
    if (idx >= self->t0cap) {
        size_t ncap = self->t0cap ? self->t0cap : 1024;
        while (ncap <= idx)
            ncap *= 2;
        uint64_t *nv = realloc(self->t0, ncap * sizeof *nv);
        if (!nv)
            return NULL;
        memset(nv + self->t0cap, 0, (ncap - self->t0cap) * sizeof *nv);
        self->t0 = nv;
        self->t0cap = ncap;
    }
    return &self->t0[idx];
}

void bk_metrics_on_ready(broker_t *self, uint32_t idx)
{
    uint64_t *t0 = self->metrics ? s_t0(self->metrics, idx) : NULL;
    if (t0)
        *t0 = self->now;
}

void bk_metrics_on_lease(broker_t *self, uint32_t idx, uint64_t since_ms)
{
    bk_metrics_t *m = self->metrics;
    if (!m)
        return;
    const bx_job_t *j = BX_JOB(&self->jobs, idx);
    uint64_t *t0 = s_t0(m, idx);
    uint64_t since = since_ms;
    if (!since) {
        since = t0 && *t0 ? *t0 : self->now;
        if (j->due > since) /* a delayed job waits from its not-before time */
            since = j->due;
    }
    s_observe(&m->queue_latency, self->now > since ? (double)(self->now - since) / 1000.0 : 0.0);
    m->leased[j->type]++;
    if (t0)
        *t0 = self->now;
}

void bk_metrics_on_enqueue(broker_t *self, const char *type)
{
    int t = self->metrics ? bk_type_find(self, type, strlen(type)) : -1;
    if (t >= 0)
        self->metrics->enqueued[t]++;
}

void bk_metrics_on_end(broker_t *self, uint32_t idx, int st)
{
    if (!self->metrics)
        return;
    int k = st == MINGA_JOB_DONE ? 0 : st == MINGA_JOB_DEAD ? 1 : 2;
    self->metrics->ended[BX_JOB(&self->jobs, idx)->type][k]++;
}

uint64_t bk_metrics_clock(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (uint64_t)ts.tv_sec * 1000000000u + (uint64_t)ts.tv_nsec;
}

void bk_metrics_on_commit(broker_t *self, uint64_t t0, uint64_t n)
{
    if (!self->metrics)
        return;
    s_observe(&self->metrics->commit_seconds, (double)(bk_metrics_clock() - t0) / 1e9);
    s_observe(&self->metrics->commit_size, (double)n);
}

/* ---- rendering (broker loop) ---- */

static void s_family(FILE *f, const char *name, const char *type, const char *help)
{
    fprintf(f, "# HELP %s %s\n# TYPE %s %s\n", name, help, name, type);
}

/* A label value with \, " and newline escaped (type names are plain, but stay safe). */
static void s_label(FILE *f, const char *v)
{
    for (; *v; v++) {
        if (*v == '\\' || *v == '"')
            fprintf(f, "\\%c", *v);
        else if (*v == '\n')
            fputs("\\n", f);
        else
            fputc(*v, f);
    }
}

static void s_hist(FILE *f, const char *name, const char *help, const s_hist_t *h)
{
    s_family(f, name, "histogram", help);
    uint64_t cum = 0;
    for (size_t i = 0; i < h->n; i++) {
        cum += h->count[i];
        fprintf(f, "%s_bucket{le=\"%g\"} %" PRIu64 "\n", name, h->le[i], cum);
    }
    fprintf(f, "%s_bucket{le=\"+Inf\"} %" PRIu64 "\n", name, h->total);
    fprintf(f, "%s_sum %.9g\n%s_count %" PRIu64 "\n", name, h->sum, name, h->total);
}

static void s_render_jobs(broker_t *self, FILE *f)
{
    static const minga_job_state_t active[] = {MINGA_JOB_WAITING, MINGA_JOB_QUEUED,
                                               MINGA_JOB_LEASED, MINGA_JOB_FAILED};
    static const char *const ends[] = {"done", "dead", "cancelled"};
    bk_metrics_t *m = self->metrics;
    s_family(f, "minga_jobs", "gauge", "Jobs not ended, by type and state.");
    for (size_t t = 0; t < self->ntypes; t++)
        for (size_t s = 0; s < 4; s++) {
            fputs("minga_jobs{type=\"", f);
            s_label(f, self->types[t].name);
            fprintf(f, "\",state=\"%s\"} %" PRIu64 "\n", minga_job_state_name(active[s]),
                    self->types[t].count[active[s]]);
        }
    s_family(f, "minga_jobs_ended_total", "counter",
             "Jobs that ended since the broker started, by type and end state.");
    for (size_t t = 0; t < self->ntypes; t++)
        for (size_t s = 0; s < 3; s++) {
            fputs("minga_jobs_ended_total{type=\"", f);
            s_label(f, self->types[t].name);
            fprintf(f, "\",state=\"%s\"} %" PRIu64 "\n", ends[s], m->ended[t][s]);
        }
    s_family(f, "minga_jobs_enqueued_total", "counter", "New jobs stored, by type.");
    for (size_t t = 0; t < self->ntypes; t++) {
        fputs("minga_jobs_enqueued_total{type=\"", f);
        s_label(f, self->types[t].name);
        fprintf(f, "\"} %" PRIu64 "\n", m->enqueued[t]);
    }
    s_family(f, "minga_jobs_leased_total", "counter",
             "Leases given to workers (dequeues), by type.");
    for (size_t t = 0; t < self->ntypes; t++) {
        fputs("minga_jobs_leased_total{type=\"", f);
        s_label(f, self->types[t].name);
        fprintf(f, "\"} %" PRIu64 "\n", m->leased[t]);
    }
}

static void s_render_totals(broker_t *self, FILE *f)
{
    const bk_totals_t *t = &self->totals;
    s_family(f, "minga_job_events_total", "counter",
             "Retries and hand-backs since the broker started: failed (a retry is due or the "
             "job died), released (handed back, attempt not counted), expired (lease ended), "
             "purged (ended jobs removed after the retention).");
    fprintf(f, "minga_job_events_total{event=\"failed\"} %" PRIu64 "\n", t->failed);
    fprintf(f, "minga_job_events_total{event=\"released\"} %" PRIu64 "\n", t->released);
    fprintf(f, "minga_job_events_total{event=\"expired\"} %" PRIu64 "\n", t->expired);
    fprintf(f, "minga_job_events_total{event=\"purged\"} %" PRIu64 "\n", t->purged);
    s_family(f, "minga_bad_messages_total", "counter", "Malformed messages received.");
    fprintf(f, "minga_bad_messages_total %u\n", self->bad_messages);
}

static void s_render_leases(broker_t *self, FILE *f)
{
    bk_metrics_t *m = self->metrics;
    uint64_t oldest = 0;
    for (uint32_t i = 0; i < self->leases.n; i++) {
        uint32_t idx = self->leases.a[i];
        if (idx < m->t0cap && m->t0[idx] && self->now - m->t0[idx] > oldest)
            oldest = self->now - m->t0[idx];
    }
    s_family(f, "minga_leases", "gauge", "Jobs leased to workers now.");
    fprintf(f, "minga_leases %" PRIu32 "\n", self->leases.n);
    s_family(f, "minga_lease_oldest_age_seconds", "gauge",
             "Age of the oldest lease held now (0 when none).");
    fprintf(f, "minga_lease_oldest_age_seconds %.3f\n", (double)oldest / 1000.0);
    s_hist(f, "minga_queue_latency_seconds",
           "Time from enqueue (or from when a job became due again) to its lease.",
           &m->queue_latency);
}

static void s_render_workers(broker_t *self, FILE *f)
{
    uint64_t n = 0, cap = 0, held = 0;
    for (size_t i = 0; i < self->wslots.n; i++) {
        const bk_worker_t *w = self->wslots.v[i];
        if (w)
            n++, cap += w->capacity, held += w->held;
    }
    s_family(f, "minga_workers", "gauge", "Workers connected.");
    fprintf(f, "minga_workers %" PRIu64 "\n", n);
    s_family(f, "minga_workers_capacity", "gauge", "Jobs the connected workers may hold.");
    fprintf(f, "minga_workers_capacity %" PRIu64 "\n", cap);
    s_family(f, "minga_workers_held", "gauge", "Jobs the connected workers hold.");
    fprintf(f, "minga_workers_held %" PRIu64 "\n", held);
}

static void s_render_io(broker_t *self, FILE *f)
{
    s_family(f, "minga_worker_bytes_received_total", "counter",
             "Bytes of all frames received on the workers socket.");
    fprintf(f, "minga_worker_bytes_received_total %" PRIu64 "\n", self->wbytes_in);
    s_family(f, "minga_worker_bytes_sent_total", "counter",
             "Bytes of all frames sent on the workers socket.");
    fprintf(f, "minga_worker_bytes_sent_total %" PRIu64 "\n", self->wbytes_out);
    s_family(f, "minga_fetches_total", "counter",
             "FETCH requests of workers: answered with a parent's result (fetched) or refused.");
    fprintf(f, "minga_fetches_total{outcome=\"fetched\"} %" PRIu64 "\n", self->fetched);
    fprintf(f, "minga_fetches_total{outcome=\"refused\"} %" PRIu64 "\n", self->fetch_refused);
    s_family(f, "minga_fetched_bytes_total", "counter", "Bytes of the FETCHED answers' bodies.");
    fprintf(f, "minga_fetched_bytes_total %" PRIu64 "\n", self->fetched_bytes);
}

static void s_render_store(broker_t *self, FILE *f)
{
    minga_store_info_t info;
    bk_store_info(self, &info);
    s_family(f, "minga_store_used_bytes", "gauge", "Bytes of the LMDB map in use.");
    fprintf(f, "minga_store_used_bytes %" PRIu64 "\n", info.used_bytes);
    s_family(f, "minga_store_map_size_bytes", "gauge", "Size of the LMDB map.");
    fprintf(f, "minga_store_map_size_bytes %zu\n", info.map_size);
    s_hist(f, "minga_commit_seconds", "Latency of the broker's group commits.",
           &self->metrics->commit_seconds);
    s_hist(f, "minga_commit_batch_size", "Changes (new jobs and state changes) per group commit.",
           &self->metrics->commit_size);
    s_family(f, "minga_uptime_seconds", "gauge", "Seconds since the broker started.");
    fprintf(f, "minga_uptime_seconds %.3f\n", (double)(self->now - self->started_at) / 1000.0);
}

void bk_metrics_tick(broker_t *self)
{
    bk_metrics_t *m = self->metrics;
    if (!m || !m->mhd)
        return;
    uint64_t asked = atomic_load(&m->asked);
    if (asked == m->served && self->now - m->last_render < S_EVERY_MS)
        return;
    m->last_render = self->now;
    char *text = NULL;
    size_t len = 0;
    FILE *f = open_memstream(&text, &len);
    if (!f)
        return;
    s_render_jobs(self, f);
    s_render_totals(self, f);
    s_render_leases(self, f);
    s_render_workers(self, f);
    s_render_io(self, f);
    s_render_store(self, f);
    if (fclose(f) != 0) {
        free(text);
        return;
    }
    pthread_mutex_lock(&m->lock);
    free(m->snap);
    m->snap = text;
    m->snap_len = len;
    m->served = asked;
    pthread_cond_broadcast(&m->cond);
    pthread_mutex_unlock(&m->lock);
}
