import XCTest
import QEMLIR
@testable import QEMLPasses

func apply(_ pass: any Pass, _ g: Graph, vectorWidth: Int = 8) throws -> (Graph, PassContext) {
    let ctx = PassContext(vectorWidth: vectorWidth)
    let out = try pass.run(g, ctx)
    let problems = GraphChecks.problems(in: out)
    XCTAssertEqual(problems, [], "invalid graph after \(pass.name)")
    return (out, ctx)
}

final class FoldBatchNormTests: XCTestCase {
    func testConvThenBatchNormFolds() throws {
        var b = GraphBuilder()
        let x = b.input("x", [1, 3, 8, 8])
        let c = b.conv(x, "conv.weight", out: 4, bias: "conv.bias")
        let y = b.bn(c, "bn", name: "y")
        b.output(b.v("relu", [.v(y)]))
        let (g, ctx) = try apply(FoldBatchNorm(), b.g)
        XCTAssertEqual(g.nodes.map(\.op), ["conv2d", "relu"])
        let conv = g.nodes[0]
        XCTAssertEqual(conv.operand(named: "bn_weight").map { g[$0].name }, "bn.weight")
        XCTAssertEqual(conv.operand(named: "bn_var").map { g[$0].name }, "bn.running_var")
        XCTAssertEqual(conv.operand(named: "bias").map { g[$0].name }, "conv.bias")
        XCTAssertEqual(conv.attributes.double("eps"), 1e-5)
        XCTAssertEqual(g[conv.results[0]].name, "y", "the fused conv defines the batchnorm's value")
        XCTAssertEqual(ctx.rewrites, 1)
        XCTAssertEqual(ctx.messages, ["folded 1 batchnorm into convs"])
    }

    func testEpsIsCopied() throws {
        var b = GraphBuilder()
        let x = b.input("x", [1, 3, 8, 8])
        let c = b.conv(x, "w", out: 4)
        let y = b.v("batchnorm", [.v(c), .w("g"), .w("b"), .w("m"), .w("v")], [("eps", .float(1e-3))])
        b.output(y)
        let (g, _) = try apply(FoldBatchNorm(), b.g)
        XCTAssertEqual(g.nodes.map(\.op), ["conv2d"])
        XCTAssertEqual(g.nodes[0].attributes.double("eps"), 1e-3)
    }

    func testConvWithTwoUsersIsNotFolded() throws {
        var b = GraphBuilder()
        let x = b.input("x", [1, 3, 8, 8])
        let c = b.conv(x, "w", out: 4)
        b.output(b.bn(c, "bn"))
        b.output(b.v("relu", [.v(c)]))
        let (g, ctx) = try apply(FoldBatchNorm(), b.g)
        XCTAssertEqual(g.nodes.map(\.op), ["conv2d", "batchnorm", "relu"])
        XCTAssertEqual(ctx.rewrites, 0)
    }

    func testConvThatIsAGraphOutputIsNotFolded() throws {
        var b = GraphBuilder()
        let x = b.input("x", [1, 3, 8, 8])
        let c = b.conv(x, "w", out: 4)
        b.output(b.bn(c, "bn"))
        b.output(c)
        XCTAssertEqual(try apply(FoldBatchNorm(), b.g).0.nodes.map(\.op), ["conv2d", "batchnorm"])
    }

    func testBatchNormAfterActivationOrNonConvIsNotFolded() throws {
        var b = GraphBuilder()
        let x = b.input("x", [1, 3, 8, 8])
        let c = b.conv(x, "w", out: 4, extra: [("activation", .string("relu"))])
        let y = b.bn(c, "bn1")
        b.output(b.bn(b.v("sigmoid", [.v(y)]), "bn2"))
        XCTAssertEqual(try apply(FoldBatchNorm(), b.g).0.nodes.map(\.op), ["conv2d", "batchnorm", "sigmoid", "batchnorm"])
    }
}

final class FuseConvEpilogueTests: XCTestCase {
    /// x → conv → bn → (+ shortcut) → relu, the ResNet tail.
    func testResidualAddAndReluFuseInEitherOrder() throws {
        for swapped in [false, true] {
            var b = GraphBuilder()
            let x = b.input("x", [1, 4, 6, 6])
            let c = b.conv(x, "w", out: 4)
            let s = swapped ? b.v("add", [.v(x), .v(c)]) : b.v("add", [.v(c), .v(x)])
            b.output(b.v("relu", [.v(s)], name: "out"))
            let (g, ctx) = try apply(FuseConvEpilogue(), b.g)
            XCTAssertEqual(g.nodes.map(\.op), ["conv2d"])
            XCTAssertEqual(g.nodes[0].operand(named: "residual"), g.inputs[0])
            XCTAssertEqual(g.nodes[0].attributes.string("activation"), "relu")
            XCTAssertEqual(g[g.outputs[0]].name, "out")
            XCTAssertEqual(ctx.messages, ["fused 1 residual add + relu into convs"])
        }
    }

    func testResidualComputedAfterTheConvIsLegal() throws {
        // add(conv_a(x), conv_b(x)) → relu: conv_a's residual (conv_b's output) is computed later;
        // the later conv takes the epilogue, so nothing has to move.
        var b = GraphBuilder()
        let x = b.input("x", [1, 4, 6, 6])
        let a = b.conv(x, "wa", out: 4, name: "a")
        let d = b.conv(x, "wd", out: 4, k: 1, pad: 0, name: "d")
        b.output(b.v("relu", [.v(b.v("add", [.v(a), .v(d)]))]))
        let (g, _) = try apply(FuseConvEpilogue(), b.g)
        XCTAssertEqual(g.nodes.map(\.op), ["conv2d", "conv2d"])
        XCTAssertEqual(g.nodes[1].operand(named: "residual").map { g[$0].name }, "a")
        XCTAssertEqual(g.nodes[1].ints("kernel"), [1, 1])
    }

    func testPlainReluFuses() throws {
        var b = GraphBuilder()
        let x = b.input("x", [1, 3, 6, 6])
        b.output(b.v("relu", [.v(b.conv(x, "w", out: 4))]))
        let (g, ctx) = try apply(FuseConvEpilogue(), b.g)
        XCTAssertEqual(g.nodes.map(\.op), ["conv2d"])
        XCTAssertEqual(g.nodes[0].attributes.string("activation"), "relu")
        XCTAssertEqual(ctx.messages, ["fused 1 relu into convs"])
    }

    func testReluBeforeAddFusesOnlyTheRelu() throws {
        var b = GraphBuilder()
        let x = b.input("x", [1, 4, 6, 6])
        let r = b.v("relu", [.v(b.conv(x, "w", out: 4))])
        b.output(b.v("add", [.v(r), .v(x)]))
        let (g, _) = try apply(FuseConvEpilogue(), b.g)
        XCTAssertEqual(g.nodes.map(\.op), ["conv2d", "add"])
        XCTAssertNil(g.nodes[0].operand(named: "residual"))
    }

    func testAddWithoutReluIsLeftAlone() throws {
        var b = GraphBuilder()
        let x = b.input("x", [1, 4, 6, 6])
        b.output(b.v("add", [.v(b.conv(x, "w", out: 4)), .v(x)]))
        XCTAssertEqual(try apply(FuseConvEpilogue(), b.g).0.nodes.map(\.op), ["conv2d", "add"])
    }

    func testBroadcastResidualIsNotFused() throws {
        var b = GraphBuilder()
        let x = b.input("x", [1, 4, 6, 6])
        let bias = b.input("channel_bias", [1, 4, 1, 1])
        b.output(b.v("relu", [.v(b.v("add", [.v(b.conv(x, "w", out: 4)), .v(bias)]))]))
        XCTAssertEqual(try apply(FuseConvEpilogue(), b.g).0.nodes.map(\.op), ["conv2d", "add", "relu"])
    }

    func testConvWithAnotherUserOrSelfAddIsNotFused() throws {
        var b = GraphBuilder()
        let x = b.input("x", [1, 4, 6, 6])
        let c = b.conv(x, "w", out: 4)
        b.output(b.v("relu", [.v(b.v("add", [.v(c), .v(x)]))]))
        b.output(c)
        let c2 = b.conv(x, "w2", out: 4)
        b.output(b.v("relu", [.v(b.v("add", [.v(c2), .v(c2)]))]))
        XCTAssertEqual(try apply(FuseConvEpilogue(), b.g).0.nodes.map(\.op), ["conv2d", "add", "relu", "conv2d", "add", "relu"])
    }

    func testSumWithAnotherUserKeepsTheAdd() throws {
        var b = GraphBuilder()
        let x = b.input("x", [1, 4, 6, 6])
        let s = b.v("add", [.v(b.conv(x, "w", out: 4)), .v(x)])
        b.output(b.v("relu", [.v(s)]))
        b.output(s)
        XCTAssertEqual(try apply(FuseConvEpilogue(), b.g).0.nodes.map(\.op), ["conv2d", "add", "relu"])
    }
}
