#!/usr/bin/python3
"""The schedule checker cannot pass vacuously: on a small hand-made event, a valid meetings
file passes (exit 0, the right figures), and for every hard rule a meetings file broken in
exactly that way fails (exit 1) naming that rule, the slot and the party at fault. Usage
errors exit 2; a file that is not the export it should be exits 1 naming file and line."""
import json
import os
import subprocess
import sys
import tempfile

HERE = os.path.dirname(os.path.abspath(__file__))
CHECKER = os.path.join(HERE, "schedule_checker.py")
PY = "/usr/bin/python3"

EVENTS = [
    "id;nombre;lugar;fecha_inicio;fecha_fin;zona_horaria;hora_inicio;hora_fin;minutos_por_turno;"
    "mesas;máx_reuniones;mín_reuniones_gad;reuniones_por_par;asistencia_requerida",
    "otro;Otra rueda;Cuenca;2026-05-04;2026-05-04;America/Guayaquil;08:00;12:00;30;10;5;;;no",
    "rueda-t;Rueda de prueba;Quito;2026-11-12;2026-11-13;America/Guayaquil;09:00;10:10;20;5;4;2;1;"
    "sí",
]
# 3 slots a day (09:00, 09:20, 09:40; 10:00-10:20 does not fit before 10:10), 6 over two days.
PARTICIPANTS = [
    "party;kind;min_meetings;max_meetings;tables;available_slots;email",
    "0101;gad;;4;;;a@cuenca.gob.ec",
    "0102;gad;1;2;;1-3;b@giron.gob.ec",
    "0103;gad;0;3;;1-2,5-6;c@gualaceo.gob.ec",
    "coop-a;cooperante;;6;2;;x@a.org",
    "coop-b;cooperante;;3;;1-6;y@b.org",
    "coop-c;cooperante;;2;1;4-6;z@c.org",
]
CANDIDATES = [
    "demand_id;gad;offer_id;cooperante;rank;score;reasons",
    "d1;0101;oa1;coop-a;1;80.50;Sector CAD 14030 coincide",
    "d1;0101;ob1;coop-b;2;60.00;\"Modalidad; asistencia \"\"técnica\"\"\"",
    "d2;0101;oc1;coop-c;1;55.25;x",
    "d3;0102;oa1;coop-a;1;70.00;x",
    "d3;0102;ob2;coop-b;2;65.00;x",
    "d4;0103;oa2;coop-a;1;90.00;x",
    "d4;0103;oc1;coop-c;2;40.00;x",
]
PREFERENCES = ["de;para;preferencia", "0103;coop-b;no", "coop-a;0101;obligatoria"]
HEAD = "slot;start;end;table;gad;cooperante;demand_id;offer_id;score;status"


def t(slot):
    day, i = divmod(slot - 1, 3)
    d = "2026-11-%02d" % (12 + day)
    m0 = 9 * 60 + 20 * i
    m1 = m0 + 20
    return "%sT%02d:%02d:00-05:00;%sT%02d:%02d:00-05:00" % (d, m0 // 60, m0 % 60, d, m1 // 60,
                                                            m1 % 60)


def row(slot, table, gad, coop, dem, off, score, status="scheduled", times=None):
    return "%d;%s;%d;%s;%s;%s;%s;%s;%s" % (slot, times or t(slot), table, gad, coop, dem, off,
                                          score, status)


# Tables: coop-a holds 1 and 2, coop-b 3, coop-c 4.
VALID = [
    row(1, 1, "0101", "coop-a", "d1", "oa1", "80.50"),
    row(1, 2, "0102", "coop-a", "d3", "oa1", "70.00"),
    row(2, 1, "0103", "coop-a", "d4", "oa2", "90.00"),
    row(2, 3, "0101", "coop-b", "d1", "ob1", "60.00"),
    row(3, 3, "0102", "coop-b", "d3", "ob2", "65.00"),
    row(5, 4, "0101", "coop-c", "d2", "oc1", "55.25"),
    row(6, 4, "0103", "coop-c", "d4", "oc1", "40.00", status="held"),
]

# rule -> (meetings rows, rules that must be reported: exactly these, and a text to find)
BROKEN = {
    "slot-range": (["7;2026-11-13T10:00:00-05:00;2026-11-13T10:20:00-05:00;1;0101;coop-a;d1;"
                    "oa1;80.50;scheduled"] + VALID[1:], {"slot-range"}, "slot 7 outside 1..6"),
    "time": (VALID[:6] + [row(6, 4, "0103", "coop-c", "d4", "oc1", "40.00",
                              times=t(5))], {"time"}, "slot 6 is 2026-11-13T09:40:00-05:00"),
    "table-range": (VALID[:6] + [row(6, 6, "0103", "coop-c", "d4", "oc1", "40.00")],
                    {"table-range", "coop-tables"}, "table 6 outside 1..5"),
    "table-twice": (VALID + [row(3, 3, "0101", "coop-b", "d1", "ob1", "60.00")],
                    {"table-twice", "coop-slot", "pair-count"}, "2 meetings at this table"),
    "participant": (VALID + [row(4, 5, "0104", "coop-a", "d9", "oa9", "10.00")],
                    {"participant", "candidate-pair", "coop-tables"},
                    "gad 0104 is not a participant"),
    "gad-slot": (VALID + [row(1, 3, "0101", "coop-b", "d1", "ob1", "60.00")],
                 {"gad-slot", "pair-count"}, "gad 0101 in 2 meetings in slot 1"),
    "coop-slot": (VALID[:3] + [row(1, 3, "0103", "coop-a", "d4", "oa2", "90.00")] + VALID[3:],
                  {"coop-slot", "coop-tables", "table-owner", "pair-count"},
                  "cooperante coop-a in 3 meetings in slot 1"),
    "availability": (VALID + [row(4, 1, "0102", "coop-a", "d3", "oa1", "70.00")],
                     {"availability", "max", "pair-count"},
                     "gad 0102 is not available in slot 4"),
    "availability-coop": (VALID + [row(2, 4, "0102", "coop-c", "dx", "ox", "1.00")],
                          {"availability", "candidate-pair", "max"},
                          "cooperante coop-c is not available in slot 2"),
    "max": (VALID + [row(4, 3, "0101", "coop-b", "d1", "ob1", "60.00"),
                     row(6, 1, "0101", "coop-a", "d1", "oa1", "80.50")],
            {"max", "pair-count"}, "gad 0101 has 5 meetings, its maximum is 4"),
    "coop-tables": (VALID[:2] + [row(2, 5, "0103", "coop-a", "d4", "oa2", "90.00")] + VALID[3:],
                    {"coop-tables"}, "cooperante coop-a uses tables 1,2,5, it holds 2"),
    "table-owner": (VALID[:4] + [row(3, 1, "0102", "coop-b", "d3", "ob2", "65.00")] + VALID[5:],
                    {"table-owner", "coop-tables"}, "table 1 is used by cooperantes coop-a, coop-b"),
    "candidate-pair": (VALID + [row(5, 3, "0103", "coop-b", "d4", "ob9", "50.00")],
                       {"candidate-pair", "preference-no"},
                       "gad 0103 and cooperante coop-b are not a candidate pair"),
    "candidate": (VALID[:5] + [row(5, 4, "0101", "coop-c", "d1", "oc1", "55.25")] + VALID[6:],
                  {"candidate"}, "demand d1 / offer oc1 is not a candidate of this pair"),
    "score": (VALID[:5] + [row(5, 4, "0101", "coop-c", "d2", "oc1", "55.30")] + VALID[6:],
              {"score"}, "score 55.30, the candidate's is 55.25"),
    "pair-count": (VALID + [row(4, 1, "0101", "coop-a", "d1", "oa1", "80.50")],
                   {"pair-count"}, "2 meetings of the pair, at most 1"),
    "status": (VALID[:6] + [row(6, 4, "0103", "coop-c", "d4", "oc1", "40.00", "cancelled")],
               {"status"}, "status 'cancelled'"),
    "order": ([VALID[1], VALID[0]] + VALID[2:], {"order"}, "after slot 1 table 2"),
    "format": (VALID + ["x;%s;1;0101;coop-a;d1;oa1;80.50;scheduled" % t(1)],
               {"format"}, "slot 'x' is not a whole number"),
}

FAILS = []


def check(cond, what):
    if not cond:
        FAILS.append(what)
        print("FAIL: %s" % what, file=sys.stderr)


def write(path, lines):
    with open(path, "w", encoding="utf-8", newline="") as f:
        f.write("\ufeff" + "\r\n".join(lines) + "\r\n")


def by_slot_table(line):
    f = line.split(";")
    try:
        return (int(f[0]), int(f[3]))
    except (ValueError, IndexError):
        return (0, 0)


def run(d, meetings, extra=(), event="rueda-t", prefs=True, keep_order=False):
    """Runs the checker on MEETINGS (put in slot, table order unless KEEP_ORDER)."""
    if not keep_order:
        meetings = sorted(meetings, key=by_slot_table)
    write(os.path.join(d, "m.csv"), [HEAD] + meetings)
    args = [PY, CHECKER, "--events", os.path.join(d, "e.csv"), "--participants",
            os.path.join(d, "p.csv"), "--candidates", os.path.join(d, "c.csv"),
            "--meetings", os.path.join(d, "m.csv"), "--json"]
    if event:
        args += ["--event", event]
    if prefs:
        args += ["--preferences", os.path.join(d, "pr.csv")]
    r = subprocess.run(args + list(extra), capture_output=True, text=True, timeout=60)
    return r


def rules_of(stderr):
    out = set()
    for line in stderr.splitlines():
        if line.startswith("violation: "):
            out.add(line[len("violation: "):].split(":", 1)[0])
    return out


def main():
    with tempfile.TemporaryDirectory(prefix="minga-") as d:
        write(os.path.join(d, "e.csv"), EVENTS)
        write(os.path.join(d, "p.csv"), PARTICIPANTS)
        write(os.path.join(d, "c.csv"), CANDIDATES)
        write(os.path.join(d, "pr.csv"), PREFERENCES)

        r = run(d, VALID)
        check(r.returncode == 0, "valid schedule: exit %d, %s" % (r.returncode, r.stderr))
        fig = json.loads(r.stdout) if r.stdout.strip() else {}
        check(fig.get("meetings") == 7, "figures: meetings %r" % fig.get("meetings"))
        check(fig.get("total_score_hundredths") == 46075, "figures: score %r" % fig)
        check(fig.get("slots_used") == 5 and fig.get("max_degree") == 3, "figures: slots %r" % fig)
        # minimums: 0101 -> event's 2 (has 3), 0102 -> 1 (has 2), 0103 -> 0 (not counted)
        check(fig.get("gads_with_minimum") == 2 and fig.get("gads_at_minimum") == 2,
              "figures: minimums %r" % fig)
        check(abs(fig.get("gini_meetings_per_gad", -1) - 0.0952) < 1e-4, "gini %r" % fig)

        # The same schedule without the 0102 meetings: 0102 below its minimum, still valid.
        r = run(d, [m for m in VALID if ";0102;" not in m])
        fig = json.loads(r.stdout) if r.stdout.strip() else {}
        check(r.returncode == 0 and fig.get("gads_below_minimum") == ["0102"],
              "GAD below minimum is a figure, not a violation: %d %r" % (r.returncode, fig))

        for name, (meetings, want, text) in BROKEN.items():
            r = run(d, meetings, keep_order=name == "order")
            got = rules_of(r.stderr)
            check(r.returncode == 1, "%s: exit %d (want 1)" % (name, r.returncode))
            check(got == want, "%s: rules %s, want %s\n%s" % (name, sorted(got), sorted(want),
                                                              r.stderr))
            check(text in r.stderr, "%s: '%s' not in the report:\n%s" % (name, text, r.stderr))
            if r.stdout.strip():
                fig = json.loads(r.stdout)
                check(fig["violations"] >= len(want), "%s: violations %r" % (name, fig))

        # preference "no": a candidate pair marked no (the candidate file has it on purpose).
        cands = CANDIDATES + ["d9;0103;ob9;coop-b;1;50.00;x"]
        write(os.path.join(d, "c.csv"), cands)
        r = run(d, VALID + [row(5, 3, "0103", "coop-b", "d9", "ob9", "50.00")])
        check(r.returncode == 1 and rules_of(r.stderr) == {"preference-no"},
              "preference-no: %d %s" % (r.returncode, r.stderr))
        r = run(d, VALID + [row(5, 3, "0103", "coop-b", "d9", "ob9", "50.00")], prefs=False)
        check(r.returncode == 0, "without --preferences the pair is a candidate: %s" % r.stderr)
        write(os.path.join(d, "c.csv"), CANDIDATES)

        # An unregistered cooperante: a violation when attendance is required (rueda-t)...
        r = run(d, VALID + [row(4, 5, "0103", "coop-z", "d4", "oz", "1.00")])
        check("cooperante coop-z is not a participant" in r.stderr and r.returncode == 1,
              "unregistered cooperante: %s" % r.stderr)

        # Usage: a missing option or file exits 2; two events and no --event exits 1 naming it.
        r = run(d, VALID, extra=["--bogus"])
        check(r.returncode == 2, "unknown option: exit %d" % r.returncode)
        r = subprocess.run([PY, CHECKER, "--events", os.path.join(d, "nope.csv"), "--participants",
                            "p", "--candidates", "c", "--meetings", "m"], capture_output=True,
                           text=True)
        check(r.returncode == 2 and "nope.csv" in r.stderr, "missing file: %d %s"
              % (r.returncode, r.stderr))
        r = run(d, VALID, event=None)
        check(r.returncode == 1 and "2 events" in r.stderr, "no --event: %d %s"
              % (r.returncode, r.stderr))
        r = run(d, VALID, event="no-such")
        check(r.returncode == 1 and "no event 'no-such'" in r.stderr, "unknown event: %s"
              % r.stderr)

        # Not the export it should be: a wrong header, a short row.
        write(os.path.join(d, "m.csv"), ["slot;start;end;table;gad"])
        r = subprocess.run([PY, CHECKER, "--events", os.path.join(d, "e.csv"), "--event",
                            "rueda-t", "--participants", os.path.join(d, "p.csv"),
                            "--candidates", os.path.join(d, "c.csv"), "--meetings",
                            os.path.join(d, "m.csv")], capture_output=True, text=True)
        check(r.returncode == 1 and "m.csv:1: header" in r.stderr, "bad header: %s" % r.stderr)
        r = run(d, VALID + ["1;2;3"], keep_order=True)
        check(r.returncode == 1 and "m.csv:9: 3 fields" in r.stderr, "short row: %s" % r.stderr)

        # The other event (3 slots a day... of 30 min from 08:00 to 12:00 = 8 slots, 10 tables,
        # no minimum, attendance not required): an unregistered cooperante is then tolerated,
        # with its defaults (1 table, the event's maximum of 5).
        write(os.path.join(d, "p.csv"), PARTICIPANTS[:2])
        write(os.path.join(d, "c.csv"), CANDIDATES[:1] + ["d1;0101;oz1;coop-z;1;30.00;x"])
        ts = ["2026-05-04T%02d:%02d:00-05:00" % (8 + k // 2, 30 * (k % 2)) for k in range(9)]
        ok = ["%d;%s;%s;7;0101;coop-z;d1;oz1;30.00;scheduled" % (8, ts[7], ts[8])]
        r = run(d, ok, event="otro", prefs=False)
        check(r.returncode == 0, "other event, unregistered cooperante tolerated: %s" % r.stderr)
        bad = ["%d;%s;%s;7;0101;coop-z;d1;oz1;30.00;scheduled" % (9, ts[7], ts[8])]
        r = run(d, bad, event="otro", prefs=False)
        check(r.returncode == 1 and rules_of(r.stderr) == {"slot-range"},
              "other event: slot 9 of 8: %s" % r.stderr)

    if FAILS:
        print("%d check(s) failed" % len(FAILS), file=sys.stderr)
        return 1
    print("schedule checker: %d broken files caught, each by its rule" % len(BROKEN))
    return 0


if __name__ == "__main__":
    sys.exit(main())
