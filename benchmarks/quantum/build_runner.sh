#!/bin/sh
# Builds benchmarks/quantum/.runner/qemlc-quantum-bench from the release objects of the
# QEMLQuantum target and its dependencies (dev-time only; `qemlc bench-circuit` replaces it).
set -eu
cd "$(dirname "$0")/../.."
swift build -c release --target QEMLQuantum
BIN=$(swift build -c release --show-bin-path)
mkdir -p benchmarks/quantum/.runner
swiftc -O -I "$BIN/Modules" benchmarks/quantum/runner/main.swift \
    "$BIN"/QEMLTensor.build/*.o "$BIN"/QEMLIR.build/*.o "$BIN"/QEMLQuantum.build/*.o \
    -o benchmarks/quantum/.runner/qemlc-quantum-bench
echo benchmarks/quantum/.runner/qemlc-quantum-bench
