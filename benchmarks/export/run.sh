#!/bin/sh
# Exported runtime vs the JIT on the host, one thread, same model, weights and plan.
# Interleaved trials (this machine is shared and noisy): every contender's best p50 and min.
#   benchmarks/export/run.sh [model.qir] [trials]      (needs a release build: swift build -c release)
set -eu
MODEL=${1:-examples/qemlnet-edge.qir}
TRIALS=${2:-5}
QEMLC=${QEMLC:-.build/release/qemlc}
STEM=$(basename "$MODEL" .qir)
PREFIX=$(echo "$STEM" | tr -c 'a-zA-Z0-9\n' '_' | tr 'A-Z' 'a-z')
UPPER=$(echo "$PREFIX" | tr 'a-z' 'A-Z')
WORK=$(mktemp -d)
trap 'rm -rf "$WORK"' EXIT
"$QEMLC" init-weights "$MODEL" -o "$WORK/w.safetensors" >/dev/null
"$QEMLC" export "$MODEL" --weights "$WORK/w.safetensors" --target host -o "$WORK/out"
cc -O2 -std=c11 -fno-math-errno -DMODEL_HEADER="\"$STEM.h\"" -DPREFIX="$PREFIX" -DPREFIX_UPPER="$UPPER" -I"$WORK/out" \
   -o "$WORK/bench" benchmarks/export/bench.c "$WORK/out/${STEM}_runtime.c" "$WORK/out/$STEM.o" -lm
for t in $(seq "$TRIALS"); do
  "$QEMLC" bench "$MODEL" --weights "$WORK/w.safetensors" --threads 1 --warmup 5 --iterations 30 --json \
    | python3 -c 'import json,sys; d=json.load(sys.stdin); l=d["latency_ms"]; print(json.dumps({"mode": "jit", "min": l["min"], "p50": l["p50"], "p90": l["p90"]}))'
  (cd "$WORK/out" && "$WORK/bench" "$STEM.weights" 5 30)
done | python3 -c '
import json, sys
best = {}
for line in sys.stdin:
    r = json.loads(line)
    b = best.setdefault(r["mode"], {"min": 1e9, "p50": 1e9})
    b["min"] = min(b["min"], r["min"]); b["p50"] = min(b["p50"], r["p50"])
print("| runtime | best p50 (ms) | best min (ms) | p50 / JIT p50 |")
print("|---|---:|---:|---:|")
for mode, name in [("jit", "JIT (`qemlc bench --threads 1`)"), ("network", "exported, `run_spectrogram`"), ("signal", "exported, `run_signal` (front end + network)")]:
    if mode in best:
        b = best[mode]
        print("| %s | %.2f | %.2f | %.3f |" % (name, b["p50"], b["min"], b["p50"] / best["jit"]["p50"]))
'
