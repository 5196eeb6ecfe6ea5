/*
 * jobview.c: jobs, workers and stats as the command line shows them (jobview.h).
 */
#include "minga/jobview.h"

#include "minga/error.h"

#include <errno.h>
#include <inttypes.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

int minga_jobview_json_line(FILE *out, const json_t *json)
{
    char *text = json_dumps(json, JSON_COMPACT | JSON_ENCODE_ANY);
    if (!text)
        return MINGA_ENOMEM;
    int rc = fprintf(out, "%s\n", text) < 0 ? -errno : 0;
    free(text);
    return rc;
}

int minga_jobview_json(FILE *out, const minga_job_t *job, bool with_body)
{
    json_t *j = minga_job_to_json(job, with_body);
    int rc = minga_jobview_json_line(out, j);
    json_decref(j);
    return rc;
}

/* A time in ms since the epoch as local ISO 8601 with its offset, or "-". */
static const char *s_time(uint64_t ms, char *buf, size_t size)
{
    if (!ms)
        return "-";
    time_t t = (time_t)(ms / 1000);
    struct tm tm;
    localtime_r(&t, &tm);
    size_t n = strftime(buf, size, "%Y-%m-%dT%H:%M:%S%z", &tm);
    if (n >= 5 && n + 1 < size) { /* +hhmm -> +hh:mm (ISO 8601, as the exports write) */
        memmove(buf + n - 1, buf + n - 2, 3);
        buf[n - 2] = ':';
    }
    return buf;
}

static void s_print_msgpack(FILE *out, const char *label, const uint8_t *data, size_t len)
{
    json_t *j = minga_msgpack_bytes_to_json(data, len);
    char *text = json_dumps(j, JSON_COMPACT | JSON_ENCODE_ANY);
    fprintf(out, "%-14s %s\n", label, text ? text : "null");
    free(text);
    json_decref(j);
}

void minga_jobview_print(FILE *out, const minga_job_t *job)
{
    char t[64];
    fprintf(out, "%-14s %" PRIu64 "\n", "trabajo:", job->id);
    fprintf(out, "%-14s %s\n", "tipo:", job->type ? job->type : "?");
    fprintf(out, "%-14s %s\n", "estado:", minga_job_state_name(job->state));
    fprintf(out, "%-14s %u de %u\n", "intentos:", job->attempts, job->max_attempts);
    fprintf(out, "%-14s %u\n", "prioridad:", job->priority);
    if (job->key)
        fprintf(out, "%-14s %s\n", "clave:", job->key);
    if (job->nparents) {
        fprintf(out, "%-14s", "depende de:");
        for (size_t i = 0; i < job->nparents; i++)
            fprintf(out, " %" PRIu64, job->parents[i]);
        fputc('\n', out);
    }
    if (job->not_before)
        fprintf(out, "%-14s %s\n", "no antes de:", s_time(job->not_before, t, sizeof t));
    if (job->has_progress)
        fprintf(out, "%-14s %u/%u %s\n", "progreso:", job->progress.done, job->progress.total,
                job->progress.text ? job->progress.text : "");
    if (job->worker)
        fprintf(out, "%-14s %s\n", "trabajador:", job->worker);
    fprintf(out, "%-14s %s\n", "creado:", s_time(job->created_at, t, sizeof t));
    fprintf(out, "%-14s %s\n", "actualizado:", s_time(job->updated_at, t, sizeof t));
    if (job->finished_at)
        fprintf(out, "%-14s %s\n", "terminado:", s_time(job->finished_at, t, sizeof t));
    if (job->body)
        s_print_msgpack(out, "entrada:", job->body, job->body_len);
    if (job->result)
        s_print_msgpack(out, "resultado:", job->result, job->result_len);
    if (job->error_code)
        fprintf(out, "%-14s %s: %s\n", "error:", job->error_code,
                job->error_message ? job->error_message : "");
}

void minga_jobview_table_header(FILE *out)
{
    fprintf(out, "%-10s %-16s %-10s %-9s %-9s %s\n", "ID", "TIPO", "ESTADO", "INTENTOS",
            "PRIORIDAD", "PROGRESO / ERROR");
}

void minga_jobview_table_row(FILE *out, const minga_job_t *job)
{
    char attempts[32], extra[160] = "";
    snprintf(attempts, sizeof attempts, "%u/%u", job->attempts, job->max_attempts);
    if (job->error_code && job->state != MINGA_JOB_DONE)
        snprintf(extra, sizeof extra, "%s", job->error_code);
    else if (job->has_progress)
        snprintf(extra, sizeof extra, "%u/%u %s", job->progress.done, job->progress.total,
                 job->progress.text ? job->progress.text : "");
    fprintf(out, "%-10" PRIu64 " %-16s %-10s %-9s %-9u %s\n", job->id, job->type ? job->type : "?",
            minga_job_state_name(job->state), attempts, job->priority, extra);
}

/* ---------------------------------------------------------------- waiting */

typedef struct {
    bool tty;
    bool drawn;
    const char *who;
} s_view_t;

static void s_draw(uint64_t id, minga_job_state_t state, const minga_progress_t *p, void *arg)
{
    s_view_t *view = arg;
    const char *text = p && p->text ? p->text : "";
    if (!view->tty) {
        if (p)
            fprintf(stderr, "trabajo %" PRIu64 ": %s %u/%u %s\n", id, minga_job_state_name(state),
                    p->done, p->total, text);
        else
            fprintf(stderr, "trabajo %" PRIu64 ": %s\n", id, minga_job_state_name(state));
        return;
    }
    enum { WIDTH = 30 };
    char bar[WIDTH + 1];
    unsigned pct = p && p->total ? (unsigned)((uint64_t)p->done * 100 / p->total) : 0;
    unsigned fill = pct * WIDTH / 100;
    for (unsigned i = 0; i < WIDTH; i++)
        bar[i] = i < fill ? '#' : '.';
    bar[WIDTH] = 0;
    int cut = (int)strnlen(text, 41);
    if (cut > 40)
        for (cut = 40; cut > 0 && ((unsigned char)text[cut] & 0xC0) == 0x80;)
            cut--; /* never in the middle of a UTF-8 character */
    fprintf(stderr, "\r\033[Ktrabajo %" PRIu64 " [%s] %3u%% %-8s %.*s", id, bar, pct,
            minga_job_state_name(state), cut, text);
    fflush(stderr);
    view->drawn = true;
}

int minga_jobview_wait(minga_client_t *client, uint64_t id, const char *who, minga_job_t *job)
{
    s_view_t view = {isatty(2) == 1, false, who};
    int rc = minga_client_status(client, id, job);
    if (rc == 0 && !minga_job_state_is_end(job->state)) {
        s_draw(id, job->state, job->has_progress ? &job->progress : NULL, &view);
        rc = minga_client_wait(client, id, 0, s_draw, &view, job);
    }
    if (view.drawn && rc == 0) /* the bar's last word is the end state */
        s_draw(id, job->state, job->has_progress ? &job->progress : NULL, &view);
    if (view.drawn)
        fputc('\n', stderr);
    if (rc)
        fprintf(stderr, "%s: %s\n", who, minga_client_error(client));
    return rc;
}

int minga_jobview_exit_status(const minga_job_t *job, const char *who)
{
    if (job->state == MINGA_JOB_DONE)
        return 0;
    if (job->error_code)
        fprintf(stderr, "%s: job %" PRIu64 " ended %s: %s: %s\n", who, job->id,
                minga_job_state_name(job->state), job->error_code,
                job->error_message ? job->error_message : "");
    else
        fprintf(stderr, "%s: job %" PRIu64 " ended %s\n", who, job->id,
                minga_job_state_name(job->state));
    return 1;
}

int minga_jobview_parse_id(const char *text, uint64_t *id)
{
    char *end;
    errno = 0;
    if (!text || !*text || *text == '-' || *text == '+')
        return MINGA_EINVAL;
    unsigned long long v = strtoull(text, &end, 10);
    if (errno || *end || v == 0)
        return MINGA_EINVAL;
    *id = v;
    return 0;
}
