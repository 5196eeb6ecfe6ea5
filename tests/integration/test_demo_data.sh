#!/usr/bin/env bash
# test_demo_data.sh: `minga demo-data` through the real binary. Two runs with the same seed
# give identical files; each file starts with the UTF-8 BOM and the header row import expects;
# the row counts are those of the embedded Jornada data set; nothing goes to stdout; usage
# errors exit 2 and I/O errors exit 1 naming the path.
set -euo pipefail

PATH="${MINGA_BIN:+$MINGA_BIN:}$PATH"
tmp=$(mktemp -d /tmp/minga-demo-XXXXXX)
trap 'rm -rf "$tmp"' EXIT

fail() {
    echo "FAIL: $*" >&2
    exit 1
}

kinds=(gads cooperantes offers demands events participants preferences)
declare -A header=(
    [gads]='código;nombre;provincia;región;población;correo;regional_ame'
    [cooperantes]='id;nombre;tipo;subtipo;país;idiomas;correo;gad;actualizado'
    [offers]='id;cooperante;título;competencias;sectores_cad;modalidad;monto_mín;monto_máx;ámbito;regiones;provincias;cantones;población_máx;cofinanciamiento_requerido;válida_desde;válida_hasta'
    [demands]='id;gad;título;competencia;sectores_cad;modalidad;monto;cofinanciamiento;prioridad'
    [events]='id;nombre;lugar;fecha_inicio;fecha_fin;zona_horaria;hora_inicio;hora_fin;minutos_por_turno;mesas;máx_reuniones;mín_reuniones_gad;reuniones_por_par;asistencia_requerida'
    [participants]='party;kind;min_meetings;max_meetings;tables;available_slots;email'
    [preferences]='de;para;preferencia'
)

# Two runs, same default seed: byte-identical.
minga demo-data --out "$tmp/a" >"$tmp/out1" 2>"$tmp/err1"
minga demo-data --out "$tmp/b/nested" --seed 2026 --scale 1 >"$tmp/out2" 2>"$tmp/err2"
[ ! -s "$tmp/out1" ] || fail "demo-data wrote to stdout: $(head -c 200 "$tmp/out1")"
grep -q 'Datos de demostración' "$tmp/err1" || fail "no summary on stderr: $(cat "$tmp/err1")"
[ "$(wc -l <"$tmp/err1")" -eq 1 ] || fail "summary is not one line"
for k in "${kinds[@]}"; do
    cmp "$tmp/a/$k.csv" "$tmp/b/nested/$k.csv" || fail "$k.csv differs between two runs"
    [ "$(head -c 3 "$tmp/a/$k.csv" | od -An -tx1 | tr -d ' \n')" = efbbbf ] || fail "$k.csv has no BOM"
    first=$(head -n 1 "$tmp/a/$k.csv" | tail -c +4)
    [ "$first" = "${header[$k]}" ] || fail "$k.csv header is '$first', not '${header[$k]}'"
done
ls -A "$tmp/a" | grep -vq '\.csv$' && fail "stray files in the output: $(ls -A "$tmp/a")"

rows() { echo $(($(wc -l <"$1") - 1)); }
[ "$(rows "$tmp/a/gads.csv")" -eq 221 ] || fail "gads: $(rows "$tmp/a/gads.csv")"
[ "$(rows "$tmp/a/cooperantes.csv")" -eq 500 ] || fail "cooperantes: $(rows "$tmp/a/cooperantes.csv")"
[ "$(rows "$tmp/a/offers.csv")" -eq 1500 ] || fail "offers: $(rows "$tmp/a/offers.csv")"
[ "$(rows "$tmp/a/demands.csv")" -eq 1100 ] || fail "demands: $(rows "$tmp/a/demands.csv")"
[ "$(rows "$tmp/a/events.csv")" -eq 1 ] || fail "events: $(rows "$tmp/a/events.csv")"
p=$(rows "$tmp/a/participants.csv")
[ "$p" -ge 250 ] && [ "$p" -le 380 ] || fail "participants: $p"
q=$(rows "$tmp/a/preferences.csv")
[ "$q" -ge 20 ] && [ "$q" -le 60 ] || fail "preferences: $q"
grep -q '^jornada-2026;' "$tmp/a/events.csv" || fail "no event jornada-2026"

# Every row passes the importer's validation, in load order.
minga --store "$tmp/store" init >/dev/null 2>&1
for k in gads cooperantes offers demands events; do
    minga --store "$tmp/store" import "$k" "$tmp/a/$k.csv" >/dev/null 2>"$tmp/imp" ||
        fail "import $k: $(head -5 "$tmp/imp")"
done
for k in participants preferences; do
    minga --store "$tmp/store" import "$k" "$tmp/a/$k.csv" --event jornada-2026 >/dev/null \
        2>"$tmp/imp" || fail "import $k: $(head -5 "$tmp/imp")"
done

# Another seed: other cooperantes and offers; the GADs stay the real 221.
minga demo-data --out "$tmp/c" --seed 7 2>/dev/null
cmp -s "$tmp/a/offers.csv" "$tmp/c/offers.csv" && fail "seed 7 gives the same offers"
cmp "$tmp/a/gads.csv" "$tmp/c/gads.csv" || fail "the GADs depend on the seed"

# Scale 3: three times the registry.
minga demo-data --out "$tmp/s3" --scale 3 2>/dev/null
[ "$(rows "$tmp/s3/cooperantes.csv")" -eq 1500 ] || fail "scale 3 cooperantes"
[ "$(rows "$tmp/s3/offers.csv")" -eq 4500 ] || fail "scale 3 offers"
[ "$(rows "$tmp/s3/demands.csv")" -eq 3300 ] || fail "scale 3 demands"

# Usage errors exit 2, I/O errors 1 naming the path.
expect() {
    local want=$1
    shift
    set +e
    minga "$@" >"$tmp/out" 2>"$tmp/err"
    local got=$?
    set -e
    [ "$got" -eq "$want" ] || fail "minga $* exited $got, not $want: $(cat "$tmp/err")"
}
expect 2 demo-data
expect 2 demo-data --out "$tmp/x" --scale 0
expect 2 demo-data --out "$tmp/x" --scale -1
expect 2 demo-data --out "$tmp/x" --scale abc
expect 2 demo-data --out "$tmp/x" --seed -3
expect 2 demo-data --out "$tmp/x" --seed 12x
expect 2 demo-data --out "$tmp/x" --bogus
expect 2 demo-data --out
[ ! -e "$tmp/x" ] || fail "a usage error created the directory"
touch "$tmp/file"
expect 1 demo-data --out "$tmp/file/sub"
grep -q "$tmp/file/sub" "$tmp/err" || fail "the I/O error does not name the path: $(cat "$tmp/err")"
expect 0 demo-data --help
grep -q -- '--scale' "$tmp/out" || fail "--help does not describe --scale"

echo "ok: demo-data"
