#!/usr/bin/python3
"""Only changed agendas get a new version: the Jornada scored, scheduled and e-mailed to a
loopback SMTP server (aiosmtpd); then a late change (one busy cooperante's availability cut to
the slot of its first meeting, participants imported again, `minga rueda reschedule`) and
`minga notify` again: exactly the participants whose meetings changed get version 2
("(versión 2)" in the subject, X-Minga-Version 2, a new Message-ID), each checked as in
test_notify_mail.py, and their calendars mark the dropped meetings STATUS:CANCELLED; a third
run sends nothing.
"""
import csv
import io
import os
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from notify_lib import EVENT, Env, check, fail  # noqa: E402
from test_notify_mail import check_message, meetings  # noqa: E402


def main():
    env = Env()
    env.up(notify=1)
    parties = {p["party"]: p.get("email") for p in env.participants() if p.get("email")}
    by = meetings(env)
    rc, out, err = env.m("notify", EVENT)
    if rc:
        env.logs()
        fail("notify: %s %s" % (out, err))
    check(env.count() == len(parties), "first run: %d messages" % env.count())

    # a late change: one busy cooperante keeps only the slot of its first meeting
    coop = max((p for p in by if p.startswith("coop")), key=lambda p: len(by[p]))
    keep = min(by[coop])[0]
    path = os.path.join(env.store, "data", "participants.csv")
    raw = open(path, encoding="utf-8-sig").read()
    rows_csv = list(csv.reader(io.StringIO(raw), delimiter=";"))
    hdr = rows_csv[0]
    for r in rows_csv[1:]:
        if r[hdr.index("party")] == coop:
            r[hdr.index("available_slots")] = str(keep)
    with open(path, "w", encoding="utf-8-sig", newline="") as f:
        csv.writer(f, delimiter=";", lineterminator="\r\n").writerows(rows_csv)
    env.m("import", "participants", path, "--event", EVENT, check_rc=True)
    env.m("rueda", "reschedule", EVENT, check_rc=True)
    after = meetings(env)
    changed = {p for p in parties if by.get(p, set()) != after.get(p, set())}
    check(coop in changed and len(changed) >= 2, "the change changed nothing: %r" % changed)
    before_n = env.count()
    rc, out, err = env.m("notify", EVENT, check_rc=True)
    msgs2 = env.messages(before_n)
    got = {m["X-Minga-Party"] for m in msgs2}
    check(got == changed, "new versions for %r, changed %r" % (sorted(got), sorted(changed)))
    for msg in msgs2:
        p = msg["X-Minga-Party"]
        check(msg["X-Minga-Version"] == "2" and "(versión 2)" in str(msg["Subject"]),
              "v2 of %s" % p)
        text, html, cal = check_message(msg, p, parties[p], after.get(p, set()))
        dropped = by.get(p, set()) - after.get(p, set())
        cancelled = [e for e in cal.walk("VEVENT") if str(e.get("STATUS")) == "CANCELLED"]
        check(len(cancelled) == len(dropped), "%s: %d cancelled VEVENTs, %d dropped"
              % (p, len(cancelled), len(dropped)))
        if dropped:
            check("Reuniones canceladas" in text, "%s: no cancelled list" % p)
    check(len(env.outbox("--state", "sent")) == len(parties) + len(changed), "outbox after")
    rc, out, err = env.m("notify", EVENT, check_rc=True)
    check(env.count() == before_n + len(changed), "a third run sent again: %s" % out)
    print("%d participants; late change: %d new versions" % (len(parties), len(changed)))


if __name__ == "__main__":
    main()
