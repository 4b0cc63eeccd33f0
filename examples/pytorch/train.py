"""Train QEML-Net (PyTorch + PennyLane) on a folder of labelled recordings; weights for qemlc.

Dataset layout (what `qemlc synth --dataset DIR` writes):
    DIR/<label>/<id>.wav           one recording per file (.wav, .csv or .npy)
    DIR/manifest.csv               optional: columns path,label[,rpm,snr_db,sample_rate,load,bearing,seed]
                                   (path relative to DIR or absolute); without it the folders are scanned

    python examples/pytorch/train.py --config tiny --train data/train --val-fraction 0.2 \
        --test data/test --epochs 30 --batch 32 --lr 1e-2 --seed 0 -o qemlnet-tiny.safetensors
    qemlc run examples/qemlnet-tiny.qir --weights qemlnet-tiny.safetensors --input x.wav

The front end of the model's .qir (examples/qemlnet-<config>.qir unless --qir) is computed once
per recording with frontend.py and cached as .npy under DIR/.frontend-cache/ (keyed by the
frontend settings and the file list). Training is deterministic for a given seed, thread count
and library versions. Writes OUT.safetensors (float32, contiguous, PyTorch state_dict names
minus BatchNorm's num_batches_tracked) and OUT.json (command, seed, settings, per-epoch and
final metrics).
"""
from __future__ import annotations

import argparse
import csv
import hashlib
import json
import math
import os
import random
import sys
import time

import numpy as np
import torch
import torch.nn as nn

HERE = os.path.dirname(os.path.abspath(__file__))
REPO = os.path.dirname(os.path.dirname(HERE))
sys.path.insert(0, HERE)

from frontend import Frontend, parse_labels, read_signal  # noqa: E402
from qemlnet import CONFIGS, QEMLNet, save_weights  # noqa: E402

SIGNAL_EXTS = (".wav", ".wave", ".csv", ".npy")


# ---------------------------------------------------------------------------------------------
# Data


def list_dataset(root: str) -> list[dict]:
    """Rows {path, label, …} from DIR/manifest.csv, or from DIR/<label>/<file> when there is none."""
    manifest = os.path.join(root, "manifest.csv")
    rows = []
    if os.path.exists(manifest):
        with open(manifest, newline="") as f:
            for r in csv.DictReader(f):
                if "path" not in r or "label" not in r:
                    raise SystemExit(f"{manifest}: needs 'path' and 'label' columns, has {list(r)}")
                p = r["path"]
                if not os.path.isabs(p):
                    p = os.path.join(root, p) if os.path.exists(os.path.join(root, p)) else p
                rows.append({**r, "path": p})
    else:
        for label in sorted(os.listdir(root)):
            d = os.path.join(root, label)
            if not os.path.isdir(d) or label.startswith("."):
                continue
            for name in sorted(os.listdir(d)):
                if name.lower().endswith(SIGNAL_EXTS):
                    rows.append({"path": os.path.join(d, name), "label": label})
    if not rows:
        raise SystemExit(f"{root}: no recordings (expected DIR/<label>/<id>.wav or DIR/manifest.csv)")
    return rows


def _frontend_one(args):
    fe, path, resample = args
    return fe.file(path, resample=resample)[0]


def load_features(root: str, fe: Frontend, labels: list[str], resample: bool, workers: int,
                  cache: bool = True) -> tuple[np.ndarray, np.ndarray, list[dict]]:
    """(X float32 [N,1,H,W], y int64 [N], rows) with the front end cached under DIR/.frontend-cache/."""
    rows = list_dataset(root)
    unknown = sorted({r["label"] for r in rows} - set(labels))
    if unknown:
        bad = next(r["path"] for r in rows if r["label"] in unknown)
        raise SystemExit(f"{root}: label(s) {unknown} are not the model's labels {labels} (e.g. {bad})")
    y = np.array([labels.index(r["label"]) for r in rows], dtype=np.int64)
    h = hashlib.sha256(json.dumps({"frontend": fe.settings, "resample": resample}, sort_keys=True).encode())
    for r in rows:
        st = os.stat(r["path"])
        h.update(f"{os.path.abspath(r['path'])}\0{st.st_size}\0{st.st_mtime_ns}\n".encode())
    cache_dir = os.path.join(root, ".frontend-cache")
    cache_file = os.path.join(cache_dir, h.hexdigest()[:16] + ".npy")
    if cache and os.path.exists(cache_file):
        X = np.load(cache_file)
        print(f"{root}: {len(rows)} recordings, front end from cache {cache_file}")
        return X, y, rows
    t = time.time()
    jobs = [(fe, r["path"], resample) for r in rows]
    if workers > 1 and len(jobs) > 64:
        import multiprocessing as mp
        with mp.get_context("fork").Pool(workers) as pool:
            X = np.stack(pool.map(_frontend_one, jobs, chunksize=64))
    else:
        X = np.stack([_frontend_one(j) for j in jobs])
    print(f"{root}: {len(rows)} recordings, front end {X.shape[1:]} in {time.time() - t:.1f} s")
    if cache:
        try:
            os.makedirs(cache_dir, exist_ok=True)
            np.save(cache_file, X)
        except OSError as e:
            print(f"warning: cannot cache the front end in {cache_dir}: {e}")
    return X.astype(np.float32), y, rows


# ---------------------------------------------------------------------------------------------
# Metrics


def metrics(y_true: np.ndarray, probs: np.ndarray, n_classes: int) -> dict:
    pred = probs.argmax(1)
    cm = np.zeros((n_classes, n_classes), dtype=np.int64)
    np.add.at(cm, (y_true, pred), 1)
    tp = np.diag(cm).astype(float)
    prec = np.divide(tp, cm.sum(0), out=np.zeros(n_classes), where=cm.sum(0) > 0)
    rec = np.divide(tp, cm.sum(1), out=np.zeros(n_classes), where=cm.sum(1) > 0)
    f1 = np.divide(2 * prec * rec, prec + rec, out=np.zeros(n_classes), where=(prec + rec) > 0)
    present = cm.sum(1) > 0
    aucs = []
    for c in np.flatnonzero(present):  # one-vs-rest ROC AUC (Mann–Whitney, ties count 1/2)
        pos, neg = probs[y_true == c, c], probs[y_true != c, c]
        if len(neg) == 0:
            continue
        allv = np.concatenate([pos, neg])
        order = allv.argsort(kind="mergesort")
        ranks = np.empty(len(allv))
        sv = allv[order]
        i = 0
        while i < len(sv):  # average ranks of ties
            j = i
            while j + 1 < len(sv) and sv[j + 1] == sv[i]:
                j += 1
            ranks[order[i:j + 1]] = (i + j) / 2 + 1
            i = j + 1
        aucs.append((ranks[:len(pos)].sum() - len(pos) * (len(pos) + 1) / 2) / (len(pos) * len(neg)))
    return {"accuracy": float((pred == y_true).mean()) if len(y_true) else float("nan"),
            "macro_f1": float(f1[present].mean()) if present.any() else float("nan"),
            "auc": float(np.mean(aucs)) if aucs else float("nan"),
            "per_class": {"precision": prec.tolist(), "recall": rec.tolist(), "f1": f1.tolist(),
                          "support": cm.sum(1).tolist()},
            "confusion": cm.tolist(), "count": int(len(y_true))}


@torch.no_grad()
def predict(model: nn.Module, X: np.ndarray, batch: int) -> np.ndarray:
    model.eval()
    out = [torch.softmax(model(torch.from_numpy(X[i:i + batch])), dim=-1).numpy() for i in range(0, len(X), batch)]
    return np.concatenate(out) if out else np.zeros((0, model.cfg.classes), np.float32)


# ---------------------------------------------------------------------------------------------


def main(argv=None):
    p = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    p.add_argument("--config", default="tiny", choices=["tiny", "edge"])
    p.add_argument("--qir", help="model file whose frontend and labels to use (default examples/qemlnet-<config>.qir)")
    p.add_argument("--train", required=True, help="dataset folder")
    p.add_argument("--val", help="validation folder (default: --val-fraction of --train)")
    p.add_argument("--val-fraction", type=float, default=0.2)
    p.add_argument("--test", action="append", default=[], help="held-out folder (repeatable)")
    p.add_argument("--epochs", type=int, default=30)
    p.add_argument("--batch", type=int, default=32)
    p.add_argument("--lr", type=float, default=1e-2)
    p.add_argument("--weight-decay", type=float, default=1e-4)
    p.add_argument("--schedule", choices=["cosine", "constant"], default="cosine")
    p.add_argument("--keep", choices=["best", "last"], default="best", help="weights of the best validation epoch, or the last")
    p.add_argument("--seed", type=int, default=0)
    p.add_argument("--threads", type=int, default=2)
    p.add_argument("--resample", action="store_true", help="resample recordings at another rate to the model's")
    p.add_argument("--no-cache", action="store_true")
    p.add_argument("-o", "--output", required=True, help="OUT.safetensors (and OUT.json)")
    a = p.parse_args(argv)

    torch.set_num_threads(a.threads)
    random.seed(a.seed)
    np.random.seed(a.seed)
    torch.manual_seed(a.seed)
    torch.use_deterministic_algorithms(True, warn_only=True)

    qir = a.qir or os.path.join(REPO, CONFIGS[a.config].qir)
    source = open(qir, encoding="utf-8").read()
    labels = parse_labels(source)
    fe = Frontend.from_qir(qir)
    n_classes = len(labels)
    workers = max(1, a.threads)

    X, y, rows = load_features(a.train, fe, labels, a.resample, workers, not a.no_cache)
    if a.val:
        Xv, yv, _ = load_features(a.val, fe, labels, a.resample, workers, not a.no_cache)
        Xt, yt = X, y
    else:  # stratified split by seed
        rng = np.random.default_rng(a.seed)
        val_idx = []
        for c in range(n_classes):
            idx = np.flatnonzero(y == c)
            rng.shuffle(idx)
            val_idx.extend(idx[:int(round(len(idx) * a.val_fraction))])
        mask = np.zeros(len(y), bool)
        mask[val_idx] = True
        Xt, yt, Xv, yv = X[~mask], y[~mask], X[mask], y[mask]
    tests = {d: load_features(d, fe, labels, a.resample, workers, not a.no_cache)[:2] for d in a.test}
    print(f"train {len(yt)}, val {len(yv)}, " + ", ".join(f"test {d} {len(v[1])}" for d, v in tests.items()))
    if tuple(Xt.shape[2:]) != CONFIGS[a.config].input_size:
        raise SystemExit(f"the front end gives {Xt.shape[2:]}, the {a.config} model expects {CONFIGS[a.config].input_size}")

    torch.manual_seed(a.seed)
    model = QEMLNet(a.config)
    if model.cfg.classes != n_classes:
        raise SystemExit(f"{qir} has {n_classes} labels, the model {model.cfg.classes} classes")
    opt = torch.optim.Adam(model.parameters(), lr=a.lr, weight_decay=a.weight_decay)
    steps_per_epoch = max(1, math.ceil(len(yt) / a.batch))
    sched = (torch.optim.lr_scheduler.CosineAnnealingLR(opt, T_max=a.epochs * steps_per_epoch)
             if a.schedule == "cosine" else None)
    loss_fn = nn.CrossEntropyLoss()
    gen = torch.Generator().manual_seed(a.seed)
    Xt_t, yt_t = torch.from_numpy(Xt), torch.from_numpy(yt)

    history, best, best_state = [], -1.0, None
    t_start = time.time()
    for epoch in range(1, a.epochs + 1):
        model.train()
        t0 = time.time()
        perm = torch.randperm(len(yt), generator=gen)
        total, correct, loss_sum = 0, 0, 0.0
        for i in range(0, len(perm), a.batch):
            idx = perm[i:i + a.batch]
            if len(idx) < 2:  # BatchNorm needs two samples
                continue
            xb, yb = Xt_t[idx], yt_t[idx]
            logits = model(xb)
            loss = loss_fn(logits, yb)
            opt.zero_grad(set_to_none=True)
            loss.backward()
            opt.step()
            if sched:
                sched.step()
            loss_sum += loss.item() * len(idx)
            correct += (logits.argmax(1) == yb).sum().item()
            total += len(idx)
        val = metrics(yv, predict(model, Xv, 256), n_classes)
        rec = {"epoch": epoch, "loss": loss_sum / max(total, 1), "train_accuracy": correct / max(total, 1),
               "val_accuracy": val["accuracy"], "val_macro_f1": val["macro_f1"], "seconds": time.time() - t0}
        history.append(rec)
        print(f"epoch {epoch:3d}  loss {rec['loss']:.4f}  train acc {rec['train_accuracy']:.4f}  "
              f"val acc {val['accuracy']:.4f}  val F1 {val['macro_f1']:.4f}  ({rec['seconds']:.1f} s)", flush=True)
        if a.keep == "last" or val["accuracy"] > best:
            best = val["accuracy"]
            best_state = {k: v.clone() for k, v in model.state_dict().items()}
            best_epoch = epoch
    model.load_state_dict(best_state)

    results = {"val": metrics(yv, predict(model, Xv, 256), n_classes)}
    for d, (Xd, yd) in tests.items():
        results[f"test:{d}"] = metrics(yd, predict(model, Xd, 256), n_classes)
    for k, m in results.items():
        print(f"{k}: accuracy {m['accuracy']:.4f}  macro-F1 {m['macro_f1']:.4f}  AUC {m['auc']:.4f}  ({m['count']} recordings)")

    meta = {"config": a.config, "seed": str(a.seed), "labels": json.dumps(labels), "epoch": str(best_epoch)}
    save_weights(model, a.output, metadata=meta)
    report = {
        "command": " ".join([os.path.basename(sys.executable)] + sys.argv) if argv is None else " ".join(["train.py"] + list(argv)),
        "config": a.config, "qir": os.path.relpath(qir, REPO), "seed": a.seed, "args": vars(a),
        "frontend": fe.settings, "labels": labels, "kept_epoch": best_epoch,
        "train_count": int(len(yt)), "val_count": int(len(yv)),
        "history": history, "results": results, "train_seconds": time.time() - t_start,
        "versions": {"torch": torch.__version__, "pennylane": __import__("pennylane").__version__, "numpy": np.__version__},
    }
    json_path = os.path.splitext(a.output)[0] + ".json"
    with open(json_path, "w") as f:
        json.dump(report, f, indent=1)
    print(f"wrote {a.output} and {json_path}")


if __name__ == "__main__":
    main()
