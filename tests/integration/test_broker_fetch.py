#!/usr/bin/python3
"""FETCH (schemas/PROTOCOL.md §5, issue 9's remote workers): a worker reads the result of a
parent of a job it holds.

Part 1, a worker written in Python from the protocol: FETCH of a parent gives FETCHED with its
result; a done job that is not a parent of a held job is forbidden (also for a second worker
that holds nothing); a job not done is invalid_state; an unknown id is not_found; hostile FETCH
bodies get bad_body; an unregistered peer gets DISCONNECT. A DONE of several MiB (above
max_body, below max_result) makes the job done and goes out again through FETCH byte for byte;
a DONE above max_result gets too_big and the job stays leased; any other message above max_body
is too_big.

Part 2, minga-test-worker through the C runtime (minga_task_fetch): three children of one
parent with a 3 MB result on one worker of capacity 2 all read it, with ONE FETCH (the broker's
minga_fetches_total and minga_fetched_bytes_total say so: the cache and the shared in-flight
FETCH); a child of two parents reads both, in order; a child of six parents reads them all (results it
holds outlive the cache of four), and a second one fetches all six again; a fetch of a job that is not one of the
task's parents fails the job (fetch_refused), even when that result sits in the worker's cache;
a result above max_result ends the job dead (result_too_big) instead of a lease that runs out.

Part 3, the runtime against a broker played by hand: a FETCH nobody answers fails the job
after its lease time while heartbeats go on; an answer with a wrong rid is dropped; a FETCHED
above the worker's max_body fails that fetch naming the limit; a cached result needs no FETCH;
an ERROR with a FETCH's rid is a refusal.
"""
import os
import re
import subprocess
import sys
import time
import urllib.request

import msgpack
import zmq

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from test_broker_proto import VERSION, Broker, Client, Worker, bin_path, check  # noqa: E402

MIB = 1 << 20
MAX_RESULT = 8 * MIB


def pattern(n):
    """The bytes test.echo's result_bytes makes: byte i = i * 31 % 251."""
    block = bytes(i * 31 % 251 for i in range(251))
    return (block * (n // 251 + 1))[:n]


def fetch(w, rid, body, timeout=5000):
    """Sends FETCH with body (rid added when it is a dict) and returns the reply for rid."""
    if isinstance(body, dict):
        body = dict(body, rid=rid)
        w.send("FETCH", body)
    else:
        w.sock.send_multipart([b"", VERSION, b"FETCH", body])
    deadline = time.time() + timeout / 1000.0
    while time.time() < deadline:
        cmd, r = w.recv(200)
        if cmd in ("FETCHED", "ERROR"):
            return cmd, r
        if cmd is None or cmd == "HEARTBEAT":
            w.send("HEARTBEAT", {})
    check(False, "no answer to FETCH %r" % (body,))


def error_for(w, command, body, timeout=5000):
    w.send(command, body)
    deadline = time.time() + timeout / 1000.0
    while time.time() < deadline:
        cmd, r = w.recv(200)
        if cmd == "ERROR":
            return r
        if cmd is None or cmd == "HEARTBEAT":
            w.send("HEARTBEAT", {})
    check(False, "no ERROR for %s" % command)


def metrics(b):
    with open(os.path.join(b.store, "run", "metrics")) as f:
        addr = f.read().strip()
    with urllib.request.urlopen("http://%s/metrics" % addr, timeout=5) as r:
        text = r.read().decode()
    out = {}
    for line in text.splitlines():
        m = re.match(r'^(minga_fetch\w*|minga_worker_bytes\w*)(\{[^}]*\})? (\d+)$', line)
        if m:
            out[m.group(1) + (m.group(2) or "")] = int(m.group(3))
    return out


def part_python():
    b = Broker(["--max-result", str(MAX_RESULT), "--metrics", "127.0.0.1:0"])
    try:
        c = Client(b, timeout=20000)
        w = Worker(b, capacity=4, name="py-fetch")
        check(w.welcome.get("max_result") == MAX_RESULT, "WELCOME max_result %r" % w.welcome)

        # a parent, done with a small result; another done job that is no parent
        p = c.enqueue("test.echo", {"p": 1})["id"]
        job = w.next_job()
        check(job and job["id"] == p, "parent leased %r" % job)
        w.send("DONE", {"id": p, "result": {"datos": "del padre", "n": [1, 2, 3]}})
        other = c.enqueue("test.echo", {"otro": 1})["id"]
        job = w.next_job()
        check(job and job["id"] == other, "other leased %r" % job)
        w.send("DONE", {"id": other, "result": "otro"})
        check(c.wait(p)["job"]["state"] == "done" and c.wait(other)["job"]["state"] == "done",
              "parents done")
        # a job that is not done: a known type nobody serves stays queued
        queued = c.enqueue("match.schedule", {"event": "x"})["id"]

        child = c.enqueue("test.echo", {"hijo": 1}, parents=[p])["id"]
        job = w.next_job()
        check(job and job["id"] == child and job["parents"] == [p], "child leased %r" % job)

        cmd, r = fetch(w, 1, {"id": p})
        check(cmd == "FETCHED" and r["rid"] == 1 and r["id"] == p and
              r["result"] == {"datos": "del padre", "n": [1, 2, 3]}, "FETCHED %s %r" % (cmd, r))
        cmd, r = fetch(w, 2, {"id": other})
        check(cmd == "ERROR" and r["code"] == "forbidden" and r["id"] == other and r["rid"] == 2,
              "not a parent: %s %r" % (cmd, r))
        cmd, r = fetch(w, 3, {"id": queued})
        check(cmd == "ERROR" and r["code"] == "invalid_state" and r["id"] == queued,
              "not done: %s %r" % (cmd, r))
        cmd, r = fetch(w, 4, {"id": 987654})
        check(cmd == "ERROR" and r["code"] == "not_found" and r["id"] == 987654,
              "unknown: %s %r" % (cmd, r))
        cmd, r = fetch(w, 5, {"id": child})
        check(cmd == "ERROR" and r["code"] == "invalid_state", "the held job itself: %r" % r)

        # hostile bodies
        for body in ({}, {"id": "1"}, {"id": -1}, {"id": 0}, {"id": 1.5}, {"id": None},
                     {"id": [p]}, {"id": p, "extra": 1}, {"id": {"x": 1}}):
            cmd, r = fetch(w, 10, body)
            check(cmd == "ERROR" and r["code"] == "bad_body", "hostile %r: %s %r" % (body, cmd, r))
        for raw in (b"", b"\x91\x01", b"\xc1", b"\x81\xa2id", msgpack.packb([1, 2]),
                    b"\x82\xa2id\x01\xa2id\x02"):
            cmd, r = fetch(w, 0, raw)
            check(cmd == "ERROR" and r["code"] == "bad_body", "hostile raw %r: %s %r" % (raw, cmd, r))

        # a second worker that holds nothing may not read the parent
        w2 = Worker(b, capacity=1, name="py-other")
        cmd, r = fetch(w2, 1, {"id": p})
        check(cmd == "ERROR" and r["code"] == "forbidden", "second worker: %s %r" % (cmd, r))
        w2.close()
        # an unregistered peer is told to register
        s = zmq.Context.instance().socket(zmq.DEALER)
        s.setsockopt(zmq.LINGER, 0)
        s.connect(b.endpoint("workers"))
        s.send_multipart([b"", VERSION, b"FETCH", msgpack.packb({"rid": 1, "id": p})])
        check(s.poll(5000), "no answer to an unregistered FETCH")
        frames = s.recv_multipart()
        check(frames[2] == b"DISCONNECT", "unregistered FETCH: %r" % frames[:3])
        s.close(0)
        w.send("DONE", {"id": child, "result": None})

        # a result of several MiB: above max_body, below max_result
        big = pattern(3 * MIB + 17)
        bp = c.enqueue("test.echo", {"grande": 1})["id"]
        job = w.next_job()
        check(job and job["id"] == bp, "big parent leased %r" % job)
        w.send("DONE", {"id": bp, "result": big})
        check(c.wait(bp)["job"]["state"] == "done", "big DONE accepted")
        bc = c.enqueue("test.echo", {"hijo": 2}, parents=[bp])["id"]
        job = w.next_job()
        check(job and job["id"] == bc, "big child leased %r" % job)
        cmd, r = fetch(w, 20, {"id": bp}, timeout=20000)
        check(cmd == "FETCHED" and r["result"] == big, "big FETCHED (%s, %d bytes)" %
              (cmd, len(r.get("result") or b"")))
        w.send("DONE", {"id": bc, "result": None})

        # a DONE above max_result: too_big, the job is not done
        t = c.enqueue("test.echo", {"enorme": 1})["id"]
        job = w.next_job()
        check(job and job["id"] == t, "huge job leased %r" % job)
        r = error_for(w, "DONE", {"id": t, "result": b"\x00" * (MAX_RESULT + MIB)}, 20000)
        check(r["code"] == "too_big", "huge DONE: %r" % r)
        check(c.status(t)["state"] == "leased", "huge DONE left the job leased")
        # any other command above max_body is too_big
        r = error_for(w, "PROGRESS", {"id": t, "text": "x" * (2 * MIB)})
        check(r["code"] == "too_big", "big PROGRESS: %r" % r)
        r = error_for(w, "FETCH", {"rid": 30, "id": bp, "x": "y" * (2 * MIB)})
        check(r["code"] == "too_big", "big FETCH: %r" % r)
        w.send("DONE", {"id": t, "result": "pequeño"})
        check(c.wait(t)["job"]["state"] == "done", "the job ends with a DONE that fits")

        m = metrics(b)
        check(m.get('minga_fetches_total{outcome="fetched"}') == 2, "fetched count %r" % m)
        check(m.get('minga_fetched_bytes_total', 0) > 3 * MIB, "fetched bytes %r" % m)
        check(m.get('minga_worker_bytes_received_total', 0) > MAX_RESULT + 4 * MIB,
              "bytes received %r" % m)
        check(m.get('minga_worker_bytes_sent_total', 0) > 3 * MIB, "bytes sent %r" % m)
        check(b.alive(), "broker alive")
        w.close()
        c.close()
    finally:
        b.cleanup()


def part_runtime():
    b = Broker(["--max-result", str(MAX_RESULT), "--metrics", "127.0.0.1:0"])
    worker = None
    try:
        c = Client(b, timeout=20000)
        logf = open(os.path.join(b.store, "worker.log"), "w")
        worker = subprocess.Popen([bin_path("minga-test-worker"), "--store", b.store,
                                   "--capacity", "2"], stdout=logf, stderr=logf)
        size = 3 * MIB
        cmd, r = c.call("BATCH", {"jobs": [
            {"type": "test.echo", "body": {"result_bytes": size}},
            {"type": "test.echo", "body": {"result_bytes": 5}},
            {"type": "test.echo", "body": {"fetch": True}, "after": [0]},
            {"type": "test.echo", "body": {"fetch": True}, "after": [0]},
            {"type": "test.echo", "body": {"fetch": True, "sleep_ms": 300}, "after": [0]},
            {"type": "test.echo", "body": {"fetch": True}, "after": [1, 0]},
        ]}, "BATCH")
        ids = [j["id"] for j in r["jobs"]]
        for i in ids:
            job = c.wait(i)["job"]
            check(job["state"] == "done", "job %d: %r" % (i, {k: job.get(k) for k in ("state", "error")}))
        big = pattern(size)
        for i in ids[2:5]:
            res = c.status(i)["result"]
            check(isinstance(res, list) and len(res) == 1 and res[0] == big,
                  "child %d read its parent's %d bytes" % (i, size))
        res = c.status(ids[5])["result"]
        check(res == [pattern(5), big], "two parents, in order: %r" % (res[:1],))
        m = metrics(b)
        fetched = m.get('minga_fetches_total{outcome="fetched"}')
        # one FETCH for the big parent (three children, one worker), one for the small one
        check(fetched == 2, "the worker fetched the shared result once: %r" % m)
        check(size < m.get('minga_fetched_bytes_total', 0) < size + 4096, "fetched bytes %r" % m)

        # more parents than the cache holds (MINGA_WORKER_FETCH_CACHE = 4): what a handler
        # fetched stays valid until it returns even when the cache lets it go, and a second
        # child reading the six in the same order finds none of them cached (an LRU of four
        # walked in order): 6 + 6 more FETCHes
        cmd, r = c.call("BATCH", {"jobs": [{"type": "test.echo", "body": {"result_bytes": 100 + k}}
                                           for k in range(6)] +
                                  [{"type": "test.echo", "body": {"fetch": True},
                                    "after": list(range(6))}]}, "BATCH")
        six = [j["id"] for j in r["jobs"]]
        check(c.wait(six[6])["job"]["state"] == "done", "child of six")
        second = c.enqueue("test.echo", {"fetch": True}, parents=six[:6])["id"]
        check(c.wait(second)["job"]["state"] == "done", "second child of six")
        want = [pattern(100 + k) for k in range(6)]
        check(c.status(six[6])["result"] == want and c.status(second)["result"] == want,
              "six parents read in order")
        m = metrics(b)
        check(m.get('minga_fetches_total{outcome="fetched"}') == fetched + 12,
              "an LRU cache of four: %r" % m)

        # a job that is not one of the task's parents is refused by the runtime, even when its
        # result is in the worker's cache (the broker's own check is part 1's)
        j1 = c.enqueue("test.echo", {"fetch": [ids[1]]}, parents=[ids[0]])["id"]
        job = c.wait(j1)["job"]
        err = job.get("error") or {}
        check(job["state"] == "dead" and err.get("code") == "fetch_refused" and
              "is not a parent of job %d" % j1 in err.get("message", ""),
              "refused fetch %d: %r" % (j1, err))

        # a result above max_result: the runtime fails the job at once
        t0 = time.time()
        j3 = c.enqueue("test.echo", {"result_bytes": MAX_RESULT + 1})["id"]
        job = c.wait(j3)["job"]
        err = job.get("error") or {}
        check(job["state"] == "dead" and err.get("code") == "result_too_big" and
              "max_result" in err.get("message", ""), "too big a result: %r" % err)
        check(time.time() - t0 < 10, "result_too_big took %.1f s" % (time.time() - t0))
        check(worker.poll() is None, "the worker is alive")
        c.close()
    finally:
        if worker and worker.poll() is None:
            worker.terminate()
            try:
                worker.wait(10)
            except subprocess.TimeoutExpired:
                worker.kill()
        b.cleanup()


class FakeBroker:
    """A ROUTER on STORE/run/workers that speaks the broker's side of §5 by hand, to drive the
    runtime where a real broker would not go: silence, a wrong rid, an oversized FETCHED."""

    def __init__(self):
        import tempfile
        self.store = tempfile.mkdtemp(prefix="minga-", dir="/tmp")
        os.makedirs(os.path.join(self.store, "run"), mode=0o700)
        self.sock = zmq.Context.instance().socket(zmq.ROUTER)
        self.sock.setsockopt(zmq.LINGER, 0)
        self.sock.bind("ipc://%s/run/workers" % os.path.realpath(self.store))
        self.peer = None
        self.heartbeats = 0

    def send(self, command, body):
        self.sock.send_multipart([self.peer, b"", VERSION, command.encode(), msgpack.packb(body)])

    def recv(self, want, timeout=10.0):
        """The next message of a command in want (heartbeats counted and answered)."""
        deadline = time.time() + timeout
        while time.time() < deadline:
            if not self.sock.poll(100):
                continue
            frames = self.sock.recv_multipart()
            self.peer = frames[0]
            cmd, body = frames[3].decode(), msgpack.unpackb(frames[4], raw=False)
            if cmd == "HEARTBEAT":
                self.heartbeats += 1
                self.send("HEARTBEAT", {})
            if cmd in want:
                return cmd, body
        check(False, "fake broker: no %s within %.0f s" % (want, timeout))

    def job(self, jid, parents, body, lease_ms=30000):
        self.send("JOB", {"job": {"v": 1, "id": jid, "type": "test.echo", "state": "leased",
                                  "priority": 128, "attempts": 1, "max_attempts": 5,
                                  "lease_ms": lease_ms, "parents": parents, "body": body,
                                  "created_at": 1, "updated_at": 1}})


def part_fake_broker():
    fb = FakeBroker()
    worker = None
    try:
        logf = open(os.path.join(fb.store, "worker.log"), "w")
        worker = subprocess.Popen([bin_path("minga-test-worker"), "--store", fb.store,
                                   "--heartbeat", "200"], stdout=logf, stderr=logf)
        fb.recv(("READY",))
        fb.send("WELCOME", {"heartbeat_ms": 200, "liveness": 5, "max_body": MIB,
                            "max_result": 24 * MIB})
        # a FETCH nobody answers: the handler gives up after the job's lease time, and the
        # heartbeats go on meanwhile
        fb.job(10, [5], {"fetch": True}, lease_ms=1500)
        cmd, r = fb.recv(("FETCH",))
        check(r["id"] == 5 and r.get("rid", 0) > 0, "FETCH %r" % r)
        fb.heartbeats = 0
        cmd, r = fb.recv(("FAIL", "DONE"), 10)
        check(cmd == "FAIL" and r["id"] == 10 and r["code"] == "fetch_failed" and
              "did not answer" in r["message"], "unanswered FETCH: %s %r" % (cmd, r))
        check(fb.heartbeats >= 4, "heartbeats while the handler waited: %d" % fb.heartbeats)
        # an answer with a wrong rid is dropped, the right one taken; a FETCHED above the
        # worker's own max_body (16 MiB) but within the broker's max_result (24 MiB) is taken
        # (it carries a result the broker accepted); one above both fails that fetch, naming
        # the limit
        fb.job(11, [6, 7], {"fetch": True})
        cmd, r = fb.recv(("FETCH",))
        check(r["id"] == 6, "FETCH 6 %r" % r)
        fb.send("FETCHED", {"rid": r["rid"] + 1000, "id": 6, "result": "otro"})
        fb.send("FETCHED", {"rid": r["rid"], "id": 6, "result": "seis"})
        cmd, r = fb.recv(("FETCH",))
        check(r["id"] == 7, "FETCH 7 %r" % r)
        fb.send("FETCHED", {"rid": r["rid"], "id": 7, "result": b"\x00" * (17 * MIB)})
        cmd, r = fb.recv(("FAIL", "DONE"), 20)
        check(cmd == "DONE" and r["id"] == 11, "FETCHED of 17 MiB under max_result: %s %r"
              % (cmd, {k: (v if k != "result" else "...") for k, v in r.items()}))
        fb.job(13, [8], {"fetch": True})
        cmd, r = fb.recv(("FETCH",))
        check(r["id"] == 8, "FETCH 8 %r" % r)
        fb.send("FETCHED", {"rid": r["rid"], "id": 8, "result": b"\x00" * (25 * MIB)})
        cmd, r = fb.recv(("FAIL", "DONE"), 20)
        check(cmd == "FAIL" and r["id"] == 13 and r["code"] == "fetch_failed" and
              "at most" in r["message"], "oversized FETCHED: %s %r" % (cmd, r))
        # the result of 6 is cached: a second child reads it without a FETCH
        fb.job(12, [6], {"fetch": True})
        cmd, r = fb.recv(("DONE", "FAIL", "FETCH"))
        check(cmd == "DONE" and r["id"] == 12 and r["result"] == ["seis"],
              "cached result: %s %r" % (cmd, r))
        # an ERROR answering a FETCH reaches the handler as a refusal
        fb.job(13, [8], {"fetch": True})
        cmd, r = fb.recv(("FETCH",))
        fb.send("ERROR", {"rid": r["rid"], "id": 8, "code": "forbidden", "message": "no"})
        cmd, r = fb.recv(("FAIL", "DONE"))
        check(cmd == "FAIL" and r["code"] == "fetch_refused" and "forbidden" in r["message"],
              "refused: %s %r" % (cmd, r))
        check(worker.poll() is None, "the worker is alive")
    finally:
        if worker and worker.poll() is None:
            worker.kill()
            worker.wait()
        fb.sock.close(0)
        import shutil
        shutil.rmtree(fb.store, ignore_errors=True)


def main():
    part_python()
    part_runtime()
    part_fake_broker()
    print("ok")


if __name__ == "__main__":
    main()
