#!/usr/bin/python3
"""Recovery after kill -9 of the broker: waiting jobs keep waiting on their parents, a failed
job keeps its retry, a leased job comes back with its attempt counted (worker_lost), a delayed
job keeps its not-before time, idempotency keys still name their jobs, ids are never reused,
and everything then completes."""
import os
import sys
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from test_broker_proto import Broker, Client, Worker, check  # noqa: E402


def main():
    b = Broker(["--retry-base-ms", "1500", "--retry-jitter-pct", "0"])
    try:
        c = Client(b)
        cmd, r = c.call("BATCH", {"jobs": [
            {"type": "test.echo", "body": "parent", "key": "rec-parent"},
            {"type": "test.echo", "body": "child", "after": [0]},
            {"type": "test.echo", "body": "to-fail", "priority": 1},
            {"type": "test.echo", "body": "to-hold", "priority": 2},
            {"type": "test.echo", "body": "delayed", "delay_ms": 2500}]}, "BATCH")
        parent, child, to_fail, to_hold, delayed = [j["id"] for j in r["jobs"]]
        w = Worker(b, capacity=2)
        j1, j2 = w.next_job(), w.next_job()
        check({j1["id"], j2["id"]} == {to_fail, to_hold}, "priorities first: %r %r" % (j1, j2))
        w.send("FAIL", {"id": to_fail, "code": "flaky", "message": "later"})
        time.sleep(0.3)
        check(c.status(to_fail)["state"] == "failed", "failed before the kill")
        check(c.status(to_hold)["state"] == "leased", "leased before the kill")
        w.close()
        b.kill9()
        b.start()
        c = Client(b)
        check(c.status(child)["state"] == "waiting", "child still waiting")
        # the parent was queued, or leased when the slot of the failed job freed up
        check(c.status(parent)["state"] in ("queued", "failed"), "parent still to run")
        held = c.status(to_hold)
        check(held["state"] == "queued" or held["state"] == "failed", "lease back: %r" % held)
        check(held["attempts"] == 1 and held["error"]["code"] == "worker_lost",
              "attempt counted, worker_lost: %r" % held)
        f = c.status(to_fail)
        check(f["state"] == "failed" and f["error"]["code"] == "flaky", "failed kept: %r" % f)
        again = c.enqueue("test.echo", "dup", key="rec-parent")
        check(again["id"] == parent and again["created"] is False, "key survives: %r" % again)
        fresh = c.enqueue("test.echo", "fresh")
        check(fresh["id"] > delayed, "ids never reused: %r" % fresh)
        w = Worker(b, capacity=1)
        order = []
        t0 = time.time()
        while len(order) < 6 and time.time() - t0 < 15:
            job = w.next_job(500)
            if job:
                order.append((job["id"], time.time() - t0))
                w.send("DONE", {"id": job["id"], "result": job["body"]})
        ids = [i for i, _ in order]
        check(sorted(ids) == sorted([parent, child, to_fail, to_hold, delayed, fresh["id"]]),
              "all ran once more: %r" % order)
        check(ids.index(child) > ids.index(parent), "child after its parent: %r" % order)
        when = dict(order)
        check(when[delayed] >= 1.5, "delay kept across the restart: %r" % order)
        for jid in ids:
            check(c.wait(jid, 5000)["job"]["state"] == "done", "job %d done" % jid)
        check(c.status(to_hold)["attempts"] == 2, "held job shows both attempts")
        check(b.stop() == 0, "clean stop")
        print("ok: waiting, failed, leased, delayed jobs and keys recovered")
    except BaseException:
        print(b.log_text()[-3000:], file=sys.stderr)
        raise
    finally:
        b.cleanup()


if __name__ == "__main__":
    main()
