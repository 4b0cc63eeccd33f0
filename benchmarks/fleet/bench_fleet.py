"""Recordings per second of four ways to score a folder of recordings with one exported bundle,
measured in one run on this machine, best of --trials interleaved trials each:

  1. the exported `classify` program in a shell loop (one process per recording),
  2. `classify` given every file at once (one process, weights loaded once),
  3. the Python binding in a plain loop (`m.classify(path)` per recording),
  4. `python -m qemlc.fleet`'s scoring on a local Ray cluster (ray.init(num_cpus=2)) with 1 and 2 actors
     (timed from the call to the last row written; the cluster is already up, its start is reported apart).

Ray's cost is split into a fixed part (actors started, bundle loaded, Ray Data's plan) and a
part per recording, from the 1-actor fleet on every recording and on the first quarter of them:
per recording = (T(all) − T(quarter)) / (3/4 · recordings) − the binding loop's time per recording.

    python3 benchmarks/fleet/bench_fleet.py --model tiny --per-class 125 --trials 3
"""
from __future__ import annotations

import argparse
import os
import platform
import subprocess
import sys
import tempfile
import time
from pathlib import Path

REPO = Path(__file__).resolve().parents[2]


def qemlc_bin() -> str:
    for build in ("release", "debug"):  # the bundle's object code is LLVM's either way
        p = REPO / ".build" / build / "qemlc"
        if p.exists():
            return str(p)
    sys.exit("build qemlc first (swift build -c release)")


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--model", default="tiny", choices=["tiny", "edge"])
    ap.add_argument("--per-class", type=int, default=125)
    ap.add_argument("--trials", type=int, default=3)
    ap.add_argument("--batch-size", type=int, default=16)
    a = ap.parse_args()
    q = qemlc_bin()
    env = {**os.environ, "QEMLC_NO_PROGRESS": "1"}
    work = Path(tempfile.mkdtemp(prefix="qemlc-fleet-bench-"))
    model = REPO / "examples" / f"qemlnet-{a.model}.qir"
    weights = REPO / "examples" / "qemlnet-tiny.safetensors"
    if a.model != "tiny":
        weights = work / "w.safetensors"
        subprocess.run([q, "init-weights", str(model), "--seed", "1", "-o", str(weights)], check=True, env=env, capture_output=True)
    bundle = work / "bundle"
    subprocess.run([q, "export", str(model), "--weights", str(weights), "-o", str(bundle), "--shared"], check=True, env=env,
                   capture_output=True)
    subprocess.run(["make", "-s", "-C", str(bundle), "classify"], check=True, capture_output=True)
    subprocess.run([q, "synth", "--dataset", str(work / "data"), "--per-class", str(a.per_class)], check=True, env=env,
                   capture_output=True)
    paths = sorted(str(p) for p in (work / "data").rglob("*.wav"))
    n = len(paths)
    quarter = work / "quarter.csv"
    quarter.write_text("path\n" + "\n".join(paths[: n // 4]) + "\n")

    import ray

    import qemlc
    from qemlc import fleet

    started = time.perf_counter()
    ray.init(num_cpus=2, include_dashboard=False, log_to_driver=False)
    ray_start = time.perf_counter() - started
    m = qemlc.load(bundle)
    classify = str(bundle / "classify")

    def shell_loop() -> None:
        subprocess.run(["bash", "-c", 'for f in "$@"; do "$0" "$f" > /dev/null; done', classify, *paths], check=True)

    def one_process() -> None:
        subprocess.run([classify, *paths], check=True, capture_output=True)

    def binding_loop() -> None:
        for p in paths:
            m.classify(p)

    def fleet_run(actors: int, inputs: Path = work / "data", rows: int = n):
        def run() -> None:
            out = work / f"r-{actors}-{time.monotonic_ns()}.parquet"
            counts = fleet.score(str(bundle), str(inputs), str(out), num_actors=actors, batch_size=a.batch_size)
            assert counts["rows"] == rows and counts["errors"] == 0, counts
        return run

    contenders = [("`classify` in a shell loop (a process per recording)", shell_loop),
                  ("`classify` with every file (one process)", one_process),
                  ("binding, plain Python loop (`m.classify(path)`)", binding_loop),
                  ("`qemlc.fleet`, Ray Data, 1 actor", fleet_run(1)),
                  ("`qemlc.fleet`, Ray Data, 2 actors", fleet_run(2)),
                  (f"`qemlc.fleet`, Ray Data, 1 actor, first {n // 4} recordings", fleet_run(1, quarter, n // 4))]
    best = {name: float("inf") for name, _ in contenders}
    for _ in range(a.trials):
        for name, run in contenders:
            t = time.perf_counter()
            run()
            best[name] = min(best[name], time.perf_counter() - t)
    ray.shutdown()
    base = best[contenders[0][0]]
    cpu = next((l.split(":", 1)[1].strip() for l in open("/proc/cpuinfo") if l.startswith("model name")), platform.processor())
    print(f"qemlnet-{a.model}, {n} recordings of 1 s at 12 kHz, batch size {a.batch_size}, best of {a.trials} trials; "
          f"{cpu}, {os.cpu_count()} cores, load average {os.getloadavg()[0]:.1f}; ray {ray.__version__}; "
          f"local Ray start {ray_start:.1f} s (not counted)")
    print()
    print("| how | seconds | recordings/s | vs shell loop |")
    print("|---|---:|---:|---:|")
    for name, _ in contenders[:-1]:
        print(f"| {name} | {best[name]:.2f} | {n / best[name]:.0f} | {base / best[name]:.2f}× |")
    whole, part = best[contenders[3][0]], best[contenders[5][0]]
    slope = (whole - part) / (n - n // 4)
    binding = best[contenders[2][0]] / n
    print()
    print(f"1 actor on the first {n // 4} recordings: {part:.2f} s. Ray's cost: {whole - slope * n:.2f} s fixed per run "
          f"(actors, bundle, plan) and {(slope - binding) * 1e3:.2f} ms per recording "
          f"({slope * 1e3:.2f} ms in the fleet against {binding * 1e3:.2f} ms in the binding loop).")


if __name__ == "__main__":
    main()
