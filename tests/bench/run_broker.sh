#!/usr/bin/env bash
# run_broker.sh: the job-queue benchmark, in one command:
#
#   tests/bench/run_broker.sh [BUILD_DIR]     (default: build-runtime-rel, built Release here)
#
# In one run, on loopback, on this machine: 64-byte no-op jobs, one producer with up to 1,000
# jobs in flight, W = 1 and W = 2 workers, for
#   - minga-broker (durable: every job committed to LMDB before it is accepted), workers =
#     minga-test-worker processes with credit CAPACITY (1000: a worker of no-op jobs may hold
#     every job in flight), with credit CAPACITY_LOW (64) and with credit 1;
#   - beanstalkd with its binlog (-b, default fsync policy), workers reserve + delete;
#   - gearmand, background jobs, libgearman workers (its default queue is in memory);
#   - a raw libzmq load-balancing broker with worker credit and no persistence: the ceiling,
#     with the same credits (CAPACITY and CAPACITY_LOW) as Minga's workers.
# Then Minga's open-loop latency at RATE jobs/s (p50/p99 enqueue -> done), its broker's memory
# with FILL jobs queued (VmHWM, RssAnon, RssFile from /proc/PID/status), and the time from a
# restart (after kill -9) to serving with those jobs in the store.
# Results: tests/bench/results/broker.json (every figure, with date, machine and commands)
# and tests/bench/results/broker.md (the table and the ratios against the targets).
# Each throughput figure is run REPEAT times; the report gives the median (and the range): this
# is a shared 2-CPU machine, other processes make single runs noisy. Minga's completions are
# counted from STATS (totals.done, polled every 2 ms), so that the broker, like the others,
# sends nothing per job to the producer but the enqueue reply.
# Minga's producer enqueues with BATCH messages of ENQUEUE_BATCH specs (still at most 1,000
# jobs in flight), as beanstalkd's producer pipelines its puts and gearmand's its tasks; the
# open-loop latency run sends one ENQUEUE per job.
# Environment: JOBS (100000), CAPACITY (1000), CAPACITY_LOW (64), RATE (5000), LAT_SECONDS (10), FILL (1000000),
# REPEAT (3), ENQUEUE_BATCH (100).
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
root=$(cd "$here/../.." && pwd)
build=${1:-$root/build-runtime-rel}
JOBS=${JOBS:-100000}
REPEAT=${REPEAT:-3}
CAPACITY=${CAPACITY:-1000}
CAPACITY_LOW=${CAPACITY_LOW:-64}
RATE=${RATE:-5000}
SECONDS_LAT=${LAT_SECONDS:-10}
FILL=${FILL:-1000000}
ENQUEUE_BATCH=${ENQUEUE_BATCH:-100}
results=$here/results
BENCH_STARTED=$(date -u +%Y-%m-%dT%H:%M:%S+00:00)
export BENCH_STARTED
mkdir -p "$results"

if [ -z "${1:-}" ]; then
    cmake -S "$root" -B "$build" -DCMAKE_BUILD_TYPE=Release >/dev/null
    cmake --build "$build" -j "$(nproc)" --target minga minga-broker minga-test-worker \
        bench_broker >/dev/null
fi
bin=$build/bin
for b in minga minga-broker minga-test-worker bench_broker; do
    [ -x "$bin/$b" ] || { echo "run_broker.sh: $bin/$b missing" >&2; exit 1; }
done
command -v beanstalkd >/dev/null || { echo "run_broker.sh: beanstalkd missing" >&2; exit 1; }
command -v gearmand >/dev/null || { echo "run_broker.sh: gearmand missing" >&2; exit 1; }

work=$(mktemp -d /tmp/minga-XXXXXX)
out=$work/lines.jsonl
: >"$out"
pids=()
cleanup() {
    for p in "${pids[@]}"; do kill -9 "$p" 2>/dev/null || true; done
    "$bin/minga" --store "$work/s" down --drain-timeout 2 >/dev/null 2>&1 || true
    rm -rf "$work"
}
trap cleanup EXIT

free_port() { /usr/bin/python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])'; }
record() { # record JSON COMMAND: appends the figure with the exact command
    jq -c --arg cmd "$2" '. + {command: $cmd}' <<<"$1" >>"$out"
    echo "$1" >&2
}
run() { # run COMMAND...: runs the bench driver, records its line
    local line
    line=$("$@")
    record "$(jq -c --arg load "$(cut -d' ' -f1-3 /proc/loadavg)" '. + {load_before: $load}' \
        <<<"$line")" "$*"
}

# --- beanstalkd (binlog) and gearmand
for rep in $(seq "$REPEAT"); do
for w in 1 2; do
    port=$(free_port)
    rm -rf "$work/binlog" && mkdir -p "$work/binlog"
    beanstalkd -l 127.0.0.1 -p "$port" -b "$work/binlog" &
    bp=$!
    pids+=("$bp")
    sleep 0.3
    run "$bin/bench_broker" throughput beanstalkd --port "$port" --jobs "$JOBS" --workers "$w" \
        --inflight 1000
    kill "$bp"
    wait "$bp" 2>/dev/null || true

    port=$(free_port)
    gearmand --listen=127.0.0.1 --port="$port" --log-file=none >/dev/null 2>&1 &
    gp=$!
    pids+=("$gp")
    sleep 0.5
    run "$bin/bench_broker" throughput gearmand --port "$port" --jobs "$JOBS" --workers "$w" \
        --inflight 1000
    kill "$gp"
    wait "$gp" 2>/dev/null || true
done
done

# --- the raw zmq ceiling
for rep in $(seq "$REPEAT"); do
    for w in 1 2; do
        for cap in "$CAPACITY" "$CAPACITY_LOW"; do
            run "$bin/bench_broker" throughput zmq --jobs "$JOBS" --workers "$w" \
                --inflight 1000 --capacity "$cap"
        done
    done
done

# --- minga
start_broker() {
    rm -rf "$work/s"
    "$bin/minga" --store "$work/s" up --test-workers 0 --match-workers 0 --notify-workers 0 \
        --report-workers 0 >/dev/null
}
stop_broker() { "$bin/minga" --store "$work/s" down --drain-timeout 10 >/dev/null; }
for rep in $(seq "$REPEAT"); do
    for w in 1 2; do
        for cap in "$CAPACITY" "$CAPACITY_LOW" 1; do
            n=$JOBS
            [ "$cap" = 1 ] && n=$((JOBS / 10)) # credit 1: one lease commit per job per worker
            start_broker
            run "$bin/bench_broker" throughput minga --store "$work/s" \
                --worker-bin "$bin/minga-test-worker" --jobs "$n" --workers "$w" \
                --inflight 1000 --capacity "$cap" --done-by stats --enqueue-batch "$ENQUEUE_BATCH"
            stop_broker
        done
    done
done

# --- latency, open loop: at RATE, and at 200 jobs/s (the floor of an idle broker)
for r in "$RATE" 200; do
    start_broker
    run "$bin/bench_broker" latency --store "$work/s" --worker-bin "$bin/minga-test-worker" \
        --rate "$r" --seconds "$SECONDS_LAT" --workers 2 --capacity "$CAPACITY"
    stop_broker
done

# --- the disk's floor under any durable commit: 4 KiB pwrite + fdatasync, as LMDB does twice
run "$bin/bench_broker" fsync --store "$work" --jobs 2000

# --- memory with FILL queued jobs, then restart to serving
mem() { # mem PID WHEN
    local f=/proc/$1/status
    jq -nc --arg when "$2" --argjson hwm "$(awk '/VmHWM/{print $2}' "$f")" \
        --argjson anon "$(awk '/RssAnon/{print $2}' "$f")" \
        --argjson file "$(awk '/RssFile/{print $2}' "$f")" --argjson jobs "$FILL" \
        '{mode: "memory", system: "minga", when: $when, jobs: $jobs, vmhwm_kib: $hwm,
          rssanon_kib: $anon, rssfile_kib: $file}'
}
start_broker
bpid=$(cat "$work/s/run/minga-broker.pid")
run "$bin/bench_broker" fill --store "$work/s" --jobs "$FILL"
record "$(mem "$bpid" "after enqueueing")" "grep -E 'VmHWM|RssAnon|RssFile' /proc/$bpid/status"
kill -9 "$bpid" # a crash, not a clean stop: recovery may not lean on a tidy shutdown
# gone when its pid file's lock is free (its last thread has exited), not when its main
# thread is a zombie
until flock -n "$work/s/run/minga-broker.pid" true; do sleep 0.05; done
t0=$(date +%s%N)
"$bin/minga" --store "$work/s" --timeout 60 up --test-workers 0 --match-workers 0 \
    --notify-workers 0 --report-workers 0 >/dev/null ||
    { tail -n 20 "$work/s/log/minga-broker.log" >&2; exit 1; }
t1=$(date +%s%N)
bpid=$(cat "$work/s/run/minga-broker.pid")
record "$(jq -nc --argjson ms $(((t1 - t0) / 1000000)) --argjson jobs "$FILL" \
    '{mode: "restart", system: "minga", jobs: $jobs, up_ms: $ms}')" \
    "kill -9 BROKER; minga --store STORE up (until the new broker answers PING)"
run "$bin/bench_broker" serve --store "$work/s" --worker-bin "$bin/minga-test-worker"
record "$(mem "$bpid" "after restart")" "grep -E 'VmHWM|RssAnon|RssFile' /proc/$bpid/status"
stop_broker

# --- results
/usr/bin/python3 "$here/report_broker.py" "$out" "$results/broker.json" "$results/broker.md" \
    "$build" "$JOBS" "$CAPACITY" "$RATE" "$SECONDS_LAT" "$FILL" "$CAPACITY_LOW"
echo "run_broker.sh: results in $results/broker.md and broker.json" >&2
