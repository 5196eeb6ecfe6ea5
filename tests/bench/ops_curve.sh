#!/usr/bin/env bash
# ops_curve.sh: the cost of CurveZMQ on the broker benchmark of the job engine (issue 9), in one
# command:
#
#   tests/bench/ops_curve.sh BUILD_DIR
#
# The durable broker's throughput as run_broker.sh's `minga` run measures it (64-byte no-op
# test.echo jobs, one producer with up to 1,000 in flight, W = 2 minga-test-worker processes of
# credit CAPACITY, completions counted from STATS), but with the broker's three sockets on
# tcp://127.0.0.1 instead of ipc: once with CURVE on (keys made with `minga keygen` into a
# temporary directory, ZAP allowing the client's and the workers' keys) and once with CURVE off,
# alternately, REPEAT times each; a fresh store for every run. Results:
# tests/bench/results/ops_curve.json (flat: every run's jobs/s, the medians and their ratio, date,
# machine, exact commands) and tests/bench/results/ops_curve.md.
# Environment: JOBS (100000), CAPACITY (64), REPEAT (3), WORKERS (2), OUT_DIR (tests/bench/results).
# Run it on an idle machine: it measures what a busy one takes away.
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
root=$(cd "$here/../.." && pwd)
[ $# -eq 1 ] || { echo "usage: tests/bench/ops_curve.sh BUILD_DIR" >&2; exit 2; }
build=$(cd "$1" && pwd)
bin=$build/bin
JOBS=${JOBS:-100000}
CAPACITY=${CAPACITY:-64}
REPEAT=${REPEAT:-3}
WORKERS=${WORKERS:-2}
results=${OUT_DIR:-$here/results}
mkdir -p "$results"
for b in minga minga-broker minga-test-worker bench_broker; do
    [ -x "$bin/$b" ] || { echo "ops_curve.sh: $bin/$b missing" >&2; exit 1; }
done

work=$(mktemp -d /tmp/minga-XXXXXX)
lines=$work/lines.jsonl
: >"$lines"
bpid=
cleanup() {
    [ -n "$bpid" ] && kill -9 "$bpid" 2>/dev/null || true
    rm -rf "$work"
}
trap cleanup EXIT

free_port() { /usr/bin/python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])'; }

# keys: the broker's pair, one client's and one worker's, each allowed in its ZAP domain
keys=$work/k
mkdir -p "$keys" "$work/clients" "$work/workers"
for who in broker bench-client bench-worker; do
    "$bin/minga" keygen "$who" --dir "$keys" >/dev/null 2>&1
done
cp "$keys/bench-client.cert" "$work/clients/"
cp "$keys/bench-worker.cert" "$work/workers/"

one_run() { # one_run on|off
    local curve=$1 store=$work/s-$1 pc pw pe
    rm -rf "$store"
    pc=$(free_port) pw=$(free_port) pe=$(free_port)
    local eps=(--clients "tcp://127.0.0.1:$pc" --workers "tcp://127.0.0.1:$pw"
        --events "tcp://127.0.0.1:$pe")
    local sec=(--curve off)
    local client=(--curve off)
    if [ "$curve" = on ]; then
        sec=(--curve on --cert "$keys/broker.cert" --client-certs "$work/clients"
            --worker-certs "$work/workers")
        client=(--curve on --broker-key "$keys/broker.cert" --cert "$keys/bench-client.cert"
            --worker-cert "$keys/bench-worker.cert")
    fi
    local bcmd=("$bin/minga-broker" --store "$store" --metrics off "${eps[@]}" "${sec[@]}")
    "${bcmd[@]}" 2>"$work/broker-$curve.log" &
    bpid=$!
    local ping=("$bin/minga" --store "$store" --broker "tcp://127.0.0.1:$pc" --timeout 1)
    if [ "$curve" = on ]; then
        ping+=(--broker-key "$keys/broker.cert" --cert "$keys/bench-client.cert")
    else
        ping+=(--no-curve)
    fi
    local up=
    for _ in $(seq 1 100); do
        if "${ping[@]}" stats >/dev/null 2>&1; then up=1; break; fi
        sleep 0.1
    done
    [ -n "$up" ] || { echo "ops_curve.sh: the broker did not come up:" >&2
        cat "$work/broker-$curve.log" >&2; exit 1; }
    local cmd=("$bin/bench_broker" throughput minga --store "$store" --worker-bin
        "$bin/minga-test-worker" --jobs "$JOBS" --workers "$WORKERS" --inflight 1000
        --capacity "$CAPACITY" --done-by stats --clients-ep "tcp://127.0.0.1:$pc"
        --workers-ep "tcp://127.0.0.1:$pw" --events-ep "tcp://127.0.0.1:$pe" "${client[@]}")
    local line
    line=$("${cmd[@]}")
    jq -c --arg bcmd "${bcmd[*]}" --arg cmd "${cmd[*]}" \
        --arg load "$(cut -d' ' -f1-3 /proc/loadavg)" \
        '. + {broker_command: $bcmd, command: $cmd, load_before: $load}' <<<"$line" >>"$lines"
    echo "$line" >&2
    kill "$bpid"
    wait "$bpid" 2>/dev/null || true
    bpid=
}

started=$(date -u +%Y-%m-%dT%H:%M:%SZ)
for _ in $(seq "$REPEAT"); do
    one_run off
    one_run on
done

/usr/bin/python3 - "$lines" "$results/ops_curve.json" "$results/ops_curve.md" "$started" \
    "$build" "$JOBS" "$CAPACITY" "$WORKERS" "$root" <<'PY'
import json, os, platform, statistics, subprocess, sys
src, out_json, out_md, started, build, jobs, capacity, workers, root = sys.argv[1:]
runs = [json.loads(l) for l in open(src) if l.strip()]
on = [r["jobs_per_s"] for r in runs if r.get("curve") is True]
off = [r["jobs_per_s"] for r in runs if r.get("curve") is False]
cpu = {"on": [r["worker_cpu_us_per_job"] for r in runs if r.get("curve") is True],
       "off": [r["worker_cpu_us_per_job"] for r in runs if r.get("curve") is False]}
model = "?"
for line in open("/proc/cpuinfo"):
    if line.startswith("model name"):
        model = line.split(":", 1)[1].strip()
        break
mem_gib = os.sysconf("SC_PAGE_SIZE") * os.sysconf("SC_PHYS_PAGES") / 2**30
machine = "%d CPU %s, %.0f GiB, %s" % (os.cpu_count(), model, mem_gib, platform.platform())
commit = subprocess.run(["git", "-C", root, "rev-parse", "--short", "HEAD"],
                        capture_output=True, text=True).stdout.strip()
med_on, med_off = statistics.median(on), statistics.median(off)
flat = {"date": started, "machine": machine, "commit": commit,
        "command": "tests/bench/ops_curve.sh %s (JOBS=%s CAPACITY=%s WORKERS=%s)" %
                   (build, jobs, capacity, workers),
        "broker_command_on": next(r["broker_command"] for r in runs if r["curve"]),
        "broker_command_off": next(r["broker_command"] for r in runs if not r["curve"]),
        "bench_command_on": next(r["command"] for r in runs if r["curve"]),
        "bench_command_off": next(r["command"] for r in runs if not r["curve"]),
        "jobs": int(jobs), "workers": int(workers), "capacity": int(capacity),
        "jobs_per_s_curve_on": med_on, "jobs_per_s_curve_off": med_off,
        "ratio_on_off": round(med_on / med_off, 3),
        "worker_cpu_us_per_job_curve_on": statistics.median(cpu["on"]),
        "worker_cpu_us_per_job_curve_off": statistics.median(cpu["off"])}
for i, v in enumerate(on, 1):
    flat["jobs_per_s_curve_on_%d" % i] = v
for i, v in enumerate(off, 1):
    flat["jobs_per_s_curve_off_%d" % i] = v
for i, r in enumerate(runs, 1):
    flat["load_before_%d_%s" % (i, "on" if r["curve"] else "off")] = r["load_before"]
with open(out_json, "w") as f:
    json.dump(flat, f, indent=1)
    f.write("\n")
with open(out_md, "w") as f:
    f.write("# CurveZMQ on the broker benchmark of the job engine (issue 9)\n\n")
    f.write("Date %s, machine: %s, commit %s.\n\n" % (started, machine, commit))
    f.write("Command: `%s`\n\n" % flat["command"])
    f.write("The durable broker's throughput as in `run_broker.sh` (64-byte no-op `test.echo` "
            "jobs, 1,000 in flight, W = %s workers of credit %s, %s jobs a run, completions "
            "from STATS), with the three sockets on tcp://127.0.0.1, CURVE on and off, "
            "alternately, a fresh store each run.\n\n" % (workers, capacity, jobs))
    f.write("| CURVE | jobs/s (median) | runs | worker CPU µs/job (median) |\n|---|---|---|---|\n")
    f.write("| off | %.0f | %s | %.1f |\n" % (med_off, ", ".join("%.0f" % v for v in off),
                                             flat["worker_cpu_us_per_job_curve_off"]))
    f.write("| on | %.0f | %s | %.1f |\n\n" % (med_on, ", ".join("%.0f" % v for v in on),
                                               flat["worker_cpu_us_per_job_curve_on"]))
    f.write("Ratio on / off: **%.3f**.\n\n" % flat["ratio_on_off"])
    f.write("Exact commands of one run each:\n\n```\n%s\n%s\n%s\n%s\n```\n" %
            (flat["broker_command_off"], flat["bench_command_off"], flat["broker_command_on"],
             flat["bench_command_on"]))
print("ops_curve.sh: on %.0f jobs/s, off %.0f jobs/s, ratio %.3f; results in %s" %
      (med_on, med_off, flat["ratio_on_off"], out_md), file=sys.stderr)
PY
