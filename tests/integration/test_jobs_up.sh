#!/usr/bin/env bash
# `minga up` twice starts nothing new; a second broker on the same store exits 1; `minga down`
# stops everything and removes the pid files; usage errors exit 2.
source "$(dirname "$0")/test_jobs_lib.bash"

up --test-workers 2 >/dev/null
b=$(pid_of minga-broker)
w1=$(pid_of minga-test-worker-1)
w2=$(pid_of minga-test-worker-2)
out=$(up --test-workers 2)
expect_eq "second up starts nothing" "$(grep -c iniciado <<<"$out" || true)" 0
expect_eq "broker pid" "$(pid_of minga-broker)" "$b"
expect_eq "worker 1 pid" "$(pid_of minga-test-worker-1)" "$w1"
expect_eq "worker 2 pid" "$(pid_of minga-test-worker-2)" "$w2"

# one more worker
out=$(up --test-workers 3)
expect_eq "third worker" "$(grep -c iniciado <<<"$out")" 1
[ -s "$STORE/run/minga-test-worker-3.pid" ] || fail "no pid file for worker 3"

# a second broker on the same store
rc=0; timeout 10 minga-broker --store "$STORE" >/dev/null 2>"$STORE/err" || rc=$?
expect_eq "second broker exit status" "$rc" 1
grep -q "minga-broker.pid" "$STORE/err" || fail "second broker: $(cat "$STORE/err")"
alive "$b" || fail "the first broker died"
expect_eq "pid file kept" "$(pid_of minga-broker)" "$b"

# a stale pid file (a pid, no lock) does not count as running
m down >/dev/null
echo "$$" >"$STORE/run/minga-broker.pid"
up --test-workers 1 >/dev/null
[ "$(pid_of minga-broker)" != "$$" ] || fail "a stale pid file was taken for a running broker"
m down >/dev/null
ls "$STORE"/run/*.pid >/dev/null 2>&1 && fail "pid files left after down"
alive "$b" && fail "broker still running after down"

# plain `minga up`: one of every family this build has; again: nothing new
first=$(m up)
second=$(m up)
[ "$(grep -c iniciado <<<"$first")" -ge 2 ] || fail "plain up started: $first"
expect_eq "plain up twice" "$(grep -c iniciado <<<"$second" || true)" 0
m down >/dev/null

rc=0; m up --test-workers x >/dev/null 2>&1 || rc=$?
expect_eq "usage error" "$rc" 2
rc=0; m down --bogus >/dev/null 2>&1 || rc=$?
expect_eq "usage error" "$rc" 2
echo ok
