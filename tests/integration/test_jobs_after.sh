#!/usr/bin/env bash
# --after: a child waits for its parents, runs after them; a dead parent makes the child
# dead (parent_dead); a cancelled parent cancels the child.
source "$(dirname "$0")/test_jobs_lib.bash"

up --test-workers 2 >/dev/null
a=$(m submit test.echo --json '{"sleep_ms": 3000}') # long enough to see the child wait, even under ASan
b=$(m submit test.echo --json '{"sleep_ms": 100}')
c=$(m submit test.echo --after "$a" "$b" --json '{"child": true}')
expect_eq "child waits" "$(jfield "$c" .state)" waiting
expect_eq "parents" "$(jfield "$c" '.parents | map(tostring) | join(",")')" "$a,$b"
m wait "$c" >/dev/null
ta=$(jfield "$a" .finished_at)
tc=$(jfield "$c" .updated_at)
[ "$tc" -ge "$ta" ] || fail "child finished before its parent ($tc < $ta)"

# comma form, and a parent already done
d=$(m submit test.echo --after "$a,$b" --json '{}')
m wait "$d" >/dev/null

# a dead parent
p=$(m submit test.echo --json '{"sleep_ms": 300, "fail": "fatal"}')
k=$(m submit test.echo --after "$p" --json '{}')
g=$(m submit test.echo --after "$k" --json '{}')
rc=0; m wait "$k" >/dev/null 2>&1 || rc=$?
expect_eq "wait on a child of a dead parent" "$rc" 1
expect_eq "child state" "$(jfield "$k" .state)" dead
expect_eq "child error" "$(jfield "$k" .error.code)" parent_dead
wait_state "$g" dead 5

# a cancelled parent
m down >/dev/null
up --test-workers 0 >/dev/null
q=$(m submit test.echo --json '{}')
r=$(m submit test.echo --after "$q" --json '{}')
m cancel "$q" >/dev/null
wait_state "$r" cancelled 5

rc=0; m submit test.echo --after 999999 2>/dev/null || rc=$?
expect_eq "a parent that does not exist" "$rc" 1
rc=0; m submit test.echo --after x 2>/dev/null || rc=$?
expect_eq "a bad parent id" "$rc" 2
echo ok
