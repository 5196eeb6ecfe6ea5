#!/usr/bin/python3
"""Remote match workers (issue 9 item 6) with real processes over tcp://127.0.0.1 and CurveZMQ
on: a broker with certificate directories, a local match worker that shares the store (prepare
and merge stages only: --no-shards) and a remote-mode match worker started in an empty
directory with no store (no --store, no $MINGA_STORE: remote mode implied by --broker). A
carried `minga rueda score --carry` of the Jornada is scored, its shards all by the remote
worker (its log, its registered types), which never maps the store (/proc/PID/maps); the
export equals a classic run's on a copy of the store. A remote worker killed (SIGKILL) while it
holds a shard: the shard is leased again, the batch finishes, the candidates are the same. A
shard whose parent's result is data of another layout fails at once (dead, carry_layout, a
message naming the other build)."""
import json
import os
import shutil
import subprocess
import sys
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import tcp_env  # noqa: E402
from tcp_env import b, check  # noqa: E402

EVENT = "jornada-2026"
KINDS = ("gads", "cooperantes", "offers", "demands", "events")
PER_EVENT = ("participants", "preferences")


class Env(tcp_env.TcpEnv):
    def __init__(self):
        super().__init__()
        self.copy = os.path.join(self.dir, "c")
        self.env.pop("MINGA_STORE", None)

    def run(self, args, **kw):
        return subprocess.run(args, capture_output=True, text=True, env=self.env, timeout=120,
                              **kw)

    def minga(self, *args, timeout=10):
        return self.run([b("minga"), "--store", self.store, "--timeout", str(timeout),
                         "--broker", self.ep("clients"), "--cert", self.alice,
                         "--broker-key", self.bkey] + list(args))

    def worker(self, binary, name, cert, args=(), cwd=None, env=None):
        return self.start([b(binary), "--name", name, "--broker", self.ep("workers"),
                           "--heartbeat", "200", "--cert", cert, "--broker-key", self.bkey]
                          + list(args), name + ".log", cwd=cwd, env=env)



def main():
    tcp_env.main(Env(), run)


def load(e):
    data = os.path.join(e.dir, "d")
    r = e.run([b("minga"), "demo-data", "--out", data])
    check(r.returncode == 0, "demo-data: %s" % r.stderr)
    r = e.run([b("minga"), "--store", e.store, "init"])
    check(r.returncode == 0, "init: %s" % r.stderr)
    for k in KINDS + PER_EVENT:
        extra = ["--event", EVENT] if k in PER_EVENT else []
        r = e.run([b("minga"), "--store", e.store, "import", k, os.path.join(data, k + ".csv")]
                  + extra)
        check(r.returncode == 0, "import %s: %s" % (k, r.stderr))
    shutil.copytree(e.store, e.copy)


def classic_export(e):
    """The candidates of a classic run (local workers, ipc) on the copy of the store."""
    r = e.run([b("minga"), "--store", e.copy, "up", "--match-workers", "1", "--test-workers",
               "0", "--notify-workers", "0", "--report-workers", "0"])
    check(r.returncode == 0, "up on the copy: %s" % r.stderr)
    try:
        r = e.run([b("minga"), "--store", e.copy, "rueda", "score", EVENT, "--shards", "4"])
        check(r.returncode == 0, "classic score: %s" % r.stderr)
        r = e.run([b("minga"), "--store", e.copy, "export", "candidates", "--event", EVENT])
        check(r.returncode == 0 and r.stdout.count("\n") > 1100, "classic export: %s" % r.stderr)
        return r.stdout
    finally:
        e.run([b("minga"), "--store", e.copy, "down"])


def export(e):
    r = e.run([b("minga"), "--store", e.store, "export", "candidates", "--event", EVENT])
    check(r.returncode == 0, "export: %s" % r.stderr)
    return r.stdout


def maps_store(pid, store):
    with open("/proc/%d/maps" % pid) as f:
        return [line for line in f if "data.mdb" in line or store in line]


def shard_lines(e, log):
    return [line for line in e.log(log).splitlines() if "match.shard %s shard" % EVENT in line]


def job(e, jid):
    r = e.minga("job", str(jid), "--json")
    check(r.returncode == 0, "job %s: %s" % (jid, r.stderr))
    return json.loads(r.stdout)


def wait_jobs(e, ids):
    for jid in ids:
        r = e.minga("wait", str(jid), timeout=60)
        check(r.returncode == 0 and r.stdout.split() == [str(jid), "done"],
              "job %s done: %s %s" % (jid, r.stdout, r.stderr))


def run(e):
    load(e)
    want = classic_export(e)
    e.bkey = e.keygen("broker", "none")
    e.alice = e.keygen("alice", "clients")
    wlocal = e.keygen("local", "workers")
    wremote = e.keygen("remote", "workers")
    wtest = e.keygen("tester", "workers")
    broker = e.start([b("minga-broker"), "--store", e.store, "--metrics", "off",
                      "--clients", e.ep("clients"), "--workers", e.ep("workers"),
                      "--events", e.ep("events"), "--cert", e.bkey,
                      "--client-certs", os.path.join(e.dir, "clients"),
                      "--worker-certs", os.path.join(e.dir, "workers"),
                      "--heartbeat-ms", "200"], "broker.log")
    for _ in range(100):
        if os.path.exists(os.path.join(e.store, "run", "minga-broker.pid")):
            break
        time.sleep(0.05)
    check(broker.poll() is None, "broker runs: " + e.log("broker.log"))

    # the local worker: prepare and merge; the remote one: shards, from an empty directory
    e.worker("minga-match-worker", "local", wlocal, ["--store", e.store, "--no-shards"])
    empty = os.path.join(e.dir, "empty")
    os.mkdir(empty)
    remote = e.worker("minga-match-worker", "remote", wremote, cwd=empty)
    for _ in range(100):
        r = e.minga("workers", "--json")
        ws = {w["name"].split("@")[0]: w for w in map(json.loads, r.stdout.splitlines())}
        if "local" in ws and "remote" in ws:
            break
        time.sleep(0.1)
    check(ws.get("remote", {}).get("types") == ["match.shard"],
          "the remote worker serves match.shard only: %r" % ws.get("remote"))
    check("match.shard" not in ws["local"]["types"] and "match.score" in ws["local"]["types"],
          "the local worker with --no-shards: %r" % ws["local"])

    # a carried score: every shard by the remote worker, the export is the classic one's
    r = e.minga("rueda", "score", EVENT, "--shards", "4", "--carry", timeout=60)
    check(r.returncode == 0 and "candidatos para 1100 demandas" in r.stdout,
          "carried score: %s %s" % (r.stdout, r.stderr))
    check(len(shard_lines(e, "remote.log")) == 4,
          "the remote worker scored the 4 shards: %r" % shard_lines(e, "remote.log"))
    check(maps_store(remote.pid, e.store) == [],
          "the remote worker never maps the store: %r" % maps_store(remote.pid, e.store))
    check(not os.listdir(empty), "the remote worker wrote nothing in its directory: %r"
          % os.listdir(empty))
    got = export(e)
    check(got == want, "carried candidates equal the classic run's (%d and %d bytes)"
          % (len(got), len(want)))

    # the remote worker killed (SIGKILL) holding shard 2: leased again, the batch finishes
    e.stop(remote)
    env = dict(e.env, MINGA_MATCH_CRASH_SHARD="2")
    crash = e.worker("minga-match-worker", "crash", wremote, cwd=empty, env=env)
    r = e.minga("rueda", "score", EVENT, "--shards", "4", "--carry", "--detach")
    check(r.returncode == 0, "carried score --detach: %s" % r.stderr)
    ids = [int(x) for x in r.stdout.split()]
    check(len(ids) == 6, "prepare, 4 shards, merge: %r" % ids)
    check(job(e, ids[1])["type"] == "match.shard" and job(e, ids[1])["parents"] == [ids[0]],
          "a shard depends on the prepare job: %r" % job(e, ids[1]))
    check(job(e, ids[5])["parents"] == ids[1:5], "the merge depends on the shards")
    crash.wait(30)
    check(crash.returncode == -9, "the remote worker died of SIGKILL: %r" % crash.returncode)
    remote = e.worker("minga-match-worker", "remote2", wremote, cwd=empty)
    wait_jobs(e, ids)
    check(job(e, ids[3])["attempts"] == 2, "shard 2 was leased again: %r" % job(e, ids[3]))
    check(export(e) == want, "candidates after the kill equal the classic run's")
    check(maps_store(remote.pid, e.store) == [], "the second remote worker never maps the store")

    # data of another layout: the shard fails at once, naming the other build
    tester = e.worker("minga-test-worker", "tester", wtest)
    r = e.minga("submit", "test.echo", "--json", '{"v": 1, "layout": 12345, "event": "x"}',
                "--wait")
    check(r.returncode == 0, "test.echo parent: %s" % r.stderr)
    parent = int(r.stdout.split()[0])
    r = e.minga("submit", "match.shard", "--after", str(parent), "--json",
                '{"event": "%s", "gen": 1, "shard": 0, "shards": 1}' % EVENT)
    check(r.returncode == 0, "submit match.shard: %s" % r.stderr)
    sid = int(r.stdout)
    e.minga("wait", str(sid), timeout=20)
    j = job(e, sid)
    err = j.get("error") or {}
    check(j["state"] == "dead" and j["attempts"] == 1 and err.get("code") == "carry_layout"
          and "another Minga build" in err.get("message", ""),
          "a blob of another layout ends the shard dead at once: %r" % j)
    e.stop(tester)
    e.stop(remote)


if __name__ == "__main__":
    main()
