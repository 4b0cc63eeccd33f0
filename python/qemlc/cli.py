"""Driving the `qemlc` command-line tool from Python: `qemlc.compile(…)`."""
from __future__ import annotations

import argparse
import os
import shutil
import subprocess
import sys
from pathlib import Path
from typing import List, Optional

from .binding import Model, load
from .errors import QemlcError
from .signals import PathLike


class ArgumentParser(argparse.ArgumentParser):
    """argparse with qemlc's exit status for usage errors: 64, as every qemlc command."""

    def error(self, message: str) -> None:  # type: ignore[override]
        self.print_usage(sys.stderr)
        self.exit(64, f"{self.prog}: error: {message}\n")


def qemlc_binary() -> str:
    """The qemlc executable: $QEMLC if set, else `qemlc` on the PATH."""
    found = os.environ.get("QEMLC") or shutil.which("qemlc")
    if not found:
        raise QemlcError("the qemlc command is not found; build it (`swift build -c release` in the qemlc repository) "
                         "and put it on the PATH, or set QEMLC=/path/to/qemlc", status="ERROR_IO")
    return found


def run_qemlc(args: List[str], what: str) -> str:
    """Runs `qemlc ARGS`; its stdout, or QemlcError carrying qemlc's own error text."""
    r = subprocess.run([qemlc_binary(), *args], capture_output=True, text=True,
                       env={**os.environ, "QEMLC_NO_PROGRESS": "1"})
    if r.returncode != 0:
        raise QemlcError(f"{what} failed (qemlc exit {r.returncode}):\n{r.stderr.strip()}",
                         status="ERROR_ARGUMENT" if r.returncode == 64 else None)
    return r.stdout


def compile(model: PathLike, weights: Optional[PathLike] = None, target: str = "host", out: Optional[PathLike] = None,
            embed_weights: bool = False, force: bool = False) -> Model:
    """Compiles `model` (.qir) with its trained `weights` (.safetensors) into a bundle for `target`
    with `qemlc export … --shared`, and loads it.

    `out` is the bundle folder (default: `<model stem>-<target>` beside the model); existing files
    are kept unless `force`. The target must run on this machine to be loaded (host, x86-64-…).
    """
    model = Path(model)
    folder = Path(out) if out is not None else model.with_name(f"{model.stem}-{target}")
    args = ["export", str(model), "--target", target, "-o", str(folder), "--shared"]
    if weights is not None:
        args += ["--weights", str(weights)]
    if embed_weights:
        args.append("--embed-weights")
    if force:
        args.append("--force")
    run_qemlc(args, f"qemlc export {model}")
    return load(folder)
