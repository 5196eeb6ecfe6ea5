#!/bin/bash
# minga-broker's command line: configuration errors name file, line and key (exit 2); flags override
# the file; a second broker on the same store exits 1; a store path too long for a socket is
# refused naming the path and the limit; STORE/run is mode 0700 and holds the pid file;
# SIGTERM stops it cleanly (exit 0, lock released).
set -u
BIN=${MINGA_BIN:+$MINGA_BIN/}minga-broker
S=$(mktemp -d /tmp/minga-XXXXXX)
PIDS=()
cleanup() {
    for p in "${PIDS[@]}"; do kill -9 "$p" 2>/dev/null; done
    rm -rf "$S" "${LONG:-/nonexistent}"
}
trap cleanup EXIT
fail() { echo "FAIL: $*" >&2; exit 1; }

# a bad value names file, line and key
printf 'broker\n    heartbeat_ms = 500\n    lease_ms = 5\n' > "$S/bad.cfg"
out=$("$BIN" --store "$S" --config "$S/bad.cfg" 2>&1); rc=$?
[ $rc -eq 2 ] || fail "bad value: exit $rc"
echo "$out" | grep -q "bad.cfg:3: broker/lease_ms" || fail "bad value not named: $out"
# an unknown key
printf 'broker\n    heartbeat_ms = 500\n    leese_ms = 500\n' > "$S/unk.cfg"
out=$("$BIN" --store "$S" --config "$S/unk.cfg" 2>&1); rc=$?
[ $rc -eq 2 ] && echo "$out" | grep -q "unk.cfg:3: broker/leese_ms: unknown key" \
    || fail "unknown key: $rc $out"
# other programs' settings are left alone; a missing file is an error
printf 'worker\n    capacity = 3\nbroker\n    heartbeat_ms = 250\n' > "$S/ok.cfg"
out=$("$BIN" --store "$S" --config "$S/nope.cfg" 2>&1); rc=$?
[ $rc -eq 2 ] && echo "$out" | grep -q "nope.cfg" || fail "missing config: $rc $out"
# usage errors exit 2
"$BIN" --store "$S" --frobnicate 1 2>/dev/null; [ $? -eq 2 ] || fail "unknown flag not a usage error"
"$BIN" --store "$S" --heartbeat-ms abc 2>/dev/null; [ $? -eq 2 ] || fail "bad flag value not a usage error"
"$BIN" --help | grep -q -- "--heartbeat-ms" || fail "--help lists the settings"

# a store path too long for a socket
LONG=/tmp/minga-$(printf 'x%.0s' $(seq 1 100))
out=$("$BIN" --store "$LONG" 2>&1); rc=$?
[ $rc -eq 1 ] && echo "$out" | grep -q "107 bytes" && echo "$out" | grep -q "$LONG/run/clients" \
    || fail "long path: $rc $out"

# a running broker (config file plus a flag that overrides it)
"$BIN" --store "$S" --config "$S/ok.cfg" --heartbeat-ms 300 2>"$S/broker.err" &
B=$!; PIDS+=($B)
for _ in $(seq 1 50); do [ -S "$S/run/clients" ] && break; sleep 0.1; done
[ -S "$S/run/clients" ] || fail "no client socket: $(cat "$S/broker.err")"
[ "$(stat -c %a "$S/run")" = 700 ] || fail "STORE/run mode $(stat -c %a "$S/run")"
[ "$(cat "$S/run/minga-broker.pid")" = "$B" ] || fail "pid file holds $(cat "$S/run/minga-broker.pid")"
/usr/bin/python3 - "$S" <<'PY' || fail "WELCOME does not show the flag's heartbeat"
import sys, msgpack, zmq
s = zmq.Context().socket(zmq.DEALER)
s.connect("ipc://%s/run/workers" % sys.argv[1])
s.send_multipart([b"", b"MINGA01", b"READY", msgpack.packb({"types": ["test.echo"]})])
assert s.poll(5000)
f = s.recv_multipart()
assert f[2] == b"WELCOME" and msgpack.unpackb(f[3])["heartbeat_ms"] == 300, f
PY
# a second broker on the same store exits 1, naming the running one
out=$("$BIN" --store "$S" 2>&1); rc=$?
[ $rc -eq 1 ] && echo "$out" | grep -q "already running" && echo "$out" | grep -q "$B" \
    || fail "second broker: $rc $out"
kill -0 $B || fail "first broker died"
# SIGTERM: clean stop, lock released, a new broker starts
kill -TERM $B; wait $B; rc=$?
[ $rc -eq 0 ] || fail "SIGTERM exit $rc: $(cat "$S/broker.err")"
"$BIN" --store "$S" 2>>"$S/broker.err" &
B2=$!; PIDS+=($B2)
sleep 0.5
kill -0 $B2 || fail "restart after SIGTERM: $(cat "$S/broker.err")"
kill -INT $B2; wait $B2; rc=$?
[ $rc -eq 0 ] || fail "SIGINT exit $rc"
echo "ok: broker command line"
