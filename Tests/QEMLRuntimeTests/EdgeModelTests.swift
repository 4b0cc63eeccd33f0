import XCTest
import QEMLIR
import QEMLTensor
@testable import QEMLRuntime

/// The edge model end to end against ONNX Runtime (fixtures by scripts/onnx_reference.py).
final class EdgeModelTests: XCTestCase {
    static let repo = "/" + #filePath.split(separator: "/").dropLast(3).joined(separator: "/")

    func testTiming() throws {
        var t = Date()
        let g = try QIR.load(path: Self.repo + "/examples/qemlnet-edge.qir")
        print("parse", Date().timeIntervalSince(t)); t = Date()
        let w = WeightInit.initialize(g, seed: 1)
        print("init", Date().timeIntervalSince(t)); t = Date()
        let interp = try Interpreter(graph: g, weights: w)
        print("interp", Date().timeIntervalSince(t)); t = Date()
        let x = Tensor(shape: [1, 1, 64, 64], data: (0..<4096).map { Float(sin(Double($0) * 0.01)) })
        let t0 = Date()
        let out = try interp.evaluate(["features", "angles", "probs"], inputs: ["spectrogram": x])
        print("edge run", Date().timeIntervalSince(t0), out["angles"]!.data, out["features"]!.data.prefix(8), out["probs"]!.data)
    }
}
