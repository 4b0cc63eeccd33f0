#!/bin/sh
# Builds benchmarks/quantum/.runner/qemlc-quantum-bench from the release objects of the
# QEMLQuantum target and its dependencies (dev-time only; `qemlc bench-circuit` replaces it).
# With a CPU argument (e.g. haswell: AVX2 + FMA) it builds a host-tuned variant in its own build directory,
# .runner/qemlc-quantum-bench-CPU: the same Swift code compiled for AVX2/FMA instead of the
# x86-64 baseline (SSE2), which is what the LLVM-specialized kernels will target.
set -eu
cd "$(dirname "$0")/../.."
CPU=${1:-}
if [ -n "$CPU" ]; then
    FLAGS="--scratch-path .build-bench-$CPU -Xswiftc -target-cpu -Xswiftc $CPU"
    OUT=benchmarks/quantum/.runner/qemlc-quantum-bench-$CPU
    SWIFTC_CPU="-target-cpu $CPU"
else
    FLAGS=""
    OUT=benchmarks/quantum/.runner/qemlc-quantum-bench
    SWIFTC_CPU=""
fi
swift build -c release $FLAGS --target QEMLQuantum
BIN=$(swift build -c release $FLAGS --show-bin-path)
mkdir -p benchmarks/quantum/.runner
swiftc -O $SWIFTC_CPU -I "$BIN/Modules" benchmarks/quantum/runner/main.swift \
    "$BIN"/QEMLTensor.build/*.o "$BIN"/QEMLIR.build/*.o "$BIN"/QEMLQuantum.build/*.o -o "$OUT"
echo "$OUT"
