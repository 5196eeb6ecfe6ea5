/*
 * report_worker.c: minga-report-worker, the worker of `report.event` — an event's reports
 * (CSV, the HTML report, the PDF agendas and the venue grid) written into
 * STORE/reports/EVENT/ and recorded in the store (report.h).
 *
 * Body of a report.event job (a msgpack map; `minga report` and `minga rueda run` write it):
 *   event    str            the event's id (required)
 *   formats  str or [str]   "csv,html,pdf" or ["csv", "pdf"]; absent: all three
 * Result: {event, dir, files: [path...], meetings, participants, gap}.
 * Failures: a wrong body or an event that does not exist end the job at once (bad_body,
 * not_found); a full store too (store_full); anything else (a file that cannot be written)
 * is retried (report_error).
 *
 * The worker shares the store with the broker: it opens the store given by --store (or
 * $MINGA_STORE, or ./minga-data) for each job, in the handler's thread.
 */
#include "minga/error.h"
#include "minga/log.h"
#include "minga/pdf.h"
#include "minga/proto.h"
#include "minga/report.h"
#include "minga/worker.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static const char *s_store_dir;

/* The formats of the body: a string "csv,html" or an array of words. NULL or what is wrong. */
static const char *s_formats(const msgpack_object *o, unsigned *formats, char *err, size_t cap)
{
    *formats = MINGA_REPORT_ALL;
    if (!o)
        return NULL;
    char text[128] = "";
    if (o->type == MSGPACK_OBJECT_STR && o->via.str.size < sizeof text) {
        snprintf(text, sizeof text, "%.*s", (int)o->via.str.size, o->via.str.ptr);
    } else if (o->type == MSGPACK_OBJECT_ARRAY) {
        for (uint32_t i = 0; i < o->via.array.size; i++) {
            const msgpack_object *w = &o->via.array.ptr[i];
            size_t used = strlen(text);
            if (w->type != MSGPACK_OBJECT_STR || used + w->via.str.size + 2 > sizeof text)
                return "formats: each format must be a word (csv, html, pdf)";
            snprintf(text + used, sizeof text - used, "%s%.*s", used ? "," : "",
                     (int)w->via.str.size, w->via.str.ptr);
        }
    } else {
        return "formats: a string \"csv,html,pdf\" or an array of them";
    }
    char why[200];
    if (minga_report_formats_parse(text, formats, why, sizeof why) != 0) {
        snprintf(err, cap, "formats: %s", why);
        return err;
    }
    return NULL;
}

static void s_progress(uint64_t done, uint64_t total, const char *text, void *arg)
{
    minga_task_progress(arg, done, total, text);
}

static void s_result(minga_task_t *task, const char *event, const minga_report_result_t *r)
{
    minga_pbuf_t b;
    minga_pbuf_init(&b);
    msgpack_pack_map(&b.pk, 6);
    minga_pk_kv_str(&b.pk, "event", event);
    minga_pk_kv_str(&b.pk, "dir", r->dir);
    minga_pk_str(&b.pk, "files");
    msgpack_pack_array(&b.pk, (uint32_t)r->nfiles);
    for (size_t i = 0; i < r->nfiles; i++)
        minga_pk_str(&b.pk, r->files[i].path);
    minga_pk_kv_uint(&b.pk, "meetings", r->meetings);
    minga_pk_kv_uint(&b.pk, "participants", r->participants);
    minga_pk_kv_uint(&b.pk, "gap", r->gap);
    minga_task_set_result(task, (const uint8_t *)b.sbuf.data, b.sbuf.size);
    minga_pbuf_clear(&b);
}

static int s_report(minga_task_t *task, void *arg)
{
    (void)arg;
    static const minga_pfield_t fields[] = {
        {"event", MINGA_PF_STR, true, 1, MINGA_KEY_ID},
        {"formats", MINGA_PF_ANY, false, 0, 0},
    };
    size_t len;
    const uint8_t *body = minga_task_body(task, &len);
    msgpack_unpacked up;
    msgpack_unpacked_init(&up);
    msgpack_object *root = NULL;
    const msgpack_object *v[2];
    char err[1024] = "", *event = NULL;
    const char *bad = NULL;
    unsigned formats = 0;
    int rc = MINGA_EFORMAT;
    if (minga_proto_body_decode(body, len, &up, &root, err, sizeof err) != 0 ||
        minga_pfields(root, fields, 2, v, false, err, sizeof err) != 0)
        bad = err;
    else if ((event = minga_pobj_strdup(v[0])) == NULL)
        bad = "out of memory";
    else
        bad = s_formats(v[1], &formats, err, sizeof err);
    if (bad) {
        minga_task_fail(task, false, "bad_body", "report.event: %s", bad);
        goto done;
    }
    minga_store_t *store = NULL;
    if ((rc = minga_store_open(&store, s_store_dir, 0)) != 0) {
        minga_task_fail(task, true, "store", "cannot open the store %s: %s", s_store_dir,
                        minga_strerror(rc));
        goto done;
    }
    minga_report_result_t res;
    rc = minga_report_event(store, event, formats, minga_task_id(task), s_progress, task, &res, err,
                            sizeof err);
    minga_store_destroy(&store);
    if (rc == 0) {
        s_result(task, event, &res);
        minga_info("report.event %s: %zu files in %s (read %llu ms, csv %llu ms, html %llu ms, "
                   "pdf %llu ms: %zu agendas %llu ms, grid %llu ms; %u threads)",
                   event, res.nfiles, res.dir, (unsigned long long)res.read_ms,
                   (unsigned long long)res.csv_ms, (unsigned long long)res.html_ms,
                   (unsigned long long)res.pdf_ms, res.participants,
                   (unsigned long long)res.agendas_ms, (unsigned long long)res.grid_ms,
                   res.threads);
        minga_report_result_clear(&res);
    } else if (rc == MINGA_ENOTFOUND || rc == MINGA_EINVAL) {
        minga_task_fail(task, false, rc == MINGA_ENOTFOUND ? "not_found" : "bad_body", "%s", err);
    } else if (rc == MINGA_EMAPFULL) {
        minga_task_fail(task, false, "store_full", "the store is full: %s", err);
    } else {
        minga_task_fail(task, true, "report_error", "%s", err);
    }
done:
    free(event);
    msgpack_unpacked_destroy(&up);
    return rc;
}

static const minga_handler_t s_handlers[] = {{"report.event", s_report, NULL}, {NULL, NULL, NULL}};

int main(int argc, char **argv)
{
    s_store_dir = minga_worker_option_peek(argc, argv, "--store");
    if (!s_store_dir)
        s_store_dir = minga_store_default_dir(NULL);
    int status = minga_worker_main("minga-report-worker", s_handlers, argc, argv);
    minga_pdf_cleanup();
    return status;
}
