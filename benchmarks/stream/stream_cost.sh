#!/usr/bin/env bash
# Per-hop cost of the exported streaming API against a one-shot inference, and the real-time
# factor, for the edge model (initial weights: the cost does not depend on them) at a 0.25 s hop.
#   bash benchmarks/stream/stream_cost.sh > benchmarks/stream/stream_cost.txt
# One process each: load the weights + 1 inference; + 5 inferences; + a 20 s stream (77 windows).
# A one-shot inference = (five − one) / 4; a hop = (stream − one) / 76. Three repetitions, medians.
set -euo pipefail
cd "$(dirname "$0")/../.."
Q=.build/release/qemlc
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
$Q synth --timeline healthy:5,outer_race:5,inner_race:5,ball:5 -o "$work/long.wav" >/dev/null
$Q init-weights examples/qemlnet-edge.qir --seed 1 -o "$work/edge.safetensors" >/dev/null
$Q export examples/qemlnet-edge.qir --weights "$work/edge.safetensors" -o "$work/edge" >/dev/null
make -s -C "$work/edge"
s=examples/signals
t() { /usr/bin/time -f "%e" "$@" 2>&1 >/dev/null | tail -1; }
one=(); five=(); stream=()
for _ in 1 2 3; do
    one+=("$(t "$work/edge/classify" $s/ball.wav)")
    five+=("$(t "$work/edge/classify" $s/ball.wav $s/cage.wav $s/healthy.wav $s/unbalance.wav $s/misalignment.wav)")
    stream+=("$(t "$work/edge/classify" --stream "$work/long.wav")")
done
windows=$("$work/edge/classify" --stream "$work/long.wav" | wc -l)
python3 - "$windows" "${one[*]}" "${five[*]}" "${stream[*]}" <<'PY'
import statistics, sys
windows = int(sys.argv[1]); one, five, stream = (statistics.median(map(float, a.split())) for a in sys.argv[2:])
shot = (five - one) / 4; hop = (stream - one) / (windows - 1)
print(f"cpu: {open('/proc/cpuinfo').read().split('model name')[1].split(':')[1].splitlines()[0].strip()}, 1 thread (the exported runtime)")
print(f"wall s (medians of 3): load + 1 inference {one:.3f}, + 5 {five:.3f}, + stream of {windows} windows {stream:.3f}")
print(f"one-shot inference {shot * 1e3:.1f} ms; per hop {hop * 1e3:.1f} ms = {hop / shot:.2f} x one-shot")
print(f"real-time factor at a 0.25 s hop: {hop / 0.25:.3f} (a hop's work takes {100 * hop / 0.25:.1f} % of the hop); whole 20 s stream incl. loading: {stream / 20:.3f}")
PY
