#!/usr/bin/python3
"""A worker that never answers (it heartbeats, but sends no DONE/FAIL/PROGRESS): each lease
expires, the worker gets CANCEL lease_expired, the job is retried with back-off and ends in
the dead set after max_attempts, with its last error. Also: retryable FAIL backs off and
PROGRESS extends the lease."""
import os
import sys
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from test_broker_proto import Broker, Client, Worker, check  # noqa: E402


def main():
    b = Broker(["--retry-base-ms", "200", "--retry-jitter-pct", "0", "--heartbeat-ms", "200"])
    try:
        c = Client(b)
        w = Worker(b, capacity=1, name="silent")
        jid = c.enqueue("test.echo", {"x": 1}, lease_ms=300, max_attempts=3)["id"]
        leases, cancels = [], []
        t0 = time.time()
        while time.time() - t0 < 10:
            cmd, body = w.recv(50)
            if cmd == "JOB":
                leases.append((body["job"]["attempts"], time.time() - t0))
            elif cmd == "CANCEL":
                check(body == {"id": jid, "reason": "lease_expired"}, "cancel %r" % body)
                cancels.append(time.time() - t0)
            w.send("HEARTBEAT", {})
            if c.status(jid)["state"] == "dead":
                break
        job = c.status(jid)
        check(job["state"] == "dead", "dead after the retries: %r" % job)
        check(job["attempts"] == 3 and [a for a, _ in leases] == [1, 2, 3],
              "three attempts: %r %r" % (job, leases))
        check(job["error"]["code"] == "lease_expired", "last error kept: %r" % job)
        check(len(cancels) == 3, "worker told of each expiry: %r" % cancels)
        # back-off: the second lease comes >= 300 ms (lease) + 200 ms (base) after the first
        check(leases[1][1] - leases[0][1] >= 0.45, "back-off before retry 1: %r" % leases)
        check(leases[2][1] - leases[1][1] >= 0.65, "doubled back-off before retry 2: %r" % leases)

        # PROGRESS extends the lease: a job reporting every 150 ms outlives lease_ms 300
        jid2 = c.enqueue("test.echo", lease_ms=300)["id"]
        job = w.next_job(3000)
        check(job["id"] == jid2, "second job leased")
        for i in range(8):
            time.sleep(0.15)
            w.send("PROGRESS", {"id": jid2, "done": i, "total": 8})
        check(c.status(jid2)["state"] == "leased", "still leased after 1.2 s of progress")
        w.send("FAIL", {"id": jid2, "code": "flaky", "message": "try again"})
        time.sleep(0.1)
        job = c.status(jid2)
        check(job["state"] == "failed" and job["error"]["code"] == "flaky"
              and job["not_before"] > 0, "retryable fail: %r" % job)
        again = w.next_job(3000)
        check(again and again["id"] == jid2 and again["attempts"] == 2, "retried: %r" % again)
        w.send("FAIL", {"id": jid2, "retryable": False, "code": "fatal", "message": "no"})
        r = c.wait(jid2, 3000)
        check(r["job"]["state"] == "dead" and r["job"]["error"]["code"] == "fatal",
              "not retryable -> dead: %r" % r)
        # the dead set, listed
        cmd, r = c.call("LIST", {"state": "dead"}, "LIST")
        check(sorted(j["id"] for j in r["jobs"]) == sorted([jid, jid2]), "dead set %r" % r)
        check(b.stop() == 0, "clean stop")
        print("ok: lease expiry, back-off, dead set")
    except BaseException:
        print(b.log_text()[-3000:], file=sys.stderr)
        raise
    finally:
        b.cleanup()


if __name__ == "__main__":
    main()
