/*
 * match_schedule.c: the match worker's match.schedule handler — schedules (or re-schedules)
 * one event from the shared store (schedule_store.h) and returns the summary as its result.
 *
 * Body of a match.schedule job (a msgpack map; `minga rueda schedule|reschedule|run` write it):
 *   event       str   the event's id (required)
 *   reschedule  bool  keep the meetings standing that are still valid, fill the holes only
 *                     (default false: a whole new timetable)
 *   method      str   "flow" (default) or "greedy" (the baseline, for comparisons)
 * Result: the map of minga_schedule_report_pack(). Failures: a bad body or a missing event
 * end the job at once (bad_body, not_found), a full store too (store_full); anything else is
 * retried.
 */
#include "match_schedule.h"

#include "minga/error.h"
#include "minga/log.h"
#include "minga/proto.h"
#include "minga/schedule_store.h"

#include <stdlib.h>
#include <string.h>

static void s_progress(uint64_t done, uint64_t total, const char *text, void *arg)
{
    minga_task_progress(arg, done, total, text);
}

static const char *s_parse(const msgpack_object *root, char **event, minga_schedule_opts_t *opts,
                           char *err, size_t errcap)
{
    static const minga_pfield_t fields[] = {
        {"event", MINGA_PF_STR, true, 1, MINGA_KEY_ID},
        {"reschedule", MINGA_PF_BOOL, false, 0, 0},
        {"method", MINGA_PF_STR, false, 1, 16},
    };
    const msgpack_object *v[3];
    if (minga_pfields(root, fields, 3, v, false, err, errcap) != 0)
        return err;
    *event = minga_pobj_strdup(v[0]);
    if (!*event)
        return "out of memory";
    if (!minga_id_valid(*event))
        return "event: not a valid id";
    opts->reschedule = minga_pobj_bool(v[1], false);
    opts->method = MINGA_SCHED_FLOW;
    if (v[2] && minga_pobj_str_eq(v[2], "greedy"))
        opts->method = MINGA_SCHED_GREEDY;
    else if (v[2] && !minga_pobj_str_eq(v[2], "flow"))
        return "method: must be \"flow\" or \"greedy\"";
    return NULL;
}

int minga_match_schedule_handler(minga_task_t *task, void *arg)
{
    const char *store_dir = arg;
    size_t len;
    const uint8_t *body = minga_task_body(task, &len);
    msgpack_unpacked up;
    msgpack_unpacked_init(&up);
    msgpack_object *root = NULL;
    char err[512] = "", *event = NULL;
    minga_schedule_opts_t opts = {false, MINGA_SCHED_FLOW};
    const char *bad = NULL;
    int rc = MINGA_EFORMAT;
    if (minga_proto_body_decode(body, len, &up, &root, err, sizeof err) != 0)
        bad = err;
    else
        bad = s_parse(root, &event, &opts, err, sizeof err);
    if (bad) {
        minga_task_fail(task, false, "bad_body", "match.schedule: %s", bad);
        goto done;
    }
    minga_store_t *store = NULL;
    if ((rc = minga_store_open(&store, store_dir, 0)) != 0) {
        minga_task_fail(task, true, "store", "cannot open the store %s: %s", store_dir,
                        minga_strerror(rc));
        goto done;
    }
    minga_schedule_report_t rep;
    rc = minga_schedule_run(store, event, &opts, s_progress, task, &rep, err, sizeof err);
    minga_store_destroy(&store);
    if (rc == 0) {
        minga_pbuf_t b;
        minga_pbuf_init(&b);
        minga_schedule_report_pack(&rep, &b.pk);
        minga_task_set_result(task, (const uint8_t *)b.sbuf.data, b.sbuf.size);
        minga_pbuf_clear(&b);
        minga_info("match.schedule %s%s: %llu meetings, score %llu, %zu GADs below minimum "
                   "(read %llu ms, solve %llu ms, store %llu ms)",
                   event, opts.reschedule ? " (reschedule)" : "",
                   (unsigned long long)rep.summary.meetings,
                   (unsigned long long)rep.summary.total_score, rep.nbelow,
                   (unsigned long long)rep.read_ms, (unsigned long long)rep.solve_ms,
                   (unsigned long long)rep.store_ms);
        minga_schedule_report_clear(&rep);
    } else if (rc == MINGA_ENOTFOUND || rc == MINGA_EINVAL) {
        minga_task_fail(task, false, rc == MINGA_ENOTFOUND ? "not_found" : "bad_event", "%s", err);
    } else if (rc == MINGA_EMAPFULL) {
        minga_task_fail(task, false, "store_full", "the store is full: %s", err);
    } else {
        minga_task_fail(task, true, "schedule_error", "%s", err);
    }
done:
    free(event);
    msgpack_unpacked_destroy(&up);
    return rc;
}
