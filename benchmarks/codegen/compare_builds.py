#!/usr/bin/env python3
"""Two qemlc builds' kernels on the same model and weights, interleaved in one run.

    python3 benchmarks/codegen/compare_builds.py OLD_QEMLC NEW_QEMLC MODEL WEIGHTS [--rounds 3]

Runs `qemlc bench MODEL --weights WEIGHTS --threads 1 --json` with each build in turn, `--rounds`
times (old, new, old, new, …), and prints per build the best end-to-end p50, the best minimum and
the best sum of per-kernel p50s, then new/old. Each build compiles once untimed first, so its
compile cache is warm and no round pays for LLVM.
"""
import argparse
import json
import subprocess


def bench(qemlc: str, model: str, weights: str, iterations: int) -> dict:
    out = subprocess.run([qemlc, "bench", model, "--weights", weights, "--threads", "1", "--json",
                          "--iterations", str(iterations), "--warmup", "5"],
                         check=True, capture_output=True, text=True).stdout
    return json.loads(out)


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("old")
    ap.add_argument("new")
    ap.add_argument("model")
    ap.add_argument("weights")
    ap.add_argument("--rounds", type=int, default=3)
    ap.add_argument("--iterations", type=int, default=20)
    args = ap.parse_args()

    builds = {"old": args.old, "new": args.new}
    for q in builds.values():
        subprocess.run([q, "compile", args.model, "--weights", args.weights], check=True, capture_output=True)
    best = {k: {"p50": float("inf"), "min": float("inf"), "kernels": float("inf")} for k in builds}
    for _ in range(args.rounds):
        for name, q in builds.items():
            r = bench(q, args.model, args.weights, args.iterations)
            kernels = sum(k["p50_ms"] for k in r["kernels"] if k["p50_ms"] is not None)
            b = best[name]
            b["p50"] = min(b["p50"], r["latency_ms"]["p50"])
            b["min"] = min(b["min"], r["latency_ms"]["min"])
            b["kernels"] = min(b["kernels"], kernels)
    print(f"{args.model}, 1 thread, best of {args.rounds} interleaved rounds of {args.iterations} runs (ms)")
    print("| build | end-to-end p50 | end-to-end min | sum of kernel p50s |")
    print("|---|---:|---:|---:|")
    for name in builds:
        b = best[name]
        print(f"| {name} | {b['p50']:.2f} | {b['min']:.2f} | {b['kernels']:.2f} |")
    o, n = best["old"], best["new"]
    print(f"| new / old | {n['p50'] / o['p50']:.2f} | {n['min'] / o['min']:.2f} | {n['kernels'] / o['kernels']:.2f} |")


if __name__ == "__main__":
    main()
