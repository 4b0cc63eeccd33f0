#!/usr/bin/env python3
"""Parity vectors from the PyTorch + PennyLane QEML-Net for a Swift test of qemlc.

    python scripts/pytorch_reference.py --weights examples/qemlnet-tiny.safetensors \
        --signals examples/signals/*.wav [DATA/] [--synth 10] [--count 16] [--qemlc .build/release/qemlc]

Takes 16 recordings (files, or folders searched for DIR/<label>/*.wav and *.wav, in order),
runs examples/pytorch/frontend.py and examples/pytorch/qemlnet.py (eval mode) on them and
writes, under Tests/QEMLRuntimeTests/Fixtures/pytorch/ (default):

    manifest.json        model (.qir path), config, weights (path, sha256), frontend settings,
                         labels, tolerance, and per recording: file, source, label (if known),
                         sample_rate, samples, channel, row index in the arrays
    signals/NN_NAME.wav  the recordings, byte for byte (the input signals)
    spectrogram.npy      f32 [16, 1, H, W]  the frontend's output (qemlc: --output spectrogram=)
    features.npy         f32 [16, F]         %features
    angles.npy           f32 [16, 4]         %angles   (tanh(fc(features))·π)
    expvals.npy          f32 [16, 4]         %expvals  (the circuit's ⟨Z⟩)
    logits.npy           f32 [16, 8]         %logits
    probs.npy            f32 [16, 8]         %probs

Row i of every array belongs to manifest["recordings"][i]. With --weights qemlc-init:SEED the
weights are `qemlc init-weights MODEL --seed SEED` (needs --qemlc), so the fixtures need no
weight file. With --qemlc it also runs qemlc (jit and interpret) on every recording and prints
the largest error relative to the largest value. The folder must stay under --max-bytes.
"""
from __future__ import annotations

import argparse
import hashlib
import json
import os
import shutil
import subprocess
import sys
import tempfile

import numpy as np

REPO = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
sys.path.insert(0, os.path.join(REPO, "examples", "pytorch"))

import torch  # noqa: E402

from frontend import Frontend, parse_labels, read_signal  # noqa: E402
from qemlnet import CONFIGS, LABELS, QEMLNet, load_weights  # noqa: E402

SIGNAL_EXTS = (".wav", ".wave")


def collect(items: list[str], count: int) -> list[tuple[str, str | None]]:
    """(path, label or None) of the first `count` recordings: files as given, folders sorted
    (DIR/<label>/*.wav gets the folder's label)."""
    out = []
    for it in items:
        if os.path.isdir(it):
            for root, dirs, files in os.walk(it):
                dirs.sort()
                for f in sorted(files):
                    if f.lower().endswith(SIGNAL_EXTS):
                        label = os.path.basename(root) if os.path.abspath(root) != os.path.abspath(it) else None
                        out.append((os.path.join(root, f), label))
        else:  # a file named after a label (examples/signals/ball.wav) carries it
            stem = os.path.splitext(os.path.basename(it))[0]
            out.append((it, stem if stem in LABELS else None))
    if len(out) < count:
        raise SystemExit(f"{len(out)} recordings given, {count} needed")
    return out[:count]


def sha256(path: str) -> str:
    h = hashlib.sha256()
    with open(path, "rb") as f:
        h.update(f.read())
    return h.hexdigest()


def rel(path: str) -> str:
    p = os.path.relpath(os.path.abspath(path), REPO)
    return path if p.startswith("..") else p


def main():
    p = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    p.add_argument("--config", default="tiny", choices=sorted(CONFIGS))
    p.add_argument("--qir", help="default examples/qemlnet-<config>.qir")
    p.add_argument("--weights", required=True, help=".safetensors, or qemlc-init:SEED")
    p.add_argument("--signals", nargs="*", default=[], help="WAV files or folders")
    p.add_argument("--synth", type=int, default=0,
                   help="also synthesize this many recordings with `qemlc synth` (fixed recipe; needs --qemlc)")
    p.add_argument("--count", type=int, default=16)
    p.add_argument("--out", default=os.path.join(REPO, "Tests/QEMLRuntimeTests/Fixtures/pytorch"))
    p.add_argument("--qemlc", help="check against this qemlc binary")
    p.add_argument("--tolerance", type=float, default=1e-5)
    p.add_argument("--max-bytes", type=int, default=1_000_000)
    a = p.parse_args()
    torch.set_num_threads(2)

    qir = a.qir or os.path.join(REPO, CONFIGS[a.config].qir)
    source = open(qir, encoding="utf-8").read()
    labels = parse_labels(source)
    fe = Frontend.from_qir(qir)
    tmp = tempfile.mkdtemp()
    try:
        weights = a.weights
        if weights.startswith("qemlc-init:"):
            if not a.qemlc:
                raise SystemExit("--weights qemlc-init:SEED needs --qemlc")
            seed = weights.split(":", 1)[1]
            weights = os.path.join(tmp, "init.safetensors")
            subprocess.run([a.qemlc, "init-weights", qir, "--seed", seed, "-o", weights], check=True, capture_output=True)
            weights_info = {"init_weights_seed": int(seed), "sha256": sha256(weights)}
        else:
            weights_info = {"path": rel(weights), "sha256": sha256(weights)}
        model = load_weights(QEMLNet(a.config), weights).eval()

        signals = list(a.signals)
        if a.synth:
            if not a.qemlc:
                raise SystemExit("--synth needs --qemlc")
            synth_dir = os.path.join(tmp, "synth")
            faults = ["healthy", "outer_race", "inner_race", "ball", "cage"]
            for i in range(1, a.synth + 1):
                f = faults[(i - 1) % len(faults)]
                os.makedirs(os.path.join(synth_dir, f), exist_ok=True)
                cmd = [a.qemlc, "synth", f, "-o", os.path.join(synth_dir, f, f"s{i:02d}.wav"), "--seed", str(100 + i),
                       "--rpm", str(1300 + 83 * i), f"--snr={3 * i - 6}", "--resonance", str(2200 + 150 * i), "--force"]
                if i > a.synth - 2:
                    cmd.append("--float32")
                subprocess.run(cmd, check=True, capture_output=True)
            signals.append(synth_dir)
        recs = collect(signals, a.count)
        if os.path.isdir(a.out):
            shutil.rmtree(a.out)
        os.makedirs(os.path.join(a.out, "signals"))
        specs, entries = [], []
        for i, (path, label) in enumerate(recs):
            name = f"{i:02d}_{os.path.basename(path)}"
            shutil.copyfile(path, os.path.join(a.out, "signals", name))
            x, rate = read_signal(path, fe.get("channel"))
            specs.append(fe(x, rate)[0])
            source = "qemlc synth " + os.path.relpath(path, tmp) if path.startswith(tmp) else rel(path)
            entries.append({"index": i, "file": f"signals/{name}", "source": source, "label": label,
                            "sample_rate": rate, "samples": int(len(x)), "channel": fe.get("channel")})
        spec = np.stack(specs).astype(np.float32)
        with torch.no_grad():
            outs = {k: v.numpy().astype(np.float32) for k, v in model.outputs(torch.from_numpy(spec)).items()}
        arrays = {"spectrogram": spec, **{k: outs[k] for k in ("features", "angles", "expvals", "logits", "probs")}}
        for k, v in arrays.items():
            np.save(os.path.join(a.out, f"{k}.npy"), np.ascontiguousarray(v))
        for e, pr in zip(entries, outs["probs"]):
            e["pytorch_class"] = labels[int(pr.argmax())]
        manifest = {
            "generator": "scripts/pytorch_reference.py",
            "command": " ".join(["python", rel(sys.argv[0])] + sys.argv[1:]),
            "model": rel(qir), "config": a.config, "weights": weights_info,
            "frontend": fe.settings, "labels": labels, "tolerance": a.tolerance,
            "tolerance_note": "max |qemlc - pytorch| <= tolerance * max |pytorch|, per array",
            "arrays": {k: {"file": f"{k}.npy", "shape": list(v.shape), "dtype": "float32"} for k, v in arrays.items()},
            "versions": {"torch": torch.__version__, "pennylane": __import__("pennylane").__version__,
                         "numpy": np.__version__},
            "recordings": entries,
        }
        with open(os.path.join(a.out, "manifest.json"), "w") as f:
            json.dump(manifest, f, indent=1)
            f.write("\n")
        total = sum(os.path.getsize(os.path.join(r, f)) for r, _, fs in os.walk(a.out) for f in fs)
        print(f"wrote {a.out}: {len(recs)} recordings, {total / 1e3:.0f} kB")
        if total > a.max_bytes:
            raise SystemExit(f"{a.out} is {total} bytes, over --max-bytes {a.max_bytes}")

        if a.qemlc:
            worst = 0.0
            for backend in ("jit", "interpret"):
                errs = {k: 0.0 for k in ("spectrogram", "features", "probs")}
                for e in entries:
                    i, sig = e["index"], os.path.join(a.out, e["file"])
                    base = [a.qemlc, "run", qir, "--weights", weights, "--input", sig, "--backend", backend, "--force"]
                    runs = [["--output", f"probs={tmp}/p.npy", "--output", f"features={tmp}/f.npy"],
                            ["--output", f"spectrogram={tmp}/s.npy"]]  # an input: interpreted
                    for extra in runs:
                        r = subprocess.run(base + extra, capture_output=True, text=True)
                        if r.returncode:
                            raise SystemExit(f"qemlc failed on {sig}: {r.stderr}")
                    for k, f in (("spectrogram", "s"), ("features", "f"), ("probs", "p")):
                        q = np.load(f"{tmp}/{f}.npy").reshape(arrays[k][i].shape)
                        ref = arrays[k][i]
                        errs[k] = max(errs[k], float(np.abs(q - ref).max() / np.abs(ref).max()))
                print(f"qemlc {backend}: " + ", ".join(f"{k} {v:.2e}" for k, v in errs.items()))
                worst = max(worst, *errs.values())
            print(f"worst {worst:.2e} (tolerance {a.tolerance:g})")
            if worst > a.tolerance:
                sys.exit(1)
    finally:
        shutil.rmtree(tmp, ignore_errors=True)


if __name__ == "__main__":
    main()
