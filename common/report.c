/*
 * report.c: producing an event's reports (report.h) — read the data once, compute the
 * figures, write each file of the formats asked into STORE/reports/EVENT/, record them in
 * MINGA_DB_REPORT — and reading those records back.
 *
 * The agendas, most of the work, are written by a few threads at once (s_write_agendas).
 *
 * Steps and progress: 1 (reading) + 4 CSV files + 1 HTML + one per agenda + 1 grid + 1
 * (recording); the total is known after reading.
 */
#include "minga/report.h"

#include "minga/error.h"
#include "minga/pdf.h"
#include "minga/proto.h"
#include "minga/report_data.h"

#include <dirent.h>
#include <pthread.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

typedef struct {
    minga_report_progress_fn *fn;
    void *arg;
    uint64_t done, total;
    uint64_t base; /* done before the agendas began */
} s_progress_t;

static void s_step(s_progress_t *p, const char *text)
{
    p->done++;
    if (p->fn)
        p->fn(p->done, p->total, text, p->arg);
}

static uint64_t s_ms(void)
{
    struct timespec t;
    clock_gettime(CLOCK_MONOTONIC, &t);
    return (uint64_t)t.tv_sec * 1000 + (uint64_t)t.tv_nsec / 1000000;
}

static int s_mkdir(const char *path)
{
    return mkdir(path, 0755) == 0 || errno == EEXIST ? 0 : -errno;
}

/* Appends a file to res. */
static int s_add(minga_report_result_t *res, const char *kind, const char *path, size_t files)
{
    minga_report_file_t *g = realloc(res->files, (res->nfiles + 1) * sizeof *g);
    if (!g)
        return MINGA_ENOMEM;
    res->files = g;
    minga_report_file_t *f = &res->files[res->nfiles];
    memset(f, 0, sizeof *f);
    snprintf(f->kind, sizeof f->kind, "%s", kind);
    f->path = strdup(path);
    if (!f->path)
        return MINGA_ENOMEM;
    f->files = files;
    struct stat st;
    if (files == 1 && stat(path, &st) == 0)
        f->bytes = (uint64_t)st.st_size;
    res->nfiles++;
    return 0;
}

static int s_fail(int rc, const char *what, const char *path, char *err, size_t errcap)
{
    snprintf(err, errcap, "%s %s: %s", what, path, minga_strerror(rc));
    return rc;
}

typedef int(s_csv_fn)(minga_store_t *store, const minga_report_data_t *d,
                      const minga_report_figures_t *f, const char *path);

static int s_meetings(minga_store_t *s, const minga_report_data_t *d,
                      const minga_report_figures_t *f, const char *path)
{
    (void)s;
    (void)f;
    return minga_report_write_meetings_csv(d, path);
}

static int s_candidates(minga_store_t *s, const minga_report_data_t *d,
                        const minga_report_figures_t *f, const char *path)
{
    (void)f;
    return minga_report_write_candidates_csv(s, d, path);
}

static int s_agendas(minga_store_t *s, const minga_report_data_t *d,
                     const minga_report_figures_t *f, const char *path)
{
    (void)s;
    (void)f;
    return minga_report_write_agendas_csv(d, path);
}

static int s_gap(minga_store_t *s, const minga_report_data_t *d, const minga_report_figures_t *f,
                 const char *path)
{
    (void)s;
    return minga_report_write_gap_csv(d, f, path);
}

static const struct {
    const char *name;
    s_csv_fn *fn;
} s_csvs[] = {
    {"reuniones.csv", s_meetings},
    {"candidatos.csv", s_candidates},
    {"agendas.csv", s_agendas},
    {"brecha.csv", s_gap},
};

typedef struct {
    minga_store_t *store;
    const minga_report_data_t *d;
    const minga_report_figures_t *f;
    minga_report_result_t *res;
    s_progress_t *progress;
    char *err;
    size_t errcap;
} s_run_t;

static int s_write_csv(s_run_t *r)
{
    uint64_t t0 = s_ms();
    for (size_t i = 0; i < sizeof s_csvs / sizeof s_csvs[0]; i++) {
        char path[4096];
        snprintf(path, sizeof path, "%s/%s", r->res->dir, s_csvs[i].name);
        int rc = s_csvs[i].fn(r->store, r->d, r->f, path);
        if (rc)
            return s_fail(rc, "cannot write", path, r->err, r->errcap);
        if ((rc = s_add(r->res, s_csvs[i].name, path, 1)) != 0)
            return rc;
        s_step(r->progress, s_csvs[i].name);
    }
    r->res->csv_ms = s_ms() - t0;
    return 0;
}

static int s_write_html(s_run_t *r)
{
    uint64_t t0 = s_ms();
    char path[4096];
    snprintf(path, sizeof path, "%s/informe.html", r->res->dir);
    int rc = minga_report_write_html(r->d, r->f, path);
    if (rc)
        return s_fail(rc, "cannot write", path, r->err, r->errcap);
    s_step(r->progress, "informe.html");
    r->res->html_ms = s_ms() - t0;
    return s_add(r->res, "informe.html", path, 1);
}

/* Removes the agendas of parties that are no longer participants. */
static void s_prune(const minga_report_data_t *d, const char *dir)
{
    DIR *dh = opendir(dir);
    struct dirent *e;
    while (dh && (e = readdir(dh))) {
        size_t n = strlen(e->d_name);
        if (n < 5 || strcmp(e->d_name + n - 4, ".pdf") != 0)
            continue;
        bool keep = false;
        for (size_t p = 0; p < d->nparts && !keep; p++)
            keep = strlen(d->parts[p]->party) == n - 4 &&
                   strncmp(d->parts[p]->party, e->d_name, n - 4) == 0;
        if (!keep) {
            char path[4400];
            snprintf(path, sizeof path, "%s/%s", dir, e->d_name);
            unlink(path);
        }
    }
    if (dh)
        closedir(dh);
}

/* The agendas are written by a few threads of this worker: each takes the next participant
 * until none is left; only the calling thread reports progress (the task's rule). */
typedef struct {
    const minga_report_data_t *d;
    const char *dir;
    size_t next, done; /* atomics */
    pthread_mutex_t lock;
    int rc; /* the first failure, with its path */
    char failed[4400];
} s_pool_t;

/* Writes agendas until none is left; returns after the calling thread's last one. */
static void s_pool_work(s_pool_t *pool, s_progress_t *progress)
{
    for (;;) {
        size_t p = __atomic_fetch_add(&pool->next, 1, __ATOMIC_RELAXED);
        if (p >= pool->d->nparts)
            break;
        char path[4400];
        snprintf(path, sizeof path, "%s/%s.pdf", pool->dir, pool->d->parts[p]->party);
        int rc = minga_pdf_agenda(pool->d, p, path);
        pthread_mutex_lock(&pool->lock);
        if (rc && !pool->rc) {
            pool->rc = rc;
            snprintf(pool->failed, sizeof pool->failed, "%s", path);
            __atomic_store_n(&pool->next, pool->d->nparts, __ATOMIC_RELAXED); /* stop all */
        }
        size_t done = ++pool->done;
        pthread_mutex_unlock(&pool->lock);
        if (progress && progress->fn) {
            progress->done = progress->base + done;
            progress->fn(progress->done, progress->total, "agendas en PDF", progress->arg);
        }
    }
}

static void *s_pool_thread(void *arg)
{
    s_pool_work(arg, NULL);
    minga_pdf_release_thread();
    return NULL;
}

/* Threads for the agendas: MINGA_REPORT_THREADS, else the processors online, at most 4. */
static unsigned s_threads(size_t jobs)
{
    const char *env = getenv("MINGA_REPORT_THREADS");
    long n = env && *env ? strtol(env, NULL, 10) : sysconf(_SC_NPROCESSORS_ONLN);
    n = n < 1 ? 1 : n > 4 && !(env && *env) ? 4 : n > 64 ? 64 : n;
    return (unsigned)((size_t)n < jobs ? (size_t)n : jobs ? jobs : 1);
}

static int s_write_agendas(s_run_t *r, const char *dir, uint64_t *bytes)
{
    s_pool_t pool = {.d = r->d, .dir = dir};
    pthread_mutex_init(&pool.lock, NULL);
    unsigned n = s_threads(r->d->nparts), started = 0;
    pthread_t tid[64];
    r->progress->base = r->progress->done;
    for (unsigned i = 1; i < n; i++)
        if (pthread_create(&tid[started], NULL, s_pool_thread, &pool) == 0)
            started++;
    s_pool_work(&pool, r->progress);
    for (unsigned i = 0; i < started; i++)
        pthread_join(tid[i], NULL);
    pthread_mutex_destroy(&pool.lock);
    r->res->threads = started + 1;
    if (pool.rc)
        return s_fail(pool.rc, "cannot write the agenda", pool.failed, r->err, r->errcap);
    r->progress->done = r->progress->base + r->d->nparts;
    for (size_t p = 0; p < r->d->nparts; p++) {
        char path[4400];
        struct stat st;
        snprintf(path, sizeof path, "%s/%s.pdf", dir, r->d->parts[p]->party);
        *bytes += stat(path, &st) == 0 ? (uint64_t)st.st_size : 0;
    }
    return 0;
}

static int s_write_pdf(s_run_t *r)
{
    uint64_t t0 = s_ms(), bytes = 0;
    char dir[4096], path[4400];
    snprintf(dir, sizeof dir, "%s/agendas", r->res->dir);
    int rc = s_mkdir(dir);
    if (rc)
        return s_fail(rc, "cannot create the directory", dir, r->err, r->errcap);
    if ((rc = s_write_agendas(r, dir, &bytes)) != 0)
        return rc;
    r->res->agendas_ms = s_ms() - t0;
    s_prune(r->d, dir);
    if ((rc = s_add(r->res, "agendas", dir, r->d->nparts)) != 0)
        return rc;
    r->res->files[r->res->nfiles - 1].bytes = bytes;
    snprintf(path, sizeof path, "%s/grilla.pdf", r->res->dir);
    if ((rc = minga_pdf_grid(r->d, path, NULL)) != 0)
        return s_fail(rc, "cannot write the grid", path, r->err, r->errcap);
    s_step(r->progress, "grilla.pdf");
    minga_pdf_release_thread();
    r->res->pdf_ms = s_ms() - t0;
    r->res->grid_ms = r->res->pdf_ms - r->res->agendas_ms;
    return s_add(r->res, "grilla.pdf", path, 1);
}

/* ---- the records ---- */

typedef struct {
    const char *event;
    const minga_report_result_t *res;
    uint64_t job, now;
    unsigned formats;
    MDB_dbi dbi;
} s_record_t;

static int s_key(uint8_t key[2 * MINGA_KEY_ID], const char *event, const char *kind)
{
    int rc = minga_key_id(key, event);
    return rc ? rc : minga_key_id(key + MINGA_KEY_ID, kind);
}

static int s_record_write(MDB_txn *txn, void *arg)
{
    s_record_t *r = arg;
    int rc = 0;
    for (size_t i = 0; rc == 0 && i < r->res->nfiles; i++) {
        const minga_report_file_t *f = &r->res->files[i];
        char formats[32];
        minga_pbuf_t b;
        minga_pbuf_init(&b);
        msgpack_pack_map(&b.pk, 9);
        minga_pk_kv_uint(&b.pk, "v", MINGA_REPORT_VERSION);
        minga_pk_kv_str(&b.pk, "event", r->event);
        minga_pk_kv_str(&b.pk, "kind", f->kind);
        minga_pk_kv_str(&b.pk, "path", f->path);
        minga_pk_kv_uint(&b.pk, "files", f->files);
        minga_pk_kv_uint(&b.pk, "bytes", f->bytes);
        minga_pk_kv_uint(&b.pk, "created_at", r->now);
        minga_pk_kv_uint(&b.pk, "job", r->job);
        minga_pk_kv_str(&b.pk, "formats",
                        minga_report_formats_text(r->formats, formats, sizeof formats));
        uint8_t key[2 * MINGA_KEY_ID];
        rc = s_key(key, r->event, f->kind);
        MDB_val k = {sizeof key, key}, v = {b.sbuf.size, b.sbuf.data};
        if (rc == 0)
            rc = mdb_put(txn, r->dbi, &k, &v, 0);
        minga_pbuf_clear(&b);
    }
    return rc;
}

static int s_record(minga_store_t *store, const char *event, unsigned formats, uint64_t job,
                    const minga_report_result_t *res)
{
    s_record_t r = {event,          res,     job,
                    minga_now_ms(), formats, minga_store_dbi(store, MINGA_DB_REPORT)};
    return minga_store_write(store, s_record_write, &r);
}

int minga_report_event(minga_store_t *store, const char *event, unsigned formats, uint64_t job,
                       minga_report_progress_fn *progress, void *arg, minga_report_result_t *res,
                       char *err, size_t errcap)
{
    memset(res, 0, sizeof *res);
    *err = '\0';
    if (!(formats & MINGA_REPORT_ALL) || (formats & ~MINGA_REPORT_ALL)) {
        snprintf(err, errcap, "no report format asked (csv, html, pdf)");
        return MINGA_EINVAL;
    }
    s_progress_t pg = {progress, arg, 0, 2, 0};
    if (progress)
        progress(0, pg.total, "leyendo los datos del evento", arg);
    minga_report_data_t d;
    minga_report_figures_t f;
    memset(&f, 0, sizeof f);
    uint64_t t0 = s_ms();
    int rc = minga_report_data_load(&d, store, event, err, errcap);
    if (rc)
        return rc;
    res->read_ms = s_ms() - t0;
    pg.total = 2 + (formats & MINGA_REPORT_CSV ? 4 : 0) + (formats & MINGA_REPORT_HTML ? 1 : 0) +
               (formats & MINGA_REPORT_PDF ? d.nparts + 1 : 0);
    s_step(&pg, "datos leídos");
    char dir[4096];
    snprintf(dir, sizeof dir, "%s/reports", minga_store_realpath(store));
    if ((rc = s_mkdir(dir)) != 0) {
        s_fail(rc, "cannot create the directory", dir, err, errcap);
        goto done;
    }
    snprintf(dir + strlen(dir), sizeof dir - strlen(dir), "/%s", event);
    if ((rc = s_mkdir(dir)) != 0) {
        s_fail(rc, "cannot create the directory", dir, err, errcap);
        goto done;
    }
    res->dir = strdup(dir);
    if (!res->dir || (rc = minga_report_figures(&d, &f)) != 0) {
        rc = MINGA_ENOMEM;
        goto done;
    }
    res->meetings = d.nmeetings;
    res->participants = d.nparts;
    res->gap = f.gap.uncovered;
    s_run_t r = {store, &d, &f, res, &pg, err, errcap};
    if (formats & MINGA_REPORT_CSV)
        rc = s_write_csv(&r);
    if (rc == 0 && (formats & MINGA_REPORT_HTML))
        rc = s_write_html(&r);
    if (rc == 0 && (formats & MINGA_REPORT_PDF))
        rc = s_write_pdf(&r);
    if (rc == 0 && (rc = s_record(store, event, formats, job, res)) != 0)
        snprintf(err, errcap,
                 "the reports of %s were written but cannot be recorded in the "
                 "store: %s",
                 event, minga_strerror(rc));
    if (rc == 0)
        s_step(&pg, "informes registrados");
done:
    if (rc && !*err)
        snprintf(err, errcap, "reports of %s: %s", event, minga_strerror(rc));
    minga_report_figures_clear(&f);
    minga_report_data_clear(&d);
    if (rc)
        minga_report_result_clear(res);
    return rc;
}

void minga_report_result_clear(minga_report_result_t *res)
{
    for (size_t i = 0; i < res->nfiles; i++)
        free(res->files[i].path);
    free(res->files);
    free(res->dir);
    memset(res, 0, sizeof *res);
}

int minga_report_records_each(minga_store_t *store, const char *event, minga_report_record_fn *fn,
                              void *arg)
{
    uint8_t prefix[MINGA_KEY_ID];
    if (!event || minga_key_id(prefix, event) != 0)
        return MINGA_EINVAL;
    MDB_txn *txn = NULL;
    MDB_cursor *cur = NULL;
    int rc = minga_store_read_begin(store, &txn);
    if (rc == 0)
        rc = mdb_cursor_open(txn, minga_store_dbi(store, MINGA_DB_REPORT), &cur);
    MDB_val k = {MINGA_KEY_ID, prefix}, v;
    for (rc = rc ? rc : mdb_cursor_get(cur, &k, &v, MDB_SET_RANGE); rc == 0;
         rc = mdb_cursor_get(cur, &k, &v, MDB_NEXT)) {
        if (k.mv_size < MINGA_KEY_ID || memcmp(k.mv_data, prefix, MINGA_KEY_ID) != 0)
            break;
        msgpack_unpacked up;
        msgpack_unpacked_init(&up);
        msgpack_object *root = NULL;
        char why[256];
        if (minga_proto_body_decode(v.mv_data, v.mv_size, &up, &root, why, sizeof why) != 0 ||
            root->type != MSGPACK_OBJECT_MAP) {
            msgpack_unpacked_destroy(&up);
            rc = MINGA_EFORMAT;
            break;
        }
        char *kind = minga_pobj_strdup(minga_pobj_get(root, "kind"));
        char *path = minga_pobj_strdup(minga_pobj_get(root, "path"));
        minga_report_record_t rec = {event,
                                     kind ? kind : "",
                                     path ? path : "",
                                     minga_pobj_uint(minga_pobj_get(root, "files"), 0),
                                     minga_pobj_uint(minga_pobj_get(root, "bytes"), 0),
                                     minga_pobj_uint(minga_pobj_get(root, "created_at"), 0),
                                     minga_pobj_uint(minga_pobj_get(root, "job"), 0)};
        rc = fn(&rec, arg);
        free(kind);
        free(path);
        msgpack_unpacked_destroy(&up);
        if (rc)
            break;
    }
    if (rc == MDB_NOTFOUND)
        rc = 0;
    if (cur)
        mdb_cursor_close(cur);
    if (txn)
        mdb_txn_abort(txn);
    return rc;
}

int minga_report_jobspec(const char *event, unsigned formats, minga_jobspec_t *spec)
{
    char text[32];
    minga_pbuf_t b;
    minga_pbuf_init(&b);
    msgpack_pack_map(&b.pk, 2);
    minga_pk_kv_str(&b.pk, "event", event);
    minga_pk_kv_str(&b.pk, "formats", minga_report_formats_text(formats, text, sizeof text));
    spec->type = strdup("report.event");
    spec->lease_ms = 600000;
    spec->body = malloc(b.sbuf.size);
    if (spec->body)
        memcpy(spec->body, b.sbuf.data, b.sbuf.size);
    spec->body_len = b.sbuf.size;
    minga_pbuf_clear(&b);
    return spec->type && spec->body ? 0 : MINGA_ENOMEM;
}

int minga_report_summary_print(FILE *out, const uint8_t *result, size_t len)
{
    msgpack_unpacked up;
    msgpack_unpacked_init(&up);
    msgpack_object *root = NULL;
    char why[128];
    int rc = MINGA_EFORMAT;
    if (!result || minga_proto_body_decode(result, len, &up, &root, why, sizeof why) != 0 ||
        root->type != MSGPACK_OBJECT_MAP)
        goto done;
    const msgpack_object *files = minga_pobj_get(root, "files");
    char *dir = minga_pobj_strdup(minga_pobj_get(root, "dir"));
    if (!dir || !files || files->type != MSGPACK_OBJECT_ARRAY) {
        free(dir);
        goto done;
    }
    fprintf(out,
            "Informes en %s: %llu reuniones, %llu participantes, %llu demandas sin oferta "
            "(brecha)\n",
            dir, (unsigned long long)minga_pobj_uint(minga_pobj_get(root, "meetings"), 0),
            (unsigned long long)minga_pobj_uint(minga_pobj_get(root, "participants"), 0),
            (unsigned long long)minga_pobj_uint(minga_pobj_get(root, "gap"), 0));
    for (uint32_t i = 0; i < files->via.array.size; i++) {
        size_t n;
        const char *p = minga_pobj_str(&files->via.array.ptr[i], &n);
        if (p)
            fprintf(out, "  %.*s\n", (int)n, p);
    }
    free(dir);
    rc = 0;
done:
    msgpack_unpacked_destroy(&up);
    return rc;
}
