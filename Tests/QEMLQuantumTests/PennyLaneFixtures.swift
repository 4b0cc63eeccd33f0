import TestSupport
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
        guard let name = c["name"] as? String, let sets = c["sets"] as? [[String: Any]] else { throw FixtureError("malformed case") }
        let (circuit, width) = try CircuitJSON.circuit(c)
        let weightSets = try sets.map { s -> WeightSet in
            guard let inputs = s["inputs"] as? [Double], let batch = s["batch"] as? Int,
                  let expected = s["expected"] as? [Double] else { throw FixtureError("malformed set in \(name)") }
            var prefixes: [Int: [Double]] = [:]
            for (k, v) in (s["prefixes"] as? [String: [Double]]) ?? [:] { if let k = Int(k) { prefixes[k] = v } }
            return WeightSet(weights: try CircuitJSON.weights(s["weights"]), inputs: inputs, batch: batch,
                             expected: expected, prefixes: prefixes)
        }
        return PennyLaneCase(name: name, circuit: circuit, inputWidth: width, sets: weightSets)
    }
}

struct FixtureError: Error, CustomStringConvertible {
    var description: String
    init(_ d: String) { description = d }
}

