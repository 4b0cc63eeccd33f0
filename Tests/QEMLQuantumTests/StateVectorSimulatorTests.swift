import TestSupport
import XCTest
import QEMLIR
@testable import QEMLQuantum

final class StateVectorSimulatorTests: XCTestCase {
    func testAgreesWithPennyLane() throws {
        let cases = try PennyLaneCase.load()
        XCTAssertGreaterThanOrEqual(cases.count, 8)
        for c in cases {
            for (s, set) in c.sets.enumerated() {
                let got = try StateVectorSimulator.run(c.circuit, inputs: set.inputs, batch: set.batch,
                                                       inputWidth: c.inputWidth, weights: set.weights)
                XCTAssertLessThan(Agreement.absolute(got, set.expected), 1e-10, "\(c.name) set \(s)")
                for (k, expected) in set.prefixes {
                    let prefix = try StateVectorSimulator.run(c.truncated(k), inputs: set.inputs, batch: set.batch,
                                                              inputWidth: c.inputWidth, weights: set.weights)
                    XCTAssertLessThan(Agreement.absolute(prefix, expected), 1e-10, "\(c.name) set \(s) first \(k) gates")
                }
            }
        }
    }

    /// Early prefixes of the deep random circuits are far from the all-zero state that a broken
    /// simulator could fake: the check above is not vacuous.
    func testRandomCircuitPrefixesAreInformative() throws {
        for c in try PennyLaneCase.load() where c.name.hasPrefix("random") {
            let early = try XCTUnwrap(c.sets[0].prefixes[10])
            XCTAssertGreaterThan(Agreement.largest(early.map(abs)), 0.5, c.name)
        }
    }

    func testBellState() throws {
        let c = Circuit(qubits: 2, gates: [Gate(.h, wires: [0]), Gate(.cnot, wires: [0, 1])],
                        measurements: [.probs([0, 1]), .expval(.z, wire: 1), .expval(.x, wire: 0)])
        let got = try StateVectorSimulator.run(c, inputs: [], batch: 1, inputWidth: 0, weights: [])
        XCTAssertEqual(got.count, 6)
        let want = [0.5, 0, 0, 0.5, 0, 0]
        XCTAssertLessThan(Agreement.absolute(got, want), 1e-15)
    }

    func testWireZeroIsMostSignificant() throws {
        let c = Circuit(qubits: 3, gates: [Gate(.x, wires: [0])], measurements: [.probs([0, 1, 2]), .probs([2, 0])])
        let got = try StateVectorSimulator.run(c, inputs: [], batch: 1, inputWidth: 0, weights: [])
        XCTAssertEqual(got, [0, 0, 0, 0, 1, 0, 0, 0, 0, 1, 0, 0])
    }

    func testGateMatricesAreUnitary() {
        for kind in GateKind.allCases {
            let m = GateMatrix.of(kind, [0.3, -1.1, 2.5].prefix(kind.parameterCount).map { $0 })
            let p = m.adjoint * m
            XCTAssertLessThan(Agreement.absolute(p.entries.flatMap { [$0.re, $0.im] },
                                               GateMatrix.identity(qubits: m.qubits).entries.flatMap { [$0.re, $0.im] }), 1e-15, kind.rawValue)
        }
    }

    func testDenseKernelMatchesSingleWireKernel() {
        // The k-qubit kernel on 1 and 3 wires against gate-by-gate application.
        let u = GateMatrix.of(.rot, [0.4, 1.3, -0.7]), v = GateMatrix.of(.crx, [0.9])
        var a = StateVector(qubits: 4), b = StateVector(qubits: 4)
        for w in 0..<4 { a.apply(GateMatrix.of(.h, []), wire: w); b.apply(GateMatrix.of(.h, []), wire: w) }
        a.apply(u, wire: 1); a.apply(v, wires: [3, 1])
        b.apply(v * kron(u, wireOfU: 1, of: 2, identityOn: 0), wires: [3, 1])
        XCTAssertLessThan(Agreement.absolute(a.re + a.im, b.re + b.im), 1e-14)
    }
}

/// u on block position `wireOfU` (1 = least significant) of a 2-wire block, identity on the other.
private func kron(_ u: GateMatrix, wireOfU: Int, of k: Int, identityOn other: Int) -> GateMatrix {
    var m = GateMatrix(qubits: 2, entries: [Complex](repeating: .zero, count: 16))
    for r in 0..<4 { for c in 0..<4 {
        let (ru, cu) = wireOfU == 1 ? (r & 1, c & 1) : (r >> 1, c >> 1)
        let (ro, co) = wireOfU == 1 ? (r >> 1, c >> 1) : (r & 1, c & 1)
        if ro == co { m[r, c] = u[ru, cu] }
    } }
    return m
}
