#!/usr/bin/python3
"""The broker's Prometheus metrics (DESIGN.md §9): --metrics 127.0.0.1:0 takes a free port and
writes it to STORE/run/metrics; after a known set of jobs the text is well-formed Prometheus
exposition (HELP/TYPE lines, `name{labels} value` samples, cumulative histograms) and its
counts are the ones the test made; other paths are 404, POST 405; the file goes at stop;
the default port taken -> a warning and a free port; an explicit address taken -> exit 1;
--metrics off serves no HTTP."""
import os
import re
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
import urllib.error
import urllib.request

BIN = os.environ["MINGA_BIN"]
PROCS = []
DIRS = []


def fail(msg):
    print("FAIL: " + msg, file=sys.stderr)
    for d in DIRS:
        log = os.path.join(d, "broker.err")
        if os.path.exists(log):
            print("== " + log, file=sys.stderr)
            print(open(log).read()[-3000:], file=sys.stderr)
    sys.exit(1)


def cleanup():
    for p in PROCS:
        if p.poll() is None:
            p.kill()
            p.wait()
    for d in DIRS:
        shutil.rmtree(d, ignore_errors=True)


def store():
    d = tempfile.mkdtemp(prefix="minga-", dir="/tmp")
    DIRS.append(d)
    return d


def broker(st, *args):
    err = open(os.path.join(st, "broker.err"), "w")
    p = subprocess.Popen([os.path.join(BIN, "minga-broker"), "--store", st] + list(args),
                         stdout=subprocess.DEVNULL, stderr=err)
    PROCS.append(p)
    return p


def wait_file(path, proc, secs=10):
    for _ in range(secs * 20):
        if os.path.exists(path):
            return open(path).read().strip()
        if proc.poll() is not None:
            fail("broker exited %d before writing %s" % (proc.returncode, path))
        time.sleep(0.05)
    fail("%s not written within %d s" % (path, secs))


def minga(st, *args, check=True):
    r = subprocess.run([os.path.join(BIN, "minga"), "--store", st, "--timeout", "10"] + list(args),
                       capture_output=True, text=True, timeout=40)
    if check and r.returncode != 0:
        fail("minga %s: exit %d: %s" % (" ".join(args), r.returncode, r.stderr))
    return r


def get(url, method="GET"):
    req = urllib.request.Request(url, method=method)
    try:
        with urllib.request.urlopen(req, timeout=5) as r:
            return r.status, r.headers.get("Content-Type", ""), r.read().decode("utf-8")
    except urllib.error.HTTPError as e:
        return e.code, e.headers.get("Content-Type", ""), e.read().decode("utf-8")


SAMPLE = re.compile(r'^([a-zA-Z_:][a-zA-Z0-9_:]*)(\{([a-zA-Z_][a-zA-Z0-9_]*="(?:[^"\\\n]|\\.)*"'
                    r'(?:,[a-zA-Z_][a-zA-Z0-9_]*="(?:[^"\\\n]|\\.)*")*)?\})? '
                    r'(-?[0-9.eE+-]+|\+Inf|-Inf|NaN)$')
LABEL = re.compile(r'([a-zA-Z_][a-zA-Z0-9_]*)="((?:[^"\\]|\\.)*)"')


def parse(text):
    """Checks the exposition format; returns {(name, frozenset(labels)): value} and types."""
    if not text.endswith("\n"):
        fail("metrics text does not end with a newline")
    types, helps, samples = {}, {}, {}
    for n, line in enumerate(text.split("\n")[:-1], 1):
        if line.startswith("# HELP "):
            parts = line.split(" ", 3)
            if len(parts) < 4 or not parts[3]:
                fail("line %d: HELP without text: %r" % (n, line))
            helps[parts[2]] = parts[3]
            continue
        if line.startswith("# TYPE "):
            parts = line.split(" ")
            if len(parts) != 4 or parts[3] not in ("counter", "gauge", "histogram"):
                fail("line %d: bad TYPE line %r" % (n, line))
            if parts[2] in types:
                fail("line %d: TYPE of %s given twice" % (n, parts[2]))
            types[parts[2]] = parts[3]
            continue
        m = SAMPLE.match(line)
        if not m:
            fail("line %d: not a sample: %r" % (n, line))
        name, labels, value = m.group(1), m.group(3) or "", m.group(4)
        family = name
        for suffix in ("_bucket", "_sum", "_count"):
            if name.endswith(suffix) and name[: -len(suffix)] in types and \
                    types[name[: -len(suffix)]] == "histogram":
                family = name[: -len(suffix)]
        if family not in types or family not in helps:
            fail("line %d: sample %s before its HELP/TYPE" % (n, name))
        key = (name, frozenset(LABEL.findall(labels)))
        if key in samples:
            fail("line %d: sample %s{%s} twice" % (n, name, labels))
        samples[key] = float(value)
    return samples, types


def val(samples, name, **labels):
    key = (name, frozenset(labels.items()))
    if key not in samples:
        fail("no sample %s%s" % (name, labels))
    return samples[key]


def check_histograms(samples, types):
    for fam, t in types.items():
        if t != "histogram":
            continue
        buckets = sorted(((float("inf") if dict(k[1])["le"] == "+Inf" else float(dict(k[1])["le"])), v)
                         for k, v in samples.items() if k[0] == fam + "_bucket")
        if not buckets or buckets[-1][0] != float("inf"):
            fail("%s: no +Inf bucket" % fam)
        for a, b in zip(buckets, buckets[1:]):
            if b[1] < a[1]:
                fail("%s: buckets not cumulative at le=%g" % (fam, b[0]))
        if buckets[-1][1] != val(samples, fam + "_count"):
            fail("%s: +Inf bucket %g != count %g" % (fam, buckets[-1][1], val(samples, fam + "_count")))


def main():
    st = store()
    b = broker(st, "--metrics", "127.0.0.1:0")
    addr = wait_file(os.path.join(st, "run", "metrics"), b)
    if not re.match(r"^127\.0\.0\.1:[0-9]+$", addr) or addr.endswith(":0"):
        fail("run/metrics holds %r, want 127.0.0.1:PORT" % addr)
    url = "http://%s/metrics" % addr
    status, ctype, text = get(url)
    if status != 200 or not ctype.startswith("text/plain"):
        fail("GET /metrics: %d %s" % (status, ctype))
    samples, types = parse(text)
    if val(samples, "minga_jobs_enqueued_total", type="test.echo") != 0:
        fail("a fresh broker counts enqueued jobs")

    w = subprocess.Popen([os.path.join(BIN, "minga-test-worker"), "--store", st, "--capacity", "2"],
                         stdout=subprocess.DEVNULL, stderr=open(os.path.join(st, "worker.err"), "w"))
    PROCS.append(w)
    ok = [minga(st, "submit", "test.echo", "--json", '{"sleep_ms": %d}' % (50 * i)).stdout.strip()
          for i in range(6)]
    dead = minga(st, "submit", "test.echo", "--json", '{"fail": "fatal"}').stdout.strip()
    waiting = [minga(st, "submit", "report.event", "--json", '{"event": "X"}').stdout.strip()
               for _ in range(2)]
    for i in ok:
        r = minga(st, "wait", i)
        if r.stdout.strip() != "%s done" % i:
            fail("job %s: %r" % (i, r.stdout))
    r = minga(st, "wait", dead, check=False)
    if r.returncode != 1:
        fail("the fatal job: wait exit %d, want 1" % r.returncode)

    status, _, text = get(url)
    samples, types = parse(text)
    check_histograms(samples, types)
    want = [
        (("minga_jobs_enqueued_total",), {"type": "test.echo"}, 7),
        (("minga_jobs_enqueued_total",), {"type": "report.event"}, 2),
        (("minga_jobs_leased_total",), {"type": "test.echo"}, 7),
        (("minga_jobs_leased_total",), {"type": "report.event"}, 0),
        (("minga_jobs_ended_total",), {"type": "test.echo", "state": "done"}, 6),
        (("minga_jobs_ended_total",), {"type": "test.echo", "state": "dead"}, 1),
        (("minga_jobs_ended_total",), {"type": "test.echo", "state": "cancelled"}, 0),
        (("minga_jobs",), {"type": "report.event", "state": "queued"}, 2),
        (("minga_jobs",), {"type": "test.echo", "state": "queued"}, 0),
        (("minga_jobs",), {"type": "test.echo", "state": "leased"}, 0),
        (("minga_job_events_total",), {"event": "failed"}, 1),
        (("minga_workers",), {}, 1),
        (("minga_workers_capacity",), {}, 2),
        (("minga_workers_held",), {}, 0),
        (("minga_leases",), {}, 0),
        (("minga_queue_latency_seconds_count",), {}, 7),
    ]
    for (name,), labels, v in want:
        got = val(samples, name, **labels)
        if got != v:
            fail("%s%s = %g, want %g" % (name, labels, got, v))
    for t in ("counter", "gauge", "histogram"):
        if t not in types.values():
            fail("no metric of type %s" % t)
    used = val(samples, "minga_store_used_bytes")
    size = val(samples, "minga_store_map_size_bytes")
    if not 0 < used <= size:
        fail("store used %g, map %g" % (used, size))
    commits = val(samples, "minga_commit_batch_size_count")
    changes = val(samples, "minga_commit_batch_size_sum")
    # 9 new jobs, and for each of the 7 run: lease (or leased at enqueue) and end
    if commits < 1 or changes < 9 + 7:
        fail("commit batches: %g commits of %g changes, want >= 16 changes" % (commits, changes))
    if val(samples, "minga_commit_seconds_count") != commits:
        fail("commit latency and batch size count different commits")

    # a sleeping job shows as a lease whose age grows
    long_id = minga(st, "submit", "test.echo", "--json", '{"sleep_ms": 1500}').stdout.strip()
    for _ in range(100):
        if minga(st, "job", long_id, "--json").stdout.find('"leased"') >= 0:
            break
        time.sleep(0.05)
    time.sleep(0.6)
    samples, _ = parse(get(url)[2])
    if val(samples, "minga_leases") != 1 or val(samples, "minga_workers_held") != 1:
        fail("a held job is not counted as a lease")
    if not 0.5 <= val(samples, "minga_lease_oldest_age_seconds") < 5:
        fail("oldest lease age %g, want >= 0.5 s" % val(samples, "minga_lease_oldest_age_seconds"))
    minga(st, "wait", long_id)

    if get("http://%s/other" % addr)[0] != 404:
        fail("GET /other is not 404")
    if get(url, "POST")[0] != 405:
        fail("POST /metrics is not 405")

    w.send_signal(signal.SIGTERM)
    w.wait(10)
    b.send_signal(signal.SIGTERM)
    if b.wait(10) != 0:
        fail("broker exit %d" % b.returncode)
    if os.path.exists(os.path.join(st, "run", "metrics")):
        fail("run/metrics stays after the broker stopped")

    # the default port taken: a warning and a free port
    hold = socket.socket()
    hold.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    try:
        hold.bind(("127.0.0.1", 9464))
        hold.listen(1)
    except OSError:
        pass  # taken already (another broker): the case holds all the same
    st2 = store()
    b2 = broker(st2)
    addr2 = wait_file(os.path.join(st2, "run", "metrics"), b2)
    if addr2 == "127.0.0.1:9464" or not addr2.startswith("127.0.0.1:"):
        fail("default port taken: broker bound %r" % addr2)
    if get("http://%s/metrics" % addr2)[0] != 200:
        fail("the fallback port does not serve")
    if "127.0.0.1:9464 is taken" not in open(os.path.join(st2, "broker.err")).read():
        fail("no warning about the taken default port")
    b2.send_signal(signal.SIGTERM)
    b2.wait(10)

    # an explicit address taken: an error naming it, exit 1
    busy = socket.socket()
    busy.bind(("127.0.0.1", 0))
    busy.listen(1)
    port = busy.getsockname()[1]
    st3 = store()
    b3 = broker(st3, "--metrics", "127.0.0.1:%d" % port)
    if b3.wait(10) != 1:
        fail("explicit address taken: exit %d, want 1" % b3.returncode)
    err = open(os.path.join(st3, "broker.err")).read()
    if "127.0.0.1:%d" % port not in err:
        fail("the error does not name the address: %r" % err)
    b4 = broker(st3, "--metrics", "nonsense")
    if b4.wait(10) == 0:
        fail("--metrics nonsense accepted")

    # off: no file, the broker still serves its clients
    st5 = store()
    b5 = broker(st5, "--metrics", "off")
    for _ in range(100):
        if minga(st5, "stats", "--json", check=False).returncode == 0:
            break
        time.sleep(0.05)
    if os.path.exists(os.path.join(st5, "run", "metrics")):
        fail("--metrics off wrote run/metrics")
    b5.send_signal(signal.SIGTERM)
    b5.wait(10)
    hold.close()
    busy.close()
    print("ok")


if __name__ == "__main__":
    try:
        main()
    finally:
        cleanup()
