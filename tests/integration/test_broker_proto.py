#!/usr/bin/python3
"""Protocol conformance: a client and a worker written in Python from schemas/PROTOCOL.md
alone (not from the C code) run a job through minga-broker: enqueue -> lease -> progress ->
done -> status / wait, and a batch with dependencies.

This file is also the small library the other test_broker_*.py tests import (Broker, Client,
Worker); run as a program it is the conformance test itself.
"""
import os
import shutil
import signal
import subprocess
import sys
import tempfile
import time

import msgpack
import zmq

VERSION = b"MINGA01"


def bin_path(name):
    return os.path.join(os.environ.get("MINGA_BIN", ""), name) if os.environ.get("MINGA_BIN") else name


def fail(msg):
    print("FAIL: " + msg, file=sys.stderr)
    sys.exit(1)


def check(cond, msg):
    if not cond:
        fail(msg)


class Broker:
    """A minga-broker on its own store in a fresh /tmp/minga-XXXXXX directory."""

    def __init__(self, args=(), store=None, env=None):
        self.store = store or tempfile.mkdtemp(prefix="minga-", dir="/tmp")
        self.args = list(args)
        self.env = dict(os.environ)
        self.env.update(env or {})
        self.proc = None
        self.log = os.path.join(self.store, "broker-test.log")
        self.start()

    def endpoint(self, name):
        return "ipc://%s/run/%s" % (os.path.realpath(self.store), name)

    def start(self, wait=True):
        logf = open(self.log, "a")
        self.proc = subprocess.Popen([bin_path("minga-broker"), "--store", self.store] + self.args,
                                     stdout=logf, stderr=logf, env=self.env)
        logf.close()
        if wait:
            c = Client(self, timeout=200)
            deadline = time.time() + 10
            while True:
                try:
                    c.call("PING", {})
                    break
                except TimeoutError:
                    if self.proc.poll() is not None or time.time() > deadline:
                        fail("broker did not come up:\n" + self.log_text())
            c.close()

    def log_text(self):
        try:
            with open(self.log) as f:
                return f.read()[-4000:]
        except OSError:
            return ""

    def kill9(self):
        self.proc.send_signal(signal.SIGKILL)
        self.proc.wait()

    def stop(self):
        if self.proc and self.proc.poll() is None:
            self.proc.send_signal(signal.SIGTERM)
            try:
                self.proc.wait(10)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()
        return self.proc.returncode

    def alive(self):
        return self.proc.poll() is None

    def cleanup(self):
        self.stop()
        shutil.rmtree(self.store, ignore_errors=True)


_ctx = zmq.Context.instance()


class Client:
    """PROTOCOL.md §2 and §4: a DEALER; [""][MINGA01][COMMAND][msgpack map]; rid matches replies."""

    def __init__(self, broker_or_endpoint, timeout=5000):
        ep = broker_or_endpoint.endpoint("clients") if isinstance(broker_or_endpoint, Broker) \
            else broker_or_endpoint
        self.sock = _ctx.socket(zmq.DEALER)
        self.sock.setsockopt(zmq.LINGER, 0)
        self.sock.connect(ep)
        self.timeout = timeout
        self.rid = 0

    def close(self):
        self.sock.close(0)

    def send_raw(self, frames):
        self.sock.send_multipart(frames)

    def recv_raw(self, timeout=None):
        if not self.sock.poll(self.timeout if timeout is None else timeout):
            raise TimeoutError("no reply")
        return self.sock.recv_multipart()

    def recv(self, timeout=None):
        frames = self.recv_raw(timeout)
        check(len(frames) == 4 and frames[0] == b"" and frames[1] == VERSION,
              "bad reply framing: %r" % (frames,))
        return frames[2].decode(), msgpack.unpackb(frames[3], raw=False)

    def call(self, command, body, expect=None):
        """Sends a request with a fresh rid and returns (command, body) of its final reply."""
        self.rid += 1
        body = dict(body)
        body["rid"] = self.rid
        self.sock.send_multipart([b"", VERSION, command.encode(), msgpack.packb(body)])
        while True:
            cmd, reply = self.recv()
            if reply.get("rid") != self.rid:
                continue  # a late reply to an earlier request
            if cmd == "PROGRESS":
                self.progress.append(reply)
                continue
            if expect and cmd != expect:
                fail("%s: expected %s, got %s %r" % (command, expect, cmd, reply))
            return cmd, reply

    progress = []

    def enqueue(self, type_, body=None, **kw):
        spec = {"type": type_}
        if body is not None:
            spec["body"] = body
        spec.update(kw)
        cmd, r = self.call("ENQUEUE", spec, "ENQUEUE")
        return r

    def status(self, job_id):
        return self.call("STATUS", {"id": job_id}, "STATUS")[1]["job"]

    def wait(self, job_id, timeout_ms=30000, progress=False):
        self.progress = []
        cmd, r = self.call("WAIT", {"id": job_id, "timeout_ms": timeout_ms, "progress": progress},
                           "WAIT")
        return r


class Worker:
    """PROTOCOL.md §5: a DEALER that sends READY and answers JOB messages."""

    def __init__(self, broker, types=("test.echo",), capacity=1, name="pyworker"):
        self.sock = _ctx.socket(zmq.DEALER)
        self.sock.setsockopt(zmq.LINGER, 0)
        self.sock.connect(broker.endpoint("workers"))
        self.send("READY", {"types": list(types), "capacity": capacity, "name": name})
        cmd, body = self.recv(5000)
        check(cmd == "WELCOME", "READY answered %s %r" % (cmd, body))
        self.welcome = body

    def send(self, command, body):
        self.sock.send_multipart([b"", VERSION, command.encode(), msgpack.packb(body)])

    def recv(self, timeout):
        if not self.sock.poll(timeout):
            return None, None
        frames = self.sock.recv_multipart()
        check(len(frames) == 4 and frames[0] == b"" and frames[1] == VERSION,
              "bad frames to worker: %r" % (frames,))
        return frames[2].decode(), msgpack.unpackb(frames[3], raw=False)

    def next_job(self, timeout=5000):
        """Waits for a JOB (answering heartbeats); returns the job map or None."""
        deadline = time.time() + timeout / 1000.0
        while time.time() < deadline:
            cmd, body = self.recv(100)
            if cmd == "JOB":
                return body["job"]
            if cmd is None or cmd == "HEARTBEAT":
                self.send("HEARTBEAT", {})
        return None

    def close(self):
        self.sock.close(0)


def main():
    b = Broker()
    try:
        c = Client(b)
        cmd, pong = c.call("PING", {}, "PING")
        check("version" in pong and "time" in pong, "PING reply %r" % pong)

        # unknown job type is refused even without workers
        cmd, r = c.call("ENQUEUE", {"type": "no.such"})
        check(cmd == "ERROR" and r["code"] == "unknown_job_type", "unknown type: %r" % r)

        r = c.enqueue("test.echo", {"hello": "mundo", "n": [1, 2, 3]}, priority=7, key="k-1")
        check(r["created"] is True and r["state"] == "queued" and r["id"] >= 1, "enqueue %r" % r)
        jid = r["id"]
        again = c.enqueue("test.echo", {"other": True}, key="k-1")
        check(again["id"] == jid and again["created"] is False, "idempotent enqueue %r" % again)

        job = c.status(jid)
        check(job["state"] == "queued" and job["priority"] == 7 and job["attempts"] == 0,
              "status %r" % job)
        check(job["body"] == {"hello": "mundo", "n": [1, 2, 3]}, "body kept %r" % job)

        w = Worker(b, capacity=2)
        check(w.welcome["heartbeat_ms"] > 0 and w.welcome["liveness"] >= 1, "welcome %r" % w.welcome)
        got = w.next_job()
        check(got is not None and got["id"] == jid and got["attempts"] == 1, "job %r" % got)
        check(got["body"] == {"hello": "mundo", "n": [1, 2, 3]}, "job body %r" % got)
        check(c.status(jid)["state"] == "leased", "leased")

        # a waiter with progress reports
        c2 = Client(b)
        c2.rid = 100
        c2.sock.send_multipart([b"", VERSION, b"WAIT",
                                msgpack.packb({"rid": 101, "id": jid, "progress": True,
                                               "timeout_ms": 10000})])
        time.sleep(0.2)
        w.send("PROGRESS", {"id": jid, "done": 1, "total": 2, "text": "mitad"})
        time.sleep(0.2)
        job = c.status(jid)
        check(job["progress"] == {"done": 1, "total": 2, "text": "mitad"}, "progress %r" % job)
        w.send("DONE", {"id": jid, "result": {"echo": got["body"]}})
        seen_progress = False
        while True:
            cmd, r = c2.recv(5000)
            check(r["rid"] == 101, "rid echoed %r" % r)
            if cmd == "PROGRESS":
                seen_progress = seen_progress or (r.get("progress", {}).get("text") == "mitad")
                continue
            check(cmd == "WAIT", "wait final %s %r" % (cmd, r))
            break
        check(seen_progress, "PROGRESS seen by the waiter")
        check(r["timeout"] is False and r["job"]["state"] == "done", "wait %r" % r)
        check(r["job"]["result"] == {"echo": {"hello": "mundo", "n": [1, 2, 3]}}, "result %r" % r)
        check(r["job"]["finished_at"] >= r["job"]["created_at"], "finished_at")

        # WAIT on a finished job answers at once; DONE again is refused
        r = c.wait(jid)
        check(r["job"]["state"] == "done", "wait done")
        w.send("DONE", {"id": jid})
        cmd, r = w.recv(2000)
        while cmd == "HEARTBEAT":
            cmd, r = w.recv(2000)
        check(cmd == "ERROR" and r["code"] == "invalid_state" and r["id"] == jid,
              "second DONE: %s %r" % (cmd, r))

        # a batch: two shards then a job after both; fail one shard fatally -> child dead
        cmd, r = c.call("BATCH", {"jobs": [{"type": "test.echo", "body": 1},
                                           {"type": "test.echo", "body": 2},
                                           {"type": "test.echo", "body": 3, "after": [0, 1]}]},
                        "BATCH")
        ids = [j["id"] for j in r["jobs"]]
        # the shards may be leased in the commit that stores them (a worker with credit is idle)
        check([j["state"] for j in r["jobs"]][2] == "waiting" and
              all(j["state"] in ("queued", "leased") for j in r["jobs"][:2]), "batch %r" % r)
        j1 = w.next_job()
        j2 = w.next_job()
        check({j1["id"], j2["id"]} == set(ids[:2]), "shards leased %r %r" % (j1, j2))
        w.send("DONE", {"id": j1["id"], "result": None})
        time.sleep(0.2)
        check(c.status(ids[2])["state"] == "waiting", "child waits for second parent")
        w.send("FAIL", {"id": j2["id"], "retryable": False, "code": "boom", "message": "fatal"})
        r = c.wait(ids[2], 5000)
        check(r["job"]["state"] == "dead" and r["job"]["error"]["code"] == "parent_dead"
              and str(j2["id"]) in r["job"]["error"]["message"], "child dead: %r" % r)
        check(c.status(j2["id"])["error"] == {"code": "boom", "message": "fatal"}, "parent error")

        # retry the dead parent, then the child; it completes
        cmd, r = c.call("RETRY", {"id": ids[2]})
        check(cmd == "ERROR" and r["code"] == "invalid_state", "retry child first refused %r" % r)
        cmd, r = c.call("RETRY", {"id": j2["id"]}, "RETRY")
        # the reply shows the job as committed: queued, or already leased again
        check(r["job"]["state"] in ("queued", "leased") and "error" not in r["job"],
              "retry %r" % r)
        j2b = w.next_job()
        check(j2b["id"] == j2["id"], "retried job leased")
        w.send("DONE", {"id": j2b["id"]})
        time.sleep(0.2)
        cmd, r = c.call("RETRY", {"id": ids[2]}, "RETRY")
        check(r["job"]["state"] in ("queued", "leased"), "child retried %r" % r)
        j3 = w.next_job()
        w.send("DONE", {"id": j3["id"], "result": "ok"})
        check(c.wait(ids[2])["job"]["result"] == "ok", "child done")

        # cancel: a queued job; cancelling again is invalid_state
        r = c.enqueue("test.echo", delay_ms=60000)
        cmd, r2 = c.call("CANCEL", {"id": r["id"]}, "CANCEL")
        check(r2["job"]["state"] == "cancelled", "cancel %r" % r2)
        cmd, r2 = c.call("CANCEL", {"id": r["id"]})
        check(cmd == "ERROR" and r2["code"] == "invalid_state", "cancel twice %r" % r2)
        cmd, r2 = c.call("STATUS", {"id": 999999})
        check(cmd == "ERROR" and r2["code"] == "not_found", "not found %r" % r2)

        # list and stats
        cmd, r = c.call("LIST", {"state": "done", "limit": 2}, "LIST")
        check(len(r["jobs"]) == 2 and all(j["state"] == "done" for j in r["jobs"]), "list %r" % r)
        check("body" not in r["jobs"][0], "list leaves out body")
        cmd, r2 = c.call("LIST", {"state": "done", "after": r["next"]}, "LIST")
        check(all(j["id"] > r["next"] for j in r2["jobs"]), "list paging")
        cmd, r = c.call("STATS", {}, "STATS")
        check(r["workers"] == 1 and "test.echo" in r["queues"] and r["totals"]["done"] >= 4,
              "stats %r" % r)
        cmd, r = c.call("WORKERS", {}, "WORKERS")
        check(r["workers"][0]["name"] == "pyworker" and r["workers"][0]["capacity"] == 2,
              "workers %r" % r)

        w.send("DISCONNECT", {"reason": "bye"})
        time.sleep(0.2)
        cmd, r = c.call("STATS", {}, "STATS")
        check(r["workers"] == 0, "worker left")
        check(b.stop() == 0, "clean stop on SIGTERM")
        print("ok: protocol conformance")
    except BaseException:
        print(b.log_text(), file=sys.stderr)
        raise
    finally:
        b.cleanup()


if __name__ == "__main__":
    main()
