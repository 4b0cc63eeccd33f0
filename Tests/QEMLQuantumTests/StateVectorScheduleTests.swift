import TestSupport
import XCTest
import QEMLIR
import QEMLTensor
@testable import QEMLQuantum

/// The cache-blocked schedule without the code generator: its stages, reordering, fusion and
/// entry structure, checked by running its ops in schedule order on the reference simulator.
final class StateVectorScheduleTests: XCTestCase {
    /// Random gates of every kind on `n` wires, a third of the angles read from a 3-column input.
    func randomProgram(qubits n: Int, gates count: Int, seed: UInt64) -> CircuitProgram {
        var rng = SplitMix64(seed: seed)
        func int(_ n: Int) -> Int { Int(rng.next() % UInt64(n)) }
        let gates: [BoundGate] = (0..<count).map { _ in
            let kind = GateKind.allCases[int(GateKind.allCases.count)]
            var wires = [int(n)]
            if kind.wireCount == 2 { wires.append((wires[0] + 1 + int(n - 1)) % n) }
            let angles: [Angle] = (0..<kind.parameterCount).map { _ in int(3) == 0 ? .input(column: int(3)) : .fixed(rng.unit() * 6 - 3) }
            return BoundGate(kind, wires: wires, angles: angles)
        }
        let c = BoundCircuit(qubits: n, inputWidth: 3, gates: gates, measurements: (0..<n).map { .expval(.z, wire: $0) })
        return CircuitProgram(c).mergingSingleQubitRuns()
    }

    /// The ops in schedule order, applied by the reference simulator.
    func runInScheduleOrder(_ s: StateVectorSchedule, _ row: [Double]) -> [Double] {
        var state = StateVector(qubits: s.qubits)
        row.withUnsafeBufferPointer { r in
            for stage in s.stages { for op in stage.ops { state.apply(op.step.matrix(r), wires: op.step.wires) } }
        }
        var out: [Double] = []
        state.measure(s.measurements, into: &out)
        return out
    }

    func testScheduleOrderAndFusionPreserveTheCircuit() {
        for (i, (n, local)) in [(6, 4), (9, 5), (12, 7), (12, 12), (14, 8)].enumerated() {
            let p = randomProgram(qubits: n, gates: 150, seed: UInt64(i + 1))
            guard let s = StateVectorSchedule(p, lanes: 4, localQubits: local) else { return XCTFail("no schedule for \(n) qubits") }
            XCTAssertEqual(s.localQubits, min(n, max(local, 5)), "at least the 3 fixed low positions and the widest step")
            let row = [0.3, -1.7, 2.9]
            XCTAssertLessThan(Agreement.absolute(runInScheduleOrder(s, row), p.run(inputs: row, batch: 1)), 1e-12, "\(n) qubits, L=\(local)")
            XCTAssertLessThan(s.opCount, p.steps.count, "fusion merged nothing")
            for stage in s.stages {
                XCTAssertEqual(stage.positions.count, s.localQubits)
                XCTAssertEqual(stage.positions, stage.positions.sorted())
                XCTAssertTrue(stage.positions.starts(with: [0, 1, 2]), "the in-register bits and one more are always local")
                for op in stage.ops {
                    XCTAssertTrue(op.positions.allSatisfy { (0..<stage.positions.count).contains($0) })
                    XCTAssertEqual(op.positions.map { stage.positions[$0] }, op.step.wires.map { n - 1 - $0 })
                }
            }
            if local < n { XCTAssertGreaterThan(s.stages.count, 1) }
        }
    }

    func testEntriesAreConstantExactlyWhereTheMatrixIs() {
        let p = randomProgram(qubits: 8, gates: 120, seed: 9)
        guard let s = StateVectorSchedule(p, lanes: 4, localQubits: 8) else { return XCTFail("no schedule") }
        var coefficients = [Double](repeating: .nan, count: 2 * s.coefficientCount)
        var scratch = [Complex](repeating: .zero, count: s.fillScratchCount)
        for row in [[0.1, 0.2, 0.3], [-2.5, 1.25, 3.0]] {
            row.withUnsafeBufferPointer { r in
                coefficients.withUnsafeMutableBufferPointer { c in
                    scratch.withUnsafeMutableBufferPointer { s.fillCoefficients(r, into: c.baseAddress!, scratch: $0.baseAddress!) }
                }
                for op in s.stages.flatMap(\.ops) {
                    let m = op.step.matrix(r)
                    for (e, entry) in op.entries.enumerated() {
                        switch entry {
                        case .constant(let c): XCTAssertEqual(c, m.entries[e])
                        case .variable(let index, let real):
                            XCTAssertEqual(coefficients[2 * index], m.entries[e].re)
                            XCTAssertEqual(coefficients[2 * index + 1], m.entries[e].im)
                            if real { XCTAssertEqual(m.entries[e].im, 0) }
                        }
                    }
                }
            }
        }
        XCTAssertGreaterThan(s.coefficientCount, 0)
        XCTAssertFalse(coefficients.contains { $0.isNaN }, "every coefficient is written")
    }

    func testPlanDoesNotCompileMoreOpsThanTheLimit() {
        var gates: [BoundGate] = []
        for i in 0..<2_400 {
            gates.append(BoundGate(.rx, wires: [i % 8], angles: [.input(column: 0)]))
            gates.append(BoundGate(.cz, wires: [i % 8, (i + 3) % 8]))
        }
        let plan = CircuitPlan(BoundCircuit(qubits: 8, inputWidth: 1, gates: gates, measurements: [.expval(.z, wire: 0)]))
        XCTAssertNil(plan.schedule)
        XCTAssertTrue(plan.reason.contains("exceed the kernel limit of 2000"), plan.reason)
        let small = CircuitPlan(BoundCircuit(qubits: 8, inputWidth: 1, gates: Array(gates.prefix(40)), measurements: [.expval(.z, wire: 0)]))
        XCTAssertNotNil(small.schedule)
        XCTAssertTrue(small.reason.contains("; compiled: "), small.reason)
    }

    func testVectorizedOpsSkipWhatTheyDoNotChange() {
        // 6 qubits, 4 lanes: positions 0 and 1 are in-register.
        func op(_ step: CircuitStep, _ positions: [Int]) -> VectorizedOp {
            VectorizedOp(.init(step: step, positions: positions, entries: StateVectorSchedule.structure(of: step, inputWidth: 1)), lanes: 4)
        }
        let cnot = op(.unitary(.of(.cnot, []), wires: [0, 1]), [5, 4])
        XCTAssertEqual(cnot.outputs.count, 2, "control 0: vectors left alone")
        XCTAssertTrue(cnot.outputs.allSatisfy { $0.terms.count == 1 && $0.terms[0].isUnit && $0.terms[0].source != $0.vector },
                      "control 1: the two vectors swap, no arithmetic")
        let s = op(.unitary(.of(.s, []), wires: [0]), [5])
        XCTAssertEqual(s.outputs.map(\.vector), [1], "S changes the |1⟩ half only")
        let hLow = op(.unitary(.of(.h, []), wires: [5]), [0])
        XCTAssertEqual(hLow.high, [])
        XCTAssertEqual(Set(hLow.outputs[0].terms.map(\.flip)), [0, 1], "an in-register bit is exchanged by a shuffle")
        XCTAssertFalse(hLow.outputs[0].terms.contains { $0.hasImaginary }, "H is real")
        let rx = op(.gate(BoundGate(.rx, wires: [2], angles: [.input(column: 0)])), [3])
        XCTAssertTrue(rx.outputs.allSatisfy { $0.terms.count == 2 })
        XCTAssertLessThan(hLow.instructionsPerGroup, op(.unitary(.of(.rot, [0.1, 0.2, 0.3]), wires: [5]), [0]).instructionsPerGroup)
    }
}
