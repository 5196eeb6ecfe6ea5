#!/bin/bash
# deploy/minga.cfg.example is complete and true: every key it holds is read by the real loader
# of each program (minga, minga-broker, the workers start with it and run a job); every key but
# the match weights has a "opciones:" line whose flags each appear in the --help of their
# program; every setting a program's --help lists (section/key) is in the example.
set -u
B=${MINGA_BIN:+$MINGA_BIN/}
SRC=${MINGA_SOURCE_DIR:-$(cd "$(dirname "$0")/../.." && pwd)}
EX=$SRC/deploy/minga.cfg.example
S=$(mktemp -d /tmp/minga-XXXXXX)
PIDS=()
cleanup() {
    for p in "${PIDS[@]}"; do kill -9 "$p" 2>/dev/null; done
    rm -rf "$S"
}
trap cleanup EXIT
fail() { echo "FAIL: $*" >&2; exit 1; }
[ -f "$EX" ] || fail "no $EX"

# keys and their flags lines, as section/key<TAB>flags
/usr/bin/python3 - "$EX" > "$S/keys.tsv" <<'PY' || fail "example layout"
import re, sys
section, flags = None, None
for n, line in enumerate(open(sys.argv[1], encoding="utf-8"), 1):
    if re.match(r"^\S", line) and not line.startswith("#"):
        section, flags = line.strip(), None
        continue
    m = re.match(r"^    #\s+opciones:\s*(.*)$", line)
    if m:
        flags = m.group(1).strip()
        continue
    m = re.match(r"^    ([a-z_]+) = (.*)$", line)
    if m:
        if section != "match" and not flags:
            sys.exit("line %d: %s/%s has no opciones: line" % (n, section, m.group(1)))
        print("%s/%s\t%s" % (section, m.group(1), flags or ""))
        flags = None
PY
[ "$(wc -l < "$S/keys.tsv")" -ge 60 ] || fail "only $(wc -l < "$S/keys.tsv") keys"

# each flag named exists in its program's --help
cut -f2 "$S/keys.tsv" | tr ',' '\n' | sed 's/^ *//' | grep -v '^$' | sort -u | while read -r prog flag; do
    [ -n "$flag" ] || fail "flags line item '$prog' without a flag"
    "${B}$prog" --help 2>&1 | grep -q -- "$flag\b" || { echo "FAIL: $prog --help has no $flag" >&2; exit 1; }
done || exit 1

# every setting in a --help is in the example
for prog in minga-broker minga-match-worker minga-notify-worker minga-report-worker minga-test-worker; do
    "${B}$prog" --help | grep -o '([a-z_]*/[a-z_]*)' | tr -d '()' | while read -r key; do
        grep -q "^$key	" "$S/keys.tsv" || { echo "FAIL: $prog --help lists $key, the example does not" >&2; exit 1; }
    done || exit 1
done

# the real loaders accept the whole file (an unknown key would be exit 2)
"${B}minga" --store "$S/st" --config "$EX" codes kinds >/dev/null || fail "minga refuses the example"
sed -e 's|^    metrics = .*|    metrics = "127.0.0.1:0"|' "$EX" > "$S/minga.cfg"
"${B}minga-broker" --store "$S/st" --config "$S/minga.cfg" 2>"$S/broker.log" &
PIDS+=($!)
for _ in $(seq 1 100); do [ -S "$S/st/run/clients" ] && break; sleep 0.05; done
[ -S "$S/st/run/clients" ] || fail "broker with the example: $(cat "$S/broker.log")"
for w in minga-test-worker minga-notify-worker minga-report-worker minga-match-worker; do
    "${B}$w" --store "$S/st" --config "$S/minga.cfg" --name "$w" 2>"$S/$w.log" &
    PIDS+=($!)
done
id=$("${B}minga" --store "$S/st" --config "$S/minga.cfg" submit test.echo --json '{"ok": true}') \
    || fail "submit with the example"
"${B}minga" --store "$S/st" --config "$S/minga.cfg" wait "$id" >/dev/null || fail "job not done"
sleep 0.3
n=$("${B}minga" --store "$S/st" --config "$S/minga.cfg" workers --json | grep -c '"name"')
[ "$n" -ge 4 ] || fail "$n workers joined with the example: $(tail -n 3 "$S"/*.log)"
for p in "${PIDS[@]}"; do kill -TERM "$p"; done
for p in "${PIDS[@]}"; do wait "$p" || fail "a program did not stop cleanly"; done
PIDS=()
grep -q "unknown key\|error" "$S"/*.log && fail "errors in logs: $(grep -h "error" "$S"/*.log)"
echo "ok: minga.cfg.example: $(wc -l < "$S/keys.tsv") keys, every flag in its --help, loaded by every program"
