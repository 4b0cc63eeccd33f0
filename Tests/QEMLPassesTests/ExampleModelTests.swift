import TestSupport
import Foundation
import XCTest
import QEMLIR
import QEMLTensor
import QEMLRuntime
import QEMLCodegen
@testable import QEMLPasses

/// The full pipeline on the shipped models: every conv+BN(+ReLU)(+add) and every CBAM block fuses.
final class ExampleModelTests: XCTestCase {
    static let examples = URL(fileURLWithPath: #filePath).deletingLastPathComponent()
        .deletingLastPathComponent().deletingLastPathComponent().appendingPathComponent("examples")


    func load(_ name: String) throws -> Graph {
        try QIR.load(path: Self.examples.appendingPathComponent(name).path)
    }

    func count(_ g: Graph, _ op: String) -> Int { g.nodes.filter { $0.op == op }.count }

    func testEdgeModelFusesEveryConvBNAndCBAMBlock() throws {
        let g = try load("qemlnet-edge.qir")
        let convs = count(g, "conv2d"), bns = count(g, "batchnorm")
        XCTAssertEqual(bns, 53, "ResNet-50: stem, 16 bottlenecks × 3, 4 projections")
        let r = try PassManager().run(g, options: PassOptions(verifyEach: true))
        let out = r.graph
        let lines = r.reports.flatMap(\.lines)
        XCTAssertEqual(count(out, "batchnorm"), 0, "\(lines)")
        XCTAssertEqual(count(out, "fused_cbam"), 16, "\(lines)")
        XCTAssertEqual(count(out, "relu"), 0, "every relu fused into a conv or a cbam block")
        XCTAssertEqual(count(out, "add"), 0, "every residual add fused")
        for op in ["sigmoid", "mul", "channel_mean", "channel_max", "concat", "global_maxpool"] {
            XCTAssertEqual(count(out, op), 0, "\(op) left after fusion")
        }
        XCTAssertEqual(count(out, "global_avgpool"), 1, "only the head's pool is left")
        // 53 backbone convs remain (CBAM's 5 convs per block are inside cbam); 16 of them pool.
        XCTAssertEqual(count(out, "conv2d"), convs - 16 * 5)
        XCTAssertEqual(out.nodes.filter { $0.op == "conv2d" && $0.attributes.string("pool") == "avgmax" }.count, 16)
        XCTAssertTrue(lines.contains("fold-batchnorm: folded 53 batchnorms into convs"), "\(lines)")
        XCTAssertTrue(lines.contains { $0.hasPrefix("fuse-cbam: fused 16 CBAM blocks (16 with pooling in the producing conv") }, "\(lines)")
        // Layout: blocked from the stem's pool to the head, two conversions.
        XCTAssertEqual(count(out, "reorder"), 2, "\(lines)")
        // The arena that runs (planned on the kernel plan) reuses memory.
        var zeros: [String: Tensor] = [:]
        for v in out.weights { if let n = out[v].weightName, let s = out.type(of: v).fixedShape { zeros[n] = Tensor(zeros: s) } }
        let plan = try KernelPlan(graph: out, weights: zeros, target: try TargetDescription.named("x86-64-avx2"))
        XCTAssertLessThan(plan.arenaBytesPerSample * 4, plan.naiveBytesPerSample)
        if ProcessInfo.processInfo.environment["QEMLC_SHOW"] == "1" { print(QIR.print(out)) }
    }

    func testEveryDumpOfTheEdgeModelParsesBack() throws {
        let r = try PassManager().run(try load("qemlnet-edge.qir"), options: PassOptions(printAfterAll: true))
        for report in r.reports {
            guard let g = report.graphAfter else { continue }
            let text = QIR.print(g)
            let reparsed = try QIR.parse(text, file: "after-\(report.name).qir")
            XCTAssertEqual(QIR.print(reparsed), text, "the dump after \(report.name) does not round-trip")
        }
        if ProcessInfo.processInfo.environment["QEMLC_SHOW"] == "1" { print(PassManager.timingTable(r.reports)) }
    }

    func testPaperModelFusesLikeTheEdgeModel() throws {
        let r = try PassManager().run(try load("qemlnet-paper.qir"), options: PassOptions(verifyEach: true))
        XCTAssertEqual(count(r.graph, "fused_cbam"), 16)
        for op in ["batchnorm", "relu", "add", "mul", "sigmoid"] { XCTAssertEqual(count(r.graph, op), 0, op) }
        XCTAssertEqual(count(r.graph, "reorder"), 2)
        if ProcessInfo.processInfo.environment["QEMLC_SHOW"] == "1" { r.graph.notes.forEach { print($0) } }
    }

    func testTinyModelKeepsItsMeaningThroughThePipeline() throws {
        let g = try load("qemlnet-tiny.qir")
        var rng = SeededRandom(state: 42)
        var variances = Set<ValueID>()
        for n in g.nodes where n.op == "batchnorm" { if let v = n.operand(4) { variances.insert(v) } }
        var weights: [String: Tensor] = [:]
        for w in g.weights {
            let shape = g.type(of: w).fixedShape ?? [1]
            let range: ClosedRange<Float> = variances.contains(w) ? 0.5...1.5 : -0.3...0.3
            weights[g[w].name] = Tensor(shape: shape, data: (0..<shape.reduce(1, *)).map { _ in Float.random(in: range, using: &rng) })
        }
        var inputs: [String: Tensor] = [:]
        for i in g.inputs {
            let shape = g.type(of: i).shape(binding: ["N": 1]) ?? [1]
            inputs[g[i].name] = Tensor(shape: shape, data: (0..<shape.reduce(1, *)).map { _ in Float.random(in: -1...1, using: &rng) })
        }
        let before = try Interpreter(graph: g, weights: weights).run(inputs: inputs)
        let r = try PassManager().run(g, options: PassOptions(verifyEach: true))
        let after = try Interpreter(graph: r.graph, weights: weights).run(inputs: inputs)
        XCTAssertGreaterThan(count(r.graph, "fused_cbam"), 0)
        for (o0, o1) in zip(g.outputs, r.graph.outputs) {
            let a = try XCTUnwrap(after[o1]), b = try XCTUnwrap(before[o0])
            let worst = Agreement.relative(a.data, b.data, floor: 1)
            XCTAssertLessThanOrEqual(worst, 1e-5, "output %\(g[o0].name)")
        }
    }
}
