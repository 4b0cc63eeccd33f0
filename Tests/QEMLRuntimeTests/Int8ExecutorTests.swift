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
    /// A quantized weights file as `qemlc quantize` writes it (docs/QUANTIZATION.md "The file"),
    /// with one activation scale for every int8 input instead of calibrated ones: BatchNorm
    /// folded, per-channel s8 weights, and — with `requantize` — output scales where every
    /// reader is an int8 op's input.
    static func quantized(_ parsed: Graph, _ weights: [String: Tensor], scale: Float, requantize: Bool) throws -> [String: Tensor] {
        let g = try PassManager().run(parsed, context: PassContext(weights: weights)).graph
        let int8 = Set(QuantizePass.decisions(g, precision: .int8).filter { $0.precision == .int8 }.map(\.node))
        let users = g.users()
        var out = weights
        func data(_ v: ValueID?) -> [Float]? { v.flatMap { g[$0].weightName }.flatMap { weights[$0]?.data } }
        for i in int8 {
            let n = g.nodes[i]
            guard let wv = n.operand(1), let w = g[wv].weightName, let wt = weights[w] else { continue }
            let o = wt.shape[0]
            var bn: (gamma: [Float], beta: [Float], mean: [Float], variance: [Float], eps: Double)?
            if let gamma = data(n.operand(3)), let beta = data(n.operand(4)),
               let mean = data(n.operand(5)), let variance = data(n.operand(6)) {
                bn = (gamma, beta, mean, variance, n.attributes.double("eps") ?? 1e-5)
            }
            let folded = QuantizationMath.fold(weight: wt.data, outChannels: o, bias: data(n.operand(2)), batchNorm: bn)
            let (q, scales) = QuantizationMath.quantizeWeights(folded.weight, outChannels: o)
            out[w] = Tensor(shape: wt.shape, data: q.map { Float($0) })
            out[w + QuantizedFile.weightScale] = Tensor(shape: [o], data: scales)
            out[w + QuantizedFile.foldedBias] = Tensor(shape: [o], data: folded.bias)
            out[w + QuantizedFile.inputScale] = Tensor(shape: [1], data: [scale])
            if requantize, let y = n.results.first, !g.outputs.contains(y), !users[y.raw].isEmpty,
               users[y.raw].allSatisfy({ u in int8.contains(u) && g.nodes[u].operands.enumerated().allSatisfy { $0.element != y || $0.offset == 0 } }) {
                out[w + QuantizedFile.outputScale] = Tensor(shape: [1], data: [scale])
            }
        }
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
