#!/usr/bin/env bash
# Cancel a queued job and a leased one; cancelling twice is refused; wait on a cancelled job
# exits 1; the worker that held the cancelled job goes on serving.
source "$(dirname "$0")/test_jobs_lib.bash"

up --test-workers 0 >/dev/null
id=$(m submit test.echo --json '{}')
expect_eq "state" "$(jfield "$id" .state)" queued
expect_eq "cancel" "$(m cancel "$id")" "$id cancelled"
rc=0; m wait "$id" >/dev/null 2>&1 || rc=$?
expect_eq "wait on a cancelled job" "$rc" 1
rc=0; m cancel "$id" >/dev/null 2>"$STORE/err" || rc=$?
expect_eq "cancel twice" "$rc" 1
grep -q invalid_state "$STORE/err" || fail "cancel twice: $(cat "$STORE/err")"
rc=0; m cancel 424242 >/dev/null 2>"$STORE/err" || rc=$?
expect_eq "cancel a missing job" "$rc" 1
grep -q not_found "$STORE/err" || fail "cancel missing: $(cat "$STORE/err")"

# a leased job
up --test-workers 1 >/dev/null
id2=$(m submit test.echo --json '{"sleep_ms": 3000}')
wait_state "$id2" leased
expect_eq "cancel leased" "$(m cancel "$id2")" "$id2 cancelled"
sleep 0.2
expect_eq "state stays cancelled" "$(jfield "$id2" .state)" cancelled
id3=$(m submit test.echo --json '{"after": "cancel"}')
expect_eq "next job" "$(m wait "$id3")" "$id3 done"
expect_eq "still cancelled" "$(jfield "$id2" .state)" cancelled
echo ok
