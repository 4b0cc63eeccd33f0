import TestSupport
import XCTest
import QEMLIR
import QEMLTensor
import QEMLRuntime
@testable import QEMLPasses

/// A small deterministic generator (SplitMix64), so a failure reproduces.
struct SeededRandom: RandomNumberGenerator {
    var state: UInt64
    mutating func next() -> UInt64 {
        state &+= 0x9E37_79B9_7F4A_7C15
        var z = state
        z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
        z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
        return z ^ (z >> 31)
    }
}

/// Every pass must keep the meaning: the reference interpreter gives the same outputs on the
/// graph before and after, with random weights and inputs.
final class PassSemanticsTests: XCTestCase {

    func randomTensor(_ shape: [Int], _ range: ClosedRange<Float>, _ rng: inout SeededRandom) -> Tensor {
        Tensor(shape: shape, data: (0..<shape.reduce(1, *)).map { _ in Float.random(in: range, using: &rng) })
    }

    /// Weights in [-0.5, 0.5] (variances in [0.5, 1.5]); inputs in [-1, 1].
    func randomBindings(_ g: Graph, seed: UInt64) -> ([String: Tensor], [String: Tensor]) {
        var rng = SeededRandom(state: seed)
        var variances = Set<ValueID>()
        for n in g.nodes {
            if n.op == "batchnorm", let v = n.operand(4) { variances.insert(v) }
            if n.op == "conv2d", let v = n.operand(6) { variances.insert(v) }
        }
        var weights: [String: Tensor] = [:]
        for w in g.weights {
            let shape = g.type(of: w).fixedShape ?? [1]
            weights[g[w].name] = randomTensor(shape, variances.contains(w) ? 0.5...1.5 : -0.5...0.5, &rng)
        }
        var inputs: [String: Tensor] = [:]
        for i in g.inputs { inputs[g[i].name] = randomTensor(g.type(of: i).shape(binding: ["N": 2]) ?? [1], -1...1, &rng) }
        return (weights, inputs)
    }

    func outputs(_ g: Graph, _ weights: [String: Tensor], _ inputs: [String: Tensor]) throws -> [Tensor] {
        let values = try Interpreter(graph: g, weights: weights).run(inputs: inputs)
        return try g.outputs.map { try XCTUnwrap(values[$0], "output %\(g[$0].name) not computed") }
    }

    /// Runs each pass of the pipeline in turn and compares the outputs after it with the original's.
    func assertPipelinePreservesMeaning(_ g: Graph, seed: UInt64 = 1, file: StaticString = #filePath, line: UInt = #line) throws {
        let (weights, inputs) = randomBindings(g, seed: seed)
        let reference = try outputs(g, weights, inputs)
        var current = g
        let ctx = PassContext(vectorWidth: 8)
        for entry in Pipeline.entries {
            guard let pass = entry.pass else { continue }
            current = try pass.run(current, ctx)
            XCTAssertEqual(GraphChecks.problems(in: current), [], "after \(entry.name)", file: file, line: line)
            let got = try outputs(current, weights, inputs)
            XCTAssertEqual(got.count, reference.count, file: file, line: line)
            for (a, b) in zip(got, reference) {
                XCTAssertEqual(a.shape, b.shape, "after \(entry.name)", file: file, line: line)
                let worst = Agreement.relative(a.data, b.data, floor: 1)
                XCTAssertLessThanOrEqual(worst, 1e-5, "after \(entry.name)", file: file, line: line)
            }
        }
    }

    func testFoldAndEpilogueKeepMeaning() throws {
        var b = GraphBuilder()
        let x = b.input("x", [1, 3, 7, 7])
        let c1 = b.bn(b.conv(x, "c1", out: 8, bias: "c1.bias"), "bn1")
        let r1 = b.v("relu", [.v(c1)])
        let c2 = b.bn(b.conv(r1, "c2", out: 8, stride: 2), "bn2")
        let d = b.bn(b.conv(r1, "d", out: 8, k: 1, pad: 0, stride: 2), "bnd")
        let out = b.v("relu", [.v(b.v("add", [.v(d), .v(c2)]))])
        b.output(out)
        b.output(b.v("flatten", [.v(b.v("global_maxpool", [.v(out)]))]))
        try assertPipelinePreservesMeaning(b.g)
    }

    func testCBAMVariantsKeepMeaning() throws {
        let variants: [CBAMVariant] = [
            CBAMVariant(), CBAMVariant(reluInFC1: true, sigmoidInSpatial: true), CBAMVariant(swapOperands: true),
            CBAMVariant(residual: false), CBAMVariant(residual: false, relu: false), CBAMVariant(relu: false),
        ]
        for (k, v) in variants.enumerated() {
            var b = GraphBuilder()
            let x = b.input("x", [1, 16, 5, 5])
            let y = b.bn(b.conv(x, "conv3", out: 16, k: 1, pad: 0), "bn3")
            var extra: [ValueID] = []
            b.output(b.cbam(y, channels: 16, hidden: 4, prefix: "cbam", residual: x, v, extraOutputs: &extra))
            try assertPipelinePreservesMeaning(b.g, seed: UInt64(k + 10))
            let fused = try PassManager().run(b.g).graph
            XCTAssertEqual(fused.nodes.filter { $0.op == "fused_cbam" }.count, 1, "variant \(k)")
        }
    }

    func testCBAMWithBiasesAndPoolsOutsideAConvKeepsMeaning() throws {
        // fc1/fc2/spatial with biases, and y made by a non-conv (the pools stay separate ops).
        var b = GraphBuilder()
        let x = b.input("x", [1, 8, 4, 6])
        let y = b.v("relu", [.v(x)])
        let avg = b.v("global_avgpool", [.v(y)]), mx = b.v("global_maxpool", [.v(y)])
        func mlp(_ v: ValueID) -> ValueID {
            let h = b.conv(v, "fc1", out: 2, k: 1, pad: 0, extra: [("activation", .string("relu"))], bias: "fc1.bias")
            return b.conv(h, "fc2", out: 8, k: 1, pad: 0, bias: "fc2.bias")
        }
        let ca = b.v("mul", [.v(y), .v(b.v("sigmoid", [.v(b.v("add", [.v(mlp(avg)), .v(mlp(mx))]))]))])
        let cat = b.v("concat", [.v(b.v("channel_mean", [.v(ca)])), .v(b.v("channel_max", [.v(ca)]))])
        let sa = b.conv(cat, "sa", out: 1, k: 3, pad: 1, extra: [("activation", .string("sigmoid"))], bias: "sa.bias")
        b.output(b.v("mul", [.v(ca), .v(sa)]))
        try assertPipelinePreservesMeaning(b.g, seed: 7)
        XCTAssertEqual(try PassManager().run(b.g).graph.nodes.filter { $0.op == "fused_cbam" }.count, 1)
    }

    func testBatchOfTwoKeepsMeaning() throws {
        var b = GraphBuilder()
        let x = b.g.addInput("x", TensorType([.symbolic("N"), .fixed(8), .fixed(4), .fixed(4)]))
        let y = b.bn(b.conv(x, "c", out: 8), "bn")
        var extra: [ValueID] = []
        b.output(b.cbam(y, channels: 8, hidden: 2, prefix: "cbam", residual: x, extraOutputs: &extra))
        try assertPipelinePreservesMeaning(b.g, seed: 3)
    }
}
