import XCTest
import QEMLIR
@testable import QEMLPasses

final class FuseCBAMTests: XCTestCase {
    /// x → conv (+BN) → CBAM → + x → relu, as in a bottleneck's tail.
    func block(_ o: CBAMVariant = CBAMVariant(), convProducer: Bool = true) -> Graph {
        var b = GraphBuilder()
        let x = b.input("x", [1, 16, 6, 6])
        let y = convProducer ? b.bn(b.conv(x, "conv3.weight", out: 16, k: 1, pad: 0), "bn3", name: "y") : b.v("sigmoid", [.v(x)], name: "y")
        var extra: [ValueID] = []
        b.output(b.cbam(y, channels: 16, hidden: 4, prefix: "cbam", residual: x, o, extraOutputs: &extra))
        extra.forEach { b.output($0) }
        return b.g
    }

    func fused(_ g: Graph) throws -> (Graph, PassContext) {
        let folded = try apply(FuseConvEpilogue(), try apply(FoldBatchNorm(), g).0).0
        return try apply(FuseCBAM(), folded)
    }

    func testBlockFusesIntoPoolingConvAndOneCBAMOp() throws {
        let (g, ctx) = try fused(block())
        XCTAssertEqual(g.nodes.map(\.op), ["conv2d", "fused_cbam"])
        let conv = g.nodes[0], cbam = g.nodes[1]
        XCTAssertEqual(conv.attributes.string("pool"), "avgmax")
        XCTAssertEqual(conv.results.count, 3)
        XCTAssertEqual(Array(cbam.operands[0...2]), conv.results.map { Optional($0) })
        XCTAssertEqual(cbam.operand(named: "fc1").map { g[$0].name }, "cbam.ca.fc1.weight")
        XCTAssertEqual(cbam.operand(named: "fc2").map { g[$0].name }, "cbam.ca.fc2.weight")
        XCTAssertEqual(cbam.operand(named: "spatial").map { g[$0].name }, "cbam.sa.weight")
        XCTAssertEqual(cbam.operand(named: "residual"), g.inputs[0])
        XCTAssertEqual(cbam.attributes.int("hidden"), 4)
        XCTAssertEqual(cbam.attributes.int("kernel"), 7)
        XCTAssertEqual(cbam.attributes.string("activation"), "relu")
        XCTAssertEqual(ctx.messages, ["fused 1 CBAM block (1 with pooling in the producing conv, 1 with the residual add)"])
    }

    func testVariantsThatAreStillCBAM() throws {
        let variants: [(String, CBAMVariant)] = [
            ("fused activations", CBAMVariant(reluInFC1: true, sigmoidInSpatial: true)),
            ("swapped operands", CBAMVariant(swapOperands: true)),
            ("no residual", CBAMVariant(residual: false)),
            ("no residual, no relu", CBAMVariant(residual: false, relu: false)),
            ("residual without relu", CBAMVariant(relu: false)),
        ]
        for (what, v) in variants {
            let (g, _) = try fused(block(v))
            XCTAssertEqual(g.nodes.map(\.op), ["conv2d", "fused_cbam"], what)
            let cbam = g.nodes[1]
            XCTAssertEqual(cbam.operand(named: "residual") != nil, v.residual, what)
            XCTAssertEqual(cbam.attributes.string("activation"), v.relu ? "relu" : "none", what)
        }
    }

    func testPoolsStayWhenTheProducerIsNotAConv() throws {
        let (g, _) = try fused(block(convProducer: false))
        XCTAssertEqual(g.nodes.map(\.op), ["sigmoid", "global_avgpool", "global_maxpool", "fused_cbam"])
        XCTAssertEqual(g.nodes[3].operand(named: "avg"), g.nodes[1].results[0])
        XCTAssertEqual(g.nodes[3].operand(named: "max"), g.nodes[2].results[0])
    }

    func testBrokenPatternsAreNotFused() throws {
        let broken: [(String, CBAMVariant)] = [
            ("missing max branch", CBAMVariant(maxBranch: false)),
            ("unshared MLP weights", CBAMVariant(sharedFC: false)),
            ("concat [max, mean]", CBAMVariant(concatMaxFirst: true)),
            ("channel-scaled value used elsewhere", CBAMVariant(extraUserOfScaled: true)),
        ]
        for (what, v) in broken {
            let before = try apply(FuseConvEpilogue(), try apply(FoldBatchNorm(), block(v)).0).0
            let (g, ctx) = try apply(FuseCBAM(), before)
            XCTAssertFalse(g.nodes.contains { $0.op == "fused_cbam" }, what)
            XCTAssertEqual(g, before, what)
            XCTAssertEqual(ctx.rewrites, 0, what)
        }
    }

    func testTwoBlocksInARowBothFuse() throws {
        var b = GraphBuilder()
        let x = b.input("x", [1, 8, 5, 5])
        var extra: [ValueID] = []
        let y1 = b.cbam(b.conv(x, "a.weight", out: 8), channels: 8, hidden: 2, prefix: "a", residual: x, extraOutputs: &extra)
        let y2 = b.cbam(b.conv(y1, "b.weight", out: 8), channels: 8, hidden: 2, prefix: "b", residual: y1, extraOutputs: &extra)
        b.output(y2)
        let (g, ctx) = try apply(FuseCBAM(), b.g)
        XCTAssertEqual(g.nodes.map(\.op), ["conv2d", "fused_cbam", "conv2d", "fused_cbam"])
        XCTAssertEqual(ctx.rewrites, 2)
    }
}
