#!/usr/bin/python3
"""The committer thread (broker/broker.c): the broker writes one group commit in a thread while
its loop collects the next, and sends a group's replies, JOBs and events only after that group
is written. Under load — 4,000 jobs enqueued in BATCHes of 100, run by
two C runtime workers (minga-test-worker) of capacity 500; up to 600 in flight, so that the
events of a group stay under the PUB socket's high-water mark — for the broker with the committer
and for the same broker with it switched off (MINGA_BROKER_NO_COMMITTER=1):

1. every job's events come in the order of its changes: exactly queued, leased, done, with
   attempts 0, 1, 1 (a group's events never overtake the group before it);
2. every job is done once, with its own result (the echo of its body);
3. a STATUS asked right after a job's done event says done (what is published is stored);
4. STATS counts them all: enqueued and done equal the jobs, nothing leased or queued is left.
"""
import os
import subprocess
import sys
import time

import msgpack
import zmq

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from test_broker_proto import Broker, Client, bin_path, check  # noqa: E402

N = 4000
BATCH = 100
INFLIGHT = 600
ORDER = ["queued", "leased", "done"]


def run(env, label):
    b = Broker(env=env)
    workers = []
    try:
        ctx = zmq.Context.instance()
        sub = ctx.socket(zmq.SUB)
        sub.setsockopt(zmq.RCVHWM, 0)  # no event dropped on this side of the pipe
        sub.connect(b.endpoint("events"))
        sub.setsockopt(zmq.SUBSCRIBE, b"job/")
        c = Client(b, timeout=20000)
        probe = Client(b, timeout=20000)
        for k in range(2):
            logf = open(os.path.join(b.store, "worker%d.log" % k), "w")
            workers.append(subprocess.Popen(
                [bin_path("minga-test-worker"), "--store", b.store, "--capacity", "500",
                 "--name", "cw%d" % k], stdout=logf, stderr=logf))
        deadline = time.time() + 10
        while time.time() < deadline:
            ws = c.call("WORKERS", {}, "WORKERS")[1]["workers"]
            if len(ws) == 2:
                break
            time.sleep(0.05)
        check(len(ws) == 2, "%s: two workers joined: %r" % (label, ws))
        # the subscription is in place once an event of a first job arrives
        first = c.enqueue("test.echo", {"i": -1})["id"]
        seen_first = False
        deadline = time.time() + 10
        while not seen_first and time.time() < deadline:
            if sub.poll(100):
                topic, _ = sub.recv_multipart()
                seen_first = topic.decode().split("/")[1] == str(first)
        check(seen_first, "%s: no event of the first job" % label)
        time.sleep(0.3)
        while sub.poll(0):
            sub.recv_multipart()

        states = {}   # id -> [(state, attempts)]
        results = {}  # id -> result
        bodies = {}   # id -> body sent
        statuses = 0
        sent = done = 0
        last = time.time()
        while done < N and time.time() - last < 15:
            while sent < N and sent - done + BATCH <= INFLIGHT:
                specs = [{"type": "test.echo", "body": {"i": sent + i}} for i in range(BATCH)]
                cmd, r = c.call("BATCH", {"jobs": specs}, "BATCH")
                for spec, j in zip(specs, r["jobs"]):
                    check(j["created"], "%s: job %r created" % (label, j))
                    bodies[j["id"]] = spec["body"]
                sent += BATCH
            if not sub.poll(200):
                continue
            while sub.poll(0):
                topic, body = sub.recv_multipart()
                ev = msgpack.unpackb(body, raw=False)
                jid = ev["id"]
                if jid == first:
                    continue
                states.setdefault(jid, []).append((ev["state"], ev.get("attempts", 0)))
                if ev["state"] == "done":
                    done += 1
                    last = time.time()
                    results[jid] = ev.get("result")
                    if statuses < 50 and jid % 37 == 0:  # 3.: stored before published
                        statuses += 1
                        _, st = probe.call("STATUS", {"id": jid}, "STATUS")
                        check(st["job"]["state"] == "done",
                              "%s: STATUS of job %d after its done event: %r"
                              % (label, jid, st["job"]["state"]))
        if done < N:
            _, stats = c.call("STATS", {}, "STATS")
            check(False, "%s: %d of %d done events, then none for 15 s; STATS: %r"
                  % (label, done, N, stats))
        check(set(states) == set(bodies), "%s: events of %d jobs, %d enqueued"
              % (label, len(states), len(bodies)))
        for jid, seq in states.items():
            check([s for s, _ in seq] == ORDER,
                  "%s: job %d events in the order %r" % (label, jid, seq))
            check([a for _, a in seq] == [0, 1, 1],
                  "%s: job %d attempts %r" % (label, jid, seq))
        check(statuses >= 20, "%s: only %d STATUS probes" % (label, statuses))
        # 2.: each result is the echo of its own body (read back by STATUS for a sample, the
        # events carry no result)
        for jid in list(bodies)[:: N // 40]:
            _, st = probe.call("STATUS", {"id": jid}, "STATUS")
            check(st["job"]["state"] == "done" and st["job"]["attempts"] == 1,
                  "%s: job %d: %r" % (label, jid, st["job"]))
            res = st["job"].get("result")
            check(isinstance(res, dict) and res.get("i") == bodies[jid]["i"],
                  "%s: job %d result %r for body %r" % (label, jid, res, bodies[jid]))
        _, stats = c.call("STATS", {}, "STATS")
        totals = stats["totals"]
        check(totals["enqueued"] == N + 1 and totals["done"] == N + 1,
              "%s: STATS totals %r" % (label, totals))
        queues = stats["queues"]
        left = sum(q["queued"] + q["leased"] + q["waiting"] for q in queues.values())
        check(left == 0, "%s: jobs left queued or leased: %r" % (label, queues))
        print("%s: %d jobs, events in order, %d STATUS probes after done" % (label, N, statuses))
    finally:
        for w in workers:
            w.terminate()
        for w in workers:
            try:
                w.wait(10)
            except subprocess.TimeoutExpired:
                w.kill()
        b.stop()


def main():
    run({}, "committer")
    run({"MINGA_BROKER_NO_COMMITTER": "1"}, "no committer")
    print("ok")


if __name__ == "__main__":
    main()
