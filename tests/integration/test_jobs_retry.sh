#!/usr/bin/env bash
# A job that fails for good ends dead (wait exits 1); `minga retry` runs it again from
# attempt 1; a cancelled job retried runs to done; retrying a done job is refused.
source "$(dirname "$0")/test_jobs_lib.bash"

up --test-workers 1 >/dev/null
id=$(m submit test.echo --json '{"fail": "fatal"}')
rc=0; m wait "$id" >/dev/null 2>"$STORE/err" || rc=$?
expect_eq "wait on a dead job" "$rc" 1
grep -q "dead" "$STORE/err" || fail "wait does not say the job is dead"
expect_eq "state" "$(jfield "$id" .state)" dead
expect_eq "error code" "$(jfield "$id" .error.code)" test_fatal

out=$(m retry "$id")
[[ "$out" =~ ^$id\ (queued|waiting|leased)$ ]] || fail "retry printed '$out'"
rc=0; m wait "$id" >/dev/null 2>&1 || rc=$?
expect_eq "wait after retry" "$rc" 1
expect_eq "attempts after retry" "$(jfield "$id" .attempts)" 1
[ "$(m stats --json | jq -r .totals.dead)" -ge 2 ] || fail "the retried job did not run again"

# retryable failures use up max attempts, then dead.
id2=$(m submit test.echo --max-attempts 2 --json '{"fail": "retry"}')
rc=0; m wait "$id2" >/dev/null 2>&1 || rc=$?
expect_eq "wait on exhausted retries" "$rc" 1
expect_eq "attempts" "$(jfield "$id2" .attempts)" 2
expect_eq "error" "$(jfield "$id2" .error.code)" test_retry

# fail on the first attempt only: the retry succeeds.
id3=$(m submit test.echo --json '{"fail": "retry", "times": 1}')
m wait "$id3" >/dev/null
expect_eq "attempts of a job that failed once" "$(jfield "$id3" .attempts)" 2

# a done job cannot be retried.
rc=0; m retry "$id3" >/dev/null 2>"$STORE/err" || rc=$?
expect_eq "retry of a done job" "$rc" 1
grep -q "invalid_state" "$STORE/err" || fail "retry of a done job: $(cat "$STORE/err")"

# cancelled while queued (no worker for it), retried, then done once a worker is there.
m down >/dev/null
up --test-workers 0 >/dev/null
id4=$(m submit test.echo --json '{}')
expect_eq "cancel" "$(m cancel "$id4")" "$id4 cancelled"
m retry "$id4" >/dev/null
expect_eq "state after retry" "$(jfield "$id4" .state)" queued
up --test-workers 1 >/dev/null
expect_eq "wait" "$(m wait "$id4")" "$id4 done"
rc=0; m retry 2>/dev/null || rc=$?
expect_eq "retry without id" "$rc" 2
echo ok
