import TestSupport
import XCTest
import QEMLQuantum
@testable import QEMLCodegen

/// The folded-observables circuit kernel against the double-precision state-vector simulator
/// (on the same f32 angles): the QEML-Net circuit and random 2–5-qubit RY/RX-encoded circuits,
/// several batch sizes (partial vector blocks, ranges split mid-block), three vector widths.
final class FoldedCircuitKernelTests: XCTestCase {
    let targets: [TargetDescription] = [.host, try! .named("x86-64-avx2"), try! .named("x86-64-v2")]
    let batches = [1, 3, 8, 17, 1000]

    func qemlnet() -> BoundCircuit {
        var gates: [BoundGate] = (0..<4).map { BoundGate(.ry, wires: [$0], angles: [.input(column: $0)]) }
        for l in 0..<6 {
            for q in 0..<4 { gates.append(BoundGate(.rot, wires: [q], angles: (0..<3).map { .fixed(0.1 * Double(l * 12 + q * 3 + $0) - 2) })) }
            for q in 0..<3 { gates.append(BoundGate(.cnot, wires: [q, q + 1])) }
        }
        return BoundCircuit(qubits: 4, inputWidth: 4, gates: gates, measurements: (0..<4).map { .expval(.z, wire: $0) })
    }

    /// Per wire an RY or RX encoding (some wires two, reading two columns), then Rot layers with
    /// random CNOTs/CZs; ⟨Z⟩ on every wire and ⟨X⟩ on wire 0.
    func randomCircuit(qubits n: Int, _ rng: inout Reference.RNG) -> BoundCircuit {
        let width = n + 1
        var gates: [BoundGate] = []
        for q in 0..<n {
            gates.append(BoundGate(rng.int(0...1) == 0 ? .ry : .rx, wires: [q], angles: [.input(column: q)]))
            if q == 0 { gates.append(BoundGate(.rz, wires: [q], angles: [.input(column: n)])) }
        }
        for _ in 0..<3 {
            for q in 0..<n { gates.append(BoundGate(.rot, wires: [q], angles: (0..<3).map { _ in .fixed(Double(rng.float(-3, 3))) })) }
            for _ in 0..<n {
                let a = rng.int(0...(n - 1)), b = (a + rng.int(1...(n - 1))) % n
                gates.append(BoundGate(rng.int(0...9) < 7 ? .cnot : .cz, wires: [a, b]))
            }
        }
        return BoundCircuit(qubits: n, inputWidth: width, gates: gates,
                            measurements: (0..<n).map { .expval(.z, wire: $0) } + [.expval(.x, wire: 0)])
    }

    func check(_ circuit: BoundCircuit, _ label: String, _ rng: inout Reference.RNG) throws {
        let plan = CircuitPlan(circuit)
        guard case .foldedObservables(let folded) = plan.strategy else { return XCTFail("\(label): plan is \(plan.name)") }
        let k = circuit.inputWidth, m = circuit.outputWidth
        // Angles mostly in [-2π, 2π], a few up to ±40 (range reduction); the oracle runs once per batch.
        let cases = batches.map { n -> (n: Int, angles: [Float], expected: [Double]) in
            let angles: [Float] = (0..<(n * k)).map { i in i % 7 == 3 ? rng.float(-40, 40) : rng.float(-6.3, 6.3) }
            return (n, angles, StateVectorSimulator.run(circuit, inputs: angles.map(Double.init), batch: n))
        }
        for t in targets {
            let l = t.vectorWidth
            let kp = (k + l - 1) / l * l, mp = (m + l - 1) / l * l
            let def = try KernelDefinition.foldedCircuit(folded, target: t, name: "circuit")
            let kernel = try KernelCompiler(target: t, cache: nil).compile([def]).kernels[0]
            for (n, angles, expected) in cases {
                var blocked = [Float](repeating: 0, count: n * kp)
                for s in 0..<n { for j in 0..<k { blocked[s * kp + j] = angles[s * k + j] } }
                let out = KernelHarness.run(kernel, batch: n, inputs: [blocked])[0]
                var errors: [Double] = []
                for s in 0..<n {
                    for o in 0..<mp {
                        let got = Double(out[s * mp + o])
                        if o < m { errors.append(abs(got - expected[s * m + o])) } else { XCTAssertEqual(got, 0, "\(label): padded lane") }
                    }
                }
                XCTAssertLessThan(Agreement.largest(errors), 1e-5, "\(label) on \(t.name), batch \(n)")
            }
        }
    }

    func testQEMLNetCircuit() throws {
        var rng = Reference.RNG(11)
        try check(qemlnet(), "QEML-Net", &rng)
    }

    func testRandomCircuits() throws {
        var rng = Reference.RNG(12)
        for n in 2...5 {
            for i in 0..<(n == 5 ? 1 : 2) { try check(randomCircuit(qubits: n, &rng), "random \(n) qubits #\(i)", &rng) }
        }
    }

    func testRejectsOversizedFolding() throws {
        var gates: [BoundGate] = []
        // 5 wires × 2 input rotations: 5 outputs × 3^10 = 295,245 coefficients.
        for q in 0..<5 { gates += [BoundGate(.ry, wires: [q], angles: [.input(column: q)]), BoundGate(.rx, wires: [q], angles: [.input(column: q)])] }
        for q in 0..<4 { gates.append(BoundGate(.cnot, wires: [q, q + 1])) }
        let c = BoundCircuit(qubits: 5, inputWidth: 5, gates: gates, measurements: (0..<5).map { .expval(.z, wire: $0) })
        // The planner does not fold it …
        let plan = CircuitPlan(c)
        guard case .stateVector = plan.strategy else { return XCTFail("folded: \(plan.reason)") }
        XCTAssertNotNil(plan.schedule, "compiled state-vector kernel")
        XCTAssertTrue(plan.reason.contains("folding needs 295245 coefficients, above the generated kernel's limit of 40000"), plan.reason)
        // … and the generator refuses it when asked.
        let folded = try XCTUnwrap(FoldedObservables(CircuitProgram(c).restrictedToLightCone().mergingSingleQubitRuns()))
        XCTAssertThrowsError(try KernelDefinition.foldedCircuit(folded, target: .host, name: "big")) { e in
            XCTAssertTrue("\(e)".contains("exceed the kernel limit"), "\(e)")
        }
    }
}
