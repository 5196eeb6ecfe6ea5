#!/usr/bin/python3
"""Minga's schedule against the exact optimum on small random events.

A small registry from `minga demo-data --scale 0.1`, and random events of 3 to 6 slots with
random participants (8 to 16 GADs, 4 to 8 cooperantes, random minimums, maximums,
representatives and availability), imported with `minga import`, scored and scheduled by
minga through the broker (`minga up`, `minga rueda run EVENT`), then judged from the exports
alone:

  * the independent checker (schedule_checker.py) passes on every event;
  * with full availability: the schedule is optimal for DESIGN.md section 7's lexicographic
    objective (as many GADs at or above their minimum as the optimum, and the optimum's total
    score, to the hundredth), the optimum being computed by SciPy's HiGHS (scipy.optimize.milp)
    out of process on the same exported instance (tests/bench/schedule_model.py); with R = 1
    for everybody, the slots used equal the maximum degree of the meetings' graph (König);
  * with availability limits: as many GADs at their minimum as the optimum can reach and at
    least 99.5 % of the optimum's total score (the issue's floor);
  * a GAD whose minimum cannot be met (fewer candidate cooperantes than its minimum) is
    reported as below its minimum by `minga rueda run`, naming it, not silently dropped.

MINGA_EXACT_SEED changes the random events (default 6); MINGA_EXACT_EVENTS their number.
"""
import json
import os
import random
import shutil
import subprocess
import sys
import tempfile
import time

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)
sys.path.insert(0, os.path.join(HERE, "..", "bench"))
import schedule_checker as sc  # noqa: E402
import schedule_model as sm  # noqa: E402

PY = "/usr/bin/python3"
CHECKER = os.path.join(HERE, "schedule_checker.py")
FAILS = []


def check(cond, what):
    if not cond:
        FAILS.append(what)
        print("FAIL: %s" % what, file=sys.stderr)
    return cond


class Minga:
    def __init__(self, store):
        self.store = store

    def run(self, *args, check_rc=True, timeout=120):
        r = subprocess.run(["minga", "--store", self.store, "--timeout", "20"] + list(args),
                           capture_output=True, text=True, timeout=timeout)
        if check_rc and r.returncode != 0:
            raise RuntimeError("minga %s: exit %d\n%s" % (" ".join(args), r.returncode,
                                                          r.stderr[-2000:]))
        return r

    def export(self, kind, path, event=None):
        args = ["export", kind, "--out", path] + (["--event", event] if event else [])
        self.run(*args)


def rows(path):
    return [r for _, r in sc.read_csv(path, [])]


def write_csv(path, header, lines):
    with open(path, "w", encoding="utf-8", newline="") as f:
        f.write("\ufeff" + header + "\r\n" + "".join(line + "\r\n" for line in lines))


EV_HEADER = ("id;nombre;lugar;fecha_inicio;fecha_fin;zona_horaria;hora_inicio;hora_fin;"
             "minutos_por_turno;mesas;máx_reuniones;mín_reuniones_gad;reuniones_por_par;"
             "asistencia_requerida")
PART_HEADER = "party;kind;min_meetings;max_meetings;tables;available_slots;email"


def ranges(slots):
    out, s = [], sorted(slots)
    i = 0
    while i < len(s):
        j = i
        while j + 1 < len(s) and s[j + 1] == s[j] + 1:
            j += 1
        out.append("%d-%d" % (s[i], s[j]) if j > i else "%d" % s[i])
        i = j + 1
    return ",".join(out)


def candidate_graph(m, tmp):
    """GAD -> set of cooperantes with a candidate, from a probe event every cooperante attends
    (asistencia_requerida no), so that the random events are dense enough to be interesting."""
    write_csv(os.path.join(tmp, "probe.csv"), EV_HEADER,
              ["sondeo;Sondeo;Quito;2026-11-12;2026-11-12;America/Guayaquil;09:00;10:00;20;1;3;;;"
               "no"])
    m.run("import", "events", os.path.join(tmp, "probe.csv"))
    m.run("rueda", "score", "sondeo")
    cp = os.path.join(tmp, "probe-candidates.csv")
    m.export("candidates", cp, "sondeo")
    graph = {}
    for r in rows(cp):
        graph.setdefault(r["gad"], set()).add(r["cooperante"])
    return graph


def make_event(rng, n, graph, kind):
    """One random event: (events.csv line, participants lines, description).
    KIND: 'full1' full availability and R=1; 'fullR' full availability, R in 1..3;
    'limited' availability limits and R in 1..2; 'infeasible' full availability, R=1, and one
    GAD whose minimum exceeds its candidate cooperantes."""
    k = rng.randint(3, 6)
    ev = "rueda-%d" % n
    mins = 20
    end = 9 * 60 + k * mins
    by_coop = {}
    for g, cs in graph.items():
        for c in cs:
            by_coop.setdefault(c, set()).add(g)
    rich = sorted(c for c in by_coop if len(by_coop[c]) >= 3)
    csel = rng.sample(rich, min(len(rich), rng.randint(4, 8)))
    near = sorted(set().union(*(by_coop[c] for c in csel)))
    gsel = rng.sample(near, min(len(near), rng.randint(8, 16)))
    parts = []
    reps = {}
    for c in csel:
        r = 1 if kind in ("full1", "infeasible") else rng.randint(1, 3 if kind == "fullR" else 2)
        reps[c] = r
        avail = ""
        if kind == "limited" and rng.random() < 0.6:
            avail = ranges(rng.sample(range(1, k + 1), rng.randint(max(1, k // 2), k)))
        cmax = rng.randint(max(1, k // 2), r * k)
        parts.append("%s;cooperante;;%d;%s;%s;agenda@%s.org" % (c, cmax, r if r > 1 else "",
                                                                 avail, c))
    for g in gsel:
        avail = ""
        if kind == "limited" and rng.random() < 0.6:
            avail = ranges(rng.sample(range(1, k + 1), rng.randint(max(1, k // 2), k)))
        gmax = rng.randint(1, k)
        gmin = rng.randint(0, min(2, gmax))
        parts.append("%s;gad;%d;%d;;%s;planificacion@g%s.gob.ec" % (g, gmin, gmax, avail, g))
    tables = sum(reps.values())
    line = ("%s;Rueda aleatoria %d (%s);Quito;2026-11-12;2026-11-12;America/Guayaquil;09:00;"
            "%02d:%02d;%d;%d;%d;1;1;sí" % (ev, n, kind, end // 60, end % 60, mins, tables, k))
    return ev, line, parts, {"kind": kind, "slots": k}


def main():
    seed = int(os.environ.get("MINGA_EXACT_SEED", "6"))
    nevents = int(os.environ.get("MINGA_EXACT_EVENTS", "12"))
    rng = random.Random(seed)
    tmp = tempfile.mkdtemp(prefix="minga-", dir="/tmp")
    store = os.path.join(tmp, "s")
    m = Minga(store)
    t0 = time.time()
    up = False
    try:
        data = os.path.join(tmp, "d")
        subprocess.run(["minga", "demo-data", "--out", data, "--scale", "0.1", "--seed",
                        str(seed)], check=True, capture_output=True)
        m.run("init")
        for kind in ("gads", "cooperantes", "offers", "demands"):
            m.run("import", kind, os.path.join(data, kind + ".csv"))
        m.run("up", "--match-workers", "1", "--notify-workers", "1", "--report-workers", "1",
              "--test-workers", "0")
        up = True
        graph = candidate_graph(m, tmp)
        kinds = ["full1", "fullR", "limited", "infeasible"]
        events = []
        for n in range(1, nevents + 1):
            events.append(make_event(rng, n, graph, kinds[(n - 1) % len(kinds)]))
        write_csv(os.path.join(tmp, "events.csv"), EV_HEADER, [e[1] for e in events])
        m.run("import", "events", os.path.join(tmp, "events.csv"))
        for ev, _, parts, _ in events:
            p = os.path.join(tmp, ev + "-participants.csv")
            write_csv(p, PART_HEADER, parts)
            m.run("import", "participants", p, "--event", ev)
        m.export("events", os.path.join(tmp, "ev.csv"))
        for ev, _, _, info in events:
            judge(m, tmp, ev, info)
    finally:
        if up:
            m.run("down", check_rc=False)
        if FAILS and os.environ.get("MINGA_KEEP"):
            print("kept %s" % tmp, file=sys.stderr)
        else:
            shutil.rmtree(tmp, ignore_errors=True)
    if FAILS:
        print("%d check(s) failed (seed %d)" % (len(FAILS), seed), file=sys.stderr)
        return 1
    print("schedule exact: %d random events (seed %d) optimal where exactness is promised, "
          "in %.1f s" % (len(events), seed, time.time() - t0))
    return 0


def judge(m, tmp, ev, info):
    kind = info["kind"]
    if kind == "infeasible":
        make_infeasible(m, tmp, ev)
    run = m.run("rueda", "run", ev, check_rc=False)
    if not check(run.returncode == 0, "%s: minga rueda run: exit %d\n%s"
                 % (ev, run.returncode, run.stderr[-2000:])):
        return
    paths = {}
    for k in ("participants", "candidates", "meetings"):
        paths[k] = os.path.join(tmp, "%s-%s.csv" % (ev, k))
        m.export(k, paths[k], ev)
    r = subprocess.run([PY, CHECKER, "--events", os.path.join(tmp, "ev.csv"), "--event", ev,
                        "--participants", paths["participants"], "--candidates",
                        paths["candidates"], "--meetings", paths["meetings"], "--json"],
                       capture_output=True, text=True)
    if not check(r.returncode == 0, "%s (%s): checker exit %d\n%s" % (ev, kind, r.returncode,
                                                                      r.stderr[-3000:])):
        return
    fig = json.loads(r.stdout)
    inst = sm.Instance(os.path.join(tmp, "ev.csv"), paths["participants"], paths["candidates"],
                       event=ev)
    opt = sm.exact(inst, time_limit=60)
    check(opt.proven, "%s: HiGHS did not prove its optimum" % ev)
    got = fig["total_score_hundredths"]
    line = ("%s (%s, %d slots, %d pairs): minga %d meetings, score %.2f, GADs at min %d/%d; "
            "optimum score %.2f, GADs at min %d"
            % (ev, kind, info["slots"], len(inst.pairs), fig["meetings"], got / 100,
               fig["gads_at_minimum"], fig["gads_with_minimum"], opt.score / 100,
               opt.gads_at_min))
    print(line)
    check(fig["gads_at_minimum"] == opt.gads_at_min,
          "%s: %d GADs at their minimum, the optimum reaches %d" % (line, fig["gads_at_minimum"],
                                                                   opt.gads_at_min))
    check(got <= opt.score_only + 0.5, "%s: above the optimum of score alone (%.2f): the model "
          "or the checker is wrong" % (line, opt.score_only / 100))
    if fig["gads_at_minimum"] == opt.gads_at_min:
        if kind == "limited":
            check(got >= 0.995 * opt.score, "%s: below 99.5 %% of the optimum" % line)
        else:
            check(abs(got - opt.score) < 0.5, "%s: not the optimum's total score" % line)
    if kind in ("full1", "infeasible"):
        check(fig["slots_used"] == fig["max_degree"],
              "%s: %d slots used, maximum degree %d (König)" % (ev, fig["slots_used"],
                                                               fig["max_degree"]))
    if kind == "infeasible":
        below = fig["gads_below_minimum"]
        check(bool(below), "%s: no GAD below its minimum" % ev)
        out = run.stdout + run.stderr
        for g in below:
            check(g in out, "%s: GAD %s is below its minimum and `minga rueda run` does not "
                  "name it:\n%s" % (ev, g, out[-2000:]))


def make_infeasible(m, tmp, ev):
    """Scores EV, then gives one GAD with candidates a minimum above its candidate
    cooperantes (and a maximum to match), re-imports the participants."""
    m.run("rueda", "score", ev)
    cp = os.path.join(tmp, ev + "-pre-candidates.csv")
    pp = os.path.join(tmp, ev + "-pre-participants.csv")
    m.export("candidates", cp, ev)
    m.export("participants", pp, ev)
    parts = rows(pp)
    mine = {r["party"] for r in parts}
    coops_of = {}
    for r in rows(cp):
        if r["gad"] in mine and r["cooperante"] in mine:
            coops_of.setdefault(r["gad"], set()).add(r["cooperante"])
    if not check(bool(coops_of), "%s: no candidate pair among the participants" % ev):
        return
    g = sorted(coops_of, key=lambda x: (len(coops_of[x]), x))[0]
    n = len(coops_of[g]) + 1
    lines = []
    for r in parts:
        if r["party"] == g:
            r["min_meetings"], r["max_meetings"], r["available_slots"] = str(n), str(n), ""
        lines.append(";".join(r.get(c, "") for c in PART_HEADER.split(";")))
    write_csv(pp, PART_HEADER, lines)
    m.run("import", "participants", pp, "--event", ev)


if __name__ == "__main__":
    sys.exit(main())
