#!/usr/bin/env bash
# Runs the test suite under AddressSanitizer and ThreadSanitizer, each in its own build folder
# (.build-asan, .build-tsan; git-ignored).
#
#   scripts/sanitize.sh [address|thread|all] [FILTER]
#
# FILTER (a `swift test --filter` regex) defaults to the full suite (measured on the shared
# 2-core machine: ASan 12 min, TSan 6 min, plus a 6-minute build each). QEMLC_TSAN_QUICK=1
# limits TSan to the tests that exercise threads, caches and readers (under 2 minutes).
set -euo pipefail
cd "$(dirname "$0")/.."
which="${1:-all}"
tsanFilter=""
[[ "${QEMLC_TSAN_QUICK:-}" == 1 ]] && tsanFilter='RobustnessTests|ExecutorTests|CircuitKernelTests|FrontEndTests|STFTTests|CompilerTests'

run() {  # sanitizer, filter
    local s=$1 filter=$2 dir=.build-${1/address/asan}
    dir=${dir/thread/tsan}
    echo "== swift test --sanitize=$s ${filter:+--filter '$filter'} (build folder $dir)"
    swift build --build-tests --sanitize="$s" --scratch-path "$dir"
    local args=(--skip-build --sanitize="$s" --scratch-path "$dir")
    [[ -n "$filter" ]] && args+=(--filter "$filter")
    # halt_on_error: the first report fails the run; LLVM's own allocations are not ours to fix.
    ASAN_OPTIONS="detect_leaks=0:halt_on_error=1:${ASAN_OPTIONS:-}" \
    TSAN_OPTIONS="halt_on_error=1:second_deadlock_stack=1:${TSAN_OPTIONS:-}" \
        swift test "${args[@]}"
}

case "$which" in
    address) run address "${2:-}" ;;
    thread) run thread "${2:-$tsanFilter}" ;;
    all) run address "${2:-}"; run thread "${2:-$tsanFilter}" ;;
    *) echo "usage: scripts/sanitize.sh [address|thread|all] [FILTER]" >&2; exit 2 ;;
esac
