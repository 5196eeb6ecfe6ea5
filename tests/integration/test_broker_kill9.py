#!/usr/bin/python3
"""kill -9 of the broker during a load: a producer keeps up to 200 ENQUEUEs in flight while a
worker runs the jobs; the broker is killed with SIGKILL mid-load and started again on the same
store. Every job whose ENQUEUE was answered must end done; a job that ran more than once must
show it in its attempts."""
import collections
import os
import sys
import threading
import time

import msgpack
import zmq

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from test_broker_proto import VERSION, Broker, Client, check  # noqa: E402

N_BEFORE = 3000
N_AFTER = 1000


class LoopWorker(threading.Thread):
    """Runs every job it gets (DONE at once), re-registers after DISCONNECT, counts runs."""

    def __init__(self, endpoint):
        super().__init__(daemon=True)
        self.endpoint = endpoint
        self.runs = collections.Counter()
        self.stop = False

    def send(self, sock, cmd, body):
        sock.send_multipart([b"", VERSION, cmd, msgpack.packb(body)])

    def run(self):
        sock = zmq.Context.instance().socket(zmq.DEALER)
        sock.setsockopt(zmq.LINGER, 0)
        sock.connect(self.endpoint)
        self.send(sock, b"READY", {"types": ["test.echo"], "capacity": 8, "name": "loop"})
        last_hb = time.time()
        while not self.stop:
            if sock.poll(50):
                frames = sock.recv_multipart()
                cmd, body = frames[-2], msgpack.unpackb(frames[-1], raw=False)
                if cmd == b"JOB":
                    jid = body["job"]["id"]
                    self.runs[jid] += 1
                    self.send(sock, b"DONE", {"id": jid, "result": jid})
                elif cmd == b"DISCONNECT":
                    self.send(sock, b"READY", {"types": ["test.echo"], "capacity": 8,
                                               "name": "loop"})
            if time.time() - last_hb > 0.3:
                self.send(sock, b"HEARTBEAT", {})
                last_hb = time.time()
        sock.close(0)


def produce(b, n, accepted, kill_at=None):
    """Enqueues n jobs with up to 200 in flight; kills the broker after kill_at answers."""
    c = Client(b)
    sent = 0
    inflight = 0
    rid_base = len(accepted) * 10 + 1000000
    while sent < n or inflight:
        while sent < n and inflight < 200:
            c.send_raw([b"", VERSION, b"ENQUEUE",
                        msgpack.packb({"rid": rid_base + sent, "type": "test.echo",
                                       "body": {"i": sent}})])
            sent += 1
            inflight += 1
        try:
            cmd, r = c.recv(3000)
        except TimeoutError:
            break  # the broker is gone: what was not answered was not accepted
        inflight -= 1
        check(cmd == "ENQUEUE", "enqueue answered %s %r" % (cmd, r))
        accepted.append(r["id"])
        if kill_at is not None and len(accepted) >= kill_at:
            b.kill9()
            break
    c.close()


def main():
    b = Broker(["--heartbeat-ms", "300"])
    try:
        w = LoopWorker(b.endpoint("workers"))
        w.start()
        accepted = []
        produce(b, N_BEFORE, accepted, kill_at=N_BEFORE // 2)
        check(not b.alive(), "broker killed")
        n_killed = len(accepted)
        time.sleep(0.2)
        b.start()
        produce(b, N_AFTER, accepted)
        c = Client(b)
        deadline = time.time() + 60
        pending = set(accepted)
        while pending and time.time() < deadline:
            for jid in list(pending)[:200]:
                job = c.status(jid)
                if job["state"] == "done":
                    pending.discard(jid)
            if pending:
                time.sleep(0.2)
        check(not pending, "%d accepted job(s) not done: %r" % (len(pending), sorted(pending)[:10]))
        twice = [jid for jid, n in w.runs.items() if n > 1]
        for jid in twice:
            job = c.status(jid)
            check(job["attempts"] >= w.runs[jid],
                  "job %d ran %d times but shows %d attempts" % (jid, w.runs[jid], job["attempts"]))
        for jid in accepted:
            check(w.runs[jid] >= 1, "job %d done without running" % jid)
        w.stop = True
        w.join(2)
        check(b.stop() == 0, "clean stop")
        print("ok: %d accepted (%d before the kill), all done; %d ran twice, attempts show it"
              % (len(accepted), n_killed, len(twice)))
    except BaseException:
        print(b.log_text()[-3000:], file=sys.stderr)
        raise
    finally:
        b.cleanup()


if __name__ == "__main__":
    main()
