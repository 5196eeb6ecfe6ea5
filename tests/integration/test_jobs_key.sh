#!/usr/bin/env bash
# Idempotent enqueue: the same --key gives the same job, whatever the body, and one job only.
source "$(dirname "$0")/test_jobs_lib.bash"

up --test-workers 1 >/dev/null
a=$(m submit test.echo --key "informe-2026-11" --json '{"v": 1}')
b=$(m submit test.echo --key "informe-2026-11" --json '{"v": 2}')
expect_eq "same key, same job" "$b" "$a"
c=$(m submit test.echo --key "otra" --json '{"v": 3}')
[ "$c" != "$a" ] || fail "another key gave the same job"
m wait "$a" >/dev/null
d=$(m submit test.echo --key "informe-2026-11" --json '{"v": 4}')
expect_eq "key of a done job" "$d" "$a"
expect_eq "key field" "$(jfield "$a" .key)" informe-2026-11
expect_eq "result is the first body" "$(jfield "$a" .result.v)" 1
expect_eq "jobs" "$(m jobs --json | wc -l)" 2
echo ok
