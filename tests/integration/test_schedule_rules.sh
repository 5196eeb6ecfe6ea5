#!/usr/bin/env bash
# Every hard rule of DESIGN.md §7 holds on real schedules: the default Jornada (demo-data,
# scale 1) and a scaled event (scale 2: twice the cooperantes, offers, demands and tables) are
# scored and scheduled by minga through the broker, exported, and judged by the independent
# checker (tests/integration/schedule_checker.py), preferences included ("no" pairs never
# meet). Also: the schedule is not empty, most participating GADs get a meeting, and
# scheduling again the same data gives the same meetings.
source "$(dirname "$0")/test_jobs_lib.bash"

E=jornada-2026
HERE=$(cd "$(dirname "$0")" && pwd)
CHECK=("/usr/bin/python3" "$HERE/schedule_checker.py")

# judge NAME STORE: exports STORE's event and runs the checker; figures in $STORE/NAME.json.
judge() {
    local name=$1 st=$2 d=$STORE/$1
    mkdir -p "$d"
    minga --store "$st" export events --out "$d/events.csv" 2>/dev/null
    for k in participants candidates meetings preferences; do
        minga --store "$st" export "$k" --event "$E" --out "$d/$k.csv" 2>/dev/null ||
            fail "$name: export $k"
    done
    expect_eq "$name: meetings header" "$(head -1 "$d/meetings.csv")" \
        $'\xef\xbb\xbf'"slot;start;end;table;gad;cooperante;demand_id;offer_id;score;status"
    "${CHECK[@]}" --events "$d/events.csv" --event "$E" --participants "$d/participants.csv" \
        --candidates "$d/candidates.csv" --meetings "$d/meetings.csv" \
        --preferences "$d/preferences.csv" --json >"$STORE/$name.json" 2>"$d/check.err" ||
        fail "$name: the checker found violations: $(head -20 "$d/check.err")"
    local meetings gads with
    meetings=$(jq .meetings "$STORE/$name.json")
    gads=$(jq .gads "$STORE/$name.json")
    with=$(jq .gads_with_meetings "$STORE/$name.json")
    [ "$meetings" -gt 0 ] || fail "$name: no meetings"
    [ $((with * 10)) -ge $((gads * 9)) ] || fail "$name: only $with of $gads GADs meet anybody"
    echo "$name: $(jq -c '{meetings, total_score, slots_used, gads_at_minimum, gads_with_minimum, gini_meetings_per_gad}' "$STORE/$name.json")"
}

# load STORE SCALE: demo-data at SCALE imported into STORE, minga up, score and schedule.
load() {
    local st=$1 scale=$2
    minga demo-data --out "$st/demo" --scale "$scale" 2>/dev/null || fail "demo-data --scale $scale"
    minga --store "$st" init >/dev/null 2>&1
    for k in gads cooperantes offers demands events; do
        minga --store "$st" import "$k" "$st/demo/$k.csv" >/dev/null || fail "import $k"
    done
    for k in participants preferences; do
        minga --store "$st" import "$k" "$st/demo/$k.csv" --event "$E" >/dev/null ||
            fail "import $k"
    done
    minga --store "$st" up --match-workers 1 --notify-workers 0 --report-workers 0 \
        --test-workers 0 >/dev/null 2>&1
    minga --store "$st" --timeout 20 rueda score "$E" >/dev/null 2>"$st/x.err" ||
        fail "rueda score (scale $scale): $(tail -5 "$st/x.err")"
    minga --store "$st" --timeout 20 rueda schedule "$E" >"$st/x.out" 2>"$st/x.err" ||
        fail "rueda schedule (scale $scale): $(tail -5 "$st/x.err")"
}

load "$STORE" 1
judge jornada "$STORE"
cp "$STORE/jornada/meetings.csv" "$STORE/first.csv"
minga --store "$STORE" --timeout 20 rueda schedule "$E" >/dev/null 2>"$STORE/again.err" ||
    fail "second rueda schedule: $(tail -5 "$STORE/again.err")"
minga --store "$STORE" export meetings --event "$E" --out "$STORE/again.csv" 2>/dev/null
cmp -s "$STORE/first.csv" "$STORE/again.csv" || fail "the same data scheduled twice differ"

S2=$(mktemp -d /tmp/minga-XXXXXX)
t2_cleanup() {
    minga --store "$S2" down --drain-timeout 5 >/dev/null 2>&1 || true
    rm -rf "$S2"
    t_cleanup
}
trap t2_cleanup EXIT
load "$S2" 2
judge scale2 "$S2"
expect_eq "scale 2 tables" "$(jq .tables "$STORE/scale2.json")" 360
echo "schedule rules: every hard rule holds on the Jornada and on a scale-2 event"
