/*
 * mail.h: the MIME builder of the agenda e-mails (RFC 5322 headers, RFC 2045-2047 MIME).
 *
 * A message is multipart/mixed: a multipart/alternative (text/plain and text/html, UTF-8,
 * quoted-printable) and, optionally, one attachment (base64), the agenda's .ics. Header
 * fields are built only from cleaned values, so that nothing a participant registered (a name
 * with CR/LF, a huge name, bytes that are not UTF-8, a hostile e-mail address) can add or
 * break a header: display names and the subject are cleaned (minga_mail_clean()) and written
 * as quoted strings or RFC 2047 encoded words folded at 78 columns; addresses must pass
 * minga_mail_addr_valid(); other values must be printable ASCII.
 *
 * Lines end with CRLF, as SMTP wants them; no line is longer than 78 characters.
 */
#ifndef MINGA_MAIL_H
#define MINGA_MAIL_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/* The longest display name and subject kept by minga_mail_clean(), in bytes. */
#define MINGA_MAIL_NAME_MAX 200
#define MINGA_MAIL_SUBJECT_MAX 400

typedef struct {
    const char *filename;     /* "agenda.ics": [A-Za-z0-9._-] only */
    const char *content_type; /* "text/calendar; charset=UTF-8; method=PUBLISH" */
    const char *data;
    size_t len;
} minga_mail_part_t;

typedef struct {
    const char *from_name, *from_addr; /* from_name may be NULL */
    const char *to_name, *to_addr;     /* to_name may be NULL */
    const char *subject;               /* UTF-8 */
    const char *message_id;            /* "<left@right>", printable ASCII */
    int64_t date;                      /* seconds since the epoch, written in date_tz */
    const char *date_tz;               /* "America/Guayaquil" (NULL: UTC) */
    const char *text, *html;           /* UTF-8 bodies, "\n" line ends */
    const minga_mail_part_t *attach;   /* NULL or one attachment */
    const char *const *extra;          /* NULL, or "Name", "value", ..., NULL: printable ASCII */
} minga_mail_t;

/* Renders m into *out (NUL-terminated, the caller's: free()) of *len bytes. Returns 0;
 * MINGA_EINVAL when an address is not valid (minga_mail_addr_valid), the Message-ID or an
 * extra header holds anything but printable ASCII, or an extra header's name is not a field
 * name; MINGA_ENOMEM. Names, subject and bodies are cleaned first, never refused. */
int minga_mail_render(const minga_mail_t *m, char **out, size_t *len);

/* True when addr is a plain addr-spec we are willing to put in a header and in RCPT TO:
 * 3..254 bytes of printable ASCII without spaces, quotes, angle brackets, parentheses,
 * commas, semicolons, colons or backslashes, exactly one '@' with text on both sides, and a
 * dot-separated domain. */
bool minga_mail_addr_valid(const char *addr);

/* A copy of s (NULL: "") as valid UTF-8 of at most max bytes (cut on a character boundary,
 * "…" added when cut): invalid bytes become U+FFFD, control characters (CR, LF, TAB, C0, DEL,
 * C1) become spaces, runs of spaces become one, and ends are trimmed. The caller's to free();
 * NULL only on ENOMEM. */
char *minga_mail_clean(const char *s, size_t max);

/* Writes into dst (at least 76 + 2 * (strlen(s) / 45 + 1) * 76 bytes; use
 * minga_mail_encode_size()) the value s as a header value starting after a field name of
 * name_len characters: as is when it is printable ASCII short enough, else as RFC 2047 "B"
 * encoded words of UTF-8, whole characters per word, folded with CRLF + space. s must be
 * valid UTF-8 without control characters (minga_mail_clean()). Returns the length written. */
size_t minga_mail_encode_header(char *dst, const char *s, size_t name_len);
size_t minga_mail_encode_size(const char *s);

/* Quoted-printable (RFC 2045 §6.7) of the UTF-8 text s, "\n" line ends turned into CRLF, soft
 * line breaks before 76 columns, never inside a character's =XX group. The caller's to
 * free(); NULL on ENOMEM. */
char *minga_mail_qp(const char *s, size_t len, size_t *out_len);

/* Base64 of data in lines of 76 characters ending in CRLF. The caller's; NULL on ENOMEM. */
char *minga_mail_base64(const void *data, size_t len, size_t *out_len);

/* An RFC 5322 date ("Thu, 12 Nov 2026 09:00:00 -0500") of t in time zone tz (NULL: UTC) into
 * dst (at least 40 bytes). Returns 0, or MINGA_ENOTFOUND for a zone libical does not know. */
int minga_mail_date(int64_t t, const char *tz, char *dst, size_t cap);

#endif
