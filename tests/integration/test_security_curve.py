#!/usr/bin/python3
"""CurveZMQ on the broker's TCP endpoints (DESIGN.md §5, issue 9 item 1), with real processes
over tcp://127.0.0.1: `minga keygen` pairs; a client and a worker whose keys are allowed run a
job end to end; a client with an unknown key, or with none, cannot enqueue (nothing enqueued,
checked through the allowed client); a worker with an unknown key, with none, or with a
client's key cannot lease; a subscriber with an unknown key reads no events while an allowed
one does; a key file that is missing is a clear error at start."""
import json
import os
import subprocess
import sys
import time

import zmq
import zmq.auth

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import tcp_env  # noqa: E402
from tcp_env import b, check, free_port  # noqa: E402


def metrics_off():
    """--metrics off when this broker serves metrics (it would take a port otherwise)."""
    h = subprocess.run([b("minga-broker"), "--help"], capture_output=True, text=True).stdout
    return ["--metrics", "off"] if "--metrics" in h else []


class Env(tcp_env.TcpEnv):
    def minga(self, *args, cert=None, key=None, timeout=3, extra=()):
        cmd = [b("minga"), "--store", self.store, "--timeout", str(timeout),
               "--broker", self.ep("clients")] + list(extra)
        if cert:
            cmd += ["--cert", cert]
        if key:
            cmd += ["--broker-key", key]
        return subprocess.run(cmd + list(args), capture_output=True, text=True, timeout=60)

    def worker(self, name, cert=None, key=None, extra=()):
        cmd = [b("minga-test-worker"), "--name", name, "--broker", self.ep("workers"),
               "--heartbeat", "200"] + list(extra)
        if cert:
            cmd += ["--cert", cert]
        if key:
            cmd += ["--broker-key", key]
        return self.start(cmd, name + ".log")



def main():
    tcp_env.main(Env(), run, tail=2000)


def job_count(e, alice, bkey):
    r = e.minga("jobs", "--json", cert=alice, key=bkey)
    check(r.returncode == 0, "allowed client lists jobs: %s" % r.stderr)
    return [json.loads(line) for line in r.stdout.splitlines() if line.strip()]


def run(e):
    bkey = e.keygen("broker")
    alice = e.keygen("alice", allow="clients")
    w1 = e.keygen("w1", allow="workers")
    mallory = e.keygen("mallory")
    r = subprocess.run([b("minga"), "keygen", "alice", "--dir", e.keys], capture_output=True,
                       text=True)
    check(r.returncode == 1 and "already exists" in r.stderr, "keygen never overwrites: %r"
          % r.stderr)

    broker = e.start([b("minga-broker"), "--store", e.store] + metrics_off() + [
                      "--clients", e.ep("clients"), "--workers", e.ep("workers"),
                      "--events", e.ep("events"), "--cert", bkey,
                      "--client-certs", os.path.join(e.dir, "clients"),
                      "--worker-certs", os.path.join(e.dir, "workers"),
                      "--heartbeat-ms", "200"], "broker.log")
    for _ in range(100):
        if os.path.exists(os.path.join(e.store, "run", "minga-broker.pid")):
            break
        time.sleep(0.05)
    check(broker.poll() is None, "broker runs: " + e.log("broker.log"))

    # an allowed subscriber and one with an unknown key, on the events socket
    ctx = zmq.Context.instance()
    bpub, _ = zmq.auth.load_certificate(bkey)
    subs = {}
    for who in ("alice", "mallory"):
        pub, sec = zmq.auth.load_certificate(os.path.join(e.keys, who + ".cert_secret"))
        s = ctx.socket(zmq.SUB)
        s.curve_publickey, s.curve_secretkey, s.curve_serverkey = pub, sec, bpub
        s.setsockopt(zmq.SUBSCRIBE, b"")
        s.connect(e.ep("events"))
        subs[who] = s
    time.sleep(0.5)

    # allowed client + allowed worker: end to end
    r = e.minga("submit", "test.echo", "--json", '{"n": 1}', cert=alice, key=bkey)
    check(r.returncode == 0, "allowed client enqueues: %s" % r.stderr)
    first = int(r.stdout.strip())
    wp = e.worker("w1", cert=w1, key=bkey)
    r = e.minga("wait", str(first), "--json", cert=alice, key=bkey, timeout=10)
    check(r.returncode == 0 and json.loads(r.stdout)["state"] == "done",
          "job done through allowed worker: %s %s" % (r.stdout, r.stderr))
    check(json.loads(r.stdout)["result"] == {"n": 1}, "result: %s" % r.stdout)
    e.stop(wp)

    def events(sock):
        out = []
        while sock.poll(100):
            out.append(sock.recv_multipart()[0].decode())
        return out

    ev_ok, ev_bad = events(subs["alice"]), events(subs["mallory"])
    check(any(t.startswith("job/%d/" % first) for t in ev_ok),
          "allowed subscriber sees events: %r" % ev_ok)
    check(ev_bad == [], "unknown subscriber sees no events: %r" % ev_bad)

    # clients that must not get in: unknown key, no key (plain), a worker's key
    before = len(job_count(e, alice, bkey))
    for label, kw in (("unknown key", dict(cert=mallory, key=bkey)),
                      ("no key", dict(extra=["--no-curve"])),
                      ("worker key", dict(cert=w1, key=bkey))):
        t0 = time.time()
        r = e.minga("submit", "test.echo", "--json", "{}", timeout=1.5, **kw)
        check(r.returncode == 1 and "no reply" in r.stderr,
              "client with %s cannot enqueue: rc %d %s" % (label, r.returncode, r.stderr))
        check(time.time() - t0 < 10, "refused client times out")
    r = e.minga("submit", "test.echo", "--json", "{}")
    check(r.returncode == 2 and "--broker-key" in r.stderr,
          "tcp without keys is a usage error naming --broker-key: %d %s"
          % (r.returncode, r.stderr))
    r = e.minga("submit", "test.echo", "--json", "{}", cert=os.path.join(e.dir, "nope.cert"),
                key=bkey)
    check(r.returncode == 2 and "nope.cert" in r.stderr, "missing cert named: %s" % r.stderr)
    check(len(job_count(e, alice, bkey)) == before, "nothing enqueued by refused clients")

    # workers that must not lease: unknown key, no key, a client's key
    r = e.minga("submit", "test.echo", "--json", '{"n": 2}', cert=alice, key=bkey)
    check(r.returncode == 0, "enqueue: %s" % r.stderr)
    second = int(r.stdout.strip())
    bad = [e.worker("wm", cert=mallory, key=bkey), e.worker("wn", extra=["--no-curve"]),
           e.worker("wa", cert=alice, key=bkey)]
    time.sleep(2.0)
    r = e.minga("job", str(second), "--json", cert=alice, key=bkey)
    job = json.loads(r.stdout)
    check(job["state"] == "queued" and job["attempts"] == 0,
          "no refused worker leased the job: %s" % r.stdout)
    r = e.minga("workers", "--json", cert=alice, key=bkey)
    check(r.stdout.count('"name"') == 0 or all(n not in r.stdout for n in ('"wm"', '"wn"', '"wa"')),
          "no refused worker is registered: %s" % r.stdout)
    for p in bad:
        e.stop(p)
    p = subprocess.run([b("minga-test-worker"), "--broker", e.ep("workers")],
                       capture_output=True, text=True, timeout=10)
    check(p.returncode != 0 and "--broker-key" in p.stderr,
          "worker on tcp without keys refuses to start: %d %s" % (p.returncode, p.stderr))
    wp = e.worker("w1b", cert=w1, key=bkey)
    r = e.minga("wait", str(second), "--json", cert=alice, key=bkey, timeout=10)
    check(r.returncode == 0 and json.loads(r.stdout)["state"] == "done",
          "allowed worker then runs it: %s" % r.stdout)
    e.stop(wp)
    broker_log = e.log("broker.log")
    check("not allowed there" in broker_log, "broker logs refused keys")

    # the broker refuses to start on tcp without its own certificate
    r = subprocess.run([b("minga-broker"), "--store", os.path.join(e.dir, "s2")]
                       + metrics_off() + ["--clients", "tcp://127.0.0.1:%d" % free_port()],
                       capture_output=True, text=True, timeout=10)
    check(r.returncode == 1 and "--cert" in r.stderr, "broker without --cert: %d %s"
          % (r.returncode, r.stderr))
    e.stop(broker)
    check(broker.returncode == 0, "broker stops cleanly")
    print("ok: CurveZMQ on tcp: allowed client/worker/subscriber work; unknown, missing and "
          "swapped keys are refused")


if __name__ == "__main__":
    main()
