#!/usr/bin/env bash
# The test command (README, .ci/run): set up, build, run the whole suite, then build every fuzz
# harness and run each for a few seconds from its seeds (a crash fails the run; Tests/FUZZING.md).
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/setup.sh
swift build --build-tests
swift test --skip-build
bash scripts/fuzz.sh all "${QEMLC_FUZZ_SECONDS:-8}"
