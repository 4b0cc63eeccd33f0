import Foundation
import QEMLIR
@testable import QEMLQuantum

/// The vectors written by `scripts/pennylane_reference.py` (PennyLane default.qubit, float64),
/// rebuilt into `Circuit` values.
struct PennyLaneCase {
    struct WeightSet {
        var weights: [WeightArray]
        var inputs: [Double]
        var batch: Int
        var expected: [Double]
        /// Outputs of the circuit truncated to its first k gates.
        var prefixes: [Int: [Double]]
    }
    var name: String
    var circuit: Circuit
    var inputWidth: Int
    var sets: [WeightSet]

    func truncated(_ k: Int) -> Circuit {
        Circuit(qubits: circuit.qubits, gates: Array(circuit.gates.prefix(k)), measurements: circuit.measurements)
    }

    static func load() throws -> [PennyLaneCase] {
        let url = URL(fileURLWithPath: #filePath).deletingLastPathComponent()
            .appendingPathComponent("Fixtures/pennylane_reference.json")
        let root = try JSONSerialization.jsonObject(with: Data(contentsOf: url)) as? [String: Any]
        guard let cases = root?["cases"] as? [[String: Any]] else { throw FixtureError("no cases in \(url.path)") }
        return try cases.map(parseCase)
    }

    private static func parseCase(_ c: [String: Any]) throws -> PennyLaneCase {
        guard let name = c["name"] as? String, let qubits = c["qubits"] as? Int, let width = c["input_width"] as? Int,
              let gates = c["gates"] as? [[Any]], let meas = c["measurements"] as? [[Any]], let sets = c["sets"] as? [[String: Any]]
        else { throw FixtureError("malformed case") }
        var circuit = Circuit(qubits: qubits)
        for g in gates {
            guard g.count == 3, let k = g[0] as? String, let kind = GateKind(rawValue: k), let wires = g[1] as? [Int],
                  let params = g[2] as? [[Any]] else { throw FixtureError("malformed gate \(g) in \(name)") }
            circuit.gates.append(Gate(kind, wires: wires, params: try params.map(parseParam)))
        }
        for m in meas {
            if m.first as? String == "expval", m.count == 3, let p = (m[1] as? String).flatMap(Pauli.init), let w = m[2] as? Int {
                circuit.measurements.append(.expval(p, wire: w))
            } else if m.first as? String == "probs", m.count == 2, let ws = m[1] as? [Int] {
                circuit.measurements.append(.probs(ws))
            } else { throw FixtureError("malformed measurement \(m) in \(name)") }
        }
        let weightSets = try sets.map { s -> WeightSet in
            guard let ws = s["weights"] as? [[String: Any]], let inputs = s["inputs"] as? [Double], let batch = s["batch"] as? Int,
                  let expected = s["expected"] as? [Double] else { throw FixtureError("malformed set in \(name)") }
            let weights = try ws.map { w -> WeightArray in
                guard let shape = w["shape"] as? [Int], let data = w["data"] as? [Double] else { throw FixtureError("malformed weights in \(name)") }
                return WeightArray(shape: shape, values: data)
            }
            var prefixes: [Int: [Double]] = [:]
            for (k, v) in (s["prefixes"] as? [String: [Double]]) ?? [:] { if let k = Int(k) { prefixes[k] = v } }
            return WeightSet(weights: weights, inputs: inputs, batch: batch, expected: expected, prefixes: prefixes)
        }
        return PennyLaneCase(name: name, circuit: circuit, inputWidth: width, sets: weightSets)
    }

    private static func parseParam(_ p: [Any]) throws -> GateParam {
        switch p.first as? String {
        case "i": if let c = p[1] as? Int { return .input(column: c) }
        case "w": if let op = p[1] as? Int, let idx = p[2] as? [Int] { return .weight(operand: op, index: idx) }
        case "c": if let v = p[1] as? Double { return .constant(v) }
        default: break
        }
        throw FixtureError("malformed parameter \(p)")
    }
}

struct FixtureError: Error, CustomStringConvertible {
    var description: String
    init(_ d: String) { description = d }
}

func maxAbsDifference(_ a: [Double], _ b: [Double]) -> Double {
    guard a.count == b.count else { return .infinity }
    var worst = 0.0
    for (x, y) in zip(a, b) {
        let d = abs(x - y)
        if d.isNaN { return .infinity }
        worst = max(worst, d)
    }
    return worst
}
