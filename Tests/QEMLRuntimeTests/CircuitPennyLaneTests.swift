import Foundation
import XCTest
import QEMLIR
import QEMLTensor
@testable import QEMLRuntime

/// The interpreter's circuit kernel against PennyLane (default.qubit, float64): the vectors
/// scripts/pennylane_reference.py wrote for QEMLQuantum, read here too so the interpreter's own
/// small simulator is checked against the outside reference, not only against closed forms.
final class CircuitPennyLaneTests: XCTestCase {
    static let path = "/" + #filePath.split(separator: "/").dropLast(2).joined(separator: "/")
        + "/QEMLQuantumTests/Fixtures/pennylane_reference.json"

    func testMatchesPennyLane() throws {
        let root = try XCTUnwrap(JSONSerialization.jsonObject(with: Data(contentsOf: URL(fileURLWithPath: Self.path))) as? [String: Any])
        let cases = try XCTUnwrap(root["cases"] as? [[String: Any]])
        var checked = 0
        for c in cases {
            let name = try XCTUnwrap(c["name"] as? String)
            let qubits = try XCTUnwrap(c["qubits"] as? Int), width = try XCTUnwrap(c["input_width"] as? Int)
            var circuit = Circuit(qubits: qubits)
            for g in try XCTUnwrap(c["gates"] as? [[Any]]) {
                let kind = try XCTUnwrap((g[0] as? String).flatMap(GateKind.init), name)
                let params = try XCTUnwrap(g[2] as? [[Any]]).map { p -> GateParam in
                    switch p[0] as? String {
                    case "i": return .input(column: p[1] as? Int ?? -1)
                    case "w": return .weight(operand: p[1] as? Int ?? -1, index: p[2] as? [Int] ?? [])
                    default: return .constant((p[1] as? NSNumber)?.doubleValue ?? .nan)
                    }
                }
                circuit.gates.append(Gate(kind, wires: try XCTUnwrap(g[1] as? [Int]), params: params))
            }
            for m in try XCTUnwrap(c["measurements"] as? [[Any]]) {
                if m[0] as? String == "expval" {
                    circuit.measurements.append(.expval(try XCTUnwrap((m[1] as? String).flatMap(Pauli.init)), wire: try XCTUnwrap(m[2] as? Int)))
                } else {
                    circuit.measurements.append(.probs(try XCTUnwrap(m[1] as? [Int])))
                }
            }
            for set in try XCTUnwrap(c["sets"] as? [[String: Any]]) {
                let batch = try XCTUnwrap(set["batch"] as? Int)
                let inputs = try XCTUnwrap(set["inputs"] as? [Double]).map(Float.init)
                var operands: [Operand] = [.input(Tensor(shape: [batch, width], data: inputs))]
                for w in try XCTUnwrap(set["weights"] as? [[String: Any]]) {
                    operands.append(.weight(Tensor(shape: try XCTUnwrap(w["shape"] as? [Int]), data: try XCTUnwrap(w["data"] as? [Double]).map(Float.init))))
                }
                let got = try runOp("circuit", operands, [("wires", .int(qubits)), ("body", .circuit(circuit))])[0]
                let expected = try XCTUnwrap(set["expected"] as? [Double])
                XCTAssertEqual(got.count, expected.count, name)
                // f32 inputs and outputs: agreement to ~1e-5 (angles are rounded to f32 before simulating).
                for (a, b) in zip(got.data, expected) { XCTAssertEqual(Double(a), b, accuracy: 2e-5, name) }
                checked += 1
            }
        }
        XCTAssertGreaterThanOrEqual(checked, 20)
    }
}
