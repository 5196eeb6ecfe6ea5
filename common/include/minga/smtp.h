/*
 * smtp.h: sending one message at a time to an SMTP relay with libcurl.
 *
 * Settings live in the section "smtp" of the --config file (ZPL), each with its flag:
 *
 *     smtp
 *         host = "mail.ame.gob.ec"     # no host: no relay (the notify worker dry-runs)
 *         port = 587
 *         starttls = "required"         # "no", "try" or "required"
 *         user = "minga"
 *         password = "..."
 *         from = "rueda@ame.gob.ec"
 *         from_name = "Rueda de Negocios AME"
 *         domain = "ame.gob.ec"         # right side of Message-IDs (default: the host name)
 *         rate = 20                     # messages per second to this relay, 0 = no limit
 *         timeout_ms = 30000
 *         tries = 4                     # tries of one message on a temporary error
 *         backoff_ms = 500              # first wait between tries, doubled each time
 *
 * A minga_smtp_t keeps one libcurl handle, so that consecutive messages reuse the connection.
 * Each send ends in one of four outcomes: sent (the server's final 250 after DATA, whose text
 * is kept as the reply), temporary (4xx, connection refused or lost, time-out: the fate of a
 * message is unknown when the connection broke after DATA — the caller sends it again with the
 * same Message-ID), permanent (5xx: this message or recipient refused) or relay (the session
 * itself refused: a login denied, STARTTLS required and not offered).
 *
 * The rate limit is per relay and shared by every process on the host that names the same
 * rate file (minga_smtp_set_rate_file): the next free sending time is kept in that file under
 * an flock.
 */
#ifndef MINGA_SMTP_H
#define MINGA_SMTP_H

#include "minga/config.h"

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

typedef struct {
    char *host;
    uint64_t port;
    char *starttls; /* "no", "try", "required" */
    char *user, *password;
    char *from, *from_name;
    char *domain;
    uint64_t rate; /* messages per second, 0 = no limit */
    uint64_t timeout_ms;
    uint64_t tries;
    uint64_t backoff_ms;
} minga_smtp_config_t;

/* The settings table (for flags and help): *n receives its size. */
const minga_cfg_t *minga_smtp_config_table(size_t *n);

/* Sets the defaults, then reads the section "smtp" of file (NULL: defaults only). Returns 0 or
 * an error with err naming file, line and key. Free with minga_smtp_config_free(). */
int minga_smtp_config_load(minga_smtp_config_t *cfg, const char *file, char *err, size_t errcap);

/* Frees the strings of cfg. */
void minga_smtp_config_free(minga_smtp_config_t *cfg);

/* Checks the settings that only make sense together (a starttls word, a from address when a
 * host is set). Returns 0 or MINGA_EINVAL with err saying which. */
int minga_smtp_config_check(const minga_smtp_config_t *cfg, char *err, size_t errcap);

typedef enum {
    MINGA_SMTP_SENT,      /* accepted: reply holds the server's answer to DATA */
    MINGA_SMTP_TEMPORARY, /* try again later (4xx, no connection, lost connection) */
    MINGA_SMTP_PERMANENT, /* this message refused for good (5xx) */
    MINGA_SMTP_RELAY,     /* the session refused: login denied, STARTTLS required and not
                             offered, a malformed relay address; no message can pass until
                             the configuration changes */
} minga_smtp_outcome_t;

typedef struct {
    minga_smtp_outcome_t outcome;
    long code;       /* the last SMTP reply code, 0 when there was none */
    char reply[512]; /* the server's last reply line, or libcurl's error */
} minga_smtp_result_t;

typedef struct minga_smtp_t minga_smtp_t;

/* A sender for cfg (borrowed: must outlive the sender). Returns 0 or MINGA_ENOMEM. */
int minga_smtp_new(minga_smtp_t **self_p, const minga_smtp_config_t *cfg);

/* Closes the connection (QUIT) and NULLs *self_p. Accepts NULL. */
void minga_smtp_destroy(minga_smtp_t **self_p);

/* The file that holds the relay's next free sending time (copied), shared by every process
 * that sends to this relay. NULL: the limit is per sender. */
void minga_smtp_set_rate_file(minga_smtp_t *self, const char *path);

/* Sends data (a whole RFC 5322 message with CRLF line ends) to rcpt, once, after waiting for
 * the rate limit. Fills *res; returns 0 when an outcome was reached (see res->outcome), or
 * MINGA_ENOMEM. */
int minga_smtp_send(minga_smtp_t *self, const char *rcpt, const char *data, size_t len,
                    minga_smtp_result_t *res);

#endif
