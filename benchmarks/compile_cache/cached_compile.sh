#!/bin/sh
# A cached compile of the edge model (issue #11, item 7), release build, in a private cache:
#   cold  - empty cache: LLVM and weight packing run, both caches are written;
#   warm  - the object cache and the packed-weights cache hit;
#   floor - what every qemlc process pays before compiling (start-up: dynamic libraries incl.
#           libLLVM, Swift runtime), for scale.
# Prints hyperfine's tables, then the in-process phases `compile` reports over 20 warm runs
# (median), then one `run` and one `bench` with QEMLC_DEBUG=1 to show they hit the same cache.
# Usage: sh benchmarks/compile_cache/cached_compile.sh   (from the repository root)
set -e
Q=${QEMLC:-.build/release/qemlc}
SCRATCH=$(mktemp -d)
trap 'rm -rf "$SCRATCH"' EXIT
W=$SCRATCH/edge.safetensors
XDG_CACHE_HOME=$SCRATCH/cache
export XDG_CACHE_HOME
MODEL=examples/qemlnet-edge.qir
$Q init-weights $MODEL --seed 1 -o "$W" >/dev/null
echo "load: $(cut -d' ' -f1-3 /proc/loadavg); $(nproc) cores; $(date -u +%H:%M) UTC; cache $XDG_CACHE_HOME"

hyperfine --style basic --runs 3 --prepare "$Q cache clear" -n cold "$Q compile $MODEL --weights $W"
hyperfine --style basic --warmup 2 --runs 20 -n warm "$Q compile $MODEL --weights $W" -n floor "$Q --version"

echo "in-process phases of 20 warm compiles (median, ms):"
for i in $(seq 20); do $Q compile $MODEL --weights "$W" | grep -E '^(weights:|compile time)'; done | python3 -c '
import re, statistics, sys
lines = sys.stdin.read().splitlines()
read = [float(re.search(r"in (\d+) ms", l).group(1)) for l in lines if l.startswith("weights:")]
rows = [list(map(int, re.findall(r"(\d+) ms", l))) for l in lines if l.startswith("compile time")]
def show(name, xs): print(f"  {name}: {statistics.median(xs):.0f} (min {min(xs):.0f}, max {max(xs):.0f})")
show("reading the weights file (before compiling)", read)
for i, n in enumerate(["compile total", "passes", "planning (key, map, verify)", "LLVM (object cache hit, link)"]):
    show(n, [r[i] for r in rows])'
$Q cache info
echo "run and bench use the same cache:"
QEMLC_DEBUG=1 $Q run $MODEL --weights "$W" --input examples/signals/ball.wav --top 1 2>&1 | grep '^qemlc: compiled'
QEMLC_DEBUG=1 $Q bench $MODEL --weights "$W" --iterations 1 --warmup 0 2>&1 | grep '^qemlc: compiled'
