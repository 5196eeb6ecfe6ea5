/*
 * ics.c: the agenda's calendar with libical (ics.h), and local times in a named zone.
 *
 * Zones come from libical's built-in table, which on Debian reads the system's zoneinfo; the
 * VTIMEZONE's TZID is set to the plain zone name ("America/Guayaquil", without libical's
 * "/freeassociation.sourceforge.net/" prefix), the name the DTSTART/DTEND parameters use and
 * that every calendar program and Python's zoneinfo resolve.
 */
#include "minga/ics.h"

#include "minga/error.h"

#include <libical/ical.h>
#include <stdlib.h>
#include <string.h>

static icaltimezone *s_zone(const char *tzid)
{
    if (!tzid || !*tzid)
        return NULL;
    return icaltimezone_get_builtin_timezone(tzid);
}

int minga_tz_local(const char *tzid, int64_t t, struct tm *tm, int *offset)
{
    icaltimezone *zone = s_zone(tzid);
    if (!zone)
        return MINGA_ENOTFOUND;
    struct icaltimetype utc =
        icaltime_from_timet_with_zone((time_t)t, 0, icaltimezone_get_utc_timezone());
    int dst = 0;
    int off = icaltimezone_get_utc_offset_of_utc_time(zone, &utc, &dst);
    time_t local = (time_t)(t + off);
    gmtime_r(&local, tm);
    tm->tm_isdst = dst;
    tm->tm_gmtoff = off;
    if (offset)
        *offset = off;
    return 0;
}

static int s_digits(const char *s, int n)
{
    int v = 0;
    for (int i = 0; i < n; i++) {
        if (s[i] < '0' || s[i] > '9')
            return -1;
        v = v * 10 + (s[i] - '0');
    }
    return v;
}

int minga_iso8601_parse(const char *s, int64_t *t)
{
    if (!s || strlen(s) < 16 || s[4] != '-' || s[7] != '-' || (s[10] != 'T' && s[10] != ' ') ||
        s[13] != ':')
        return MINGA_EINVAL;
    int y = s_digits(s, 4), mo = s_digits(s + 5, 2), d = s_digits(s + 8, 2);
    int h = s_digits(s + 11, 2), mi = s_digits(s + 14, 2), sec = 0;
    const char *p = s + 16;
    if (*p == ':') {
        sec = s_digits(p + 1, 2);
        p += 3;
    }
    int off = 0;
    if (*p == 'Z') {
        p++;
    } else if (*p == '+' || *p == '-') {
        int oh = s_digits(p + 1, 2), om = p[3] == ':' ? s_digits(p + 4, 2) : s_digits(p + 3, 2);
        if (oh < 0 || om < 0)
            return MINGA_EINVAL;
        off = (oh * 3600 + om * 60) * (*p == '-' ? -1 : 1);
        p += p[3] == ':' ? 6 : 5;
    } else {
        return MINGA_EINVAL;
    }
    if (*p || y < 1970 || mo < 1 || mo > 12 || d < 1 || d > 31 || h < 0 || h > 23 || mi < 0 ||
        mi > 59 || sec < 0 || sec > 60)
        return MINGA_EINVAL;
    struct tm tm = {.tm_year = y - 1900,
                    .tm_mon = mo - 1,
                    .tm_mday = d,
                    .tm_hour = h,
                    .tm_min = mi,
                    .tm_sec = sec};
    *t = (int64_t)timegm(&tm) - off;
    return 0;
}

/* A DATE-TIME in the zone's local time with its TZID parameter (never floating, never Z). */
static icalproperty *s_time_prop(icalproperty *(*make)(struct icaltimetype), int64_t t,
                                 const char *tzid)
{
    struct tm tm;
    if (minga_tz_local(tzid, t, &tm, NULL) != 0)
        return NULL;
    struct icaltimetype v = icaltime_null_time();
    v.year = tm.tm_year + 1900;
    v.month = tm.tm_mon + 1;
    v.day = tm.tm_mday;
    v.hour = tm.tm_hour;
    v.minute = tm.tm_min;
    v.second = tm.tm_sec;
    v.is_date = 0;
    icalproperty *p = make(v);
    if (p)
        icalproperty_add_parameter(p, icalparameter_new_tzid(tzid));
    return p;
}

static int s_add_event(icalcomponent *cal, const minga_ics_t *c, const minga_ics_event_t *e)
{
    if (!e->uid || !*e->uid || e->end < e->start)
        return MINGA_EINVAL;
    icalcomponent *ev = icalcomponent_new_vevent();
    if (!ev)
        return MINGA_ENOMEM;
    icalcomponent_add_property(ev, icalproperty_new_uid(e->uid));
    icalcomponent_add_property(ev, icalproperty_new_dtstamp(icaltime_from_timet_with_zone(
                                       (time_t)c->stamp, 0, icaltimezone_get_utc_timezone())));
    icalcomponent_add_property(ev, s_time_prop(icalproperty_new_dtstart, e->start, c->tzid));
    icalcomponent_add_property(ev, s_time_prop(icalproperty_new_dtend, e->end, c->tzid));
    icalcomponent_add_property(ev, icalproperty_new_summary(e->summary ? e->summary : ""));
    if (e->description && *e->description)
        icalcomponent_add_property(ev, icalproperty_new_description(e->description));
    if (e->location && *e->location)
        icalcomponent_add_property(ev, icalproperty_new_location(e->location));
    icalcomponent_add_property(
        ev, icalproperty_new_status(e->cancelled ? ICAL_STATUS_CANCELLED : ICAL_STATUS_CONFIRMED));
    icalcomponent_add_property(ev, icalproperty_new_sequence((int)c->sequence));
    icalcomponent_add_property(
        ev, icalproperty_new_transp(e->cancelled ? ICAL_TRANSP_TRANSPARENT : ICAL_TRANSP_OPAQUE));
    icalcomponent_add_component(cal, ev);
    return 0;
}

int minga_ics_render(const minga_ics_t *c, char **out)
{
    icaltimezone *zone = s_zone(c->tzid);
    if (!zone)
        return MINGA_ENOTFOUND;
    icalcomponent *vtz = icaltimezone_get_component(zone);
    icalcomponent *cal = icalcomponent_new_vcalendar();
    if (!cal || !vtz) {
        if (cal)
            icalcomponent_free(cal);
        return vtz ? MINGA_ENOMEM : MINGA_ENOTFOUND;
    }
    icalcomponent_add_property(cal, icalproperty_new_version("2.0"));
    icalcomponent_add_property(cal, icalproperty_new_prodid("-//AME Ecuador//Minga//ES"));
    icalcomponent_add_property(cal, icalproperty_new_calscale("GREGORIAN"));
    icalcomponent_add_property(cal, icalproperty_new_method(ICAL_METHOD_PUBLISH));
    if (c->name && *c->name) {
        icalproperty *p = icalproperty_new_x(c->name);
        icalproperty_set_x_name(p, "X-WR-CALNAME");
        icalcomponent_add_property(cal, p);
    }
    /* the zone's own TZID may carry libical's prefix: name it as the events do */
    icalcomponent *tzc = icalcomponent_new_clone(vtz);
    icalproperty *tzp = tzc ? icalcomponent_get_first_property(tzc, ICAL_TZID_PROPERTY) : NULL;
    if (tzp)
        icalproperty_set_tzid(tzp, c->tzid);
    if (tzc)
        icalcomponent_add_component(cal, tzc);
    int rc = 0;
    for (size_t i = 0; i < c->n && rc == 0; i++)
        rc = s_add_event(cal, c, &c->events[i]);
    if (rc == 0) {
        char *text = icalcomponent_as_ical_string_r(cal);
        *out = text ? strdup(text) : NULL;
        icalmemory_free_buffer(text);
        if (!*out)
            rc = MINGA_ENOMEM;
    }
    icalcomponent_free(cal);
    return rc;
}
