import TestSupport
import Foundation
import XCTest
import QEMLQuantum
@testable import QEMLCodegen

/// The generated folded-observables kernel (f32) against PennyLane default.qubit's float64 vectors
/// (`Tests/QEMLQuantumTests/Fixtures/pennylane_reference.json`, written by
/// `scripts/pennylane_reference.py`): every case the planner folds, every weight set and sample,
/// within 1e-5 (relative where |value| > 1), host and AVX2 widths.
final class FoldedCircuitPennyLaneTests: XCTestCase {
    func testCompiledKernelMatchesPennyLane() throws {
        var folded: Set<String> = []
        var samples = 0
        for (i, check) in try pennyLaneChecks().enumerated() where !check.label.contains(" first ") {
            let plan = CircuitPlan(check.circuit)
            guard case .foldedObservables(let f) = plan.strategy else { continue }
            folded.insert(String(check.label.prefix { $0 != " " }))
            let k = check.circuit.inputWidth, m = check.circuit.outputWidth, n = check.batch
            XCTAssertEqual(check.expected.count, n * m, "\(check.label): fixture shape")
            // Every set on the host's vector width, every other one also at AVX2's 8 lanes.
            for t in i % 2 == 0 ? [TargetDescription.host, try .named("x86-64-avx2")] : [.host] {
                let l = t.vectorWidth
                let kp = (k + l - 1) / l * l, mp = (m + l - 1) / l * l
                let def = try KernelDefinition.foldedCircuit(f, target: t, name: "circuit")
                let kernel = try KernelCompiler(target: t, cache: nil).compile([def]).kernels[0]
                var blocked = [Float](repeating: 0, count: n * kp)
                for s in 0..<n { for j in 0..<k { blocked[s * kp + j] = Float(check.inputs[s * k + j]) } }
                let out = KernelHarness.run(kernel, batch: n, inputs: [blocked])[0]
                var got: [Double] = []
                for s in 0..<n { for o in 0..<m { got.append(Double(out[s * mp + o])) } }
                XCTAssertLessThanOrEqual(Agreement.relative(got, check.expected, floor: 1), 1e-5, "\(check.label) on \(t.name): plan \(plan.name)")
                samples += n
            }
        }
        // The four template circuits of issue #3 must plan as folded observables, so they ran here.
        XCTAssertTrue(folded.isSuperset(of: ["qemlnet", "basic_entangler", "rx_encoding", "strongly_entangling"]), "folded: \(folded.sorted())")
        XCTAssertGreaterThan(samples, 0)
    }
}
