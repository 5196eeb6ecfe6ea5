#!/usr/bin/env bash
# Scale out and drain during a whole rueda on the demo data (issue 9 item 5): `minga rueda run
# --detach` in 32 score shards (then schedule, notify, report) while a loop adds a match,
# notify or report worker and sends SIGTERM to the oldest added one every 0.3 s, a third of
# them with a 1 s drain time-out (a match worker mid-shard hands its shard back). In the end
# every job of the batch is done with attempts 1; no lease expired and none failed; leased =
# jobs + handed back; the candidates equal a calm re-score in 1 shard by one worker, and the
# meetings equal a calm re-schedule: a shard handed back mid-way left nothing behind.
source "$(dirname "$0")/test_jobs_lib.bash"

E=jornada-2026
DPIDS=()
stop_workers() {
    for p in "${DPIDS[@]}"; do kill -KILL "$p" 2>/dev/null || true; done
    t_cleanup
}
trap stop_workers EXIT

m init >/dev/null
m demo-data --out "$STORE/data" >/dev/null 2>&1
for k in gads cooperantes offers demands events; do
    m import "$k" "$STORE/data/$k.csv" >/dev/null || fail "import $k"
done
for k in participants preferences; do
    m import "$k" "$STORE/data/$k.csv" --event "$E" >/dev/null || fail "import $k"
done
m up --match-workers 1 --notify-workers 1 --report-workers 1 --test-workers 0 >/dev/null

m rueda run "$E" --shards 32 --detach >"$STORE/ids" 2>"$STORE/run.err" ||
    fail "rueda run --detach: $(cat "$STORE/run.err")"
njobs=$(wc -l <"$STORE/ids")
[ "$njobs" -ge 35 ] || fail "rueda run gave $njobs job ids, want 32 shards + schedule + notify + report"

k=0
families=(match notify report)
add() {
    local fam=${families[$((k % 3))]} drain=30
    k=$((k + 1))
    [ $((k % 3)) = 0 ] && drain=1
    "minga-$fam-worker" --store "$STORE" --name "dyn-$fam-$k" --drain-timeout "$drain" \
        >"$STORE/log/dyn-$k.log" 2>&1 &
    DPIDS+=($!)
}
add
add
add
first=0
for turn in $(seq 40); do
    add
    kill -TERM "${DPIDS[$first]}"
    first=$((first + 1))
    sleep 0.3
    pending=$(m stats --json | jq '[.queues[] | .waiting + .queued + .leased + .failed] | add')
    [ "$pending" = 0 ] && break
done
: >"$STORE/jobs.json"
while read -r id; do
    m wait "$id" --json >>"$STORE/jobs.json" 2>"$STORE/wait.err" || fail "job $id: $(cat "$STORE/wait.err")"
done <"$STORE/ids"
for ((j = 0; j < first; j++)); do
    timeout 40 tail --pid="${DPIDS[$j]}" -f /dev/null || fail "drained worker ${DPIDS[$j]} still runs"
done

expect_eq "jobs done" "$(jq -r 'select(.state == "done") | .id' "$STORE/jobs.json" | wc -l)" "$njobs"
bad=$(jq -r 'select(.attempts != 1) | "\(.id) \(.type): \(.attempts)"' "$STORE/jobs.json")
[ -z "$bad" ] || fail "jobs run more than once (id type: attempts): $bad"
stats=$(m stats --json)
t() { jq -r ".totals.$1" <<<"$stats"; }
expect_eq "failed" "$(t failed)" 0
expect_eq "expired" "$(t expired)" 0
expect_eq "dead" "$(t dead)" 0
expect_eq "leased = jobs + handed back" "$(t leased)" $((njobs + $(t released)))
released=$(t released)

m export candidates --event "$E" >"$STORE/cand.churn"
m export meetings --event "$E" >"$STORE/meet.churn"
[ "$(wc -l <"$STORE/cand.churn")" -gt 1100 ] || fail "too few candidates"
m rueda score "$E" --shards 1 >/dev/null 2>&1 || fail "calm re-score"
m export candidates --event "$E" >"$STORE/cand.calm"
cmp -s "$STORE/cand.churn" "$STORE/cand.calm" || fail "candidates under churn differ from a calm run"
m rueda schedule "$E" >/dev/null 2>&1 || fail "calm re-schedule"
m export meetings --event "$E" >"$STORE/meet.calm"
cmp -s "$STORE/meet.churn" "$STORE/meet.calm" || fail "meetings under churn differ from a calm run"
echo "ok: $njobs jobs, $k workers added, $first drained, $released job(s) handed back"
