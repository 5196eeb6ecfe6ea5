#!/usr/bin/python3
"""report_broker.py: turns run_broker.sh's figures (one JSON object per line) into
results/broker.json (every figure, the date, the machine, the commands) and results/broker.md
(tables, ratios, targets met or missed). Called by run_broker.sh; not run on its own."""
import datetime
import json
import os
import platform
import subprocess
import sys

lines_path, json_path, md_path, build, jobs, capacity, rate, seconds, fill = sys.argv[1:10]
capacity_low = sys.argv[10] if len(sys.argv) > 10 else "64"
rows = [json.loads(l) for l in open(lines_path) if l.strip()]


def sh(cmd):
    try:
        return subprocess.run(cmd, shell=True, capture_output=True, text=True).stdout.strip()
    except OSError:
        return ""


machine = {
    "cpu": sh("lscpu | sed -n 's/^Model name: *//p' | head -1"),
    "cpus": os.cpu_count(),
    "memory": sh("free -h | awk '/Mem:/{print $2}'"),
    "kernel": platform.release(),
    "os": sh(". /etc/os-release && echo $PRETTY_NAME"),
    "beanstalkd": sh("beanstalkd -v"),
    "gearmand": sh("gearmand --version 2>&1 | head -1"),
    "filesystem_of_tmp": sh("df -T /tmp | awk 'NR==2{print $2}'"),
}
meta = {
    "date": os.environ.get("BENCH_STARTED") or
            datetime.datetime.now(datetime.timezone.utc).isoformat(timespec="seconds"),
    "commit": sh("git -C %s rev-parse --short HEAD" % os.path.dirname(os.path.abspath(__file__))),
    "machine": machine,
    "command": "tests/bench/run_broker.sh %s" % build,
    "parameters": {"jobs": int(jobs), "inflight": 1000, "minga_capacity": int(capacity),
                   "minga_capacity_low": int(capacity_low),
                   "latency_rate": int(rate), "latency_seconds": int(seconds),
                   "fill_jobs": int(fill), "body_bytes": 64},
}


def tput(system, workers, cap=None):
    """The median run of a throughput figure, with the range of all its runs."""
    runs = [r for r in rows if r.get("mode") == "throughput" and r["system"] == system
            and r["workers"] == workers and (cap is None or r["capacity"] == cap)]
    if not runs:
        return None
    runs.sort(key=lambda r: r["jobs_per_s"])
    med = dict(runs[len(runs) // 2])
    med["runs"] = len(runs)
    med["min"] = runs[0]["jobs_per_s"]
    med["max"] = runs[-1]["jobs_per_s"]
    return med


def get(mode, when=None):
    for r in rows:
        if r.get("mode") == mode and (when is None or r.get("when") == when):
            return r
    return None


cap = int(capacity)
cap_low = int(capacity_low)
ratios = {}
for w in (1, 2):
    for c in (cap, cap_low, 1):
        m = tput("minga", w, c)
        for other in ("beanstalkd", "gearmand", "zmq"):
            # the ceiling at the same credit (credit 1 is not run on it)
            o = tput(other, w, c if other == "zmq" else None)
            if m and o:
                ratios["minga_c%d_vs_%s_w%d" % (c, other, w)] = round(
                    m["jobs_per_s"] / o["jobs_per_s"], 2)

lat = None
lat_low = None
for r in rows:
    if r.get("mode") == "latency":
        if r["rate"] == int(rate):
            lat = r
        elif r["rate"] < int(rate):
            lat_low = r
mem_fill = get("memory", "after enqueueing")
mem_restart = get("memory", "after restart")
restart = get("restart")
serve = get("serve")
targets = []


def target(name, value, goal, ok, unit=""):
    targets.append({"target": name, "value": value, "goal": goal, "met": bool(ok)})


r = ratios.get("minga_c%d_vs_beanstalkd_w2" % cap)
target("throughput >= 5x beanstalkd-binlog at W=2", r, ">= 5", r is not None and r >= 5)
r = ratios.get("minga_c%d_vs_gearmand_w2" % cap)
target("throughput >= 5x gearmand at W=2", r, ">= 5", r is not None and r >= 5)
r = ratios.get("minga_c%d_vs_zmq_w2" % cap)
target(">= 25%% of the raw zmq ceiling at W=2 (same credit, %d)" % cap, r, ">= 0.25",
       r is not None and r >= 0.25)
if lat:
    target("p99 < 2 ms at %s jobs/s" % rate, lat["p99_ms"], "< 2 ms", lat["p99_ms"] < 2)
if mem_fill:
    v = round(mem_fill["vmhwm_kib"] / 1024, 1)
    target("broker VmHWM < 256 MiB with %s queued" % fill, v, "< 256 MiB", v < 256)
if serve and restart:
    total = round(restart["up_ms"] / 1000 + serve["first_job_done_s"], 3)
    target("restart to serving < 5 s with %s jobs (up + first job done)" % fill, total, "< 5 s",
           total < 5)

meta["parameters"]["repeat"] = (tput("minga", 2, cap) or {}).get("runs", 1)
fsync = get("fsync")
# The JSON is flat (one level of name -> number, string or boolean), for tools.
flat = {"date": meta["date"], "commit": meta["commit"], "command": meta["command"]}
for k, v in machine.items():
    flat["machine_" + k] = v
for k, v in meta["parameters"].items():
    flat["param_" + k] = v
for system in ("minga", "beanstalkd", "gearmand", "zmq"):
    for w in (1, 2):
        for c in ((cap, cap_low, 1) if system == "minga" else
                  (cap, cap_low) if system == "zmq" else (None,)):
            t = tput(system, w, c)
            if not t:
                continue
            name = "%s%s_w%d" % (system, "_c%d" % c if c else "", w)
            flat[name + "_jobs_per_s"] = t["jobs_per_s"]
            flat[name + "_jobs_per_s_min"] = t["min"]
            flat[name + "_jobs_per_s_max"] = t["max"]
            if t.get("worker_cpu_us_per_job") is not None:
                flat[name + "_worker_cpu_us_per_job"] = t["worker_cpu_us_per_job"]
            if t.get("broker_cpu_us_per_job") is not None:
                flat[name + "_broker_cpu_us_per_job"] = t["broker_cpu_us_per_job"]
            if t.get("enqueue_batch") is not None:
                flat[name + "_enqueue_batch"] = t["enqueue_batch"]
for k, v in ratios.items():
    flat["ratio_" + k] = v
for l in (lat, lat_low):
    if l:
        for q in ("p50_ms", "p90_ms", "p99_ms", "p999_ms", "max_ms", "send_rate"):
            flat["latency_%d_%s" % (l["rate"], q)] = l[q]
if fsync:
    for q in ("p50_ms", "p90_ms", "p99_ms", "max_ms"):
        flat["fdatasync_" + q] = fsync[q]
for m, tag in ((mem_fill, "filled"), (mem_restart, "restarted")):
    if m:
        for q in ("vmhwm_kib", "rssanon_kib", "rssfile_kib"):
            flat["memory_%s_%s" % (tag, q)] = m[q]
if get("fill"):
    flat["fill_seconds"] = get("fill")["seconds"]
if restart:
    flat["restart_up_ms"] = restart["up_ms"]
if serve:
    flat["restart_ping_s"] = serve["ping_s"]
    flat["restart_first_job_done_s"] = serve["first_job_done_s"]
for i, t in enumerate(targets):
    key = "target_%d" % (i + 1)
    flat[key + "_name"] = t["target"]
    flat[key + "_value"] = t["value"]
    flat[key + "_met"] = t["met"]
with open(json_path, "w") as f:
    json.dump(flat, f, indent=1, ensure_ascii=False)
    f.write("\n")

out = []
out.append("# Broker benchmark\n")
out.append("Written by `tests/bench/run_broker.sh` (do not edit by hand; run it again).\n")
out.append("- run started: %s, commit %s (plus uncommitted work, if any)" % (meta["date"], meta["commit"]))
out.append("- machine: %s, %s CPUs, %s RAM, %s, kernel %s; /tmp on %s" % (
    machine["cpu"], machine["cpus"], machine["memory"], machine["os"], machine["kernel"],
    machine["filesystem_of_tmp"]))
out.append("- command: `%s`" % meta["command"])
out.append("- work: %s jobs of a 64-byte no-op body, one producer with at most 1,000 jobs in "
           "flight (enqueued, not yet done), W workers; everything on loopback, started by the "
           "benchmark in the same run.\n" % jobs)
out.append("## Throughput (jobs/s)\n")
eb = (tput("minga", 2, cap) or {}).get("enqueue_batch", 1)
out.append("Median of %s runs each (range in brackets); worker CPU is the workers' user + "
           "system time per job at W=2 (for zmq it includes its broker process; for Minga the "
           "broker's own is in brackets). Minga's producer sends %s.\n" % (
               (tput("minga", 2, cap) or {}).get("runs", 1),
               "one ENQUEUE per job" if eb <= 1 else
               "BATCH messages of %d job specs (still at most 1,000 jobs in flight)" % eb))
out.append("| system | durable | W=1 | W=2 | worker CPU/job |")
out.append("|---|---|---|---|---|")
def cell(r):
    if not r:
        return "—"
    s = format(int(r["jobs_per_s"]), ",")
    if r["runs"] > 1:
        s += " (%s–%s)" % (format(int(r["min"]), ","), format(int(r["max"]), ","))
    return s
def cpu(r):
    s = "%.0f µs" % r["worker_cpu_us_per_job"] if r and "worker_cpu_us_per_job" in r else "—"
    if r and "broker_cpu_us_per_job" in r:
        s += " (broker %.0f µs)" % r["broker_cpu_us_per_job"]
    return s
for c in (cap, cap_low):
    out.append("| minga-broker, worker credit %d | yes (LMDB, group commit) | %s | %s | %s |" % (
        c, cell(tput("minga", 1, c)), cell(tput("minga", 2, c)), cpu(tput("minga", 2, c))))
out.append("| minga-broker, worker credit 1 | yes | %s | %s | %s |" % (
    cell(tput("minga", 1, 1)), cell(tput("minga", 2, 1)), cpu(tput("minga", 2, 1))))
out.append("| beanstalkd %s, binlog on (default fsync) | binlog | %s | %s | %s |" % (
    machine["beanstalkd"].replace("beanstalkd ", ""), cell(tput("beanstalkd", 1)),
    cell(tput("beanstalkd", 2)), cpu(tput("beanstalkd", 2))))
out.append("| gearmand, background jobs | no (memory queue) | %s | %s | %s |" % (
    cell(tput("gearmand", 1)), cell(tput("gearmand", 2)), cpu(tput("gearmand", 2))))
for c in (cap, cap_low):
    out.append("| raw libzmq LB broker, credit %d (ceiling) | no | %s | %s | %s |" % (
        c, cell(tput("zmq", 1, c)), cell(tput("zmq", 2, c)), cpu(tput("zmq", 2, c))))
out.append("")
out.append("Ratios: " + ", ".join("%s = %s" % kv for kv in sorted(ratios.items())) + "\n")
if lat:
    out.append("## Open-loop latency, Minga, enqueue sent -> done event received, W=2\n")
    out.append("| rate | jobs | sent at | p50 | p90 | p99 | p99.9 | max |")
    out.append("|---|---|---|---|---|---|---|---|")
    for l in (lat, lat_low):
        if l:
            out.append("| %s/s for %s s | %d | %s/s | %.3f ms | %.3f ms | %.3f ms | %.3f ms | %.3f ms |" % (
                format(l["rate"], ","), l["seconds"], l["measured"], format(int(l["send_rate"]), ","),
                l["p50_ms"], l["p90_ms"], l["p99_ms"], l["p999_ms"], l["max_ms"]))
    out.append("")
if fsync:
    out.append("The disk under these commits: a 4 KiB `pwrite` + `fdatasync` (LMDB does two per "
               "commit, data then meta) takes p50 %.3f ms, p90 %.3f ms, p99 %.3f ms, max %.3f ms "
               "(%d tries). A job's way from ENQUEUE to its `done` event holds two commits in "
               "series (enqueue, leased in the same commit when a worker is free; then done), so "
               "four of these: about %.1f ms at their p50 and %.1f ms at their p99, before any "
               "message is sent.\n" % (
                   fsync["p50_ms"], fsync["p90_ms"], fsync["p99_ms"], fsync["max_ms"], fsync["n"],
                   4 * fsync["p50_ms"], 4 * fsync["p99_ms"]))
if mem_fill:
    out.append("## Broker memory and restart with %s jobs queued\n" % format(int(fill), ","))
    out.append("| when | VmHWM | RssAnon | RssFile |")
    out.append("|---|---|---|---|")
    for m in (mem_fill, mem_restart):
        if m:
            out.append("| %s | %.1f MiB | %.1f MiB | %.1f MiB |" % (
                m["when"], m["vmhwm_kib"] / 1024, m["rssanon_kib"] / 1024, m["rssfile_kib"] / 1024))
    out.append("")
    f = get("fill")
    if f:
        out.append("Enqueueing them (BATCH of 10,000): %.1f s, %s jobs/s." % (
            f["seconds"], format(int(f["jobs_per_s"]), ",")))
    if restart:
        out.append("Restart after kill -9 (`minga up`, until the new broker answers PING): %.2f s." % (restart["up_ms"] / 1000))
    if serve:
        out.append("From the restart's first PING attempt: PING answered after %.3f s; a priority-0 "
                   "job enqueued then was done by a fresh worker %.3f s after it." % (
                       serve["ping_s"], serve["first_job_done_s"]))
    out.append("")
out.append("## Targets\n")
out.append("| target | value | goal | met |")
out.append("|---|---|---|---|")
for t in targets:
    out.append("| %s | %s | %s | %s |" % (t["target"], t["value"], t["goal"], "yes" if t["met"] else "**no**"))
out.append("")
notes = os.path.join(os.path.dirname(os.path.abspath(__file__)), "broker_notes.md")
if os.path.exists(notes):
    out.append(open(notes).read())
with open(md_path, "w") as f:
    f.write("\n".join(out))
