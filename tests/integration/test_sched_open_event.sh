#!/usr/bin/env bash
# An event that does not require attendance (asistencia_requerida = no): the cooperantes that
# did not register are matched too, and the schedule gives them meetings (one table each,
# every slot, the event's maximum); the checker tolerates them only because attendance is not
# required, and finds every rule kept; `minga agenda` of such a cooperante works and says it
# is not registered through its counts.
source "$(dirname "$0")/test_jobs_lib.bash"
source "$(dirname "$0")/sched_lib.bash"

E=jornada-2026
HERE=$(cd "$(dirname "$0")" && pwd)
d=$STORE/x
mkdir -p "$d"
sched_setup
m export events --out "$d/ev.csv" 2>/dev/null
col=$(head -1 "$d/ev.csv" | tr ';' '\n' | grep -n '^asistencia_requerida$' | cut -d: -f1)
[ -n "$col" ] || fail "no asistencia_requerida column"
awk -F';' -v OFS=';' -v c="$col" 'NR > 1 { $c = "no" } { print }' "$d/ev.csv" >"$d/ev2.csv"
m import events "$d/ev2.csv" >/dev/null || fail "import events"
m rueda score "$E" >/dev/null 2>"$d/run.err" || fail "rueda score: $(tail -5 "$d/run.err")"
m rueda schedule "$E" >"$d/run.out" 2>"$d/run.err" || fail "rueda schedule: $(tail -5 "$d/run.err")"
grep -q "^Cronograma de la rueda" "$d/run.out" || fail "no summary"
for k in participants candidates meetings preferences; do
    m export "$k" --event "$E" --out "$d/$k.csv" 2>/dev/null
done
m export events --out "$d/events.csv" 2>/dev/null
outsider=$(join -v1 <(awk -F';' 'NR > 1 { print $6 }' "$d/meetings.csv" | sort -u) \
    <(awk -F';' 'NR > 1 { print $1 }' "$d/participants.csv" | sort) | head -1)
[ -n "$outsider" ] || fail "no unregistered cooperante got a meeting"
# one table each: an unregistered cooperante never has two meetings in one slot
expect_eq "outsider twice in a slot" "$(awk -F';' -v c="$outsider" 'NR > 1 && $6 == c { print $1 }' "$d/meetings.csv" | sort | uniq -d | wc -l)" 0
/usr/bin/python3 "$HERE/schedule_checker.py" --events "$d/events.csv" --event "$E" \
    --participants "$d/participants.csv" --candidates "$d/candidates.csv" \
    --meetings "$d/meetings.csv" --preferences "$d/preferences.csv" >/dev/null 2>"$d/check.err" ||
    fail "checker: $(head -20 "$d/check.err")"
m agenda --event "$E" --party "$outsider" >"$d/agenda.txt" || fail "agenda of $outsider"
grep -q "(cooperante $outsider)" "$d/agenda.txt" || fail "agenda title"
echo "ok: $outsider"
