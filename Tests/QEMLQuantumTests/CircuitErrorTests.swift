import XCTest
import QEMLIR
@testable import QEMLQuantum

final class CircuitErrorTests: XCTestCase {
    private func error(_ c: Circuit, weights: [WeightArray] = [], width: Int = 1) -> String? {
        do { _ = try BoundCircuit(c, weights: weights, inputWidth: width); return nil } catch { return error.description }
    }
    private let z = [Measurement.expval(.z, wire: 0)]

    func testWireOutOfRange() {
        XCTAssertEqual(error(Circuit(qubits: 2, gates: [Gate(.h, wires: [2])], measurements: z)),
                       "circuit error: gate 0 (h) uses wire 2, out of range for a 2-wire circuit\n  fix: use wires 0…1")
    }

    func testRepeatedWire() {
        XCTAssertEqual(error(Circuit(qubits: 2, gates: [Gate(.h, wires: [0]), Gate(.cnot, wires: [1, 1])], measurements: z)),
                       "circuit error: gate 1 (cnot) uses wire 1 twice (wires [1,1])\n  fix: give a multi-qubit gate distinct wires")
    }

    func testWrongParameterCount() {
        XCTAssertEqual(error(Circuit(qubits: 1, gates: [Gate(.rot, wires: [0], params: [.constant(1)])], measurements: z)),
                       "circuit error: gate 0 (rot) takes 3 parameters but was given 1\n  fix: pass exactly 3")
    }

    func testWrongWireCount() {
        XCTAssertEqual(error(Circuit(qubits: 2, gates: [Gate(.cz, wires: [0])], measurements: z)),
                       "circuit error: gate 0 (cz) acts on 2 wires but was given 1\n  fix: pass exactly 2 wires")
    }

    func testWeightsOfWrongShape() {
        let c = Circuit(qubits: 1, gates: [Gate(.ry, wires: [0], params: [.weight(operand: 1, index: [2, 0])])], measurements: z)
        XCTAssertEqual(error(c, weights: [WeightArray(shape: [2, 3], values: Array(repeating: 0, count: 6))]),
                       "circuit error: gate 0 (ry) reads weight operand 1 at [2,0] but it has shape [2,3]\n  fix: pass weights of a shape that covers every index the circuit reads")
        XCTAssertEqual(error(c, weights: [WeightArray(shape: [3, 3], values: [1])]),
                       "circuit error: weight operand 1 has shape [3,3] but 1 values\n  fix: pass a row-major array with as many values as the shape holds")
        XCTAssertEqual(error(c),
                       "circuit error: gate 0 (ry) reads weight operand 1 but 0 weight tensors are passed\n  fix: pass weight operand 1 or read operands 1…0")
    }

    func testInputColumnOutOfRange() {
        let c = Circuit(qubits: 1, gates: [Gate(.rx, wires: [0], params: [.input(column: 3)])], measurements: z)
        XCTAssertEqual(error(c, width: 2),
                       "circuit error: gate 0 (rx) reads input column 3 but the input has 2 columns\n  fix: read columns 0…1 or widen the input")
    }

    func testTooManyQubits() {
        XCTAssertEqual(error(Circuit(qubits: 25, measurements: z)),
                       "circuit error: the circuit has 25 wires; the state-vector simulator supports at most 24\n  fix: use at most 24 wires (2^25 amplitudes do not fit in memory)")
    }

    func testMeasurementWireOutOfRange() {
        XCTAssertEqual(error(Circuit(qubits: 2, measurements: [.probs([0, 5])])),
                       "circuit error: measurement 0 (probs) uses wire 5, out of range for a 2-wire circuit\n  fix: use wires 0…1")
    }

    func testInputSizeMismatch() {
        let c = Circuit(qubits: 1, gates: [Gate(.rx, wires: [0], params: [.input(column: 0)])], measurements: z)
        XCTAssertThrowsError(try StateVectorSimulator.run(c, inputs: [1, 2, 3], batch: 2, inputWidth: 1, weights: [])) { e in
            XCTAssertEqual("\(e)", "circuit error: the input holds 3 values but batch 2 × width 1 needs 2\n  fix: pass a row-major [N, 1] array")
        }
    }
}
