#!/usr/bin/env bash
# A test worker that SIGKILLs itself while holding a job: the broker re-leases the job to the
# other worker, which does it; the job ends done with attempts 2. `minga up` then restarts the
# dead worker (its pid file is no longer locked).
source "$(dirname "$0")/test_jobs_lib.bash"

up --test-workers 2 >/dev/null
p1=$(pid_of minga-test-worker-1)
p2=$(pid_of minga-test-worker-2)
start=$(date +%s%N)
id=$(m submit test.echo --json '{"crash": true, "times": 1}')
expect_eq "wait" "$(m wait "$id")" "$id done"
elapsed=$((($(date +%s%N) - start) / 1000000))
expect_eq "attempts" "$(jfield "$id" .attempts)" 2
[ "$elapsed" -lt 8000 ] || fail "re-lease took ${elapsed} ms (3 heartbeats are 3 s)"
alive=0
alive "$p1" && alive=$((alive + 1))
alive "$p2" && alive=$((alive + 1))
expect_eq "workers alive after the crash" "$alive" 1

out=$(up --test-workers 2)
expect_eq "restarted" "$(grep -c iniciado <<<"$out")" 1
expect_eq "workers" "$(m workers --json | wc -l)" 2
echo ok
