"""Reference values for qemlc eval's measures, from scikit-learn (dev-time only).

    pip install numpy scikit-learn
    python3 scripts/eval_reference.py   # writes Tests/QEMLRuntimeTests/Fixtures/classification_metrics.json

Cases: random probabilities (ties included by rounding), a perfect classifier, and a set with
a class that never occurs in the truth (scikit-learn then leaves it out of the macro AUC; qemlc
also leaves it out of the macro-F1, where scikit-learn would count it as 0 — the case records
both so the test states the difference).
"""
import json
import os

import numpy as np
from sklearn.metrics import accuracy_score, confusion_matrix, f1_score, precision_recall_fscore_support, roc_auc_score

OUT = os.path.join(os.path.dirname(__file__), "..", "Tests", "QEMLRuntimeTests", "Fixtures", "classification_metrics.json")


def case(name, probs, truth, k):
    probs = np.asarray(probs, dtype=np.float32)
    pred = probs.argmax(1)
    labels = list(range(k))
    present = sorted(set(truth))
    p, r, f, s = precision_recall_fscore_support(truth, pred, labels=labels, zero_division=0)
    aucs = []
    for c in labels:
        pos = np.asarray(truth) == c
        aucs.append(float(roc_auc_score(pos, probs[:, c])) if 0 < pos.sum() < len(truth) else None)
    return {
        "name": name, "classes": k, "probabilities": probs.tolist(), "truth": list(map(int, truth)),
        "accuracy": accuracy_score(truth, pred),
        "macro_f1_present": float(f1_score(truth, pred, labels=present, average="macro", zero_division=0)),
        "precision": p.tolist(), "recall": r.tolist(), "f1": f.tolist(), "support": s.tolist(), "auc": aucs,
        "macro_auc": float(np.mean([a for a in aucs if a is not None])),
        "confusion": confusion_matrix(truth, pred, labels=labels).tolist(),
    }


rng = np.random.default_rng(7)
cases = []
k, n = 4, 60
truth = rng.integers(0, k, n)
logits = rng.normal(size=(n, k)) + 1.5 * np.eye(k)[truth]
probs = np.exp(logits) / np.exp(logits).sum(1, keepdims=True)
cases.append(case("random", np.round(probs, 2), truth.tolist(), k))  # rounding makes ties
truth = [0, 1, 2, 0, 1, 2]
cases.append(case("perfect", np.eye(3)[truth] * 0.9 + 0.05, truth, 3))
truth = rng.integers(0, 3, 40)  # class 3 never occurs
logits = rng.normal(size=(40, 4)) + 1.0 * np.eye(4)[truth]
cases.append(case("absent class", np.exp(logits) / np.exp(logits).sum(1, keepdims=True), truth.tolist(), 4))
with open(OUT, "w") as f:
    json.dump({"generator": "scripts/eval_reference.py (scikit-learn)", "cases": cases}, f)
print("wrote", os.path.normpath(OUT))
