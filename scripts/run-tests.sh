#!/usr/bin/env bash
# Runs the cmocka unit tests (build/san/test/*) and the bats e2e tests (test/e2e/*.bats)
# against the sanitized build, then prints one summary line: "N passed, N failed".
set -u
cd "$(dirname "$0")/.."
passed=0
failed=0
export ASAN_OPTIONS="${ASAN_OPTIONS:-detect_leaks=1:abort_on_error=0:halt_on_error=1}"
export UBSAN_OPTIONS="${UBSAN_OPTIONS:-print_stacktrace=1:halt_on_error=1}"
log_dir=build/test-logs
mkdir -p "$log_dir"

if [ -z "${SKIP_UNIT:-}" ]; then
    for t in build/san/test/test_*; do
        [ -x "$t" ] || continue
        name=$(basename "$t")
        out="$log_dir/$name.log"
        if "$t" >"$out" 2>&1; then rc=0; else rc=$?; fi
        p=$(grep -E '^\[  PASSED  \] [0-9]+ test' "$out" | awk '{s+=$4} END {print s+0}')
        f=$(grep -E '^\[  FAILED  \] [0-9]+ test' "$out" | awk '{s+=$4} END {print s+0}')
        if [ "$rc" -ne 0 ] && [ "$f" -eq 0 ]; then f=1; fi # crashed or sanitizer report
        passed=$((passed + p))
        failed=$((failed + f))
        if [ "$f" -ne 0 ]; then
            echo "unit: $name FAILED ($p passed, $f failed); log:"
            tail -n 40 "$out"
        else
            echo "unit: $name ok ($p passed)"
        fi
    done
fi

if [ -z "${SKIP_E2E:-}" ]; then
    export LOCALCLUSTER="${LOCALCLUSTER:-$PWD/build/san/bin/localcluster}"
    tap="$log_dir/e2e.tap"
    files=("${@:-}")
    [ -n "${files[0]}" ] || files=(test/e2e/*.bats)
    bats --tap "${files[@]}" | tee "$tap"
    p=$(grep -cE '^ok ' "$tap")
    f=$(grep -cE '^not ok ' "$tap")
    passed=$((passed + p))
    failed=$((failed + f))
fi

echo "${passed} passed, ${failed} failed"
[ "$failed" -eq 0 ]
