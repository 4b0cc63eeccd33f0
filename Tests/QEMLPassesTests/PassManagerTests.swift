import XCTest
import QEMLIR
@testable import QEMLPasses

/// A pass that breaks the graph (reads a value before it is defined), to test verify-each.
struct BreakingPass: Pass {
    var name: String { "break" }
    var summary: String { "swap the first two nodes" }
    func run(_ g: Graph, _ ctx: PassContext) throws -> Graph {
        var out = g
        out.nodes.swapAt(0, 1)
        return out
    }
}

final class PassManagerTests: XCTestCase {
    func tinyGraph() -> Graph {
        var b = GraphBuilder()
        let x = b.input("x", [1, 1, 8, 8])
        let c = b.bn(b.conv(x, "conv1.weight", out: 8), "bn1")
        let r = b.v("relu", [.v(c)])
        let p = b.v("global_avgpool", [.v(r)])
        b.output(b.v("flatten", [.v(p)], name: "features"))
        return b.g
    }

    func testPipelineNames() {
        XCTAssertEqual(PassManager().passNames,
                       ["verify", "fold-batchnorm", "fuse-conv-epilogue", "fuse-cbam", "quantize", "fuse-quantum", "layout"])
        for e in Pipeline.entries { if let p = e.pass { XCTAssertEqual(p.name, e.name) } }
    }

    func testFullPipelineReportsEveryPass() throws {
        let r = try PassManager().run(tinyGraph(), options: PassOptions(verifyEach: true))
        XCTAssertEqual(r.reports.map(\.name), PassManager().passNames)
        XCTAssertEqual(r.graph.nodes.map(\.op), ["reorder", "conv2d", "global_avgpool", "reorder", "flatten"])
        let lines = r.reports.flatMap(\.lines)
        XCTAssertTrue(lines.contains("fold-batchnorm: folded 1 batchnorm into convs"), "\(lines)")
        XCTAssertTrue(lines.contains("fuse-conv-epilogue: fused 1 relu into convs"), "\(lines)")
        XCTAssertTrue(lines.contains("fuse-cbam: no changes"), "\(lines)")
        if PassManager().entries.first(where: { $0.name == "fuse-quantum" })?.pass == nil {
            XCTAssertTrue(lines.contains("fuse-quantum: not available in this build, skipped"), "\(lines)")
        }
        // Memory is planned on the kernel plan, not the graph.
        XCTAssertFalse(r.graph.notes.contains { $0.hasPrefix("plan-memory") }, "\(r.graph.notes)")
    }

    func testUntilStopsAfterThatPass() throws {
        let r = try PassManager().run(tinyGraph(), until: "fold-batchnorm")
        XCTAssertEqual(r.reports.map(\.name), ["verify", "fold-batchnorm"])
        XCTAssertEqual(r.graph.nodes.map(\.op), ["conv2d", "relu", "global_avgpool", "flatten"])
    }

    func testStopAfterN() throws {
        let r = try PassManager().run(tinyGraph(), options: PassOptions(stopAfter: 3))
        XCTAssertEqual(r.reports.map(\.name), ["verify", "fold-batchnorm", "fuse-conv-epilogue"])
        XCTAssertThrowsError(try PassManager().run(tinyGraph(), options: PassOptions(stopAfter: -1))) {
            XCTAssertEqual("\($0)", "--stop-after must be a non-negative number of passes, got -1")
        }
    }

    func testUnknownPassNamesTheValidOnes() {
        let valid = "verify, fold-batchnorm, fuse-conv-epilogue, fuse-cbam, quantize, fuse-quantum, layout"
        XCTAssertThrowsError(try PassManager().run(tinyGraph(), until: "fuse-bn")) {
            XCTAssertEqual("\($0)", "unknown pass 'fuse-bn'; the passes are: " + valid)
        }
        XCTAssertThrowsError(try PassManager().run(tinyGraph(), options: PassOptions(printAfter: ["cse"]))) {
            XCTAssertEqual("\($0)", "unknown pass 'cse'; the passes are: " + valid)
        }
    }

    func testPrintAfterKeepsOnlyThoseGraphs() throws {
        let r = try PassManager().run(tinyGraph(), options: PassOptions(printAfter: ["fold-batchnorm"]))
        XCTAssertEqual(r.reports.filter { $0.graphAfter != nil }.map(\.name), ["fold-batchnorm"])
        let all = try PassManager().run(tinyGraph(), options: PassOptions(printAfterAll: true))
        XCTAssertEqual(all.reports.filter { $0.graphAfter != nil }.count, all.reports.filter { !$0.skipped }.count)
    }

    func testVerifyEachNamesTheBreakingPass() {
        let pm = PassManager(entries: [Pipeline.entries[0], Pipeline.Entry("break", why: "test", BreakingPass())])
        XCTAssertThrowsError(try pm.run(tinyGraph(), options: PassOptions(verifyEach: true))) { error in
            let text = "\(error)"
            XCTAssertTrue(text.hasPrefix("the graph is invalid after pass 'break':\n"), text)
            XCTAssertTrue(text.contains("batchnorm defining %batchnorm2: operand %conv2d1 is used before it is defined"), text)
        }
        XCTAssertNoThrow(try pm.run(tinyGraph(), options: PassOptions(verifyEach: false)))
    }

    func testTimingTableHasARowPerPass() throws {
        let r = try PassManager().run(tinyGraph())
        let table = PassManager.timingTable(r.reports)
        XCTAssertEqual(table.split(separator: "\n").count, 2 + r.reports.filter { !$0.skipped }.count)
        XCTAssertTrue(table.contains("fold-batchnorm"))
    }

    func testFusedOpsAreBuiltIn() {
        XCTAssertEqual(OpRegistry.all.filter { $0.name == "fused_cbam" }.count, 1)
        XCTAssertEqual(OpRegistry.decl("conv2d")?.attributes.filter { $0.name == "layout" }.count, 1)
    }
}
