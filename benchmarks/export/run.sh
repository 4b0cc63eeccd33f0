#!/bin/sh
# Exported runtime vs the JIT on the host, one thread, same model, weights and plan.
# Interleaved trials (this machine is shared and noisy): every contender's best p50 and min.
#   benchmarks/export/run.sh [model.qir] [trials]      (needs a release build: swift build -c release)
# With OLD=path/to/another/qemlc, that qemlc's export runs too (same weights, target and kernels),
# in rows of its own: how a change of the exported runtime changes its speed.
set -eu
MODEL=${1:-examples/qemlnet-edge.qir}
TRIALS=${2:-5}
QEMLC=${QEMLC:-.build/release/qemlc}
OLD=${OLD:-}
STEM=$(basename "$MODEL" .qir)
PREFIX=$(echo "$STEM" | tr -c 'a-zA-Z0-9\n' '_' | tr 'A-Z' 'a-z')
UPPER=$(echo "$PREFIX" | tr 'a-z' 'A-Z')
WORK=$(mktemp -d)
trap 'rm -rf "$WORK"' EXIT
"$QEMLC" init-weights "$MODEL" -o "$WORK/w.safetensors" >/dev/null
VERSIONS="new"
[ -n "$OLD" ] && VERSIONS="old new"
for v in $VERSIONS; do
  if [ "$v" = old ]; then q=$OLD; else q=$QEMLC; fi
  "$q" export "$MODEL" --weights "$WORK/w.safetensors" --target host -o "$WORK/$v" >/dev/null
  cc -O2 -std=c11 -fno-math-errno -DMODEL_HEADER="\"$STEM.h\"" -DPREFIX="$PREFIX" -DPREFIX_UPPER="$UPPER" -I"$WORK/$v" \
     -o "$WORK/bench-$v" benchmarks/export/bench.c "$WORK/$v/${STEM}_runtime.c" "$WORK/$v/$STEM.o" -lm
done
for t in $(seq "$TRIALS"); do
  "$QEMLC" bench "$MODEL" --weights "$WORK/w.safetensors" --threads 1 --warmup 5 --iterations 30 --json \
    | python3 -c 'import json,sys; d=json.load(sys.stdin); l=d["latency_ms"]; print(json.dumps({"mode": "jit", "min": l["min"], "p50": l["p50"], "p90": l["p90"]}))'
  for v in $VERSIONS; do
    (cd "$WORK/$v" && "$WORK/bench-$v" "$STEM.weights" 5 30) | if [ "$v" = old ]; then sed 's/"mode": "/"mode": "old-/'; else cat; fi
  done
done | python3 -c '
import json, sys
best = {}
for line in sys.stdin:
    r = json.loads(line)
    b = best.setdefault(r["mode"], {"min": 1e9, "p50": 1e9})
    b["min"] = min(b["min"], r["min"]); b["p50"] = min(b["p50"], r["p50"])
print("| runtime | best p50 (ms) | best min (ms) | p50 / JIT p50 |")
print("|---|---:|---:|---:|")
rows = [("jit", "JIT (`qemlc bench --threads 1`)")]
for mode, name in [("network", "`run_spectrogram`"), ("signal", "`run_signal` (front end + network)")]:
    rows += [("old-" + mode, "exported by OLD, " + name), (mode, "exported, " + name)]
for mode, name in rows:
    if mode in best:
        b = best[mode]
        print("| %s | %.3f | %.3f | %.3f |" % (name, b["p50"], b["min"], b["p50"] / best["jit"]["p50"]))
'
