#!/bin/bash
# A bad configuration file stops every program with exit status 2 and a message naming
# FILE:LINE and the key: an unknown key (also in another program's section, and in an unknown
# section), a bad value, a ZPL syntax error, a value outside its range; a known key of another
# program is left alone.
set -u
B=${MINGA_BIN:+$MINGA_BIN/}
S=$(mktemp -d /tmp/minga-XXXXXX)
trap 'rm -rf "$S"' EXIT
fail() { echo "FAIL: $*" >&2; exit 1; }

# expect FILE LINE KEY PROGRAM ARGS...: exit 2 and "FILE:LINE: KEY" on stderr
expect() {
    local file=$1 line=$2 key=$3; shift 3
    local out rc
    out=$(timeout 20 "$@" 2>&1 >/dev/null); rc=$?
    [ $rc -eq 2 ] || fail "$* with $(basename "$file"): exit $rc ($out)"
    echo "$out" | grep -qF "$file:$line: $key" || fail "$*: '$file:$line: $key' not in: $out"
}

programs() { # the three kinds of program reading one file
    local f=$1 line=$2 key=$3
    expect "$f" "$line" "$key" "${B}minga" --store "$S/st" --config "$f" codes kinds
    expect "$f" "$line" "$key" "${B}minga-broker" --store "$S/st" --config "$f"
    expect "$f" "$line" "$key" "${B}minga-test-worker" --store "$S/st" --config "$f"
}

printf 'broker\n    heartbeat_ms = 500\n    leese_ms = 500\n' > "$S/unknown.cfg"
programs "$S/unknown.cfg" 3 "broker/leese_ms: unknown key"
printf 'store\n    path = "x"\nworker\n    capacity = 2\n    capacty = 2\n' > "$S/typo.cfg"
programs "$S/typo.cfg" 5 "worker/capacty: unknown key"
printf 'log\n    level = "info"\nsmpt\n    host = "relay"\n' > "$S/section.cfg"
programs "$S/section.cfg" 4 "smpt/host: unknown key"
printf 'curve\n    enabled = maybe\n' > "$S/bool.cfg"
programs "$S/bool.cfg" 2 "curve/enabled: 'maybe' is not 1/0"
printf '# a comment\nclient\n    timeout_s = 10\nbroker\n    lease_ms = 5\n' > "$S/range.cfg"
expect "$S/range.cfg" 5 "broker/lease_ms: '5' is not an integer" \
    "${B}minga-broker" --store "$S/st" --config "$S/range.cfg"
printf 'worker\n    capacity = -3\n' > "$S/neg.cfg"
expect "$S/neg.cfg" 2 "worker/capacity: '-3' is not an integer" \
    "${B}minga-test-worker" --store "$S/st" --config "$S/neg.cfg"
printf 'client\n    timeout_s = ten\n' > "$S/timeout.cfg"
expect "$S/timeout.cfg" 2 "client/timeout_s: 'ten' is not an integer" \
    "${B}minga" --store "$S/st" --config "$S/timeout.cfg" codes kinds
printf 'log\n    level = "loud"\n' > "$S/level.cfg"
out=$("${B}minga" --store "$S/st" --config "$S/level.cfg" codes kinds 2>&1 >/dev/null); rc=$?
[ $rc -eq 2 ] && echo "$out" | grep -q "log/level: 'loud'" || fail "bad level: $rc $out"
printf 'broker\n    heartbeat_ms = 500\n    lease_ms = "abc\n' > "$S/quote.cfg"
programs "$S/quote.cfg" 3 "lease_ms: not valid ZPL"
printf 'broker\n    heartbeat_ms = 500\n  lease_ms = 3\n' > "$S/indent.cfg"
programs "$S/indent.cfg" 3 "lease_ms: not valid ZPL"
# --set SECTION/KEY=VALUE: a key no program knows, or a bad value, is a usage error
out=$("${B}minga" --store "$S/st" --set match/sector_dacc=1 codes kinds 2>&1); rc=$?
[ $rc -eq 2 ] && echo "$out" | grep -q "match/sector_dacc: unknown key" || fail "--set unknown: $rc $out"
out=$("${B}minga" --store "$S/st" --set client/timeout_s=soon codes kinds 2>&1); rc=$?
[ $rc -eq 2 ] && echo "$out" | grep -q "client/timeout_s: 'soon'" || fail "--set bad value: $rc $out"
# a missing file names it
out=$("${B}minga" --store "$S/st" --config "$S/nope.cfg" codes kinds 2>&1); rc=$?
[ $rc -eq 2 ] && echo "$out" | grep -q "nope.cfg" || fail "missing file: $rc $out"
# a good file with every program's sections is accepted by each (the others' keys skipped)
printf 'smtp\n    port = 2525\nmatch\n    k_demand = 5\nworker\n    capacity = 2\nbroker\n    heartbeat_ms = 300\nlog\n    level = "warn"\n' > "$S/ok.cfg"
"${B}minga" --store "$S/st" --config "$S/ok.cfg" codes kinds >/dev/null || fail "good file refused by minga"
# a flag wins over the file: --log-level debug after a file saying warn
printf 'log\n    level = "warn"\nworker\n    capacity = 2\n' > "$S/w.cfg"
out=$(timeout 5 "${B}minga-test-worker" --store "$S/st" --config "$S/w.cfg" --broker tcp://127.0.0.1:1 --no-curve 2>&1 & sleep 1; kill -TERM %1 2>/dev/null; wait)
echo "$out" | grep -q "serving" && fail "log/level warn hides info lines: $out"
out=$(timeout 5 "${B}minga-test-worker" --store "$S/st" --config "$S/w.cfg" --log-level info --broker tcp://127.0.0.1:1 --no-curve 2>&1 & sleep 1; kill -TERM %1 2>/dev/null; wait)
echo "$out" | grep -q "capacity 2" || fail "--log-level info wins over the file, capacity from it: $out"
echo "ok: configuration errors name FILE:LINE and the key, exit 2"
