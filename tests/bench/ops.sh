#!/bin/bash
# ops.sh: issue 9's figures. The scale-S match batch (`minga rueda score EVENT --shards N`, as
# match_scaleout.sh builds the scale-20 store and times it, best of R) in three set-ups:
#   classic   2 local match workers (ipc, the store shared), the classic batch
#   carried   2 local match workers (ipc), the batch --carry (prepare, N shards, merge): what
#             carrying the data through the broker costs, without the network
#   remote    1 local match worker (the store: prepare, merge and shards) and 1 worker in remote
#             mode (no store, started in an empty directory: shards), both over TCP with
#             CurveZMQ on, the batch --carry: what the network and the encryption add
# with the wall time, the throughput ratio classic/remote, and the bytes the broker's worker
# socket received and sent during the batch (its /metrics counters
# minga_worker_bytes_received_total and minga_worker_bytes_sent_total), per job. Every
# set-up's export is checked equal to the classic one's. Then tests/bench/ops_curve.sh (the
# broker benchmark with CurveZMQ on and off, into tests/bench/results/ops_curve.*), when it
# exists, adds its figures to ops.md and ops.json (as curve_*). --no-curve-bench skips it.
#
#   tests/bench/ops.sh [BUILD] [--out DIR] [--scale S] [--shards N] [--reps R] [--no-curve-bench]
#
# BUILD: the build directory (default build-remote); writes DIR/ops.json (flat) and DIR/ops.md
# (DIR: tests/bench/results).
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
root=$(cd "$here/../.." && pwd)
build=$root/build-remote
out=$here/results
scale=20
shards=8
reps=3
nocurve=""
if [ $# -gt 0 ] && [ "${1#--}" = "$1" ]; then
    build=$(cd "$1" && pwd)
    shift
fi
while [ $# -gt 0 ]; do
    case "$1" in
    --out) out=$2; shift 2 ;;
    --scale) scale=$2; shift 2 ;;
    --shards) shards=$2; shift 2 ;;
    --reps) reps=$2; shift 2 ;;
    --no-curve-bench) nocurve=1; shift ;;
    *) echo "ops.sh: unknown option $1" >&2; exit 2 ;;
    esac
done
bin=$build/bin
[ -x "$bin/minga-match-worker" ] || { echo "ops.sh: no $bin/minga-match-worker (build first)" >&2; exit 2; }
export PATH="$bin:$PATH"
unset MINGA_STORE
cmdline="tests/bench/ops.sh $build --scale $scale --shards $shards --reps $reps"
W=$(mktemp -d /tmp/minga-XXXXXX)
S=$W/s
pids=()
cleanup() {
    for p in "${pids[@]}"; do kill "$p" 2>/dev/null || true; done
    minga --store "$S" down >/dev/null 2>&1 || true
    rm -rf "$W"
}
trap cleanup EXIT
E=jornada-2026
now() { date +%s.%N; }
port() { /usr/bin/python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])'; }

echo "ops.sh: building the scale-$scale store" >&2
minga demo-data --out "$W/d" --scale "$scale" >/dev/null 2>&1
minga --store "$S" init >/dev/null
for k in gads cooperantes offers demands events; do
    minga --store "$S" import $k "$W/d/$k.csv" >/dev/null
done
for k in participants preferences; do
    minga --store "$S" import $k "$W/d/$k.csv" --event $E >/dev/null
done
demands=$(($(wc -l <"$W/d/demands.csv") - 1))

# metric NAME: the broker's counter now
metric() { curl -s "http://$(cat "$S/run/metrics")/metrics" | awk -v n="$1" '$1 == n {print $2}'; }

declare -A wall bytes_in bytes_out njobs
ref=""
# timed NAME CLIENT-ARGS...: best wall time of reps runs of the batch, bytes of that run
timed() {
    local name=$1 best=999 t t0 i0 o0 sum
    shift
    for _ in $(seq "$reps"); do
        i0=$(metric minga_worker_bytes_received_total)
        o0=$(metric minga_worker_bytes_sent_total)
        t0=$(now)
        minga "$@" rueda score $E --shards "$shards" ${carry:+--carry} >/dev/null 2>"$W/err" ||
            { echo "ops.sh: $name: $(cat "$W/err")" >&2; exit 1; }
        t=$(echo "$(now) - $t0" | bc -l)
        if [ "$(echo "$t < $best" | bc -l)" = 1 ]; then
            best=$t
            bytes_in[$name]=$(($(metric minga_worker_bytes_received_total) - i0))
            bytes_out[$name]=$(($(metric minga_worker_bytes_sent_total) - o0))
        fi
        sum=$(minga --store "$S" export candidates --event $E | md5sum)
        [ -z "$ref" ] && ref=$sum
        [ "$sum" = "$ref" ] || { echo "ops.sh: $name: export differs from the classic one" >&2; exit 1; }
    done
    wall[$name]=$best
    njobs[$name]=$((shards + (${carry:-0} ? 2 : 0)))
    echo "ops.sh: $name: ${wall[$name]} s" >&2
}

# classic and carried: 2 local workers on ipc
minga --store "$S" up --match-workers 2 --test-workers 0 --notify-workers 0 --report-workers 0 >/dev/null
carry="" timed classic --store "$S"
carry=1 timed carried --store "$S"
minga --store "$S" down >/dev/null

# remote: a broker on tcp with CurveZMQ, 1 local worker and 1 remote-mode worker
K=$W/k
for n in broker client local remote; do minga keygen $n --dir "$K" >/dev/null 2>&1; done
mkdir -p "$W/clients" "$W/workers" "$W/empty"
cp "$K/client.cert" "$W/clients/"
cp "$K/local.cert" "$K/remote.cert" "$W/workers/"
pc=$(port) pw=$(port) pe=$(port)
rm -f "$S/run/metrics"
minga-broker --store "$S" --clients tcp://127.0.0.1:$pc --workers tcp://127.0.0.1:$pw \
    --events tcp://127.0.0.1:$pe --cert "$K/broker.cert" --client-certs "$W/clients" \
    --worker-certs "$W/workers" --metrics 127.0.0.1:0 2>"$W/broker.log" &
pids+=($!)
for _ in $(seq 100); do [ -s "$S/run/metrics" ] && break; sleep 0.05; done
wk=(--broker tcp://127.0.0.1:$pw --broker-key "$K/broker.cert")
minga-match-worker --store "$S" "${wk[@]}" --cert "$K/local.cert" --name local 2>"$W/local.log" &
pids+=($!)
(cd "$W/empty" && exec minga-match-worker --remote "${wk[@]}" --cert "$K/remote.cert" --name remote 2>"$W/remote.log") &
pids+=($!)
sleep 1
carry=1 timed remote --store "$S" --broker tcp://127.0.0.1:$pc --broker-key "$K/broker.cert" --cert "$K/client.cert"
remote_shards=$(grep -c "match.shard $E shard" "$W/remote.log" || true)
[ "$remote_shards" -ge 1 ] || { echo "ops.sh: the remote worker scored $remote_shards shards" >&2; exit 1; }
blob=$(grep -o 'prepare: [0-9]* offers, [0-9]* demands, [0-9]* bytes' "$W/local.log" | tail -1 | awk '{print $6}')
# where the last remote run's time went, from the workers' logs (ms)
logs="$W/local.log $W/remote.log"
last() { cat $logs | grep -o "$1" | tail -n "${2:-1}"; }
prep=$(last 'prepare: .*(read [0-9]* ms, pack [0-9]* ms)' | sed 's/.*read \([0-9]*\) ms, pack \([0-9]*\) ms.*/\1 \2/')
unpack=$(last 'fetched in [0-9]* ms, unpacked in [0-9]* ms' 2 | sed 's/fetched in \([0-9]*\) ms, unpacked in \([0-9]*\) ms/\1 \2/' | awk '{f += $1; u += $2; n++} END {printf "%d %d", f / n, u / n}')
shardms=$(last 'match.shard [^ ]* shard [0-9]*/[0-9]*: .*score [0-9]* ms, pack [0-9]* ms' "$shards" | sed 's/.*score \([0-9]*\) ms, pack \([0-9]*\) ms/\1 \2/' | awk '{s += $1; p += $2; n++} END {printf "%d %d", s / n, p / n}')
mfetch=$(last 'shard results, [0-9]* bytes, fetched in [0-9]* ms' | sed 's/shard results, \([0-9]*\) bytes, fetched in \([0-9]*\) ms/\1 \2/')
mms=$(cat $logs | grep 'match.score merge .*run merged' | tail -1 | sed 's/.*merge \([0-9]*\) ms, cpu.*/\1/')

mkdir -p "$out"
per() { echo $(( ($1) / ${njobs[$2]} )); }
cat >"$out/ops.json" <<EOF
{
  "date": "$(date -u +%Y-%m-%dT%H:%M:%SZ)",
  "machine": "$(awk -F': ' '/^model name/ {print $2; exit}' /proc/cpuinfo), $(nproc) cores",
  "load_average_after": "$(cut -d' ' -f1-3 /proc/loadavg)",
  "command": "$cmdline",
  "scale": $scale, "demands": $demands, "shards": $shards, "reps": $reps,
  "carried_blob_bytes": ${blob:-0},
  "classic": {"wall_s": $(printf '%.3f' "${wall[classic]}"), "jobs": ${njobs[classic]},
              "bytes_received": ${bytes_in[classic]}, "bytes_sent": ${bytes_out[classic]},
              "bytes_sent_per_job": $(per "${bytes_out[classic]}" classic), "bytes_received_per_job": $(per "${bytes_in[classic]}" classic)},
  "carried_local": {"wall_s": $(printf '%.3f' "${wall[carried]}"), "jobs": ${njobs[carried]},
              "bytes_received": ${bytes_in[carried]}, "bytes_sent": ${bytes_out[carried]},
              "bytes_sent_per_job": $(per "${bytes_out[carried]}" carried), "bytes_received_per_job": $(per "${bytes_in[carried]}" carried)},
  "remote_tcp_curve": {"wall_s": $(printf '%.3f' "${wall[remote]}"), "jobs": ${njobs[remote]},
              "bytes_received": ${bytes_in[remote]}, "bytes_sent": ${bytes_out[remote]},
              "bytes_sent_per_job": $(per "${bytes_out[remote]}" remote), "bytes_received_per_job": $(per "${bytes_in[remote]}" remote),
              "shards_by_remote_worker": $remote_shards},
  "throughput_remote_over_classic": $(printf '%.2f' "$(echo "${wall[classic]} / ${wall[remote]}" | bc -l)"),
  "throughput_carried_over_classic": $(printf '%.2f' "$(echo "${wall[classic]} / ${wall[carried]}" | bc -l)"),
  "exports_equal": true
}
EOF
/usr/bin/python3 "$here/flat_json.py" "$out/ops.json"

{
    echo "# Operations benchmark (issue 9)"
    echo
    echo "Command: \`$cmdline\`, $(date -u +%Y-%m-%dT%H:%M:%SZ), $(awk -F': ' '/^model name/ {print $2; exit}' /proc/cpuinfo), $(nproc) cores, load after: $(cut -d' ' -f1-3 /proc/loadavg)."
    echo
    echo "## Scoring batch at scale $scale ($demands demands, $shards shards, best of $reps)"
    echo
    echo "| set-up | jobs | wall (s) | throughput vs classic | bytes sent by the broker per job | bytes received per job |"
    echo "|---|---:|---:|---:|---:|---:|"
    for n in classic carried remote; do
        label=$n
        [ $n = classic ] && label="classic, 2 local workers (ipc)"
        [ $n = carried ] && label="carried, 2 local workers (ipc)"
        [ $n = remote ] && label="carried, 1 local + 1 remote worker (tcp, CurveZMQ)"
        echo "| $label | ${njobs[$n]} | $(printf '%.3f' "${wall[$n]}") | $(printf '%.2f' "$(echo "${wall[classic]} / ${wall[$n]}" | bc -l)") | $(per "${bytes_out[$n]}" $n) | $(per "${bytes_in[$n]}" $n) |"
    done
    echo
    echo "Bytes are the broker's worker-socket counters (/metrics) over the best run: all frames,"
    echo "the FETCHED answers that carry the prepared data (${blob:-?} bytes per fetch) and the"
    echo "shards' results included. The carried batch has 2 more jobs than the classic one (prepare,"
    echo "merge). Every set-up's export was equal to the classic one's. In the remote set-up the"
    echo "remote worker scored $remote_shards of the $((shards * reps)) shards of the $reps runs."
    echo
    echo "Where the last carried run over tcp spent its time (workers' logs, ms): prepare (read the"
    echo "store, pack) $(echo $prep | awk '{print $1 " + " $2}'); each worker's fetch and unpack of the data"
    echo "$(echo $unpack | awk '{print $1 " + " $2}') (mean); a shard's kernel and packing of its lists"
    echo "$(echo $shardms | awk '{print $1 " + " $2}') (mean); the merge's fetch of the shards' results"
    echo "$(echo $mfetch | awk '{print $2 " (" $1 " bytes)"}') and the merge itself ${mms:-?}. A classic shard reads its"
    echo "demands and stores its lists itself, and the last one merges: no prepare and no transfer."
} >"$out/ops.md"

if [ -x "$here/ops_curve.sh" ] && [ -z "$nocurve" ]; then
    echo "ops.sh: running ops_curve.sh" >&2
    "$here/ops_curve.sh" "$build" >&2 || echo "ops.sh: ops_curve.sh failed" >&2
    if [ -f "$here/results/ops_curve.md" ]; then
        { echo; cat "$here/results/ops_curve.md"; } >>"$out/ops.md"
    fi
    if [ -f "$here/results/ops_curve.json" ]; then
        /usr/bin/python3 - "$out/ops.json" "$here/results/ops_curve.json" <<'PY'
import json, sys
a = json.load(open(sys.argv[1]))
c = json.load(open(sys.argv[2]))
for k, v in c.items():
    a["curve_" + k] = v
json.dump(a, open(sys.argv[1], "w"), indent=1, ensure_ascii=False)
PY
        /usr/bin/python3 "$here/flat_json.py" "$out/ops.json"
    fi
fi
cat "$out/ops.md"
