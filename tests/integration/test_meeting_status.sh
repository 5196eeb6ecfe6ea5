#!/usr/bin/env bash
# `minga meeting held|noshow|cancel|scheduled --event E --slot N --table T` on a scheduled
# Jornada: the status column of `minga export meetings` follows (scheduled, held, noshow); a
# cancelled meeting leaves the export (its slot and table free), shows as cancelled in both
# parties' agendas and cannot be changed again; the timetable's revision grows with each
# change; a slot or table without a meeting exits 1, bad arguments exit 2.
source "$(dirname "$0")/test_jobs_lib.bash"
source "$(dirname "$0")/sched_lib.bash"

E=jornada-2026
d=$STORE/x
mkdir -p "$d"
sched_setup
m export meetings --event "$E" --out "$d/m0.csv" 2>/dev/null
rows=$(($(wc -l <"$d/m0.csv") - 1))
row() { awk -F';' -v n="$1" 'NR == n + 1 { print $1, $4, $5, $6 }' "$d/m0.csv"; }
read -r s1 t1 _ _ < <(row 1)
read -r s2 t2 _ _ < <(row 2)
read -r s3 t3 g3 c3 < <(row 3)
status_of() { m export meetings --event "$E" | awk -F';' -v s="$1" -v t="$2" '$1 == s && $4 == t { print $10 }'; }

m meeting held --event "$E" --slot "$s1" --table "$t1" >"$d/out" || fail "held"
grep -q "marcada como realizada" "$d/out" || fail "held message: $(cat "$d/out")"
expect_eq "held" "$(status_of "$s1" "$t1")" held
m meeting noshow --event "$E" --slot "$s2" --table "$t2" >/dev/null || fail "noshow"
expect_eq "noshow" "$(status_of "$s2" "$t2")" noshow
m meeting scheduled --event "$E" --slot "$s2" --table "$t2" >/dev/null || fail "back to scheduled"
expect_eq "scheduled again" "$(status_of "$s2" "$t2")" scheduled
m meeting cancel --event "$E" --slot "$s3" --table "$t3" >"$d/out" || fail "cancel"
grep -q "cancelada" "$d/out" || fail "cancel message: $(cat "$d/out")"
expect_eq "cancelled meeting gone" "$(status_of "$s3" "$t3")" ""
expect_eq "rows after cancel" "$(($(m export meetings --event "$E" | wc -l) - 1))" "$((rows - 1))"
for p in "$g3" "$c3"; do
    m agenda --event "$E" --party "$p" >"$d/agenda.txt"
    grep -q "^Reuniones canceladas:" "$d/agenda.txt" || fail "agenda of $p: no cancelled section"
    grep -q "\[CANCELADA\]" "$d/agenda.txt" || fail "agenda of $p: not marked"
done
m agenda --event "$E" --party "$g3" --json | jq -e --arg c "$c3" \
    '.cancelled | map(select(.counterpart == $c and .status == "cancelled")) | length == 1' >/dev/null ||
    fail "agenda json: cancelled meeting missing"
expect_eq "revision" "$(m agenda --event "$E" --party "$g3" --json | jq .revision)" 5

set +e
m meeting held --event "$E" --slot "$s3" --table "$t3" >/dev/null 2>"$d/err"
expect_eq "held on a cancelled meeting" $? 1
grep -q "has no meeting in slot $s3 at table $t3" "$d/err" || fail "message: $(cat "$d/err")"
m meeting cancel --event "$E" --slot "$s3" --table "$t3" >/dev/null 2>&1
expect_eq "cancel twice" $? 1
m meeting held --event "$E" --slot 0 --table 1 >/dev/null 2>&1
expect_eq "slot 0" $? 2
m meeting held --event "$E" --slot 1 >/dev/null 2>&1
expect_eq "no table" $? 2
m meeting postpone --event "$E" --slot 1 --table 1 >/dev/null 2>&1
expect_eq "unknown action" $? 2
m meeting held --event nope --slot 1 --table 1 >/dev/null 2>&1
expect_eq "missing event" $? 1
set -e
echo "ok"
