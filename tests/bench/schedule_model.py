#!/usr/bin/python3
"""The rueda's scheduling problem as the tests and the benchmark see it, independent of Minga.

Reads an instance from the CSVs `minga export` writes (events, participants, candidates,
optionally preferences) through schedule_checker.py's readers, and offers:

  * exact(): the optimum of DESIGN.md section 7's lexicographic objective (first the most GADs
    at or above their minimum, then the greatest total score) and the optimum of total score
    alone, with SciPy's HiGHS (scipy.optimize.milp), out of Minga's process;
  * realize(): a schedule (slot, table) for a solution of the model, by bipartite edge
    colouring, so that the model's optimum is shown attainable and can be fed to the checker;
  * greedy(): the usual baseline, "for each slot, take the best free pair".

The model (why it is exact for the full problem, slots and tables included):

  Slots are grouped into *blocks*: maximal sets of slots in which exactly the same participants
  are available (with full availability, one block of all slots). Within a block every slot is
  interchangeable. Variables: x[p,b] integer in 0..min(per_pair, |b|), the number of meetings of
  candidate pair p = (gad, cooperante) in block b (only blocks where both are available);
  z[g] binary, GAD g reaches its minimum; y[c] binary, cooperante c takes its R tables
  (only needed when the cooperantes' R's add up to more than the venue's tables).
    per block b:  sum_p∋g x[p,b] <= |b|          (a GAD meets once per slot)
                  sum_p∋c x[p,b] <= R_c |b| y_c  (a cooperante at most R per slot)
    totals:       sum x[p,.] <= per_pair; sum_p∋g x <= max_g; sum_p∋c x <= max_c
    minimum:      min_g z_g <= sum_p∋g x
    tables:       sum_c R_c y_c <= tables
  Objective 1: max sum z. Objective 2: max sum w_p x[p,b] subject to sum z >= objective 1's
  optimum (w_p = the best candidate score of the pair, in hundredths). "Score alone" drops z.
  Any feasible x is a timetable: in block b split each cooperante c into R_c copies whose
  degrees are at most |b| (deal its edges round-robin); the bipartite multigraph GADs x copies
  then has maximum degree <= |b|, and König's theorem colours its edges with |b| colours = the
  block's slots; copy j of c sits at c's j-th own table. Conversely every timetable gives such
  an x. So the model's optimum is the optimum of the full problem.
"""
import os
import sys
import time
from collections import defaultdict

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.join(HERE, "..", "integration"))
import schedule_checker as sc  # noqa: E402


class Instance:
    """One event's scheduling problem."""

    def __init__(self, events, participants, candidates, preferences=None, event=None):
        class A:
            pass
        a = A()
        a.events, a.participants, a.candidates = events, participants, candidates
        a.meetings, a.preferences, a.event = None, preferences, event
        ev_rows = sc.read_csv(events, sc.EVENT_COLS)
        evs = {r["id"]: (line, r) for line, r in ev_rows}
        if event is None:
            if len(evs) != 1:
                raise sc.InputError("%s: %d events, say which" % (events, len(evs)))
            event = next(iter(evs))
        line, row = evs[event]
        self.event = sc.Event(row, "%s:%d" % (events, line))
        self.parties = {}
        for line, r in sc.read_csv(participants, sc.PARTICIPANT_COLS):
            p = sc.Party(r, "%s:%d" % (participants, line), self.event)
            self.parties[p.id] = p
        no = set()
        if preferences:
            for _, r in sc.read_csv(preferences, ["de", "para", "preferencia"]):
                if r["preferencia"] == "no":
                    a_, b_ = r["de"], r["para"]
                    no.add((a_, b_) if a_.isdigit() else (b_, a_))
        best = {}
        for line, r in sc.read_csv(candidates, sc.CANDIDATE_COLS):
            g, c = r["gad"], r["cooperante"]
            if (g, c) in no:
                continue
            gp = self.parties.get(g)
            cp = self.parties.get(c)
            if gp is None or gp.kind != "gad":
                continue
            if cp is None:
                if self.event.attendance_required:
                    continue
                cp = sc.default_party(c, "cooperante", self.event)
                self.parties[c] = cp
            if cp.kind != "cooperante":
                continue
            s = sc.parse_hundredths(r["score"], "%s:%d" % (candidates, line))
            if (g, c) not in best or s > best[(g, c)][0]:
                best[(g, c)] = (s, r["demand_id"], r["offer_id"])
        self.pairs = sorted(best)                      # [(gad, coop)]
        self.weight = [best[p][0] for p in self.pairs]  # hundredths
        self.why = [best[p][1:] for p in self.pairs]    # (demand, offer)
        self.blocks = self._blocks()

    def _blocks(self):
        """Maximal groups of slots with the same available participants, in slot order."""
        ev = self.event
        sig = defaultdict(list)
        limited = sorted(p.id for p in self.parties.values() if p.slots is not None)
        for s in range(1, ev.nslots + 1):
            key = tuple(self.parties[i].available(s) for i in limited)
            sig[key].append(s)
        return sorted(sig.values(), key=lambda b: b[0])

    def gads(self):
        return sorted(p for p in self.parties if self.parties[p].kind == "gad")

    def coops(self):
        return sorted(p for p in self.parties if self.parties[p].kind == "cooperante")


def _model(inst):
    """Variables and constraint rows of the model (see the module's comment)."""
    ev = inst.event
    P = inst.parties
    var = []      # (pair index, block index) for x; then z's; then y's
    ub = []
    for i, (g, c) in enumerate(inst.pairs):
        for bi, blk in enumerate(inst.blocks):
            s0 = blk[0]
            if P[g].available(s0) and P[c].available(s0):
                var.append((i, bi))
                ub.append(min(ev.per_pair, len(blk)))
    nx = len(var)
    gads_min = [g for g in inst.gads() if P[g].min > 0]
    zi = {g: nx + k for k, g in enumerate(gads_min)}
    coops = sorted({c for _, c in inst.pairs})
    need_y = sum(P[c].tables for c in coops) > ev.tables
    yi = {c: nx + len(zi) + k for k, c in enumerate(coops)} if need_y else {}
    nv = nx + len(zi) + len(yi)
    rows = []     # (list of (col, coef), lo, hi)
    by_gb = defaultdict(list)
    by_cb = defaultdict(list)
    by_pair = defaultdict(list)
    by_g = defaultdict(list)
    by_c = defaultdict(list)
    for k, (i, bi) in enumerate(var):
        g, c = inst.pairs[i]
        by_gb[(g, bi)].append(k)
        by_cb[(c, bi)].append(k)
        by_pair[i].append(k)
        by_g[g].append(k)
        by_c[c].append(k)
    inf = float("inf")
    for (g, bi), ks in by_gb.items():
        rows.append(([(k, 1) for k in ks], -inf, len(inst.blocks[bi])))
    for (c, bi), ks in by_cb.items():
        cap = P[c].tables * len(inst.blocks[bi])
        if need_y:
            rows.append(([(k, 1) for k in ks] + [(yi[c], -cap)], -inf, 0))
        else:
            rows.append(([(k, 1) for k in ks], -inf, cap))
    for i, ks in by_pair.items():
        if len(ks) > 1:
            rows.append(([(k, 1) for k in ks], -inf, ev.per_pair))
    for g, ks in by_g.items():
        rows.append(([(k, 1) for k in ks], -inf, P[g].max))
    for c, ks in by_c.items():
        rows.append(([(k, 1) for k in ks], -inf, P[c].max))
    for g in gads_min:
        rows.append(([(k, 1) for k in by_g.get(g, [])] + [(zi[g], -P[g].min)], 0, inf))
    if need_y:
        rows.append(([(yi[c], P[c].tables) for c in coops], -inf, ev.tables))
    ub += [1] * (len(zi) + len(yi))
    return var, nx, zi, yi, nv, rows, ub


def _solve(nv, rows, ub, cost, integral, time_limit, extra=None):
    import numpy as np
    from scipy.optimize import Bounds, LinearConstraint, milp
    from scipy.sparse import csr_matrix
    allrows = rows + (extra or [])
    data, ri, ci, lo, hi = [], [], [], [], []
    for r, (cols, a, b) in enumerate(allrows):
        for col, v in cols:
            data.append(v)
            ri.append(r)
            ci.append(col)
        lo.append(a)
        hi.append(b)
    A = csr_matrix((data, (ri, ci)), shape=(len(allrows), nv))
    opts = {"time_limit": time_limit, "disp": False, "mip_rel_gap": 0.0}
    t0 = time.time()
    res = milp(c=-np.asarray(cost, dtype=float), constraints=LinearConstraint(A, lo, hi),
               integrality=np.ones(nv) if integral else np.zeros(nv),
               bounds=Bounds(np.zeros(nv), np.asarray(ub, dtype=float)), options=opts)
    return res, time.time() - t0


class Solution:
    pass


def _bound(res, integral):
    """The best bound HiGHS has on the maximised objective (None when it has none)."""
    b = getattr(res, "mip_dual_bound", None) if integral else res.fun
    if b is None and res.fun is not None:
        b = res.fun
    return -b if b is not None and b == b else None


def exact(inst, time_limit=120.0, integral=True, score_only_too=True, lex=True, known_z=None):
    """Solves the model. Returns a Solution with: gads_at_min (objective 1), score (objective 2,
    hundredths; None when HiGHS found no solution in time), x (dict pair index -> list of block
    indices, one per meeting), proven (bool), bound (best bound of objective 2), seconds; and,
    when score_only_too, score_only / score_only_bound / score_only_proven (total score alone).
    KNOWN_Z: GADs at their minimum in a schedule already checked; when it is every GAD with a
    minimum, objective 1 needs no solver. LEX false: only the score-alone problem. INTEGRAL
    false: the LP relaxation (bounds only)."""
    var, nx, zi, yi, nv, rows, ub = _model(inst)
    sol = Solution()
    sol.nvars, sol.nrows = nv, len(rows)
    sol.seconds = 0.0
    sol.gads_with_min = len(zi)
    sol.score = sol.bound = None
    sol.proven = sol.proven1 = False
    sol.x = defaultdict(list)
    cost2 = [0.0] * nv
    for k, (i, _) in enumerate(var):
        cost2[k] = float(inst.weight[i])
    if lex:
        cost1 = [0.0] * nv
        for k in zi.values():
            cost1[k] = 1.0
        if not zi:
            z1, sol.proven1 = 0, True
        elif known_z is not None and known_z == len(zi):
            z1, sol.proven1 = known_z, True
        else:
            r1, t1 = _solve(nv, rows, ub, cost1, integral, time_limit)
            sol.seconds += t1
            if r1.x is None:
                raise RuntimeError("HiGHS found no solution for objective 1: %s" % r1.message)
            z1 = int(round(-r1.fun)) if integral else -r1.fun
            sol.proven1 = r1.status == 0
        sol.gads_at_min = z1
        extra = [([(k, 1) for k in zi.values()], z1 if integral else z1 - 1e-6,
                  float("inf"))] if zi else []
        r2, t2 = _solve(nv, rows, ub, cost2, integral, time_limit, extra)
        sol.seconds += t2
        sol.bound = _bound(r2, integral)
        if r2.x is not None:
            sol.score = -r2.fun
            sol.proven = r2.status == 0
            if integral:
                for k, (i, bi) in enumerate(var):
                    sol.x[i] += [bi] * int(round(r2.x[k]))
    if score_only_too or not lex:
        r3, t3 = _solve(nv, rows, ub, cost2, integral, time_limit)
        sol.seconds += t3
        sol.score_only = -r3.fun if r3.x is not None else None
        sol.score_only_proven = r3.status == 0
        sol.score_only_bound = _bound(r3, integral)
    return sol


def _colour(edges, k):
    """Proper edge colouring with K colours of a bipartite multigraph of max degree <= K.
    EDGES: list of (u, v) with u and v from disjoint vertex sets. Returns a colour per edge."""
    at = defaultdict(dict)     # vertex -> colour -> edge index
    col = [None] * len(edges)

    def free(x):
        for a in range(k):
            if a not in at[x]:
                return a
        raise ValueError("degree of %r over %d" % (x, k))

    for e, (u, v) in enumerate(edges):
        u, v = ("L", u), ("R", v)
        a, b = free(u), free(v)
        if a not in at[v]:
            pass
        else:
            # Flip the a/b alternating path that starts at v; it cannot reach u.
            path, x, c = [], v, a
            while c in at[x]:
                f = at[x][c]
                path.append(f)
                fu, fv = ("L", edges[f][0]), ("R", edges[f][1])
                x = fv if fu == x else fu
                c = b if c == a else a
            for f in path:
                fu, fv = ("L", edges[f][0]), ("R", edges[f][1])
                del at[fu][col[f]]
                del at[fv][col[f]]
            for f in path:
                col[f] = b if col[f] == a else a
                fu, fv = ("L", edges[f][0]), ("R", edges[f][1])
                at[fu][col[f]] = f
                at[fv][col[f]] = f
        col[e] = a
        at[u][a] = e
        at[v][a] = e
    return col


def table_plan(inst, coops):
    """Each cooperante's R own tables, numbered from 1 in id order."""
    plan, nxt = {}, 1
    for c in sorted(coops):
        r = inst.parties[c].tables
        plan[c] = list(range(nxt, nxt + r))
        nxt += r
    return plan


def realize(inst, sol):
    """Meetings (slot, table, gad, coop, demand, offer, score) for the model solution SOL."""
    per_block = defaultdict(list)
    for i, blocks in sol.x.items():
        for bi in blocks:
            per_block[bi].append(i)
    coops = {inst.pairs[i][1] for i, bl in sol.x.items() if bl}
    tables = table_plan(inst, coops)
    out = []
    for bi, pis in sorted(per_block.items()):
        blk = inst.blocks[bi]
        deal = defaultdict(int)
        edges = []
        for i in sorted(pis, key=lambda i: inst.pairs[i]):
            g, c = inst.pairs[i]
            j = deal[c] % inst.parties[c].tables
            deal[c] += 1
            edges.append((g, (c, j)))
        cols = _colour(edges, len(blk))
        for (g, (c, j)), a, i in zip(edges, cols, sorted(pis, key=lambda i: inst.pairs[i])):
            out.append((blk[a], tables[c][j], g, c, inst.why[i][0], inst.why[i][1],
                        inst.weight[i]))
    return sorted(out)


def greedy(inst):
    """Baseline: for each slot in order, take the best free pair (highest score first) whose
    GAD and cooperante are available, under their maximum, and free in that slot (the
    cooperante: fewer than R meetings), the pair not met yet. Tables: each cooperante's own."""
    P = inst.parties
    order = sorted(range(len(inst.pairs)), key=lambda i: (-inst.weight[i], inst.pairs[i]))
    count = defaultdict(int)
    met = defaultdict(int)
    coops = {c for _, c in inst.pairs}
    # Tables: cooperantes in order of their best pair until the venue's tables run out.
    best_first = []
    for i in order:
        c = inst.pairs[i][1]
        if c not in best_first:
            best_first.append(c)
    seated, used = [], 0
    for c in best_first:
        if used + P[c].tables <= inst.event.tables:
            seated.append(c)
            used += P[c].tables
    seated = set(seated)
    tables = table_plan(inst, seated)
    out = []
    for s in range(1, inst.event.nslots + 1):
        busy_g = set()
        busy_c = defaultdict(int)
        for i in order:
            g, c = inst.pairs[i]
            if c not in seated or g in busy_g or busy_c[c] >= P[c].tables:
                continue
            if met[i] >= inst.event.per_pair or count[g] >= P[g].max or count[c] >= P[c].max:
                continue
            if not (P[g].available(s) and P[c].available(s)):
                continue
            out.append((s, tables[c][busy_c[c]], g, c, inst.why[i][0], inst.why[i][1],
                        inst.weight[i]))
            busy_g.add(g)
            busy_c[c] += 1
            count[g] += 1
            count[c] += 1
            met[i] += 1
    del coops
    return out


def greedy_pairs(inst):
    """Second baseline: the candidate pairs by decreasing score, each placed in the first slot
    where both parties are available and free (the cooperante: fewer than R meetings), while
    both are under their maximum. Tables as in greedy()."""
    P = inst.parties
    order = sorted(range(len(inst.pairs)), key=lambda i: (-inst.weight[i], inst.pairs[i]))
    seated, used = set(), 0
    for i in order:
        c = inst.pairs[i][1]
        if c not in seated and used + P[c].tables <= inst.event.tables:
            seated.add(c)
            used += P[c].tables
    tables = table_plan(inst, seated)
    count = defaultdict(int)
    busy_g = defaultdict(set)
    busy_c = defaultdict(lambda: defaultdict(int))
    out = []
    for i in order:
        g, c = inst.pairs[i]
        if c not in seated:
            continue
        for _ in range(inst.event.per_pair):
            if count[g] >= P[g].max or count[c] >= P[c].max:
                break
            for s in range(1, inst.event.nslots + 1):
                if s in busy_g[g] or busy_c[c][s] >= P[c].tables:
                    continue
                if P[g].available(s) and P[c].available(s):
                    out.append((s, tables[c][busy_c[c][s]], g, c, inst.why[i][0],
                                inst.why[i][1], inst.weight[i]))
                    busy_g[g].add(s)
                    busy_c[c][s] += 1
                    count[g] += 1
                    count[c] += 1
                    break
            else:
                break
    return out


def write_meetings(path, inst, meetings):
    """Writes MEETINGS as `minga export meetings` does (BOM, ';', status scheduled)."""
    with open(path, "w", encoding="utf-8-sig", newline="") as f:
        f.write(";".join(sc.MEETING_COLS) + "\r\n")
        for slot, table, g, c, d, o, w in sorted(meetings):
            st, en = inst.event.slot_times(slot)
            f.write("%d;%s;%s;%d;%s;%s;%s;%s;%d.%02d;scheduled\r\n"
                    % (slot, st, en, table, g, c, d, o, w // 100, w % 100))


def stats(inst, meetings):
    """Figures of a schedule: total score (hundredths), GADs at min, Gini of meetings per GAD."""
    per_gad = defaultdict(int)
    for m in meetings:
        per_gad[m[2]] += 1
    gads = inst.gads()
    withmin = [g for g in gads if inst.parties[g].min > 0]
    return {
        "meetings": len(meetings),
        "score": sum(m[6] for m in meetings),
        "gads_at_min": sum(1 for g in withmin if per_gad[g] >= inst.parties[g].min),
        "gini": sc.gini([per_gad[g] for g in gads]),
    }
