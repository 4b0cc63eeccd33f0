#!/usr/bin/env python3
"""qemlc's circuit evaluation against PennyLane, side by side in one run, one thread.

Contenders: default.qubit (parameter broadcasting), default.qubit under jax.jit (backprop),
lightning.qubit, Catalyst qjit, a NumPy baseline that evaluates the pre-folded unitary, and qemlc
(QuantumBenchmark through `qemlc bench-circuit` or benchmarks/quantum/build_runner.sh's runner).
Every contender runs the same circuit, weights and inputs (written to cases/*.json, the format the
Swift side reads) and its outputs are checked against default.qubit before timing.

    OMP_NUM_THREADS=1 ... python3 benchmarks/quantum/bench_pennylane.py [--quick]
"""
import json
import os
import subprocess
import sys
import time

for var in ("OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS", "MKL_NUM_THREADS", "XLA_FLAGS"):
    os.environ.setdefault(var, "1" if var != "XLA_FLAGS" else
                          "--xla_cpu_multi_thread_eigen=false intra_op_parallelism_threads=1")

import numpy as np
import pennylane as qml

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(os.path.dirname(HERE))
sys.path.insert(0, os.path.join(ROOT, "scripts"))
import pennylane_reference as ref  # noqa: E402

QUICK = "--quick" in sys.argv
MIN_TIME = 0.3 if QUICK else 1.0


def best_time(fn, min_time=MIN_TIME, max_repeats=20):
    """Best wall time of fn() over repeats lasting at least min_time in total (after one warm-up)."""
    fn()
    best, spent, n = float("inf"), 0.0, 0
    while (spent < min_time or n < 3) and n < max_repeats:
        t0 = time.perf_counter()
        fn()
        dt = time.perf_counter() - t0
        best, spent, n = min(best, dt), spent + dt, n + 1
    return best


def build(qubits, gates, measurements, weights, device, **kw):
    dev = qml.device(device, wires=qubits)

    @qml.qnode(dev, **kw)
    def circuit(x):
        ref.apply_gates(gates, x, weights)
        return ref.measure(measurements)
    return circuit


def swift_runner():
    for cmd in (["swift", "run", "-c", "release", "qemlc", "bench-circuit"],):
        try:
            r = subprocess.run(cmd + ["--help"], cwd=ROOT, capture_output=True, timeout=900)
            if r.returncode == 0:
                return cmd
        except (OSError, subprocess.TimeoutExpired):
            pass
    exe = os.path.join(HERE, ".runner", "qemlc-quantum-bench")
    if not os.path.exists(exe):
        subprocess.run(["sh", os.path.join(HERE, "build_runner.sh")], cwd=ROOT, check=True)
    return [exe]


def run_qemlc(runner, case_path):
    out = subprocess.run(runner + [case_path, str(MIN_TIME)], cwd=ROOT, capture_output=True, text=True, check=True)
    return json.loads(out.stdout.strip().splitlines()[-1])


def write_case(name, qubits, width, gates, measurements, weights, x, single=False):
    os.makedirs(os.path.join(HERE, "cases"), exist_ok=True)
    path = os.path.join(HERE, "cases", name + ".json")
    with open(path, "w") as f:
        json.dump({"qubits": qubits, "input_width": width, "gates": gates, "measurements": measurements,
                   "weights": [{"shape": list(w.shape), "data": w.ravel().tolist()} for w in weights],
                   "inputs": x.ravel().tolist(), "batch": int(x.shape[0]), "single": single}, f)
    return path


def folded_numpy(qubits, gates, measurements, weights):
    """NumPy baseline: the fixed part folded once into U; per batch ψ = ⊗ RY(x_w)|0⟩, φ = Uψ, ⟨Z⟩ = |φ|²·z."""
    fixed = [g for g in gates if not any(p[0] == "i" for p in g[2])]
    dev = qml.device("default.qubit", wires=qubits)
    u = qml.matrix(lambda: ref.apply_gates(fixed, np.zeros((1, 1)), weights), wire_order=range(qubits))()
    signs = np.array([[1 - 2 * ((i >> (qubits - 1 - m[2])) & 1) for m in measurements] for i in range(2 ** qubits)], float)

    def run(x):
        c, s = np.cos(x / 2), np.sin(x / 2)
        psi = np.ones((x.shape[0], 1))
        for w in range(qubits):
            psi = np.einsum("ni,nj->nij", psi, np.stack([c[:, w], s[:, w]], 1)).reshape(x.shape[0], -1)
        phi = psi @ u.T
        return (np.abs(phi) ** 2) @ signs
    return run


def qemlnet_section(runner, results):
    rng = np.random.default_rng(7)
    n = 4
    gates = ref.angle_embedding(n, "ry") + ref.rot_layers_linear(n, 6)
    meas = [["expval", "z", q] for q in range(n)]
    w = rng.uniform(-np.pi, np.pi, size=(6, n, 3))
    batch = 10000
    x = rng.uniform(-np.pi, np.pi, size=(batch, n))
    expected = ref.run_gate_list(n, gates, meas, x[:64], [w])

    rows = []

    def add(name, per_call, samples, note=""):
        rows.append({"contender": name, "samples_per_s": samples / per_call, "seconds_per_call": per_call, "note": note})

    # default.qubit with broadcasting
    dq = build(n, gates, meas, [w], "default.qubit", interface="numpy")
    assert np.allclose(ref.stack(dq(x[:64]), 64), expected, atol=1e-10)
    add("default.qubit (broadcast)", best_time(lambda: dq(x)), batch)

    # NumPy on the pre-folded unitary
    npf = folded_numpy(n, gates, meas, [w])
    assert np.allclose(npf(x[:64]), expected, atol=1e-10)
    add("NumPy pre-folded unitary", best_time(lambda: npf(x)), batch)

    # lightning.qubit: no broadcasting, PennyLane splits the batch into one tape per sample.
    try:
        lq = build(n, gates, meas, [w], "lightning.qubit", interface="numpy")
        sub = x[:500]
        assert np.allclose(ref.stack(lq(x[:64]), 64), expected, atol=1e-10)
        add("lightning.qubit", best_time(lambda: lq(sub), max_repeats=3), len(sub), "500 samples")
    except Exception as e:  # noqa: BLE001
        rows.append({"contender": "lightning.qubit", "skipped": repr(e)})

    try:
        import jax
        jax.config.update("jax_enable_x64", True)
        import jax.numpy as jnp
        dev = qml.device("default.qubit", wires=n)

        @jax.jit
        @qml.qnode(dev, interface="jax", diff_method="backprop")
        def jq(xx):
            ref.apply_gates(gates, xx, [jnp.asarray(w)])
            return [qml.expval(qml.PauliZ(q)) for q in range(n)]
        xj = jnp.asarray(x)
        got = np.stack([np.asarray(v) for v in jq(xj[:64])], 1)
        assert np.allclose(got, expected, atol=1e-10)
        add("default.qubit + jax.jit (backprop)", best_time(lambda: [v.block_until_ready() for v in jq(xj)]), batch)
    except Exception as e:  # noqa: BLE001
        rows.append({"contender": "default.qubit + jax.jit", "skipped": repr(e)})

    try:
        import jax
        import jax.numpy as jnp
        from catalyst import qjit
        dev = qml.device("lightning.qubit", wires=n)

        @qjit
        @qml.qnode(dev)
        def one(xx):
            for q in range(n):
                qml.RY(xx[q], wires=q)
            for l in range(6):
                for q in range(n):
                    qml.Rot(w[l, q, 0], w[l, q, 1], w[l, q, 2], wires=q)
                for q in range(n - 1):
                    qml.CNOT(wires=[q, q + 1])
            return [qml.expval(qml.PauliZ(q)) for q in range(n)]
        sub = x[:1000]
        got = np.array([[float(v) for v in one(r)] for r in x[:64]])
        assert np.allclose(got, expected, atol=1e-10)
        add("Catalyst qjit (lightning, loop over samples)", best_time(lambda: [one(r) for r in sub], max_repeats=3),
            len(sub), "1000 samples")
    except Exception as e:  # noqa: BLE001
        rows.append({"contender": "Catalyst qjit", "skipped": repr(e)})

    batched = run_qemlc(runner, write_case("qemlnet_batch", n, n, gates, meas, [w], x))
    add("qemlc (" + batched["plan"] + ")", batched["seconds_per_call"], batch,
        f"max |Δ| vs reference {batched['max_dev_vs_reference']:.1e}")
    single = run_qemlc(runner, write_case("qemlnet_single", n, n, gates, meas, [w], x[:1], single=True))
    results["qemlnet"] = {"rows": rows, "qemlc_single_sample_s": single["seconds_per_call"],
                          "qemlc_reason": batched["reason"], "qemlc_compile_s": batched["compile_s"]}

    # Single sample, per call, for the Python contenders that allow it.
    x1 = x[:1]
    results["qemlnet"]["single_sample_s"] = {
        "default.qubit": best_time(lambda: dq(x1)),
        "qemlc": single["seconds_per_call"],
    }


def random_section(runner, results):
    rng = np.random.default_rng(11)
    sizes = [8, 12, 16] if QUICK else [8, 12, 16, 20]
    rows = []
    for n in sizes:
        gates = ref.random_circuit(rng, n, 400, 3, 24)
        meas = [["expval", "z", q] for q in range(n)]
        w = rng.uniform(-np.pi, np.pi, size=(24,))
        x = rng.uniform(-np.pi, np.pi, size=(1, 3))
        row = {"qubits": n, "gates": 400}
        expected = None
        for dev_name in ("lightning.qubit", "default.qubit"):
            try:
                circ = build(n, gates, meas, [w], dev_name, interface="numpy")
                val = ref.stack(circ(x), 1)
                expected = val if expected is None else expected
                assert np.allclose(val, expected, atol=1e-9)
                row[dev_name] = best_time(lambda: circ(x), max_repeats=5)
            except Exception as e:  # noqa: BLE001
                row[dev_name] = repr(e)
        try:
            from catalyst import qjit
            dev = qml.device("lightning.qubit", wires=n)
            wl = w.tolist()

            @qjit
            @qml.qnode(dev)
            def cat(xx):
                ref.apply_gates(gates, xx, [np.asarray(wl)])
                return [qml.expval(qml.PauliZ(q)) for q in range(n)]
            val = np.array([[float(v) for v in cat(x)]])
            assert np.allclose(val, expected, atol=1e-9)
            row["catalyst"] = best_time(lambda: cat(x), max_repeats=5)
        except Exception as e:  # noqa: BLE001
            row["catalyst"] = repr(e)[:200]
        rep = run_qemlc(runner, write_case(f"random_{n}q", n, 3, gates, meas, [w], x))
        row["qemlc"] = rep["seconds_per_call"]
        row["qemlc_plan"] = rep["plan"]
        row["qemlc_max_dev"] = rep["max_dev_vs_reference"]
        rows.append(row)
        print(json.dumps(row), flush=True)
    results["random"] = rows


def main():
    runner = swift_runner()
    results = {"pennylane": qml.__version__, "numpy": np.__version__, "threads": 1, "runner": " ".join(runner)}
    try:
        import catalyst
        results["catalyst"] = catalyst.__version__
    except Exception:  # noqa: BLE001
        pass
    try:
        import jax
        results["jax"] = jax.__version__
    except Exception:  # noqa: BLE001
        pass
    try:
        with open("/proc/cpuinfo") as f:
            results["cpu"] = next(l.split(":", 1)[1].strip() for l in f if l.startswith("model name"))
    except (OSError, StopIteration):
        pass
    qemlnet_section(runner, results)
    print(json.dumps(results["qemlnet"], indent=1), flush=True)
    random_section(runner, results)
    with open(os.path.join(HERE, "last_results.json"), "w") as f:
        json.dump(results, f, indent=1)


if __name__ == "__main__":
    main()
