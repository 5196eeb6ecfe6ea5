#!/usr/bin/python3
"""The Jornada scored and scheduled through the broker, then every agenda e-mailed to a
loopback SMTP server (aiosmtpd), checked as a participant's mail program would see it:

- every message parses as MIME (email, policy.default): multipart/mixed with text, HTML and
  agenda.ics; Subject, To, Date (-0500), Message-ID and the X-Minga-* headers as expected;
- the text decodes to the expected Spanish, one numbered entry per meeting with its day, time
  and table, and the participant's name;
- the .ics parses with Python's icalendar: METHOD:PUBLISH, a VTIMEZONE America/Guayaquil, one
  VEVENT per meeting of `minga export meetings` with the same start and end instants, in
  America/Guayaquil (UTC-5), LOCATION "Mesa N", a unique UID per meeting;
- `minga outbox --json` has one sent row per participant with its Message-ID;
- a second `minga notify` sends nothing; a dry run writes PARTY-v1.eml for everyone.
test_notify_versions.py checks what a late change sends.
"""
import datetime
import json
import os
import sys
import zoneinfo

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from notify_lib import EVENT, Env, check, exactly_once, fail  # noqa: E402

import icalendar  # noqa: E402

GYE = zoneinfo.ZoneInfo("America/Guayaquil")


def meetings(env):
    rc, out, err = env.m("export", "meetings", "--event", EVENT, "--format", "json",
                         check_rc=True)
    by = {}
    for r in json.loads(out):
        for p, other in ((r["gad"], r["cooperante"]), (r["cooperante"], r["gad"])):
            by.setdefault(p, set()).add((r["slot"], r["table"], other, r["start"], r["end"]))
    return by


def parts(msg):
    text = msg.get_body(("plain",)).get_content()
    html = msg.get_body(("html",)).get_content()
    ics = None
    for part in msg.iter_attachments():
        if part.get_filename() == "agenda.ics":
            ics = icalendar.Calendar.from_ical(part.get_payload(decode=True))
    check(ics is not None, "no agenda.ics in %s" % msg["Message-ID"])
    return text, html, ics


def check_message(msg, party, email_addr, mine):
    check(msg.get_content_type() == "multipart/mixed", "not multipart/mixed")
    check(str(msg["Subject"]).startswith("Su agenda para la Jornada de Cooperación Internacional"
                                         " 2026"), "subject: %r" % str(msg["Subject"]))
    check(msg["To"].addresses[0].addr_spec == email_addr, "To: %r" % str(msg["To"]))
    check(msg["X-Minga-Event"] == EVENT, "X-Minga-Event")
    check(msg["Date"].datetime.utcoffset() == datetime.timedelta(hours=-5),
          "Date not in -0500: %s" % msg["Date"])
    check(msg["From"].addresses[0].addr_spec == "rueda@ame.gob.ec", "From")
    text, html, cal = parts(msg)
    check(text.startswith("Estimados representantes de "), "greeting: %r" % text[:80])
    check("Atentamente," in text and "Asociación de Municipalidades Ecuatorianas" in text,
          "closing")
    check(str(cal.get("METHOD")) == "PUBLISH", "METHOD")
    tzs = [str(t.get("TZID")) for t in cal.walk("VTIMEZONE")]
    check(tzs == ["America/Guayaquil"], "VTIMEZONE: %r" % tzs)
    events = cal.walk("VEVENT")
    standing = [e for e in events if str(e.get("STATUS")) == "CONFIRMED"]
    check(len(standing) == len(mine), "%s: %d VEVENTs, %d meetings" % (party, len(standing),
                                                                       len(mine)))
    if mine:
        check("Tienen %d reuni" % len(mine) in text, "count in the text of %s" % party)
    else:
        check("no tienen reuniones programadas" in text, "no-meeting text of %s" % party)
    want = {(datetime.datetime.fromisoformat(s), datetime.datetime.fromisoformat(e), t)
            for (_, t, _, s, e) in mine}
    got = set()
    for e in standing:
        st, en = e.decoded("DTSTART"), e.decoded("DTEND")
        check(str(st.tzinfo) == "America/Guayaquil", "tz %s" % st.tzinfo)
        check(st.utcoffset() == datetime.timedelta(hours=-5), "offset %s" % st.utcoffset())
        loc = str(e.get("LOCATION"))
        check(loc.startswith("Mesa "), "LOCATION %r" % loc)
        got.add((st, en, int(loc.split()[1])))
        local = st.astimezone(GYE).strftime("de %H:%M a ")
        check(local in text, "%s: time %s not in the text" % (party, local))
    check(got == want, "%s: calendar %r != meetings %r" % (party, sorted(got), sorted(want)))
    uids = [str(e.get("UID")) for e in events]
    check(len(set(uids)) == len(uids), "duplicate UIDs")
    return text, html, cal


def main():
    env = Env()
    env.up(notify=1)
    parties = {p["party"]: p.get("email") for p in env.participants() if p.get("email")}
    by = meetings(env)
    rc, out, err = env.m("notify", EVENT)
    if rc:
        env.logs()
        fail("notify: %s %s" % (out, err))
    msgs = env.messages()
    exactly_once(env, msgs, list(parties))
    check(len(msgs) == len(parties), "%d messages for %d parties" % (len(msgs), len(parties)))
    names_seen = 0
    for msg in msgs:
        p = msg["X-Minga-Party"]
        check(msg["X-Minga-Version"] == "1", "version of %s" % p)
        check(msg["Message-ID"] == "<minga.%s.%s.v1@minga.test>" % (EVENT, p), "Message-ID")
        text, html, cal = check_message(msg, p, parties[p], by.get(p, set()))
        names_seen += "<strong>" in html
        check("Cooperación Internacional" in text, "accents in the text of %s" % p)
    check(names_seen == len(msgs), "HTML greeting")
    rows = env.outbox()
    check(len(rows) == len(parties) and all(r["state"] == "sent" for r in rows), "outbox")
    for key in ("party", "version", "state", "attempts", "message_id"):
        check(all(key in r for r in rows), "outbox --json lacks %s" % key)
    # nothing changed: nothing sent
    rc, out, err = env.m("notify", EVENT, check_rc=True)
    check(env.count() == len(parties), "a second run sent again: %s" % out)
    check("0 enviados" in out and "%d sin cambios" % len(parties) in out, "summary: %r" % out)
    # dry run: one file per participant, the current version
    dry = os.path.join(env.store, "dry")
    env.m("notify", EVENT, "--dry-run", dry, check_rc=True)
    files = sorted(os.listdir(dry))
    check(files == sorted("%s-v1.eml" % p for p in parties), "dry run files: %r" % files[:5])

    print("%d participants, %d meetings, every message checked"
          % (len(parties), sum(len(v) for v in by.values()) // 2))


if __name__ == "__main__":
    main()
