import TestSupport
import XCTest
import QEMLIR
import QEMLTensor
@testable import QEMLRuntime

/// The bundled examples run on generated weights; the symbolic batch is bound per run.
final class ExampleModelTests: XCTestCase {
    static let examples = "/" + #filePath.split(separator: "/").dropLast(3).joined(separator: "/") + "/examples/"

    func sample(_ shape: [Int], seed: Float) -> Tensor {
        let n = shape.reduce(1, *)
        return Tensor(shape: shape, data: (0..<n).map { sin(Float($0) * 0.37 + seed) })
    }

    func testTinyModelBatchEqualsSamplesRunAlone() throws {
        let g = try QIR.load(path: Self.examples + "qemlnet-tiny.qir")
        let interp = try Interpreter(graph: g, weights: WeightInit.initialize(g, seed: 5))
        let a = sample([1, 2, 32, 32], seed: 0), b = sample([1, 2, 32, 32], seed: 1)
        let both = Tensor(shape: [2, 2, 32, 32], data: a.data + b.data)
        let batched = try interp.evaluate(["probs", "features"], inputs: ["spectrogram": both])
        let alone = [try interp.evaluate(["probs", "features"], inputs: ["spectrogram": a]),
                     try interp.evaluate(["probs", "features"], inputs: ["spectrogram": b])]
        for name in ["probs", "features"] {
            let t = try XCTUnwrap(batched[name])
            XCTAssertEqual(t.shape[0], 2)
            XCTAssertEqual(t.data, alone[0][name]!.data + alone[1][name]!.data, name)
        }
        // Probabilities: 8 classes summing to 1, not all equal (the weights do something).
        let p = try XCTUnwrap(batched["probs"])
        XCTAssertEqual(p.shape, [2, 8])
        XCTAssertEqual(Double(p.data[0..<8].reduce(0, +)), 1, accuracy: 1e-5)
        XCTAssertGreaterThan(Agreement.largest(p.data[0..<8]) - Agreement.smallest(p.data[0..<8]), 1e-4)
        XCTAssertNotEqual(Array(p.data[0..<8]), Array(p.data[8..<16]))
    }

    func testTinyModelFromTheAnglesOnward() throws {
        // Skipping the backbone: give %angles, get the circuit and head only.
        let g = try QIR.load(path: Self.examples + "qemlnet-tiny.qir")
        let interp = try Interpreter(graph: g, weights: WeightInit.initialize(g, seed: 5))
        let out = try interp.evaluate(["probs"], inputs: ["angles": Tensor(shape: [3, 4], data: (0..<12).map { Float($0) * 0.2 - 1 })])
        XCTAssertEqual(out["probs"]?.shape, [3, 8])
    }

    func testCircuitExample() throws {
        let g = try QIR.load(path: Self.examples + "qemlnet-circuit.qir")
        let interp = try Interpreter(graph: g, weights: WeightInit.initialize(g, seed: 2))
        let out = try interp.run(inputs: ["angles": Tensor(shape: [2, 4], data: [0.1, 0.2, 0.3, 0.4, -1, 1, 2, -2])])
        let e = try XCTUnwrap(out[g.outputs[0]])
        XCTAssertEqual(e.shape, [2, 4])
        XCTAssertTrue(e.data.allSatisfy { abs($0) <= 1 + 1e-6 })
    }
}
