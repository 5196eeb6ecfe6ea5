#!/usr/bin/env bash
# kill -9 of the broker while a worker holds a job: `minga up` starts a new broker (and nothing
# else: the worker still runs), the worker notices, registers again, and the recovered job is
# done with its attempts showing the lost lease; queued jobs survive too; a `minga wait` that
# was waiting across the restart ends well.
source "$(dirname "$0")/test_jobs_lib.bash"

up --test-workers 1 >/dev/null
w=$(pid_of minga-test-worker-1)
b=$(pid_of minga-broker)
id=$(m submit test.echo --json '{"sleep_ms": 1500}')
wait_state "$id" leased
q1=$(m submit test.echo --json '{"n": 1}')
q2=$(m submit test.echo --json '{"n": 2}')
m wait "$id" >"$STORE/waited" 2>/dev/null &
waiter=$!
sleep 0.3
kill -9 "$b"
wait_unlocked minga-broker
out=$(up --test-workers 1)
expect_eq "only the broker restarts" "$(grep -c iniciado <<<"$out")" 1
grep -q "^minga-broker iniciado" <<<"$out" || fail "the broker was not restarted: $out"
expect_eq "same worker" "$(pid_of minga-test-worker-1)" "$w"

expect_eq "recovered job" "$(m wait "$id")" "$id done"
[ "$(jfield "$id" .attempts)" -ge 2 ] || fail "attempts after the lost lease: $(jfield "$id" .attempts)"
expect_eq "queued job 1" "$(m wait "$q1")" "$q1 done"
expect_eq "queued job 2" "$(m wait "$q2")" "$q2 done"
expect_eq "result" "$(jfield "$q2" .result.n)" 2
for _ in $(seq 50); do
    [ "$(m workers --json | wc -l)" = 1 ] && break
    sleep 0.1
done
expect_eq "the worker registered again" "$(m workers --json | jq -r .name | cut -d@ -f1)" \
    minga-test-worker-1
# a `minga wait` that was waiting when the broker died asks the new broker again
rc=0; wait "$waiter" || rc=$?
expect_eq "exit status of the wait across the restart" "$rc" 0
expect_eq "its output" "$(cat "$STORE/waited")" "$id done"
echo ok
