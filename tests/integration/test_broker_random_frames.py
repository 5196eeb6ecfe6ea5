#!/usr/bin/python3
"""10,000 random messages (random frame counts, random bytes, random msgpack, mutated valid
messages) thrown at both sockets of a running broker; then a normal job still completes and
the broker is alive and answering."""
import os
import random
import sys
import time

import msgpack
import zmq

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from test_broker_proto import VERSION, Broker, Client, Worker, check  # noqa: E402

COMMANDS = [b"ENQUEUE", b"BATCH", b"STATUS", b"WAIT", b"CANCEL", b"RETRY", b"LIST", b"STATS",
            b"WORKERS", b"PING", b"READY", b"PROGRESS", b"DONE", b"FAIL", b"RELEASE",
            b"HEARTBEAT", b"DISCONNECT", b"JOB", b"ERROR", b"FETCH", b"FETCHED", b"JOBS"]


def random_value(rng, depth=0):
    kind = rng.randrange(9 if depth < 4 else 6)
    if kind == 0:
        return rng.randrange(-2**40, 2**64)
    if kind == 1:
        return "".join(chr(rng.randrange(32, 0x2ff)) for _ in range(rng.randrange(12)))
    if kind == 2:
        return rng.random() * 1e6
    if kind == 3:
        return None
    if kind == 4:
        return rng.random() < 0.5
    if kind == 5:
        return bytes(rng.randrange(256) for _ in range(rng.randrange(8)))
    if kind == 6:
        return [random_value(rng, depth + 1) for _ in range(rng.randrange(4))]
    keys = ["id", "type", "rid", "types", "jobs", "body", "after", "parents", "priority", "x",
            "timeout_ms", "progress", "capacity", "result", "retryable", "state", "limit",
            "items", "batch"]
    return {rng.choice(keys): random_value(rng, depth + 1) for _ in range(rng.randrange(5))}


def random_body(rng):
    r = rng.random()
    if r < 0.3:
        return bytes(rng.randrange(256) for _ in range(rng.randrange(40)))
    data = msgpack.packb(random_value(rng) if r < 0.6 else
                         {"type": rng.choice(["test.echo", "x", ""]), "id": rng.randrange(5),
                          "types": ["test.echo"], "jobs": [{"type": "test.echo"}]} if r < 0.8
                         else {"items": [{"id": rng.randrange(5)} for _ in range(rng.randrange(4))]}
                         if r < 0.9 else
                         {"types": ["test.echo"], "capacity": 3, "batch": rng.randrange(-1, 5)})
    if rng.random() < 0.3 and data:
        i = rng.randrange(len(data))
        data = data[:i] + bytes([rng.randrange(256)]) + data[i + 1:]
    if rng.random() < 0.2:
        data = data[:rng.randrange(len(data) + 1)]
    return data


def random_message(rng):
    r = rng.random()
    if r < 0.2:
        return [bytes(rng.randrange(256) for _ in range(rng.randrange(12)))
                for _ in range(rng.randrange(1, 7))]
    frames = [b"", VERSION if rng.random() < 0.8 else b"MINGA0" + bytes([rng.randrange(256)]),
              rng.choice(COMMANDS) if rng.random() < 0.9 else bytes([rng.randrange(256)]) * 3,
              random_body(rng)]
    if rng.random() < 0.1:
        frames = frames[1:]
    if rng.random() < 0.1:
        frames.append(b"extra")
    if rng.random() < 0.05:
        frames = frames[:rng.randrange(1, len(frames))]
    return frames


def main():
    rng = random.Random(int(os.environ.get("MINGA_SEED", "20261127")))
    b = Broker()
    try:
        ctx = zmq.Context.instance()
        socks = []
        for ep in ("clients", "workers"):
            s = ctx.socket(zmq.DEALER)
            s.setsockopt(zmq.LINGER, 0)
            s.setsockopt(zmq.SNDHWM, 0)
            s.connect(b.endpoint(ep))
            socks.append(s)
        replies = 0
        for i in range(10000):
            socks[i % 2].send_multipart(random_message(rng))
            for s in socks:
                while s.poll(0):
                    s.recv_multipart()
                    replies += 1
        deadline = time.time() + 10
        while time.time() < deadline:
            got = False
            for s in socks:
                while s.poll(50):
                    s.recv_multipart()
                    replies += 1
                    got = True
            if not got:
                break
        for s in socks:
            s.close(0)
        check(b.alive(), "broker survived 10,000 random messages")
        check(replies > 5000, "the broker answered (%d replies)" % replies)

        c = Client(b)
        w = Worker(b, name="after-the-storm")
        jid = c.enqueue("test.echo", {"ok": 1})["id"]
        job = w.next_job(10000)
        while job is not None and job["id"] != jid:
            w.send("DONE", {"id": job["id"]})  # a random ENQUEUE may have slipped through
            job = w.next_job(10000)
        check(job is not None, "the normal job was leased")
        w.send("DONE", {"id": jid, "result": {"fine": True}})
        r = c.wait(jid, 10000)
        check(r["job"]["state"] == "done" and r["job"]["result"] == {"fine": True},
              "normal job completed %r" % r)
        check(b.stop() == 0, "clean stop")
        print("ok: 10000 random messages, %d replies, then a normal job completed" % replies)
    except BaseException:
        print(b.log_text()[-3000:], file=sys.stderr)
        raise
    finally:
        b.cleanup()


if __name__ == "__main__":
    main()
