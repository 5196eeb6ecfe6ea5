/*
 * notify_worker.c: minga-notify-worker, the worker of `notify.agenda` — the agenda e-mails of
 * an event's participants (all, one, or one shard), delivered exactly once per agenda version
 * through the outbox (notify.h).
 *
 * Body of a notify.agenda job (a msgpack map; `minga notify` and `minga rueda run` write it):
 *   event    str    the event's id (required)
 *   party    str    one participant only (absent: every participant)
 *   shard    uint   this shard's number, 0..shards-1 (default 0)
 *   shards   uint   parties are dealt to shards by their position (default 1)
 *   dry_run  str    a directory: write PARTY-vVERSION.eml files there, send nothing
 * Without a relay (no smtp/host in --config, no --smtp-host) and without dry_run, the worker
 * dry-runs into STORE/mail/EVENT/ and says so in its result.
 * Result: {event, parties, sent, unchanged, failed, pending, versions, written, dry_run}.
 * Failures: a wrong body, an unknown event or one never scheduled ends the job at once
 * (bad_body, not_found, not_scheduled), and so does a relay that refuses the session (login,
 * STARTTLS: smtp_refused; the messages stay pending for the next run); a
 * relay that stays away is retried by the broker (smtp_unavailable), and the retry resumes
 * with the messages left pending; a full store ends it (store_full).
 *
 * Options: the worker runtime's, plus every setting of the section "smtp" as a flag
 * (--smtp-host, --smtp-port, ...: see minga-notify-worker --help), which wins over the file.
 */
#include "minga/error.h"
#include "minga/log.h"
#include "minga/notify.h"
#include "minga/proto.h"
#include "minga/worker.h"

#include <limits.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static const char *s_store_dir;
static minga_smtp_config_t s_smtp;

/* Applies the --smtp-* flags to s_smtp and removes them from argv. Returns 0 or 2. */
static int s_smtp_flags(int *argc, char **argv)
{
    size_t n;
    const minga_cfg_t *table = minga_smtp_config_table(&n);
    int out = 1;
    for (int i = 1; i < *argc; i++) {
        const char *a = argv[i];
        if (strncmp(a, "--smtp-", 7) != 0) {
            argv[out++] = argv[i];
            continue;
        }
        char name[64];
        const char *eq = strchr(a, '='), *value;
        snprintf(name, sizeof name, "%.*s", (int)(eq ? (size_t)(eq - a - 2) : strlen(a + 2)),
                 a + 2);
        const minga_cfg_t *s = minga_config_find_flag(table, n, name);
        if (!s) {
            fprintf(stderr, "minga-notify-worker: usage error: unknown option '%s'\n", a);
            return 2;
        }
        if (eq) {
            value = eq + 1;
        } else if (i + 1 < *argc) {
            value = argv[++i];
        } else {
            fprintf(stderr, "minga-notify-worker: usage error: %s needs a value\n", a);
            return 2;
        }
        char err[256];
        if (minga_config_set(s, &s_smtp, value, err, sizeof err) != 0) {
            fprintf(stderr, "minga-notify-worker: usage error: %s\n", err);
            return 2;
        }
    }
    argv[out] = NULL;
    *argc = out;
    return 0;
}

typedef struct {
    char *event, *party, *dry_run;
    unsigned shard, shards;
} s_body_t;

static const char *s_parse(const msgpack_object *root, s_body_t *b, char *err, size_t errcap)
{
    static const minga_pfield_t fields[] = {
        {"event", MINGA_PF_STR, true, 1, MINGA_KEY_ID},
        {"party", MINGA_PF_STR, false, 1, MINGA_KEY_ID},
        {"shard", MINGA_PF_UINT, false, 0, MINGA_PROTO_MAX_BATCH - 1},
        {"shards", MINGA_PF_UINT, false, 1, MINGA_PROTO_MAX_BATCH},
        {"dry_run", MINGA_PF_STR, false, 1, PATH_MAX - 64},
    };
    const msgpack_object *v[5];
    if (minga_pfields(root, fields, 5, v, false, err, errcap) != 0)
        return err;
    b->event = minga_pobj_strdup(v[0]);
    b->party = minga_pobj_strdup(v[1]);
    b->dry_run = minga_pobj_strdup(v[4]);
    b->shard = (unsigned)minga_pobj_uint(v[2], 0);
    b->shards = (unsigned)minga_pobj_uint(v[3], 1);
    if (!b->event)
        return "out of memory";
    if (!minga_id_valid(b->event))
        return "event: not an event id";
    if (b->shard >= b->shards)
        return "shard must be below shards";
    return NULL;
}

typedef struct {
    minga_task_t *task;
} s_run_t;

static void s_progress(uint64_t done, uint64_t total, const char *text, void *arg)
{
    s_run_t *run = arg;
    minga_task_progress(run->task, done, total, text);
}

static void s_result(minga_task_t *task, const s_body_t *b, const char *dry,
                     const minga_notify_result_t *r)
{
    minga_pbuf_t p;
    minga_pbuf_init(&p);
    msgpack_pack_map(&p.pk, 9);
    minga_pk_kv_str(&p.pk, "event", b->event);
    minga_pk_kv_uint(&p.pk, "parties", r->parties);
    minga_pk_kv_uint(&p.pk, "sent", r->sent);
    minga_pk_kv_uint(&p.pk, "unchanged", r->unchanged);
    minga_pk_kv_uint(&p.pk, "failed", r->failed);
    minga_pk_kv_uint(&p.pk, "pending", r->pending);
    minga_pk_kv_uint(&p.pk, "versions", r->versions);
    minga_pk_kv_uint(&p.pk, "written", r->written);
    if (dry)
        minga_pk_kv_str(&p.pk, "dry_run", dry);
    else
        minga_pk_kv_nil(&p.pk, "dry_run");
    minga_task_set_result(task, (const uint8_t *)p.sbuf.data, p.sbuf.size);
    minga_pbuf_clear(&p);
}

static void s_fail(minga_task_t *task, int rc, const char *err)
{
    if (rc == MINGA_ETIMEOUT)
        minga_task_fail(task, true, "smtp_unavailable", "%s", err);
    else if (rc == MINGA_ENOTFOUND)
        minga_task_fail(task, false, "not_found", "%s", err);
    else if (rc == MINGA_EINVAL)
        minga_task_fail(task, false, "bad_body", "%s", err);
    else if (rc == MINGA_EREJECTED)
        minga_task_fail(task, false, "smtp_refused", "%s", err);
    else if (rc == MINGA_ESTATE)
        minga_task_fail(task, false, "not_scheduled", "%s", err);
    else if (rc == MINGA_EMAPFULL)
        minga_task_fail(task, false, "store_full", "the store is full: %s", err);
    else
        minga_task_fail(task, true, "notify_error", "%s", err);
}

static int s_agenda(minga_task_t *task, void *arg)
{
    (void)arg;
    size_t len;
    const uint8_t *body = minga_task_body(task, &len);
    msgpack_unpacked up;
    msgpack_unpacked_init(&up);
    msgpack_object *root = NULL;
    char err[1024] = "", dry[PATH_MAX] = "";
    s_body_t b;
    memset(&b, 0, sizeof b);
    minga_store_t *store = NULL;
    const char *bad = NULL;
    int rc = MINGA_EFORMAT;
    if (minga_proto_body_decode(body, len, &up, &root, err, sizeof err) != 0)
        bad = err;
    else
        bad = s_parse(root, &b, err, sizeof err);
    if (bad) {
        minga_task_fail(task, false, "bad_body", "notify.agenda: %s", bad);
        goto done;
    }
    if ((rc = minga_store_open(&store, s_store_dir, 0)) != 0) {
        minga_task_fail(task, true, "store", "cannot open the store %s: %s", s_store_dir,
                        minga_strerror(rc));
        goto done;
    }
    if (b.dry_run)
        snprintf(dry, sizeof dry, "%s", b.dry_run);
    else if (!s_smtp.host || !*s_smtp.host)
        snprintf(dry, sizeof dry, "%s/mail/%s", minga_store_realpath(store), b.event);
    char rate[PATH_MAX];
    snprintf(rate, sizeof rate, "%s/run/smtp-%s-%u.rate", minga_store_realpath(store),
             s_smtp.host ? s_smtp.host : "", (unsigned)s_smtp.port);
    minga_notify_job_t job = {b.event, b.party, b.shard, b.shards, dry[0] ? dry : NULL,
                              &s_smtp, rate,    0};
    minga_notify_result_t res;
    s_run_t run = {task};
    rc = minga_notify_run(store, &job, s_progress, &run, &res, err, sizeof err);
    if (rc == 0) {
        s_result(task, &b, dry[0] ? dry : NULL, &res);
        minga_info("notify.agenda %s%s%s shard %u/%u: %zu parties, %zu sent, %zu unchanged, %zu "
                   "failed, %zu new versions%s%s",
                   b.event, b.party ? " party " : "", b.party ? b.party : "", b.shard + 1, b.shards,
                   res.parties, res.sent, res.unchanged, res.failed, res.versions,
                   dry[0] ? ", dry run into " : "", dry);
    } else {
        minga_warn("notify.agenda %s: %s", b.event, err);
        s_fail(task, rc, err);
    }
done:
    minga_store_destroy(&store);
    free(b.event);
    free(b.party);
    free(b.dry_run);
    msgpack_unpacked_destroy(&up);
    return rc;
}

static const minga_handler_t s_handlers[] = {{"notify.agenda", s_agenda, NULL}, {NULL, NULL, NULL}};

int main(int argc, char **argv)
{
    bool help = false;
    for (int i = 1; i < argc; i++)
        help = help || strcmp(argv[i], "--help") == 0 || strcmp(argv[i], "-h") == 0;
    if (help) {
        size_t n;
        const minga_cfg_t *table = minga_smtp_config_table(&n);
        int rc = minga_worker_main("minga-notify-worker", s_handlers, argc, argv);
        printf("\nSMTP relay (section \"smtp\" of --config; the flags win):\n");
        minga_config_print_flags(stdout, table, n);
        return rc;
    }
    s_store_dir = minga_worker_option_peek(argc, argv, "--store");
    if (!s_store_dir)
        s_store_dir = minga_store_default_dir(NULL);
    char err[512];
    if (minga_smtp_config_load(&s_smtp, minga_worker_option_peek(argc, argv, "--config"), err,
                               sizeof err) != 0) {
        fprintf(stderr, "minga-notify-worker: %s\n", err);
        return 2;
    }
    int rc = s_smtp_flags(&argc, argv);
    if (rc == 0 && minga_smtp_config_check(&s_smtp, err, sizeof err) != 0) {
        fprintf(stderr, "minga-notify-worker: %s\n", err);
        rc = 2;
    }
    if (rc == 0)
        rc = minga_worker_main("minga-notify-worker", s_handlers, argc, argv);
    minga_smtp_config_free(&s_smtp);
    return rc;
}
