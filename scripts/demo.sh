#!/usr/bin/env bash
# The main job on the bundled example: build qemlc, make deterministic weights for the edge
# model, and classify a synthetic outer-race-fault recording end to end (front end + network).
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/setup.sh --quiet
swift build -c release --product qemlc
qemlc=.build/release/qemlc
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
$qemlc check examples/qemlnet-edge.qir
$qemlc init-weights examples/qemlnet-edge.qir --seed 1 -o "$work/edge.safetensors"
$qemlc compile examples/qemlnet-edge.qir
$qemlc run examples/qemlnet-edge.qir --weights "$work/edge.safetensors" --input examples/signals/outer_race.wav
