import XCTest
import QEMLCodegen
import QEMLIR
import QEMLTensor
@testable import QEMLPasses
@testable import QEMLRuntime

final class LayoutTests: XCTestCase {
    /// stem conv (1 channel in) → maxpool → conv → conv + residual → global pool → flatten → dense.
    func network() throws -> Graph {
        var b = GraphBuilder()
        let x = b.input("x", [1, 1, 16, 16])
        let s = b.conv(x, "stem", out: 16, extra: [("activation", .string("relu"))])
        let p = b.v("maxpool2d", [.v(s)], [("kernel", .ints([3, 3])), ("stride", .ints([2, 2])), ("padding", .ints([1, 1]))])
        let c1 = b.conv(p, "c1", out: 16, extra: [("activation", .string("relu"))])
        let c2 = b.v("conv2d", [.v(c1), .w("c2"), .none, .none, .none, .none, .none, .v(p)],
                     [("out", .int(16)), ("kernel", .ints([3, 3])), ("padding", .ints([1, 1])), ("activation", .string("relu"))])
        let gp = b.v("global_avgpool", [.v(c2)])
        b.output(b.v("dense", [.v(b.v("flatten", [.v(gp)])), .w("fc.weight"), .none], [("out", .int(4))], name: "logits"))
        return b.g
    }

    func testBlockedRegionHasTwoConversions() throws {
        let (g, ctx) = try apply(LayoutPass(), try network(), vectorWidth: 8)
        XCTAssertEqual(g.nodes.map(\.op), ["reorder", "conv2d", "maxpool2d", "conv2d", "conv2d", "global_avgpool", "reorder", "flatten", "dense"])
        XCTAssertEqual(g.nodes.map { $0.attributes.string("layout") ?? "-" },
                       ["-", "nchw8c", "nchw8c", "nchw8c", "nchw8c", "nchw8c", "-", "-", "-"])
        XCTAssertEqual(g.nodes[0].attributes.string("to"), "nchw8c")
        XCTAssertEqual(g.nodes[6].attributes.string("to"), "nchw")
        XCTAssertEqual(ctx.messages, ["nchw8c on 5 ops, 2 layout conversions (reorder)"])
        XCTAssertEqual(g.notes, ["layout: nchw8c on 5 ops, 2 layout conversions (reorder)"])
        XCTAssertEqual(Layout.of(g.nodes[4].results[0], in: g), "nchw8c")
    }

    func testRunningTwiceChangesNothing() throws {
        let (once, _) = try apply(LayoutPass(), try network())
        let (twice, ctx) = try apply(LayoutPass(), once)
        XCTAssertEqual(twice, once)
        XCTAssertEqual(ctx.messages, ["already laid out, unchanged"])
    }

    func testChannelsArePaddedToWholeBlocks() throws {
        let (g, _) = try apply(LayoutPass(), try network(), vectorWidth: 32)
        XCTAssertEqual(g.nodes.filter { $0.op == "reorder" }.count, 2)
        let stem = g.nodes[1].results[0]
        XCTAssertEqual(Layout.of(stem, in: g), "nchw32c")
        XCTAssertEqual(Layout.physicalElements(stem, in: g, batch: 1), 32 * 16 * 16, "16 channels padded to 32")
        XCTAssertEqual(Layout.physicalElements(g.nodes[0].results[0], in: g, batch: 1), 32 * 16 * 16, "1 input channel padded to 32")
    }

    func testUnfusedCBAMStaysBlockedThroughout() throws {
        // Channel mean/max, concat and the attention products run blocked too: no conversions inside.
        var b = GraphBuilder()
        let x = b.input("x", [1, 16, 6, 6])
        var extra: [ValueID] = []
        b.output(b.cbam(b.conv(x, "w", out: 16), channels: 16, hidden: 4, prefix: "cbam", residual: x, extraOutputs: &extra))
        let (g, ctx) = try apply(LayoutPass(), b.g)
        XCTAssertEqual(g.nodes.filter { $0.op == "reorder" }.count, 2, "\(ctx.messages)")
        XCTAssertEqual(g.nodes.first?.op, "reorder")
        XCTAssertEqual(g.nodes.last?.op, "reorder")
    }

    func testBlockedGraphOutputKeepsItsName() throws {
        var b = GraphBuilder()
        let x = b.input("x", [1, 8, 4, 4])
        b.output(b.conv(x, "w", out: 8, name: "y"))
        let (g, _) = try apply(LayoutPass(), b.g)
        XCTAssertEqual(g.nodes.map(\.op), ["reorder", "conv2d", "reorder"])
        XCTAssertEqual(g[g.outputs[0]].name, "y")
        XCTAssertEqual(g.nodes[2].results, g.outputs)
    }

    func testVectorWidthOneChangesNothing() throws {
        let before = try network()
        XCTAssertEqual(try apply(LayoutPass(), before, vectorWidth: 1).0.nodes, before.nodes)
    }

    func testLayoutNames() {
        XCTAssertEqual(Layout.blockSize(of: "nchw"), 1)
        XCTAssertEqual(Layout.blockSize(of: "nchw16c"), 16)
        XCTAssertNil(Layout.blockSize(of: "nhwc"))
        XCTAssertNil(Layout.blockSize(of: "nchwc"))
    }
}

/// `plan-memory` (`ArenaLayout`) on kernel plans: the one memory planner, whose arena runs.
final class PlanMemoryTests: XCTestCase {
    func plan(_ g: Graph) throws -> KernelPlan {
        let target = try TargetDescription.named("x86-64-avx2")
        let passes = try PassManager().run(g, context: PassContext(vectorWidth: target.vectorWidth))
        var zeros: [String: Tensor] = [:]
        for v in passes.graph.weights {
            if let name = passes.graph[v].weightName, let shape = passes.graph.type(of: v).fixedShape { zeros[name] = Tensor(zeros: shape) }
        }
        return try KernelPlan(graph: passes.graph, weights: zeros, target: target)
    }

    /// Slots whose lifetimes overlap must not share floats; every offset is 64-byte aligned.
    func assertSound(_ p: KernelPlan, file: StaticString = #filePath, line: UInt = #line) {
        let l = p.layout
        for a in p.slots.indices where l.last[a] >= l.first[a] {
            XCTAssertEqual(l.offsets[a] % ArenaLayout.alignment, 0, file: file, line: line)
            XCTAssertLessThanOrEqual(l.offsets[a] + p.slots[a].floatsPerSample, l.floatsPerSample, file: file, line: line)
            for b in p.slots.indices where a < b && l.last[b] >= l.first[b] {
                let live = l.first[a] <= l.last[b] && l.first[b] <= l.last[a]
                let overlap = l.offsets[a] < l.offsets[b] + p.slots[b].floatsPerSample && l.offsets[b] < l.offsets[a] + p.slots[a].floatsPerSample
                XCTAssertFalse(live && overlap, "slots \(a) and \(b) overlap while both live", file: file, line: line)
            }
        }
    }

    func testChainReusesBuffers() throws {
        var b = GraphBuilder()
        var v = b.input("x", [1, 8, 8, 8])
        for i in 0..<6 { v = b.v("relu", [.v(v)], name: "r\(i)") }
        b.output(v)
        let p = try plan(b.g)
        assertSound(p)
        XCTAssertEqual(p.naiveBytesPerSample, 7 * 8 * 8 * 8 * 4, "the input and six results")
        XCTAssertEqual(p.arenaBytesPerSample, 2 * 8 * 8 * 8 * 4, "a chain needs two buffers in turn")
    }

    func testBlockedValuesArePaddedAndSizesAligned() throws {
        var b = GraphBuilder()
        let x = b.g.addInput("x", TensorType([.symbolic("N"), .fixed(12), .fixed(1), .fixed(5)]))
        b.output(b.v("relu", [.v(x)], name: "y"))
        let p = try plan(b.g)
        XCTAssertEqual(p.slots.map(\.floatsPerSample), [80, 80], "12 channels padded to 16, × 1 × 5")
        XCTAssertEqual(p.layout.offsets, [0, 80])
    }

    func testRandomGraphsArePlannedSoundly() throws {
        var rng = SystemRandomNumberGenerator()
        for _ in 0..<20 {
            var b = GraphBuilder()
            var vals = [b.input("x", [1, 4, 5, 5])]
            for i in 0..<30 {
                let a = vals.randomElement(using: &rng)!, c = vals.randomElement(using: &rng)!
                vals.append(Bool.random(using: &rng) ? b.v("add", [.v(a), .v(c)], name: "n\(i)") : b.v("relu", [.v(a)], name: "n\(i)"))
            }
            b.output(vals.last!)
            b.output(vals[vals.count / 2])
            let p = try plan(b.g)
            assertSound(p)
            XCTAssertLessThanOrEqual(p.arenaBytesPerSample, p.naiveBytesPerSample)
        }
    }
}
