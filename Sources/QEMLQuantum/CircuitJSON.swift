import Foundation
import QEMLIR

/// Circuits as JSON, the format `scripts/pennylane_reference.py` and `benchmarks/quantum/` write:
/// `{"qubits": n, "input_width": k, "gates": [[kind, [wires], [param…]]…], "measurements": […]}`
/// with a param `["i", column]`, `["w", operand, [index…]]` or `["c", value]` and a measurement
/// `["expval", "z", wire]` or `["probs", [wires]]`; weights `[{"shape": […], "data": […]}]`.
public enum CircuitJSON {
    public static func circuit(_ c: [String: Any]) throws(CircuitError) -> (circuit: Circuit, inputWidth: Int) {
        guard let qubits = c["qubits"] as? Int, let width = c["input_width"] as? Int,
              let gates = c["gates"] as? [[Any]], let meas = c["measurements"] as? [[Any]] else {
            throw CircuitError("a circuit needs qubits, input_width, gates and measurements", fix: "write the fields scripts/pennylane_reference.py writes")
        }
        var circuit = Circuit(qubits: qubits)
        for (i, g) in gates.enumerated() {
            guard g.count == 3, let k = g[0] as? String, let wires = g[1] as? [Int], let params = g[2] as? [[Any]] else {
                throw CircuitError("gate \(i) is not [kind, [wires], [params]]")
            }
            guard let kind = GateKind(rawValue: k) else {
                throw CircuitError("gate \(i) has unknown kind \"\(k)\"", fix: "use one of " + GateKind.allCases.map(\.rawValue).joined(separator: ", "))
            }
            var ps: [GateParam] = []
            for p in params {
                switch p.first as? String {
                case "i" where p.count == 2: if let c = p[1] as? Int { ps.append(.input(column: c)); continue }
                case "w" where p.count == 3: if let op = p[1] as? Int, let idx = p[2] as? [Int] { ps.append(.weight(operand: op, index: idx)); continue }
                case "c" where p.count == 2: if let v = p[1] as? Double { ps.append(.constant(v)); continue }
                default: break
                }
                throw CircuitError("gate \(i) has a malformed parameter", fix: "write [\"i\", column], [\"w\", operand, [index…]] or [\"c\", value]")
            }
            circuit.gates.append(Gate(kind, wires: wires, params: ps))
        }
        for (i, m) in meas.enumerated() {
            if m.first as? String == "expval", m.count == 3, let p = (m[1] as? String).flatMap(Pauli.init), let w = m[2] as? Int {
                circuit.measurements.append(.expval(p, wire: w))
            } else if m.first as? String == "probs", m.count == 2, let ws = m[1] as? [Int] {
                circuit.measurements.append(.probs(ws))
            } else {
                throw CircuitError("measurement \(i) is malformed", fix: "write [\"expval\", \"z\", wire] or [\"probs\", [wires]]")
            }
        }
        return (circuit, width)
    }

    public static func weights(_ list: Any?) throws(CircuitError) -> [WeightArray] {
        guard let ws = list as? [[String: Any]] else { throw CircuitError("weights must be a list of {shape, data}") }
        var out: [WeightArray] = []
        for w in ws {
            guard let shape = w["shape"] as? [Int], let data = w["data"] as? [Double] else {
                throw CircuitError("weights must be a list of {shape, data}")
            }
            out.append(WeightArray(shape: shape, values: data))
        }
        return out
    }
}
