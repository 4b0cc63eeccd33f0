import Foundation
import XCTest
import QEMLIR
import QEMLQuantum

/// The vectors `scripts/pennylane_reference.py` wrote (PennyLane default.qubit, float64,
/// `Tests/QEMLQuantumTests/Fixtures/pennylane_reference.json`): per case and weight set, the whole
/// circuit and, for the random circuits, its first 10, 25, 50 and 100 gates, each with its expected
/// outputs.
struct PennyLaneCheck {
    var label: String
    var circuit: BoundCircuit
    var inputs: [Double]
    var batch: Int
    var expected: [Double]
}

func pennyLaneChecks() throws -> [PennyLaneCheck] {
    let url = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
        .appendingPathComponent("QEMLQuantumTests/Fixtures/pennylane_reference.json")
    let root = try JSONSerialization.jsonObject(with: Data(contentsOf: url)) as? [String: Any]
    let cases = try XCTUnwrap(root?["cases"] as? [[String: Any]], "no cases in \(url.path)")
    var out: [PennyLaneCheck] = []
    for c in cases {
        let (circuit, width) = try CircuitJSON.circuit(c)
        let name = try XCTUnwrap(c["name"] as? String)
        for (s, set) in try XCTUnwrap(c["sets"] as? [[String: Any]]).enumerated() {
            let weights = try CircuitJSON.weights(set["weights"])
            let inputs = try XCTUnwrap(set["inputs"] as? [Double]), batch = try XCTUnwrap(set["batch"] as? Int)
            var truncations: [(Int?, [Double])] = [(nil, try XCTUnwrap(set["expected"] as? [Double]))]
            for (k, v) in ((set["prefixes"] as? [String: [Double]]) ?? [:]).sorted(by: { $0.key < $1.key }) {
                if let k = Int(k) { truncations.append((k, v)) }
            }
            for (k, expected) in truncations {
                let gates = k.map { Array(circuit.gates.prefix($0)) } ?? circuit.gates
                let bound = try BoundCircuit(Circuit(qubits: circuit.qubits, gates: gates, measurements: circuit.measurements),
                                             weights: weights, inputWidth: width)
                out.append(PennyLaneCheck(label: "\(name) set \(s)" + (k.map { " first \($0) gates" } ?? ""),
                                          circuit: bound, inputs: inputs, batch: batch, expected: expected))
            }
        }
    }
    return out
}
