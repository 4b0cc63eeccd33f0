"""python -m qemlc.fleet on a local Ray cluster (num_cpus=2): 500+ synthesized recordings scored
by two actors equal the exported `classify` program run sequentially, row for row; bad recordings
are rows with an error; an actor killed mid-run is restarted with no row lost or duplicated; a
re-run resumes."""
from __future__ import annotations

import os
import signal
import subprocess
import sys
import threading
import time
from pathlib import Path

import numpy as np
import pyarrow.parquet as pq
import pytest

import qemlc
from conftest import run_qemlc

ray = pytest.importorskip("ray")
from qemlc import fleet  # noqa: E402

PER_CLASS = 63  # 8 classes × 63 = 504 recordings


@pytest.fixture(scope="module")
def cluster():
    ray.init(num_cpus=2, include_dashboard=False, log_to_driver=False)
    yield
    ray.shutdown()


@pytest.fixture(scope="module")
def recordings(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A synthesized data set plus three bad recordings, listed in one manifest."""
    root = tmp_path_factory.mktemp("fleet")
    run_qemlc("synth", "--dataset", str(root / "data"), "--per-class", str(PER_CLASS), "--seed", "7")
    bad = root / "data" / "bad"
    bad.mkdir()
    (bad / "cut.wav").write_bytes((root / "data" / "healthy" / "0000.wav").read_bytes()[:36])
    nan = np.zeros(12000, dtype=np.float32)
    nan[3] = np.nan
    nan.tofile(bad / "nan.f32")
    lines = (root / "data" / "manifest.csv").read_text().splitlines()
    extra = ["bad/cut.wav,healthy", "bad/nan.f32,healthy", "bad/missing.wav,healthy"]
    manifest = root / "data" / "all.csv"
    manifest.write_text("\n".join(["path,label"] + [",".join(l.split(",")[:2]) for l in lines[1:]] + extra) + "\n")
    return manifest


def sequential_classify(bundle: Path, paths: list) -> dict:
    """Probabilities by path from the exported `classify` program, run once over every file."""
    subprocess.run(["make", "-s", "-C", str(bundle), "classify"], check=True, capture_output=True)
    out = subprocess.run([str(bundle / "classify"), *paths], capture_output=True, text=True)
    assert out.returncode == 0, out.stderr
    result, current = {}, None
    for line in out.stdout.splitlines():
        if line.endswith(":") and " " not in line:
            current = line[:-1]
            result[current] = {}
        else:
            label, p = line.rsplit(" ", 1)
            result[current][label] = np.float32(p)  # %.9g: a float32 read back exactly
    return result


def test_fleet_equals_sequential_classify_survives_a_killed_actor_and_resumes(
        cluster, tiny_bundle: Path, recordings: Path, tmp_path: Path) -> None:
    output = tmp_path / "results.parquet"
    parts = output.with_name(output.name + ".parts")
    counts: dict = {}
    run = threading.Thread(target=lambda: counts.update(
        fleet.score(str(tiny_bundle), str(recordings), str(output), num_actors=2, batch_size=4)))
    run.start()
    # Kill the actor that wrote the first finished batch, while the run goes on.
    killed = None
    while run.is_alive() and killed is None:
        written = sorted(parts.glob("*.parquet")) if parts.exists() else []
        if written:
            killed = pq.read_table(written[0]).column("worker")[0].as_py()
            os.kill(int(killed.rsplit(":", 1)[1]), signal.SIGKILL)
        time.sleep(0.005)
    killed_while_running = run.is_alive()
    run.join()
    assert killed is not None and killed_while_running, "the run ended before an actor could be killed"

    table = pq.read_table(output)
    rows = table.to_pylist()
    inputs = fleet.list_inputs(str(recordings)).column("path").to_pylist()
    assert len(inputs) == 8 * PER_CLASS + 3
    assert [r["path"] for r in rows] == inputs, "every recording once, in the input's order"
    workers = {r["worker"] for r in rows}
    assert killed in workers and len(workers) >= 3, f"a restarted actor took over: {workers}"

    errors = {Path(r["path"]).name: r["error"] for r in rows if r["error"] is not None}
    assert set(errors) == {"cut.wav", "nan.f32", "missing.wav"}, errors
    assert "the WAV file has no data chunk" in errors["cut.wav"]
    assert "sample 3: NaN is not a finite number (ERROR_NONFINITE)" in errors["nan.f32"]
    assert "no such file" in errors["missing.wav"]

    labels = qemlc.load(tiny_bundle).labels
    good = [r for r in rows if r["error"] is None]
    expected = sequential_classify(tiny_bundle, [r["path"] for r in good])
    for r in good:
        want = np.array([expected[r["path"]][c] for c in labels], dtype=np.float32)
        got = np.array([r[f"p_{c}"] for c in labels], dtype=np.float32)
        np.testing.assert_array_equal(got, want, err_msg=r["path"])
        assert r["top"] == labels[int(np.argmax(want))]
    assert counts == {"scored": len(inputs), "skipped": 0, "errors": 3, "rows": len(inputs)}

    # Resume: an interrupted run (the first 100 rows) is completed; the errors are retried.
    pq.write_table(table.slice(0, 100), output)
    again = fleet.score(str(tiny_bundle), str(recordings), str(output), num_actors=2, batch_size=16)
    assert again == {"scored": len(inputs) - 100, "skipped": 100, "errors": 3, "rows": len(inputs)}
    resumed = pq.read_table(output)
    assert resumed.column("path").to_pylist() == inputs
    for name in labels:
        np.testing.assert_array_equal(resumed.column(f"p_{name}").to_numpy(), table.column(f"p_{name}").to_numpy())


def test_parquet_with_signals(cluster, tiny_bundle: Path, tmp_path: Path, example_signals: list) -> None:
    """INPUTS as a Parquet file whose rows carry the samples (`signal`), named by `id`."""
    import pyarrow as pa

    m = qemlc.load(tiny_bundle)
    samples = [qemlc.read_signal(p)[0] for p in example_signals[:2]]
    bad = np.ones(12000, dtype=np.float32)
    bad[9] = np.inf
    table = pa.table({"id": [1, 2, 3], "signal": [s.tolist() for s in samples] + [bad.tolist()]})
    pq.write_table(table, tmp_path / "in.parquet")
    counts = fleet.score(str(tiny_bundle), str(tmp_path / "in.parquet"), str(tmp_path / "out.parquet"), num_actors=1)
    assert counts == {"scored": 3, "skipped": 0, "errors": 1, "rows": 3}
    rows = pq.read_table(tmp_path / "out.parquet").to_pylist()
    assert [r["path"] for r in rows] == ["1", "2", "3"]
    for r, s in zip(rows, samples):
        want = m.classify(s).probabilities
        np.testing.assert_array_equal(np.array([r[f"p_{c}"] for c in m.labels], dtype=np.float32), want)
    assert "sample 9: +Inf is not a finite number (ERROR_NONFINITE)" in rows[2]["error"], rows[2]["error"]
    assert rows[2]["top"] is None


def test_command_line(cluster, tiny_bundle: Path, tmp_path: Path, example_signals: list) -> None:
    """The CLI joins the running cluster (--address auto), takes a glob, and refuses another model's results."""
    output = tmp_path / "r.parquet"
    pattern = str(example_signals[0].parent / "*.wav")
    env = {**os.environ, "RAY_ADDRESS": ray.get_runtime_context().gcs_address}
    r = subprocess.run([sys.executable, "-m", "qemlc.fleet", "score", str(tiny_bundle), pattern, "-o", str(output),
                        "--address", "auto", "--num-actors", "1"], capture_output=True, text=True, env=env)
    assert r.returncode == 0, r.stderr
    assert f"{output}: {len(example_signals)} rows ({len(example_signals)} scored now" in r.stdout, r.stdout
    table = pq.read_table(output)
    meta = table.schema.metadata
    pq.write_table(table.replace_schema_metadata({**meta, b"qemlc_model_hash": b"0000"}), output)
    r = subprocess.run([sys.executable, "-m", "qemlc.fleet", "score", str(tiny_bundle), pattern, "-o", str(output),
                        "--address", "auto"], capture_output=True, text=True, env=env)
    assert r.returncode == 1
    assert "holds results of another model (hash 0000" in r.stderr, r.stderr
    help = subprocess.run([sys.executable, "-m", "qemlc.fleet", "score", "--help"], capture_output=True, text=True)
    assert help.returncode == 0 and "--num-actors" in help.stdout and "--batch-size" in help.stdout
    usage = subprocess.run([sys.executable, "-m", "qemlc.fleet", "score", str(tiny_bundle), pattern, "-o", str(output),
                            "--num-actors", "0"], capture_output=True, text=True)
    assert usage.returncode == 64 and "--num-actors and --batch-size must be at least 1" in usage.stderr, usage.stderr
