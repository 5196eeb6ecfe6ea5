#!/usr/bin/env bash
# The README's main command ends with the schedule: `minga demo` runs `minga rueda run`
# (score shards, then match.schedule, one batch with dependencies) and prints the Spanish
# schedule summary; the meetings export has the columns of issue 6, in slot then table order,
# and the independent checker finds every hard rule kept; the JSON export holds the same rows;
# the agenda of a GAD and of a cooperante read in Spanish (accents, day names, reasons); a
# party with no meeting says so; usage errors exit 2, a missing event or party exits 1;
# `rueda run --detach` prints one job id per job, the schedule's job waiting for its parents.
source "$(dirname "$0")/test_jobs_lib.bash"

E=jornada-2026
HERE=$(cd "$(dirname "$0")" && pwd)

m demo >"$STORE/demo.out" 2>"$STORE/demo.err" || fail "minga demo: $(tail -5 "$STORE/demo.err")"
iconv -f UTF-8 -t UTF-8 "$STORE/demo.out" >/dev/null 2>&1 || fail "demo: stdout is not valid UTF-8"
iconv -f UTF-8 -t UTF-8 "$STORE/demo.err" >/dev/null 2>&1 || fail "demo: stderr is not valid UTF-8"
grep -q "^Cronograma de la rueda $E (revisión 1):" "$STORE/demo.out" ||
    fail "demo: no schedule summary: $(tail -20 "$STORE/demo.out")"
grep -q "GAD con su mínimo: " "$STORE/demo.out" || fail "demo: no GADs at minimum line"
grep -q "Reuniones: " "$STORE/demo.out" || fail "demo: no meetings line"
grep -q "Optimalidad: *demostrada" "$STORE/demo.out" ||
    fail "demo: the Jornada's schedule not proven optimal"
grep -q "etapa 2/[0-9]* cronograma" "$STORE/demo.err" || fail "demo: no schedule stage progress"
# the schedule summary closes the rueda's output (later stages, notify and report, follow it)
grep -q "^Véalo con: minga export meetings --event $E" "$STORE/demo.out" ||
    fail "demo: no pointer to the meetings: $(tail -3 "$STORE/demo.out")"

d=$STORE/x
mkdir -p "$d"
m export events --out "$d/events.csv" 2>/dev/null
for k in participants candidates meetings preferences; do
    m export "$k" --event "$E" --out "$d/$k.csv" 2>/dev/null || fail "export $k"
done
expect_eq "meetings header" "$(head -1 "$d/meetings.csv")" \
    $'\xef\xbb\xbf'"slot;start;end;table;gad;cooperante;demand_id;offer_id;score;status"
rows=$(($(wc -l <"$d/meetings.csv") - 1))
[ "$rows" -gt 1000 ] || fail "only $rows meetings"
grep -q "^Cronograma.*" "$STORE/demo.out"
summary_rows=$(sed -n 's/^  Reuniones: *\([0-9]*\),.*/\1/p' "$STORE/demo.out")
expect_eq "summary meetings = export rows" "$summary_rows" "$rows"
# first slot: 09:00-09:20 of the first day, with the offset
expect_eq "slot 1 times" "$(awk -F';' 'NR == 2 { print $1 ";" $2 ";" $3 }' "$d/meetings.csv")" \
    "1;2026-11-12T09:00:00-05:00;2026-11-12T09:20:00-05:00"
# slot 25 is the first slot of the second day
if grep -q '^25;' "$d/meetings.csv"; then
    expect_eq "slot 25 start" "$(grep -m1 '^25;' "$d/meetings.csv" | cut -d';' -f2)" \
        "2026-11-13T09:00:00-05:00"
fi
awk -F';' 'NR > 1 && ($9 !~ /^[0-9]+\.[0-9][0-9]$/ || $10 != "scheduled") { bad = 1 } END { exit bad }' \
    "$d/meetings.csv" || fail "a score or status is malformed"

if [ -f "$HERE/schedule_checker.py" ]; then
    /usr/bin/python3 "$HERE/schedule_checker.py" --events "$d/events.csv" --event "$E" \
        --participants "$d/participants.csv" --candidates "$d/candidates.csv" \
        --meetings "$d/meetings.csv" --preferences "$d/preferences.csv" --json \
        >"$d/check.json" 2>"$d/check.err" || fail "checker: $(head -20 "$d/check.err")"
    expect_eq "checker meetings" "$(jq .meetings "$d/check.json")" "$rows"
fi

m export meetings --event "$E" --format json >"$d/meetings.json"
expect_eq "json rows" "$(jq length "$d/meetings.json")" "$rows"
expect_eq "json first" "$(jq -r '.[0] | "\(.slot);\(.table);\(.gad);\(.cooperante);\(.score * 100 | round)"' "$d/meetings.json")" \
    "$(awk -F';' 'NR == 2 { sub(/\./, "", $9); print $1 ";" $4 ";" $5 ";" $6 ";" $9 + 0 }' "$d/meetings.csv")"

# agendas: a GAD with meetings, a cooperante, a participant with none
gad=$(awk -F';' 'NR == 2 { print $5 }' "$d/meetings.csv")
coop=$(awk -F';' 'NR == 2 { print $6 }' "$d/meetings.csv")
m agenda --event "$E" --party "$gad" >"$d/agenda.txt" || fail "agenda of $gad"
grep -q "^Agenda de GAD municipal de .* (código $gad, provincia de " "$d/agenda.txt" ||
    fail "agenda title: $(head -2 "$d/agenda.txt")"
grep -q "^jueves 12 de noviembre de 2026$" "$d/agenda.txt" || fail "no day heading"
grep -q "  09:00–09:20  mesa " "$d/agenda.txt" || fail "no 09:00 meeting"
grep -q "Por qué se reúnen (afinidad " "$d/agenda.txt" || fail "no reasons"
grep -q "– Sector CAD\|– Misma categoría\|– Competencia" "$d/agenda.txt" || fail "no sector reason"
n_gad=$(awk -F';' -v g="$gad" 'NR > 1 && $5 == g' "$d/meetings.csv" | wc -l)
grep -q "^$n_gad reuniones\?" "$d/agenda.txt" || fail "agenda count, want $n_gad: $(sed -n 4p "$d/agenda.txt")"
m agenda --event "$E" --party "$coop" >"$d/agenda2.txt" || fail "agenda of $coop"
grep -q "(cooperante $coop)" "$d/agenda2.txt" || fail "cooperante agenda title"
grep -q "GAD de .* (código $gad, provincia de " "$d/agenda2.txt" || fail "counterpart GAD"
m agenda --event "$E" --party "$gad" --json >"$d/agenda.json"
expect_eq "agenda json meetings" "$(jq '.meetings | length' "$d/agenda.json")" "$n_gad"
idle=$(comm -23 <(awk -F';' 'NR > 1 { print $1 }' "$d/participants.csv" | sort) \
    <(awk -F';' 'NR > 1 { print $5; print $6 }' "$d/meetings.csv" | sort -u) | head -1)
if [ -n "$idle" ]; then
    m agenda --event "$E" --party "$idle" >"$d/idle.txt"
    grep -q "no tiene reuniones programadas en este evento." "$d/idle.txt" ||
        fail "idle party $idle: $(cat "$d/idle.txt")"
fi

# errors
set +e
m agenda --event "$E" >/dev/null 2>&1
expect_eq "agenda without party" $? 2
m agenda --event nope --party 0101 >/dev/null 2>&1
expect_eq "agenda of a missing event" $? 1
m export meetings >/dev/null 2>&1
expect_eq "export meetings without event" $? 2
m rueda schedule >/dev/null 2>&1
expect_eq "schedule without event" $? 2
m rueda schedule "$E" --method best >/dev/null 2>&1
expect_eq "schedule with a bad method" $? 2
m up --match-workers 1 --notify-workers 0 --report-workers 0 --test-workers 0 >/dev/null 2>&1
m rueda schedule nope >/dev/null 2>&1
expect_eq "schedule a missing event" $? 1
set -e

# run --detach: 8 score shards and the schedule, which waits for them
m rueda run "$E" --detach >"$d/ids" || fail "run --detach"
[ "$(wc -l <"$d/ids")" -ge 9 ] || fail "run --detach: $(wc -l <"$d/ids") jobs"
sched=$(sed -n 9p "$d/ids")
expect_eq "schedule job type" "$(jfield "$sched" .type)" "match.schedule"
expect_eq "schedule parents" "$(jfield "$sched" '.parents | length')" 8
# notify and report both wait for the schedule alone (DESIGN.md §4), not for each other
for k in 10 11; do
    j=$(sed -n ${k}p "$d/ids")
    [ -n "$j" ] || fail "run --detach: no job $k"
    expect_eq "parents of job $k ($(jfield "$j" .type))" "$(jfield "$j" '.parents | map(tostring) | join(",")')" "$sched"
done
expect_eq "schedule job" "$(m wait "$sched")" "$sched done"
expect_eq "revision" "$(jfield "$sched" .result.revision)" 2
expect_eq "same meetings" "$(jfield "$sched" .result.meetings)" "$rows"
m export meetings --event "$E" --out "$d/meetings2.csv" 2>/dev/null
cmp -s "$d/meetings.csv" "$d/meetings2.csv" || fail "scheduling the same data again changed the meetings"
echo "ok: $rows meetings"
