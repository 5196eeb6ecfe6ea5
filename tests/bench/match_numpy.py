#!/usr/bin/python3
"""match_numpy.py: the NumPy peer of the matching kernel benchmark (match_kernel.sh).

    match_numpy.py DUMP OUT [--demands N]

Reads the prepared arrays that `match_kernel_bench --dump DUMP` wrote (int32: a header, then
26 values per offer, 16 per demand, 3 per preference; layout in match_kernel.c's s_dump) and
scores the same rules vectorised over the offers, one demand against all offers per step,
keeping each demand's top K (score descending, then offer index ascending). Writes OUT for
`match_kernel_bench --compare OUT` (int32: demands, K, then K pairs (score, offer) per demand,
score -1 as padding) and prints one JSON object with the time (the thread's CPU time, as the C driver measures)
and the pairs per second.
"""
import json
import sys
import time

import numpy as np

HEADER = 18
OFFER_FIELDS = 26
DEMAND_FIELDS = 16


def main():
    dump, out = sys.argv[1], sys.argv[2]
    limit = None
    if "--demands" in sys.argv:
        limit = int(sys.argv[sys.argv.index("--demands") + 1])
    raw = np.fromfile(dump, dtype=np.int32)
    (no, nd, npref, w_dac, w_cat, w_comp, w_me, w_mr, w_ah, w_am, w_al, w_ana, w_cof,
     w_cofp, w_must, w_want, sgate, k) = [int(x) for x in raw[:HEADER]]
    at = HEADER
    offers = raw[at:at + no * OFFER_FIELDS].reshape(no, OFFER_FIELDS).view(np.uint32)
    at += no * OFFER_FIELDS
    demands = raw[at:at + nd * DEMAND_FIELDS].reshape(nd, DEMAND_FIELDS)
    at += nd * DEMAND_FIELDS
    prefs = raw[at:at + npref * 3].reshape(npref, 3)
    # structure of arrays, contiguous columns
    odac = np.ascontiguousarray(offers[:, 0:8].T)
    oterr = np.ascontiguousarray(offers[:, 8:15].T)
    ocat, ocomp, omod, ocofreq, ocoop, ofin = (np.ascontiguousarray(offers[:, 15 + i])
                                                for i in range(6))
    amin, amax, ahalf, afifth = (np.ascontiguousarray(offers[:, 21 + i].view(np.int32))
                                 for i in range(4))
    active = offers[:, 25] != 0
    fin = ofin != 0
    cofreq = ocofreq != 0
    prefs_by_canton = {}
    for c, coop, kind in prefs:
        prefs_by_canton.setdefault(int(c), []).append((int(coop), int(kind)))
    nd_run = nd if limit is None else min(nd, limit)
    result = np.full((nd_run, k, 2), -1, dtype=np.int32)
    index = np.arange(no, dtype=np.int64)
    t0 = time.thread_time()
    for d in range(nd_run):
        row = demands[d]
        ddac = row[0:8].view(np.uint32)
        dcat, dcomp, acc, dmod = (np.uint32(row[8 + i] & 0xffffffff) for i in range(4))
        canton, amount, cofr, dconst = (int(row[12 + i]) for i in range(4))
        hd = np.zeros(no, dtype=bool)
        for w in np.flatnonzero(ddac):
            hd |= (odac[w] & ddac[w]) != 0
        hc = (ocat & dcat) != 0
        hp = (ocomp & dcomp) != 0
        sec = np.where(hd, w_dac, np.where(hc, w_cat, np.where(hp, w_comp, 0)))
        ok = (active & ((omod & acc) != 0) &
              ((oterr[canton >> 5] & np.uint32(1 << (canton & 31))) != 0) &
              (amount >= amin) & (amount <= amax))
        if sgate:
            ok &= hd | hc | hp
        mod = np.where((omod & dmod) != 0, w_me, w_mr)
        amt = np.where(fin, np.where(amount >= ahalf, w_ah, np.where(amount >= afifth, w_am,
                                                                      w_al)), w_ana)
        cof = np.where(cofreq, cofr, w_cof)
        score = np.minimum(sec + mod + amt + cof + dconst, 10000)
        for coop, kind in prefs_by_canton.get(canton, ()):
            hit = ocoop == coop
            if kind == 1:
                ok &= ~hit
            else:
                bonus = w_must if kind == 3 else w_want
                score = np.where(hit, np.minimum(score + bonus, 10000), score)
        cand = np.flatnonzero(ok)
        if cand.size:
            s = score[cand]
            if cand.size > k:
                # the K-th best score, then every offer at least that good, sorted exactly
                kth = np.partition(s, cand.size - k)[cand.size - k]
                keep = s >= kth
                cand, s = cand[keep], s[keep]
            order = np.lexsort((index[cand], -s))[:k]
            result[d, :order.size, 0] = s[order]
            result[d, :order.size, 1] = cand[order]
    elapsed = time.thread_time() - t0
    with open(out, "wb") as f:
        np.array([nd_run, k], dtype=np.int32).tofile(f)
        result.tofile(f)
    print(json.dumps({"numpy": np.__version__, "demands": nd_run, "offers": no,
                      "seconds": round(elapsed, 6),
                      "pairs_per_s": round(nd_run * no / elapsed)}))


if __name__ == "__main__":
    main()
