import TestSupport
import Foundation
import XCTest
import QEMLIR
@testable import QEMLQuantum

/// Every strategy against PennyLane's vectors (1e-10, double precision), plus what each rewrite
/// must do structurally so that a no-op rewrite cannot pass.
final class StrategyTests: XCTestCase {
    private func check(_ name: String, maxQubits: Int = 12, _ makeRun: (CircuitProgram) -> ((_ inputs: [Double], _ batch: Int) -> [Double])?) throws {
        try check(name, maxQubits: maxQubits) { (p: CircuitProgram, _: BoundCircuit) in makeRun(p) }
    }

    private func check(_ name: String, maxQubits: Int = 12, _ makeRun: (CircuitProgram, BoundCircuit) -> ((_ inputs: [Double], _ batch: Int) -> [Double])?) throws {
        var checked = 0
        // The 16-qubit case runs through the reference simulator only: debug builds are too slow for it.
        for c in try PennyLaneCase.load() where c.circuit.qubits <= maxQubits {
            for (s, set) in c.sets.enumerated() {
                var truncations: [(Int?, [Double])] = [(nil, set.expected)]
                for (k, v) in set.prefixes.sorted(by: { $0.key < $1.key }) { truncations.append((k, v)) }
                for (k, expected) in truncations {
                    let circuit = k.map { c.truncated($0) } ?? c.circuit
                    let bound = try BoundCircuit(circuit, weights: set.weights, inputWidth: c.inputWidth)
                    guard let run = makeRun(CircuitProgram(bound), bound) else { continue }
                    let got = run(set.inputs, set.batch)
                    XCTAssertLessThan(Agreement.absolute(got, expected), 1e-10, "\(name): \(c.name) set \(s)" + (k.map { " first \($0) gates" } ?? ""))
                    checked += 1
                }
            }
        }
        XCTAssertGreaterThan(checked, 0, name)
    }

    func testProgramRun() throws { try check("program") { p in p.run } }
    func testMergedSingleQubitRuns() throws { try check("merged") { p in p.mergingSingleQubitRuns().run } }
    func testLightCone() throws { try check("light cone") { p in p.restrictedToLightCone().run } }
    func testFixedUnitaryFolding() throws {
        try check("folded fixed unitaries") { p in p.foldingFixedUnitaries(maxQubits: min(p.qubits, 5)).run }
    }
    func testBlockFusion() throws {
        for k in [2, 3, 4] { try check("block fusion k=\(k)") { p in p.fusingBlocks(maxQubits: k).run } }
    }
    func testFoldedObservables() throws {
        // Folding forms 2^n × 2^n matrices: the template cases (4–5 qubits) only, in debug builds.
        try check("folded observables, kernel", maxQubits: 5) { p in FoldedObservables(p.mergingSingleQubitRuns()).map { f in f.evaluate } }
        try check("folded observables, direct", maxQubits: 5) { p in FoldedObservables(p).map { f in f.evaluateDirect } }
    }
    func testPlan() throws {
        try check("plan", maxQubits: 8) { (_: CircuitProgram, bound: BoundCircuit) in CircuitPlan(bound).run }
    }

    // MARK: structure

    private func qemlnet(encoding: GateKind = .ry) -> BoundCircuit {
        var gates: [BoundGate] = (0..<4).map { BoundGate(encoding, wires: [$0], angles: [.input(column: $0)]) }
        for l in 0..<6 {
            for q in 0..<4 { gates.append(BoundGate(.rot, wires: [q], angles: (0..<3).map { .fixed(0.1 * Double(l * 12 + q * 3 + $0) - 2) })) }
            for q in 0..<3 { gates.append(BoundGate(.cnot, wires: [q, q + 1])) }
        }
        return BoundCircuit(qubits: 4, inputWidth: 4, gates: gates, measurements: (0..<4).map { .expval(.z, wire: $0) })
    }

    func testPlanChoosesFoldedObservablesForQEMLNet() {
        let plan = CircuitPlan(qemlnet())
        XCTAssertEqual(plan.name, "folded-observables")
        XCTAssertEqual(plan.reason, "4 qubits, 46 gates: the input enters only through single-qubit gates before any entangling gate, "
                       + "so the 42 fixed steps fold into 4 observables M = U†OU, each evaluated as 81 real coefficients "
                       + "contracted wire by wire with cos/sin features (real encoding)")
        guard case .foldedObservables(let f) = plan.strategy else { return XCTFail("wrong strategy") }
        XCTAssertTrue(f.encodingIsReal)
        XCTAssertFalse(FoldedObservables(CircuitProgram(qemlnet(encoding: .rx)))?.encodingIsReal ?? true)
    }

    func testPlanFallsBackToBlockFusionWhenInputFollowsEntanglement() {
        var c = qemlnet()
        c.gates.append(BoundGate(.rx, wires: [2], angles: [.input(column: 0)]))
        let plan = CircuitPlan(c)
        XCTAssertTrue(plan.name.hasPrefix("block-fusion") || plan.name == "fixed-unitary-folding", plan.name)
        XCTAssertTrue(plan.reason.contains("a gate reads the input after an entangling gate on wire 2"), plan.reason)
        let x = (0..<12).map { sin(Double($0)) * 2 }
        XCTAssertLessThan(Agreement.absolute(plan.run(inputs: x, batch: 3), StateVectorSimulator.run(c, inputs: x, batch: 3)), 1e-12)
    }

    func testMergingLeavesOneMatrixPerRunAndKeepsInputGates() {
        let p = CircuitProgram(qemlnet()).mergingSingleQubitRuns()
        // 4 encodings + per layer 4 merged Rot blocks + 3 CNOTs; layer 0's Rot cannot merge into the input RY.
        XCTAssertEqual(p.steps.count, 4 + 6 * 7)
        XCTAssertEqual(p.steps.filter(\.dependsOnInput).count, 4)
        let twoRuns = CircuitProgram(qubits: 2, inputWidth: 0, steps: [
            .unitary(.of(.h, []), wires: [0]), .unitary(.of(.s, []), wires: [1]), .unitary(.of(.t, []), wires: [0]),
            .unitary(.of(.x, []), wires: [1])], measurements: [.expval(.z, wire: 0)])
        XCTAssertEqual(twoRuns.mergingSingleQubitRuns().steps.count, 2)
    }

    func testLightConeDropsUnmeasuredWires() {
        var c = qemlnet()
        c.measurements = [.expval(.z, wire: 0)]
        // Only wire 0 is measured: the last layer's CNOTs on (1,2),(2,3) and Rots on 1..3 are outside, and so on backwards.
        let kept = CircuitProgram(c).restrictedToLightCone()
        XCTAssertLessThan(kept.steps.count, CircuitProgram(c).steps.count)
        XCTAssertFalse(kept.steps.suffix(3).contains { $0.wires.contains(3) })
        XCTAssertLessThan(Agreement.absolute(kept.run(inputs: [0.1, 0.2, 0.3, 0.4], batch: 1),
                                           CircuitProgram(c).run(inputs: [0.1, 0.2, 0.3, 0.4], batch: 1)), 1e-14)
    }

    func testFoldingMakesOneUnitaryOfTheFixedPart() {
        let p = CircuitProgram(qemlnet()).foldingFixedUnitaries(maxQubits: 4)
        XCTAssertEqual(p.steps.count, 5)
        XCTAssertEqual(p.steps.last?.wires.sorted(), [0, 1, 2, 3])
    }

    func testBlockFusionRespectsTheBlockSize() {
        for k in 2...4 {
            let p = CircuitProgram(qemlnet()).fusingBlocks(maxQubits: k)
            XCTAssertTrue(p.steps.allSatisfy { $0.wires.count <= k })
            XCTAssertLessThanOrEqual(p.steps.count, 23, "k=\(k): at most half of the 46 gates")
        }
    }

    func testSinCosAgainstLibm() {
        var errors: [Double] = []
        for i in 0..<4000 {
            let base = Double(i - 2000) * 0.0173 * (i % 7 == 0 ? 97 : 1)
            let x = SIMD4<Double>(base, base + 0.5, -base * 3, base * 0.001)
            let (s, c) = sinCos(x)
            for l in 0..<4 { errors += [abs(s[l] - sin(x[l])), abs(c[l] - cos(x[l]))] }
        }
        XCTAssertLessThan(Agreement.largest(errors), 1e-14)
    }
}

final class PauliDecompositionTests: XCTestCase {
    /// The fast transform against Tr(σ_s M)/2^n computed from explicit Kronecker products.
    func testMatchesExplicitTraces() {
        let n = 2
        var m = GateMatrix(qubits: n, entries: (0..<16).map { Complex(sin(Double($0) * 1.3), cos(Double($0) * 0.7)) })
        m = m + m.adjoint   // Hermitian
        let got = pauliCoefficients(m, qubits: n)
        let paulis = [GateMatrix.identity(qubits: 1), .pauli(.x), .pauli(.y), .pauli(.z)]
        for s in 0..<16 {
            let a = paulis[s >> 2], b = paulis[s & 3]
            var trace = Complex.zero
            for r in 0..<4 { for c in 0..<4 {
                let sigma = a[r >> 1, c >> 1] * b[r & 1, c & 1]
                trace += sigma * m[c, r]
            } }
            XCTAssertEqual(got[s], trace.re / 4, accuracy: 1e-14, "string \(s)")
        }
    }
}

private extension GateMatrix {
    static func + (a: GateMatrix, b: GateMatrix) -> GateMatrix {
        GateMatrix(qubits: a.qubits, entries: zip(a.entries, b.entries).map { $0 + $1 })
    }
}
