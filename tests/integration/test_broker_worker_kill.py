#!/usr/bin/python3
"""kill -9 of a worker holding jobs: its jobs are leased again, to another worker, within
3 heartbeat intervals (PROTOCOL.md §5.1), with the attempt counted and error worker_lost."""
import os
import signal
import subprocess
import sys
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from test_broker_proto import Broker, Client, Worker, check  # noqa: E402

HB_MS = 500

HOLDER = r"""
import sys, time, msgpack, zmq
s = zmq.Context().socket(zmq.DEALER)
s.connect(sys.argv[1])
def send(cmd, body):
    s.send_multipart([b"", b"MINGA01", cmd, msgpack.packb(body)])
send(b"READY", {"types": ["test.echo"], "capacity": 2, "name": "holder"})
held = 0
last = time.time()
while True:
    if s.poll(50):
        f = s.recv_multipart()
        if f[-2] == b"JOB":
            held += 1
            print("held", msgpack.unpackb(f[-1])["job"]["id"], flush=True)
    if time.time() - last > 0.1:
        send(b"HEARTBEAT", {})
        last = time.time()
"""


def main():
    b = Broker(["--heartbeat-ms", str(HB_MS)])
    holder = None
    try:
        c = Client(b)
        holder = subprocess.Popen(["/usr/bin/python3", "-c", HOLDER, b.endpoint("workers")],
                                  stdout=subprocess.PIPE, text=True)
        ids = [c.enqueue("test.echo", {"n": i})["id"] for i in range(2)]
        for _ in range(2):
            line = holder.stdout.readline()
            check(line.startswith("held"), "holder got a job: %r" % line)
        for jid in ids:
            check(c.status(jid)["state"] == "leased", "leased to the holder")
        other = Worker(b, capacity=2, name="other")
        time.sleep(0.3)
        t0 = time.time()
        holder.send_signal(signal.SIGKILL)
        holder.wait()
        got = []
        while len(got) < 2 and time.time() - t0 < 10:
            job = other.next_job(200)
            if job:
                got.append((job, time.time() - t0))
        check(sorted(j["id"] for j, _ in got) == sorted(ids), "both jobs leased again: %r" % got)
        worst = max(dt for _, dt in got)
        check(worst <= 3 * HB_MS / 1000.0 + 0.25,
              "re-leased after %.3f s, more than 3 heartbeats of %d ms" % (worst, HB_MS))
        for job, _ in got:
            check(job["attempts"] == 2 and job["error"]["code"] == "worker_lost",
                  "attempt counted, error worker_lost: %r" % job)
            other.send("DONE", {"id": job["id"]})
        for jid in ids:
            check(c.wait(jid, 5000)["job"]["state"] == "done", "done after re-lease")
        check(b.stop() == 0, "clean stop")
        print("ok: jobs of a killed worker leased again after %.3f s (heartbeat %d ms)"
              % (worst, HB_MS))
    except BaseException:
        print(b.log_text()[-3000:], file=sys.stderr)
        raise
    finally:
        if holder and holder.poll() is None:
            holder.kill()
        b.cleanup()


if __name__ == "__main__":
    main()
