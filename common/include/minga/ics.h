/*
 * ics.h: the agenda as an RFC 5545 calendar, made with libical.
 *
 * One VCALENDAR (VERSION 2.0, METHOD:PUBLISH) with the VTIMEZONE of the event's zone (from the
 * system's zoneinfo, through libical's built-in zones) and one VEVENT per meeting: a UID that
 * the caller keeps stable for the meeting across versions, DTSTART/DTEND with the zone's TZID,
 * SUMMARY, DESCRIPTION, LOCATION (the table), STATUS (CONFIRMED or CANCELLED) and SEQUENCE (the
 * agenda's version, so that a calendar applies the newer one).
 *
 * Also here: local time of an instant in a named zone, which the mail module uses for Date.
 * libical keeps its zones in process-wide caches guarded by its own lock: these functions may
 * be called from several threads.
 */
#ifndef MINGA_ICS_H
#define MINGA_ICS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <time.h>

typedef struct {
    const char *uid;         /* stable per meeting: "jornada-2026.0101.coop-x@minga" */
    int64_t start, end;      /* seconds since the epoch */
    const char *summary;     /* UTF-8 */
    const char *description; /* UTF-8, may be NULL */
    const char *location;    /* UTF-8, may be NULL */
    bool cancelled;
} minga_ics_event_t;

typedef struct {
    const char *tzid;  /* "America/Guayaquil" */
    const char *name;  /* X-WR-CALNAME, UTF-8, may be NULL */
    int64_t stamp;     /* DTSTAMP of every VEVENT */
    unsigned sequence; /* SEQUENCE of every VEVENT */
    const minga_ics_event_t *events;
    size_t n;
} minga_ics_t;

/* Renders cal as iCalendar text into *out (the caller's: free()), CRLF line ends, folded at
 * 75 octets by libical. Returns 0, MINGA_ENOTFOUND when libical does not know cal->tzid,
 * MINGA_EINVAL for an event without uid or with end before start, or MINGA_ENOMEM. */
int minga_ics_render(const minga_ics_t *cal, char **out);

/* The local time of t in zone tzid into *tm (tm_gmtoff and tm_isdst set) and its offset from
 * UTC in seconds into *offset (may be NULL). Returns 0 or MINGA_ENOTFOUND. */
int minga_tz_local(const char *tzid, int64_t t, struct tm *tm, int *offset);

/* Parses "YYYY-MM-DDTHH:MM[:SS]±HH:MM" (or "Z") into seconds since the epoch. Returns 0 or
 * MINGA_EINVAL. */
int minga_iso8601_parse(const char *s, int64_t *t);

#endif
