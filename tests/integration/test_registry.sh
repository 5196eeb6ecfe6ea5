#!/usr/bin/env bash
# test_registry.sh: the registry through the real `minga` binary, as an operator uses it —
# init, demo-data, import of the seven kinds, export → import → export identical (CSV and
# JSON), a bad file rejected with every error named and nothing written, the change log,
# exit codes, the store's default location, help texts, and kill -9 in the middle of an
# import (all or nothing).
set -euo pipefail
PATH=${MINGA_BIN:?MINGA_BIN must name the build bin/ directory}:$PATH
tmp=$(mktemp -d /tmp/minga-XXXXXX)
trap 'rm -rf "$tmp"' EXIT
cd "$tmp"
fail() { echo "FAIL: $*" >&2; exit 1; }
expect_rc() { # expect_rc RC COMMAND...: run, require exit status RC
    local want=$1 rc=0
    shift
    "$@" >"$tmp/out" 2>"$tmp/err" || rc=$?
    [ "$rc" = "$want" ] || { cat "$tmp/out" "$tmp/err" >&2; fail "'$*' exited $rc, not $want"; }
}
count() { minga --store "$1" export "$2" ${3:+--event $3} | tail -n +2 | grep -c . || true; }

# help: every command describes itself
minga --help >help.txt
grep -q 'Órdenes:' help.txt || fail "minga --help has no command list"
for cmd in $(awk '/^Órdenes:/{f=1; next} f && NF {print $1}' help.txt | grep -v '^Estado'); do
    minga "$cmd" --help >h.txt || fail "minga $cmd --help failed"
    grep -q '^Uso: minga' h.txt || fail "minga $cmd --help has no 'Uso:' line"
done
expect_rc 2 minga no-such-command
expect_rc 2 minga import
expect_rc 2 minga import widgets x.csv
expect_rc 1 minga --store "$tmp/none" store info
grep -q "$tmp/none" err || fail "a missing store is not named"

# init, and the store's default location: --store, else MINGA_STORE, else ./minga-data
expect_rc 0 minga --store s init
[ -f s/data.mdb ] || fail "init made no LMDB environment"
(mkdir -p d && cd d && minga init >/dev/null && [ -f minga-data/data.mdb ]) || fail "default ./minga-data"
(MINGA_STORE="$tmp/e" minga init >/dev/null && [ -f e/data.mdb ]) || fail "MINGA_STORE"
minga store info --store s | grep -c '^gad ' >/dev/null || fail "global option after the command"

# the seven kinds, in load order
minga demo-data --out data 2>/dev/null
for k in gads cooperantes offers demands events participants preferences; do
    ev=""
    case $k in participants | preferences) ev="--event jornada-2026" ;; esac
    minga --store s import "$k" "data/$k.csv" $ev >out.txt || fail "import $k"
    grep -q 'nuevas' out.txt || fail "import $k printed no summary"
done
[ "$(count s gads)" = 221 ] || fail "221 GADs expected, got $(count s gads)"
n_demands=$(count s demands)
[ "$n_demands" -gt 900 ] || fail "too few demands: $n_demands"

# export → import → export: identical, in both formats, for every kind
for k in gads cooperantes offers demands events participants preferences; do
    ev=""
    case $k in participants | preferences) ev="--event jornada-2026" ;; esac
    for fmt in csv json; do
        minga --store s export "$k" $ev --format $fmt --out "a.$fmt"
        minga --store s import "$k" "a.$fmt" $ev >out.txt
        grep -q ' 0 nuevas, 0 modificadas' out.txt || fail "re-import of $k ($fmt) changed something: $(cat out.txt)"
        minga --store s export "$k" $ev --format $fmt >"b.$fmt"
        cmp -s "a.$fmt" "b.$fmt" || fail "export → import → export of $k ($fmt) differs"
    done
    # a fresh store loaded from the exports exports the same
done
head -c 3 a.csv | od -An -tx1 | grep -c 'ef bb bf' >/dev/null || fail "CSV export has no BOM"

# a bad file: every error named with file, line, column and field; nothing written
cp data/demands.csv bad.csv
sed -i '3s/;1[45][0-9][0-9][0-9]/;99999/; 5s/^dem-[0-9]*;[0-9]*;/dem-x;9999;/' bad.csv
printf 'dem-new;0101;Nuevo;d;14030;becas;;;1\n' >>bad.csv
printf '%s\n' "$(sed -n 2p bad.csv)" >>bad.csv # a duplicate of line 2
expect_rc 1 minga --store s import demands bad.csv
grep -q 'bad.csv:5:2: field .gad.: unknown DPA canton code .9999.' err || { cat err; fail "unknown DPA code not named"; }
grep -q 'duplicate id' err || fail "duplicate id not named"
grep -q 'nothing was imported' err || fail "rejection not said"
[ "$(count s demands)" = "$n_demands" ] || fail "a rejected import wrote something"

# the change log: a changed row is recorded with old and new values
minga --store s export gads --out g.csv
sed -i 's/^\(0101;Cuenca;01;sierra;\)[0-9]*/\1700001/' g.csv
minga --store s import gads g.csv | grep -c '1 modificadas' >/dev/null || fail "update not counted"
minga --store s changes --kind gads --json | grep -c '"field":"población".*"new":"700001".*"source":"g.csv:2"' >/dev/null ||
    { minga --store s changes --kind gads --json; fail "change not logged"; }

# kill -9 in the middle of a large import: the store holds all of it or none of it
minga demo-data --out big --scale 40 2>/dev/null
minga --store k init >/dev/null
minga --store k import gads big/gads.csv >/dev/null
minga --store k import cooperantes big/cooperantes.csv >/dev/null
total=$(($(wc -l <big/offers.csv) - 1))
for delay in 0.05 0.15 0.3; do
    minga --store k import offers big/offers.csv >/dev/null 2>&1 &
    pid=$!
    sleep $delay
    kill -9 $pid 2>/dev/null || true
    wait $pid 2>/dev/null || true
    got=$(count k offers)
    [ "$got" = 0 ] || [ "$got" = "$total" ] || fail "after kill -9 the store holds $got of $total offers"
done
minga --store k import offers big/offers.csv >/dev/null
[ "$(count k offers)" = "$total" ] || fail "import after the kills failed"

# minga demo: the Spanish summary
minga --store demo demo >demo.txt
for h in 'Demandas por provincia:' 'Cooperantes por tipo de cooperación:' 'Demandas por competencia' 'Pichincha' 'Galápagos'; do
    grep -q "$h" demo.txt || { cat demo.txt; fail "minga demo's summary lacks '$h'"; }
done
minga --store demo demo | grep -c '0 nuevos, 0 modificados, 221 sin cambios' >/dev/null || fail "second demo run changed records"
echo "test_registry: ok"
