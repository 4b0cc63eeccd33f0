#!/usr/bin/env python3
"""Checks examples/pytorch/frontend.py (NumPy and Frontend.torch) against `qemlc run … --output spectrogram=…` (and, with
--model, the PyTorch model against qemlc's probs/features) for a set of frontend variants.

    python scripts/pytorch_frontend_parity.py --qemlc .build/release/qemlc --weights W.safetensors \
        --signals examples/signals/*.wav synth/*.wav [--tol 1e-5] [--backends jit,interpret]

Each variant is examples/qemlnet-tiny.qir with its frontend block replaced (written under a
temporary folder); without `resize` the input declaration is set to the spectrogram's shape
(the tiny network takes any size ≥ 32×32 … it only pools globally). Error: max |a − b| over
max |b| per recording. Exits 1 if any exceeds --tol.
"""
from __future__ import annotations

import argparse
import os
import re
import subprocess
import sys
import tempfile

import numpy as np

REPO = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
sys.path.insert(0, os.path.join(REPO, "examples", "pytorch"))
from frontend import Frontend, parse_frontend_block, read_signal  # noqa: E402

BASE = {}  # the tiny model's own frontend
VARIANTS = {
    "tiny": BASE,
    "envelope-512-128": {"envelope": True, "n_fft": 512, "hop": 128},
    "envelope-128-32-hamming": {"envelope": True, "n_fft": 128, "hop": 32, "window": "hamming"},
    "win-blackman-symmetric-constant": {"n_fft": 256, "hop": 100, "win_length": 200, "window": "blackman",
                                        "periodic": False, "center": "constant"},
    "nocenter-rect-magnitude": {"center": "none", "window": "rectangular", "scale": "magnitude", "hop": 48},
    "power-noresize": {"scale": "power", "resize": None, "standardize": False, "length": 6000},
    "db-topdb": {"scale": "db", "ref": 10.0, "amin": 1e-8, "top_db": 60.0},
    "mel-log1p": {"n_mels": 48, "fmin": 50.0, "fmax": 5000.0, "n_fft": 512, "hop": 96},
    "mel-db-noresize": {"n_mels": 40, "scale": "db", "top_db": 80.0, "resize": None, "standardize": True},
    "crop-short-pad": {"length": 20000, "resize": [48, 40], "envelope": True},
}


def fmt(v) -> str:
    if isinstance(v, bool):
        return "true" if v else "false"
    if isinstance(v, str):
        return f'"{v}"'
    if isinstance(v, list):
        return "[" + ", ".join(fmt(x) for x in v) + "]"
    return repr(v)


def variant_source(base_src: str, changes: dict, samples: int) -> tuple[str, Frontend]:
    name, settings = parse_frontend_block(base_src)
    settings = dict(settings)
    for k, v in changes.items():
        if v is None:
            settings.pop(k, None)
        else:
            settings[k] = v
    fe = Frontend(dict(settings), name)
    block = f"frontend %{name} {{\n" + "".join(f"  {k} = {fmt(v)}\n" for k, v in settings.items()) + "}\n"
    src = re.sub(r"frontend\s+%\w+\s*\{[^}]*\}\n", block, base_src, count=1)
    shape = fe.output_shape(samples)
    src = re.sub(r"input %(\w+): f32\[[^\]]*\]", f"input %\\1: f32[N,1,{shape[2]},{shape[3]}]", src, count=1)
    return src, fe


def err(a, b):
    return float(np.abs(a.astype(np.float64) - b).max() / max(np.abs(b).max(), 1e-30))


def main():
    p = argparse.ArgumentParser()
    p.add_argument("--qemlc", default=os.path.join(REPO, ".build/release/qemlc"))
    p.add_argument("--weights", required=True, help="tiny-model weights (any: only the spectrogram is compared unless --model)")
    p.add_argument("--signals", nargs="+", required=True)
    p.add_argument("--variants", default=",".join(VARIANTS))
    p.add_argument("--tol", type=float, default=1e-5)
    p.add_argument("--model", action="store_true", help="also compare probs and features with the PyTorch model")
    p.add_argument("--backends", default="jit")
    a = p.parse_args()
    base_src = open(os.path.join(REPO, "examples/qemlnet-tiny.qir"), encoding="utf-8").read()
    worst, failed = 0.0, False
    model = None
    if a.model:
        import torch
        from qemlnet import QEMLNet, load_weights
        torch.set_num_threads(2)
        model = load_weights(QEMLNet("tiny"), a.weights).eval()
    with tempfile.TemporaryDirectory() as tmp:
        for vname in a.variants.split(","):
            vworst = 0.0
            for sig in a.signals:
                x, rate = read_signal(sig)
                src, fe = variant_source(base_src, VARIANTS[vname], len(x))
                qir = os.path.join(tmp, f"{vname}.qir")
                with open(qir, "w") as f:
                    f.write(src)
                ours = fe(x, rate)
                for backend in a.backends.split(","):
                    out = os.path.join(tmp, "s.npy")
                    # Writing the spectrogram (an input, not an output) makes qemlc interpret the
                    # model; probs and features come from a second run on the backend asked for.
                    base = [a.qemlc, "run", qir, "--weights", a.weights, "--input", sig, "--backend", backend, "--force"]
                    cmds = [base + ["--output", f"spectrogram={out}"]]
                    if model is not None:
                        cmds.append(base + ["--output", f"probs={tmp}/p.npy", "--output", f"features={tmp}/f.npy"])
                    rs = [subprocess.run(c, capture_output=True, text=True) for c in cmds]
                    if any(r.returncode != 0 for r in rs):
                        print(f"{vname} {sig}: qemlc failed: {' '.join(r.stderr.strip() for r in rs)}")
                        failed = True
                        continue
                    theirs = np.load(out)
                    if theirs.shape != ours.shape:
                        print(f"{vname} {sig}: shape {theirs.shape} (qemlc) vs {ours.shape}")
                        failed = True
                        continue
                    e = err(ours, theirs)
                    e_torch = err(fe.torch(x[None], rate).numpy(), theirs)  # Frontend.torch, same numbers
                    e = max(e, e_torch)
                    extra = f"  torch {e_torch:.2e}"
                    if model is not None:
                        probs, feats = model.predict(ours)
                        ep, ef = err(probs.numpy(), np.load(f"{tmp}/p.npy")), err(feats.numpy(), np.load(f"{tmp}/f.npy"))
                        extra = f"  probs {ep:.2e}  features {ef:.2e}"
                        e = max(e, ep, ef)
                    vworst = max(vworst, e)
                    print(f"{vname:32s} {backend:9s} {os.path.basename(sig):28s} {str(ours.shape[2:]):10s} spectrogram {err(ours, theirs):.2e}{extra}")
            print(f"== {vname}: worst {vworst:.2e}")
            worst = max(worst, vworst)
    print(f"worst relative error {worst:.2e} (tolerance {a.tol:g})")
    sys.exit(1 if failed or worst > a.tol else 0)


if __name__ == "__main__":
    main()
