/*
 * smtp.c: the SMTP sender on libcurl (smtp.h).
 *
 * The outcome of a send is read from libcurl's result and from the server's own reply lines,
 * which the debug callback collects (CURLINFO_HEADER_IN): the last line is what the server
 * said about the message (250 ... queued as X); the first 4xx/5xx line is what it said about
 * the command that failed (libcurl may QUIT after it, and 221 is no verdict).
 *
 *   libcurl result                         outcome
 *   CURLE_OK                               sent
 *   CURLE_LOGIN_DENIED, CURLE_URL_MALFORMAT,
 *   CURLE_USE_SSL_FAILED (STARTTLS required
 *   and not offered)                       relay (the session, not the message)
 *   any other, first error reply 5xx       permanent
 *   any other, first error reply 4xx       temporary
 *   anything else (refused, reset, time-out) temporary
 */
#include "minga/smtp.h"

#include "minga/error.h"
#include "minga/mail.h"

#include <curl/curl.h>
#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <time.h>
#include <unistd.h>

#define S_U(f, flag, lo, hi, help)                                                                 \
    {                                                                                              \
        "smtp/" #f, flag, MINGA_CFG_UINT, offsetof(minga_smtp_config_t, f), lo, hi, help           \
    }
#define S_S(f, flag, help)                                                                         \
    {                                                                                              \
        "smtp/" #f, flag, MINGA_CFG_STR, offsetof(minga_smtp_config_t, f), 0, 0, help              \
    }

static const minga_cfg_t s_table[] = {
    S_S(host, "smtp-host", "relay host (none: dry run into the store)"),
    S_U(port, "smtp-port", 1, 65535, "relay port"),
    S_S(starttls, "smtp-starttls", "STARTTLS: no, try or required"),
    S_S(user, "smtp-user", "login user (none: no login)"),
    S_S(password, "smtp-password", "login password"),
    S_S(from, "smtp-from", "sender address"),
    S_S(from_name, "smtp-from-name", "sender display name"),
    S_S(domain, "smtp-domain", "right side of Message-IDs (default: host name)"),
    S_U(rate, "smtp-rate", 0, 100000, "messages per second to the relay, 0 = no limit"),
    S_U(timeout_ms, "smtp-timeout-ms", 100, 600000, "time-out of one message, ms"),
    S_U(tries, "smtp-tries", 1, 100, "tries of one message on a temporary error"),
    S_U(backoff_ms, "smtp-backoff-ms", 0, 600000, "first wait between tries, ms (doubled)"),
};
#define S_N (sizeof s_table / sizeof s_table[0])

const minga_cfg_t *minga_smtp_config_table(size_t *n)
{
    *n = S_N;
    return s_table;
}

int minga_smtp_config_load(minga_smtp_config_t *cfg, const char *file, char *err, size_t errcap)
{
    memset(cfg, 0, sizeof *cfg);
    cfg->port = 25;
    cfg->rate = 0;
    cfg->timeout_ms = 30000;
    cfg->tries = 4;
    cfg->backoff_ms = 500;
    cfg->starttls = strdup("try");
    cfg->from = strdup("rueda@ame.gob.ec");
    cfg->from_name = strdup("Rueda de Negocios de Cooperación Internacional — AME");
    if (!cfg->starttls || !cfg->from || !cfg->from_name) {
        snprintf(err, errcap, "out of memory");
        return MINGA_ENOMEM;
    }
    if (!file)
        return 0;
    return minga_config_load(file, s_table, S_N, cfg, err, errcap);
}

void minga_smtp_config_free(minga_smtp_config_t *cfg)
{
    minga_config_free(s_table, S_N, cfg);
}

int minga_smtp_config_check(const minga_smtp_config_t *cfg, char *err, size_t errcap)
{
    const char *t = cfg->starttls ? cfg->starttls : "try";
    if (strcmp(t, "no") != 0 && strcmp(t, "try") != 0 && strcmp(t, "required") != 0) {
        snprintf(err, errcap, "smtp/starttls: must be no, try or required, not '%s'", t);
        return MINGA_EINVAL;
    }
    if (!minga_mail_addr_valid(cfg->from)) {
        snprintf(err, errcap, "smtp/from: '%s' is not a valid sender address",
                 cfg->from ? cfg->from : "");
        return MINGA_EINVAL;
    }
    for (const char *p = cfg->domain; p && *p; p++)
        if (!((*p >= 'a' && *p <= 'z') || (*p >= 'A' && *p <= 'Z') || (*p >= '0' && *p <= '9') ||
              *p == '.' || *p == '-')) {
            snprintf(err, errcap, "smtp/domain: '%s' is not a domain name", cfg->domain);
            return MINGA_EINVAL;
        }
    return 0;
}

/* ---- the sender ---- */

struct minga_smtp_t {
    const minga_smtp_config_t *cfg;
    CURL *curl;
    char *rate_file;
    char last[512]; /* the server's last reply line */
    long last_code;
    char bad[512]; /* the first error reply (4xx/5xx) of the transaction */
    long bad_code;
    /* the upload in progress */
    const char *data;
    size_t len, off;
};

static pthread_once_t s_curl_once = PTHREAD_ONCE_INIT;
static pthread_mutex_t s_rate_lock = PTHREAD_MUTEX_INITIALIZER;
static uint64_t s_rate_next_us; /* per-process limit when no rate file is set */

static void s_curl_init(void)
{
    curl_global_init(CURL_GLOBAL_DEFAULT);
}

int minga_smtp_new(minga_smtp_t **self_p, const minga_smtp_config_t *cfg)
{
    pthread_once(&s_curl_once, s_curl_init);
    minga_smtp_t *self = calloc(1, sizeof *self);
    if (!self || !(self->curl = curl_easy_init())) {
        free(self);
        *self_p = NULL;
        return MINGA_ENOMEM;
    }
    self->cfg = cfg;
    *self_p = self;
    return 0;
}

void minga_smtp_destroy(minga_smtp_t **self_p)
{
    if (!self_p || !*self_p)
        return;
    minga_smtp_t *self = *self_p;
    curl_easy_cleanup(self->curl);
    free(self->rate_file);
    free(self);
    *self_p = NULL;
}

void minga_smtp_set_rate_file(minga_smtp_t *self, const char *path)
{
    free(self->rate_file);
    self->rate_file = path ? strdup(path) : NULL;
}

static uint64_t s_now_us(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_REALTIME, &ts);
    return (uint64_t)ts.tv_sec * 1000000u + (uint64_t)ts.tv_nsec / 1000u;
}

/* Takes the next sending time of next (microseconds), returns how long to wait. */
static uint64_t s_take(uint64_t *next, uint64_t interval)
{
    uint64_t now = s_now_us(), at = *next > now ? *next : now;
    *next = at + interval;
    return at - now;
}

/* Waits for the relay's next free sending time. */
static void s_rate_wait(minga_smtp_t *self)
{
    if (self->cfg->rate == 0)
        return;
    uint64_t interval = 1000000u / self->cfg->rate, wait = 0;
    int fd = self->rate_file ? open(self->rate_file, O_RDWR | O_CREAT | O_CLOEXEC, 0600) : -1;
    if (fd >= 0 && flock(fd, LOCK_EX) == 0) {
        uint64_t next = 0;
        if (pread(fd, &next, sizeof next, 0) != (ssize_t)sizeof next)
            next = 0;
        wait = s_take(&next, interval);
        if (pwrite(fd, &next, sizeof next, 0) != (ssize_t)sizeof next)
            wait = 0; /* defensive: an unwritable file limits nothing more */
        flock(fd, LOCK_UN);
    } else {
        pthread_mutex_lock(&s_rate_lock);
        wait = s_take(&s_rate_next_us, interval);
        pthread_mutex_unlock(&s_rate_lock);
    }
    if (fd >= 0)
        close(fd);
    if (wait > 0) {
        struct timespec ts = {(time_t)(wait / 1000000u), (long)(wait % 1000000u) * 1000};
        while (nanosleep(&ts, &ts) != 0 && errno == EINTR)
            ;
    }
}

static size_t s_read(char *buf, size_t size, size_t nitems, void *arg)
{
    minga_smtp_t *self = arg;
    size_t room = size * nitems, left = self->len - self->off;
    size_t n = left < room ? left : room;
    memcpy(buf, self->data + self->off, n);
    self->off += n;
    return n;
}

/* Keeps the server's last reply line (the final line of a multi-line reply). */
static int s_debug(CURL *curl, curl_infotype type, char *data, size_t size, void *arg)
{
    (void)curl;
    minga_smtp_t *self = arg;
    if (type != CURLINFO_HEADER_IN || size < 3)
        return 0;
    size_t n = size;
    while (n > 0 && (data[n - 1] == '\n' || data[n - 1] == '\r'))
        n--;
    if (n >= sizeof self->last)
        n = sizeof self->last - 1;
    for (size_t i = 0; i < n; i++)
        self->last[i] = (data[i] >= 0x20 && data[i] < 0x7f) ? data[i] : ' ';
    self->last[n] = 0;
    if (data[0] >= '1' && data[0] <= '5' && data[1] >= '0' && data[1] <= '9' && data[2] >= '0' &&
        data[2] <= '9')
        self->last_code = (data[0] - '0') * 100 + (data[1] - '0') * 10 + (data[2] - '0');
    if (self->last_code >= 400 && self->bad_code == 0) {
        self->bad_code = self->last_code;
        memcpy(self->bad, self->last, n + 1);
    }
    return 0;
}

static void s_classify(minga_smtp_t *self, CURLcode cc, const char *errbuf,
                       minga_smtp_result_t *res)
{
    res->code = self->bad_code ? self->bad_code : self->last_code;
    if (cc == CURLE_OK) {
        res->outcome = MINGA_SMTP_SENT;
        snprintf(res->reply, sizeof res->reply, "%s", self->last);
        return;
    }
    const char *said = self->bad_code ? self->bad : self->last;
    snprintf(res->reply, sizeof res->reply, "%s%s%s", errbuf[0] ? errbuf : curl_easy_strerror(cc),
             said[0] ? "; el servidor dijo: " : "", said);
    bool reply_seen = self->bad_code >= 400;
    if (cc == CURLE_LOGIN_DENIED || cc == CURLE_URL_MALFORMAT || cc == CURLE_USE_SSL_FAILED)
        res->outcome = MINGA_SMTP_RELAY;
    else if (reply_seen && self->bad_code >= 500)
        res->outcome = MINGA_SMTP_PERMANENT;
    else
        res->outcome = MINGA_SMTP_TEMPORARY;
}

int minga_smtp_send(minga_smtp_t *self, const char *rcpt, const char *data, size_t len,
                    minga_smtp_result_t *res)
{
    const minga_smtp_config_t *cfg = self->cfg;
    char url[600], from[300], to[300], errbuf[CURL_ERROR_SIZE] = "";
    memset(res, 0, sizeof *res);
    snprintf(url, sizeof url, "smtp://%s:%u", cfg->host ? cfg->host : "", (unsigned)cfg->port);
    snprintf(from, sizeof from, "<%s>", cfg->from ? cfg->from : "");
    snprintf(to, sizeof to, "<%s>", rcpt);
    struct curl_slist *rcpts = curl_slist_append(NULL, to);
    if (!rcpts)
        return MINGA_ENOMEM;
    s_rate_wait(self);
    CURL *c = self->curl;
    self->data = data, self->len = len, self->off = 0;
    self->last[0] = 0, self->last_code = 0;
    self->bad[0] = 0, self->bad_code = 0;
    const char *tls = cfg->starttls ? cfg->starttls : "try";
    curl_easy_setopt(c, CURLOPT_URL, url);
    curl_easy_setopt(c, CURLOPT_MAIL_FROM, from);
    curl_easy_setopt(c, CURLOPT_MAIL_RCPT, rcpts);
    curl_easy_setopt(c, CURLOPT_UPLOAD, 1L);
    curl_easy_setopt(c, CURLOPT_READFUNCTION, s_read);
    curl_easy_setopt(c, CURLOPT_READDATA, self);
    curl_easy_setopt(c, CURLOPT_INFILESIZE_LARGE, (curl_off_t)len);
    curl_easy_setopt(c, CURLOPT_DEBUGFUNCTION, s_debug);
    curl_easy_setopt(c, CURLOPT_DEBUGDATA, self);
    curl_easy_setopt(c, CURLOPT_VERBOSE, 1L);
    curl_easy_setopt(c, CURLOPT_ERRORBUFFER, errbuf);
    curl_easy_setopt(c, CURLOPT_NOSIGNAL, 1L);
    curl_easy_setopt(c, CURLOPT_TIMEOUT_MS, (long)cfg->timeout_ms);
    curl_easy_setopt(c, CURLOPT_CONNECTTIMEOUT_MS, (long)cfg->timeout_ms);
    curl_easy_setopt(c, CURLOPT_USE_SSL,
                     strcmp(tls, "required") == 0 ? (long)CURLUSESSL_ALL
                     : strcmp(tls, "try") == 0    ? (long)CURLUSESSL_TRY
                                                  : (long)CURLUSESSL_NONE);
    if (cfg->user && *cfg->user) {
        curl_easy_setopt(c, CURLOPT_USERNAME, cfg->user);
        curl_easy_setopt(c, CURLOPT_PASSWORD, cfg->password ? cfg->password : "");
    }
    CURLcode cc = curl_easy_perform(c);
    curl_easy_setopt(c, CURLOPT_MAIL_RCPT, NULL);
    curl_easy_setopt(c, CURLOPT_ERRORBUFFER, NULL);
    curl_slist_free_all(rcpts);
    s_classify(self, cc, errbuf, res);
    return 0;
}
