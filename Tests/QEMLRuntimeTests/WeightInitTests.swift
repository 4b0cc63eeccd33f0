import XCTest
import QEMLIR
import QEMLTensor
@testable import QEMLRuntime

final class WeightInitTests: XCTestCase {
    /// conv(+BN) → dense → circuit, with weight names that say nothing about their roles.
    func graph() -> Graph {
        var g = Graph(name: "roles")
        let x = g.addInput("x", TensorType(fixed: [1, 8, 4, 4]))
        let cw = g.weight("a", TensorType(fixed: [64, 8, 3, 3]))
        let bn = (0..<4).map { g.weight("bn\($0)", TensorType(fixed: [64])) }
        let y = g.addNode("conv2d", [x, cw, nil, bn[0], bn[1], bn[2], bn[3], nil],
                          Attributes([("out", .int(64)), ("kernel", .ints([3, 3])), ("padding", .ints([1, 1]))]),
                          results: [("y", TensorType(fixed: [1, 64, 4, 4]))])[0]
        let f = g.addNode("flatten", [y], results: [("f", TensorType(fixed: [1, 1024]))])[0]
        let dw = g.weight("b", TensorType(fixed: [4, 1024])), db = g.weight("c", TensorType(fixed: [4]))
        let d = g.addNode("dense", [f, dw, db], Attributes([("out", .int(4))]), results: [("d", TensorType(fixed: [1, 4]))])[0]
        let pw = g.weight("d", TensorType(fixed: [50, 4, 3]))
        let c = Circuit(qubits: 1, gates: [Gate(.rot, wires: [0], params: [.weight(operand: 1, index: [49, 3, 2]), .constant(0), .constant(0)])],
                        measurements: [.expval(.z, wire: 0)])
        g.outputs = g.addNode("circuit", [d, pw], Attributes([("wires", .int(1)), ("body", .circuit(c))]), results: [("e", TensorType(fixed: [1, 1]))])
        return g
    }

    func stats(_ t: Tensor) -> (mean: Double, std: Double, min: Float, max: Float) {
        let m = t.data.reduce(0.0) { $0 + Double($1) } / Double(t.count)
        let v = t.data.reduce(0.0) { $0 + (Double($1) - m) * (Double($1) - m) } / Double(t.count)
        return (m, v.squareRoot(), t.data.min()!, t.data.max()!)
    }

    func testRolesFromSlotsAndDistributions() {
        let w = WeightInit.initialize(graph(), seed: 3)
        XCTAssertEqual(Set(w.keys), ["a", "bn0", "bn1", "bn2", "bn3", "b", "c", "d"])
        // He normal, fan_out = 64·3·3: std = sqrt(2/576) ≈ 0.0589 (4608 samples: ±5 %).
        let conv = stats(w["a"]!)
        XCTAssertEqual(conv.mean, 0, accuracy: 0.005)
        XCTAssertEqual(conv.std, (2.0 / 576).squareRoot(), accuracy: 0.003)
        // BN: weight ≈ 1, bias ≈ 0, mean ≈ 0, var in [0.5, 1.5).
        XCTAssertEqual(stats(w["bn0"]!).mean, 1, accuracy: 0.05)
        XCTAssertEqual(stats(w["bn1"]!).mean, 0, accuracy: 0.05)
        XCTAssertEqual(stats(w["bn2"]!).mean, 0, accuracy: 0.05)
        XCTAssertGreaterThan(stats(w["bn2"]!).std, 0.05)
        let v = stats(w["bn3"]!)
        XCTAssertTrue(v.min >= 0.5 && v.max < 1.5 && v.max - v.min > 0.5)
        // Dense: U(±1/sqrt(1024)) for weight and bias.
        let d = stats(w["b"]!)
        XCTAssertTrue(d.min >= -1 / 32 && d.max <= 1 / 32 && d.max - d.min > 1.8 / 32)
        XCTAssertTrue(w["c"]!.data.allSatisfy { abs($0) <= 1 / 32 })
        // Circuit angles in [0, 2π), shape from the body's largest index.
        let a = stats(w["d"]!)
        XCTAssertEqual(w["d"]!.shape, [50, 4, 3])
        XCTAssertTrue(a.min >= 0 && a.max < 2 * .pi && a.max > 5.5 && a.min < 0.5)
    }

    func testDeterministicAndSeedDependent() {
        let g = graph()
        let a = WeightInit.initialize(g, seed: 1), b = WeightInit.initialize(g, seed: 1), c = WeightInit.initialize(g, seed: 2)
        XCTAssertEqual(a, b)
        XCTAssertNotEqual(a["a"], c["a"])
        XCTAssertEqual(WeightInit.checksum(a), WeightInit.checksum(b))
        XCTAssertNotEqual(WeightInit.checksum(a), WeightInit.checksum(c))
        // A weight's values do not depend on the other weights (its own stream).
        var h = g
        h.values[h.weights[0].raw].def = .weight("renamed")
        XCTAssertEqual(WeightInit.initialize(h, seed: 1)["bn3"], a["bn3"])
    }

    func testKnownValues() {
        // Pin the generator: SplitMix64's published first output for seed 0, and our first draws.
        var r = SplitMix64(seed: 0)
        XCTAssertEqual(r.next(), 0xE220_A839_7B1D_CDAF)
        XCTAssertEqual(r.next(), 0x6E78_9E6A_A1B9_65F4)
    }
}
