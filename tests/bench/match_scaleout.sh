#!/bin/bash
# match_scaleout.sh: match.score through the broker — the default Jornada scored end to end
# (enqueue to the last shard stored, `minga rueda score` wall time), and the scale-20 event
# scored with 1 and with 2 match workers (speed-up), with the workers' peak RSS (VmHWM,
# RssAnon, RssFile from /proc/PID/status) and their CPU time, and the phases of the best
# run's shards from the workers' logs (read, score, pack and store summed; the merge's wall
# and CPU time: the serial part). Every run's export is checked equal to the first one's.
#
#   tests/bench/match_scaleout.sh [--out DIR] [--shards N] [--scale S] [--reps R]
#
# Writes DIR/match.scaleout.json (DIR: tests/bench/results); match_kernel.sh folds it into
# match.md.
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
root=$(cd "$here/../.." && pwd)
bin=${MINGA_BIN:-$root/build-match/bin}
out=$here/results
shards=8
scale=20
reps=3
while [ $# -gt 0 ]; do
    case "$1" in
    --out) out=$2; shift 2 ;;
    --shards) shards=$2; shift 2 ;;
    --scale) scale=$2; shift 2 ;;
    --reps) reps=$2; shift 2 ;;
    *) echo "match_scaleout.sh: unknown option $1" >&2; exit 2 ;;
    esac
done
export PATH="$bin:$PATH"
unset MINGA_STORE
S1=$(mktemp -d /tmp/minga-XXXXXX)
S20=$(mktemp -d /tmp/minga-XXXXXX)
data=$(mktemp -d /tmp/minga-data-XXXXXX)
cleanup() {
    minga --store "$S1" down >/dev/null 2>&1 || true
    minga --store "$S20" down >/dev/null 2>&1 || true
    rm -rf "$S1" "$S20" "$data"
}
trap cleanup EXIT
E=jornada-2026
now() { date +%s.%N; }
cpu_of() { awk '{print ($14 + $15) / 100}' "/proc/$1/stat"; }
mem_of() { awk '/^(VmHWM|RssAnon|RssFile):/ {sub(":", "", $1); printf "\"%s_kb\": %s, ", $1, $2}' "/proc/$1/status" | sed 's/, $//'; }

# the default Jornada, end to end
minga --store "$S1" demo >/dev/null 2>&1
minga --store "$S1" up --match-workers 2 --test-workers 0 >/dev/null
best1=999
for _ in $(seq "$reps"); do
    t0=$(now)
    minga --store "$S1" rueda score $E --shards 4 >/dev/null 2>&1
    t=$(echo "$(now) - $t0" | bc -l)
    best1=$(echo "if ($t < $best1) $t else $best1" | bc -l)
done
minga --store "$S1" export candidates --event $E | md5sum >"$data/j1.md5"

# the scale-S event
minga demo-data --out "$data/d" --scale "$scale" >/dev/null 2>&1
minga --store "$S20" init >/dev/null
for k in gads cooperantes offers demands events; do
    minga --store "$S20" import $k "$data/d/$k.csv" >/dev/null
done
for k in participants preferences; do
    minga --store "$S20" import $k "$data/d/$k.csv" --event $E >/dev/null
done
declare -A wall cpu mem phases
# phase_lines: the workers' log lines of scored shards, all of them so far
phase_lines() {
    cat "$S20"/log/minga-match-worker-*.log 2>/dev/null |
        grep -o 'read [0-9]* ms, score [0-9]* ms, pack [0-9]* ms, store [0-9]* ms, merge [0-9]* ms, cpu [0-9]* ms' || true
}
# the sums of a run's phases (lines as phase_lines prints them, on stdin)
phase_json() {
    sed 's/read \([0-9]*\) ms, score \([0-9]*\) ms, pack \([0-9]*\) ms, store \([0-9]*\) ms, merge \([0-9]*\) ms, cpu \([0-9]*\) ms/\1 \2 \3 \4 \5 \6/' |
        awk '{r += $1; s += $2; p += $3; t += $4; if ($4 > x) x = $4; if ($5 > m) m = $5; if ($6 > c) c = $6}
             END {printf "{\"read_ms_total\": %d, \"score_ms_total\": %d, \"pack_ms_total\": %d, \"store_ms_total\": %d, \"store_ms_max\": %d, \"merge_ms\": %d, \"merge_cpu_ms\": %d}", r, s, p, t, x, m, c}'
}
ref=""
for w in 1 2; do
    minga --store "$S20" down >/dev/null 2>&1 || true
    minga --store "$S20" up --match-workers $w --test-workers 0 >/dev/null
    pids=$(cat "$S20"/run/minga-match-worker-*.pid)
    best=999
    for _ in $(seq "$reps"); do
        c0=0
        for p in $pids; do c0=$(echo "$c0 + $(cpu_of $p)" | bc -l); done
        before=$(phase_lines | wc -l)
        t0=$(now)
        minga --store "$S20" rueda score $E --shards "$shards" >/dev/null 2>&1
        t=$(echo "$(now) - $t0" | bc -l)
        c1=0
        for p in $pids; do c1=$(echo "$c1 + $(cpu_of $p)" | bc -l); done
        if [ "$(echo "$t < $best" | bc -l)" = 1 ]; then
            best=$t
            cpu[$w]=$(echo "$c1 - $c0" | bc -l)
            phases[$w]=$(phase_lines | tail -n "+$((before + 1))" | phase_json)
        fi
        sum=$(minga --store "$S20" export candidates --event $E | md5sum)
        [ -z "$ref" ] && ref=$sum
        [ "$sum" = "$ref" ] || { echo "match_scaleout.sh: export differs with $w workers" >&2; exit 1; }
    done
    wall[$w]=$best
    m=""
    for p in $pids; do m="$m{$(mem_of $p)},"; done
    mem[$w]="[${m%,}]"
done
mkdir -p "$out"
load=$(cut -d' ' -f1-3 /proc/loadavg)
cat >"$out/match.scaleout.json" <<EOF
{
  "date": "$(date -u +%Y-%m-%dT%H:%M:%SZ)",
  "machine": "$(awk -F': ' '/^model name/ {print $2; exit}' /proc/cpuinfo), $(nproc) cores",
  "load_average_after": "$load",
  "command": "tests/bench/match_scaleout.sh --shards $shards --scale $scale --reps $reps",
  "jornada_end_to_end_s": $(printf '%.3f' "$best1"),
  "jornada_shards": 4, "jornada_workers": 2,
  "scale": $scale, "shards": $shards,
  "workers_1": {"wall_s": $(printf '%.3f' "${wall[1]}"), "worker_cpu_s": $(printf '%.2f' "${cpu[1]}"), "memory": ${mem[1]}},
  "workers_2": {"wall_s": $(printf '%.3f' "${wall[2]}"), "worker_cpu_s": $(printf '%.2f' "${cpu[2]}"), "memory": ${mem[2]}},
  "phases_1_worker": ${phases[1]},
  "phases_2_workers": ${phases[2]},
  "speedup_2_over_1": $(printf '%.2f' "$(echo "${wall[1]} / ${wall[2]}" | bc -l)"),
  "exports_equal": true
}
EOF
cat "$out/match.scaleout.json"
