#!/usr/bin/env bash
# SIGTERM to a worker holding a sleeping job: it finishes the job (done, attempt 1), says
# DISCONNECT and leaves; its pid file lock is released.
source "$(dirname "$0")/test_jobs_lib.bash"

up --test-workers 1 >/dev/null
w=$(pid_of minga-test-worker-1)
id=$(m submit test.echo --json '{"sleep_ms": 1500}')
wait_state "$id" leased
kill -TERM "$w"
sleep 0.3
alive "$w" || fail "the worker left without finishing its job"
for _ in $(seq 100); do
    alive "$w" || break
    sleep 0.1
done
alive "$w" && fail "the worker did not leave after its job"
expect_eq "state" "$(jfield "$id" .state)" done
expect_eq "attempts" "$(jfield "$id" .attempts)" 1
grep -q "draining" "$STORE/log/minga-test-worker-1.log" || fail "no drain in the worker log"
for _ in $(seq 30); do
    [ "$(m workers --json | wc -l)" = 0 ] && break
    sleep 0.1
done
expect_eq "workers after the drain" "$(m workers --json | wc -l)" 0

# a job submitted while no worker runs waits, then a new worker does it.
id2=$(m submit test.echo --json '{}')
expect_eq "queued" "$(jfield "$id2" .state)" queued
up --test-workers 1 >/dev/null
expect_eq "done" "$(m wait "$id2")" "$id2 done"

# capacity 3, three sleeping jobs held and two more queued: SIGTERM lets the three finish and
# takes no new one (READY capacity 0); the two stay queued; the worker exits 0. The jobs sleep
# 4 s so that the SIGTERM comes while they run even on a loaded machine under ASan.
m down >/dev/null
up --test-workers 0 >/dev/null
minga-test-worker --store "$STORE" --capacity 3 --name wide >"$STORE/log/wide.log" 2>&1 &
wide=$!
ids=()
for _ in 1 2 3; do ids+=("$(m submit test.echo --json '{"sleep_ms": 4000}')"); done
for i in "${ids[@]}"; do wait_state "$i" leased; done
more1=$(m submit test.echo --json '{}')
more2=$(m submit test.echo --json '{}')
kill -TERM "$wide"
rc=0; wait "$wide" || rc=$?
expect_eq "exit status of a clean drain" "$rc" 0
for i in "${ids[@]}"; do expect_eq "job $i" "$(jfield "$i" .state)" done; done
expect_eq "queued 1 stays" "$(jfield "$more1" .state)" queued
expect_eq "queued 2 stays" "$(jfield "$more2" .state)" queued
expect_eq "attempts of a queued job" "$(jfield "$more2" .attempts)" 0

# the drain time-out: a job longer than it is handed back (RELEASE: attempt not counted).
m down >/dev/null
up --test-workers 0 >/dev/null
minga-test-worker --store "$STORE" --drain-timeout 1 --name slow >"$STORE/log/slow.log" 2>&1 &
slow=$!
id3=$(m submit test.echo --json '{"sleep_ms": 8000}')
wait_state "$id3" leased
kill -TERM "$slow"
rc=0; wait "$slow" || rc=$?
expect_eq "exit status after handing back" "$rc" 1
wait_state "$id3" queued 5
expect_eq "attempts after hand-back" "$(jfield "$id3" .attempts)" 0
echo ok
