#!/usr/bin/env bash
# Scale out and drain while a batch runs (DESIGN.md §1, §9; issue 9 item 5): 48 sleeping
# test.echo jobs, each tagged, while a loop starts a new test worker and sends SIGTERM to the
# oldest one every 0.5 s (a third with a 1 s drain time-out, so that long jobs are handed back).
# In the end: every job done, once, with its own result; attempts 1 for each (a hand-back
# does not count); the broker's totals say no lease expired, none failed, and every lease
# but the handed-back ones ended done (leased = jobs + released); each drained worker exited
# 0, or 1 when it handed jobs back; no job stayed leased or queued.
source "$(dirname "$0")/test_jobs_lib.bash"

N=48
WPIDS=()
WDRAIN=()
stop_workers() {
    for p in "${WPIDS[@]}"; do kill -KILL "$p" 2>/dev/null || true; done
    t_cleanup
}
trap stop_workers EXIT

up --test-workers 0 >/dev/null
k=0
# add DRAIN_S: one more worker, capacity 2
add() {
    k=$((k + 1))
    minga-test-worker --store "$STORE" --capacity 2 --name "scale-$k" --drain-timeout "$1" \
        >"$STORE/log/scale-$k.log" 2>&1 &
    WPIDS+=($!)
    WDRAIN+=("$1")
}
add 30
add 1

ids=()
for i in $(seq $N); do
    ms=$((100 + (i * 137) % 800))
    [ $((i % 6)) = 0 ] && ms=1800
    ids+=("$(m submit test.echo --json "{\"sleep_ms\": $ms, \"tag\": \"j$i\"}")")
done

# churn: add one, drain the oldest live one, until the batch is through (at most 14 turns)
first=0
declare -A EXIT
for turn in $(seq 14); do
    if [ $((turn % 3)) = 0 ]; then add 1; else add 30; fi
    victim=${WPIDS[$first]}
    kill -TERM "$victim"
    first=$((first + 1))
    sleep 0.5
    left=$(m stats --json | jq '.queues["test.echo"] | .queued + .leased + .failed')
    [ "$left" = 0 ] && break
done
for i in "${ids[@]}"; do
    m wait "$i" --json >>"$STORE/jobs.json" 2>"$STORE/wait.err" || fail "job $i: $(cat "$STORE/wait.err")"
done

# every drained worker is gone; its exit status says whether it handed jobs back
for ((j = 0; j < first; j++)); do
    p=${WPIDS[$j]}
    rc=0
    timeout 40 tail --pid="$p" -f /dev/null || fail "drained worker $p still runs"
    wait "$p" || rc=$?
    EXIT[$rc]=$((${EXIT[$rc]:-0} + 1))
    [ "$rc" = 0 ] || [ "$rc" = 1 ] || fail "worker scale-$((j + 1)) exited $rc"
    if [ "$rc" = 1 ]; then
        [ "${WDRAIN[$j]}" = 1 ] || fail "worker scale-$((j + 1)) handed back with a 30 s drain"
        grep -q "handed back" "$STORE/log/scale-$((j + 1)).log" || fail "exit 1 without a hand-back"
    fi
done

expect_eq "jobs listed" "$(jq -r .id "$STORE/jobs.json" | sort -u | wc -l)" $N
expect_eq "jobs in the broker's list" "$(m jobs --json --type test.echo --limit 1000 | wc -l)" $N
expect_eq "jobs done" "$(jq -r 'select(.state == "done") | .id' "$STORE/jobs.json" | wc -l)" $N
bad=$(jq -r 'select(.attempts != 1) | "\(.id):\(.attempts)"' "$STORE/jobs.json")
[ -z "$bad" ] || fail "jobs run more than once (id:attempts): $bad"
bad=$(jq -r 'select(.result.tag != ("j" + (.id | tostring))) | .id' "$STORE/jobs.json")
# ids start at 1 and were enqueued in order, so job i carries tag "ji"
[ "${ids[0]}" = 1 ] || fail "first id ${ids[0]}"
[ -z "$bad" ] || fail "jobs with another job's result: $bad"

stats=$(m stats --json)
t() { jq -r ".totals.$1" <<<"$stats"; }
expect_eq "done" "$(t done)" $N
expect_eq "failed" "$(t failed)" 0
expect_eq "expired" "$(t expired)" 0
expect_eq "dead" "$(t dead)" 0
expect_eq "leased = jobs + handed back" "$(t leased)" $((N + $(t released)))
expect_eq "queued or leased left" \
    "$(jq '.queues["test.echo"] | .queued + .leased + .failed + .waiting' <<<"$stats")" 0
echo "ok: $k workers started, $first drained (${EXIT[0]:-0} clean, ${EXIT[1]:-0} after handing back), $(t released) job(s) handed back"
