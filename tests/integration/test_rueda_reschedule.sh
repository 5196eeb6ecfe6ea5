#!/usr/bin/env bash
# Late changes: after the Jornada is scheduled, a meeting is cancelled at the venue, another
# is marked held, a cooperante can only stay the first day and a GAD that was not registered
# arrives; the participants are imported again and `minga rueda reschedule` runs. Every meeting
# still valid stays exactly where it was (slot, table, parties, demand, offer, status); the
# cooperante keeps no meeting on the second day and those it loses move to the history and
# show as cancelled in its agenda; the cancelled pair is not put back; the late GAD gets
# meetings in the holes; the independent checker finds every rule kept.
source "$(dirname "$0")/test_jobs_lib.bash"
source "$(dirname "$0")/sched_lib.bash"

E=jornada-2026
HERE=$(cd "$(dirname "$0")" && pwd)
d=$STORE/x
mkdir -p "$d"

sched_setup
m export meetings --event "$E" --out "$d/before.csv" 2>/dev/null
m export participants --event "$E" --out "$d/parts.csv" 2>/dev/null

# the cooperante with the most second-day meetings that also meets on the first day
coop=$(awk -F';' 'NR > 1 && $1 > 24 { two[$6]++ } NR > 1 && $1 <= 24 { one[$6] = 1 }
    END { for (c in two) if (c in one) print two[c], c }' "$d/before.csv" | sort -k1,1nr -k2 |
    head -1 | cut -d' ' -f2)
[ -n "$coop" ] || fail "no cooperante with meetings on both days"
# the meeting to cancel and the one marked held: first-day meetings of other cooperantes
read -r cs ct cg cc < <(awk -F';' -v c="$coop" 'NR > 1 && $6 != c && $1 <= 24 { print $1, $4, $5, $6; exit }' "$d/before.csv")
read -r hs ht < <(awk -F';' -v c="$coop" -v cs="$cs" -v ct="$ct" 'NR > 1 && $6 != c && !($1 == cs && $4 == ct) { n++; if (n == 10) { print $1, $4; exit } }' "$d/before.csv")
m meeting cancel --event "$E" --slot "$cs" --table "$ct" >/dev/null || fail "cancel"
m meeting held --event "$E" --slot "$hs" --table "$ht" >/dev/null || fail "held"

# the cooperante only the first day; a GAD that was not registered arrives
# the unregistered GAD with candidates of the most cooperantes
m export candidates --event "$E" --out "$d/cands.csv" 2>/dev/null
late=$(join -v1 <(awk -F';' 'NR > 1 { print $2 ";" $4 }' "$d/cands.csv" | sort -u | cut -d';' -f1 |
    uniq -c | awk '{ print $2, $1 }' | sort) <(awk -F';' 'NR > 1 { print $1 }' "$d/parts.csv" | sort) |
    sort -k2,2nr -k1,1 | head -1 | cut -d' ' -f1)
[ -n "$late" ] || fail "no unregistered GAD with candidates"
awk -F';' -v OFS=';' -v c="$coop" 'NR > 1 && $1 == c { $6 = "1-24" } { print }' "$d/parts.csv" >"$d/parts2.csv"
printf '%s;gad;2;8;;;\n' "$late" >>"$d/parts2.csv"
m import participants "$d/parts2.csv" --event "$E" >/dev/null || fail "import participants"

m rueda reschedule "$E" >"$d/resched.out" 2>"$d/resched.err" || fail "reschedule: $(cat "$d/resched.err")"
grep -q "Reprogramación: .* reuniones se mantienen" "$d/resched.out" || fail "summary: $(cat "$d/resched.out")"
m export meetings --event "$E" --out "$d/after.csv" 2>/dev/null

# every valid meeting of before is in after, identical (the held one with status held)
awk -F';' -v OFS=';' -v c="$coop" -v cs="$cs" -v ct="$ct" -v hs="$hs" -v ht="$ht" \
    'NR > 1 && !($6 == c && $1 > 24) && !($1 == cs && $4 == ct) {
        if ($1 == hs && $4 == ht) $10 = "held"; print }' "$d/before.csv" | sort >"$d/valid.txt"
kept=$(wc -l <"$d/valid.txt")
missing=$(comm -23 "$d/valid.txt" <(tail -n +2 "$d/after.csv" | sort) | wc -l)
expect_eq "valid meetings moved or lost" "$missing" 0
expect_eq "kept in summary" "$(sed -n 's/.*Reprogramación: *\([0-9]*\) reuniones se mantienen.*/\1/p' "$d/resched.out")" "$kept"
dropped=$(awk -F';' -v c="$coop" 'NR > 1 && $6 == c && $1 > 24' "$d/before.csv" | wc -l)
[ "$dropped" -gt 0 ] || fail "the cooperante had no second-day meeting"
expect_eq "second-day meetings of $coop" "$(awk -F';' -v c="$coop" 'NR > 1 && $6 == c && $1 > 24' "$d/after.csv" | wc -l)" 0
expect_eq "cancelled pair back" "$(awk -F';' -v g="$cg" -v c="$cc" 'NR > 1 && $5 == g && $6 == c' "$d/after.csv" | wc -l)" 0
[ "$(awk -F';' -v g="$late" 'NR > 1 && $5 == g' "$d/after.csv" | wc -l)" -ge 2 ] ||
    fail "late GAD $late got fewer than 2 meetings: $(cat "$d/resched.out")"
m agenda --event "$E" --party "$coop" >"$d/agenda.txt"
expect_eq "cancelled in agenda of $coop" "$(grep -c '\[CANCELADA\]' "$d/agenda.txt")" "$dropped"
m agenda --event "$E" --party "$cg" | grep -q "\[CANCELADA\]" || fail "cancelled meeting not in the agenda of $cg"

if [ -f "$HERE/schedule_checker.py" ]; then
    m export events --out "$d/events.csv" 2>/dev/null
    for k in participants candidates preferences; do
        m export "$k" --event "$E" --out "$d/$k.csv" 2>/dev/null
    done
    /usr/bin/python3 "$HERE/schedule_checker.py" --events "$d/events.csv" --event "$E" \
        --participants "$d/participants.csv" --candidates "$d/candidates.csv" \
        --meetings "$d/after.csv" --preferences "$d/preferences.csv" >/dev/null \
        2>"$d/check.err" || fail "checker: $(head -20 "$d/check.err")"
fi
echo "ok: $kept kept, $dropped dropped, late GAD $late scheduled"
