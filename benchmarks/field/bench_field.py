#!/usr/bin/env python3
"""The edge (or paper-size) model against the field: qemlc (jit, blas) vs ONNX Runtime and OpenVINO, same
network, same weights, same thread count, interleaved in one run.

The ONNX graph is built from the same safetensors file by scripts/onnx_reference.py's builder
(the independent ONNX transcription of examples/qemlnet-edge.qir the interpreter is tested
against). ONNX has no quantum circuit, so ONNX Runtime and OpenVINO run the network up to the
circuit's input angles (backbone, CBAM, dense, tanh); qemlc runs the whole model (plus the
4-qubit circuit, dense head and softmax: about 0.1 ms). First the script checks that qemlc's
compiled output (%features) matches ONNX Runtime's on one input.

This machine is shared and noisy: every contender is timed in each of --trials rounds, the
rounds interleaved, and the best round's median is reported for every contender alike. Process
CPU time per run is reported too: at one thread it is the run's time without the time spent
descheduled (at two threads it adds up both threads, spinning included, so it is not latency).

Reduced precision (--reduced): qemlc int8 (the weights file `qemlc quantize` writes, or
--int8-weights) against OpenVINO int8 and ONNX Runtime int8 on a QDQ model from ONNX Runtime's
`quantize_static` (per-channel s8 weights, u8 activations, calibrated on the same inputs), and
OpenVINO at its default precision (bf16 on a CPU with AVX512_BF16; the script prints the
`INFERENCE_PRECISION_HINT` it chose), which qemlc bf16 (`qemlc quantize --precision bf16`) is
compared with.

Run (release build first: swift build -c release):
    python3 benchmarks/field/bench_field.py --qemlc .build/release/qemlc --threads 1 2
    python3 benchmarks/field/bench_field.py --qemlc .build/release/qemlc --threads 1 2 --reduced
"""
import argparse, json, os, platform, subprocess, sys, tempfile, time
import numpy as np

HERE = os.path.dirname(os.path.abspath(__file__))
REPO = os.path.normpath(os.path.join(HERE, "..", ".."))
sys.path.insert(0, os.path.join(REPO, "scripts"))
from onnx_reference import Builder, bottleneck  # noqa: E402
from onnx import helper, TensorProto  # noqa: E402
from safetensors.numpy import load_file  # noqa: E402

# name → (.qir, input name, input shape): the paper model is the edge model on a 3×224×224 image.
MODELS = {
    "edge": (os.path.join(REPO, "examples", "qemlnet-edge.qir"), "spectrogram", [1, 1, 64, 64]),
    "paper": (os.path.join(REPO, "examples", "qemlnet-paper.qir"), "image", [1, 3, 224, 224]),
}
MODEL, INPUT, SHAPE = MODELS["edge"]


def edge_onnx(weights_path, path):
    """The model up to the circuit's angles, as ONNX (same builder as the fixtures)."""
    b = Builder(load_file(weights_path))
    stem = b.op("MaxPool", [b.op("Relu", [b.bn(b.conv(INPUT, "conv1.weight", 7, 2, 3), "bn1")])],
                kernel_shape=[3, 3], strides=[2, 2], pads=[1] * 4)
    h = stem
    for s, (blocks, width, stride) in enumerate([(3, 64, 1), (4, 128, 2), (6, 256, 2), (3, 512, 2)], start=1):
        for i in range(blocks):
            h = bottleneck(b, h, f"layer{s}.{i}", width, stride if i == 0 else 1, i == 0)
    features = b.op("Flatten", [b.op("GlobalAveragePool", [h])], axis=1)
    fc = b.op("Gemm", [features, b.w("fc.weight"), b.w("fc.bias")], transB=1)
    angles = b.op("Mul", [b.op("Tanh", [fc]), b.const(np.float32(np.pi))])
    graph = helper.make_graph(b.nodes, "qemlnet-edge",
                              [helper.make_tensor_value_info(INPUT, TensorProto.FLOAT, SHAPE)],
                              [helper.make_tensor_value_info(features, TensorProto.FLOAT, [1, 2048]),
                               helper.make_tensor_value_info(angles, TensorProto.FLOAT, [1, 4])],
                              initializer=list(b.inits.values()))
    model = helper.make_model(graph, opset_imports=[helper.make_opsetid("", 17)])
    with open(path, "wb") as f:
        f.write(model.SerializeToString())
    return features


def quantiles(ms, cpu):
    s = sorted(ms)
    return {"p50": float(np.percentile(s, 50)), "p90": float(np.percentile(s, 90)), "min": s[0],
            "cpu_p50": float(np.percentile(cpu, 50))}


def time_loop(run, warmup, iterations):
    """Wall-clock and process-CPU milliseconds per run."""
    for _ in range(warmup):
        run()
    wall, cpu = [], []
    for _ in range(iterations):
        c, t = time.process_time_ns(), time.perf_counter()
        run()
        wall.append((time.perf_counter() - t) * 1e3)
        cpu.append((time.process_time_ns() - c) / 1e6)
    return quantiles(wall, cpu)


class ORT:
    def __init__(self, path, threads):
        import onnxruntime as ort
        so = ort.SessionOptions()
        so.graph_optimization_level = ort.GraphOptimizationLevel.ORT_ENABLE_ALL
        so.intra_op_num_threads = threads
        so.inter_op_num_threads = 1
        so.execution_mode = ort.ExecutionMode.ORT_SEQUENTIAL
        self.sess = ort.InferenceSession(path, so, providers=["CPUExecutionProvider"])
        self.version = ort.__version__

    def run(self, x):
        return self.sess.run(None, {INPUT: x})


class OpenVINO:
    """precision: "f32" forces it; None keeps OpenVINO's default (bf16 where the CPU has it)."""
    def __init__(self, path, threads, precision="f32"):
        import openvino as ov
        core = ov.Core()
        config = {"INFERENCE_NUM_THREADS": threads, "PERFORMANCE_HINT": "LATENCY", "NUM_STREAMS": 1}
        if precision:
            config["INFERENCE_PRECISION_HINT"] = precision
        self.compiled = core.compile_model(core.read_model(path), "CPU", config)
        self.req = self.compiled.create_infer_request()
        self.version = ov.__version__
        self.precision = str(self.compiled.get_property("INFERENCE_PRECISION_HINT"))

    def run(self, x):
        return self.req.infer({0: x})


def calibration_inputs(folder, count):
    """`count` network inputs like the timed one (standard normal), as .npy files in `folder`."""
    os.makedirs(folder, exist_ok=True)
    rng = np.random.default_rng(3)
    xs = [rng.standard_normal(SHAPE).astype(np.float32) for _ in range(count)]
    for i, x in enumerate(xs):
        np.save(os.path.join(folder, f"x{i:03d}.npy"), x)
    return xs


def qdq_onnx(f32_path, path, inputs):
    """ONNX Runtime's static int8 quantization, QDQ format, per-channel weights."""
    from onnxruntime.quantization import CalibrationDataReader, QuantFormat, QuantType, quantize_static
    from onnxruntime.quantization.shape_inference import quant_pre_process

    class Reader(CalibrationDataReader):
        def __init__(self):
            self.it = iter([{INPUT: x} for x in inputs])

        def get_next(self):
            return next(self.it, None)

    prep = path + ".prep.onnx"
    quant_pre_process(f32_path, prep)
    quantize_static(prep, path, Reader(), quant_format=QuantFormat.QDQ, per_channel=True,
                    activation_type=QuantType.QUInt8, weight_type=QuantType.QInt8)


def qemlc_quantize(qemlc, weights, data, out, env, precision="int8"):
    subprocess.run([qemlc, "quantize", MODEL, "--weights", weights, "--calibrate", data, "--precision", precision, "-o", out, "--force"],
                   check=True, capture_output=True, text=True, env=env)


def qemlc_bench(qemlc, weights, backend, threads, warmup, iterations, env):
    out = subprocess.run([qemlc, "bench", MODEL, "--weights", weights, "--backend", backend, "--threads", str(threads),
                          "--warmup", str(warmup), "--iterations", str(iterations), "--json"],
                         capture_output=True, text=True, env=env, check=True)
    return json.loads(out.stdout)


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--qemlc", default=os.path.join(REPO, ".build", "release", "qemlc"))
    ap.add_argument("--model", choices=sorted(MODELS), default="edge", help="edge (1×64×64) or paper (3×224×224)")
    ap.add_argument("--weights", help="edge weights (.safetensors); default: qemlc init-weights --seed 1")
    ap.add_argument("--threads", type=int, nargs="+", default=[1, 2])
    ap.add_argument("--trials", type=int, default=3)
    ap.add_argument("--warmup", type=int, default=5)
    ap.add_argument("--iterations", type=int, default=30)
    ap.add_argument("--no-blas", action="store_true", help="skip qemlc's blas backend")
    ap.add_argument("--reduced", action="store_true",
                    help="reduced precision: qemlc int8 vs OpenVINO int8/bf16 and ONNX Runtime int8 (QDQ model)")
    ap.add_argument("--int8-weights", help="qemlc's int8 weights; default: qemlc quantize on --calibration inputs")
    ap.add_argument("--calibration", type=int, default=16, help="calibration inputs (standard normal) for both quantizers")
    ap.add_argument("--json", help="also write the results here")
    args = ap.parse_args()
    global MODEL, INPUT, SHAPE
    MODEL, INPUT, SHAPE = MODELS[args.model]

    tmp = tempfile.mkdtemp(prefix="qemlc-field-")
    weights = args.weights or os.path.join(tmp, f"{args.model}.safetensors")
    if not args.weights:
        subprocess.run([args.qemlc, "init-weights", MODEL, "--seed", "1", "-o", weights], check=True, capture_output=True)
    onnx_path = os.path.join(tmp, "edge.onnx")
    edge_onnx(weights, onnx_path)
    env = dict(os.environ)
    # OpenBLAS's DYNAMIC_ARCH misreads this VM's CPUID as "Prescott" (SSE3 kernels); name the core.
    if "OPENBLAS_CORETYPE" not in env:
        flags = open("/proc/cpuinfo").read() if os.path.exists("/proc/cpuinfo") else ""
        env["OPENBLAS_CORETYPE"] = "SkylakeX" if " avx512f" in flags else "Haswell"

    # Same network: qemlc's compiled %features against ONNX Runtime's on one input.
    x = np.random.default_rng(7).standard_normal(SHAPE).astype(np.float32)
    xin, fout = os.path.join(tmp, "x.npy"), os.path.join(tmp, "features.npy")
    np.save(xin, x)
    subprocess.run([args.qemlc, "run", MODEL, "--weights", weights, "--input", xin, "--output", f"features={fout}", "--force",
                    "--backend", "jit"], check=True, capture_output=True, env=env)
    ref = ORT(onnx_path, 1).run(x)[0]
    ours = np.load(fout)
    agreement = float(np.max(np.abs(ours - ref)) / max(np.max(np.abs(ref)), 1e-6))
    print(f"qemlc jit vs ONNX Runtime, %features: max error {agreement:.2e} (relative to the largest |value|)")

    contenders = ["qemlc jit"] + ([] if args.no_blas else ["qemlc blas"]) + ["onnxruntime", "openvino"]
    int8_weights, qdq_path = args.int8_weights, os.path.join(tmp, "edge.qdq.onnx")
    if args.reduced:
        calib = calibration_inputs(os.path.join(tmp, "calibration"), args.calibration)
        if not int8_weights:
            int8_weights = os.path.join(tmp, f"{args.model}.int8.safetensors")
            qemlc_quantize(args.qemlc, weights, os.path.join(tmp, "calibration"), int8_weights, env)
        bf16_weights = os.path.join(tmp, f"{args.model}.bf16.safetensors")
        qemlc_quantize(args.qemlc, weights, os.path.join(tmp, "calibration"), bf16_weights, env, precision="bf16")
        qdq_onnx(onnx_path, qdq_path, calib)
        contenders += ["qemlc int8", "qemlc bf16", "openvino default", "openvino int8", "onnxruntime int8"]
    results = {t: {c: [] for c in contenders} for t in args.threads}
    info = {}
    for trial in range(args.trials):
        for t in args.threads:
            for c in contenders:
                if c.startswith("qemlc"):
                    reduced = {"qemlc int8": int8_weights, "qemlc bf16": args.reduced and bf16_weights}.get(c)
                    r = qemlc_bench(args.qemlc, reduced or weights, "jit" if reduced else c.split()[1], t,
                                    args.warmup, args.iterations, env)
                    q = {"p50": r["latency_ms"]["p50"], "p90": r["latency_ms"]["p90"], "min": r["latency_ms"]["min"],
                         "cpu_p50": r["cpu_ms"]["p50"]}
                    info.setdefault("qemlc", {"cpu": r["cpu"], "llvm": r["llvm"]})
                else:
                    path = qdq_path if c.endswith("int8") else onnx_path
                    if c.startswith("onnxruntime"):
                        engine = ORT(path, t)
                    else:
                        engine = OpenVINO(path, t, precision="f32" if c == "openvino" else None)
                        info[f"{c} precision"] = engine.precision
                    info[c.split()[0]] = engine.version
                    q = time_loop(lambda: engine.run(x), args.warmup, args.iterations)
                    del engine
                results[t][c].append(q)
                print(f"trial {trial + 1}, {t} thread(s), {c:12s}: p50 {q['p50']:8.2f} ms  min {q['min']:8.2f} ms  "
                      f"CPU p50 {q['cpu_p50']:8.2f} ms", flush=True)

    print(f"\n{platform.processor() or platform.machine()}, qemlc on {info.get('qemlc')}, onnxruntime {info.get('onnxruntime')}, "
          f"openvino {info.get('openvino')}, OPENBLAS_CORETYPE={env['OPENBLAS_CORETYPE']}")
    if args.reduced:
        print(f"OpenVINO INFERENCE_PRECISION_HINT: default {info.get('openvino default precision')}, "
              f"QDQ model {info.get('openvino int8 precision')} (its non-quantized ops), forced {info.get('openvino precision')}")
    print("best of %d trials (median of %d runs each); ratio = contender / qemlc jit (> 1: qemlc faster)" % (args.trials, args.iterations))
    summary = {}
    for t in args.threads:
        best = {c: min(q["p50"] for q in results[t][c]) for c in contenders}
        fastest = {c: min(q["min"] for q in results[t][c]) for c in contenders}
        cpu = {c: min(q["cpu_p50"] for q in results[t][c]) for c in contenders}
        summary[t] = {"best_p50_ms": best, "fastest_run_ms": fastest, "best_cpu_p50_ms": cpu}
        print(f"\n{t} thread(s)\n| contender | best p50 (ms) | fastest run (ms) | ratio (p50) | CPU time p50 (ms) | ratio (CPU) |"
              "\n|---|---:|---:|---:|---:|---:|")
        for c in contenders:
            print(f"| {c} | {best[c]:.2f} | {fastest[c]:.2f} | {best[c] / best['qemlc jit']:.2f} | {cpu[c]:.2f} | {cpu[c] / cpu['qemlc jit']:.2f} |")
        if args.reduced:
            for ref in ["openvino int8", "openvino default", "onnxruntime int8"]:
                print(f"qemlc int8 / {ref}: p50 {best['qemlc int8'] / best[ref]:.2f}, CPU {cpu['qemlc int8'] / cpu[ref]:.2f}")
            print(f"qemlc bf16 / openvino default (bf16 where the CPU has it): p50 {best['qemlc bf16'] / best['openvino default']:.2f}, "
                  f"CPU {cpu['qemlc bf16'] / cpu['openvino default']:.2f}")
            # Paired within each trial (the two ran seconds apart): steadier than the ratio of two bests
            # on a VM whose speed drifts between trials.
            for ours, theirs in [("qemlc int8", "openvino int8"), ("qemlc bf16", "openvino default")]:
                r = sorted(a["p50"] / b["p50"] for a, b in zip(results[t][ours], results[t][theirs]))
                print(f"{ours} / {theirs}, per trial: median {r[len(r) // 2]:.2f}, range {r[0]:.2f}–{r[-1]:.2f}")
    if args.json:
        with open(args.json, "w") as f:
            json.dump({"agreement": agreement, "info": info, "summary": summary, "trials": results}, f, indent=1)


if __name__ == "__main__":
    main()
