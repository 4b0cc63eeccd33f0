"""`qemlc.from_torch(model, example_input, out_dir)`: a `.qir` and its safetensors from a PyTorch
module, with no hand-written `.qir`.

The classical part is traced with `torch.fx` (a PennyLane `TorchLayer` is kept as one leaf);
each traced node becomes one `.qir` statement, weights keep their `state_dict` names. The
circuit is read from the `TorchLayer`'s tape at PennyLane's device level (templates such as
`AngleEmbedding` already expanded into gates): the tape is built twice with distinct marker
values for the inputs and the trainable weights, so every gate parameter is identified as an
input column `x[i]`, a weight element `w[…]`, or a constant. An op, module, gate or measurement
qemlc lacks is a QemlcError naming it and the module path where it occurs.
"""
from __future__ import annotations

import math
import operator
from pathlib import Path
from typing import Any, Dict, List, Optional, Sequence, Tuple

import numpy as np

from .errors import QemlcError

_GATES = {"RX": "rx", "RY": "ry", "RZ": "rz", "PhaseShift": "phaseshift", "Rot": "rot", "Hadamard": "h",
          "PauliX": "x", "PauliY": "y", "PauliZ": "z", "S": "s", "T": "t", "CNOT": "cnot", "CZ": "cz",
          "SWAP": "swap", "CRX": "crx", "CRY": "cry", "CRZ": "crz"}
_OBSERVABLES = {"PauliX": "X", "PauliY": "Y", "PauliZ": "Z"}


def _pair(v: Any) -> List[int]:
    return [int(v), int(v)] if isinstance(v, int) else [int(x) for x in v]


def _qir_value(v: Any) -> str:
    """A frontend setting in .qir syntax."""
    if isinstance(v, bool):
        return "true" if v else "false"
    if isinstance(v, str):
        return '"' + v.replace("\\", "\\\\").replace('"', '\\"') + '"'
    if isinstance(v, (list, tuple)):
        return "[" + ", ".join(_qir_value(x) for x in v) + "]"
    return repr(v)


class _Converter:
    def __init__(self, model: Any, input_name: str):
        import torch.fx as fx
        import pennylane as qml

        self.torch_layer = qml.qnn.TorchLayer
        layer_type = self.torch_layer

        class Tracer(fx.Tracer):
            def is_leaf_module(self, m: Any, qualified_name: str) -> bool:
                return isinstance(m, layer_type) or super().is_leaf_module(m, qualified_name)

        self.model = model
        self.root = type(model).__name__
        try:
            self.graph = Tracer().trace(model)
        except Exception as e:  # fx cannot trace data-dependent control flow
            raise QemlcError(f"torch.fx cannot trace {self.root}: {e}") from None
        self.modules = dict(model.named_modules())
        self.names: Dict[Any, str] = {}
        self.lines: List[str] = []
        self.weights: Dict[str, Any] = {}
        self.declared: List[str] = []
        self.input_name = input_name

    # --- naming ----------------------------------------------------------------------------

    def where(self, node: Any) -> str:
        if node.op == "call_module":
            return f"{node.target} ({type(self.modules[node.target]).__name__})"
        stack = node.meta.get("nn_module_stack") or {}
        return f"{list(stack)[-1]}" if stack else f"{self.root}.forward"

    def fail(self, node: Any, what: str, fix: str = "") -> QemlcError:
        return QemlcError(f"{what} at {self.where(node)}: qemlc has no equivalent" + (f"; {fix}" if fix else ""))

    def value(self, node: Any, arg: Any) -> str:
        from torch.fx import Node

        if not isinstance(arg, Node):
            raise self.fail(node, f"a constant operand ({arg!r}) of {self.op_name(node)}",
                            "only tensors computed from the input are operands")
        return "%" + self.names[arg]

    def weight(self, module_path: str, name: str) -> str:
        """`@path.name` for a module's parameter or buffer (its state_dict name), recorded for the weights file."""
        key = f"{module_path}.{name}" if module_path else name
        self.weights[key] = getattr(self.modules[module_path], name)
        return "@" + key

    @staticmethod
    def op_name(node: Any) -> str:
        t = node.target
        if node.op == "call_method":
            return f"Tensor.{t}"
        if node.op == "call_module":
            return str(t)
        module = getattr(t, "__module__", "") or ""
        short = {"torch.nn.functional": "F", "_operator": "operator", "torch._C._nn": "F"}.get(module, module)
        return f"{short}.{getattr(t, '__name__', t)}" if short else str(getattr(t, "__name__", t))

    # --- nodes -----------------------------------------------------------------------------

    def emit(self, node: Any, expr: str) -> None:
        self.lines.append(f"%{self.names[node]} = {expr}")

    def is_softmax(self, node: Any) -> bool:
        import torch
        import torch.nn as nn
        import torch.nn.functional as F

        return (node.op == "call_module" and isinstance(self.modules[node.target], nn.Softmax)) or \
            (node.op == "call_method" and node.target == "softmax") or node.target in (torch.softmax, F.softmax)

    def convert(self, example: Any) -> Tuple[List[str], bool]:
        """The input declaration and the statements; True when the forward ends in a softmax."""
        import torch
        from torch.fx.passes.shape_prop import ShapeProp

        gm = torch.fx.GraphModule(self.model, self.graph)
        with torch.no_grad():
            ShapeProp(gm).propagate(example)
        output = [n for n in self.graph.nodes if n.op == "output"][0]
        result = output.args[0]
        if isinstance(result, (tuple, list)) or not hasattr(result, "op"):
            raise self.fail(output, "a forward that returns several values or a non-tensor",
                            "return the logits (or probabilities) alone")
        ends_in_softmax = self.is_softmax(result)
        taken = {n.name for n in self.graph.nodes}
        for reserved in ("probs", "logits"):
            if reserved in taken:
                raise QemlcError(f"the traced graph of {self.root} already has a value named {reserved}; rename it")
        inputs: List[str] = []
        for node in self.graph.nodes:
            self.names[node] = node.name if node is not result else ("probs" if ends_in_softmax else "logits")
            if node.op == "placeholder":
                if inputs:
                    raise self.fail(node, "a second forward argument", "qemlc models take one input")
                self.names[node] = self.input_name
                shape = list(node.meta["tensor_meta"].shape)
                inputs.append(f"input %{self.input_name}: f32[N,{','.join(str(d) for d in shape[1:])}]")
            elif node.op == "call_module":
                self.module(node)
            elif node.op in ("call_function", "call_method"):
                self.function(node)
            elif node.op == "get_attr":
                raise self.fail(node, f"a tensor attribute read in forward ({node.target})",
                                "use it through a module (nn.Linear, nn.Conv2d, …)")
        return inputs, ends_in_softmax

    def module(self, node: Any) -> None:
        import torch.nn as nn

        m, path = self.modules[node.target], node.target
        x = self.value(node, node.args[0])
        if isinstance(m, nn.Conv2d):
            if m.padding_mode != "zeros" or isinstance(m.padding, str):
                raise self.fail(node, f"Conv2d padding {m.padding!r} / padding_mode {m.padding_mode!r}",
                                "use numeric zero padding")
            bias = f", bias={self.weight(path, 'bias')}" if m.bias is not None else ""
            extra = "".join([f", dilation={_pair(m.dilation)}" if _pair(m.dilation) != [1, 1] else "",
                             f", groups={m.groups}" if m.groups != 1 else ""])
            self.emit(node, f"conv2d({x}, {self.weight(path, 'weight')}{bias}, out={m.out_channels}, "
                            f"kernel={_pair(m.kernel_size)}, stride={_pair(m.stride)}, padding={_pair(m.padding)}{extra})")
        elif isinstance(m, nn.BatchNorm2d):
            if not (m.affine and m.track_running_stats):
                raise self.fail(node, "BatchNorm2d without affine parameters or running statistics",
                                "qemlc's batchnorm is inference BatchNorm with weight, bias and running stats")
            self.emit(node, f"batchnorm({x}, {self.weight(path, 'weight')}, {self.weight(path, 'bias')}, "
                            f"{self.weight(path, 'running_mean')}, {self.weight(path, 'running_var')}, eps={m.eps!r})")
        elif isinstance(m, nn.Linear):
            bias = f", bias={self.weight(path, 'bias')}" if m.bias is not None else ""
            self.emit(node, f"dense({x}, {self.weight(path, 'weight')}{bias}, out={m.out_features})")
        elif isinstance(m, (nn.ReLU, nn.Sigmoid, nn.Tanh)):
            self.emit(node, f"{type(m).__name__.lower()}({x})")
        elif isinstance(m, nn.MaxPool2d):
            self.pool(node, "maxpool2d", x, m.kernel_size, m.stride, m.padding, m.dilation, m.ceil_mode)
        elif isinstance(m, nn.AvgPool2d):
            if not m.count_include_pad or m.divisor_override:
                raise self.fail(node, "AvgPool2d with count_include_pad=False or a divisor_override")
            self.pool(node, "avgpool2d", x, m.kernel_size, m.stride, m.padding, 1, m.ceil_mode)
        elif isinstance(m, (nn.AdaptiveAvgPool2d, nn.AdaptiveMaxPool2d)):
            self.global_pool(node, "avg" if isinstance(m, nn.AdaptiveAvgPool2d) else "max", x, m.output_size)
        elif isinstance(m, nn.Flatten):
            self.flatten(node, x, m.start_dim, m.end_dim)
        elif isinstance(m, nn.Softmax):
            self.softmax(node, x, m.dim)
        elif isinstance(m, (nn.Identity, nn.Dropout)):
            self.names[node] = self.names[node.args[0]]
        elif isinstance(m, self.torch_layer):
            self.circuit(node, m, x)
        else:
            raise self.fail(node, f"module {type(m).__name__}")

    def pool(self, node: Any, op: str, x: str, kernel: Any, stride: Any, padding: Any, dilation: Any, ceil: bool) -> None:
        if _pair(dilation) != [1, 1]:
            raise self.fail(node, f"{op} with dilation {dilation}")
        stride = kernel if stride is None or stride == [] else stride
        self.emit(node, f"{op}({x}, kernel={_pair(kernel)}, stride={_pair(stride)}, padding={_pair(padding)}"
                        + (", ceil_mode=true" if ceil else "") + ")")

    def global_pool(self, node: Any, kind: str, x: str, size: Any) -> None:
        if _pair(size) != [1, 1]:
            raise self.fail(node, f"adaptive_{kind}_pool2d to {size}", "qemlc pools globally (output size 1)")
        self.emit(node, f"global_{kind}pool({x})")

    def flatten(self, node: Any, x: str, start: int, end: int = -1) -> None:
        if start != 1 or end != -1:
            raise self.fail(node, f"flatten(start_dim={start}, end_dim={end})", "qemlc flattens all but the batch axis")
        self.emit(node, f"flatten({x})")

    def softmax(self, node: Any, x: str, dim: Any) -> None:
        rank = len(node.meta["tensor_meta"].shape)
        if dim is None or dim not in (-1, rank - 1):
            raise self.fail(node, f"softmax over axis {dim}", "qemlc's softmax is over the last axis")
        self.emit(node, f"softmax({x})")

    def function(self, node: Any) -> None:
        import torch
        import torch.nn.functional as F

        t, args, kw = node.target, list(node.args), dict(node.kwargs)
        name = self.op_name(node)

        def arg(i: int, key: str, default: Any = None) -> Any:
            return args[i] if len(args) > i else kw.get(key, default)

        unary = {F.relu: "relu", torch.relu: "relu", torch.sigmoid: "sigmoid", torch.tanh: "tanh", F.sigmoid: "sigmoid",
                 F.tanh: "tanh", "relu": "relu", "sigmoid": "sigmoid", "tanh": "tanh"}
        if node.op == "call_method" and t in ("mean", "amax", "max"):
            dim, keep = arg(1, "dim"), arg(2, "keepdim", False)
            rank = len(node.args[0].meta["tensor_meta"].shape)
            if t == "max" and not isinstance(dim, int):
                raise self.fail(node, "Tensor.max over every element")
            if dim in (1, (1,), [1]) and keep and rank == 4:
                self.emit(node, f"channel_{'mean' if t == 'mean' else 'max'}({self.value(node, args[0])})")
                return
            raise self.fail(node, f"{name}(dim={dim}, keepdim={keep})",
                            "qemlc has channel_mean/channel_max (dim=1, keepdim=True on [N,C,H,W])")
        if t in unary and (node.op == "call_method") == isinstance(t, str):  # inplace=True computes the same
            self.emit(node, f"{unary[t]}({self.value(node, args[0])})")
        elif t in (F.max_pool2d, F.avg_pool2d):
            op = "maxpool2d" if t is F.max_pool2d else "avgpool2d"
            if t is F.avg_pool2d and (not arg(5, "count_include_pad", True) or arg(6, "divisor_override")):
                raise self.fail(node, "avg_pool2d with count_include_pad=False or a divisor_override")
            if t is F.max_pool2d and arg(6, "return_indices", False):
                raise self.fail(node, "max_pool2d with return_indices=True")
            self.pool(node, op, self.value(node, args[0]), arg(1, "kernel_size"), arg(2, "stride"), arg(3, "padding", 0),
                      arg(4, "dilation", 1) if t is F.max_pool2d else 1, arg(5 if t is F.max_pool2d else 4, "ceil_mode", False))
        elif t in (F.adaptive_avg_pool2d, F.adaptive_max_pool2d):
            if t is F.adaptive_max_pool2d and arg(2, "return_indices", False):
                raise self.fail(node, "adaptive_max_pool2d with return_indices=True")
            self.global_pool(node, "avg" if t is F.adaptive_avg_pool2d else "max", self.value(node, args[0]), arg(1, "output_size"))
        elif t is torch.flatten or (node.op == "call_method" and t == "flatten"):
            self.flatten(node, self.value(node, args[0]), arg(1, "start_dim", 0), arg(2, "end_dim", -1))
        elif node.op == "call_method" and t in ("view", "reshape"):
            shape = list(node.meta["tensor_meta"].shape)
            if len(shape) != 2:
                raise self.fail(node, f"{name} to shape {shape}", "only a reshape to [N, features] (flatten) is supported")
            self.flatten(node, self.value(node, args[0]), 1)
        elif t in (torch.softmax, F.softmax) or (node.op == "call_method" and t == "softmax"):
            self.softmax(node, self.value(node, args[0]), arg(1, "dim"))
        elif t in (torch.cat, torch.concat):
            tensors = arg(0, "tensors")
            axis = arg(1, "dim", 0)
            rank = len(node.meta["tensor_meta"].shape)
            self.emit(node, f"concat({', '.join(self.value(node, a) for a in tensors)}, axis={axis % rank})")
        elif t in (operator.add, torch.add, operator.mul, torch.mul):
            op = "add" if t in (operator.add, torch.add) else "mul"
            a, b = args[0], args[1]
            numbers = [v for v in (a, b) if isinstance(v, (int, float))]
            if numbers and op == "mul":
                tensor = b if isinstance(a, (int, float)) else a
                self.emit(node, f"scale({self.value(node, tensor)}, by={float(numbers[0])!r})")
            elif numbers:
                raise self.fail(node, f"{name} of a constant ({numbers[0]!r})", "qemlc adds tensors, or scales by a constant")
            else:
                self.emit(node, f"{op}({self.value(node, a)}, {self.value(node, b)})")
        else:
            raise self.fail(node, f"op {name}")

    # --- the circuit -------------------------------------------------------------------------

    def circuit(self, node: Any, layer: Any, x: str) -> None:
        import pennylane as qml
        import torch

        path = node.target
        qnode = layer.qnode
        device_wires = list(qnode.device.wires)
        k = int(node.args[0].meta["tensor_meta"].shape[-1])
        weight_names = list(layer.qnode_weights)
        shapes = {n: tuple(layer.qnode_weights[n].shape) for n in weight_names}

        def markers(offset: float) -> Tuple[torch.Tensor, Dict[str, torch.Tensor], Dict[float, str]]:
            """Inputs and weights set to distinct exact values; value → its .qir parameter."""
            where: Dict[float, str] = {}
            xs = torch.arange(k, dtype=torch.float64) + offset
            for i in range(k):
                where[offset + i] = f"x[{i}]"
            ws = {}
            base = offset + 2 ** 16
            for j, n in enumerate(weight_names):
                size = int(np.prod(shapes[n]))
                if size >= 2 ** 16:
                    raise self.fail(node, f"circuit weight {n} with {size} elements (at most 65535)")
                ws[n] = (torch.arange(size, dtype=torch.float64) + base).reshape(shapes[n])
                symbol = "w" if j == 0 else f"w{j + 1}"
                for flat in range(size):
                    index = np.unravel_index(flat, shapes[n]) if shapes[n] else ()
                    where[base + flat] = f"{symbol}[{','.join(str(int(i)) for i in index)}]" if index else symbol
                base += 2 ** 16
            return xs, ws, where

        tapes = []
        for offset in (1000.0, 5_000_000.0):
            xs, ws, where = markers(offset)
            try:
                tape = qml.workflow.construct_tape(qnode, level="device")(**{layer.input_arg: xs}, **ws)
            except Exception as e:
                raise QemlcError(f"the circuit of {path} ({type(layer).__name__}) cannot be built into a tape: {e}") from None
            tapes.append((tape, where))
        (tape, where), (tape2, where2) = tapes
        body = []
        for op, op2 in zip(tape.operations, tape2.operations):
            gate = _GATES.get(op.name)
            if gate is None:
                raise QemlcError(f"gate {op.name} at {path} ({type(layer).__name__}): qemlc has no such gate "
                                 f"(it has {', '.join(sorted(set(_GATES)))})")
            params = []
            for p, p2 in zip(op.parameters, op2.parameters):
                v, v2 = float(p), float(p2)
                if v == v2:
                    params.append(repr(v))
                elif v in where and v2 in where2 and where[v] == where2[v2]:
                    params.append(where[v])
                else:
                    raise QemlcError(f"gate {op.name} on wires {op.wires.tolist()} at {path}: a parameter computed from the "
                                     "inputs or weights; qemlc circuits take an input column x[i], a weight element w[…] "
                                     "or a constant")
            wires = [device_wires.index(w) for w in op.wires]
            wire_text = str(wires[0]) if len(wires) == 1 else f"[{', '.join(map(str, wires))}]"
            body.append(f"{gate}({''.join(p + ', ' for p in params)}wires={wire_text})")
        groups: List[Tuple[str, List[int]]] = []
        for m in tape.measurements:
            kind = type(m).__name__
            if kind == "ExpectationMP" and m.obs is not None and m.obs.name in _OBSERVABLES and len(m.obs.wires) == 1:
                obs, wire = _OBSERVABLES[m.obs.name], device_wires.index(m.obs.wires[0])
                if groups and groups[-1][0] == obs:
                    groups[-1][1].append(wire)
                else:
                    groups.append((obs, [wire]))
            elif kind == "ProbabilityMP" and m.obs is None:
                groups.append(("probs", [device_wires.index(w) for w in m.wires]))
            else:
                raise QemlcError(f"measurement {m} at {path}: qemlc measures expval of X, Y or Z on one wire, or probs")
        for obs, wires in groups:
            body.append(f"probs(wires={wires})" if obs == "probs" else f"expval({obs}, wires={wires})")
        operands = "".join(f", {self.weight(path, n)}" for n in weight_names)
        for n in weight_names:
            self.declared.append(f"weight @{path}.{n}: f32[{','.join(str(d) for d in shapes[n])}]")
        self.lines.append(f"%{self.names[node]} = circuit({x}{operands}, wires={len(device_wires)}) {{")
        self.lines.extend("  " + b for b in body)
        self.lines.append("}")


def from_torch(model: Any, example_input: Any, out_dir: Any, name: Optional[str] = None,
               labels: Optional[Sequence[str]] = None, frontend: Optional[Dict[str, Any]] = None,
               input_name: str = "spectrogram", force: bool = False) -> Path:
    """Writes `<name>.qir` and `<name>.safetensors` into `out_dir` from a PyTorch module; returns the .qir path.

    `model` is converted in eval mode (BatchNorm uses its running statistics); `example_input`
    ([N, …], N any) fixes the input's shape. The forward's result becomes `%logits` and its
    softmax `%probs` (the class output), unless the forward already ends in a softmax. `labels`
    names the classes; `frontend` (the `.qir` frontend settings, e.g. {"sample_rate": 12000,
    "length": 12000, "n_fft": 2048, …}) makes the model classify raw signals. Existing files are
    kept unless `force`.

    Raises QemlcError naming the op, module, gate or measurement qemlc lacks and its module path.
    """
    import torch

    name = name or type(model).__name__.lower()
    out = Path(out_dir)
    qir, weights_path = out / f"{name}.qir", out / f"{name}.safetensors"
    for f in (qir, weights_path):
        if f.exists() and not force:
            raise QemlcError(f"{f} exists; qemlc does not overwrite files unless asked (force=True)", status="ERROR_IO")
    was_training = model.training
    model.eval()
    try:
        converter = _Converter(model, input_name)
        inputs, ends_in_softmax = converter.convert(torch.as_tensor(example_input, dtype=torch.float32))
    finally:
        model.train(was_training)
    lines = [f"# Converted from the PyTorch module {type(model).__name__} by qemlc.from_torch.", f'model "{name}"']
    if labels:
        lines.append("labels [" + ", ".join(_qir_value(str(l)) for l in labels) + "]")
    if frontend:
        lines.append(f"frontend %{input_name} {{")
        lines += [f"  {k} = {_qir_value(v)}" for k, v in frontend.items()]
        lines.append("}")
    lines += inputs + converter.declared + [""] + converter.lines
    lines += ["output %probs"] if ends_in_softmax else ["%probs = softmax(%logits)", "output %probs, %logits"]
    out.mkdir(parents=True, exist_ok=True)
    tensors = {k: v.detach().to(torch.float32).contiguous().clone() for k, v in converter.weights.items()}
    from safetensors.torch import save_file

    save_file(tensors, str(weights_path))
    qir.write_text("\n".join(lines) + "\n")
    return qir
