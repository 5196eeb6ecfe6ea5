#!/usr/bin/python3
"""Events (PROTOCOL.md §8): every state change and progress report of a job is published on
the PUB socket with topic job/ID/TYPE/STATE and a msgpack body; workers joining and leaving
are published as worker/WID/EVENT; a per-job prefix does not match other jobs."""
import os
import sys
import time

import msgpack
import zmq

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from test_broker_proto import Broker, Client, Worker, check  # noqa: E402


def collect(sub, seconds):
    out = []
    deadline = time.time() + seconds
    while time.time() < deadline:
        if sub.poll(50):
            topic, body = sub.recv_multipart()
            out.append((topic.decode(), msgpack.unpackb(body, raw=False)))
    return out


def main():
    b = Broker()
    try:
        ctx = zmq.Context.instance()
        sub_all = ctx.socket(zmq.SUB)
        sub_all.connect(b.endpoint("events"))
        sub_all.setsockopt(zmq.SUBSCRIBE, b"")
        sub_one = ctx.socket(zmq.SUB)
        sub_one.connect(b.endpoint("events"))
        time.sleep(0.3)  # slow joiner
        c = Client(b)
        w = Worker(b, name="evw")
        ids = [c.enqueue("test.echo", {"i": i})["id"] for i in range(10)]
        jid = ids[0]
        sub_one.setsockopt(zmq.SUBSCRIBE, ("job/%d/" % jid).encode())
        time.sleep(0.3)
        for _ in range(10):
            job = w.next_job(3000)
            check(job is not None, "job leased")
            if job["id"] == jid:
                w.send("PROGRESS", {"id": jid, "done": 1, "total": 2, "text": "uno"})
            w.send("DONE", {"id": job["id"]})
        c.wait(ids[-1], 5000)
        w.send("DISCONNECT", {})
        events = collect(sub_all, 1.0)
        topics = [t for t, _ in events]
        mine = [(t, e) for t, e in events if t.startswith("job/%d/" % jid)]
        check([t.split("/")[3] for t, _ in mine] == ["queued", "leased", "progress", "done"],
              "job events in order: %r" % [t for t, _ in mine])
        for t, e in mine:
            check(t.split("/")[2] == "test.echo" and e["id"] == jid and e["type"] == "test.echo"
                  and e["at"] > 0, "event body %r" % e)
        check(mine[2][1]["event"] == "progress" and mine[2][1]["progress"]["text"] == "uno",
              "progress event %r" % (mine[2],))
        check(mine[1][1]["worker"] == "evw" and mine[1][1]["attempts"] == 1, "lease event %r"
              % (mine[1],))
        check(any(t.startswith("worker/") and t.endswith("/joined") for t in topics),
              "worker joined event: %r" % topics)
        check(any(t.startswith("worker/") and t.endswith("/left") for t in topics),
              "worker left event: %r" % topics)
        for i in ids:
            check(sum(1 for t in topics if t == "job/%d/test.echo/done" % i) == 1,
                  "one done event for job %d" % i)
        only = collect(sub_one, 0.3)
        # sub_one subscribed after the enqueue: it saw the later events of its job only
        check(all(t.startswith("job/%d/" % jid) for t, _ in only), "prefix isolates a job")
        check(b.stop() == 0, "clean stop")
        print("ok: %d events" % len(events))
    except BaseException:
        print(b.log_text()[-3000:], file=sys.stderr)
        raise
    finally:
        b.cleanup()


if __name__ == "__main__":
    main()
