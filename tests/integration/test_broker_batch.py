#!/usr/bin/python3
"""Batches on the worker socket (PROTOCOL.md §5), with a worker written from the document:

1. A worker whose READY asks for `batch` (after a WELCOME that shows `batch_max`) receives the
   leases of one commit in one JOBS message, never more jobs than its capacity, and answers
   several jobs with one DONE {items}; an item for a job it does not hold gets its own ERROR
   (with that id) and the other items still count.
2. A worker that does not ask for `batch` keeps receiving one JOB per job, and its single
   DONEs still work.
3. The C runtime (minga-test-worker, capacity 8) asks for `batch` by itself (WORKERS shows it)
   and runs 400 jobs to done, each with its own result, each leased once.
"""
import os
import signal
import subprocess
import sys
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from test_broker_proto import Broker, Client, Worker, bin_path, check  # noqa: E402


def worker_info(c, name):
    """The WORKERS entry of the worker called name (the C runtime adds "@host:pid")."""
    for w in c.call("WORKERS", {}, "WORKERS")[1]["workers"]:
        if w["name"] == name or w["name"].startswith(name + "@"):
            return w
    return None


def recv_skip_heartbeats(w, timeout_ms):
    deadline = time.time() + timeout_ms / 1000.0
    while time.time() < deadline:
        cmd, body = w.recv(100)
        if cmd is None or cmd == "HEARTBEAT":
            w.send("HEARTBEAT", {})
            continue
        return cmd, body
    return None, None


def part_python(b):
    c = Client(b)
    w = Worker(b, capacity=8, name="py-batch")
    check(w.welcome.get("batch_max", 0) >= 8, "WELCOME shows batch_max: %r" % w.welcome)
    w.send("READY", {"types": ["test.echo"], "capacity": 8, "name": "py-batch", "batch": 8})
    cmd, body = recv_skip_heartbeats(w, 5000)
    check(cmd == "WELCOME", "the second READY answered %s %r" % (cmd, body))
    info = worker_info(c, "py-batch")
    check(info and info["batch"] == 8 and info["capacity"] == 8, "WORKERS: %r" % info)

    n = 20
    cmd, r = c.call("BATCH", {"jobs": [{"type": "test.echo", "body": {"n": i}}
                                       for i in range(n)]}, "BATCH")
    ids = [j["id"] for j in r["jobs"]]
    sizes, done, errors = [], set(), []
    stranger_sent = False
    deadline = time.time() + 20
    while len(done) < n and time.time() < deadline:
        cmd, body = recv_skip_heartbeats(w, 5000)
        if cmd == "ERROR":
            errors.append(body)
            continue
        check(cmd == "JOBS", "a batch worker got %s %r" % (cmd, body))
        jobs = body["jobs"]
        sizes.append(len(jobs))
        check(2 <= len(jobs) <= 8, "JOBS of %d jobs (batch 8)" % len(jobs))
        for j in jobs:
            check(j["id"] in ids and j["state"] == "leased" and j["attempts"] == 1 and
                  j["body"] == {"n": ids.index(j["id"])} and j["worker"] == "py-batch",
                  "a job of JOBS: %r" % j)
            check(j["id"] not in done, "job %d sent twice" % j["id"])
        items = [{"id": j["id"], "result": {"twice": 2 * j["body"]["n"]}} for j in jobs]
        if not stranger_sent:  # one item for a job this worker does not hold
            items.insert(1, {"id": 424242, "result": "nope"})
            stranger_sent = True
        w.send("DONE", {"items": items, "rid": 5})
        done |= {j["id"] for j in jobs}
    check(len(done) == n, "all %d jobs came in JOBS messages: %d (%r)" % (n, len(done), sizes))
    check(sizes[0] == 8, "the first JOBS carried the 8 jobs leased in the commit that stored "
          "them: %r" % sizes)
    cmd, body = recv_skip_heartbeats(w, 1000) if not errors else ("ERROR", errors[0])
    check(cmd == "ERROR" and body["code"] == "not_found" and body["id"] == 424242 and
          body.get("rid") == 5, "the stranger item's own ERROR: %s %r" % (cmd, body))
    for i, jid in enumerate(ids):
        job = c.wait(jid, 10000)["job"]
        check(job["state"] == "done" and job["result"] == {"twice": 2 * i} and
              job["attempts"] == 1, "job %d: %r" % (jid, job))
    w.send("DISCONNECT", {"reason": "test"})
    w.close()

    # a worker that does not ask for batch: one JOB per job, single DONEs
    w1 = Worker(b, capacity=4, name="py-single")
    cmd, r = c.call("BATCH", {"jobs": [{"type": "test.echo", "body": {"k": i}}
                                       for i in range(6)]}, "BATCH")
    ids = [j["id"] for j in r["jobs"]]
    got = 0
    while got < len(ids):
        cmd, body = recv_skip_heartbeats(w1, 5000)
        check(cmd == "JOB", "a worker without batch got %s %r" % (cmd, body))
        job = body["job"]
        w1.send("DONE", {"id": job["id"], "result": job["body"]})
        got += 1
    for i, jid in enumerate(ids):
        job = c.wait(jid, 10000)["job"]
        check(job["state"] == "done" and job["result"] == {"k": i}, "job %d: %r" % (jid, job))
    w1.send("DISCONNECT", {"reason": "test"})
    w1.close()
    c.close()
    return n + len(ids)


def part_runtime(b):
    c = Client(b, timeout=20000)
    logf = open(os.path.join(b.store, "worker.log"), "w")
    worker = subprocess.Popen([bin_path("minga-test-worker"), "--store", b.store, "--capacity",
                               "8", "--name", "c-batch"], stdout=logf, stderr=logf)
    try:
        deadline = time.time() + 10
        info = None
        while time.time() < deadline:
            info = worker_info(c, "c-batch")
            if info and info["batch"] == 8:
                break
            time.sleep(0.05)
        check(info and info["batch"] == 8, "the C runtime asked for batch 8: %r" % info)
        n = 400
        cmd, r = c.call("BATCH", {"jobs": [{"type": "test.echo", "body": {"i": i}}
                                           for i in range(n)]}, "BATCH")
        ids = [j["id"] for j in r["jobs"]]
        for i, jid in enumerate(ids):
            job = c.wait(jid, 20000)["job"]
            check(job["state"] == "done" and job["result"] == {"i": i} and job["attempts"] == 1,
                  "job %d: %r" % (jid, {k: job.get(k) for k in ("state", "result", "attempts",
                                                                 "error")}))
        stats = c.call("STATS", {}, "STATS")[1]
        check(stats["totals"]["failed"] == 0 and stats["totals"]["expired"] == 0,
              "no failure, no expired lease: %r" % stats["totals"])
        worker.send_signal(signal.SIGTERM)
        check(worker.wait(10) == 0, "the worker drained and left cleanly")
        with open(os.path.join(b.store, "worker.log")) as f:
            log = f.read()
        check("answered" not in log, "the broker refused nothing of the worker:\n" + log[-2000:])
        c.close()
        return n
    finally:
        if worker.poll() is None:
            worker.kill()
            worker.wait()
        logf.close()


def main():
    b = Broker()
    try:
        a = part_python(b)
        r = part_runtime(b)
        check(b.alive(), "broker alive")
        check(b.stop() == 0, "clean stop")
        print("ok: %d jobs through a Python batch worker and a single-job one, %d through the "
              "C runtime with JOBS and DONE {items}" % (a, r))
    except BaseException:
        print(b.log_text(), file=sys.stderr)
        raise
    finally:
        b.cleanup()


if __name__ == "__main__":
    main()
