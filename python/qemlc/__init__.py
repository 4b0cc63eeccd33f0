"""qemlc for Python: run compiled QEML-Net bundles on NumPy signals, convert PyTorch models to
.qir, score archives on Ray.

    import qemlc
    m = qemlc.load("bundle/")             # from `qemlc export MODEL --weights W -o bundle --shared`
    p = m.classify("recording.wav")        # or a 1-D float array sampled at m.sample_rate
    print(p.label, p.probabilities)        # probabilities in the order of m.labels

`qemlc.compile(model, weights, target=…, out=…)` drives the qemlc CLI and loads the result;
`qemlc.from_torch(model, example_input, out_dir)` writes a .qir and its weights from a PyTorch
module (needs torch and pennylane); `python -m qemlc.fleet score …` scores many recordings on Ray.
"""
from __future__ import annotations

from typing import Any

from .binding import Model, Prediction, Predictions, load
from .cli import compile
from .errors import QemlcError
from .signals import read_signal

__all__ = ["Model", "Prediction", "Predictions", "QemlcError", "compile", "from_torch", "load", "read_signal"]
__version__ = "0.1.0"


def from_torch(model: Any, example_input: Any, out_dir: Any, **options: Any) -> Any:
    """Writes `<name>.qir` and `<name>.safetensors` from a PyTorch module; see qemlc.torch_export.from_torch."""
    from .torch_export import from_torch as convert  # torch is imported only when asked for

    return convert(model, example_input, out_dir, **options)
