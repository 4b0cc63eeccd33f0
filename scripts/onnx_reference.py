#!/usr/bin/env python3
"""ONNX Runtime reference vectors for the reference interpreter (Tests/QEMLRuntimeTests/Fixtures/onnx).

Two parts, both built with onnx.helper and run by onnxruntime (graph optimizations off, so the
reference is ONNX's plain semantics):

1. The edge model (examples/qemlnet-edge.qir) written out again here, independently, as an ONNX
   graph FROM A SAFETENSORS FILE (PyTorch state_dict names), run on a fixed input. Writes
   edge_input.npy, edge_features.npy, edge_angles.npy, a few intermediates (edge_stem.npy,
   edge_layer2.npy, edge_layer3.npy) and edge_weights.checksum (FNV-1a of the weights, the same
   function as WeightInit.checksum), so a drift in the generated weights is reported as such,
   and edge_features_f64.npy / edge_angles_f64.npy: the same ONNX node list evaluated in float64
   NumPy, which tells float32 rounding (ONNX Runtime's or ours) from real disagreement.
   The weights file is not committed; make it with
       qemlc init-weights examples/qemlnet-edge.qir --seed 1 -o /tmp/w.safetensors
   (or, without the CLI: QEMLC_WRITE_EDGE_WEIGHTS=/tmp/w.safetensors swift test --filter testWeightsRoundTripThroughSafetensors)
2. Single ops and a small CBAM block on random data (ops.json + ops/*.npy): conv with stride,
   padding, dilation, groups and the fused epilogue, pools with ceil_mode, dense, softmax, ….

Run: python3 scripts/onnx_reference.py /tmp/w.safetensors
"""
import json, math, os, struct, sys
import numpy as np
import onnx
from onnx import helper, TensorProto, numpy_helper
import onnxruntime as ort
from safetensors.numpy import load_file

OUT = os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "Tests", "QEMLRuntimeTests", "Fixtures", "onnx")
OPSET = 17


class Builder:
    """Accumulates ONNX nodes and initializers; names are made unique by a counter."""

    def __init__(self, weights=None):
        self.nodes, self.inits, self.n = [], {}, 0
        self.weights = weights or {}

    def name(self, base):
        self.n += 1
        return f"{base}_{self.n}"

    def w(self, key):
        if key not in self.inits:
            self.inits[key] = numpy_helper.from_array(np.asarray(self.weights[key], dtype=np.float32), key)
        return key

    def const(self, value, dtype=np.float32):
        key = self.name("const")
        self.inits[key] = numpy_helper.from_array(np.asarray(value, dtype=dtype), key)
        return key

    def op(self, op_type, inputs, n_out=1, **attrs):
        outs = [self.name(op_type) for _ in range(n_out)]
        self.nodes.append(helper.make_node(op_type, inputs, outs, **attrs))
        return outs[0] if n_out == 1 else outs

    def conv(self, x, wkey, k, stride=1, pad=0, dilation=1, groups=1, bias=None):
        ins = [x, self.w(wkey)] + ([self.w(bias)] if bias else [])
        return self.op("Conv", ins, kernel_shape=[k, k], strides=[stride, stride], pads=[pad] * 4,
                       dilations=[dilation, dilation], group=groups)

    def bn(self, x, prefix):
        return self.op("BatchNormalization", [x] + [self.w(f"{prefix}.{s}") for s in ["weight", "bias", "running_mean", "running_var"]],
                       epsilon=1e-5)

    def run(self, inputs, outputs):
        """inputs: {name: array}; outputs: list of value names. Returns their arrays."""
        graph = helper.make_graph(
            self.nodes, "reference",
            [helper.make_tensor_value_info(k, TensorProto.FLOAT, list(v.shape)) for k, v in inputs.items()],
            [helper.make_tensor_value_info(o, TensorProto.FLOAT, None) for o in outputs],
            initializer=list(self.inits.values()))
        model = helper.make_model(graph, opset_imports=[helper.make_opsetid("", OPSET)])
        # (onnx.checker wants output shapes; onnxruntime validates the graph itself.)
        so = ort.SessionOptions()
        so.graph_optimization_level = ort.GraphOptimizationLevel.ORT_DISABLE_ALL
        so.intra_op_num_threads = 1
        sess = ort.InferenceSession(model.SerializeToString(), so, providers=["CPUExecutionProvider"])
        return sess.run(outputs, {k: v.astype(np.float32) for k, v in inputs.items()})


# ---------------------------------------------------------------- float64 NumPy evaluation

def conv64(x, w, b, a):
    """ONNX Conv in float64 with plain NumPy: one einsum per kernel tap and group."""
    s0, s1 = a.get("strides", [1, 1]); d0, d1 = a.get("dilations", [1, 1]); p = a.get("pads", [0, 0, 0, 0]); g = a.get("group", 1)
    n, c, h, wd = x.shape
    o, cg, kh, kw = w.shape
    og = o // g
    xp = np.pad(x, ((0, 0), (0, 0), (p[0], p[2]), (p[1], p[3])))
    ho = (h + p[0] + p[2] - d0 * (kh - 1) - 1) // s0 + 1
    wo = (wd + p[1] + p[3] - d1 * (kw - 1) - 1) // s1 + 1
    out = np.zeros((n, o, ho, wo))
    for ky in range(kh):
        for kx in range(kw):
            patch = xp[:, :, ky * d0: ky * d0 + s0 * (ho - 1) + 1: s0, kx * d1: kx * d1 + s1 * (wo - 1) + 1: s1]
            for gi in range(g):
                out[:, gi * og:(gi + 1) * og] += np.einsum("nchw,oc->nohw", patch[:, gi * cg:(gi + 1) * cg], w[gi * og:(gi + 1) * og, :, ky, kx])
    return out if b is None else out + b[None, :, None, None]


def maxpool64(x, a):
    k0, k1 = a["kernel_shape"]; s0, s1 = a.get("strides", [1, 1]); p = a.get("pads", [0, 0, 0, 0])
    assert not a.get("ceil_mode", 0)
    xp = np.pad(x, ((0, 0), (0, 0), (p[0], p[2]), (p[1], p[3])), constant_values=-np.inf)
    ho = (xp.shape[2] - k0) // s0 + 1
    wo = (xp.shape[3] - k1) // s1 + 1
    return np.max([xp[:, :, ky: ky + s0 * (ho - 1) + 1: s0, kx: kx + s1 * (wo - 1) + 1: s1] for ky in range(k0) for kx in range(k1)], axis=0)


def run_float64(b, inputs, outputs):
    """Evaluates a Builder's node list in float64 NumPy: an exact-arithmetic-ish reference that
    separates float32 rounding (ONNX Runtime's and ours) from real disagreement."""
    env = {k: np.asarray(v, dtype=np.float64) for k, v in inputs.items()}
    env.update({k: numpy_helper.to_array(t).astype(np.float64) for k, t in b.inits.items()})
    ch = lambda v: v[None, :, None, None]
    for node in b.nodes:
        a = {at.name: helper.get_attribute_value(at) for at in node.attribute}
        x = [env[i] for i in node.input]
        op = node.op_type
        if op == "Conv": y = conv64(x[0], x[1], x[2] if len(x) > 2 else None, a)
        elif op == "BatchNormalization": y = (x[0] - ch(x[3])) / np.sqrt(ch(x[4]) + a.get("epsilon", 1e-5)) * ch(x[1]) + ch(x[2])
        elif op == "Relu": y = np.maximum(x[0], 0)
        elif op == "Sigmoid": y = 1 / (1 + np.exp(-x[0]))
        elif op == "Tanh": y = np.tanh(x[0])
        elif op == "Add": y = x[0] + x[1]
        elif op == "Mul": y = x[0] * x[1]
        elif op == "MaxPool": y = maxpool64(x[0], a)
        elif op == "GlobalAveragePool": y = x[0].mean(axis=(2, 3), keepdims=True)
        elif op == "GlobalMaxPool": y = x[0].max(axis=(2, 3), keepdims=True)
        elif op == "ReduceMean": y = x[0].mean(axis=tuple(a["axes"]), keepdims=True)
        elif op == "ReduceMax": y = x[0].max(axis=tuple(a["axes"]), keepdims=True)
        elif op == "Concat": y = np.concatenate(x, axis=a["axis"])
        elif op == "Flatten": y = x[0].reshape(x[0].shape[0], -1)
        elif op == "Gemm": y = x[0] @ x[1].T + (x[2] if len(x) > 2 else 0)
        else: raise NotImplementedError(op)
        env[node.output[0]] = y
    return [env[o] for o in outputs]


# ---------------------------------------------------------------- the edge model

def cbam(b, x, prefix, c):
    def mlp(v):
        h = b.op("Relu", [b.conv(v, f"{prefix}.ca.fc1.weight", 1)])
        return b.conv(h, f"{prefix}.ca.fc2.weight", 1)
    avg = mlp(b.op("GlobalAveragePool", [x]))
    mx = mlp(b.op("GlobalMaxPool", [x]))
    ca = b.op("Mul", [x, b.op("Sigmoid", [b.op("Add", [avg, mx])])])
    pooled = b.op("Concat", [b.op("ReduceMean", [ca], axes=[1], keepdims=1), b.op("ReduceMax", [ca], axes=[1], keepdims=1)], axis=1)
    sa = b.conv(pooled, f"{prefix}.sa.conv.weight", 7, pad=3)
    return b.op("Mul", [ca, b.op("Sigmoid", [sa])])


def bottleneck(b, x, p, width, stride, project):
    h = b.op("Relu", [b.bn(b.conv(x, f"{p}.conv1.weight", 1), f"{p}.bn1")])
    h = b.op("Relu", [b.bn(b.conv(h, f"{p}.conv2.weight", 3, stride, 1), f"{p}.bn2")])
    h = b.bn(b.conv(h, f"{p}.conv3.weight", 1), f"{p}.bn3")
    h = cbam(b, h, f"{p}.cbam", width * 4)
    short = b.bn(b.conv(x, f"{p}.downsample.0.weight", 1, stride), f"{p}.downsample.1") if project else x
    return b.op("Relu", [b.op("Add", [h, short])])


def edge_model(weights_path):
    weights = load_file(weights_path)
    b = Builder(weights)
    x = "spectrogram"
    stem = b.op("MaxPool", [b.op("Relu", [b.bn(b.conv(x, "conv1.weight", 7, 2, 3), "bn1")])], kernel_shape=[3, 3], strides=[2, 2], pads=[1] * 4)
    h, taps = stem, {"stem": stem}
    for s, (blocks, width, stride) in enumerate([(3, 64, 1), (4, 128, 2), (6, 256, 2), (3, 512, 2)], start=1):
        for i in range(blocks):
            h = bottleneck(b, h, f"layer{s}.{i}", width, stride if i == 0 else 1, i == 0)
        taps[f"layer{s}"] = h
    features = b.op("Flatten", [b.op("GlobalAveragePool", [h])], axis=1)
    fc = b.op("Gemm", [features, b.w("fc.weight"), b.w("fc.bias")], transB=1)
    angles = b.op("Mul", [b.op("Tanh", [fc]), b.const(np.float32(math.pi))])

    rng = np.random.default_rng(2024)
    inp = rng.standard_normal((1, 1, 64, 64)).astype(np.float32)
    names = ["features", "angles", "stem", "layer2", "layer3"]
    values = b.run({"spectrogram": inp}, [features, angles, taps["stem"], taps["layer2"], taps["layer3"]])
    np.save(os.path.join(OUT, "edge_input.npy"), inp)
    for n, v in zip(names, values):
        np.save(os.path.join(OUT, f"edge_{n}.npy"), v.astype(np.float32))
    # The same network in float64: how far is float32 arithmetic (ORT's, and ours) from exact?
    f64 = run_float64(b, {"spectrogram": inp}, [features, angles])
    for n, v, ref in zip(["features", "angles"], values, f64):
        np.save(os.path.join(OUT, f"edge_{n}_f64.npy"), ref)
        rel = np.max(np.abs(v - ref) / np.maximum(np.abs(ref), 1e-6))
        print(f"edge: ONNX Runtime (float32) vs float64 NumPy, {n}: max relative error {rel:.3g}")
    with open(os.path.join(OUT, "edge_weights.checksum"), "w") as f:
        f.write(f"{checksum(weights):016x}\n")
    print("edge: features", values[0].shape, "angles", values[1].ravel())


def checksum(weights):
    """FNV-1a 64 over sorted names, rank, shape and f32 bits (little-endian), as WeightInit.checksum."""
    h = 0xCBF29CE484222325
    mask = (1 << 64) - 1

    def eat(data):
        nonlocal h
        for byte in data:
            h = ((h ^ byte) * 0x100000001B3) & mask

    for name in sorted(weights):
        t = np.ascontiguousarray(weights[name], dtype="<f4")
        eat(name.encode() + b"\0")
        eat(struct.pack("<Q", t.ndim))
        for d in t.shape:
            eat(struct.pack("<Q", d))
        eat(t.tobytes())
    return h


# ---------------------------------------------------------------- single ops

def ops_cases():
    rng = np.random.default_rng(7)
    os.makedirs(os.path.join(OUT, "ops"), exist_ok=True)
    manifest = []

    def save(case, tag, arr):
        fn = f"ops/{case}_{tag}.npy"
        np.save(os.path.join(OUT, fn), np.asarray(arr, dtype=np.float32))
        return fn

    def case(name, op, attrs, operands, build, results=1):
        """operands: list of (slot, kind 'input'|'weight', array); build(b, names) -> output name(s)."""
        b = Builder({f"w{slot}": arr for slot, kind, arr in operands if kind == "weight"})
        names = {slot: (f"x{slot}" if kind == "input" else b.w(f"w{slot}")) for slot, kind, arr in operands}
        outs = build(b, names)
        outs = outs if isinstance(outs, list) else [outs]
        values = b.run({f"x{slot}": arr for slot, kind, arr in operands if kind == "input"}, outs)
        manifest.append({
            "name": name, "op": op, "attributes": attrs,
            "operands": [{"slot": slot, "kind": kind, "file": save(name, f"{kind}{slot}", arr)} for slot, kind, arr in operands],
            "results": [save(name, f"result{i}", v) for i, v in enumerate(values)],
        })

    def two(v):
        return list(v) if isinstance(v, (tuple, list)) else [v, v]

    def conv_case(name, cin, hw, out, k, stride=1, pad=0, dil=1, groups=1, bias=False, bn=False, residual=False, act="none", pool="none"):
        (h, w_), (kh, kw), (sh, sw), (ph, pw), (dh, dw) = two(hw), two(k), two(stride), two(pad), two(dil)
        x = rng.standard_normal((2, cin, h, w_))
        w = rng.standard_normal((out, cin // groups, kh, kw)) * 0.3
        operands = [(0, "input", x), (1, "weight", w)]
        if bias:
            operands.append((2, "weight", rng.standard_normal(out)))
        if bn:
            operands += [(3, "weight", 1 + 0.2 * rng.standard_normal(out)), (4, "weight", 0.2 * rng.standard_normal(out)),
                         (5, "weight", 0.2 * rng.standard_normal(out)), (6, "weight", rng.uniform(0.5, 1.5, out))]
        ho = (h + 2 * ph - dh * (kh - 1) - 1) // sh + 1
        wo = (w_ + 2 * pw - dw * (kw - 1) - 1) // sw + 1
        if residual:
            operands.append((7, "input", rng.standard_normal((2, out, ho, wo))))
        attrs = {"out": out, "kernel": [kh, kw], "stride": [sh, sw], "padding": [ph, pw], "dilation": [dh, dw],
                 "groups": groups, "activation": act, "pool": pool}

        def build(b, n):
            ins = [n[0], n[1]] + ([n[2]] if bias else [])
            y = b.op("Conv", ins, kernel_shape=[kh, kw], strides=[sh, sw], pads=[ph, pw, ph, pw], dilations=[dh, dw], group=groups)
            if bn:
                y = b.op("BatchNormalization", [y, n[3], n[4], n[5], n[6]], epsilon=1e-5)
            if residual:
                y = b.op("Add", [y, n[7]])
            if act != "none":
                y = b.op({"relu": "Relu", "sigmoid": "Sigmoid"}[act], [y])
            if pool == "avgmax":
                return [y, b.op("GlobalAveragePool", [y]), b.op("GlobalMaxPool", [y])]
            return y
        case(name, "conv2d", attrs, operands, build)

    conv_case("conv_basic", 3, 7, 4, 3)
    conv_case("conv_stride2_pad1", 3, 8, 5, 3, stride=2, pad=1, bias=True)
    conv_case("conv_7x7_stem", 1, 16, 8, 7, stride=2, pad=3)
    conv_case("conv_dilation2", 2, 9, 3, 3, pad=2, dil=2)
    conv_case("conv_groups2", 4, 6, 6, 3, pad=1, groups=2, bias=True)
    conv_case("conv_depthwise", 3, 5, 3, 3, pad=1, groups=3)
    conv_case("conv_1x1_stride2", 8, 6, 16, 1, stride=2)
    conv_case("conv_epilogue_full", 4, 6, 8, 3, pad=1, bias=True, bn=True, residual=True, act="relu", pool="avgmax")
    conv_case("conv_epilogue_sigmoid", 2, 7, 1, 7, pad=3, act="sigmoid")
    # Rectangular everything: a swapped height and width shows up here.
    conv_case("conv_rect", 3, (7, 10), 4, (3, 1), stride=(2, 1), pad=(1, 0), dil=(1, 2))
    conv_case("conv_rect_groups", 4, (9, 5), 2, (1, 3), stride=(1, 2), pad=(0, 2), groups=2, bias=True, act="relu")

    def unary_case(name, op, onnx_op, shape, attrs=None, **onnx_attrs):
        x = rng.standard_normal(shape) * 2
        case(name, op, attrs or {}, [(0, "input", x)], lambda b, n: b.op(onnx_op, [n[0]], **onnx_attrs))

    for ceil in [0, 1]:
        for (k, s, p, hw) in [(3, 2, 1, 9), (2, 2, 0, 7), (3, 2, 1, 8), (2, 2, 1, 5), (3, 3, 1, 10)]:
            attrs = {"kernel": [k, k], "stride": [s, s], "padding": [p, p], "ceil_mode": bool(ceil)}
            unary_case(f"maxpool_k{k}s{s}p{p}_{hw}_ceil{ceil}", "maxpool2d", "MaxPool", (2, 3, hw, hw), attrs,
                       kernel_shape=[k, k], strides=[s, s], pads=[p] * 4, ceil_mode=ceil)
            unary_case(f"avgpool_k{k}s{s}p{p}_{hw}_ceil{ceil}", "avgpool2d", "AveragePool", (2, 3, hw, hw), attrs,
                       kernel_shape=[k, k], strides=[s, s], pads=[p] * 4, ceil_mode=ceil, count_include_pad=1)
    for ceil in [0, 1]:
        attrs = {"kernel": [3, 2], "stride": [2, 1], "padding": [1, 0], "ceil_mode": bool(ceil)}
        onnx_attrs = dict(kernel_shape=[3, 2], strides=[2, 1], pads=[1, 0, 1, 0], ceil_mode=ceil)
        unary_case(f"maxpool_rect_ceil{ceil}", "maxpool2d", "MaxPool", (1, 2, 8, 5), attrs, **onnx_attrs)
        unary_case(f"avgpool_rect_ceil{ceil}", "avgpool2d", "AveragePool", (1, 2, 8, 5), attrs, count_include_pad=1, **onnx_attrs)
    unary_case("global_avgpool", "global_avgpool", "GlobalAveragePool", (2, 3, 5, 4))
    unary_case("global_maxpool", "global_maxpool", "GlobalMaxPool", (2, 3, 5, 4))
    unary_case("channel_mean", "channel_mean", "ReduceMean", (2, 5, 3, 4), axes=[1], keepdims=1)
    unary_case("channel_max", "channel_max", "ReduceMax", (2, 5, 3, 4), axes=[1], keepdims=1)
    unary_case("relu", "relu", "Relu", (2, 3, 4))
    unary_case("sigmoid", "sigmoid", "Sigmoid", (2, 3, 4))
    unary_case("tanh", "tanh", "Tanh", (2, 3, 4))
    unary_case("softmax", "softmax", "Softmax", (3, 8), axis=-1)
    unary_case("flatten", "flatten", "Flatten", (2, 3, 2, 2), axis=1)
    x = rng.standard_normal((2, 3)) * 3
    case("scale", "scale", {"by": math.pi}, [(0, "input", x)], lambda b, n: b.op("Mul", [n[0], b.const(np.float32(math.pi))]))
    case("softmax_large", "softmax", {}, [(0, "input", rng.standard_normal((2, 5)) * 300)], lambda b, n: b.op("Softmax", [n[0]], axis=-1))

    for (name, op, onnx_op, sa, sb) in [("add_bcast_channel", "add", "Add", (2, 3, 4, 4), (2, 3, 1, 1)),
                                       ("mul_bcast_channel", "mul", "Mul", (2, 3, 4, 4), (2, 3, 1, 1)),
                                       ("mul_bcast_pixel", "mul", "Mul", (2, 3, 4, 4), (2, 1, 4, 4)),
                                       ("add_bcast_rank", "add", "Add", (2, 3, 4), (4,)),
                                       ("mul_bcast_both", "mul", "Mul", (3, 1), (1, 5))]:
        case(name, op, {}, [(0, "input", rng.standard_normal(sa)), (1, "input", rng.standard_normal(sb))],
             lambda b, n, o=onnx_op: b.op(o, [n[0], n[1]]))
    c = 6
    case("batchnorm", "batchnorm", {"eps": 1e-5},
         [(0, "input", rng.standard_normal((2, c, 3, 3))), (1, "weight", 1 + 0.2 * rng.standard_normal(c)), (2, "weight", rng.standard_normal(c)),
          (3, "weight", rng.standard_normal(c)), (4, "weight", rng.uniform(0.5, 2, c))],
         lambda b, n: b.op("BatchNormalization", [n[0], n[1], n[2], n[3], n[4]], epsilon=1e-5))
    case("dense", "dense", {"out": 5}, [(0, "input", rng.standard_normal((3, 7))), (1, "weight", rng.standard_normal((5, 7))), (2, "weight", rng.standard_normal(5))],
         lambda b, n: b.op("Gemm", [n[0], n[1], n[2]], transB=1))
    case("dense_nobias", "dense", {"out": 2}, [(0, "input", rng.standard_normal((1, 9))), (1, "weight", rng.standard_normal((2, 9)))],
         lambda b, n: b.op("Gemm", [n[0], n[1]], transB=1))
    case("concat_axis1", "concat", {"axis": 1}, [(0, "input", rng.standard_normal((2, 1, 3, 3))), (1, "input", rng.standard_normal((2, 2, 3, 3)))],
         lambda b, n: b.op("Concat", [n[0], n[1]], axis=1))

    with open(os.path.join(OUT, "ops.json"), "w") as f:
        json.dump(manifest, f, indent=1)
    print("ops:", len(manifest), "cases")

    # A CBAM block (C=32, ratio 16) on random data, weights under the edge model's names.
    C = 32
    w = {"cbam.ca.fc1.weight": rng.standard_normal((C // 16, C, 1, 1)) * 0.3, "cbam.ca.fc2.weight": rng.standard_normal((C, C // 16, 1, 1)) * 0.3,
         "cbam.sa.conv.weight": rng.standard_normal((1, 2, 7, 7)) * 0.2}
    b = Builder(w)
    x = rng.standard_normal((2, C, 6, 5)).astype(np.float32)
    y, = b.run({"x": x}, [cbam(b, "x", "cbam", C)])
    np.save(os.path.join(OUT, "cbam_input.npy"), x)
    np.save(os.path.join(OUT, "cbam_output.npy"), y)
    for k, v in w.items():
        np.save(os.path.join(OUT, f"{k}.npy"), v.astype(np.float32))


if __name__ == "__main__":
    os.makedirs(OUT, exist_ok=True)
    ops_cases()
    if len(sys.argv) > 1:
        edge_model(sys.argv[1])
    else:
        print("no weights file given: edge model fixtures not regenerated (see the docstring)")
