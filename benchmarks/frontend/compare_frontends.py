"""Which front end lets a small network tell the eight classes apart? (RESULTS.md, "Front end")

    qemlc synth --dataset /tmp/fe-data --per-class 150 --seed 11
    python3 benchmarks/frontend/compare_frontends.py /tmp/fe-data > benchmarks/frontend/compare_frontends.txt

Each variant is a `.qir` frontend block computed by examples/pytorch/frontend.py (the same
numbers qemlc computes); the same small CNN (two 3×3 conv + pool stages, a linear layer) is
trained on 70 % of the recordings (same split, same seed, 40 epochs) and scored on the rest.
It measures separability, not QEML-Net's accuracy.
"""
import os
import sys

import numpy as np
import torch
import torch.nn as nn

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.join(HERE, "..", "..", "examples", "pytorch"))
from frontend import Frontend, read_signal  # noqa: E402
from train import list_dataset  # noqa: E402

LABELS = ["healthy", "inner_race", "outer_race", "ball", "cage", "inner_outer", "misalignment", "unbalance"]
BASE = dict(sample_rate=12000, length=12000, window="hann", center="reflect", scale="log1p", standardize=True, resize=[32, 32])
BAND = dict(n_fft=2048, hop=256, fmin=5.0, fmax=470.0)
VARIANTS = {
    "0-6 kHz, n_fft 256, hop 64 (the tiny model before)": dict(n_fft=256, hop=64),
    "envelope (Hilbert), 5-470 Hz": dict(BAND, channels=["envelope"]),
    "signal, 5-470 Hz": dict(BAND, channels=["signal"]),
    "signal + envelope (Hilbert), 5-470 Hz": dict(BAND, channels=["signal", "envelope"]),
    "signal + rectified |x|, 5-470 Hz (the tiny model now)": dict(BAND, channels=["signal", "rectified"]),
}


def score(x, y, seed=0):
    rng = np.random.default_rng(seed)
    idx = rng.permutation(len(y))
    n = int(0.7 * len(y))
    tr, te = idx[:n], idx[n:]
    torch.manual_seed(seed)
    c = x.shape[1]
    net = nn.Sequential(nn.Conv2d(c, 8, 3, padding=1), nn.ReLU(), nn.MaxPool2d(2), nn.Conv2d(8, 16, 3, padding=1), nn.ReLU(),
                        nn.MaxPool2d(2), nn.Flatten(), nn.Linear(16 * 8 * 8, 8))
    opt = torch.optim.Adam(net.parameters(), 1e-3)
    xt, yt = torch.tensor(x), torch.tensor(y)
    for _ in range(40):
        perm = torch.randperm(n)
        for i in range(0, n, 32):
            b = torch.tensor(tr)[perm[i:i + 32]]
            opt.zero_grad()
            nn.functional.cross_entropy(net(xt[b]), yt[b]).backward()
            opt.step()
    with torch.no_grad():
        pred = net(xt[te]).argmax(1).numpy()
    cm = np.zeros((8, 8), int)
    for a, b in zip(y[te], pred):
        cm[a, b] += 1
    return (pred == y[te]).mean(), cm


def main():
    torch.set_num_threads(2)
    rows = list_dataset(sys.argv[1])
    signals = [read_signal(r["path"])[0] for r in rows]
    y = np.array([LABELS.index(r["label"]) for r in rows])
    print(f"{len(y)} recordings from {sys.argv[1]}; held-out share 30 %")
    for name, settings in VARIANTS.items():
        fe = Frontend(dict(BASE, **settings))
        x = np.concatenate([fe(s, 12000) for s in signals])
        acc, cm = score(x, y)
        print(f"\n{name}: accuracy {acc:.3f}")
        print("confusion (rows true, columns predicted; " + ", ".join(LABELS) + "):")
        print("\n".join("  " + " ".join(f"{v:3d}" for v in row) for row in cm))


if __name__ == "__main__":
    main()
