#!/usr/bin/env bash
# Runs the test suite under AddressSanitizer and ThreadSanitizer, each in its own build folder
# (.build-asan, .build-tsan; git-ignored).
#
#   scripts/sanitize.sh [address|thread|all] [FILTER]
#
# FILTER (a `swift test --filter` regex) defaults to the full suite under ASan and to the
# tests that exercise threads, caches and readers under TSan (the full suite under TSan is
# several times slower than the 15-minute budget on a 2-core machine).
set -euo pipefail
cd "$(dirname "$0")/.."
which="${1:-all}"
TSAN_DEFAULT='RobustnessTests|ExecutorTests|CircuitKernelTests|FrontEndTests|STFTTests|CompilerTests'

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
    thread) run thread "${2:-$TSAN_DEFAULT}" ;;
    all) run address "${2:-}"; run thread "${2:-$TSAN_DEFAULT}" ;;
    *) echo "usage: scripts/sanitize.sh [address|thread|all] [FILTER]" >&2; exit 2 ;;
esac
