#!/bin/bash
# report.sh: the reports of an event through the broker and one minga-report-worker — every
# format (4 CSV, the HTML report, one PDF agenda per participant, the venue grid) for the
# default Jornada and for a scale-S event (`minga demo-data --scale S`), each scored and
# scheduled first. For each: the wall time of `minga report EVENT` (best of R runs), the
# worker's own split (read, CSV, HTML, agendas, grid, from its log), the files and bytes
# written, and the worker's peak memory (VmHWM, with RssAnon and RssFile, from
# /proc/PID/status; a fresh worker per event). Target: all PDF agendas of the Jornada in
# under 10 s on one worker.
#
#   tests/bench/report.sh [--out DIR] [--scale S] [--reps R]
#
# Writes DIR/report.json and DIR/report.md (DIR: tests/bench/results).
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
root=$(cd "$here/../.." && pwd)
bin=${MINGA_BIN:-$root/build-report/bin}
out=$here/results
scale=10
reps=2
while [ $# -gt 0 ]; do
    case "$1" in
    --out) out=$2; shift 2 ;;
    --scale) scale=$2; shift 2 ;;
    --reps) reps=$2; shift 2 ;;
    *) echo "report.sh: unknown option $1" >&2; exit 2 ;;
    esac
done
export PATH="$bin:$PATH"
unset MINGA_STORE
S1=$(mktemp -d /tmp/minga-XXXXXX)
SS=$(mktemp -d /tmp/minga-XXXXXX)
data=$(mktemp -d /tmp/minga-data-XXXXXX)
cleanup() {
    minga --store "$S1" down >/dev/null 2>&1 || true
    minga --store "$SS" down >/dev/null 2>&1 || true
    rm -rf "$S1" "$SS" "$data"
}
trap cleanup EXIT
E=jornada-2026
now() { date +%s.%N; }
cpu_of() { awk '{print ($14 + $15) / 100}' "/proc/$1/stat"; }
mem_of() { awk '/^(VmHWM|RssAnon|RssFile):/ {sub(":", "", $1); printf "\"%s_kb\": %s, ", $1, $2}' "/proc/$1/status" | sed 's/, $//'; }

# prepare STORE: scored and scheduled with two match workers
prepare() {
    local s=$1
    minga --store "$s" up --match-workers 2 --report-workers 0 --notify-workers 0 --test-workers 0 >/dev/null
    minga --store "$s" rueda score $E >/dev/null 2>&1
    local t0; t0=$(now)
    minga --store "$s" rueda schedule $E >/dev/null 2>&1
    echo "$(now) - $t0" | bc -l >"$s/schedule_s"
    minga --store "$s" down >/dev/null 2>&1
}

# measure STORE NAME REPS [THREADS]: prints a JSON object
measure() {
    local s=$1 name=$2 n=$3 threads=${4:-} best=999 t
    local log=$s/log/minga-report-worker-1.log
    local l0; l0=$(cat "$log" 2>/dev/null | wc -l)
    MINGA_REPORT_THREADS=$threads minga --store "$s" up --match-workers 0 --report-workers 1 --notify-workers 0 --test-workers 0 >/dev/null
    local pid; pid=$(cat "$s/run/minga-report-worker-1.pid")
    local cpu=999
    for _ in $(seq "$n"); do
        c0=$(cpu_of "$pid")
        t0=$(now)
        minga --store "$s" report $E >"$s/paths" 2>/dev/null
        t=$(echo "$(now) - $t0" | bc -l)
        c=$(echo "$(cpu_of "$pid") - $c0" | bc -l)
        if [ "$(echo "$t < $best" | bc -l)" = 1 ]; then best=$t; fi
        if [ "$(echo "$c < $cpu" | bc -l)" = 1 ]; then cpu=$c; fi
    done
    local mem; mem=$(mem_of "$pid")
    local split
    split=$(grep -o 'read [0-9]* ms, csv [0-9]* ms, html [0-9]* ms, pdf [0-9]* ms: [0-9]* agendas [0-9]* ms, grid [0-9]* ms; [0-9]* threads' \
        <(tail -n +$((l0 + 1)) "$log") | sort -t' ' -k15 -n | head -1 |
        awk '{printf "\"read_ms\": %d, \"csv_ms\": %d, \"html_ms\": %d, \"pdf_ms\": %d, \"agendas\": %d, \"agendas_ms\": %d, \"grid_ms\": %d, \"threads\": %d", $2, $5, $8, $11, $13, $15, $18, $20}')
    local dir=$s/reports/$E
    local bytes; bytes=$(du -sb "$dir" | cut -f1)
    local grid_pages; grid_pages=$(pdfinfo "$dir/grilla.pdf" | awk '/^Pages:/ {print $2}')
    local meetings; meetings=$(($(minga --store "$s" export meetings --event $E | wc -l) - 1))
    minga --store "$s" down >/dev/null 2>&1
    printf '{"event": "%s", "meetings": %d, "report_wall_s": %.3f, "worker_cpu_s": %.2f, %s, "grid_pages": %d, "bytes": %d, "schedule_s": %.2f, "memory": {%s}}' \
        "$name" "$meetings" "$best" "$cpu" "$split" "$grid_pages" "$bytes" "$(cat "$s/schedule_s")" "$mem"
}

minga --store "$S1" demo >/dev/null 2>&1
prepare "$S1"
j1=$(measure "$S1" "Jornada (escala 1)" "$reps")
j1t=$(measure "$S1" "Jornada, 1 hilo" "$reps" 1)

minga demo-data --out "$data/d" --scale "$scale" >/dev/null 2>&1
minga --store "$SS" init >/dev/null
for k in gads cooperantes offers demands events; do
    minga --store "$SS" import $k "$data/d/$k.csv" >/dev/null
done
for k in participants preferences; do
    minga --store "$SS" import $k "$data/d/$k.csv" --event $E >/dev/null
done
prepare "$SS"
js=$(measure "$SS" "escala $scale" 1)

mkdir -p "$out"
load=$(cut -d' ' -f1-3 /proc/loadavg)
machine="$(awk -F': ' '/^model name/ {print $2; exit}' /proc/cpuinfo), $(nproc) cores"
cat >"$out/report.json" <<EOF
{
  "date": "$(date -u +%Y-%m-%dT%H:%M:%SZ)",
  "machine": "$machine",
  "load_average_after": "$load",
  "command": "tests/bench/report.sh --scale $scale --reps $reps",
  "jornada": $j1,
  "jornada_one_thread": $j1t,
  "scaled": $js
}
EOF
/usr/bin/python3 - "$out/report.json" "$out/report.md" <<'PY'
import json, sys
r = json.load(open(sys.argv[1]))
rows = []
for k in ("jornada", "jornada_one_thread", "scaled"):
    e = r[k]
    m = e["memory"]
    rows.append("| %s | %d | %d | %d | %.2f | %.2f | %d | %d | %d | %d (%.1f ms each) | %d (%d p.) | %.1f | %.0f |" % (
        e["event"], e["meetings"], e["agendas"], e["threads"], e["report_wall_s"], e["worker_cpu_s"], e["read_ms"], e["csv_ms"],
        e["html_ms"], e["agendas_ms"], e["agendas_ms"] / max(e["agendas"], 1), e["grid_ms"],
        e["grid_pages"], e["bytes"] / 1e6, m.get("VmHWM_kb", 0) / 1024.0))
j = r["jornada_one_thread"]
ok = "met" if j["agendas_ms"] < 10000 else "NOT met"
open(sys.argv[2], "w").write("""# Report benchmark

Every report of an event (`minga report EVENT`: reuniones.csv, candidatos.csv, agendas.csv,
brecha.csv, informe.html, one PDF agenda per participant, grilla.pdf) written by **one**
minga-report-worker through the local broker, after `minga rueda score` and `minga rueda
schedule`. Wall time is the best of the runs (one run for the scaled event) of `minga report` (enqueue to the printed paths);
the split is the worker's own log line; peak memory is the worker's VmHWM (a fresh worker per
event; the LMDB map counts in RssFile).

- date: %(date)s
- machine: %(machine)s — shared with other engineers' builds and tests while it ran
  (load average after the run: %(load_average_after)s), so times are upper bounds
- command: `%(command)s`

| event | meetings | agendas | threads | report wall (s) | worker CPU (s) | read (ms) | CSV (ms) | HTML (ms) | PDF agendas (ms) | grid (ms, pages) | files (MB) | worker VmHWM (MiB) |
|---|---|---|---|---|---|---|---|---|---|---|---|---|
""" % r + "\n".join(rows) + """

Target: all PDF agendas of the Jornada in under 10 s on one worker — **%s** by the wall
clock (%.1f s with the worker's agenda threads limited to one, `MINGA_REPORT_THREADS=1`; the
default uses up to 4, one per processor). The worker's CPU time for the whole report on one
thread, %.1f s, is what the agendas cost on a core of their own, whatever the load.

Raw figures: [report.json](report.json).
""" % (ok, j["agendas_ms"] / 1000.0, j["worker_cpu_s"]))
PY
/usr/bin/python3 "$(dirname "$0")/flat_json.py" "$out/report.json" # flat, for tools
cat "$out/report.md"
