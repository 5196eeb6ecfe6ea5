#!/usr/bin/env bash
# `minga top` in a detached 80x24 tmux pane while two test workers run a batch of sleeping
# jobs (40 x 1 s on 2 workers: the queue lasts ~20 s, enough for a slow start under ASan on a
# loaded machine): the Spanish labels, the queue and the workers are on screen, the done count and the
# queue move between two captures, the rate shows, nothing is wider than 80 columns; 'q'
# quits with status 0. Without a terminal it prints one snapshot and exits.
source "$(dirname "$0")/test_jobs_lib.bash"

TMUX_SOCK=$STORE/tmux.sock
t() { tmux -S "$TMUX_SOCK" "$@"; }
trap 't kill-server >/dev/null 2>&1 || true; t_cleanup' EXIT

up --test-workers 2 >/dev/null
for _ in $(seq 40); do m submit test.echo --json '{"sleep_ms": 1000}' >/dev/null; done

t new-session -d -x 80 -y 24 -s top \
    "minga --store '$STORE' top; echo \$? > '$STORE/top.rc'; sleep 60"

# capture: the pane's text
capture() { t capture-pane -p -t top; }
# done_count TEXT: the "terminados N" figure
done_count() { sed -n 's/.*terminados \([0-9]*\).*/\1/p' <<<"$1" | head -1; }
queued_of() { awk '$1 == "test.echo" {print $3}' <<<"$1" | head -1; }

for _ in $(seq 150); do
    grep -q "TRABAJADORES" <<<"$(capture)" && break
    sleep 0.1
done
sleep 1.2
one=$(capture)
sleep 2.2
two=$(capture)
for label in "minga top" "q: salir" "rendimiento" "COLA (tipo)" "EN ESPERA" "EN COLA" \
    "EN CURSO" "REINTENTO" "TRABAJADORES: 2" "NOMBRE" "TIPOS" "OCUPADO" "VISTO" \
    "minga-test-worker-1" "minga-test-worker-2" "test.echo" "almacén"; do
    grep -qF "$label" <<<"$two" || fail "label '$label' not on screen:
$two"
done
d1=$(done_count "$one")
d2=$(done_count "$two")
[ -n "$d1" ] && [ -n "$d2" ] || fail "no done count on screen:
$one"
[ "$d2" -gt "$d1" ] || fail "done count did not move: $d1 then $d2"
q1=$(queued_of "$one")
q2=$(queued_of "$two")
[ "$q2" -lt "$q1" ] || fail "test.echo queue did not move: $q1 then $q2"
grep -Eq "rendimiento \(últimos 10 s\): [0-9]+,[0-9] trabajos/s" <<<"$two" ||
    fail "no rate on screen:
$two"
lines=$(t capture-pane -p -t top | wc -l)
[ "$lines" -le 24 ] || fail "$lines lines in a 24-line pane"
while IFS= read -r line; do
    [ "$(printf '%s' "$line" | wc -m)" -le 80 ] || fail "line wider than 80: '$line'"
done <<<"$two"

t send-keys -t top q
for _ in $(seq 50); do
    [ -s "$STORE/top.rc" ] && break
    sleep 0.1
done
[ -s "$STORE/top.rc" ] || fail "minga top did not quit on 'q'"
expect_eq "exit status after q" "$(cat "$STORE/top.rc")" 0

# no terminal: one snapshot, then exit 0
out=$(timeout 10 minga --store "$STORE" top </dev/null)
grep -qF "COLA (tipo)" <<<"$out" || fail "no snapshot without a terminal: $out"
grep -qF "TRABAJADORES: 2" <<<"$out" || fail "snapshot without the workers: $out"
# no broker: exit 1 naming the endpoint
m down >/dev/null
rc=0; err=$(timeout 20 minga --store "$STORE" --timeout 1 top 2>&1 >/dev/null) || rc=$?
expect_eq "exit status without a broker" "$rc" 1
grep -q "run/clients" <<<"$err" || fail "the error does not name the endpoint: $err"
echo ok
