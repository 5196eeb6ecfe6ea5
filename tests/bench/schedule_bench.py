#!/usr/bin/python3
"""Scheduling benchmark (issue 6): Minga's schedule against the exact optimum and a greedy.

For each scale (default 1 = the default Jornada, and 10): `minga demo-data --scale S`,
imported into a fresh store, scored through the broker (`minga rueda score`), then the match
worker is restarted (so that its VmHWM is the scheduling's own peak) and the event is
scheduled (`minga rueda schedule EVENT --detach`, `minga wait`). From the exports alone:

  * the independent checker (tests/integration/schedule_checker.py) on Minga's schedule;
  * the exact optimum of DESIGN.md section 7's objective with SciPy's HiGHS
    (tests/bench/schedule_model.py: model and proof of exactness there), out of process:
    the most GADs at their minimum, then the most total score; and the optimum of total score
    alone, the denominator of the quality ratios (DESIGN.md section 7);
  * the greedy baseline ("for each slot, take the best free pair"), checked by the checker too;
  * for each: total score, ratio to the optimum, GADs at/above minimum, Gini of meetings per
    GAD; for Minga: the job's time and the match worker's peak memory.

Writes tests/bench/results/schedule.md and schedule.json (flat keys).

    tests/bench/schedule.sh [BUILD_DIR]    (default build/)
"""
import argparse
import datetime
import json
import os
import platform
import shutil
import subprocess
import sys
import tempfile
import time

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.abspath(os.path.join(HERE, "..", ".."))
sys.path.insert(0, HERE)
sys.path.insert(0, os.path.join(ROOT, "tests", "integration"))
import schedule_checker as sc  # noqa: E402
import schedule_model as sm  # noqa: E402

EVENT = "jornada-2026"
CHECKER = os.path.join(ROOT, "tests", "integration", "schedule_checker.py")


def log(msg):
    print("[%s] %s" % (time.strftime("%H:%M:%S"), msg), file=sys.stderr, flush=True)


class Store:
    def __init__(self, minga, path):
        self.minga, self.path = minga, path

    def run(self, *args, timeout=600):
        r = subprocess.run([self.minga, "--store", self.path, "--timeout", "60"] + list(args),
                           capture_output=True, text=True, timeout=timeout)
        if r.returncode != 0:
            raise RuntimeError("minga %s: exit %d\n%s" % (" ".join(args), r.returncode,
                                                          r.stderr[-3000:]))
        return r

    def up(self):
        self.run("up", "--match-workers", "1", "--notify-workers", "0", "--report-workers", "0",
                 "--test-workers", "0")

    def down(self):
        subprocess.run([self.minga, "--store", self.path, "down"], capture_output=True)

    def status(self, name):
        with open(os.path.join(self.path, "run", name + ".pid")) as f:
            pid = int(f.read().split()[0])
        out = {}
        with open("/proc/%d/status" % pid) as f:
            for line in f:
                k, _, v = line.partition(":")
                if k in ("VmHWM", "RssAnon", "RssFile"):
                    out[k] = int(v.split()[0]) // 1024   # MiB
        return out


def schedule_with_minga(st):
    """Runs the schedule job; returns (job JSON, wall seconds, summary text)."""
    t0 = time.time()
    ids = st.run("rueda", "schedule", EVENT, "--detach").stdout.split()
    if not ids:
        raise RuntimeError("rueda schedule --detach printed no job id")
    st.run("wait", ids[-1])
    wall = time.time() - t0
    job = json.loads(st.run("job", ids[-1], "--json").stdout.splitlines()[0])
    return job, wall


def job_seconds(job, wall):
    """The scheduling time: the job's own measure if its result has one, else its life."""
    res = job.get("result") or {}
    parts = [res.get(k) for k in ("read_ms", "solve_ms", "store_ms")]
    if all(isinstance(v, (int, float)) for v in parts):
        return sum(parts) / 1e3, "result read_ms + solve_ms + store_ms"
    for k, div in (("elapsed_ms", 1e3), ("ms", 1e3), ("seconds", 1.0), ("elapsed_us", 1e6)):
        if isinstance(res.get(k), (int, float)):
            return res[k] / div, "result.%s" % k
    if job.get("finished_at") and job.get("created_at"):
        return (job["finished_at"] - job["created_at"]) / 1e3, "finished_at - created_at"
    return wall, "wall clock of rueda schedule + wait"


def check(paths, meetings):
    r = subprocess.run(["/usr/bin/python3", CHECKER, "--events", paths["events"], "--event",
                        EVENT, "--participants", paths["participants"], "--candidates",
                        paths["candidates"], "--meetings", meetings, "--preferences",
                        paths["preferences"], "--json"], capture_output=True, text=True)
    fig = json.loads(r.stdout) if r.stdout.strip() else {}
    return r.returncode, fig, r.stderr


def bench_scale(minga, scale, time_limit, work, ilp, reps):
    out = {"scale": scale}
    d = os.path.join(work, "s%s" % scale)
    data = os.path.join(d, "data")
    st = Store(minga, os.path.join(d, "store"))
    os.makedirs(d)
    subprocess.run([minga, "demo-data", "--out", data, "--scale", str(scale)], check=True,
                   capture_output=True)
    st.run("init")
    for k in ("gads", "cooperantes", "offers", "demands", "events"):
        st.run("import", k, os.path.join(data, k + ".csv"))
    for k in ("participants", "preferences"):
        st.run("import", k, os.path.join(data, k + ".csv"), "--event", EVENT)
    try:
        st.up()
        st.run("rueda", "score", EVENT)
        st.down()
        st.up()
        log("scale %s: scheduling with minga (%d runs)" % (scale, reps))
        runs = [schedule_with_minga(st) for _ in range(reps)]
        mem = st.status("minga-match-worker-1")
    finally:
        st.down()
    times = sorted((job_seconds(j, w)[0], i) for i, (j, w) in enumerate(runs))
    secs, med = times[len(times) // 2]
    job, wall = runs[med]
    how = job_seconds(job, wall)[1]
    out.update({"minga_seconds": round(secs, 3), "minga_seconds_source": how,
                "minga_runs": reps, "minga_seconds_min": round(times[0][0], 3),
                "minga_seconds_max": round(times[-1][0], 3),
                "minga_wall_seconds": round(wall, 3), "minga_job_state": job.get("state"),
                "worker_vmhwm_mib": mem.get("VmHWM"), "worker_rssanon_mib": mem.get("RssAnon"),
                "worker_rssfile_mib": mem.get("RssFile"),
                "minga_read_ms": (job.get("result") or {}).get("read_ms"),
                "minga_solve_ms": (job.get("result") or {}).get("solve_ms"),
                "minga_store_ms": (job.get("result") or {}).get("store_ms"),
                "minga_job_life_s": round((job["finished_at"] - job["created_at"]) / 1e3, 3)
                if job.get("finished_at") and job.get("created_at") else None})
    paths = {k: os.path.join(d, k + ".csv") for k in
             ("events", "participants", "candidates", "preferences", "meetings")}
    st.run("export", "events", "--out", paths["events"])
    for k in ("participants", "candidates", "preferences", "meetings"):
        st.run("export", k, "--event", EVENT, "--out", paths[k])
    rc, fig, err = check(paths, paths["meetings"])
    out.update({"minga_checker_ok": rc == 0, "minga_violations": fig.get("violations"),
                "minga_meetings": fig.get("meetings"), "minga_score": fig.get("total_score"),
                "minga_gads_at_min": fig.get("gads_at_minimum"),
                "gads_with_min": fig.get("gads_with_minimum"), "gads": fig.get("gads"),
                "minga_gini": fig.get("gini_meetings_per_gad"),
                "minga_slots_used": fig.get("slots_used"), "slots": fig.get("slots"),
                "tables": fig.get("tables")})
    if rc != 0:
        log("scale %s: the checker found violations in Minga's schedule:\n%s" % (scale, err[-2000:]))
    inst = sm.Instance(paths["events"], paths["participants"], paths["candidates"],
                       paths["preferences"], EVENT)
    out.update({"pairs": len(inst.pairs), "blocks": len(inst.blocks),
                "participants": len(inst.parties)})
    for name, fn in (("greedy", sm.greedy), ("greedy2", sm.greedy_pairs)):
        log("scale %s: %s" % (scale, name))
        t0 = time.time()
        g = fn(inst)
        gsec = time.time() - t0
        gpath = os.path.join(d, name + "-meetings.csv")
        sm.write_meetings(gpath, inst, g)
        grc, gfig, gerr = check(paths, gpath)
        out.update({name + "_checker_ok": grc == 0, name + "_meetings": gfig.get("meetings"),
                    name + "_score": gfig.get("total_score"),
                    name + "_gads_at_min": gfig.get("gads_at_minimum"),
                    name + "_gini": gfig.get("gini_meetings_per_gad"),
                    name + "_seconds_python": round(gsec, 3)})
    if ilp:
        log("scale %s: ILP (HiGHS, %d s limit per objective)" % (scale, time_limit))
        sol = sm.exact(inst, time_limit=time_limit, integral=True,
                       known_z=out.get("minga_gads_at_min") if out["minga_checker_ok"] else None)
        out.update({"ilp_vars": sol.nvars, "ilp_rows": sol.nrows,
                    "ilp_seconds": round(sol.seconds, 2),
                    "opt_gads_at_min": sol.gads_at_min, "opt_gads_at_min_proven": sol.proven1,
                    "opt_lex_score": round(sol.score / 100, 2) if sol.score is not None else None,
                    "opt_lex_bound": round(sol.bound / 100, 2) if sol.bound is not None else None,
                    "opt_lex_proven": sol.proven,
                    "opt_score_only": round(sol.score_only / 100, 2)
                    if sol.score_only is not None else None,
                    "opt_score_only_proven": sol.score_only_proven,
                    "opt_score_only_bound": round(sol.score_only_bound / 100, 2)
                    if sol.score_only_bound is not None else None})
        if sol.proven:
            real = sm.realize(inst, sol)
            opath = os.path.join(d, "optimum-meetings.csv")
            sm.write_meetings(opath, inst, real)
            orc, ofig, _ = check(paths, opath)
            out.update({"opt_realized_checker_ok": orc == 0,
                        "opt_realized_score": ofig.get("total_score"),
                        "opt_gini": ofig.get("gini_meetings_per_gad")})
        denom = out["opt_score_only_bound"]
    else:
        log("scale %s: LP relaxation only (HiGHS)" % scale)
        sol = sm.exact(inst, time_limit=time_limit, integral=False, lex=False)
        out.update({"ilp_vars": sol.nvars, "ilp_rows": sol.nrows,
                    "lp_seconds": round(sol.seconds, 2),
                    "lp_bound_score_only": round(sol.score_only_bound / 100, 2)})
        denom = out["lp_bound_score_only"]
    out["denominator"] = denom
    if denom:
        out["minga_ratio"] = round(out["minga_score"] / denom, 5) if out["minga_score"] else 0
        out["greedy_ratio"] = round(out["greedy_score"] / denom, 5)
        out["greedy2_ratio"] = round(out["greedy2_score"] / denom, 5)
    return out


def machine():
    cpu = "?"
    try:
        with open("/proc/cpuinfo") as f:
            for line in f:
                if line.startswith("model name"):
                    cpu = line.split(":", 1)[1].strip()
                    break
    except OSError:
        pass
    return "%s, %d cores, Linux %s" % (cpu, os.cpu_count() or 0, platform.release())


def pct(x):
    return "—" if x is None else "%.2f %%" % (100 * x)


def build_type(build):
    """CMAKE_BUILD_TYPE of the build directory, from its CMakeCache.txt."""
    try:
        for line in open(os.path.join(build, "CMakeCache.txt"), encoding="utf-8"):
            if line.startswith("CMAKE_BUILD_TYPE:"):
                return line.split("=", 1)[1].strip() or "(none)"
    except OSError:
        pass
    return "(unknown)"


def write_results(res, args, started, load_before, load_after):
    commit = subprocess.run(["git", "-C", ROOT, "rev-parse", "--short", "HEAD"],
                            capture_output=True, text=True).stdout.strip() or "?"
    flat = {"date": started, "machine": machine(), "command": args.command, "commit": commit,
            "load_before": load_before, "load_after": load_after,
            "time_limit_s": args.time_limit}
    for r in res:
        key = "jornada" if r["scale"] == 1 else "scale%s" % r["scale"]
        for k, v in r.items():
            flat["%s_%s" % (key, k)] = v
    j = next((r for r in res if r["scale"] == 1), None)
    t10 = next((r for r in res if r["scale"] == 10), None)
    targets = {}
    if j is not None:
        targets["target_jornada_ratio_995"] = bool(j.get("minga_ratio", 0) >= 0.995)
        targets["target_jornada_ratio_999"] = bool(j.get("minga_ratio", 0) >= 0.999)
        targets["target_jornada_under_1s"] = bool(j["minga_seconds"] < 1.0)
        if "opt_gads_at_min" in j:
            targets["target_jornada_minimums"] = bool(
                (j.get("minga_gads_at_min") or 0) >= j["opt_gads_at_min"])
        targets["target_jornada_gini_below_greedy"] = bool(
            (j.get("minga_gini") or 9) < (j.get("greedy_gini") or 0))
    if t10 is not None:
        targets["target_scale10_under_30s"] = bool(t10["minga_seconds"] < 30.0)
    flat.update(targets)
    os.makedirs(os.path.dirname(args.json_out), exist_ok=True)
    with open(args.json_out, "w") as f:
        json.dump(flat, f, indent=1, sort_keys=True, ensure_ascii=False)
        f.write("\n")
    md = ["# Scheduling benchmark (issue 6)", "",
          "- date: %s" % started,
          "- machine: %s; shared with other sessions (load average before %s, after %s)"
          % (machine(), load_before, load_after),
          "- command: `%s` (tree at commit %s, build %s)" % (args.command, commit,
                                                             build_type(args.build)),
          "- data: `minga demo-data --scale S` (seed 2026), event %s, scored by `minga rueda "
          "score` through the broker; the match worker is restarted before `minga rueda schedule "
          "%s --detach` + `minga wait` (%d times, each replacing the schedule; the median time is "
          "reported), so its VmHWM is the scheduling's peak" % (EVENT, EVENT, args.reps),
          "- every schedule (Minga's, the greedy's, the optimum's realisation) is judged by the "
          "independent checker `tests/integration/schedule_checker.py` from the exported CSVs",
          "- ratios are against the best bound on **total score alone** (DESIGN.md §7): the ILP "
          "optimum of score alone when HiGHS proves it, else its bound / the LP relaxation's",
          "", "## Results", "",
          "| | Jornada (scale 1) | scale 10 |", "|---|---|---|"]

    def cell(r, k, fmt="%s"):
        if r is None or r.get(k) is None:
            return "—"
        v = r[k]
        if isinstance(v, bool):
            return "yes" if v else "**no**"
        return fmt % v

    rowsdef = [
        ("participants (GADs with a minimum / all GADs)", lambda r: "%s (%s / %s)" % (
            r["participants"], r["gads_with_min"], r["gads"])),
        ("candidate pairs, slots, tables, slot blocks", lambda r: "%s, %s, %s, %s" % (
            r["pairs"], r["slots"], r["tables"], r["blocks"])),
        ("ILP size (variables × rows)", lambda r: "%s × %s" % (r["ilp_vars"], r["ilp_rows"])),
        ("optimum: GADs at minimum", lambda r: cell(r, "opt_gads_at_min") + (
            "" if r.get("opt_gads_at_min_proven", True) else " (not proven)")),
        ("optimum: total score (lexicographic)", lambda r: cell(r, "opt_lex_score") + (
            " (proven)" if r.get("opt_lex_proven") else "")),
        ("optimum of score alone (the ratios' denominator)", lambda r: (
            "%s (%s)" % (r["opt_score_only"], "proven" if r.get("opt_score_only_proven")
                         else "bound %s" % r.get("opt_score_only_bound")))
         if "opt_score_only" in r else "LP bound %s" % r.get("lp_bound_score_only")),
        ("HiGHS time (s, all objectives)", lambda r: cell(r, "ilp_seconds")
         if "ilp_seconds" in r else "LP %s" % r.get("lp_seconds")),
        ("optimum realised, checker", lambda r: cell(r, "opt_realized_checker_ok")),
        ("**Minga**: checker", lambda r: cell(r, "minga_checker_ok")),
        ("Minga: meetings", lambda r: cell(r, "minga_meetings")),
        ("Minga: total score", lambda r: cell(r, "minga_score")),
        ("Minga: ratio to optimum", lambda r: pct(r.get("minga_ratio"))),
        ("Minga: GADs at/above minimum", lambda r: cell(r, "minga_gads_at_min")),
        ("Minga: Gini of meetings per GAD", lambda r: cell(r, "minga_gini")),
        ("Minga: time (s), median of runs [min–max]", lambda r: "%s [%s–%s] of %s (%s); "
         "wall %s" % (r["minga_seconds"], r["minga_seconds_min"], r["minga_seconds_max"],
                      r["minga_runs"], r["minga_seconds_source"], r["minga_wall_seconds"])),
        ("Minga: of which read / solve / store (ms)", lambda r: "%s / %s / %s" % (
            r["minga_read_ms"], r["minga_solve_ms"], r["minga_store_ms"])),
        ("Minga: match worker peak RSS (VmHWM, MiB)", lambda r: "%s (anon %s, file %s)" % (
            r["worker_vmhwm_mib"], r["worker_rssanon_mib"], r["worker_rssfile_mib"])),
        ("greedy (each slot, best free pair): checker", lambda r: cell(r, "greedy_checker_ok")),
        ("greedy: meetings", lambda r: cell(r, "greedy_meetings")),
        ("greedy: total score", lambda r: cell(r, "greedy_score")),
        ("greedy: ratio to optimum", lambda r: pct(r.get("greedy_ratio"))),
        ("greedy: GADs at/above minimum", lambda r: cell(r, "greedy_gads_at_min")),
        ("greedy: Gini of meetings per GAD", lambda r: cell(r, "greedy_gini")),
        ("greedy by pairs: checker", lambda r: cell(r, "greedy2_checker_ok")),
        ("greedy by pairs: total score", lambda r: cell(r, "greedy2_score")),
        ("greedy by pairs: ratio to optimum", lambda r: pct(r.get("greedy2_ratio"))),
        ("greedy by pairs: GADs at/above minimum", lambda r: cell(r, "greedy2_gads_at_min")),
        ("greedy by pairs: Gini of meetings per GAD", lambda r: cell(r, "greedy2_gini")),
    ]
    for name, f in rowsdef:
        vals = []
        for r in (j, t10):
            try:
                vals.append(f(r) if r is not None else "—")
            except (KeyError, TypeError):
                vals.append("—")
        md.append("| %s | %s | %s |" % (name, vals[0], vals[1]))
    md += ["", "## Targets", ""]
    names = {
        "target_jornada_ratio_995": "Jornada ≥ 99.5 % of the optimum's total score (issue 6)",
        "target_jornada_ratio_999": "Jornada ≥ 99.9 % (DESIGN.md's aim)",
        "target_jornada_minimums": "Jornada: every GAD minimum the optimum meets is met",
        "target_jornada_under_1s": "Jornada scheduled in < 1 s",
        "target_jornada_gini_below_greedy": "Jornada: Minga's Gini below the greedy's",
        "target_scale10_under_30s": "scale 10 scheduled in < 30 s",
    }
    for k, v in targets.items():
        md.append("- %s: %s" % (names[k], "met" if v else "**not met**"))
    md += ["", "## The model", "", "```"] + sm.__doc__.strip().splitlines()[
        sm.__doc__.strip().splitlines().index(
            "The model (why it is exact for the full problem, slots and tables included):"):] + [
        "```", "",
        "Greedy baseline: for each slot in order, the candidate pairs by decreasing score; a "
        "pair is taken when both parties are available in the slot, under their maximum, the "
        "GAD free and the cooperante with a free table in that slot, and the pair has not met "
        "yet. Cooperantes keep their R tables for the whole event. \"Greedy by pairs\": the "
        "pairs by decreasing score, each in the first slot where both are available and free.",
        ""]
    if args.notes:
        md += ["## Notes", ""] + [n for n in args.notes] + [""]
    # the hand-written observations live beside the script, so that a run keeps them
    notes = os.path.join(ROOT, "tests/bench/schedule_notes.md")
    if os.path.exists(notes):
        md += [open(notes, encoding="utf-8").read().rstrip("\n"), ""]
    with open(args.md_out, "w") as f:
        f.write("\n".join(md))


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--build", default=os.path.join(ROOT, "build"))
    ap.add_argument("--scales", default="1,10")
    ap.add_argument("--ilp-scales", default="1",
                    help="scales solved as an ILP; the others get the LP relaxation's bound")
    ap.add_argument("--time-limit", type=float, default=120.0,
                    help="HiGHS time limit per objective, seconds")
    ap.add_argument("--md-out", default=os.path.join(ROOT, "tests/bench/results/schedule.md"))
    ap.add_argument("--json-out", default=os.path.join(ROOT, "tests/bench/results/schedule.json"))
    ap.add_argument("--reps", type=int, default=3,
                    help="Minga schedules each event this many times; the median time is kept")
    ap.add_argument("--command", default="tests/bench/schedule.sh")
    ap.add_argument("--note", dest="notes", action="append", default=[])
    args = ap.parse_args()
    minga = os.path.join(args.build, "bin", "minga")
    if not os.access(minga, os.X_OK):
        print("schedule_bench: %s is not built" % minga, file=sys.stderr)
        return 2
    os.environ["PATH"] = os.path.join(args.build, "bin") + os.pathsep + os.environ["PATH"]
    started = datetime.datetime.now(datetime.timezone.utc).isoformat(timespec="seconds")
    load_before = open("/proc/loadavg").read().split()[:3]
    work = tempfile.mkdtemp(prefix="minga-", dir="/tmp")
    res = []
    try:
        ilp_scales = {s for s in args.ilp_scales.split(",") if s}
        for s in args.scales.split(","):
            scale = int(s) if s.isdigit() else float(s)
            res.append(bench_scale(minga, scale, args.time_limit, work, s in ilp_scales,
                                   args.reps))
            log("scale %s: %s" % (s, json.dumps(res[-1], ensure_ascii=False)))
    finally:
        shutil.rmtree(work, ignore_errors=True)
    load_after = open("/proc/loadavg").read().split()[:3]
    write_results(res, args, started, " ".join(load_before), " ".join(load_after))
    print(open(args.md_out).read())
    return 0


if __name__ == "__main__":
    sys.exit(main())
