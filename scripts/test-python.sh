#!/usr/bin/env bash
# The Python package's tests (python/tests): installs the Python dependencies from PyPI and the
# package itself, then runs pytest against the qemlc built by `swift build` (QEMLC, default
# .build/debug/qemlc). The tests start and stop their own local Ray cluster (num_cpus=2).
set -euo pipefail
cd "$(dirname "$0")/.."
export QEMLC="${QEMLC:-$PWD/.build/debug/qemlc}"
[[ -x "$QEMLC" ]] || { echo "error: $QEMLC is not built; run swift build first" >&2; exit 1; }
python3 -m pip install --quiet --disable-pip-version-check \
    numpy pyarrow pandas "ray[data]" "torch==2.13.0+cpu" pennylane safetensors pytest
python3 -m pip install --quiet --disable-pip-version-check ./python
# From the repository's root, so that the installed package (not python/qemlc) is imported.
python3 -m pytest -q -p no:cacheprovider python/tests
