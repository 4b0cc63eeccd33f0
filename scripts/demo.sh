#!/usr/bin/env bash
# The main job on the bundled examples: build qemlc; classify every bundled recording with the
# trained tiny model (each must come out as its true class); measure it on a freshly
# synthesized held-out set with `qemlc eval`; then compile and run the edge model, whose
# weights here are deterministic initial ones (not trained: too large to ship).
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/setup.sh --quiet
swift build -c release --product qemlc
qemlc=.build/release/qemlc
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT

echo "== the trained tiny model (examples/qemlnet-tiny.safetensors) on the bundled recordings"
$qemlc check examples/qemlnet-tiny.qir | tail -4
wrong=0
for label in healthy inner_race outer_race ball cage inner_outer misalignment unbalance; do
    top=$($qemlc run examples/qemlnet-tiny.qir --weights examples/qemlnet-tiny.safetensors \
              --input "examples/signals/$label.wav" --top 1 | awk 'NR == 3 { print $2, $3 }')
    mark=ok; [[ ${top%% *} == "$label" ]] || { mark=WRONG; wrong=1; }
    printf '  %-18s -> %-22s %s\n' "$label.wav" "$top" "$mark"
done

echo "== qemlc eval on 400 recordings it never saw (seed 2027, 1450-1850 rpm, SNR -5..20 dB)"
$qemlc synth --dataset "$work/held-out" --per-class 50 --seed 2027 --rpm 1450:1850
$qemlc eval examples/qemlnet-tiny.qir "$work/held-out" --weights examples/qemlnet-tiny.safetensors --by snr_db:-5,0,10,20

echo "== the edge model (ResNet-50 + CBAM; initial weights, not trained): compile and run"
$qemlc check examples/qemlnet-edge.qir
$qemlc init-weights examples/qemlnet-edge.qir --seed 1 -o "$work/edge.safetensors"
$qemlc compile examples/qemlnet-edge.qir
$qemlc run examples/qemlnet-edge.qir --weights "$work/edge.safetensors" --input examples/signals/outer_race.wav
exit $wrong
