#!/usr/bin/env bash
# Builds and runs the libFuzzer harnesses in Fuzz/ (not part of `swift build`).
#
#   scripts/fuzz.sh [TARGET|all|build] [SECONDS]
#
# TARGET is one of: qir safetensors npy wav csv export-weights export-signal (default: all,
# 60 s each; scripts/test.sh runs `all 8` as a smoke test). Each Swift harness is compiled with -sanitize=fuzzer,address together with the
# module sources it exercises: QEMLTensor and QEMLIR as modules, the WAV/CSV readers as files
# (they need no FFTW). The export-* harnesses are C: they are compiled with the Swift
# toolchain's clang (-fsanitize=fuzzer,address,undefined) against a fresh `qemlc export` of
# examples/qemlnet-tiny.qir in .build-fuzz/export/ (qemlc: $QEMLC, else .build/{release,debug}/qemlc,
# else `swift build --product qemlc`).
# Seeds come from Fuzz/seeds/<target>/ (committed, small); the growing corpus lives in
# .build-fuzz/corpus/<target>/ and crash reproducers in .build-fuzz/crashes/<target>/.
# Extra libFuzzer flags: QEMLC_FUZZ_FLAGS (e.g. "-jobs=1 -max_len=65536").
set -euo pipefail
cd "$(dirname "$0")/.."
ALL="qir safetensors npy wav csv export-weights export-signal"
what="${1:-all}"
seconds="${2:-60}"
out=.build-fuzz
mkdir -p "$out/obj"
FLAGS=(-sanitize=fuzzer,address -parse-as-library -O -g -swift-version 6)

# gold warns once per ASan helper symbol; nothing else is filtered.
swiftc() { command swiftc "$@" 2> >(grep -v "Cannot export local symbol '__asan" >&2); }

# A module's object is rebuilt when one of its sources is newer.
module() {  # name, include dirs..., sources...
    local name=$1; shift
    local srcs=("$@")
    local obj="$out/obj/$name.o"
    if [[ -f "$obj" ]] && [[ -z "$(find "${srcs[@]}" -newer "$obj" 2>/dev/null)" ]]; then return; fi
    echo "building module $name"
    swiftc "${FLAGS[@]}" -module-name "$name" -emit-module -emit-module-path "$out/obj/$name.swiftmodule" \
        -I "$out/obj" -wmo -c "${srcs[@]}" -o "$obj"
}

# The Swift toolchain's clang (it ships libFuzzer's runtime): $QEMLC_FUZZ_CLANG, else the one
# beside swiftc, else clang on PATH.
fuzzing_clang() {
    if [[ -n ${QEMLC_FUZZ_CLANG:-} ]]; then echo "$QEMLC_FUZZ_CLANG"; return; fi
    local beside
    beside="$(dirname "$(realpath "$(command -v swiftc)")")/clang"
    if [[ -x $beside ]]; then echo "$beside"; else command -v clang; fi
}

# The tiny model exported (with seed-0 weights) into $out/export, redone when qemlc is newer.
export_tiny() {
    local qemlc=${QEMLC:-}
    if [[ -z "$qemlc" ]]; then
        for q in .build/release/qemlc .build/debug/qemlc; do [[ -x $q ]] && { qemlc=$q; break; }; done
    fi
    if [[ -z "$qemlc" ]]; then swift build --product qemlc >&2; qemlc=.build/debug/qemlc; fi
    local dir=$out/export
    if [[ -f $dir/qemlnet-tiny.weights && $dir/qemlnet-tiny.weights -nt $qemlc && $dir/qemlnet-tiny.weights -nt examples/qemlnet-tiny.qir ]]; then return; fi
    echo "exporting examples/qemlnet-tiny.qir with $qemlc"
    rm -rf "$dir"; mkdir -p "$dir"
    "$qemlc" init-weights examples/qemlnet-tiny.qir -o "$dir/tiny.safetensors" >/dev/null
    "$qemlc" export examples/qemlnet-tiny.qir --weights "$dir/tiny.safetensors" -o "$dir" --force >/dev/null
}

# Seeds of the C harnesses come from the export and the example signals (not committed).
export_seeds() {  # target
    local seeds=$out/seeds/$1
    mkdir -p "$seeds"
    case "$1" in
        export-weights)
            # bytes 0-1: size change; 2-65: the header; then 5-byte edits (offset, value).
            { printf '\x00\x00'; head -c 64 "$out/export/qemlnet-tiny.weights"; } >"$seeds/valid-header"
            { printf '\xc0\xff'; head -c 64 "$out/export/qemlnet-tiny.weights"; printf '\x40\x00\x00\x00\x7f'; } >"$seeds/short-edited" ;;
        export-signal)  # first byte even: a file for read_signal; odd: raw float32 samples
            for w in examples/signals/*.wav Tests/QEMLSignalTests/Fixtures/*.wav; do
                { printf '\x00'; head -c 65536 "$w"; } >"$seeds/file-$(basename "$w")"
                { printf '\x01'; tail -c +45 "$w" | head -c 65536; } >"$seeds/raw-$(basename "$w" .wav).f32"
            done ;;
    esac
}

build() {  # target
    local t=$1
    case "$t" in export-*)
        export_tiny
        local clang
        clang=$(fuzzing_clang)
        local cflags=(-fsanitize=address,undefined -fno-sanitize-recover=undefined -O2 -g -std=gnu11 -fno-math-errno -I "$out/export")
        # The signal harness drops comparison tracing in the runtime: its front-end loops (FFT,
        # resize) branch on nothing but constants, and tracing them took 65 % of the time.
        local runtime_cov=(-fsanitize=fuzzer-no-link)
        [[ $t == export-signal ]] && runtime_cov+=(-fno-sanitize-coverage=trace-cmp)
        "$clang" "${cflags[@]}" "${runtime_cov[@]}" -c "$out/export/qemlnet-tiny_runtime.c" -o "$out/obj/$t-runtime.o"
        "$clang" "${cflags[@]}" -fsanitize=fuzzer "Fuzz/${t/-/_}.c" "$out/obj/$t-runtime.o" "$out/export/qemlnet-tiny.o" -lm \
            -o "$out/fuzz-$t" 2> >(grep -v "Cannot export local symbol '__asan" >&2)
        export_seeds "$t"
        return ;;
    esac
    module QEMLTensor Sources/QEMLTensor/*.swift
    case "$t" in
        qir)
            module QEMLIR Sources/QEMLIR/*.swift
            swiftc "${FLAGS[@]}" -I "$out/obj" Fuzz/qir.swift "$out/obj/QEMLIR.o" "$out/obj/QEMLTensor.o" -o "$out/fuzz-qir" ;;
        safetensors|npy)
            swiftc "${FLAGS[@]}" -I "$out/obj" "Fuzz/$t.swift" "$out/obj/QEMLTensor.o" -o "$out/fuzz-$t" ;;
        wav|csv)
            swiftc "${FLAGS[@]}" -I "$out/obj" -module-name "Fuzz_$t" "Fuzz/$t.swift" \
                Sources/QEMLSignal/{WAVReader,CSVReader,Recording}.swift "$out/obj/QEMLTensor.o" -o "$out/fuzz-$t" ;;
        *) echo "unknown target '$t' (one of: $ALL)" >&2; exit 2 ;;
    esac
}

run() {  # target, seconds
    local t=$1 s=$2
    mkdir -p "$out/corpus/$t" "$out/crashes/$t"
    echo "== fuzz-$t for ${s}s"
    local log="$out/fuzz-$t.log" status=0 seeds="Fuzz/seeds/$t" extra=""
    case "$t" in
        export-weights) seeds=$out/seeds/$t; extra="-max_len=4096" ;;
        export-signal) seeds=$out/seeds/$t; extra="-max_len=131072" ;;
    esac
    QEMLC_FUZZ_WEIGHTS=$out/export/qemlnet-tiny.weights; export QEMLC_FUZZ_WEIGHTS
    # shellcheck disable=SC2086
    "$out/fuzz-$t" "$out/corpus/$t" "$seeds" $extra -max_total_time="$s" -timeout=10 -rss_limit_mb=2048 \
        -artifact_prefix="$out/crashes/$t/" -print_final_stats=1 ${QEMLC_FUZZ_FLAGS:-} >"$log" 2>&1 || status=$?
    grep -E "^(Done|stat::(number_of_executed_units|average_exec_per_sec|new_units_added|peak_rss_mb))|ERROR|SUMMARY|Test unit written|Fatal error|deadly signal" "$log" || true
    if [[ $status -ne 0 || -n "$(ls -A "$out/crashes/$t")" ]]; then
        echo "fuzz-$t: FAILED (exit $status); log $log, reproducers in $out/crashes/$t/" >&2
        return 1
    fi
}

targets=$ALL
case "$what" in
    all) ;;
    build) for t in $ALL; do build "$t"; done; exit 0 ;;
    *) targets=$what ;;
esac
for t in $targets; do build "$t"; run "$t" "$seconds"; done
