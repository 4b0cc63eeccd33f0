import TestSupport
import Foundation
import XCTest
import QEMLIR
import QEMLTensor
@testable import QEMLRuntime

/// The edge model end to end against ONNX Runtime on the same weights (WeightInit, seed 1) and
/// input. Fixtures: `scripts/onnx_reference.py` (its docstring says how to regenerate them).
final class EdgeModelTests: XCTestCase {
    static let repo = "/" + #filePath.split(separator: "/").dropLast(3).joined(separator: "/")
    static let fixtures = repo + "/Tests/QEMLRuntimeTests/Fixtures/onnx/"

    func edgeGraph() throws -> Graph { try QIR.load(path: Self.repo + "/examples/qemlnet-edge.qir") }

    func testEdgeModelMatchesOnnxRuntime() throws {
        let g = try edgeGraph()
        let weights = WeightInit.initialize(g, seed: 1)
        // Same weights as the fixtures were made from? Otherwise a mismatch below would be a mystery.
        let recorded = try String(contentsOfFile: Self.fixtures + "edge_weights.checksum", encoding: .utf8)
            .trimmingCharacters(in: .whitespacesAndNewlines)
        let actual = String(WeightInit.checksum(weights), radix: 16)
        guard recorded == String(repeating: "0", count: 16 - actual.count) + actual else {
            XCTFail("""
                WeightInit no longer produces the weights the ONNX fixtures were made from (checksum \(actual), fixtures \(recorded)).
                If the change is intended, regenerate: qemlc init-weights examples/qemlnet-edge.qir --seed 1 -o /tmp/w.safetensors \
                && python3 scripts/onnx_reference.py /tmp/w.safetensors
                """)
            return
        }
        let interpreter = try Interpreter(graph: g, weights: weights)
        let input = try NPY.read(path: Self.fixtures + "edge_input.npy")
        let names = ["features", "angles", "stem", "layer2", "layer3"]
        let out = try interpreter.evaluate(names, inputs: ["spectrogram": input])
        for name in names {
            let expected = try NPY.read(path: Self.fixtures + "edge_\(name).npy")
            let got = try XCTUnwrap(out[name])
            XCTAssertEqual(got.shape, expected.shape, name)
            guard got.shape == expected.shape else { continue }
            // Relative error per element, with values below 1 % of the tensor's largest treated at that scale.
            let scale = Agreement.largest(expected.data.map(abs))
            let err = Agreement.relative(got.data, expected.data, floor: 0.01 * scale)
            print("edge model vs ONNX Runtime: \(name) \(describeShape(got.shape)) max relative error \(err) (per element, floor 1e-6: \(Agreement.relative(got.data, expected.data, floor: 1e-6)))")
            XCTAssertLessThanOrEqual(err, 1e-4, name)
        }
        // Against the same network in float64 (NumPy), per element. (ORT's own float32 arithmetic
        // is ~6e-4 away from it on the smallest features, hence the floor above.)
        for name in ["features", "angles"] {
            let exact = try NPY.read(path: Self.fixtures + "edge_\(name)_f64.npy")
            let got = try XCTUnwrap(out[name]).data
            let scale = Agreement.largest(exact.data.map(abs))
            let err = Agreement.relative(got, exact.data, floor: 1e-3 * scale)
            print("edge model vs float64 NumPy: \(name) max relative error \(err) (floor 1e-6: \(Agreement.relative(got, exact.data, floor: 1e-6)))")
            XCTAssertLessThanOrEqual(err, 1e-4, name)
        }
        // The angles are not saturated (tanh near ±1 would hide errors in the features).
        XCTAssertTrue(out["angles"]!.data.allSatisfy { abs($0) < 0.9 * Float.pi })
    }

    /// Generated weights survive a safetensors round trip (the tiny model's, to stay fast).
    /// With QEMLC_WRITE_EDGE_WEIGHTS=path the edge model's (seed 1) are written there instead:
    /// the input of scripts/onnx_reference.py when the CLI's init-weights is not at hand.
    func testWeightsRoundTripThroughSafetensors() throws {
        let target = ProcessInfo.processInfo.environment["QEMLC_WRITE_EDGE_WEIGHTS"]
        let g = target == nil ? try QIR.load(path: Self.repo + "/examples/qemlnet-tiny.qir") : try edgeGraph()
        let weights = WeightInit.initialize(g, seed: 1)
        let dir = NSTemporaryDirectory() + "qemlc-weights-\(getpid())"
        try FileManager.default.createDirectory(atPath: dir, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(atPath: dir) }
        let path = target ?? dir + "/w.safetensors"
        try Safetensors.write(weights, to: path, metadata: ["generator": "qemlc WeightInit", "seed": "1"], overwrite: true)
        let file = try SafetensorsFile(path: path)
        XCTAssertEqual(Set(file.names), Set(g.weights.compactMap { g[$0].weightName }))
        XCTAssertEqual(file.metadata["seed"], "1")
        XCTAssertEqual(try file.tensors(), weights)
    }
}
