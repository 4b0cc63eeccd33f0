import Foundation
import QEMLIR
import QEMLRuntime
import QEMLSignal
import QEMLTensor
import XCTest

/// qemlc against the user's side: the PyTorch + PennyLane QEML-Net (examples/pytorch) with the
/// shipped tiny weights, on 16 recordings — the front end, the features, the circuit's ⟨Z⟩ and
/// the probabilities from the JIT and from the interpreter, each within 1e-5 of PyTorch's
/// largest value (Fixtures/pytorch, written by scripts/pytorch_reference.py).
final class PyTorchParityTests: XCTestCase {
    static let fixtures = URL(fileURLWithPath: #filePath).deletingLastPathComponent().appendingPathComponent("Fixtures/pytorch")
    static let repo = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()

    struct Manifest: Decodable {
        struct Recording: Decodable { var file: String; var channel: Int }
        struct Weights: Decodable { var path: String?; var sha256: String }
        var model: String
        var weights: Weights
        var tolerance: Double
        var recordings: [Recording]
    }

    /// Worst |a − b| over max |b|; NaN-aware (a NaN anywhere gives NaN, which fails ≤).
    func relativeError(_ a: [Float], _ b: [Float]) -> Double {
        XCTAssertEqual(a.count, b.count)
        var worst = 0.0, scale = 0.0
        for (x, y) in zip(a, b) {
            let d = abs(Double(x) - Double(y))
            if d.isNaN { return .nan }
            worst = Swift.max(worst, d)
            scale = Swift.max(scale, abs(Double(y)))
        }
        return worst / Swift.max(scale, 1e-30)
    }

    func testJITAndInterpreterMatchPyTorch() throws {
        let manifest = try JSONDecoder().decode(Manifest.self, from: Data(contentsOf: Self.fixtures.appendingPathComponent("manifest.json")))
        XCTAssertEqual(manifest.recordings.count, 16)
        let graph = try QIR.load(path: Self.repo.appendingPathComponent(manifest.model).path)
        let weightsPath = Self.repo.appendingPathComponent(try XCTUnwrap(manifest.weights.path, "the fixtures name the shipped weights")).path
        let weights = try Safetensors.read(path: weightsPath)
        let frontEnd = try FrontEnd(spec: try XCTUnwrap(graph.frontend))

        // The recordings through qemlc's front end, stacked as one batch.
        var inputs: [Float] = []
        var shape: [Int] = []
        for r in manifest.recordings {
            let path = Self.fixtures.appendingPathComponent(r.file).path
            let t = try frontEnd.run(try SignalFile.read(path, column: nil), path: path, channel: r.channel)
            shape = t.shape
            inputs += t.data
        }
        let batch = Tensor(shape: [manifest.recordings.count] + shape.dropFirst(), data: inputs)
        let expected = { (name: String) throws -> Tensor in try NPY.read(path: Self.fixtures.appendingPathComponent("\(name).npy").path) }
        XCTAssertLessThanOrEqual(relativeError(batch.data, try expected("spectrogram").data), manifest.tolerance, "front end")

        let names = ["features", "expvals", "probs"]
        let interpreter = try Interpreter(graph: graph, weights: weights)
        let reference = try interpreter.evaluate(names, inputs: ["spectrogram": batch])
        // The circuit's ⟨Z⟩ is inside the network: asked for as an output of the compiled plan.
        var withExpvals = graph
        withExpvals.outputs.append(try XCTUnwrap(graph.value(named: "expvals")))
        let jit = try CompiledModel.compile(withExpvals, weights: weights, options: CompileOptions(threads: 1, cache: nil))
        let compiled = try jit.run(inputs: ["spectrogram": batch])
        for name in names {
            let want = try expected(name).data
            XCTAssertLessThanOrEqual(relativeError(try XCTUnwrap(reference[name]).data, want), manifest.tolerance, "interpreter %\(name)")
            XCTAssertLessThanOrEqual(relativeError(try XCTUnwrap(compiled[name], "JIT %\(name)").data, want), manifest.tolerance, "JIT %\(name)")
        }
    }
}
