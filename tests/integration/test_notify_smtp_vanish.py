#!/usr/bin/python3
"""The Jornada's agendas against a loopback SMTP server (aiosmtpd) that vanishes in the middle
of the batch (the 100th message is stored but never answered) and comes back a second later:
the job is retried by the broker and resumes with the messages left pending; in the end every
participant has exactly one distinct Message-ID, nobody is missing, the outbox is all sent."""
import os
import sys
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from notify_lib import EVENT, Env, check, exactly_once, fail  # noqa: E402

SMTP = "    tries = 4\n    backoff_ms = 50\n"


def parties_of(env):
    return {p["party"]: p.get("email") for p in env.participants() if p.get("email")}


def vanish_and_back():
    env = Env(server_args=["--vanish-after", "100"], smtp_extra=SMTP)
    parties = parties_of(env)
    env.up(notify=1)
    rc, out, err = env.m("notify", EVENT, "--detach", "--shards", "1", check_rc=True)
    job = out.strip()
    t0 = time.time()
    while env.server.poll() is None and time.time() - t0 < 20:
        time.sleep(0.05)
    check(env.server.poll() is not None, "the server did not vanish")
    time.sleep(1.0)
    env.start_server(extra=[])
    rc, out, err = env.m("wait", job, timeout=120)
    if rc != 0:
        env.logs()
        fail("job after the server came back: %s %s" % (out, err))
    rc, out, err = env.m("job", job, "--json", check_rc=True)
    check('"attempts":1' not in out.replace(" ", ""), "the job was not retried: %s" % out)
    msgs = env.messages(headers_only=True)
    seen = exactly_once(env, msgs, list(parties))
    check(len(seen) == len(parties), "reached %d of %d" % (len(seen), len(parties)))
    rows = env.outbox()
    check(all(r["state"] == "sent" for r in rows), "not all sent")
    print("vanish: %d messages for %d parties" % (len(msgs), len(parties)))
    env.cleanup()


if __name__ == "__main__":
    t0 = time.time()
    vanish_and_back()
    print("%.1f s" % (time.time() - t0))
