#!/usr/bin/env bash
# Installs what qemlc needs to build on Debian/Ubuntu: FFTW (single precision), OpenBLAS,
# the LLVM C API, and the tools the edge-export tests use. Safe to run again: it installs
# only what is missing. `--quiet` (used by demo.sh, which runs it again after the
# README's own `bash scripts/setup.sh`) prints only what it installs and what is wrong, so the
# "ok" line appears once.
set -euo pipefail
quiet=0
[[ "${1:-}" == "--quiet" ]] && quiet=1

packages=(libfftw3-dev libopenblas-dev llvm-dev pkg-config)
# Edge export tests: cross compiler and user-mode emulator for AArch64.
packages+=(gcc-aarch64-linux-gnu libc6-dev-arm64-cross qemu-user)

missing=()
for p in "${packages[@]}"; do
    dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
done

if ((${#missing[@]})); then
    if [[ $(id -u) -ne 0 ]]; then
        echo "qemlc setup: missing Debian packages: ${missing[*]}" >&2
        echo "run as root:  sudo apt-get update && sudo apt-get install -y ${missing[*]}" >&2
        exit 1
    fi
    echo "qemlc setup: installing ${missing[*]}"
    export DEBIAN_FRONTEND=noninteractive
    apt-get update -qq
    apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
fi

command -v swift >/dev/null || { echo "qemlc setup: swift not found on PATH (Swift 6 toolchain required, see swift.org)" >&2; exit 1; }
command -v llvm-config >/dev/null || ls /usr/lib/llvm-*/bin/llvm-config >/dev/null 2>&1 \
    || { echo "qemlc setup: llvm-config not found after installing llvm-dev" >&2; exit 1; }
((quiet)) || echo "qemlc setup: ok ($(swift --version 2>&1 | head -1); LLVM $(llvm-config --version 2>/dev/null || echo '?'))"
