#!/usr/bin/env bash
# run.sh: the whole test suite, as CI runs it.
#   1. the release build (build/): unit, integration and fuzz-corpus tests (ctest, not bench);
#   2. the same suite built with AddressSanitizer + UndefinedBehaviorSanitizer (build-asan/);
#   3. the libFuzzer targets built with clang and run briefly on their corpus (build-fuzz/);
#   4. clang-format-14 over every C source: nothing to change.
# Each step names itself; the last line says how many steps passed and failed.
set -uo pipefail
cd "$(dirname "$0")/.."
jobs=$(nproc)
passed=0 failed=0
step() {
    local name=$1
    shift
    echo "== $name"
    if "$@"; then
        passed=$((passed + 1))
        echo "== $name: passed"
    else
        failed=$((failed + 1))
        echo "== $name: FAILED"
    fi
}

build_and_test() {
    local dir=$1
    shift
    cmake -S . -B "$dir" -DMINGA_TESTS=ON "$@" >/dev/null &&
        cmake --build "$dir" -j "$jobs" >"$dir.build.log" 2>&1 ||
        { tail -n 40 "$dir.build.log"; return 1; }
    (cd "$dir" && ctest -j "$jobs" -LE bench --output-on-failure --timeout 900)
}

fuzz_briefly() {
    command -v clang >/dev/null || { echo "clang missing"; return 1; }
    CC=clang cmake -S . -B build-fuzz -DMINGA_FUZZ=ON -DCMAKE_BUILD_TYPE=Debug >/dev/null &&
        cmake --build build-fuzz -j "$jobs" >build-fuzz.build.log 2>&1 ||
        { tail -n 40 build-fuzz.build.log; return 1; }
    local t rc=0 work
    for t in build-fuzz/tests/fuzz/fuzz_*; do
        [ -x "$t" ] || continue
        work=$(mktemp -d /tmp/minga-fuzz-XXXXXX)
        cp -r "tests/fuzz/corpus/$(basename "$t" | sed 's/^fuzz_//')/." "$work/"
        echo "fuzzing $(basename "$t") for ${MINGA_FUZZ_SECONDS:-20} s"
        "$t" -max_total_time="${MINGA_FUZZ_SECONDS:-20}" -print_final_stats=0 "$work" \
            >"$work.log" 2>&1 || { tail -n 30 "$work.log"; rc=1; }
        rm -rf "$work" "$work.log"
    done
    return $rc
}

format_check() {
    git ls-files '*.c' '*.h' | xargs clang-format-14 --dry-run --Werror
}

step "release build and tests" build_and_test build -DCMAKE_BUILD_TYPE=RelWithDebInfo
step "sanitizer build (ASan + UBSan) and tests" build_and_test build-asan \
    -DCMAKE_BUILD_TYPE=Debug -DMINGA_SANITIZE=ON
step "libFuzzer targets" fuzz_briefly
step "clang-format" format_check
echo "steps: $passed passed, $failed failed"
[ $failed = 0 ]
