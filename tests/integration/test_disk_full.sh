#!/usr/bin/env bash
# test_disk_full.sh: a store on a really full disk (a 4 MiB tmpfs). An import that does not
# fit fails with a clear error naming the store, nothing of it is written, the store stays
# readable, and imports go on once there is room again. Needs root to mount the tmpfs; without
# it the test says so and passes (the unit test test_store covers a full disk with
# RLIMIT_FSIZE everywhere).
set -euo pipefail
PATH=${MINGA_BIN:?MINGA_BIN must name the build bin/ directory}:$PATH
tmp=$(mktemp -d /tmp/minga-XXXXXX)
mnt=$tmp/disk
mkdir -p "$mnt"
cleanup() {
    umount "$mnt" 2>/dev/null || true
    rm -rf "$tmp"
}
trap cleanup EXIT
fail() { echo "FAIL: $*" >&2; exit 1; }
if ! mount -t tmpfs -o size=4m tmpfs "$mnt" 2>/dev/null; then
    echo "test_disk_full: cannot mount a tmpfs here (not root?): skipped"
    exit 0
fi
minga demo-data --out "$tmp/data" --scale 20 2>/dev/null
s=$mnt/store
minga --store "$s" init >/dev/null
minga --store "$s" import gads "$tmp/data/gads.csv" >/dev/null
minga --store "$s" import cooperantes "$tmp/data/cooperantes.csv" >/dev/null
before=$(minga --store "$s" export cooperantes | md5sum)
rc=0
minga --store "$s" import offers "$tmp/data/offers.csv" >"$tmp/out" 2>"$tmp/err" || rc=$?
[ $rc = 1 ] || { cat "$tmp/out" "$tmp/err"; fail "an import onto a full disk exited $rc, not 1"; }
grep -c "store $s" "$tmp/err" >/dev/null || { cat "$tmp/err"; fail "the error does not name the store"; }
grep -c "nothing was imported" "$tmp/err" >/dev/null || { cat "$tmp/err"; fail "the error does not say nothing was imported"; }
[ "$(minga --store "$s" export offers | wc -l)" = 1 ] || fail "offers were written on a full disk"
[ "$(minga --store "$s" export cooperantes | md5sum)" = "$before" ] || fail "the store changed"
# room again: the same import goes through
mount -o remount,size=64m "$mnt"
minga --store "$s" import offers "$tmp/data/offers.csv" >/dev/null || fail "import after the disk has room"
n=$(($(wc -l <"$tmp/data/offers.csv") - 1))
[ "$(minga --store "$s" export offers | tail -n +2 | wc -l)" = "$n" ] || fail "not every offer landed"
echo "test_disk_full: ok"
