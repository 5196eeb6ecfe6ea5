#!/bin/bash
# match_kernel.sh: the matching kernel benchmark — pairs scored per second per core at scale 1
# and scale 20 of the demo data set, for the kernel's AVX2 and baseline paths, the scalar
# reference (minga_match_pair on every pair) and NumPy (one demand against all offers per
# step), on the same data in the same run, results checked equal. Each scale is run twice:
# with the event's own gates (offers that fail validity or attendance never enter the loop)
# and with every offer marked active (the loop scores every pair).
#
#   tests/bench/match_kernel.sh [--out DIR] [--ref-demands-20 N] [--numpy-demands-20 N]
#
# Needs build-match/bin/match_kernel_bench (or $MINGA_BIN/match_kernel_bench) and
# /usr/bin/python3 with numpy (deploy/setup.sh --bench). Writes DIR/match.json and
# DIR/match.md (DIR: tests/bench/results). Everything runs on one core (taskset -c 0).
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
root=$(cd "$here/../.." && pwd)
bin=${MINGA_BIN:-$root/build-match/bin}
out=$here/results
ref20=2000
np20=2000
while [ $# -gt 0 ]; do
    case "$1" in
    --out) out=$2; shift 2 ;;
    --ref-demands-20) ref20=$2; shift 2 ;;
    --numpy-demands-20) np20=$2; shift 2 ;;
    *) echo "match_kernel.sh: unknown option $1" >&2; exit 2 ;;
    esac
done
[ -x "$bin/match_kernel_bench" ] || { echo "match_kernel.sh: $bin/match_kernel_bench not built" >&2; exit 1; }
/usr/bin/python3 -c 'import numpy' || { echo "match_kernel.sh: python3-numpy missing (deploy/setup.sh --bench)" >&2; exit 1; }
work=$(mktemp -d /tmp/minga-bench-XXXXXX)
trap 'rm -rf "$work"' EXIT
pin="taskset -c 0"
command -v taskset >/dev/null || pin=""

runs=()
for scale in 1 20; do
    for all in 0 1; do
        if [ $scale = 1 ]; then ref=-1; npd=100000000; reps=5; else ref=$ref20; npd=$np20; reps=1; fi
        tag="s${scale}_all${all}"
        echo "match_kernel.sh: scale $scale, all offers active: $all" >&2
        $pin "$bin/match_kernel_bench" --scale $scale --all-offers $all --dump "$work/$tag.bin" \
            --reps 1 --ref-demands 1 >/dev/null
        $pin /usr/bin/python3 "$here/match_numpy.py" "$work/$tag.bin" "$work/$tag.np" \
            --demands $npd >"$work/$tag.numpy.json"
        $pin "$bin/match_kernel_bench" --scale $scale --all-offers $all --reps $reps \
            --ref-demands $ref --compare "$work/$tag.np" >"$work/$tag.kernel.json"
        runs+=("$tag")
    done
done

mkdir -p "$out"
/usr/bin/python3 - "$work" "$out" "${runs[@]}" <<'EOF'
import json, os, platform, subprocess, sys, datetime
NOTES = """
## Notes

- The kernel's floor (100 M pairs/s/core, 5× NumPy) holds in every row; DESIGN §6's aim of
  1 G pairs/s/core is reached or approached (0.84–1.47 G over the runs) only at scale 20
  with the event's gates, which leave part of the offers out; with every offer active it is
  0.35–0.65 G. What
  remains per pair after the vectorised score pass is the scan of the marked candidates and
  the heap pushes for offers whose top-K list is not full yet (rare offers keep their threshold
  at -1, so each of their eligible pairs is pushed).
- Figures move by ±20 % between runs on this shared 2-core machine (other sessions build and
  test on it); thread CPU time removes the waiting, not the cache sharing.
- Through the broker, the run's last shard merges every shard's lists in one write transaction
  (atomic replacement); that merge is serial. It writes only the candidates that changed: at
  scale 20 in 8 shards it takes ~2.5 s when all ~300,000 candidates are new and ~0.7–1.8 s
  when re-scoring unchanged data (reading the shards' lists and comparing). The figures above
  are the best of the repetitions, i.e. re-scores. A worker keeps the prepared offers between
  shards while their stored bytes are unchanged, so after its first shard (~0.3 s) a shard
  reads in ~0.06 s. The serial merge is then the largest part of a run, which bounds the
  2-worker speed-up; measured between 1.0× and 1.6× over the runs of this session, all with
  both cores shared with other sessions (load average 3–6), so the issue's 1.8× is not shown
  here. Next step: merge per range of offers in parallel jobs.
"""
work, out, tags = sys.argv[1], sys.argv[2], sys.argv[3:]
cpu = "?"
for line in open("/proc/cpuinfo"):
    if line.startswith("model name"):
        cpu = line.split(":", 1)[1].strip()
        break
res = {"date": datetime.datetime.now(datetime.timezone.utc).isoformat(timespec="seconds"),
       "machine": {"cpu": cpu, "cores": os.cpu_count(), "kernel": platform.release(),
                   "compiler": subprocess.run(["cc", "--version"], capture_output=True,
                                              text=True).stdout.splitlines()[0]},
       "command": "tests/bench/match_kernel.sh", "pinned": "taskset -c 0 (one core)",
       "runs": {}}
ok = True
for t in tags:
    k = json.load(open(f"{work}/{t}.kernel.json"))
    n = json.load(open(f"{work}/{t}.numpy.json"))
    v = k["kernel_vector"]["pairs_per_s"]
    res["runs"][t] = {"kernel": k, "numpy": n,
                      "ratios": {"vector_over_numpy": round(v / n["pairs_per_s"], 1),
                                 "vector_over_reference": round(v / k["reference"]["pairs_per_s"], 1),
                                 "vector_over_scalar": round(v / k["kernel_scalar"]["pairs_per_s"], 2)}}
    ok = ok and k["equal"] and k["numpy_equal"] is True
res["all_results_equal"] = ok
rows = []
for t in tags:
    r = res["runs"][t]; k = r["kernel"]; n = r["numpy"]
    rows.append(f"| {k['scale']:g} | {'all' if k['all_offers_active'] else 'event gates'} | "
                f"{k['offers']} ({k['active_offers']} active) × {k['demands']} | "
                f"{k['kernel_vector']['pairs_per_s']/1e6:.0f} M | "
                f"{k['kernel_scalar']['pairs_per_s']/1e6:.0f} M | "
                f"{k['reference']['pairs_per_s']/1e6:.1f} M ({k['reference']['demands']} dem.) | "
                f"{n['pairs_per_s']/1e6:.1f} M ({n['demands']} dem.) | "
                f"{r['ratios']['vector_over_numpy']}× | {r['ratios']['vector_over_reference']}× | "
                f"{'yes' if k['equal'] and k['numpy_equal'] else 'NO'} |")
md = f"""# Matching kernel benchmark

- date: {res['date']}
- machine: {cpu}, {os.cpu_count()} cores, Linux {platform.release()}; {res['machine']['compiler']}
- command: `tests/bench/match_kernel.sh` (build: `cmake -DCMAKE_BUILD_TYPE=RelWithDebInfo`,
  every process pinned to one core with `taskset -c 0`)
- times are each process's thread CPU time (`CLOCK_THREAD_CPUTIME_ID`, Python's
  `time.thread_time()`), so the figures are per core even while other work shares the machine
- data: `minga demo-data --scale S` generated in memory (seed 2026), event jornada-2026,
  default weights, K = 10 per demand and per offer
- pairs = demands × all offers; "event gates": offers not valid on both days, or whose
  cooperante is not registered while the event requires attendance, are dropped when the
  kernel is built (per-offer gates) — "all": every offer marked active, the loop scores all
- vector = the kernel's AVX2 path (runtime dispatch), scalar = the same SoA loop for the
  baseline x86-64 target, reference = `minga_match_pair()` on every pair with the same heaps,
  NumPy = one demand against all offers per step (`tests/bench/match_numpy.py`)
- equal: the vector, scalar and reference per-demand and per-offer lists are identical (the
  reference on the demands it scored), and NumPy's per-demand lists equal the kernel's

Kernel: pairs scored per second on one core.

| scale | offers | offers × demands | vector | scalar | reference | NumPy | vector / NumPy | vector / reference | equal |
|---|---|---|---|---|---|---|---|---|---|
""" + "\n".join(rows) + "\n"
so = f"{out}/match.scaleout.json"
if os.path.exists(so):
    x = json.load(open(so))
    def rss(run):
        return ", ".join(f"{m['VmHWM_kb'] // 1024} MB (anon {m['RssAnon_kb'] // 1024} MB, file "
                         f"{m['RssFile_kb'] // 1024} MB)" for m in run["memory"])
    md += f"""
## Through the broker (`tests/bench/match_scaleout.sh`, {x['date']})

- command: `{x['command']}`; load average after the run: {x['load_average_after']}
- the default Jornada (scale 1), `minga rueda score jornada-2026 --shards {x['jornada_shards']}`
  with {x['jornada_workers']} workers, enqueue to last shard stored: **{x['jornada_end_to_end_s']} s**
- scale {x['scale']} in {x['shards']} shards: 1 worker {x['workers_1']['wall_s']} s
  (worker CPU {x['workers_1']['worker_cpu_s']} s), 2 workers {x['workers_2']['wall_s']} s
  (CPU {x['workers_2']['worker_cpu_s']} s): speed-up **{x['speedup_2_over_1']}×**; exports equal
- workers' peak RSS (VmHWM) at scale {x['scale']}: 1 worker: {rss(x['workers_1'])};
  2 workers: {rss(x['workers_2'])}
- phases of the 1-worker run, summed over its shards (worker log): reading and preparing
  {x['phases_1_worker']['read_ms_total']} ms, scoring and packing the results
  {x['phases_1_worker']['score_ms_total']} ms, storing {x['phases_1_worker']['store_ms_total']} ms
  of which the merge by the last shard {x['phases_1_worker']['store_ms_max']} ms (serial: it
  bounds the speed-up)
"""
md += NOTES
extra = os.path.join(os.path.dirname(os.path.abspath(out)), "match_notes.md")  # by hand
if os.path.exists(extra):
    md += "\n" + "".join(l for l in open(extra) if not l.startswith("<!--")).lstrip("\n")
open(f"{out}/match.md", "w").write(md)
# match.json: the same figures, flat (name -> value) for tools; the scale-out's under scaleout_
sys.path.insert(0, os.path.dirname(os.path.abspath(out)))  # tests/bench
from flat_json import flat
if os.path.exists(so):
    res["scaleout"] = json.load(open(so))
json.dump(flat(res), open(f"{out}/match.json", "w"), indent=1)
print(md)
sys.exit(0 if ok else 1)
EOF
