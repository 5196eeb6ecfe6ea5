#!/usr/bin/python3
"""The Jornada's agendas against a loopback SMTP server (aiosmtpd) that answers 421 to the
first three messages, then 250: the message is tried again with back-off inside the job and
everything is sent, the first message after 4 attempts, each participant exactly once.

Before that, the same server with `starttls = "required"` in the configuration (it offers no
STARTTLS): the session is refused, the job ends dead (smtp_refused), nothing reaches the
server, and the message stays pending with the reason; once the setting is fixed it goes out
with the Message-ID it was given then."""
import os
import sys
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from notify_lib import EVENT, Env, check, exactly_once, fail  # noqa: E402

SMTP = "    tries = 4\n    backoff_ms = 50\n"


def parties_of(env):
    return {p["party"]: p.get("email") for p in env.participants() if p.get("email")}


def starttls_refused(env, parties):
    party = sorted(parties)[0]
    env.smtp_extra = SMTP + '    starttls = "required"\n'
    env.write_config()
    env.up(notify=1)
    rc, out, err = env.m("notify", EVENT, "--party", party)
    check(rc == 1 and "smtp_refused" in err, "STARTTLS required: exit %d %r" % (rc, err))
    rows = env.outbox()
    check(len(rows) == 1 and rows[0]["state"] == "pending" and rows[0]["error"],
          "after a refused session: %r" % rows)
    check(env.count() == 0, "a message reached the server without STARTTLS")
    env.m("down", "--drain-timeout", "5", check_rc=True)
    env.smtp_extra = SMTP
    env.write_config()
    return party, rows[0]["message_id"]


def temp_then_ok():
    env = Env(server_args=["--temp-fail", "3"], smtp_extra=SMTP)
    parties = parties_of(env)
    party, msgid = starttls_refused(env, parties)
    env.up(notify=1)
    rc, out, err = env.m("notify", EVENT, "--shards", "1")
    if rc != 0:
        env.logs()
        fail("notify after 421s: exit %d: %s %s" % (rc, out, err))
    check("%d enviados" % len(parties) in out, "summary: %r" % out)
    rows = env.outbox()
    check(all(r["state"] == "sent" for r in rows), "not all sent after 421s")
    check(max(r["attempts"] for r in rows) >= 4, "no message took 4 attempts: %r"
          % sorted({r["attempts"] for r in rows}))
    mine = [r for r in rows if r["party"] == party]
    check(len(mine) == 1 and mine[0]["message_id"] == msgid and mine[0]["version"] == 1,
          "the refused message was not sent as it was stored: %r" % mine)
    check(any(r["reply"].startswith("250") for r in rows), "no 250 reply kept")
    exactly_once(env, env.messages(), parties)
    env.cleanup()


if __name__ == "__main__":
    t0 = time.time()
    temp_then_ok()
    print("%.1f s" % (time.time() - t0))
