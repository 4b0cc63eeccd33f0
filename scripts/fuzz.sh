#!/usr/bin/env bash
# Builds and runs the libFuzzer harnesses in Fuzz/ (not part of `swift build`).
#
#   scripts/fuzz.sh [TARGET|all|build] [SECONDS]
#
# TARGET is one of: qir safetensors npy wav csv (default: all, 60 s each). Each harness is
# compiled with -sanitize=fuzzer,address together with the module sources it exercises:
# QEMLTensor and QEMLIR as modules, the WAV/CSV readers as files (they need no FFTW).
# Seeds come from Fuzz/seeds/<target>/ (committed, small); the growing corpus lives in
# .build-fuzz/corpus/<target>/ and crash reproducers in .build-fuzz/crashes/<target>/.
# Extra libFuzzer flags: QEMLC_FUZZ_FLAGS (e.g. "-jobs=1 -max_len=65536").
set -euo pipefail
cd "$(dirname "$0")/.."
ALL="qir safetensors npy wav csv"
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

build() {  # target
    local t=$1
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
    local log="$out/fuzz-$t.log" status=0
    # shellcheck disable=SC2086
    "$out/fuzz-$t" "$out/corpus/$t" "Fuzz/seeds/$t" -max_total_time="$s" -timeout=10 -rss_limit_mb=2048 \
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
