#!/usr/bin/python3
"""Independent checker of a rueda's schedule (DESIGN.md section 7).

It reads only the CSV files `minga export` writes (UTF-8 with BOM, ';'): the events, the
event's participants, its candidates and its meetings, and checks every hard rule:

  slot-range      a meeting's slot is within 1..(days x slots per day) of the event
  time            start/end are the slot's times (event day, hora_inicio, minutos_por_turno,
                  time zone), ISO 8601 with the offset
  table-range     a table is within 1..mesas of the event
  table-twice     no (slot, table) holds two meetings
  participant     both parties are participants of the event, of the right kind
  gad-slot        a GAD is in at most one meeting per slot
  coop-slot       a cooperante is in at most R (its `tables`, 1 when empty) meetings per slot
  availability    nobody meets outside its available_slots (empty = every slot)
  max             nobody is over its max_meetings (else the event's maximum)
  coop-tables     a cooperante uses at most R distinct tables over the whole event
  table-owner     a table belongs to one cooperante for the whole event
  candidate-pair  (gad, cooperante) is a pair of the event's candidates
  candidate       the meeting's demand_id/offer_id is a candidate of that pair
  score           the meeting's score is that candidate's score
  pair-count      at most reuniones_por_par (1 when empty) meetings per pair
  status          status is scheduled, held or noshow (the meetings that stand)
  order           rows are ordered by slot, then table (DESIGN.md section 11)
  preference-no   with --preferences: no meeting between a pair marked "no"
  format          the files have the columns and values the exports promise

Exit status: 0 when every rule holds, 1 listing each violation on stderr (rule, slot,
table, who, file line), 2 on a usage error (bad options, missing file). With --json it
prints one JSON object of figures on stdout (meetings, total score, slots used, maximum
degree, GADs at/below their minimum, Gini of meetings per GAD, violations by rule).

Standard library only; run it with /usr/bin/python3.
"""
import argparse
import csv
import datetime
import json
import os
import sys
from collections import defaultdict

try:
    from zoneinfo import ZoneInfo
except ImportError:  # pragma: no cover - Python < 3.9
    ZoneInfo = None

MEETING_COLS = ["slot", "start", "end", "table", "gad", "cooperante", "demand_id", "offer_id",
                "score", "status"]
PARTICIPANT_COLS = ["party", "kind", "min_meetings", "max_meetings", "tables", "available_slots"]
CANDIDATE_COLS = ["demand_id", "gad", "offer_id", "cooperante", "rank", "score", "reasons"]
EVENT_COLS = ["id", "nombre", "lugar", "fecha_inicio", "fecha_fin", "zona_horaria", "hora_inicio",
              "hora_fin", "minutos_por_turno", "mesas", "máx_reuniones", "mín_reuniones_gad",
              "reuniones_por_par", "asistencia_requerida"]
STANDING = {"scheduled", "held", "noshow"}


class InputError(Exception):
    """A file that cannot be read as the export it should be (message names file and line)."""


def read_csv(path, want, prefix_only=True):
    """Rows of PATH as (line number, dict); the header must start with WANT's columns."""
    try:
        with open(path, encoding="utf-8-sig", newline="") as f:
            rows = list(csv.reader(f, delimiter=";"))
    except OSError as e:
        raise InputError("%s: %s" % (path, e.strerror or e))
    except UnicodeDecodeError as e:
        raise InputError("%s: not UTF-8 (%s)" % (path, e))
    if not rows:
        raise InputError("%s: empty file, no header" % path)
    header = rows[0]
    if header[:len(want)] != want or (not prefix_only and header != want):
        raise InputError("%s:1: header %s, expected %s" % (path, ";".join(header), ";".join(want)))
    out = []
    for i, r in enumerate(rows[1:], start=2):
        if not r or r == [""]:
            continue
        if len(r) != len(header):
            raise InputError("%s:%d: %d fields, the header has %d" % (path, i, len(r), len(header)))
        out.append((i, dict(zip(header, r))))
    return out


def parse_uint(s, what, where, empty=None):
    s = s.strip()
    if s == "":
        if empty is None:
            raise InputError("%s: %s is empty" % (where, what))
        return empty
    if not s.isdigit():
        raise InputError("%s: %s '%s' is not a whole number" % (where, what, s))
    return int(s)


def parse_hundredths(s, where):
    """'87.25' -> 8725 (the exports write scores with '.' and two decimals)."""
    s = s.strip()
    neg = s.startswith("-")
    body = s[1:] if neg else s
    ip, _, fp = body.partition(".")
    if not ip.isdigit() or (fp and (not fp.isdigit() or len(fp) > 2)):
        raise InputError("%s: score '%s' is not a decimal like 87.25" % (where, s))
    v = int(ip) * 100 + int((fp + "00")[:2])
    return -v if neg else v


def parse_ranges(s, where):
    """'1-8,11-14' -> set of slot numbers; '' -> None (every slot)."""
    s = s.strip()
    if not s:
        return None
    out = set()
    for part in s.split(","):
        a, sep, b = part.strip().partition("-")
        if not a.isdigit() or (sep and not b.isdigit()):
            raise InputError("%s: available_slots '%s' is not like 1-8,11-14" % (where, s))
        lo, hi = int(a), int(b) if sep else int(a)
        if lo < 1 or hi < lo:
            raise InputError("%s: available_slots range '%s' is empty or below 1" % (where, part))
        out.update(range(lo, hi + 1))
    return out


def parse_hhmm(s, where):
    h, sep, m = s.partition(":")
    if not sep or not h.isdigit() or not m.isdigit():
        raise InputError("%s: time '%s' is not HH:MM" % (where, s))
    return int(h) * 60 + int(m)


class Event:
    def __init__(self, row, where):
        self.id = row["id"]
        try:
            self.d0 = datetime.date.fromisoformat(row["fecha_inicio"])
            self.d1 = datetime.date.fromisoformat(row["fecha_fin"])
        except ValueError:
            raise InputError("%s: dates '%s'..'%s' are not YYYY-MM-DD"
                             % (where, row["fecha_inicio"], row["fecha_fin"]))
        self.tz_name = row["zona_horaria"]
        self.day_start = parse_hhmm(row["hora_inicio"], where)
        self.day_end = parse_hhmm(row["hora_fin"], where)
        self.slot_minutes = parse_uint(row["minutos_por_turno"], "minutos_por_turno", where)
        if self.slot_minutes == 0:
            raise InputError("%s: minutos_por_turno is 0" % where)
        self.tables = parse_uint(row["mesas"], "mesas", where)
        self.max_meetings = parse_uint(row["máx_reuniones"], "máx_reuniones", where)
        self.min_gad = parse_uint(row["mín_reuniones_gad"], "mín_reuniones_gad", where, 0)
        self.per_pair = parse_uint(row["reuniones_por_par"], "reuniones_por_par", where, 1) or 1
        self.attendance_required = row["asistencia_requerida"].strip().lower() in ("sí", "si",
                                                                                   "true", "1")
        self.days = (self.d1 - self.d0).days + 1
        self.per_day = max(0, (self.day_end - self.day_start) // self.slot_minutes)
        self.nslots = self.days * self.per_day
        if ZoneInfo is None:
            raise InputError("zoneinfo is not available in this Python")
        try:
            self.tz = ZoneInfo(self.tz_name)
        except Exception:
            raise InputError("%s: unknown time zone '%s'" % (where, self.tz_name))

    def slot_times(self, slot):
        """ISO 8601 start and end of SLOT (1-based, numbered across the days)."""
        day, idx = divmod(slot - 1, self.per_day)
        date = self.d0 + datetime.timedelta(days=day)
        t0 = datetime.datetime(date.year, date.month, date.day, tzinfo=self.tz) + \
            datetime.timedelta(minutes=self.day_start + idx * self.slot_minutes)
        t1 = t0 + datetime.timedelta(minutes=self.slot_minutes)
        return t0.isoformat(), t1.isoformat()


class Party:
    def __init__(self, row, where, event):
        self.id = row["party"]
        self.kind = row["kind"]
        if self.kind not in ("gad", "cooperante"):
            raise InputError("%s: kind '%s' is neither gad nor cooperante" % (where, self.kind))
        default_min = event.min_gad if self.kind == "gad" else 0
        self.min = parse_uint(row["min_meetings"], "min_meetings", where, default_min)
        self.max = parse_uint(row["max_meetings"], "max_meetings", where, event.max_meetings)
        r = parse_uint(row["tables"], "tables", where, 0)
        self.tables = (r or 1) if self.kind == "cooperante" else 0
        self.slots = parse_ranges(row["available_slots"], where)

    def available(self, slot):
        return self.slots is None or slot in self.slots


def default_party(pid, kind, event):
    p = Party.__new__(Party)
    p.id, p.kind = pid, kind
    p.min = event.min_gad if kind == "gad" else 0
    p.max, p.tables, p.slots = event.max_meetings, 1 if kind == "cooperante" else 0, None
    return p


def gini(values):
    """Gini coefficient of non-negative VALUES (0 = all equal)."""
    v = sorted(values)
    n, s = len(v), sum(v)
    if n == 0 or s == 0:
        return 0.0
    cum = sum((i + 1) * x for i, x in enumerate(v))
    return (2.0 * cum) / (n * s) - (n + 1.0) / n


class Checker:
    def __init__(self, event, parties, candidates, meetings, no_pairs=(), meetings_path="meetings"):
        self.event = event
        self.parties = parties
        self.cand = candidates          # (gad, coop) -> {(demand, offer): hundredths}
        self.meetings = meetings        # list of (line, dict)
        self.no_pairs = set(no_pairs)
        self.path = meetings_path
        self.violations = []

    def v(self, rule, line, m, msg):
        who = []
        if m is not None:
            who = ["slot %s" % m.get("slot", "?"), "table %s" % m.get("table", "?"),
                   "gad %s" % m.get("gad", "?"), "cooperante %s" % m.get("cooperante", "?")]
        self.violations.append((rule, "%s: %s%s (%s:%s)" % (
            rule, ", ".join(who) + ": " if who else "", msg, self.path, line)))

    def party(self, pid, kind, line, m):
        p = self.parties.get(pid)
        if p is None:
            if kind == "cooperante" and not self.event.attendance_required:
                p = default_party(pid, kind, self.event)
                self.parties[pid] = p
                return p
            self.v("participant", line, m, "%s %s is not a participant of event %s"
                   % (kind, pid, self.event.id))
            return None
        if p.kind != kind:
            self.v("participant", line, m, "%s is a %s, named as the %s" % (pid, p.kind, kind))
            return None
        return p

    def run(self):
        ev = self.event
        by_table = defaultdict(list)      # (slot, table) -> lines
        gad_slot = defaultdict(list)
        coop_slot = defaultdict(list)
        count = defaultdict(int)
        coop_tables = defaultdict(set)
        table_coops = defaultdict(set)
        pair_count = defaultdict(int)
        self.parsed = []
        last = None
        for line, m in self.meetings:
            try:
                slot = parse_uint(m["slot"], "slot", "%s:%d" % (self.path, line))
                table = parse_uint(m["table"], "table", "%s:%d" % (self.path, line))
                score = parse_hundredths(m["score"], "%s:%d" % (self.path, line))
            except InputError as e:
                self.v("format", line, m, str(e))
                continue
            g, c = m["gad"], m["cooperante"]
            self.parsed.append((slot, table, g, c, score))
            if last is not None and (slot, table) < last:
                self.v("order", line, m, "after slot %d table %d: rows go by slot, then table"
                       % last)
            last = (slot, table)
            if m["status"] not in STANDING:
                self.v("status", line, m, "status '%s' is not one of %s"
                       % (m["status"], ", ".join(sorted(STANDING))))
            if not 1 <= slot <= ev.nslots:
                self.v("slot-range", line, m, "slot %d outside 1..%d of event %s"
                       % (slot, ev.nslots, ev.id))
            else:
                start, end = ev.slot_times(slot)
                if (m["start"], m["end"]) != (start, end):
                    self.v("time", line, m, "start/end %s/%s, slot %d is %s/%s"
                           % (m["start"], m["end"], slot, start, end))
            if not 1 <= table <= ev.tables:
                self.v("table-range", line, m, "table %d outside 1..%d" % (table, ev.tables))
            by_table[(slot, table)].append(line)
            gp = self.party(g, "gad", line, m)
            cp = self.party(c, "cooperante", line, m)
            gad_slot[(g, slot)].append(line)
            coop_slot[(c, slot)].append(line)
            count[g] += 1
            count[c] += 1
            coop_tables[c].add(table)
            table_coops[table].add(c)
            pair_count[(g, c)] += 1
            for p in (gp, cp):
                if p is not None and not p.available(slot):
                    self.v("availability", line, m, "%s %s is not available in slot %d"
                           % (p.kind, p.id, slot))
            cands = self.cand.get((g, c))
            if cands is None:
                self.v("candidate-pair", line, m, "gad %s and cooperante %s are not a candidate "
                       "pair of event %s" % (g, c, ev.id))
            else:
                key = (m["demand_id"], m["offer_id"])
                if key not in cands:
                    self.v("candidate", line, m, "demand %s / offer %s is not a candidate of "
                           "this pair" % key)
                elif cands[key] != score:
                    self.v("score", line, m, "score %s, the candidate's is %.2f"
                           % (m["score"], cands[key] / 100))
            if (g, c) in self.no_pairs:
                self.v("preference-no", line, m, "the pair is marked \"no\"")
        for (slot, table), lines in sorted(by_table.items()):
            if len(lines) > 1:
                self.v("table-twice", lines[1], {"slot": slot, "table": table},
                       "%d meetings at this table in this slot (lines %s)"
                       % (len(lines), ", ".join(map(str, lines))))
        for (g, slot), lines in sorted(gad_slot.items()):
            if len(lines) > 1:
                self.v("gad-slot", lines[1], {"slot": slot, "gad": g},
                       "gad %s in %d meetings in slot %d (lines %s)"
                       % (g, len(lines), slot, ", ".join(map(str, lines))))
        for (c, slot), lines in sorted(coop_slot.items()):
            p = self.parties.get(c)
            r = p.tables if p is not None and p.kind == "cooperante" else 1
            if len(lines) > r:
                self.v("coop-slot", lines[r], {"slot": slot, "cooperante": c},
                       "cooperante %s in %d meetings in slot %d, it has %d table(s) (lines %s)"
                       % (c, len(lines), slot, r, ", ".join(map(str, lines))))
        for pid, n in sorted(count.items()):
            p = self.parties.get(pid)
            if p is not None and n > p.max:
                self.v("max", "-", None, "%s %s has %d meetings, its maximum is %d"
                       % (p.kind, pid, n, p.max))
        for c, tabs in sorted(coop_tables.items()):
            p = self.parties.get(c)
            r = p.tables if p is not None and p.kind == "cooperante" else 1
            if len(tabs) > r:
                self.v("coop-tables", "-", {"cooperante": c},
                       "cooperante %s uses tables %s, it holds %d"
                       % (c, ",".join(map(str, sorted(tabs))), r))
        for t, coops in sorted(table_coops.items()):
            if len(coops) > 1:
                self.v("table-owner", "-", {"table": t},
                       "table %d is used by cooperantes %s" % (t, ", ".join(sorted(coops))))
        for (g, c), n in sorted(pair_count.items()):
            if n > ev.per_pair:
                self.v("pair-count", "-", {"gad": g, "cooperante": c},
                       "%d meetings of the pair, at most %d" % (n, ev.per_pair))
        return self.violations

    def figures(self):
        ev = self.event
        gads = [p for p in self.parties.values() if p.kind == "gad"]
        per_gad = defaultdict(int)
        deg = defaultdict(int)
        slots = set()
        total = 0
        for slot, table, g, c, score in self.parsed:
            per_gad[g] += 1
            deg[g] += 1
            deg[c] += 1
            slots.add(slot)
            total += score
        with_min = [p for p in gads if p.min > 0]
        below = sorted(p.id for p in with_min if per_gad[p.id] < p.min)
        rules = defaultdict(int)
        for r, _ in self.violations:
            rules[r] += 1
        return {
            "event": ev.id,
            "slots": ev.nslots,
            "tables": ev.tables,
            "meetings": len(self.parsed),
            "total_score": round(total / 100.0, 2),
            "total_score_hundredths": total,
            "slots_used": len(slots),
            "max_slot": max(slots) if slots else 0,
            "max_degree": max(deg.values()) if deg else 0,
            "gads": len(gads),
            "gads_with_meetings": sum(1 for p in gads if per_gad[p.id] > 0),
            "gads_with_minimum": len(with_min),
            "gads_at_minimum": len(with_min) - len(below),
            "gads_below_minimum": below,
            "gini_meetings_per_gad": round(gini([per_gad[p.id] for p in gads]), 4),
            "tables_used": len({t for _, t, _, _, _ in self.parsed}),
            "violations": len(self.violations),
            "violations_by_rule": dict(sorted(rules.items())),
        }


def load(args):
    """Reads the four (five) files; returns a Checker ready to run."""
    ev_rows = read_csv(args.events, EVENT_COLS)
    events = {r["id"]: (line, r) for line, r in ev_rows}
    if args.event is None:
        if len(events) != 1:
            raise InputError("%s: %d events, say which with --event" % (args.events, len(events)))
        args.event = next(iter(events))
    if args.event not in events:
        raise InputError("%s: no event '%s'" % (args.events, args.event))
    line, row = events[args.event]
    event = Event(row, "%s:%d" % (args.events, line))
    if event.per_day == 0:
        raise InputError("%s:%d: no slot fits in a day" % (args.events, line))
    parties = {}
    for line, r in read_csv(args.participants, PARTICIPANT_COLS):
        where = "%s:%d" % (args.participants, line)
        p = Party(r, where, event)
        if p.id in parties:
            raise InputError("%s: party %s twice" % (where, p.id))
        parties[p.id] = p
    cand = defaultdict(dict)
    for line, r in read_csv(args.candidates, CANDIDATE_COLS):
        where = "%s:%d" % (args.candidates, line)
        cand[(r["gad"], r["cooperante"])][(r["demand_id"], r["offer_id"])] = \
            parse_hundredths(r["score"], where)
    meetings = read_csv(args.meetings, MEETING_COLS)
    no_pairs = []
    if args.preferences:
        for line, r in read_csv(args.preferences, ["de", "para", "preferencia"]):
            if r["preferencia"] == "no":
                a, b = r["de"], r["para"]
                no_pairs.append((a, b) if a.isdigit() else (b, a))
    return Checker(event, parties, dict(cand), meetings, no_pairs, args.meetings)


def main(argv=None):
    ap = argparse.ArgumentParser(
        prog="schedule_checker.py",
        description="Checks every hard rule of DESIGN.md section 7 on a rueda's exported CSVs.",
        epilog="Exit status: 0 all rules hold, 1 violations (listed on stderr) or unreadable "
               "input, 2 usage error.")
    ap.add_argument("--events", required=True, help="minga export events")
    ap.add_argument("--participants", required=True, help="minga export participants --event E")
    ap.add_argument("--candidates", required=True, help="minga export candidates --event E")
    ap.add_argument("--meetings", required=True, help="minga export meetings --event E")
    ap.add_argument("--preferences", help="minga export preferences --event E (checks 'no')")
    ap.add_argument("--event", help="the event's id (needed when the events file has several)")
    ap.add_argument("--json", action="store_true", help="print figures as one JSON object")
    ap.add_argument("--max-listed", type=int, default=200,
                    help="list at most this many violations (all are counted); default 200")
    args = ap.parse_args(argv)
    for opt in ("events", "participants", "candidates", "meetings", "preferences"):
        path = getattr(args, opt)
        if path is not None and not os.path.isfile(path):
            print("schedule_checker: usage error: --%s %s: no such file" % (opt, path),
                  file=sys.stderr)
            return 2
    try:
        checker = load(args)
    except InputError as e:
        print("schedule_checker: %s" % e, file=sys.stderr)
        return 1
    violations = checker.run()
    for _, text in violations[:args.max_listed]:
        print("violation: %s" % text, file=sys.stderr)
    if len(violations) > args.max_listed:
        print("... and %d more" % (len(violations) - args.max_listed), file=sys.stderr)
    fig = checker.figures()
    if args.json:
        print(json.dumps(fig, ensure_ascii=False, sort_keys=True))
    if violations:
        print("schedule_checker: %d violation(s) in %d meetings of event %s"
              % (len(violations), fig["meetings"], checker.event.id), file=sys.stderr)
        return 1
    print("schedule_checker: %d meetings of event %s: every rule holds"
          % (fig["meetings"], checker.event.id), file=sys.stderr)
    return 0


if __name__ == "__main__":
    sys.exit(main())
