"""`python -m qemlc`: look into a bundle, classify recordings, compile a model."""
from __future__ import annotations

import sys
from typing import List, Optional

from . import compile as compile_model
from . import load
from .cli import ArgumentParser
from .errors import QemlcError


def main(argv: Optional[List[str]] = None) -> int:
    parser = ArgumentParser(
        prog="python -m qemlc",
        description="qemlc's Python binding. A bundle is a folder written by "
                    "`qemlc export MODEL --weights W -o DIR --shared` (it holds lib<model>.so).",
        epilog="Fleet scoring on Ray: python -m qemlc.fleet score --help")
    sub = parser.add_subparsers(dest="command", required=True)
    info = sub.add_parser("info", help="print a bundle's model, target, precision, sample rate, input and labels")
    info.add_argument("bundle")
    classify = sub.add_parser("classify", help="classify recordings (.wav, .f32/.raw, .npy): `path label probability`")
    classify.add_argument("bundle")
    classify.add_argument("signals", nargs="+")
    comp = sub.add_parser("compile", help="export a .qir model into a bundle with the qemlc CLI (--shared) and load it")
    comp.add_argument("model")
    comp.add_argument("--weights")
    comp.add_argument("--target", default="host")
    comp.add_argument("-o", "--output", required=True)
    comp.add_argument("--force", action="store_true", help="overwrite existing files")
    a = parser.parse_args(argv)
    try:
        if a.command == "compile":
            m = compile_model(a.model, a.weights, target=a.target, out=a.output, force=a.force)
            print(f"{a.output}: {m!r}")
            return 0
        m = load(a.bundle)
        if a.command == "info":
            print(f"model {m.name} ({m.stem}), target {m.target}, precision {m.precision}, hash {m.model_hash}")
            print(f"signal: {m.signal_length} samples at {m.sample_rate} Hz; network input {m.input_shape}")
            print("labels: " + ", ".join(m.labels))
            return 0
        status = 0
        for path in a.signals:
            try:
                p = m.classify(path)
            except QemlcError as e:
                print(f"error: {e}", file=sys.stderr)
                status = 1
                continue
            print(f"{path} {p.label} {p.probabilities[p.index]:.6f}")
        return status
    except QemlcError as e:
        print(f"error: {e}", file=sys.stderr)
        return 1


if __name__ == "__main__":
    sys.exit(main())
