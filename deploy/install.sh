#!/usr/bin/env bash
# deploy/install.sh: installs Minga for systemd on this host (DESIGN.md §9).
#
#   deploy/install.sh [--build DIR] [--prefix DIR] [--destdir DIR] [--no-user] [--no-reload]
#
# Puts the binaries of the build (minga, minga-broker and the minga-*-worker that were built)
# in PREFIX/bin (default /usr/local), the units minga-broker.service,
# minga-{match,notify,report}-worker@.service and minga-workers.target in
# /etc/systemd/system (with ExecStart pointing at PREFIX/bin), and, when they are not there
# yet, /etc/minga/minga.cfg (from deploy/minga.cfg.example, or empty) and /etc/minga/minga.env;
# creates the system user "minga" (unless --no-user) and reloads systemd when it runs.
# --destdir DIR installs under DIR (for packaging and for the tests: no user, no reload).
#
# Then:  systemctl enable --now minga-broker
#        systemctl start minga-match-worker@{1..8} minga-notify-worker@1 minga-report-worker@1
set -euo pipefail

here=$(cd "$(dirname "$0")" && pwd)
build=$here/../build
prefix=/usr/local
destdir=""
user=1
reload=1
while [ $# -gt 0 ]; do
    case $1 in
    --build) build=$2; shift ;;
    --prefix) prefix=$2; shift ;;
    --destdir) destdir=$2; user=0; reload=0; shift ;;
    --no-user) user=0 ;;
    --no-reload) reload=0 ;;
    -h | --help) sed -n '2,16p' "$0" | sed 's/^# \{0,1\}//'; exit 0 ;;
    *) echo "install.sh: usage error: unknown option '$1' (see --help)" >&2; exit 2 ;;
    esac
    shift
done

bin=$build/bin
[ -x "$bin/minga-broker" ] || {
    echo "install.sh: no minga-broker in $bin: build first (cmake --build $build) or give --build DIR" >&2
    exit 1
}

install -d "$destdir$prefix/bin" "$destdir/etc/systemd/system" "$destdir/etc/minga" \
    "$destdir$prefix/share/doc/minga"
for b in minga minga-broker minga-match-worker minga-notify-worker minga-report-worker; do
    [ -x "$bin/$b" ] && install -m 0755 "$bin/$b" "$destdir$prefix/bin/$b"
done
[ -f "$here/../README.md" ] && install -m 0644 "$here/../README.md" "$destdir$prefix/share/doc/minga/"

for u in "$here"/minga-broker.service "$here"/minga-*-worker@.service "$here"/minga-workers.target; do
    sed "s#/usr/local/bin/#$prefix/bin/#g; s#/usr/local/share/#$prefix/share/#g" "$u" \
        >"$destdir/etc/systemd/system/$(basename "$u")"
    chmod 0644 "$destdir/etc/systemd/system/$(basename "$u")"
done

if [ ! -e "$destdir/etc/minga/minga.cfg" ]; then
    if [ -f "$here/minga.cfg.example" ]; then
        install -m 0640 "$here/minga.cfg.example" "$destdir/etc/minga/minga.cfg"
    else
        printf '# Minga configuration (ZPL); every setting and its default: minga-broker --help\n' \
            >"$destdir/etc/minga/minga.cfg"
        chmod 0640 "$destdir/etc/minga/minga.cfg"
    fi
fi
if [ ! -e "$destdir/etc/minga/minga.env" ]; then
    cat >"$destdir/etc/minga/minga.env" <<'EOF'
# Read by the Minga units (EnvironmentFile). Uncomment to change.
#MINGA_STORE=/var/lib/minga
#MINGA_CONFIG=/etc/minga/minga.cfg
#MINGA_BROKER_OPTS=--metrics 127.0.0.1:9464
#MINGA_WORKER_OPTS=--capacity 2
EOF
    chmod 0644 "$destdir/etc/minga/minga.env"
fi

if [ $user = 1 ] && ! getent passwd minga >/dev/null; then
    useradd --system --home-dir /var/lib/minga --no-create-home --shell /usr/sbin/nologin minga
fi
if [ $user = 1 ]; then
    chgrp minga "$destdir/etc/minga/minga.cfg" 2>/dev/null || true
fi
if [ $reload = 1 ] && [ -d /run/systemd/system ]; then
    systemctl daemon-reload
fi
echo "Minga instalado en $destdir$prefix/bin; unidades en $destdir/etc/systemd/system"
