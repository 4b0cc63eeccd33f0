"""Fixtures: the qemlc binary (QEMLC, as scripts/test.sh passes it, else the repository's own
build) and the tiny example model compiled into a bundle with its shipped weights."""
from __future__ import annotations

import os
import subprocess
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[2]
EXAMPLES = REPO / "examples"


def _qemlc() -> str:
    if os.environ.get("QEMLC"):
        return os.environ["QEMLC"]
    for build in ("debug", "release"):
        candidate = REPO / ".build" / build / "qemlc"
        if candidate.exists():
            os.environ["QEMLC"] = str(candidate)
            return str(candidate)
    pytest.exit("qemlc is not built: run `swift build` or set QEMLC=/path/to/qemlc", returncode=1)


@pytest.fixture(scope="session")
def qemlc_bin() -> str:
    return _qemlc()


def run_qemlc(*args: str) -> subprocess.CompletedProcess:
    r = subprocess.run([_qemlc(), *args], capture_output=True, text=True, env={**os.environ, "QEMLC_NO_PROGRESS": "1"})
    assert r.returncode == 0, f"qemlc {' '.join(args)}:\n{r.stderr}"
    return r


@pytest.fixture(scope="session")
def tiny_bundle(tmp_path_factory: pytest.TempPathFactory, qemlc_bin: str) -> Path:
    """examples/qemlnet-tiny.qir with its trained weights, exported with --shared (via qemlc.compile)."""
    import qemlc

    out = tmp_path_factory.mktemp("bundle") / "tiny"
    qemlc.compile(EXAMPLES / "qemlnet-tiny.qir", EXAMPLES / "qemlnet-tiny.safetensors", target="host", out=out).close()
    return out


@pytest.fixture(scope="session")
def example_signals() -> list:
    return sorted((EXAMPLES / "signals").glob("*.wav"))
