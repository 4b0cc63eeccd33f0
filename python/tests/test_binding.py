"""qemlc.load: the binding against `qemlc run` (the JIT) on the example recordings, in-place
arrays against paths, batches and threads against single calls, and errors as a user meets them."""
from __future__ import annotations

import json
import subprocess
import sys
import threading
from pathlib import Path

import numpy as np
import pytest

import qemlc
from conftest import EXAMPLES, run_qemlc


def test_metadata(tiny_bundle: Path) -> None:
    with qemlc.load(tiny_bundle) as m:
        assert m.labels == ["healthy", "inner_race", "outer_race", "ball", "cage", "inner_outer", "misalignment", "unbalance"]
        assert (m.sample_rate, m.signal_length, m.input_shape, m.precision) == (12000, 12000, (2, 32, 32), "f32")
        assert m.name == "qemlnet-tiny"


def test_probabilities_equal_qemlc_run(tiny_bundle: Path, example_signals: list) -> None:
    """Same plan and packed weights as the JIT: the exported C agrees with `qemlc run` to float rounding."""
    m = qemlc.load(tiny_bundle)
    for path in example_signals:
        out = run_qemlc("run", str(EXAMPLES / "qemlnet-tiny.qir"), "--weights", str(EXAMPLES / "qemlnet-tiny.safetensors"),
                        "--input", str(path), "--json").stdout
        expected = {c["label"]: c["probs"] for c in json.loads(out)["samples"][0]["top"]}
        want = np.array([expected[label] for label in m.labels], dtype=np.float64)
        got = m.classify(path)
        error = np.max(np.abs(got.probabilities - want) / np.maximum(np.abs(want), 1e-3))
        assert error <= 1e-5, f"{path.name}: {got.probabilities} vs {want}"  # NaN fails too
        assert got.label == m.labels[int(np.argmax(want))]


def test_arrays_batches_and_threads_agree(tiny_bundle: Path, example_signals: list) -> None:
    m = qemlc.load(tiny_bundle, max_contexts=3)
    single = [m.classify(p) for p in example_signals]
    signals = [qemlc.read_signal(p)[0] for p in example_signals]
    for s, p in zip(signals, single):
        np.testing.assert_array_equal(m.classify(s).probabilities, p.probabilities)
        np.testing.assert_array_equal(m.classify(s.astype(np.float64)).probabilities, p.probabilities)
    want = np.stack([p.probabilities for p in single])
    np.testing.assert_array_equal(m.classify_batch(example_signals).probabilities, want)
    batch = m.classify_batch(signals, threads=4)
    np.testing.assert_array_equal(batch.probabilities, want)
    assert batch.labels == [p.label for p in single]
    # A 2-D array: each row a signal, used in place.
    rows = np.zeros((len(signals), m.signal_length), dtype=np.float32)  # cropped or zero-padded, as the front end does
    for row, s in zip(rows, signals):
        row[:min(len(s), len(row))] = s[:len(row)]
    np.testing.assert_array_equal(m.classify_batch(rows, threads=2).probabilities, want)
    # Many threads over a pool of 3 contexts: no context is shared (results stay exact).
    results: dict = {}

    def worker(k: int) -> None:
        results[k] = [m.classify(signals[(k + i) % len(signals)]).probabilities for i in range(10)]

    threads = [threading.Thread(target=worker, args=(k,)) for k in range(6)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    for k, got in results.items():
        for i, probs in enumerate(got):
            np.testing.assert_array_equal(probs, want[(k + i) % len(signals)])
    assert m._created <= 3


def test_spectrogram_then_network_equals_classify(tiny_bundle: Path, example_signals: list) -> None:
    m = qemlc.load(tiny_bundle)
    spectrogram = m.spectrogram(example_signals[0])
    assert spectrogram.shape == m.input_shape
    np.testing.assert_array_equal(m.run_spectrogram(spectrogram).probabilities, m.classify(example_signals[0]).probabilities)
    with pytest.raises(qemlc.QemlcError, match=r"the network input is \(2, 32, 32\)"):
        m.run_spectrogram(np.zeros((3, 3), dtype=np.float32))


def test_runtime_errors_are_exceptions_with_the_runtimes_message(tiny_bundle: Path, tmp_path: Path) -> None:
    m = qemlc.load(tiny_bundle)
    x = np.ones(12000, dtype=np.float32)
    x[7] = np.nan
    with pytest.raises(qemlc.QemlcError, match=r"sample 7: NaN is not a finite number \(ERROR_NONFINITE\)") as e:
        m.classify(x)
    assert e.value.status == "ERROR_NONFINITE"
    with pytest.raises(qemlc.QemlcError, match=r"item 1: signal: sample 7"):
        m.classify_batch([np.ones(100, dtype=np.float32), x])
    bad = tmp_path / "cut.wav"
    bad.write_bytes((EXAMPLES / "signals" / "ball.wav").read_bytes()[:36])
    with pytest.raises(qemlc.QemlcError, match="cut.wav: the WAV file has no data chunk"):
        m.classify(bad)
    with pytest.raises(qemlc.QemlcError, match="no such file"):
        m.classify(tmp_path / "missing.wav")
    with pytest.raises(qemlc.QemlcError, match="unknown signal format '.mp3'"):
        m.classify(tmp_path / "x.mp3")
    # The weights are checked when the model loads: a corrupt file is the runtime's checksum error.
    broken = tmp_path / "broken"
    broken.mkdir()
    for f in tiny_bundle.iterdir():
        (broken / f.name).write_bytes(f.read_bytes())
    w = broken / "qemlnet-tiny.weights"
    data = bytearray(w.read_bytes())
    data[-5] ^= 0xFF
    w.write_bytes(bytes(data))
    with pytest.raises(qemlc.QemlcError) as e:
        qemlc.load(broken)
    assert e.value.status == "ERROR_WEIGHTS_CHECKSUM", str(e.value)
    (broken / "libqemlnet-tiny.so").unlink()
    with pytest.raises(qemlc.QemlcError, match=r"no lib<model>.so; .*--shared"):
        qemlc.load(broken)


def test_command_line(tiny_bundle: Path, example_signals: list) -> None:
    help = subprocess.run([sys.executable, "-m", "qemlc", "--help"], capture_output=True, text=True)
    assert help.returncode == 0 and "python -m qemlc.fleet score" in help.stdout, help.stdout
    r = subprocess.run([sys.executable, "-m", "qemlc", "classify", str(tiny_bundle), str(example_signals[0]), "nope.wav"],
                       capture_output=True, text=True)
    assert r.returncode == 1
    assert r.stdout.startswith(f"{example_signals[0]} ball "), r.stdout
    assert "error: nope.wav: no such file" in r.stderr, r.stderr
