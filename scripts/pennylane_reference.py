#!/usr/bin/env python3
"""Generate PennyLane reference vectors for qemlc's quantum circuit simulator.

Dev-time only: writes Tests/QEMLQuantumTests/Fixtures/pennylane_reference.json, which the Swift
tests rebuild into `Circuit` values and compare against (1e-10 in double precision).

Each case holds a circuit as data (gate list with wires and parameter sources), weight tensors,
input rows and PennyLane `default.qubit` (float64) outputs. The QEML-Net style circuits are
evaluated in PennyLane through its own templates (AngleEmbedding, BasicEntanglerLayers,
StronglyEntanglingLayers), so the gate list written here is checked against PennyLane's
expansion too. Deep random circuits also record outputs after the first 10, 25, 50 and 100 gates
(deep circuits drive ⟨Z⟩ towards 0, and a loose check would pass all zeros).

    python3 scripts/pennylane_reference.py
"""
import json
import os

import numpy as np
import pennylane as qml

OUT = os.path.join(os.path.dirname(__file__), "..", "Tests", "QEMLQuantumTests", "Fixtures",
                   "pennylane_reference.json")

ONE_QUBIT = {"rx": 1, "ry": 1, "rz": 1, "rot": 3, "phaseshift": 1,
             "h": 0, "x": 0, "y": 0, "z": 0, "s": 0, "t": 0}
TWO_QUBIT = {"cnot": 0, "cz": 0, "swap": 0, "crx": 1, "cry": 1, "crz": 1}
PL_OP = {"rx": qml.RX, "ry": qml.RY, "rz": qml.RZ, "rot": qml.Rot, "phaseshift": qml.PhaseShift,
         "h": qml.Hadamard, "x": qml.PauliX, "y": qml.PauliY, "z": qml.PauliZ, "s": qml.S,
         "t": qml.T, "cnot": qml.CNOT, "cz": qml.CZ, "swap": qml.SWAP, "crx": qml.CRX,
         "cry": qml.CRY, "crz": qml.CRZ}
PAULI = {"x": qml.PauliX, "y": qml.PauliY, "z": qml.PauliZ}


def param_value(p, x, weights):
    """A gate parameter: ["i", col] per-sample input column, ["w", op, idx] weight, ["c", v]."""
    if p[0] == "i":
        return x[:, p[1]]
    if p[0] == "w":
        return weights[p[1] - 1][tuple(p[2])]
    return p[1]


def apply_gates(gates, x, weights):
    for kind, wires, params in gates:
        PL_OP[kind](*[param_value(p, x, weights) for p in params], wires=wires)


def measure(measurements):
    out = []
    for m in measurements:
        if m[0] == "expval":
            out.append(qml.expval(PAULI[m[1]](m[2])))
        else:
            out.append(qml.probs(wires=m[1]))
    return out


def stack(results, batch):
    cols = [np.reshape(np.asarray(r, dtype=np.float64), (batch, -1)) for r in results]
    return np.concatenate(cols, axis=1)


def run_gate_list(qubits, gates, measurements, x, weights):
    dev = qml.device("default.qubit", wires=qubits)

    @qml.qnode(dev, interface="numpy")
    def circuit(x):
        apply_gates(gates, x, weights)
        return measure(measurements)

    return stack(circuit(x), x.shape[0])


# --- templates, written out as gate lists (what the .qir parser expands them into) -------------

def angle_embedding(n, rotation):
    return [[rotation, [q], [["i", q]]] for q in range(n)]


def rot_layers_linear(n, layers, operand=1):
    gates = []
    for l in range(layers):
        for q in range(n):
            gates.append(["rot", [q], [["w", operand, [l, q, k]] for k in range(3)]])
        for q in range(n - 1):
            gates.append(["cnot", [q, q + 1], []])
    return gates


def basic_entangler(n, layers, operand=1):
    gates = []
    for l in range(layers):
        for q in range(n):
            gates.append(["rx", [q], [["w", operand, [l, q]]]])
        if n == 2:
            gates.append(["cnot", [0, 1], []])
        elif n > 2:
            for q in range(n):
                gates.append(["cnot", [q, (q + 1) % n], []])
    return gates


def strongly_entangling(n, layers, operand=1):
    gates = []
    for l in range(layers):
        for q in range(n):
            gates.append(["rot", [q], [["w", operand, [l, q, k]] for k in range(3)]])
        if n > 1:
            r = (l % (n - 1)) + 1
            for q in range(n):
                gates.append(["cnot", [q, (q + r) % n], []])
    return gates


def template_case(name, rng, n, rotation, body, wshape, template_fn, measurements, n_weights=5, n_inputs=16):
    """Gate list from the expansion above; expected values from PennyLane's own templates."""
    gates = angle_embedding(n, rotation) + body
    dev = qml.device("default.qubit", wires=n)

    @qml.qnode(dev, interface="numpy")
    def circuit(x, w):
        qml.AngleEmbedding(x, wires=range(n), rotation=rotation.upper()[-1])
        template_fn(w)
        return measure(measurements)

    weight_sets = []
    for _ in range(n_weights):
        w = rng.uniform(-np.pi, np.pi, size=wshape)
        x = rng.uniform(-np.pi, np.pi, size=(n_inputs, n))
        expected = stack(circuit(x, w), n_inputs)
        # Cross-check the written-out gate list against PennyLane's template expansion.
        check = run_gate_list(n, gates, measurements, x, [w])
        assert np.allclose(check, expected, atol=1e-12), name
        weight_sets.append({"weights": [{"shape": list(wshape), "data": w.ravel().tolist()}],
                            "inputs": x.ravel().tolist(), "batch": n_inputs,
                            "expected": expected.ravel().tolist()})
    return {"name": name, "qubits": n, "input_width": n, "gates": gates,
            "measurements": measurements, "sets": weight_sets}


def rot_linear_template(n, layers):
    def apply(w):
        for l in range(layers):
            for q in range(n):
                qml.Rot(*w[l, q], wires=q)
            for q in range(n - 1):
                qml.CNOT(wires=[q, q + 1])
    return apply


def random_circuit(rng, n, count, input_width, n_weights):
    """Random gates of every kind; angles from inputs, weights (operand 1, [n_weights]) or constants."""
    kinds = list(ONE_QUBIT) + list(TWO_QUBIT)
    gates = []
    for _ in range(count):
        kind = kinds[rng.integers(len(kinds))]
        if kind in TWO_QUBIT:
            wires = [int(w) for w in rng.choice(n, size=2, replace=False)]
            npar = TWO_QUBIT[kind]
        else:
            wires = [int(rng.integers(n))]
            npar = ONE_QUBIT[kind]
        params = []
        for _ in range(npar):
            r = rng.random()
            if r < 0.3:
                params.append(["i", int(rng.integers(input_width))])
            elif r < 0.8:
                params.append(["w", 1, [int(rng.integers(n_weights))]])
            else:
                params.append(["c", float(rng.uniform(-np.pi, np.pi))])
        gates.append([kind, wires, params])
    return gates


def random_case(rng, n, count, n_sets=2, batch=3):
    input_width, n_weights = 3, 24
    gates = random_circuit(rng, n, count, input_width, n_weights)
    measurements = [["expval", "z", q] for q in range(n)]
    measurements += [["expval", "x", 0], ["expval", "y", n - 1], ["expval", "x", n // 2],
                     ["probs", [1, n - 2]]]
    sets = []
    for _ in range(n_sets):
        w = rng.uniform(-np.pi, np.pi, size=(n_weights,))
        x = rng.uniform(-np.pi, np.pi, size=(batch, input_width))
        entry = {"weights": [{"shape": [n_weights], "data": w.tolist()}],
                 "inputs": x.ravel().tolist(), "batch": batch,
                 "expected": run_gate_list(n, gates, measurements, x, [w]).ravel().tolist(),
                 "prefixes": {}}
        for k in (10, 25, 50, 100):
            entry["prefixes"][str(k)] = run_gate_list(n, gates[:k], measurements, x, [w]).ravel().tolist()
        sets.append(entry)
    return {"name": f"random_{n}q_{count}g", "qubits": n, "input_width": input_width,
            "gates": gates, "measurements": measurements, "sets": sets}


def main():
    rng = np.random.default_rng(20261125)
    n = 4
    zs = [["expval", "z", q] for q in range(n)]
    cases = [
        template_case("qemlnet", rng, n, "ry", rot_layers_linear(n, 6), (6, n, 3),
                      rot_linear_template(n, 6), zs),
        template_case("basic_entangler", rng, n, "ry", basic_entangler(n, 6), (6, n),
                      lambda w: qml.BasicEntanglerLayers(w, wires=range(n)), zs),
        template_case("rx_encoding", rng, n, "rx", rot_layers_linear(n, 6), (6, n, 3),
                      rot_linear_template(n, 6),
                      zs + [["expval", "x", 1], ["expval", "y", 2]]),
        template_case("strongly_entangling", rng, 5, "rx", strongly_entangling(5, 3), (3, 5, 3),
                      lambda w: qml.StronglyEntanglingLayers(w, wires=range(5)),
                      [["expval", "z", q] for q in range(5)] + [["expval", "x", 0]]),
        template_case("probs", rng, n, "ry", rot_layers_linear(n, 2), (2, n, 3),
                      rot_linear_template(n, 2), [["probs", [0, 1, 2, 3]], ["probs", [2, 0]]]),
        random_case(rng, 8, 300),
        random_case(rng, 12, 300),
        random_case(rng, 16, 200, n_sets=1, batch=2),
    ]
    os.makedirs(os.path.dirname(OUT), exist_ok=True)
    with open(OUT, "w") as f:
        json.dump({"generator": "scripts/pennylane_reference.py", "pennylane": qml.__version__,
                   "device": "default.qubit", "cases": cases}, f, separators=(",", ":"))
    print(f"wrote {OUT} ({os.path.getsize(OUT)} bytes, {len(cases)} cases)")


if __name__ == "__main__":
    main()
