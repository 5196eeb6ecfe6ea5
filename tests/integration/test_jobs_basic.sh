#!/usr/bin/env bash
# up -> submit -> wait -> job --json -> jobs -> workers -> stats -> down, on real processes.
source "$(dirname "$0")/test_jobs_lib.bash"

up --test-workers 2 >/dev/null
[ -s "$STORE/run/minga-broker.pid" ] || fail "no broker pid file"
[ -s "$STORE/run/minga-test-worker-1.pid" ] || fail "no pid file for worker 1"
[ -s "$STORE/run/minga-test-worker-2.pid" ] || fail "no pid file for worker 2"
[ -f "$STORE/log/minga-broker.log" ] || fail "no broker log"
expect_eq "run mode" "$(stat -c %a "$STORE/run")" 700

id=$(m submit test.echo --json '{"n": 7, "text": "año", "sleep_ms": 50}')
[[ "$id" =~ ^[0-9]+$ ]] || fail "submit printed '$id', not a job id"
out=$(m wait "$id")
expect_eq "wait output" "$out" "$id done"

j=$(m job "$id" --json)
expect_eq "lines of job --json" "$(printf '%s\n' "$j" | wc -l)" 1
expect_eq "state" "$(jq -r .state <<<"$j")" done
expect_eq "type" "$(jq -r .type <<<"$j")" test.echo
expect_eq "attempts" "$(jq -r .attempts <<<"$j")" 1
expect_eq "priority" "$(jq -r .priority <<<"$j")" 128
expect_eq "parents" "$(jq -c .parents <<<"$j")" "[]"
expect_eq "result" "$(jq -c .result <<<"$j")" '{"n":7,"text":"año","sleep_ms":50}'
expect_eq "error" "$(jq -c .error <<<"$j")" null
for f in id type state attempts priority parents progress result error; do
    jq -e "has(\"$f\")" <<<"$j" >/dev/null || fail "job --json has no field $f"
done

# submit --wait, priority, and the human view.
id2=$(m submit test.echo --priority 3 --json '{"k": 1}' --wait | head -n 1)
expect_eq "priority of job 2" "$(jfield "$id2" .priority)" 3
m job "$id2" | grep -q "estado: *done" || fail "minga job does not show the state"

# jobs: table and JSON lines, filters.
expect_eq "jobs --json lines" "$(m jobs --json | wc -l)" 2
expect_eq "jobs --state done" "$(m jobs --state done --json | jq -r .id | tr '\n' ' ')" "$id $id2 "
expect_eq "jobs --state queued" "$(m jobs --state queued --json | wc -l)" 0
m jobs | grep -q "test.echo" || fail "minga jobs table lacks the job"
expect_eq "jobs --limit 1" "$(m jobs --limit 1 --json | jq -r .id)" "$id"
expect_eq "jobs --type" "$(m jobs --type match.score --json | wc -l)" 0
m jobs --state nonsense >/dev/null 2>&1 && fail "jobs --state nonsense accepted"
rc=0; m jobs --state nonsense >/dev/null 2>&1 || rc=$?
expect_eq "exit status of a usage error" "$rc" 2

# workers and stats.
expect_eq "workers --json lines" "$(m workers --json | wc -l)" 2
m workers --json | jq -e 'select(.types == ["test.echo"]) | .name' | grep -q minga-test-worker ||
    fail "workers --json does not name the test workers"
s=$(m stats --json)
expect_eq "stats lines" "$(printf '%s\n' "$s" | wc -l)" 1
[ "$(jq -r .totals.done <<<"$s")" -ge 2 ] || fail "stats: totals.done < 2: $s"
expect_eq "stats workers" "$(jq -r .workers <<<"$s")" 2
jq -e '.queues["test.echo"]' <<<"$s" >/dev/null || fail "stats has no test.echo queue"
m stats | grep -q "test.echo" || fail "human stats lack the queue"

# a job of an unknown type is refused; a missing job is an error.
rc=0; m submit no.such.type 2>/dev/null || rc=$?
expect_eq "unknown type exit" "$rc" 1
rc=0; m job 999999 2>/dev/null || rc=$?
expect_eq "missing job exit" "$rc" 1

# usage errors exit 2 and name the fault
for args in "submit" "submit test.echo --json {bad" "submit test.echo --priority 300" \
    "submit Bad/Type" "wait" "wait abc" "job" "job 0" "cancel" "retry 1 2" "jobs --limit 0" \
    "workers extra" "stats --bogus"; do
    rc=0
    # shellcheck disable=SC2086
    m $args >/dev/null 2>"$STORE/err" || rc=$?
    expect_eq "exit status of 'minga $args'" "$rc" 2
    grep -q "usage error" "$STORE/err" || fail "'minga $args' says: $(cat "$STORE/err")"
done

m down >/dev/null
ls "$STORE"/run/*.pid >/dev/null 2>&1 && fail "pid files left after down"
rc=0; m --timeout 1 stats >/dev/null 2>"$STORE/err" || rc=$?
expect_eq "stats without a broker" "$rc" 1
grep -q "ipc://" "$STORE/err" || fail "the time-out message does not name the endpoint"
echo ok
