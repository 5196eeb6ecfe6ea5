#!/usr/bin/python3
"""The Jornada's agendas against a loopback SMTP server (aiosmtpd) that answers 550 for one
address: that participant's message ends failed with the server's reason (tried once), every
other participant's is sent, the command still succeeds, and a second run sends nothing.
Before the event has a timetable, minga notify refuses (exit 1) and sends nothing."""
import os
import sys
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from notify_lib import EVENT, Env, check, exactly_once, fail  # noqa: E402

SMTP = "    tries = 4\n    backoff_ms = 50\n"


def parties_of(env):
    return {p["party"]: p.get("email") for p in env.participants() if p.get("email")}


def reject_one():
    # an event never scheduled: nobody is told "no meetings" before there is a timetable
    probe = Env(smtp_extra=SMTP, schedule=False)
    parties = parties_of(probe)
    probe.up(notify=1)
    rc, out, err = probe.m("notify", EVENT)
    check(rc == 1 and "no timetable" in err, "notify before a schedule: %d %r" % (rc, err))
    check(probe.count() == 0 and probe.outbox() == [], "something was sent before a schedule")
    probe.cleanup()
    counts = {}
    for e in parties.values():
        counts[e] = counts.get(e, 0) + 1
    victim = sorted(e for e, n in counts.items() if n == 1)[0]
    party = [p for p, e in parties.items() if e == victim][0]
    env = Env(server_args=["--reject", victim], smtp_extra=SMTP)
    env.up(notify=1)
    rc, out, err = env.m("notify", EVENT)
    check(rc == 0, "notify with one 550: exit %d: %s %s" % (rc, out, err))
    check("1 fallidos" in out, "summary: %r" % out)
    failed = env.outbox("--state", "failed")
    check([r["party"] for r in failed] == [party], "failed: %r, want %s" % (failed, party))
    check("550" in failed[0]["error"], "reason: %r" % failed[0]["error"])
    check(failed[0]["attempts"] == 1, "a 550 was tried again: %r" % failed[0])
    sent = env.outbox("--state", "sent")
    check(len(sent) == len(parties) - 1, "sent %d, want %d" % (len(sent), len(parties) - 1))
    msgs = env.messages()
    check(len(msgs) == len(parties) - 1, "server got %d" % len(msgs))
    check(all(m["X-Minga-Party"] != party for m in msgs), "the refused one arrived")
    # the text view names the reason too
    rc, out, err = env.m("outbox", "--event", EVENT, "--state", "failed", check_rc=True)
    check(party in out and "550" in out, "outbox text: %r" % out)
    # running again sends nothing: failed is final until the agenda changes
    rc, out, err = env.m("notify", EVENT, check_rc=True)
    check("0 enviados" in out, "second run: %r" % out)
    env.cleanup()


if __name__ == "__main__":
    t0 = time.time()
    reject_one()
    print("%.1f s" % (time.time() - t0))
