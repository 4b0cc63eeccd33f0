#!/usr/bin/env bash
# Runs the test suite under AddressSanitizer and ThreadSanitizer, each in its own build folder
# (.build-asan, .build-tsan; git-ignored), and the exported C runtime's example under valgrind.
#
#   scripts/sanitize.sh [address|thread|valgrind|all] [FILTER]
#
# valgrind: examples/qemlnet-tiny.qir exported (seed-0 weights; with a weights file and with
# --embed-weights) into .build-valgrind/, its Makefile's `classify` built with -g, and run under
# memcheck (--leak-check=full) on every example WAV, raw float32 samples, the signal fixtures,
# and refused inputs (damaged, truncated, other-target weights; truncated, missing, non-signal
# files). Any memcheck error or leak fails the run. Targets: x86-64-avx2 (when the CPU has
# AVX2) and x86-64-v2 — valgrind decodes no AVX-512, which `host` may use; aarch64-neon on Arm.
# qemlc: $QEMLC, else .build/debug/qemlc (built when missing). valgrind is installed on demand
# (Debian, as root) when missing.
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

# Runs "$@" under memcheck; fails on any memcheck error or leak, returns the program's status.
memcheck() {
    local status=0
    valgrind -q --error-exitcode=99 --leak-check=full --track-origins=yes "$@" >>"$vglog" 2>&1 || status=$?
    if [[ $status -eq 99 ]]; then echo "valgrind: memcheck errors in: $* (log $vglog)" >&2; tail -40 "$vglog" >&2; exit 1; fi
    return $status
}

# Runs "$@" (after `expect`) under memcheck and checks the program's exit status.
expect() {  # status, command...
    local want=$1 got=0; shift
    memcheck "$@" || got=$?
    if [[ $got -ne $want ]]; then echo "valgrind: exit $got, expected $want: $* (log $vglog)" >&2; tail -20 "$vglog" >&2; exit 1; fi
    echo "  ok (exit $got): ${*##*/}"
}

valgrind_export() {
    if ! command -v valgrind >/dev/null; then
        if [[ $(id -u) -eq 0 ]] && command -v apt-get >/dev/null; then
            echo "sanitize: valgrind missing, installing it (apt-get install valgrind)"
            DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends valgrind >/dev/null \
                || { apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends valgrind >/dev/null; }
        else
            echo "sanitize: valgrind is not installed; run: sudo apt-get install valgrind" >&2; exit 1
        fi
    fi
    local qemlc=${QEMLC:-.build/debug/qemlc}
    [[ -x $qemlc ]] || swift build --product qemlc
    qemlc=$(realpath "$qemlc")
    local root=$PWD dir=$PWD/.build-valgrind targets
    case "$(uname -m)" in
        x86_64) targets="x86-64-v2"; grep -qw avx2 /proc/cpuinfo && targets="x86-64-avx2 $targets" ;;
        aarch64) targets="aarch64-neon" ;;
        *) echo "sanitize: no exported target for $(uname -m)" >&2; exit 1 ;;
    esac
    rm -rf "$dir"; mkdir -p "$dir"
    vglog=$dir/valgrind.log
    "$qemlc" init-weights examples/qemlnet-tiny.qir -o "$dir/tiny.safetensors" >/dev/null
    local signals=("$root"/examples/signals/*.wav)
    # Damaged inputs, made once: a WAV cut inside its data and after the data chunk's header
    # (both refused: the chunk claims bytes that do not follow), before it (no data chunk).
    head -c 3000 "$root/examples/signals/ball.wav" >"$dir/truncated.wav"
    head -c 44 "$root/examples/signals/ball.wav" >"$dir/header-only.wav"
    head -c 36 "$root/examples/signals/ball.wav" >"$dir/no-data.wav"
    printf 'time,accel\n0,1\n' >"$dir/not-a-signal.csv"
    tail -c +45 "$root/examples/signals/stereo_float32.wav" | head -c 96000 >"$dir/raw.f32"
    for t in $targets; do
        for embed in "" --embed-weights; do
            local out=$dir/$t${embed:+-embedded}
            echo "== valgrind: qemlnet-tiny exported for $t ${embed:-(weights file)}"
            "$qemlc" export examples/qemlnet-tiny.qir --weights "$dir/tiny.safetensors" --target "$t" $embed -o "$out" >/dev/null
            make -s -C "$out" CFLAGS="-O2 -g -std=c11 -fno-math-errno -Wall" >/dev/null
            (
                cd "$out"
                expect 0 ./classify "${signals[@]}"
                expect 0 ./classify --spectrogram-out "$dir/spectrogram.f32" "$dir/raw.f32"
                # Fixtures: some are read, some refused (8/24/32-bit PCM, other rates): either way clean.
                memcheck ./classify "$root"/Tests/QEMLSignalTests/Fixtures/*.wav || true
                expect 1 ./classify "$dir/truncated.wav"
                expect 1 ./classify "$dir/header-only.wav"
                expect 1 ./classify "$dir/no-data.wav"
                expect 1 ./classify "$dir/not-a-signal.csv"
                expect 1 ./classify "$dir/does-not-exist.wav"
                if [[ -z $embed ]]; then
                    local w=qemlnet-tiny.weights size
                    size=$(stat -c %s $w)
                    head -c $((size - 64)) $w >"$dir/truncated.weights"
                    { head -c $((size / 2)) $w; printf '\x55'; tail -c +$((size / 2 + 2)) $w; } >"$dir/corrupt.weights"
                    expect 1 ./classify --weights "$dir/truncated.weights" "${signals[0]}"
                    expect 1 ./classify --weights "$dir/corrupt.weights" "${signals[0]}"
                    if [[ $t == x86-64-v2 && $targets == *avx2* ]]; then   # packed for another target
                        expect 1 ./classify --weights "$dir/x86-64-avx2/qemlnet-tiny.weights" "${signals[0]}"
                    fi
                fi
            )
        done
    done
    echo "valgrind: clean ($(grep -c . "$vglog" || true) lines of program output in $vglog)"
}

case "$which" in
    address) run address "${2:-}" ;;
    thread) run thread "${2:-$tsanFilter}" ;;
    valgrind) valgrind_export ;;
    all) run address "${2:-}"; run thread "${2:-$tsanFilter}"; valgrind_export ;;
    *) echo "usage: scripts/sanitize.sh [address|thread|valgrind|all] [FILTER]" >&2; exit 2 ;;
esac
