import TestSupport
import XCTest
import QEMLCodegen
import QEMLIR
import QEMLPasses
import QEMLTensor
@testable import QEMLRuntime

/// The executor runs the `quantize` pass's int8 nodes on the generated int8 kernels: u7 codes in
/// u8 slots, quantize steps at f32 → int8 boundaries, and results that agree with the
/// interpreter's integer reference on the same quantized weights.
final class Int8ExecutorTests: XCTestCase {
    /// A quantized weights file as `qemlc quantize` writes it (`QuantizedWeights`), with one
    /// activation range for every int8 input instead of calibrated ones; without `requantize`,
    /// every int8 op's output stays f32 (no output scales).
    static func quantized(_ parsed: Graph, _ weights: [String: Tensor], scale: Float, requantize: Bool) throws -> [String: Tensor] {
        let fused = try PassManager().run(parsed, until: "fuse-cbam", context: PassContext(weights: weights)).graph
        let decisions = QuantizePass.decisions(fused, precision: .int8)
        let ranges = Dictionary(uniqueKeysWithValues: QuantizedWeights.calibratedValues(fused, decisions).map { ($0, scale * 127) })
        var out = try QuantizedWeights(fused: fused, weights: weights, precision: .int8, ranges: ranges).tensors
        if !requantize { for k in out.keys where k.hasSuffix(QuantizedFile.outputScale) { out[k] = nil } }
        return out
    }

    func check(requantize: Bool) throws {
        let g = try QIR.load(path: examplePath("qemlnet-tiny.qir"))
        let weights = try Self.quantized(g, WeightInit.initialize(g, seed: 5), scale: 4.0 / 127, requantize: requantize)
        let model = try CompiledModel.compile(g, weights: weights, options: CompileOptions(threads: 2, cache: nil))
        let info = model.plan.stepInfo
        let path = DotProduct.choose(for: .host).rawValue
        XCTAssertGreaterThan(info.filter { $0.kind == "conv2d int8 (\(path))" }.count, 3, model.plan.text)
        XCTAssertTrue(info.contains { $0.kind == "quantize u7" }, "f32 → u7 at the first int8 op")
        XCTAssertEqual(model.plan.text.contains(": u8["), true, "u8 slots in the plan dump")
        if requantize { XCTAssertTrue(model.plan.steps.contains { $0.summary.hasSuffix("int8→u7") }, "some int8 op stores codes") }
        XCTAssertTrue(model.plan.fallbacks.isEmpty, "\(model.plan.fallbacks)")

        let x = executorTestInput([2, 2, 32, 32])
        let got = try model.run(inputs: ["spectrogram": x])
        let interp = try Interpreter(graph: model.passes.graph, weights: weights)
        let want = try interp.evaluate(["probs"], inputs: ["spectrogram": x])
        let p = try XCTUnwrap(got["probs"]), q = try XCTUnwrap(want["probs"])
        // f32 steps (CBAM, circuit, head) round differently from the interpreter's loops, so a
        // code may land one step apart; the probabilities still agree closely.
        XCTAssertLessThan(Agreement.absolute(p.data, q.data), 2e-3, "JIT int8 \(p.data) vs interpreter \(q.data)")
    }

    func testTinyModelInt8AgreesWithTheIntegerReference() throws { try check(requantize: false) }

    func testTinyModelInt8WithRequantizedOutputs() throws { try check(requantize: true) }
}
