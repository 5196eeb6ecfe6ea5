#!/usr/bin/env bash
# notify.sh: the notify benchmark (issue 7): every agenda of the default Jornada rendered and
# delivered to a loopback aiosmtpd server by minga notify with 1 and 2 notify workers, the
# render-only dry run, and Python's smtplib sending the same pre-rendered messages over one
# connection (tests/bench/notify_bench.py). Figures go to tests/bench/results/notify.md and
# notify.json.
#
#   tests/bench/notify.sh [BUILD_DIR]      (default build/; RUNS=N runs of each, default 3)
set -euo pipefail
cd "$(dirname "$0")/../.."
build=${1:-build}
[ -x "$build/bin/minga-notify-worker" ] || { echo "notify.sh: $build/bin/minga-notify-worker missing (build first)" >&2; exit 1; }
MINGA_BIN=$(cd "$build/bin" && pwd) BUILD=$build exec /usr/bin/python3 tests/bench/notify_bench.py
