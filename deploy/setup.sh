#!/usr/bin/env bash
# setup.sh: installs what Minga needs on Debian 12 (only the packages that are missing, with
# sudo when not root) and builds it into build/ (or $MINGA_BUILD).
#
#   deploy/setup.sh            build dependencies, then a release build in build/
#   deploy/setup.sh --tests    also what the test suite needs (cmocka, clang, python3-zmq...)
#   deploy/setup.sh --bench    also what the benchmarks compare against (sqlite3, beanstalkd...)
#   deploy/setup.sh --no-build only install
set -euo pipefail
cd "$(dirname "$0")/.."

want_tests=0 want_bench=0 build=1
for arg in "$@"; do
    case "$arg" in
    --tests) want_tests=1 ;;
    --bench) want_tests=1 want_bench=1 ;;
    --no-build) build=0 ;;
    -h | --help)
        sed -n '2,9p' "$0" | sed 's/^# \{0,1\}//'
        exit 0
        ;;
    *)
        echo "setup.sh: unknown option '$arg' (see --help)" >&2
        exit 2
        ;;
    esac
done

pkgs=(gcc make libc6-dev cmake pkg-config
    libzmq3-dev libczmq-dev libmsgpack-dev liblmdb-dev libjansson-dev libcsv-dev
    libcurl4-openssl-dev libical-dev libcairo2-dev libpango1.0-dev libmicrohttpd-dev
    fonts-dejavu-core tzdata)
if [ $want_tests = 1 ]; then
    pkgs+=(libcmocka-dev clang clang-format-14 libclang-rt-14-dev python3 python3-zmq
        python3-msgpack procps util-linux git jq python3-scipy python3-aiosmtpd
        python3-icalendar chromium poppler-utils tmux python3-pil systemd)
fi
if [ $want_bench = 1 ]; then
    pkgs+=(sqlite3 beanstalkd gearman-job-server gearman-tools libgearman-dev time bc python3-numpy)
fi

missing=()
for p in "${pkgs[@]}"; do
    if ! dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q '^install ok installed'; then
        missing+=("$p")
    fi
done
if [ ${#missing[@]} -gt 0 ]; then
    sudo=()
    if [ "$(id -u)" != 0 ]; then
        command -v sudo >/dev/null || {
            echo "setup.sh: not root and no sudo: install ${missing[*]} by hand" >&2
            exit 1
        }
        sudo=(sudo)
    fi
    echo "setup.sh: installing ${missing[*]}" >&2
    "${sudo[@]}" env DEBIAN_FRONTEND=noninteractive apt-get update -qq >&2
    "${sudo[@]}" env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends \
        "${missing[@]}" >&2
fi

if [ $build = 1 ]; then
    dir=${MINGA_BUILD:-build}
    echo "setup.sh: building into $dir/" >&2
    tests=$([ $want_tests = 1 ] && echo ON || echo OFF)
    cmake -S . -B "$dir" -DCMAKE_BUILD_TYPE=RelWithDebInfo -DMINGA_TESTS=$tests >/dev/null
    cmake --build "$dir" -j "$(nproc)" >/dev/null 2>"$dir.log" || {
        cat "$dir.log" >&2
        echo "setup.sh: the build failed (log above, also in $dir.log)" >&2
        exit 1
    }
    rm -f "$dir.log"
    echo "setup.sh: built: $dir/bin/ holds $(ls "$dir/bin" | tr '\n' ' ')" >&2
fi
