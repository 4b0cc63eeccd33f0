"""QEML-Net in PyTorch + PennyLane, with the weight names of the qemlc examples.

    spectrogram -> conv1/bn1 stem -> 4 stages of ResNet-50 bottlenecks with CBAM
    -> global average pool (the "features") -> fc (4) -> tanh * pi
    -> 4-qubit circuit (pennylane.qnn.TorchLayer) -> head (8) -> softmax

`QEMLNet(config)` with config "tiny", "edge" or "paper" matches examples/qemlnet-tiny.qir,
qemlnet-edge.qir and qemlnet-paper.qir: `model.state_dict()` holds exactly the tensors those
files reference (plus BatchNorm's `num_batches_tracked`, which qemlc does not use; `save_weights`
leaves those out), so

    save_weights(model, "w.safetensors")
    qemlc run examples/qemlnet-tiny.qir --weights w.safetensors --input spectrogram=x.npy

computes what `model.predict(x)` computes (eval mode).

Conventions shared with qemlc:
  * BatchNorm: (x - running_mean) / sqrt(running_var + eps) * weight + bias, eps = 1e-5.
  * CBAM: channel attention sigma(MLP(avgpool) + MLP(maxpool)) with a bias-free 1x1-conv MLP
    (C -> C // ratio -> C), then spatial attention sigma(conv7x7([mean_c, max_c])) (no bias).
  * Bottleneck: stride on the 3x3 conv (ResNet v1.5); the first block of every stage has a
    projection shortcut `downsample.0` (1x1 conv, stride) + `downsample.1` (BatchNorm).
  * Circuit: AngleEmbedding(rotation="Y"); 6 layers of Rot(w[l,q,0], w[l,q,1], w[l,q,2]) on
    each wire then CNOT(q, q+1); <Z> on each wire. PennyLane's Rot(phi, theta, omega) =
    RZ(omega) RY(theta) RZ(phi); weight `pqc.weights` of shape [6, 4, 3].
"""
from __future__ import annotations

import math
from dataclasses import dataclass

import pennylane as qml
import torch
import torch.nn as nn
import torch.nn.functional as F

LABELS = ["healthy", "inner_race", "outer_race", "ball", "cage", "inner_outer", "misalignment", "unbalance"]


@dataclass(frozen=True)
class Config:
    name: str
    in_channels: int
    input_size: tuple[int, int]
    stem: int
    blocks: tuple[int, int, int, int]
    widths: tuple[int, int, int, int]
    cbam_ratio: int
    qubits: int = 4
    layers: int = 6
    classes: int = 8
    qir: str = ""


CONFIGS = {
    "tiny": Config("tiny", 2, (32, 32), 8, (1, 1, 1, 1), (4, 8, 8, 16), 8, qir="examples/qemlnet-tiny.qir"),
    "edge": Config("edge", 1, (64, 64), 64, (3, 4, 6, 3), (64, 128, 256, 512), 16, qir="examples/qemlnet-edge.qir"),
    "paper": Config("paper", 3, (224, 224), 64, (3, 4, 6, 3), (64, 128, 256, 512), 16, qir="examples/qemlnet-paper.qir"),
}

EXPANSION = 4
BN_EPS = 1e-5


class MLP(nn.Module):
    """CBAM's shared channel MLP as 1x1 convolutions without biases (`fc1`, `fc2`)."""

    def __init__(self, c: int, hidden: int):
        super().__init__()
        self.fc1 = nn.Conv2d(c, hidden, 1, bias=False)
        self.fc2 = nn.Conv2d(hidden, c, 1, bias=False)

    def forward(self, v):
        return self.fc2(F.relu(self.fc1(v)))


class SpatialAttention(nn.Module):
    def __init__(self, kernel: int = 7):
        super().__init__()
        self.conv = nn.Conv2d(2, 1, kernel, padding=kernel // 2, bias=False)

    def forward(self, x):
        pooled = torch.cat([x.mean(dim=1, keepdim=True), x.amax(dim=1, keepdim=True)], dim=1)
        return torch.sigmoid(self.conv(pooled))


class CBAM(nn.Module):
    def __init__(self, c: int, ratio: int):
        super().__init__()
        self.ca = MLP(c, c // ratio)
        self.sa = SpatialAttention(7)

    def forward(self, x):
        avg = self.ca(F.adaptive_avg_pool2d(x, 1))
        mx = self.ca(F.adaptive_max_pool2d(x, 1))
        x = x * torch.sigmoid(avg + mx)
        return x * self.sa(x)


class Bottleneck(nn.Module):
    def __init__(self, cin: int, width: int, stride: int, project: bool, ratio: int):
        super().__init__()
        cout = width * EXPANSION
        self.conv1 = nn.Conv2d(cin, width, 1, bias=False)
        self.bn1 = nn.BatchNorm2d(width, eps=BN_EPS)
        self.conv2 = nn.Conv2d(width, width, 3, stride=stride, padding=1, bias=False)
        self.bn2 = nn.BatchNorm2d(width, eps=BN_EPS)
        self.conv3 = nn.Conv2d(width, cout, 1, bias=False)
        self.bn3 = nn.BatchNorm2d(cout, eps=BN_EPS)
        self.cbam = CBAM(cout, ratio)
        self.downsample = (nn.Sequential(nn.Conv2d(cin, cout, 1, stride=stride, bias=False),
                                         nn.BatchNorm2d(cout, eps=BN_EPS)) if project else None)

    def forward(self, x):
        y = F.relu(self.bn1(self.conv1(x)))
        y = F.relu(self.bn2(self.conv2(y)))
        y = self.cbam(self.bn3(self.conv3(y)))
        shortcut = self.downsample(x) if self.downsample is not None else x
        return F.relu(y + shortcut)


def circuit_layer(qubits: int = 4, layers: int = 6, device: str = "default.qubit") -> qml.qnn.TorchLayer:
    """The QEML-Net circuit as a TorchLayer: inputs [N, qubits] angles, weights [layers, qubits, 3]."""
    dev = qml.device(device, wires=qubits)

    @qml.qnode(dev, interface="torch", diff_method="backprop")
    def qnode(inputs, weights):
        qml.AngleEmbedding(inputs, wires=range(qubits), rotation="Y")
        for l in range(layers):
            for q in range(qubits):
                qml.Rot(weights[l, q, 0], weights[l, q, 1], weights[l, q, 2], wires=q)
            for q in range(qubits - 1):
                qml.CNOT(wires=[q, q + 1])
        return [qml.expval(qml.PauliZ(q)) for q in range(qubits)]

    return qml.qnn.TorchLayer(qnode, weight_shapes={"weights": (layers, qubits, 3)})


class QEMLNet(nn.Module):
    def __init__(self, config: str | Config = "tiny"):
        super().__init__()
        cfg = CONFIGS[config] if isinstance(config, str) else config
        self.cfg = cfg
        self.conv1 = nn.Conv2d(cfg.in_channels, cfg.stem, 7, stride=2, padding=3, bias=False)
        self.bn1 = nn.BatchNorm2d(cfg.stem, eps=BN_EPS)
        cin = cfg.stem
        for s, (blocks, width) in enumerate(zip(cfg.blocks, cfg.widths)):
            stride = 1 if s == 0 else 2
            stage = []
            for b in range(blocks):
                stage.append(Bottleneck(cin, width, stride if b == 0 else 1, b == 0, cfg.cbam_ratio))
                cin = width * EXPANSION
            setattr(self, f"layer{s + 1}", nn.Sequential(*stage))
        self.features_dim = cin
        self.fc = nn.Linear(cin, cfg.qubits)
        self.pqc = circuit_layer(cfg.qubits, cfg.layers)
        self.head = nn.Linear(cfg.qubits, cfg.classes)

    def features(self, x):
        x = F.max_pool2d(F.relu(self.bn1(self.conv1(x))), 3, stride=2, padding=1)
        x = self.layer4(self.layer3(self.layer2(self.layer1(x))))
        return torch.flatten(F.adaptive_avg_pool2d(x, 1), 1)

    def angles(self, features):
        return torch.tanh(self.fc(features)) * math.pi

    def forward(self, x):
        """Logits [N, classes] (train with cross-entropy on these)."""
        return self.head(self.pqc(self.angles(self.features(x))))

    def outputs(self, x):
        """Everything qemlc can output: dict of features, angles, expvals, logits, probs."""
        f = self.features(x)
        a = self.angles(f)
        e = self.pqc(a)
        logits = self.head(e)
        return {"features": f, "angles": a, "expvals": e, "logits": logits, "probs": torch.softmax(logits, dim=-1)}

    @torch.no_grad()
    def predict(self, x):
        """(probs, features) in eval mode, as `qemlc run … --output probs=… --output features=…`."""
        was = self.training
        self.eval()
        out = self.outputs(torch.as_tensor(x, dtype=torch.float32))
        self.train(was)
        return out["probs"], out["features"]


def qemlc_state_dict(model: nn.Module) -> dict[str, torch.Tensor]:
    """The state_dict as qemlc wants it: float32, contiguous, without `num_batches_tracked`
    (an int64 training counter that inference does not use and qemlc's safetensors reader
    rejects: it reads F32/F16/BF16/F64 only)."""
    return {k: v.detach().to(torch.float32).contiguous().clone()
            for k, v in model.state_dict().items() if not k.endswith("num_batches_tracked")}


def write_safetensors(tensors: dict[str, torch.Tensor], path: str, metadata: dict[str, str] | None = None) -> None:
    """A safetensors file with a reproducible byte layout: tensors and metadata in sorted name
    order (safetensors.torch.save_file orders the metadata by a hash map: same weights, different
    bytes from run to run). Readable by safetensors and qemlc alike."""
    import json
    import struct

    header, blobs, offset = {}, [], 0
    if metadata:
        header["__metadata__"] = {k: str(metadata[k]) for k in sorted(metadata)}
    dtypes = {torch.float32: "F32", torch.float64: "F64", torch.float16: "F16", torch.bfloat16: "BF16",
              torch.int64: "I64", torch.int32: "I32"}
    for name in sorted(tensors):
        t = tensors[name].detach().cpu().contiguous()
        data = t.numpy().tobytes() if t.dtype != torch.bfloat16 else t.view(torch.int16).numpy().tobytes()
        header[name] = {"dtype": dtypes[t.dtype], "shape": list(t.shape), "data_offsets": [offset, offset + len(data)]}
        blobs.append(data)
        offset += len(data)
    text = json.dumps(header, separators=(",", ":")).encode()
    text += b" " * (-len(text) % 8)
    with open(path, "wb") as f:
        f.write(struct.pack("<Q", len(text)))
        f.write(text)
        for b in blobs:
            f.write(b)


def save_weights(model: nn.Module, path: str, metadata: dict[str, str] | None = None) -> None:
    """qemlc_state_dict(model) as safetensors (float32, no num_batches_tracked, reproducible bytes)."""
    write_safetensors(qemlc_state_dict(model), path, metadata)


def load_weights(model: nn.Module, path: str) -> nn.Module:
    """Loads a safetensors file written by save_weights (or by qemlc's `init-weights`)."""
    from safetensors.torch import load_file
    state = load_file(path)
    own = model.state_dict()
    for k, v in own.items():  # counters are not saved: keep the model's own
        if k.endswith("num_batches_tracked") and k not in state:
            state[k] = v
    missing = [k for k in own if k not in state]
    unexpected = [k for k in state if k not in own]
    if missing or unexpected:
        raise KeyError(f"{path}: missing {missing[:5]}{'…' if len(missing) > 5 else ''}, "
                       f"unexpected {unexpected[:5]}{'…' if len(unexpected) > 5 else ''}")
    model.load_state_dict({k: v.to(own[k].dtype) for k, v in state.items()})
    return model


def randomize_bn(model: nn.Module, generator: torch.Generator | None = None) -> None:
    """Non-trivial BatchNorm statistics and affine parameters (for parity tests)."""
    with torch.no_grad():
        for m in model.modules():
            if isinstance(m, nn.BatchNorm2d):
                c = m.num_features
                m.running_mean.copy_(torch.randn(c, generator=generator) * 0.2)
                m.running_var.copy_(torch.rand(c, generator=generator) * 1.5 + 0.25)
                m.weight.copy_(torch.rand(c, generator=generator) * 0.8 + 0.6)
                m.bias.copy_(torch.randn(c, generator=generator) * 0.2)


if __name__ == "__main__":
    import argparse

    p = argparse.ArgumentParser(description="Write initial (or BN-randomized) QEML-Net weights for qemlc.")
    p.add_argument("--config", default="tiny", choices=sorted(CONFIGS))
    p.add_argument("--seed", type=int, default=0)
    p.add_argument("--randomize-bn", action="store_true", help="random BatchNorm statistics (parity tests)")
    p.add_argument("--keep-counters", action="store_true",
                   help="save the raw state_dict, num_batches_tracked (int64) included")
    p.add_argument("-o", "--output", required=True)
    a = p.parse_args()
    torch.manual_seed(a.seed)
    m = QEMLNet(a.config)
    if a.randomize_bn:
        randomize_bn(m)
    if a.keep_counters:
        from safetensors.torch import save_file  # the raw state_dict, as users would save it
        save_file({k: v.contiguous() for k, v in m.state_dict().items()}, a.output)
    else:
        save_weights(m, a.output)
    n = sum(v.numel() for k, v in qemlc_state_dict(m).items())
    print(f"{a.output}: {a.config}, {n} parameters")
