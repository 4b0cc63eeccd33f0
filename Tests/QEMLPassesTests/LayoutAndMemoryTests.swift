import XCTest
import QEMLIR
@testable import QEMLPasses

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

final class PlanMemoryTests: XCTestCase {
    /// Buffers whose lifetimes overlap must not share bytes; every offset is aligned.
    func assertSound(_ plan: MemoryPlan, file: StaticString = #filePath, line: UInt = #line) {
        for a in plan.buffers {
            XCTAssertEqual(a.offset % plan.alignment, 0, file: file, line: line)
            XCTAssertLessThanOrEqual(a.offset + a.bytes, plan.arenaBytes, file: file, line: line)
            for b in plan.buffers where a.value < b.value {
                let live = a.firstNode <= b.lastNode && b.firstNode <= a.lastNode
                let overlap = a.offset < b.offset + b.bytes && b.offset < a.offset + a.bytes
                XCTAssertFalse(live && overlap, "\(a) and \(b) overlap while both live", file: file, line: line)
            }
        }
    }

    func testChainReusesBuffers() throws {
        var b = GraphBuilder()
        var v = b.input("x", [1, 8, 8, 8])
        for i in 0..<6 { v = b.v("relu", [.v(v)], name: "r\(i)") }
        b.output(v)
        let (g, ctx) = try apply(PlanMemory(), b.g)
        let plan = try XCTUnwrap(ctx.memoryPlan)
        assertSound(plan)
        XCTAssertEqual(plan.naiveBytes, 6 * 8 * 8 * 8 * 4)
        XCTAssertEqual(plan.arenaBytes, 2 * 8 * 8 * 8 * 4, "a chain needs two buffers in turn")
        XCTAssertEqual(g.notes, ["plan-memory: arena 4.0 KiB (naive 12.0 KiB, 3.0× smaller), 6 buffers, batch 1"])
        XCTAssertEqual(plan.offset(of: g.outputs[0]).map { $0 % 64 }, 0)
    }

    func testBlockedValuesArePaddedAndSizesAligned() throws {
        var b = GraphBuilder()
        let x = b.g.addInput("x", TensorType([.symbolic("N"), .fixed(12), .fixed(1), .fixed(5)]))
        b.output(b.v("relu", [.v(x)], name: "y"))
        var g = b.g
        XCTAssertEqual(MemoryPlan(g, batch: 2).buffers.map(\.bytes), [512], "2 × 12 × 5 floats = 480 bytes, aligned to 512")
        g.nodes[0].attributes["layout"] = .string("nchw8c")
        XCTAssertEqual(Layout.physicalElements(g.outputs[0], in: g, batch: 2), 2 * 16 * 5, "12 channels padded to 16")
        XCTAssertEqual(MemoryPlan(g, batch: 2).buffers.map(\.bytes), [640])
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
            let plan = MemoryPlan(b.g)
            assertSound(plan)
            XCTAssertLessThanOrEqual(plan.arenaBytes, plan.naiveBytes)
        }
    }
}
