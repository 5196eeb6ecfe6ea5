#!/usr/bin/env bash
# The Jornada's candidates through the broker: `minga export candidates` is byte-identical
# whether the event is scored in 1, 4 or 64 shards, by 1 or by 3 match workers; a worker
# killed in the middle of a shard (MINGA_MATCH_CRASH_SHARD) has its shard scored again by
# another, with the same candidates; re-scoring with other weights replaces the event's
# candidates whole (ranks 1..n per demand, as many rows as the summary says); a re-score of
# unchanged data writes no candidate (worker log); the commands'
# usage errors and a missing event exit 2 and 1.
source "$(dirname "$0")/test_jobs_lib.bash"

E=jornada-2026
score() { m rueda score "$E" "$@" >"$STORE/score.out" 2>"$STORE/score.err"; }
export_csv() { m export candidates --event "$E" >"$1"; }

m demo >/dev/null 2>&1 || fail "minga demo"
m up --match-workers 1 --test-workers 0 >/dev/null

score --shards 1 || fail "score in 1 shard: $(cat "$STORE/score.err")"
grep -q "candidatos para 1100 demandas" "$STORE/score.out" || fail "summary: $(cat "$STORE/score.out")"
export_csv "$STORE/c1.csv"
rows=$(($(wc -l <"$STORE/c1.csv") - 1))
[ "$rows" -gt 1100 ] || fail "only $rows candidates"
expect_eq "header" "$(head -1 "$STORE/c1.csv")" $'\xef\xbb\xbf'"demand_id;gad;offer_id;cooperante;rank;score;reasons"
# scores with '.' and two decimals; ranks from 1 per demand
awk -F';' 'NR > 1 && $6 !~ /^[0-9]+\.[0-9][0-9]$/ { bad = 1 } END { exit bad }' "$STORE/c1.csv" ||
    fail "a score is not like 87.25"
awk -F';' 'NR > 1 { want = ($1 == last) ? prev + 1 : 1; if ($5 != want) bad = 1; last = $1; prev = $5 }
    END { exit bad }' "$STORE/c1.csv" || fail "ranks are not 1..n per demand"
grep -q "Sector CAD" "$STORE/c1.csv" || fail "no sector reason"

for n in 4 64; do
    score --shards $n || fail "score in $n shards: $(cat "$STORE/score.err")"
    export_csv "$STORE/c.csv"
    cmp -s "$STORE/c1.csv" "$STORE/c.csv" || fail "$n shards by 1 worker differ from 1 shard"
done
# re-scoring unchanged data: the merge finds nothing to write
merged=$(grep 'run merged' "$STORE/log/minga-match-worker-1.log" | tail -n 1)
case "$merged" in
*"0 written, 0 deleted"*) ;;
*) fail "re-score of unchanged data: $merged" ;;
esac

m up --match-workers 3 --test-workers 0 >/dev/null
expect_eq "match workers" "$(m workers --json | grep -c minga-match-worker)" 3
for n in 1 4 64; do
    score --shards $n || fail "score in $n shards by 3 workers: $(cat "$STORE/score.err")"
    export_csv "$STORE/c.csv"
    cmp -s "$STORE/c1.csv" "$STORE/c.csv" || fail "$n shards by 3 workers differ"
done

# JSON export: the same rows
m export candidates --event "$E" --format json >"$STORE/c.json"
expect_eq "json rows" "$(jq length "$STORE/c.json")" "$rows"
expect_eq "json first" "$(jq -r '.[0] | "\(.demand_id);\(.rank)"' "$STORE/c.json")" \
    "$(sed -n 2p "$STORE/c1.csv" | cut -d';' -f1,5)"

# a worker killed mid-shard: the shard is scored again, the candidates are the same
m down --drain-timeout 5 >/dev/null 2>&1
MINGA_MATCH_CRASH_SHARD=2 m up --match-workers 3 --test-workers 0 >/dev/null
m rueda score "$E" --shards 4 --detach >"$STORE/ids"
expect_eq "jobs" "$(wc -l <"$STORE/ids")" 4
for id in $(cat "$STORE/ids"); do
    expect_eq "job $id" "$(m wait "$id")" "$id done"
done
expect_eq "attempts of shard 2" "$(jfield "$(sed -n 3p "$STORE/ids")" .attempts)" 2
export_csv "$STORE/c.csv"
cmp -s "$STORE/c1.csv" "$STORE/c.csv" || fail "candidates differ after a worker was killed"

# other weights replace the whole set
printf 'match\n    k_demand = 2\n    k_offer = 1\n' >"$STORE/match.cfg"
m --config "$STORE/match.cfg" rueda score "$E" --shards 3 >"$STORE/score.out" 2>/dev/null ||
    fail "score with k_demand 2"
export_csv "$STORE/k2.csv"
k2=$(($(wc -l <"$STORE/k2.csv") - 1))
[ "$k2" -lt "$rows" ] || fail "k_demand 2 kept $k2 rows, K 10 kept $rows"
grep -q "^$E: $k2 candidatos" "$STORE/score.out" || fail "summary says: $(cat "$STORE/score.out")"
awk -F';' 'NR > 1 { want = ($1 == last) ? prev + 1 : 1; if ($5 != want) bad = 1; last = $1; prev = $5 }
    END { exit bad }' "$STORE/k2.csv" || fail "stale ranks after re-scoring"

# looking at them
m candidates --event "$E" --gad 0101 >"$STORE/gad.txt" || fail "minga candidates --gad"
grep -q "^Demanda .* GAD 0101 Cuenca" "$STORE/gad.txt" || fail "candidates of Cuenca: $(head -3 "$STORE/gad.txt")"
coop=$(sed -n 2p "$STORE/k2.csv" | cut -d';' -f4)
m candidates --event "$E" --cooperante "$coop" --json | jq -e .score >/dev/null ||
    fail "minga candidates --cooperante --json"

# errors
set +e
m rueda score no-such-event >/dev/null 2>&1
expect_eq "missing event" $? 1
m rueda score >/dev/null 2>&1
expect_eq "no event" $? 2
m export candidates >/dev/null 2>&1
expect_eq "export without --event" $? 2
m candidates --event "$E" >/dev/null 2>&1
expect_eq "candidates without --gad" $? 2
set -e
echo ok
