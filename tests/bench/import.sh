#!/usr/bin/env bash
# import.sh: registry import benchmark (issue 3).
#
# 100,000 demand rows from `minga demo-data --scale 91`, imported in the same run, on the same
# CSV file, by:
#   - minga import demands    (validated: types, codes, references, duplicates; durable: one
#                              LMDB transaction, fsync'd at commit; change detection)
#   - sqlite3 :memory: .import (no validation, not durable)
#   - sqlite3 FILE .import     (no validation, durable: default journal and synchronous=FULL)
# Each is run RUNS times (default 11), interleaved, on a fresh store / database; the best and
# the median are reported, and the target is judged on the medians. Figures go to tests/bench/results/import.md and import.json.
#
#   tests/bench/import.sh [BUILD_DIR]      (default build/; run deploy/setup.sh --bench first)
set -euo pipefail
cd "$(dirname "$0")/../.."
build=${1:-build}
minga=$build/bin/minga
runs=${RUNS:-11}
rows=100000
for tool in "$minga" sqlite3 /usr/bin/time; do
    command -v "$tool" >/dev/null || { echo "import.sh: $tool missing (deploy/setup.sh --bench)" >&2; exit 1; }
done
load=$(cut -d' ' -f1-3 /proc/loadavg)
work=$(mktemp -d /tmp/minga-bench-XXXXXX)
trap 'rm -rf "$work"' EXIT

"$minga" demo-data --out "$work/data" --scale 91 2>/dev/null
head -n $((rows + 1)) "$work/data/demands.csv" >"$work/demands.csv"
have=$(($(wc -l <"$work/demands.csv") - 1))
[ "$have" = $rows ] || { echo "import.sh: demo-data gave $have demand rows, not $rows" >&2; exit 1; }
size=$(stat -c %s "$work/demands.csv")

# timed CMD...: runs it, prints "WALL CPU" (seconds; CPU = user + system)
timed() {
    local t0=$EPOCHREALTIME t1
    /usr/bin/time -f '%U %S' -o "$work/time" "$@" >/dev/null </dev/null
    t1=$EPOCHREALTIME
    awk -v w="$(echo "$t1 - $t0" | bc -l)" '{printf "%.4f %.2f\n", w, $1 + $2}' "$work/time"
}
# run_minga: one import of the demands into a fresh store (GADs loaded before)
run_minga() {
    local s=$work/store-$1
    "$minga" --store "$s" init >/dev/null
    "$minga" --store "$s" import gads "$work/data/gads.csv" >/dev/null
    timed "$minga" --store "$s" import demands "$work/demands.csv"
    rm -rf "$s"
}
run_sqlite() {
    local db=$1
    rm -f "$db"
    timed sqlite3 "$db" -cmd '.mode csv' -cmd '.separator ;' ".import $work/demands.csv demands"
    rm -f "$db"
}
stats() { # best and median of the arguments
    printf '%s\n' "$@" | sort -g | awk '{a[NR]=$1} END {printf "%.4f %.4f\n", a[1], a[int((NR+1)/2)]}'
}

declare -a tm ts tf cm cs cf
for i in $(seq "$runs"); do
    read -r w c <<<"$(run_minga "$i")"
    tm+=("$w") cm+=("$c")
    read -r w c <<<"$(run_sqlite ':memory:')"
    ts+=("$w") cs+=("$c")
    read -r w c <<<"$(run_sqlite "$work/bench.db")"
    tf+=("$w") cf+=("$c")
done
read -r m_best m_med <<<"$(stats "${tm[@]}")"
read -r s_best s_med <<<"$(stats "${ts[@]}")"
read -r f_best f_med <<<"$(stats "${tf[@]}")"
read -r m_cpu _ <<<"$(stats "${cm[@]}")"
read -r s_cpu _ <<<"$(stats "${cs[@]}")"
read -r f_cpu _ <<<"$(stats "${cf[@]}")"

# peak memory of one minga import
s=$work/store-rss
"$minga" --store "$s" init >/dev/null
"$minga" --store "$s" import gads "$work/data/gads.csv" >/dev/null
rss_kib=$(/usr/bin/time -f '%M' "$minga" --store "$s" import demands "$work/demands.csv" 2>&1 >/dev/null | tail -n 1)
# the rows really landed
count=$("$minga" --store "$s" export demands | tail -n +2 | wc -l)
[ "$count" = $rows ] || { echo "import.sh: the store holds $count demands, not $rows" >&2; exit 1; }

rate() { echo "$rows / $1" | bc -l | awk '{printf "%.0f", $1}'; }
ratio() { echo "$1 / $2" | bc -l | awk '{printf "%.2f", $1}'; }
m_rate=$(rate "$m_med") s_rate=$(rate "$s_med") f_rate=$(rate "$f_med")
vs_file=$(ratio "$f_best" "$m_best") vs_mem=$(ratio "$s_best" "$m_best")
vs_file_med=$(ratio "$f_med" "$m_med") vs_mem_med=$(ratio "$s_med" "$m_med")
cpu=$(grep -m1 'model name' /proc/cpuinfo | sed 's/.*: //')
date=$(date -u +%Y-%m-%dT%H:%M:%SZ)
cmd="tests/bench/import.sh $build"
verdict=$([ "$(echo "$m_med <= $f_med" | bc -l)" = 1 ] && echo met || echo "NOT met")

mkdir -p tests/bench/results
cat >tests/bench/results/import.md <<MD
# Import benchmark

- date: $date
- machine: $cpu, $(nproc) cores, $(free -g | awk '/Mem:/{print $2}') GiB, $(. /etc/os-release; echo "$PRETTY_NAME")
- command: \`$cmd\` (RUNS=$runs)
- input: $rows demand rows from \`minga demo-data --scale 91\`, $size bytes of CSV

| importer | validated | durable | best s | median s | rows/s (median) | Minga's speed ÷ this (median) | (best) | CPU s (best) |
|---|---|---|---|---|---|---|---|---|
| minga import demands | yes | yes (LMDB, fsync) | $m_best | $m_med | $m_rate | 1.00 | 1.00 | $m_cpu |
| sqlite3 FILE .import | no | yes (journal, synchronous=FULL) | $f_best | $f_med | $f_rate | $vs_file_med | $vs_file | $f_cpu |
| sqlite3 :memory: .import | no | no | $s_best | $s_med | $s_rate | $vs_mem_med | $vs_mem | $s_cpu |

Wall-clock seconds of the whole command (process start to exit, file read included); CPU is
user + system time, which a busy machine disturbs less. Load average when the run began:
$load.

Peak RSS of one \`minga import\` (VmHWM): $rss_kib KiB.

Target: Minga's validated, durable import at least as fast as sqlite3's unvalidated file
import, judged on the median of the runs (ratio ≥ 1.00): **$verdict** (median $vs_file_med,
best $vs_file).
MD
cat >tests/bench/results/import.json <<JSON
{"date": "$date", "command": "$cmd", "rows": $rows, "csv_bytes": $size, "runs": $runs,
 "minga_best_s": $m_best, "minga_median_s": $m_med, "minga_rows_per_s": $m_rate,
 "sqlite_file_best_s": $f_best, "sqlite_file_median_s": $f_med, "sqlite_file_rows_per_s": $f_rate,
 "sqlite_memory_best_s": $s_best, "sqlite_memory_median_s": $s_med, "sqlite_memory_rows_per_s": $s_rate,
 "minga_cpu_s": $m_cpu, "sqlite_file_cpu_s": $f_cpu, "sqlite_memory_cpu_s": $s_cpu,
 "load_average": "$load", "minga_vs_sqlite_file_median": $vs_file_med, "minga_vs_sqlite_memory_median": $vs_mem_med,
 "minga_vs_sqlite_file": $vs_file, "minga_vs_sqlite_memory": $vs_mem, "minga_peak_rss_kib": $rss_kib}
JSON
cat tests/bench/results/import.md
