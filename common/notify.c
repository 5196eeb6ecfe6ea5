/*
 * notify.c: a notify run (notify.h) — the outbox's state machine in motion.
 *
 *   step                              transaction           outbox transition
 *   s_prepare (per batch of parties)  one write txn         (none)/changed -> pending (new
 *                                                           version, Message-ID and bytes
 *                                                           stored); older pending -> failed
 *                                                           "superseded"; no address -> failed
 *   s_deliver (per pending message)   none while sending    -
 *   s_settle (per outcome)            one write txn         pending -> sent | failed, or
 *                                                           pending (error, attempts) kept
 *
 * A kill anywhere leaves every message either settled or pending with its bytes: the next
 * run sends the pending ones as stored (same Message-ID), never a settled one.
 */
#include "minga/notify.h"

#include "minga/error.h"
#include "minga/log.h"
#include "minga/mail.h"
#include "minga/meeting.h"
#include "minga/outbox.h"
#include "minga/proto.h"

#include <errno.h>
#include <inttypes.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#define S_BATCH 32 /* parties rendered per write transaction */

/* ---- the parties of the job ---- */

typedef struct {
    char **ids;
    size_t n;
    const minga_notify_job_t *job;
    size_t pos;
    int rc;
} s_parties_t;

static int s_party_cb(const minga_agenda_party_t *p, void *arg)
{
    s_parties_t *ps = arg;
    size_t pos = ps->pos++;
    if (ps->job->party && strcmp(ps->job->party, p->party) != 0)
        return 0;
    if (!ps->job->party && ps->job->shards > 1 && pos % ps->job->shards != ps->job->shard)
        return 0;
    char **ids = realloc(ps->ids, (ps->n + 1) * sizeof *ids);
    if (!ids || !(ids[ps->n] = strdup(p->party))) {
        if (ids)
            ps->ids = ids;
        return MINGA_ENOMEM;
    }
    ps->ids = ids;
    ps->n++;
    return 0;
}

static void s_parties_free(s_parties_t *ps)
{
    for (size_t i = 0; i < ps->n; i++)
        free(ps->ids[i]);
    free(ps->ids);
}

/* ---- one message of the batch ---- */

typedef struct {
    char *party;
    minga_agenda_t agenda;
    bool loaded;
    /* decided by s_prepare */
    bool send; /* a pending version to send */
    uint32_t version;
    char *message_id, *to;
    uint8_t *message;
    size_t message_len;
    bool made; /* a new version was made in this run */
    bool failed_now;
    /* dry run */
    char *eml;
    size_t eml_len;
} s_msg_t;

static void s_msg_reset(s_msg_t *m)
{
    free(m->message_id);
    free(m->to);
    free(m->message);
    free(m->eml);
    m->message_id = m->to = m->eml = NULL;
    m->message = NULL;
    m->send = m->made = m->failed_now = false;
    m->version = 0;
}

typedef struct {
    minga_store_t *store;
    const minga_notify_job_t *job;
    s_msg_t *msgs;
    size_t n;
    uint64_t now;
    char *err;
    size_t errcap;
    /* progress per message: the batch's first position in the run, and the run's size */
    size_t at, total;
    minga_notify_progress_fn *progress;
    void *arg;
} s_batch_t;

static void s_progress(s_batch_t *b, size_t done, const minga_notify_result_t *res)
{
    if (!b->progress)
        return;
    char text[128];
    snprintf(text, sizeof text, "%zu enviados, %zu sin cambios, %zu fallidos%s", res->sent,
             res->unchanged, res->failed, b->job->dry_run ? " (simulación)" : "");
    b->progress(b->at + done, b->total, text, b->arg);
}

/* Renders m's agenda over latest (NULL: none) as version, into a whole message. */
static int s_render_message(s_batch_t *b, s_msg_t *m, const minga_outbox_t *latest,
                            uint32_t version, minga_notify_content_t *c, char **out,
                            size_t *out_len, char *msgid, size_t idcap)
{
    const minga_smtp_config_t *smtp = b->job->smtp;
    int rc =
        minga_notify_render(&m->agenda, latest ? latest->items : NULL,
                            latest ? latest->items_len : 0, version, (int64_t)(b->now / 1000), c);
    if (rc)
        return rc;
    minga_notify_message_id(msgid, idcap, b->job->event, m->party, version, smtp->domain);
    if (!c->to || !minga_mail_addr_valid(c->to))
        return 0; /* no message: the caller records the failure */
    char ver[16];
    snprintf(ver, sizeof ver, "%u", version);
    const char *extra[] = {
        "X-Minga-Event", b->job->event, "X-Minga-Party", m->party, "X-Minga-Version", ver, NULL};
    minga_mail_part_t ics = {"agenda.ics", "text/calendar; charset=UTF-8; method=PUBLISH", c->ics,
                             strlen(c->ics)};
    minga_mail_t mail = {
        .from_name = smtp->from_name,
        .from_addr = smtp->from,
        .to_name = c->name,
        .to_addr = c->to,
        .subject = c->subject,
        .message_id = msgid,
        .date = (int64_t)(b->now / 1000),
        .date_tz = m->agenda.event.timezone && *m->agenda.event.timezone ? m->agenda.event.timezone
                                                                         : "America/Guayaquil",
        .text = c->text,
        .html = c->html,
        .attach = &ics,
        .extra = extra,
    };
    return minga_mail_render(&mail, out, out_len);
}

/* Decides and records one party's version in txn. */
static int s_prepare_one(s_batch_t *b, MDB_txn *txn, s_msg_t *m)
{
    minga_outbox_t latest, rec;
    memset(&rec, 0, sizeof rec);
    int rc =
        minga_outbox_latest(b->store, txn, b->job->event, m->party, MINGA_OUTBOX_AGENDA, &latest);
    bool have = rc == 0;
    if (rc && rc != MINGA_ENOTFOUND)
        return rc;
    uint32_t version = have ? latest.version + 1 : 1;
    minga_notify_content_t c;
    char *bytes = NULL, msgid[400];
    size_t len = 0;
    rc = s_render_message(b, m, have ? &latest : NULL, version, &c, &bytes, &len, msgid,
                          sizeof msgid);
    if (rc)
        goto done;
    if (have && latest.hash == c.hash) {
        /* unchanged: a pending one goes out again as stored, a settled one stays */
        m->version = latest.version;
        if (latest.state == MINGA_OUTBOX_PENDING && latest.message) {
            m->send = true;
            m->message_id = latest.message_id;
            m->to = latest.to;
            m->message = latest.message;
            m->message_len = latest.message_len;
            latest.message_id = latest.to = NULL;
            latest.message = NULL;
        }
        goto done;
    }
    if (have && latest.state == MINGA_OUTBOX_PENDING) {
        char why[64];
        snprintf(why, sizeof why, "superseded by v%u", version);
        free(latest.error);
        latest.error = strdup(why);
        latest.state = MINGA_OUTBOX_FAILED;
        latest.updated_at = b->now;
        if ((rc = minga_outbox_put(b->store, txn, &latest)) != 0)
            goto done;
    }
    snprintf(rec.event, sizeof rec.event, "%s", b->job->event);
    snprintf(rec.party, sizeof rec.party, "%s", m->party);
    rec.kind = MINGA_OUTBOX_AGENDA;
    rec.version = version;
    rec.hash = c.hash;
    rec.created_at = rec.updated_at = b->now;
    rec.message_id = strdup(msgid);
    rec.to = c.to ? strdup(c.to) : NULL;
    rec.items = c.packed, rec.items_len = c.packed_len;
    c.packed = NULL;
    if (!bytes) {
        rec.state = MINGA_OUTBOX_FAILED;
        rec.error = strdup(!c.to ? "sin dirección de correo"
                                 : "dirección de correo no válida (o remitente no válido)");
        m->failed_now = true;
    } else {
        rec.state = MINGA_OUTBOX_PENDING;
        rec.message = (uint8_t *)bytes, rec.message_len = len;
        bytes = NULL;
        m->send = true;
        m->message_id = strdup(msgid);
        m->to = strdup(c.to);
        m->message = malloc(rec.message_len);
        if (m->message)
            memcpy(m->message, rec.message, rec.message_len);
        m->message_len = rec.message_len;
        if (!m->message_id || !m->to || !m->message)
            rc = MINGA_ENOMEM;
    }
    m->version = version;
    m->made = true;
    if (rc == 0)
        rc = minga_outbox_put(b->store, txn, &rec);
done:
    free(bytes);
    minga_notify_content_clear(&c);
    minga_outbox_clear(&rec);
    if (have)
        minga_outbox_clear(&latest);
    return rc;
}

static int s_prepare_fn(MDB_txn *txn, void *arg)
{
    s_batch_t *b = arg;
    for (size_t i = 0; i < b->n; i++)
        s_msg_reset(&b->msgs[i]);
    for (size_t i = 0; i < b->n; i++) {
        int rc = s_prepare_one(b, txn, &b->msgs[i]);
        if (rc) {
            snprintf(b->err, b->errcap, "notify %s: party %s: %s", b->job->event, b->msgs[i].party,
                     minga_strerror(rc));
            return rc;
        }
    }
    return 0;
}

/* Dry run: the version a real run would use, the message written to DIR/PARTY-vN.eml. */
static int s_dry_one(s_batch_t *b, MDB_txn *txn, s_msg_t *m, minga_notify_result_t *res)
{
    minga_outbox_t latest;
    int rc =
        minga_outbox_latest(b->store, txn, b->job->event, m->party, MINGA_OUTBOX_AGENDA, &latest);
    bool have = rc == 0;
    if (rc && rc != MINGA_ENOTFOUND)
        return rc;
    minga_notify_content_t c;
    char *bytes = NULL, msgid[400];
    size_t len = 0;
    uint32_t version = have ? latest.version + 1 : 1;
    rc = s_render_message(b, m, have ? &latest : NULL, version, &c, &bytes, &len, msgid,
                          sizeof msgid);
    if (rc == 0 && have && latest.hash == c.hash) {
        /* unchanged: render it again as the latest version it is */
        free(bytes), bytes = NULL;
        minga_notify_content_clear(&c);
        version = latest.version;
        rc = s_render_message(b, m, &latest, version, &c, &bytes, &len, msgid, sizeof msgid);
    }
    if (rc == 0 && !bytes) {
        res->failed++;
        minga_warn("notify %s: party %s: %s, nothing written", b->job->event, m->party,
                   c.to ? "not a valid e-mail address" : "no e-mail address");
    } else if (rc == 0) {
        char path[4096];
        snprintf(path, sizeof path, "%s/%s-v%u.eml", b->job->dry_run, m->party, version);
        FILE *f = fopen(path, "wb");
        if (!f || fwrite(bytes, 1, len, f) != len) {
            rc = -errno;
            snprintf(b->err, b->errcap, "%s: %s", path, strerror(errno));
        }
        if (f && fclose(f) != 0 && rc == 0) {
            rc = -errno;
            snprintf(b->err, b->errcap, "%s: %s", path, strerror(errno));
        }
        if (rc == 0)
            res->written++;
    }
    free(bytes);
    minga_notify_content_clear(&c);
    if (have)
        minga_outbox_clear(&latest);
    return rc;
}

/* ---- delivery ---- */

typedef struct {
    minga_store_t *store;
    const char *event, *party;
    uint32_t version;
    const char *message_id;
    const minga_smtp_result_t *res;
    unsigned tries;
    uint64_t now;
    bool settled; /* out: the record moved to sent or failed */
} s_settle_t;

static int s_settle_fn(MDB_txn *txn, void *arg)
{
    s_settle_t *s = arg;
    s->settled = false;
    minga_outbox_t r;
    int rc =
        minga_outbox_get(s->store, txn, s->event, s->party, MINGA_OUTBOX_AGENDA, s->version, &r);
    if (rc)
        return rc == MINGA_ENOTFOUND ? 0 : rc;
    if (r.state != MINGA_OUTBOX_PENDING || !r.message_id ||
        strcmp(r.message_id, s->message_id) != 0) {
        minga_outbox_clear(&r); /* settled meanwhile by another run: keep what it wrote */
        return 0;
    }
    r.attempts += s->tries;
    r.updated_at = s->now;
    if (s->res->outcome == MINGA_SMTP_SENT) {
        r.state = MINGA_OUTBOX_SENT;
        r.sent_at = s->now;
        free(r.reply);
        r.reply = strdup(s->res->reply);
        free(r.error);
        r.error = NULL;
    } else {
        if (s->res->outcome == MINGA_SMTP_PERMANENT)
            r.state = MINGA_OUTBOX_FAILED;
        free(r.error);
        r.error = strdup(s->res->reply);
    }
    s->settled = r.state != MINGA_OUTBOX_PENDING;
    rc = minga_outbox_put(s->store, txn, &r);
    minga_outbox_clear(&r);
    return rc;
}

static void s_sleep_ms(uint64_t ms)
{
    struct timespec ts = {(time_t)(ms / 1000), (long)(ms % 1000) * 1000000L};
    while (nanosleep(&ts, &ts) != 0 && errno == EINTR)
        ;
}

/* Sends m, trying again on temporary errors; settles the outcome. Returns 0, MINGA_ETIMEOUT
 * when the message stays pending (the relay is away), or a store code. */
static int s_deliver(s_batch_t *b, minga_smtp_t *smtp, s_msg_t *m, minga_notify_result_t *res)
{
    const minga_smtp_config_t *cfg = b->job->smtp;
    minga_smtp_result_t out;
    unsigned tries = 0;
    uint64_t wait = cfg->backoff_ms;
    for (;;) {
        int rc = minga_smtp_send(smtp, m->to, (const char *)m->message, m->message_len, &out);
        if (rc)
            return rc;
        tries++;
        if (out.outcome != MINGA_SMTP_TEMPORARY || tries >= cfg->tries)
            break;
        minga_info("notify %s: party %s v%u: temporary error, try %u of %u in %llu ms: %s",
                   b->job->event, m->party, m->version, tries + 1, (unsigned)cfg->tries,
                   (unsigned long long)wait, out.reply);
        s_sleep_ms(wait);
        wait *= 2;
    }
    s_settle_t s = {b->store, b->job->event, m->party,       m->version, m->message_id,
                    &out,     tries,         minga_now_ms(), false};
    int rc = minga_store_write(b->store, s_settle_fn, &s);
    if (rc)
        return rc;
    if (out.outcome == MINGA_SMTP_SENT) {
        res->sent++;
    } else if (out.outcome == MINGA_SMTP_PERMANENT) {
        res->failed++;
        minga_warn("notify %s: party %s v%u refused for good: %s", b->job->event, m->party,
                   m->version, out.reply);
    } else {
        snprintf(res->last_error, sizeof res->last_error, "%s", out.reply);
        return out.outcome == MINGA_SMTP_RELAY ? MINGA_EREJECTED : MINGA_ETIMEOUT;
    }
    return 0;
}

/* ---- the run ---- */

/* mkdir -p path. Returns 0 or -1 with errno set. */
static int s_mkdirs(const char *path)
{
    char buf[4096];
    snprintf(buf, sizeof buf, "%s", path);
    for (char *p = buf + 1; *p; p++) {
        if (*p != '/')
            continue;
        *p = 0;
        if (mkdir(buf, 0755) != 0 && errno != EEXIST)
            return -1;
        *p = '/';
    }
    return mkdir(buf, 0755) != 0 && errno != EEXIST ? -1 : 0;
}

static int s_check_job(const minga_notify_job_t *job, char *err, size_t errcap)
{
    if (!job->event || !minga_id_valid(job->event)) {
        snprintf(err, errcap, "notify: '%s' is not an event id", job->event ? job->event : "");
        return MINGA_EINVAL;
    }
    if (job->party && (strlen(job->party) > MINGA_KEY_ID || !*job->party)) {
        snprintf(err, errcap, "notify: '%s' is not a party id", job->party);
        return MINGA_EINVAL;
    }
    if (!job->dry_run && (!job->smtp->host || !*job->smtp->host)) {
        snprintf(err, errcap, "notify: no SMTP relay configured (smtp/host) and no dry run");
        return MINGA_EINVAL;
    }
    if (job->dry_run && s_mkdirs(job->dry_run) != 0) {
        int e = errno;
        snprintf(err, errcap, "notify: cannot create %s: %s", job->dry_run, strerror(e));
        return -e;
    }
    return minga_smtp_config_check(job->smtp, err, errcap);
}

static int s_run_batch(s_batch_t *b, minga_smtp_t *smtp, minga_notify_result_t *res)
{
    int rc = 0;
    for (size_t i = 0; i < b->n && rc == 0; i++) {
        rc = minga_agenda_load(b->store, b->job->event, b->msgs[i].party, &b->msgs[i].agenda);
        b->msgs[i].loaded = rc == 0;
        if (rc)
            snprintf(b->err, b->errcap, "notify %s: agenda of %s: %s", b->job->event,
                     b->msgs[i].party, minga_strerror(rc));
    }
    if (rc)
        return rc;
    if (b->job->dry_run) {
        MDB_txn *txn;
        if ((rc = minga_store_read_begin(b->store, &txn)) != 0)
            return rc;
        for (size_t i = 0; i < b->n && rc == 0; i++)
            if ((rc = s_dry_one(b, txn, &b->msgs[i], res)) == 0)
                s_progress(b, i + 1, res);
        mdb_txn_abort(txn);
        return rc;
    }
    if ((rc = minga_store_write(b->store, s_prepare_fn, b)) != 0)
        return rc;
    for (size_t i = 0; i < b->n; i++) {
        s_msg_t *m = &b->msgs[i];
        res->versions += m->made;
        res->failed += m->failed_now;
        if (!m->send && !m->failed_now)
            res->unchanged++;
    }
    for (size_t i = 0; i < b->n && rc == 0; i++) {
        if (b->msgs[i].send)
            rc = s_deliver(b, smtp, &b->msgs[i], res);
        if (rc == 0)
            s_progress(b, i + 1, res);
    }
    return rc;
}

int minga_notify_run(minga_store_t *store, const minga_notify_job_t *job,
                     minga_notify_progress_fn *progress, void *arg, minga_notify_result_t *res,
                     char *err, size_t errcap)
{
    memset(res, 0, sizeof *res);
    int rc = s_check_job(job, err, errcap);
    if (rc)
        return rc;
    minga_meeting_summary_t sched;
    rc = minga_meeting_summary(store, NULL, job->event, &sched);
    if (rc == MINGA_ENOTFOUND) {
        minga_event_t ev;
        memset(&ev, 0, sizeof ev);
        bool exists = minga_event_load(store, NULL, job->event, &ev) == 0;
        minga_record_clear(&minga_rtype_event, &ev);
        snprintf(err, errcap,
                 exists ? "notify: event %s has no timetable yet (minga rueda schedule %s)"
                        : "notify: event %s does not exist",
                 job->event, job->event);
        return exists ? MINGA_ESTATE : MINGA_ENOTFOUND;
    } else if (rc) {
        snprintf(err, errcap, "notify: timetable of %s: %s", job->event, minga_strerror(rc));
        return rc;
    }
    s_parties_t ps = {NULL, 0, job, 0, 0};
    rc = minga_agenda_parties(store, job->event, s_party_cb, &ps);
    if (rc) {
        snprintf(err, errcap,
                 rc == MINGA_ENOTFOUND ? "notify: event %s does not exist"
                                       : "notify: participants of %s: %s",
                 job->event, minga_strerror(rc));
        s_parties_free(&ps);
        return rc;
    }
    if (job->party && ps.n == 0) {
        snprintf(err, errcap, "notify: %s is not a participant of %s", job->party, job->event);
        s_parties_free(&ps);
        return MINGA_ENOTFOUND;
    }
    minga_smtp_t *smtp = NULL;
    if (!job->dry_run && (rc = minga_smtp_new(&smtp, job->smtp)) != 0) {
        s_parties_free(&ps);
        return rc;
    }
    if (smtp && job->rate_file)
        minga_smtp_set_rate_file(smtp, job->rate_file);
    s_msg_t *msgs = calloc(S_BATCH, sizeof *msgs);
    if (!msgs)
        rc = MINGA_ENOMEM;
    res->parties = ps.n;
    for (size_t at = 0; rc == 0 && at < ps.n; at += S_BATCH) {
        s_batch_t b = {store,
                       job,
                       msgs,
                       ps.n - at < S_BATCH ? ps.n - at : S_BATCH,
                       job->now_ms ? job->now_ms : minga_now_ms(),
                       err,
                       errcap,
                       at,
                       ps.n,
                       progress,
                       arg};
        for (size_t i = 0; i < b.n; i++)
            msgs[i].party = ps.ids[at + i];
        rc = s_run_batch(&b, smtp, res);
        for (size_t i = 0; i < b.n; i++) {
            s_msg_reset(&msgs[i]);
            if (msgs[i].loaded)
                minga_agenda_free(&msgs[i].agenda);
            msgs[i].loaded = false;
        }
    }
    if (rc == MINGA_ETIMEOUT || rc == MINGA_EREJECTED) {
        /* count what stays pending: the rest of the run */
        res->pending = ps.n - res->sent - res->unchanged - res->failed;
        snprintf(err, errcap, "notify %s: the relay %s:%u %s: %s", job->event, job->smtp->host,
                 (unsigned)job->smtp->port,
                 rc == MINGA_ETIMEOUT ? "is not accepting mail"
                                      : "refused the session (check the smtp settings)",
                 res->last_error);
    } else if (rc && !err[0]) {
        snprintf(err, errcap, "notify %s: %s", job->event, minga_strerror(rc));
    }
    free(msgs);
    minga_smtp_destroy(&smtp);
    s_parties_free(&ps);
    return rc;
}

/* ---- jobs ---- */

#define S_LEASE_MS 600000
#define S_MAX_ATTEMPTS 20

int minga_notify_jobspec(const char *event, const char *party, unsigned shard, unsigned shards,
                         const char *dry_run, minga_jobspec_t *spec)
{
    minga_pbuf_t pb;
    minga_pbuf_init(&pb);
    msgpack_pack_map(&pb.pk, (party ? 2 : 3) + (dry_run ? 1 : 0));
    minga_pk_kv_str(&pb.pk, "event", event);
    if (party) {
        minga_pk_kv_str(&pb.pk, "party", party);
    } else {
        minga_pk_kv_uint(&pb.pk, "shard", shard);
        minga_pk_kv_uint(&pb.pk, "shards", shards);
    }
    if (dry_run)
        minga_pk_kv_str(&pb.pk, "dry_run", dry_run);
    spec->type = strdup("notify.agenda");
    spec->lease_ms = S_LEASE_MS;
    spec->max_attempts = S_MAX_ATTEMPTS;
    spec->body = malloc(pb.sbuf.size);
    if (spec->body)
        memcpy(spec->body, pb.sbuf.data, pb.sbuf.size);
    spec->body_len = pb.sbuf.size;
    minga_pbuf_clear(&pb);
    return spec->type && spec->body ? 0 : MINGA_ENOMEM;
}

void minga_notify_summary_print(FILE *out, const char *event, const minga_job_t *jobs, size_t n)
{
    uint64_t parties = 0, sent = 0, unchanged = 0, failed = 0, versions = 0, written = 0;
    char dry[4096] = "";
    for (size_t i = 0; i < n; i++) {
        msgpack_unpacked up;
        msgpack_unpacked_init(&up);
        size_t off = 0;
        if (jobs[i].result && minga_mp_validate(jobs[i].result, jobs[i].result_len, 4) == 0 &&
            msgpack_unpack_next(&up, (const char *)jobs[i].result, jobs[i].result_len, &off) ==
                MSGPACK_UNPACK_SUCCESS) {
            const msgpack_object *o = &up.data;
            parties += minga_pobj_uint(minga_pobj_get(o, "parties"), 0);
            sent += minga_pobj_uint(minga_pobj_get(o, "sent"), 0);
            unchanged += minga_pobj_uint(minga_pobj_get(o, "unchanged"), 0);
            failed += minga_pobj_uint(minga_pobj_get(o, "failed"), 0);
            versions += minga_pobj_uint(minga_pobj_get(o, "versions"), 0);
            written += minga_pobj_uint(minga_pobj_get(o, "written"), 0);
            size_t len = 0;
            const char *d = minga_pobj_str(minga_pobj_get(o, "dry_run"), &len);
            if (d && len < sizeof dry)
                snprintf(dry, sizeof dry, "%.*s", (int)len, d);
        }
        msgpack_unpacked_destroy(&up);
    }
    if (dry[0]) {
        fprintf(out,
                "%s: %" PRIu64 " agendas escritas en %s/ (simulación: no hay relé SMTP "
                "configurado, no se envió nada)\n",
                event, written, dry);
        if (failed)
            fprintf(out, "%" PRIu64 " participantes sin dirección de correo válida\n", failed);
        return;
    }
    fprintf(out,
            "%s: %" PRIu64 " participantes: %" PRIu64 " enviados, %" PRIu64 " sin cambios, %" PRIu64
            " fallidos (%" PRIu64 " versiones nuevas)\nVéalos con: minga outbox --event %s\n",
            event, parties, sent, unchanged, failed, versions, event);
}
