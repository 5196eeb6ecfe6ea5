#!/usr/bin/env bash
# test_codes.sh: `minga codes` through the real binary: the cantons as CSV (BOM, header and
# 221 rows, ';'), JSON, the readable table, and the usage errors (exit 2).
set -euo pipefail

MINGA="${MINGA_BIN:?MINGA_BIN must name the directory of the built binaries}/minga"
tmp="$(mktemp -d /tmp/minga-codes-XXXXXX)"
trap 'rm -rf "$tmp"' EXIT

fail() {
    echo "FAIL: $*" >&2
    exit 1
}

# cantons, CSV: 222 lines, the BOM, the header, Cuenca and Juján
"$MINGA" codes cantons --format csv >"$tmp/cantons.csv"
lines=$(wc -l <"$tmp/cantons.csv")
[ "$lines" -eq 222 ] || fail "cantons CSV has $lines lines, want 222"
[ "$(head -c 3 "$tmp/cantons.csv" | od -An -tx1 | tr -d ' \n')" = "efbbbf" ] ||
    fail "cantons CSV does not begin with a UTF-8 BOM"
[ "$(head -n 1 "$tmp/cantons.csv" | sed 's/^\xEF\xBB\xBF//')" = "code;name;province;region;population" ] ||
    fail "cantons CSV header: $(head -n 1 "$tmp/cantons.csv")"
grep -qx '0101;Cuenca;01;sierra;636996' "$tmp/cantons.csv" || fail "no Cuenca row"
grep -qx '0902;Alfredo Baquerizo Moreno (Juján);09;costa;[0-9]*' "$tmp/cantons.csv" ||
    fail "no Juján row"
total=$(tail -n +2 "$tmp/cantons.csv" | awk -F';' '{ s += $5 } END { print s }')
[ "$total" -eq 17468736 ] || fail "cantons CSV population total $total"

# the same list as JSON: 221 objects with the same keys
"$MINGA" codes cantons --format json >"$tmp/cantons.json"
python3 - "$tmp/cantons.json" <<'PY'
import json, sys
rows = json.load(open(sys.argv[1], encoding="utf-8"))
assert len(rows) == 221, len(rows)
assert list(rows[0]) == ["code", "name", "province", "region", "population"], list(rows[0])
assert rows[0] == {"code": "0101", "name": "Cuenca", "province": "01", "region": "sierra",
                   "population": 636996}, rows[0]
PY

# the other lists
[ "$("$MINGA" codes provinces --format csv | wc -l)" -eq 25 ] || fail "provinces CSV"
[ "$("$MINGA" codes competencies --format csv | wc -l)" -eq 15 ] || fail "competencies CSV"
"$MINGA" codes dac --format csv | grep -cx '14030;Agua potable y saneamiento básico' >/dev/null ||
    fail "no 14030 in dac CSV"
for kind in competencies dac dac-categories modalities kinds private-kinds regions \
    provinces cantons preferences scopes; do
    "$MINGA" codes "$kind" >"$tmp/$kind.txt" || fail "minga codes $kind exited $?"
    [ -s "$tmp/$kind.txt" ] || fail "minga codes $kind printed nothing"
done
grep -q '^Código  Cantón' "$tmp/cantons.txt" || fail "cantons table header"
grep -q 'Amazonía' "$tmp/regions.txt" || fail "regions table"

# the text table is aligned by characters: the province column begins at the same character
# on every row of the cantons table
python3 - "$tmp/cantons.txt" <<'PY'
import sys
lines = open(sys.argv[1], encoding="utf-8").read().splitlines()
col = lines[0].index("Provincia")
for l in lines[2:]:
    assert l[col - 2:col] == "  " and l[col] != " ", repr(l)
PY

# usage errors exit 2
set +e
"$MINGA" codes nada >/dev/null 2>&1
rc=$?
[ "$rc" -eq 2 ] || fail "minga codes nada exited $rc, want 2"
"$MINGA" codes >/dev/null 2>&1
rc=$?
[ "$rc" -eq 2 ] || fail "minga codes (no KIND) exited $rc, want 2"
"$MINGA" codes cantons --format xml >/dev/null 2>&1
rc=$?
[ "$rc" -eq 2 ] || fail "minga codes cantons --format xml exited $rc, want 2"
set -e
"$MINGA" codes --help | grep -c 'Uso: minga codes' >/dev/null || fail "minga codes --help"

echo "test_codes.sh: ok"
