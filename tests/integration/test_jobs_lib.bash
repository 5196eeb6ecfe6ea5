# test_jobs_lib.bash: shared by the test_jobs_*.sh integration tests (sourced, not a test).
# Each test gets its own short store from mktemp, and `minga down` always runs at exit.
set -euo pipefail
: "${MINGA_BIN:?MINGA_BIN must name the bin directory of the build}"
export PATH="$MINGA_BIN:$PATH"
unset MINGA_STORE

STORE=$(mktemp -d /tmp/minga-XXXXXX)
export STORE

t_cleanup() {
    local rc=$?
    minga --store "$STORE" down --drain-timeout 5 >/dev/null 2>&1 || true
    if [ "$rc" -ne 0 ] && [ -d "$STORE/log" ]; then
        for f in "$STORE"/log/*.log; do
            echo "== $f" >&2
            tail -n 30 "$f" >&2 || true
        done
    fi
    rm -rf "$STORE"
}
trap t_cleanup EXIT

# m ARGS...: minga on this test's store.
m() { minga --store "$STORE" --timeout 10 "$@"; }

fail() {
    echo "FAIL: $*" >&2
    exit 1
}

# expect_eq WHAT GOT WANT
expect_eq() {
    [ "$2" = "$3" ] || fail "$1: got '$2', want '$3'"
}

# jfield ID FILTER: a jq filter over `minga job ID --json`.
jfield() { m job "$1" --json | jq -r "$2"; }

# wait_state ID STATE [SECONDS]: polls until the job is in STATE.
wait_state() {
    local id=$1 want=$2 secs=${3:-20} got=""
    for _ in $(seq $((secs * 10))); do
        got=$(jfield "$id" .state)
        [ "$got" = "$want" ] && return 0
        sleep 0.1
    done
    fail "job $id: state '$got' after ${secs}s, want '$want'"
}

# pid_of NAME: the pid in STORE/run/NAME.pid.
pid_of() { cat "$STORE/run/$1.pid"; }

# alive PID: the process exists and is not a zombie (PID 1 here may reap late).
alive() {
    local st
    st=$(awk '{print $3}' "/proc/$1/stat" 2>/dev/null) || return 1
    [ -n "$st" ] && [ "$st" != Z ]
}

# up ARGS...: `minga up` with only the test workers asked for (0 of every other family, so
# that worker counts do not depend on which worker binaries this build has).
up() { m up --match-workers 0 --notify-workers 0 --report-workers 0 "$@"; }

# wait_unlocked NAME: waits until STORE/run/NAME.pid is no longer locked (a killed process is
# gone only when its last thread has exited and closed the file).
wait_unlocked() {
    local f=$STORE/run/$1.pid
    for _ in $(seq 100); do
        flock -n "$f" true 2>/dev/null && return 0
        sleep 0.05
    done
    fail "$f is still locked"
}
