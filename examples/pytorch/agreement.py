"""Does the compiled model decide as the PyTorch model does? Class by class, on a data set.

    qemlc eval examples/qemlnet-tiny.qir DATA --weights W --predictions qemlc.csv
    python3 examples/pytorch/agreement.py DATA --weights W --predictions qemlc.csv [--config tiny]

Runs the PyTorch + PennyLane model (eval mode, frontend.py) on every recording that
`qemlc eval --predictions` scored, and prints how often the two predicted classes agree, the
largest probability difference, and the recordings where they differ.
"""
from __future__ import annotations

import argparse
import csv
import os
import sys

import numpy as np
import torch

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)
from frontend import Frontend  # noqa: E402
from qemlnet import CONFIGS, QEMLNet, load_weights  # noqa: E402


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    p.add_argument("data", help="the data set given to qemlc eval (only for the message)")
    p.add_argument("--weights", required=True)
    p.add_argument("--predictions", required=True, help="qemlc eval --predictions CSV")
    p.add_argument("--config", default="tiny", choices=sorted(CONFIGS))
    p.add_argument("--batch", type=int, default=256)
    a = p.parse_args()
    torch.set_num_threads(2)
    repo = os.path.dirname(os.path.dirname(HERE))
    fe = Frontend.from_qir(os.path.join(repo, CONFIGS[a.config].qir))
    model = load_weights(QEMLNet(a.config), a.weights).eval()
    with open(a.predictions, newline="") as f:
        rows = list(csv.DictReader(f))
    labels = [k[2:] for k in rows[0] if k.startswith("p_")]
    qemlc_probs = np.array([[float(r["p_" + l]) for l in labels] for r in rows], dtype=np.float32)
    torch_probs = []
    for i in range(0, len(rows), a.batch):
        x = np.concatenate([fe.file(r["path"]) for r in rows[i:i + a.batch]])
        with torch.no_grad():
            torch_probs.append(torch.softmax(model(torch.tensor(x)), dim=1).numpy())
    torch_probs = np.concatenate(torch_probs)
    same = qemlc_probs.argmax(1) == torch_probs.argmax(1)
    print(f"{a.data}: {len(rows)} recordings; qemlc and PyTorch predict the same class for {same.sum()} "
          f"({100 * same.mean():.2f} %); largest probability difference {np.abs(qemlc_probs - torch_probs).max():.2e}")
    torch_right = np.array([labels[k] == r["label"] for k, r in zip(torch_probs.argmax(1), rows)])
    print(f"accuracy: qemlc {np.mean([r['predicted'] == r['label'] for r in rows]):.4f}, PyTorch {torch_right.mean():.4f}")
    for i in np.flatnonzero(~same):
        print(f"  differs: {rows[i]['path']}: qemlc {labels[qemlc_probs[i].argmax()]}, PyTorch {labels[torch_probs[i].argmax()]}")


if __name__ == "__main__":
    main()
