#!/usr/bin/env bash
# The test command (README, .ci/run): set up, build, run the whole suite, then the Python package's
# tests (scripts/test-python.sh), then build every fuzz harness and run each for a few seconds from
# its seeds (a crash fails the run; Tests/FUZZING.md).
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/setup.sh
swift build --build-tests
# Every test is an XCTest case; --disable-swift-testing skips SwiftPM's second, empty runner
# (it printed "Test run with 0 tests in 0 suites passed" after the XCTest summary).
swift test --skip-build --disable-swift-testing
bash scripts/test-python.sh
bash scripts/fuzz.sh all "${QEMLC_FUZZ_SECONDS:-8}"
