#!/bin/sh
# Two qemlc builds' exported runtimes side by side: same model, weights, target and kernels, each
# built with the export's Makefile flags and timed by bench.c; interleaved trials, best of each.
#   OLD=path/to/old/qemlc NEW=.build/release/qemlc benchmarks/export/compare.sh [model.qir] [trials]
set -eu
MODEL=${1:-examples/qemlnet-edge.qir}
TRIALS=${2:-7}
OLD=${OLD:?set OLD to the other qemlc binary}
NEW=${NEW:-.build/release/qemlc}
STEM=$(basename "$MODEL" .qir)
PREFIX=$(echo "$STEM" | tr -c 'a-zA-Z0-9\n' '_' | tr 'A-Z' 'a-z')
UPPER=$(echo "$PREFIX" | tr 'a-z' 'A-Z')
WORK=$(mktemp -d)
trap 'rm -rf "$WORK"' EXIT
"$NEW" init-weights "$MODEL" -o "$WORK/w.safetensors" >/dev/null
"$OLD" export "$MODEL" --weights "$WORK/w.safetensors" --target host -o "$WORK/old" >/dev/null
"$NEW" export "$MODEL" --weights "$WORK/w.safetensors" --target host -o "$WORK/new" >/dev/null
for v in old new; do
  cc -O2 -std=c11 -fno-math-errno -DMODEL_HEADER="\"$STEM.h\"" -DPREFIX="$PREFIX" -DPREFIX_UPPER="$UPPER" -I"$WORK/$v" \
     -o "$WORK/bench-$v" benchmarks/export/bench.c "$WORK/$v/${STEM}_runtime.c" "$WORK/$v/$STEM.o" -lm
done
for t in $(seq "$TRIALS"); do
  for v in old new; do (cd "$WORK/$v" && "$WORK/bench-$v" "$STEM.weights" 5 30 | sed "s/\"mode\": \"/\"mode\": \"$v-/"); done
done | python3 -c '
import json, sys
best = {}
for line in sys.stdin:
    r = json.loads(line)
    b = best.setdefault(r["mode"], {"min": 1e9, "p50": 1e9})
    b["min"] = min(b["min"], r["min"]); b["p50"] = min(b["p50"], r["p50"])
print("| runtime | best p50 (ms) | best min (ms) | p50 / old p50 |")
print("|---|---:|---:|---:|")
for m in ["network", "signal"]:
    for v in ["old", "new"]:
        k = v + "-" + m
        if k in best:
            print("| %s, %s | %.3f | %.3f | %.3f |" % (v, m, best[k]["p50"], best[k]["min"], best[k]["p50"] / best["old-" + m]["p50"]))
'
