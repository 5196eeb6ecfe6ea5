#!/usr/bin/env bash
# schedule.sh: the scheduling benchmark (issue 6). On the default Jornada (demo-data scale 1)
# and a scale-10 event: Minga's schedule (`minga rueda schedule` through the broker) against
# the exact optimum of DESIGN.md §7's objective (SciPy's HiGHS, out of process; the model is
# in tests/bench/schedule_model.py) and a greedy baseline; total score and its ratio to the
# optimum, GADs at their minimum, Gini of meetings per GAD, time and the match worker's peak
# memory; every schedule judged by tests/integration/schedule_checker.py. Writes
# tests/bench/results/schedule.md and schedule.json.
#
#   tests/bench/schedule.sh [BUILD_DIR] [schedule_bench.py options]   (default build/)
#   e.g. tests/bench/schedule.sh build --time-limit 60 --scales 1
set -euo pipefail
cd "$(dirname "$0")/../.."
build=${1:-build}
shift || true
exec /usr/bin/python3 tests/bench/schedule_bench.py --build "$build" \
    --command "tests/bench/schedule.sh $build${*:+ $*}" "$@"
