#!/usr/bin/env bash
# The systemd units of deploy/ (DESIGN.md §9). PID 1 here is not systemd, so: deploy/install.sh
# installs binaries, units and /etc/minga into a DESTDIR; `systemd-analyze verify` accepts the
# installed broker unit, an instance of each worker template and the target with no message at
# all (a typo in a key or a missing binary fails it); each unit has the hardening options and
# a worker's TimeoutStopSec outlasts its drain time-out; then the ExecStart lines, with the
# specifiers and environment expanded for a test store, run as plain processes: the workers
# register under their instance names, a real match.score batch completes, and SIGTERM (the
# units' KillSignal) stops each process cleanly.
source "$(dirname "$0")/test_jobs_lib.bash"

command -v systemd-analyze >/dev/null || fail "systemd-analyze missing (apt-get install systemd)"
SRC=${MINGA_SOURCE_DIR:-$(cd "$(dirname "$0")/../.." && pwd)}
D=$STORE/dest
PIDS=()
stop_all() {
    for p in "${PIDS[@]}"; do kill -KILL "$p" 2>/dev/null || true; done
    t_cleanup
}
trap stop_all EXIT

"$SRC/deploy/install.sh" --build "$MINGA_BIN/.." --destdir "$D" --prefix /opt/minga >/dev/null ||
    fail "install.sh"
UNITS=$D/etc/systemd/system
for f in minga-broker.service minga-match-worker@.service minga-notify-worker@.service \
    minga-report-worker@.service minga-workers.target; do
    [ -f "$UNITS/$f" ] || fail "install.sh did not install $f"
done
for b in minga minga-broker minga-match-worker minga-notify-worker minga-report-worker; do
    [ -x "$D/opt/minga/bin/$b" ] || fail "install.sh did not install $b"
done
[ -f "$D/etc/minga/minga.cfg" ] && [ -f "$D/etc/minga/minga.env" ] || fail "no /etc/minga files"

# verify: the installed units, with ExecStart on the DESTDIR's binaries
V=$STORE/verify
mkdir -p "$V"
for f in "$UNITS"/*; do
    sed "s#/opt/minga/bin/#$D/opt/minga/bin/#g" "$f" >"$V/$(basename "$f")"
done
out=$(cd "$V" && systemd-analyze verify ./minga-broker.service ./minga-match-worker@1.service \
    ./minga-notify-worker@2.service ./minga-report-worker@3.service ./minga-workers.target 2>&1) ||
    fail "systemd-analyze verify: $out"
[ -z "$out" ] || fail "systemd-analyze verify said: $out"
# ... and it does catch mistakes
sed 's/^NoNewPrivileges=/NoNewPrivilege=/' "$V/minga-broker.service" >"$V/typo.service"
out=$(cd "$V" && systemd-analyze verify ./typo.service 2>&1) || true
grep -q "Unknown key" <<<"$out" || fail "verify misses a typo: $out"
rm "$V/typo.service"

for u in minga-broker.service minga-match-worker@.service minga-notify-worker@.service \
    minga-report-worker@.service; do
    for opt in "ProtectSystem=strict" "ReadWritePaths=/var/lib/minga" "NoNewPrivileges=yes" \
        "PrivateTmp=yes" "ProtectHome=yes" "RestrictAddressFamilies=AF_UNIX AF_INET AF_INET6" \
        "MemoryDenyWriteExecute=yes" "SystemCallFilter=@system-service" "KillSignal=SIGTERM" \
        "EnvironmentFile=-/etc/minga/minga.env" "User=minga"; do
        grep -qxF "$opt" "$UNITS/$u" || fail "$u: no '$opt'"
    done
done
for fam in match notify report; do
    u=$UNITS/minga-$fam-worker@.service
    drain=$(sed -n 's/^ExecStart=.*--drain-timeout \([0-9]*\).*/\1/p' "$u")
    stop=$(sed -n 's/^TimeoutStopSec=\([0-9]*\)$/\1/p' "$u")
    [ -n "$drain" ] && [ -n "$stop" ] && [ "$stop" -gt "$drain" ] ||
        fail "$u: TimeoutStopSec '$stop' does not outlast the drain time-out '$drain'"
    grep -q -- "--name minga-$fam-worker-%i" "$u" || fail "$u: the instance is not in --name"
done

# run UNIT INSTANCE: starts the unit's ExecStart (with the unit's Environment= defaults,
# overridden for the test store, %i expanded, $VAR split as systemd does) in the background.
run() {
    local unit=$1 inst=$2 line
    line=$(sed -n 's/^ExecStart=//p' "$UNITS/$unit")
    line=${line//%i/$inst}
    line=${line//\/opt\/minga\/bin\//$D\/opt\/minga\/bin\/}
    (
        while IFS= read -r kv; do export "${kv?}"; done < <(sed -n 's/^Environment=//p' "$UNITS/$unit")
        export MINGA_STORE=$STORE MINGA_CONFIG=$D/etc/minga/minga.cfg
        export MINGA_BROKER_OPTS="--metrics 127.0.0.1:0" XDG_CACHE_HOME=$STORE/cache
        eval "set -- $line"
        exec "$@"
    ) >"$STORE/log/$unit$inst.log" 2>&1 &
    PIDS+=($!)
}

mkdir -p "$STORE/log"
run minga-broker.service ""
broker=${PIDS[0]}
for _ in $(seq 100); do
    [ -S "$STORE/run/workers" ] && break
    sleep 0.1
done
[ -S "$STORE/run/workers" ] || fail "the broker unit's ExecStart did not serve: $(cat "$STORE/log/minga-broker.service.log")"
run minga-match-worker@.service 1
run minga-match-worker@.service 2
run minga-notify-worker@.service 1
run minga-report-worker@.service 1
for _ in $(seq 100); do
    [ "$(m workers --json | wc -l)" = 4 ] && break
    sleep 0.1
done
names=$(m workers --json | jq -r .name | sed "s/@.*//" | sort | tr '\n' ' ')
expect_eq "workers of the units" "$names" \
    "minga-match-worker-1 minga-match-worker-2 minga-notify-worker-1 minga-report-worker-1 "

# a real batch: the demo registry, scored in 4 shards by the two match workers
m demo-data --out "$STORE/data" >/dev/null
for k in gads cooperantes offers demands events; do
    m import "$k" "$STORE/data/$k.csv" >/dev/null || fail "import $k"
done
for k in participants preferences; do
    m import "$k" "$STORE/data/$k.csv" --event jornada-2026 >/dev/null || fail "import $k"
done
m rueda score jornada-2026 --shards 4 >"$STORE/score.out" 2>&1 || fail "rueda score: $(cat "$STORE/score.out")"
rows=$(m export candidates --event jornada-2026 | wc -l)
[ "$rows" -gt 1100 ] || fail "only $rows candidate rows"
expect_eq "match.score jobs done" "$(m jobs --json --state done --type match.score | wc -l)" 4

# KillSignal=SIGTERM: each worker drains and exits 0 well within TimeoutStopSec, then the broker
for p in "${PIDS[@]:1}"; do kill -TERM "$p"; done
for p in "${PIDS[@]:1}"; do
    rc=0
    timeout 45 tail --pid="$p" -f /dev/null || fail "worker $p still running after 45 s"
    wait "$p" || rc=$?
    expect_eq "exit status of worker $p after SIGTERM" "$rc" 0
done
kill -TERM "$broker"
rc=0; wait "$broker" || rc=$?
expect_eq "exit status of the broker after SIGTERM" "$rc" 0
PIDS=()
echo ok
