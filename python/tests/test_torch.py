"""qemlc.from_torch on the reference QEML-Net (examples/pytorch/qemlnet.py, tiny and edge): the
written .qir passes `qemlc check` and `qemlc run` agrees with the PyTorch forward to 1e-5; with
the shipped weights and the example's front end, the converted model compiles into a bundle that
classifies the example recordings as the hand-written examples/qemlnet-tiny.qir does. What qemlc
lacks is an error naming it and its module path."""
from __future__ import annotations

import sys
from pathlib import Path

import numpy as np
import pytest

import qemlc
from conftest import EXAMPLES, run_qemlc

torch = pytest.importorskip("torch")
qml = pytest.importorskip("pennylane")
sys.path.insert(0, str(EXAMPLES / "pytorch"))
from frontend import parse_frontend_block  # noqa: E402
from qemlnet import LABELS, QEMLNet, circuit_layer, load_weights, randomize_bn  # noqa: E402


@pytest.mark.parametrize("config,shape", [("tiny", (3, 2, 32, 32)), ("edge", (2, 1, 64, 64))])
def test_run_agrees_with_the_pytorch_forward(config: str, shape: tuple, tmp_path: Path) -> None:
    torch.manual_seed(0)
    model = QEMLNet(config)
    randomize_bn(model)
    x = torch.randn(*shape)
    qir = qemlc.from_torch(model, x, tmp_path, name=f"qemlnet-{config}", labels=LABELS)
    assert model.training, "the module's mode is left as it was"
    assert "check" and run_qemlc("check", str(qir), "--summary").returncode == 0
    np.save(tmp_path / "x.npy", x.numpy())
    run_qemlc("run", str(qir), "--weights", str(qir.with_suffix(".safetensors")), "--input", f"spectrogram={tmp_path / 'x.npy'}",
              "--output", f"logits={tmp_path / 'logits.npy'}", "--output", f"probs={tmp_path / 'probs.npy'}")
    model.eval()
    with torch.no_grad():
        logits = model(x).numpy()
    for name, want in [("logits", logits), ("probs", torch.softmax(torch.from_numpy(logits), -1).numpy())]:
        got = np.load(tmp_path / f"{name}.npy")
        assert got.shape == want.shape
        error = np.abs(got - want)
        assert np.all(error <= 1e-5), f"{config} {name}: worst {np.nanmax(error)}"  # NaN fails


def test_converted_tiny_model_classifies_like_the_example(tmp_path: Path, tiny_bundle: Path, example_signals: list) -> None:
    source = (EXAMPLES / "qemlnet-tiny.qir").read_text()
    _, settings = parse_frontend_block(source)
    model = load_weights(QEMLNet("tiny"), str(EXAMPLES / "qemlnet-tiny.safetensors"))
    qir = qemlc.from_torch(model, torch.zeros(1, 2, 32, 32), tmp_path, name="converted", labels=LABELS, frontend=settings)
    converted = qemlc.compile(qir, qir.with_suffix(".safetensors"), out=tmp_path / "bundle")
    example = qemlc.load(tiny_bundle)
    assert converted.labels == example.labels and converted.sample_rate == example.sample_rate
    for path in example_signals:
        a, b = converted.classify(path), example.classify(path)
        assert a.label == b.label
        assert np.all(np.abs(a.probabilities - b.probabilities) <= 1e-5), path.name
    with pytest.raises(qemlc.QemlcError, match="converted.qir exists"):
        qemlc.from_torch(model, torch.zeros(1, 2, 32, 32), tmp_path, name="converted")


class _Sine(torch.nn.Module):
    def __init__(self) -> None:
        super().__init__()
        self.fc = torch.nn.Linear(4, 4)

    def forward(self, x):
        return torch.sin(self.fc(x))


class _Block(torch.nn.Module):
    def __init__(self) -> None:
        super().__init__()
        self.act = torch.nn.GELU()

    def forward(self, x):
        return self.act(x)


class _Outer(torch.nn.Module):
    def __init__(self, inner: torch.nn.Module) -> None:
        super().__init__()
        self.inner = inner

    def forward(self, x):
        return self.inner(x)


def _layer(body) -> torch.nn.Module:
    dev = qml.device("default.qubit", wires=2)

    @qml.qnode(dev, interface="torch")
    def qnode(inputs, weights):
        body(inputs, weights)
        return [qml.expval(qml.PauliZ(0)), qml.expval(qml.PauliZ(1))]

    return qml.qnn.TorchLayer(qnode, weight_shapes={"weights": (2,)})


def test_what_qemlc_lacks_is_named_with_its_module_path(tmp_path: Path) -> None:
    with pytest.raises(qemlc.QemlcError, match=r"op torch.sin at _Sine.forward: qemlc has no equivalent"):
        qemlc.from_torch(_Sine(), torch.zeros(1, 4), tmp_path)
    with pytest.raises(qemlc.QemlcError, match=r"module GELU at inner.act \(GELU\)"):
        qemlc.from_torch(_Outer(_Block()), torch.zeros(1, 4), tmp_path)

    def ising(x, w):
        qml.RY(x[0], wires=0)
        qml.IsingXX(w[0], wires=[0, 1])

    with pytest.raises(qemlc.QemlcError, match=r"gate IsingXX at inner \(TorchLayer\): qemlc has no such gate"):
        qemlc.from_torch(_Outer(_layer(ising)), torch.zeros(1, 2), tmp_path)

    def doubled(x, w):
        qml.RY(2 * x[0], wires=0)
        qml.CNOT(wires=[0, 1])

    with pytest.raises(qemlc.QemlcError, match=r"gate RY on wires \[0\] at inner: a parameter computed from the inputs"):
        qemlc.from_torch(_Outer(_layer(doubled)), torch.zeros(1, 2), tmp_path)
    assert not list(tmp_path.iterdir()), "nothing is written for a model that cannot be converted"


def test_constants_and_several_observables(tmp_path: Path) -> None:
    """A circuit with a constant angle, a Hadamard and X and Z measurements, checked against PennyLane."""

    def body(x, w):
        qml.Hadamard(wires=0)
        qml.RX(x[..., 0], wires=0)
        qml.RY(x[..., 1], wires=1)
        qml.RY(0.25, wires=1)
        qml.CRZ(w[1], wires=[0, 1])
        qml.RZ(w[0], wires=1)
        qml.CNOT(wires=[1, 0])

    dev = qml.device("default.qubit", wires=2)

    @qml.qnode(dev, interface="torch")
    def qnode(inputs, weights):
        body(inputs, weights)
        return [qml.expval(qml.PauliX(0)), qml.expval(qml.PauliZ(1)), qml.expval(qml.PauliZ(0))]

    torch.manual_seed(1)
    model = torch.nn.Sequential(torch.nn.Linear(3, 2), qml.qnn.TorchLayer(qnode, weight_shapes={"weights": (2,)}),
                                torch.nn.Linear(3, 2))
    x = torch.randn(4, 3)
    qir = qemlc.from_torch(model, x, tmp_path, name="small")
    np.save(tmp_path / "x.npy", x.numpy())
    run_qemlc("run", str(qir), "--weights", str(qir.with_suffix(".safetensors")), "--input", f"spectrogram={tmp_path / 'x.npy'}",
              "--output", f"logits={tmp_path / 'l.npy'}")
    with torch.no_grad():
        want = model(x).numpy()
    assert np.all(np.abs(np.load(tmp_path / "l.npy") - want) <= 1e-5)
