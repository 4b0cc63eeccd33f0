import XCTest
@testable import QEMLIR

/// `qemlc check`'s totals against an independent count: `scripts/count_params_flops.py`
/// recomputes parameters and FLOPs from the architecture description with plain arithmetic
/// (same FLOP conventions as the op declarations). The numbers below are what it printed.
final class CountTests: XCTestCase {
    func totals(_ name: String) throws -> (Int, Int) {
        let r = QIR.report(try QIR.load(path: Repo.path("examples/\(name).qir")))
        return (r.totalParameters, r.totalFlops)
    }

    func testEdgeTotalsMatchIndependentCount() throws {
        // python3 scripts/count_params_flops.py edge
        // edge: parameters 26079700 (26.080 M), FLOPs per sample 670736956 (0.6707 GFLOP)
        let (p, f) = try totals("qemlnet-edge")
        XCTAssertEqual(p, 26_079_700)
        XCTAssertEqual(f, 670_736_956)
    }

    func testPaperAndTinyTotalsMatchIndependentCount() throws {
        // paper: parameters 26085972 (26.086 M), FLOPs per sample 8259584372 (8.2596 GFLOP)
        let (pp, pf) = try totals("qemlnet-paper")
        XCTAssertEqual(pp, 26_085_972)
        XCTAssertEqual(pf, 8_259_584_372)
        // tiny: parameters 14460 (0.014 M), FLOPs per sample 612200 (0.0006 GFLOP)
        let (tp, tf) = try totals("qemlnet-tiny")
        XCTAssertEqual(tp, 14_460)
        XCTAssertEqual(tf, 612_200)
    }

    /// A second, outside reference: torchvision's ResNet-50 has 25,557,032 parameters (its
    /// documented figure, weights and biases). The paper model is that backbone without the
    /// 1000-class fc, plus BatchNorm running statistics (state_dict buffers), CBAM and the heads.
    func testPaperParametersFromTorchvisionFigure() throws {
        let torchvisionResNet50 = 25_557_032
        let fc1000 = 2048 * 1000 + 1000
        let widths = [64, 128, 256, 512], blocks = [3, 4, 6, 3]
        var bnChannels = 64, cbam = 0
        for (w, n) in zip(widths, blocks) {
            bnChannels += n * 6 * w + 4 * w                   // bn1..bn3 per block, downsample.1 once
            cbam += n * ((4 * w) * (4 * w) / 8 + 2 * 49)     // fc1 + fc2 (C²/16 each), spatial 7×7 conv
        }
        let heads = (4 * 2048 + 4) + 6 * 4 * 3 + (8 * 4 + 8)
        let expected = torchvisionResNet50 - fc1000 + 2 * bnChannels + cbam + heads
        XCTAssertEqual(try totals("qemlnet-paper").0, expected)
        // The edge model differs only in the stem's input channels (1 instead of 3).
        XCTAssertEqual(try totals("qemlnet-edge").0, expected - 64 * 2 * 49)
    }

    func testReportRowsAndTable() throws {
        let g = try QIR.load(path: Repo.path("examples/qemlnet-edge.qir"))
        let r = QIR.report(g)
        XCTAssertEqual(r.rows.count, g.nodes.count)
        let first = r.rows[0]
        XCTAssertEqual(first.name, "conv1")
        XCTAssertEqual(first.op, "conv2d")
        XCTAssertEqual(first.outputs.map(\.description), ["f32[1,64,32,32]"])
        XCTAssertEqual(first.parameters, 64 * 49)
        XCTAssertEqual(first.flops, 2 * 64 * 32 * 32 * 49)
        // The shared CBAM MLP weights count once: the second fc1 use adds no parameters.
        let fc1 = r.rows.filter { $0.name.hasPrefix("layer1.0.cbam.ca.fc1") }
        XCTAssertEqual(fc1.map(\.parameters), [16 * 256, 0])
        let table = r.table
        XCTAssertTrue(table.hasPrefix("name"), table)
        XCTAssertTrue(table.contains("total"))
        XCTAssertTrue(table.contains("26079700"))
    }
}
