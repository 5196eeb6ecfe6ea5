#!/usr/bin/env bash
# SIGTERM on a match worker in the middle of a shard (issue 9 item 5), on the demo data at
# scale 6 (6,600 demands: one shard takes about a second). With --drain-timeout 0 the worker
# hands the shard back at once and exits 1: the job is queued again with its attempt not
# counted, another worker scores it (attempts 1), and the candidates equal a calm run. With
# the default drain time-out the worker finishes the shard (done, attempts 1) and exits 0.
source "$(dirname "$0")/test_jobs_lib.bash"

E=jornada-2026
m init >/dev/null
m demo-data --out "$STORE/data" --scale 6 >/dev/null 2>&1
for k in gads cooperantes offers demands events; do
    m import "$k" "$STORE/data/$k.csv" >/dev/null || fail "import $k"
done
for k in participants preferences; do
    m import "$k" "$STORE/data/$k.csv" --event "$E" >/dev/null || fail "import $k"
done
up >/dev/null

# worker NAME DRAIN_S: starts a match worker in the background; its pid in $wpid
worker() {
    minga-match-worker --store "$STORE" --name "$1" --drain-timeout "$2" >"$STORE/log/$1.log" 2>&1 &
    wpid=$!
}
# wait_busy ID: the job is leased and its worker has started on it (progress or a while)
wait_busy() {
    wait_state "$1" leased 20
    sleep 0.15
}

# 1. hand-back mid-shard
worker quick 0
a=$wpid
id=$(m rueda score "$E" --shards 1 --detach)
wait_busy "$id"
kill -TERM "$a"
rc=0; wait "$a" || rc=$?
expect_eq "state of the shard after the hand-back" "$(jfield "$id" .state)" queued
expect_eq "exit status of a worker that handed back" "$rc" 1
grep -q "handed back" "$STORE/log/quick.log" || fail "no hand-back in the worker's log"
expect_eq "attempts after the hand-back" "$(jfield "$id" .attempts)" 0
worker steady 30
b=$wpid
expect_eq "the shard, by another worker" "$(m wait "$id")" "$id done"
expect_eq "attempts" "$(jfield "$id" .attempts)" 1
expect_eq "released" "$(m stats --json | jq .totals.released)" 1
m export candidates --event "$E" >"$STORE/c.handback"
[ "$(wc -l <"$STORE/c.handback")" -gt 6600 ] || fail "too few candidates"

# 2. a graceful drain mid-shard: the shard is finished, not handed back
kill -TERM "$b"
rc=0; wait "$b" || rc=$?
expect_eq "exit status of an idle worker drained" "$rc" 0
worker patient 30
c=$wpid
id2=$(m rueda score "$E" --shards 1 --detach)
wait_busy "$id2"
kill -TERM "$c"
rc=0; wait "$c" || rc=$?
expect_eq "exit status of a worker that finished its shard" "$rc" 0
expect_eq "state" "$(jfield "$id2" .state)" done
expect_eq "attempts" "$(jfield "$id2" .attempts)" 1
expect_eq "released" "$(m stats --json | jq .totals.released)" 1
m export candidates --event "$E" >"$STORE/c.graceful"
cmp -s "$STORE/c.handback" "$STORE/c.graceful" || fail "candidates after a hand-back differ from a finished shard"

# 3. a calm run, no signal
worker calm 30
m rueda score "$E" --shards 1 >/dev/null 2>&1 || fail "calm score"
m export candidates --event "$E" >"$STORE/c.calm"
cmp -s "$STORE/c.handback" "$STORE/c.calm" || fail "candidates after a hand-back differ from a calm run"
kill -TERM "$wpid"
wait "$wpid" || true
echo ok
