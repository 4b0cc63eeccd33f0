import Foundation
import XCTest
import QEMLQuantum
@testable import QEMLCodegen

/// The generated folded-observables kernel (f32) against PennyLane default.qubit's float64 vectors
/// (`Tests/QEMLQuantumTests/Fixtures/pennylane_reference.json`, written by
/// `scripts/pennylane_reference.py`): every case the planner folds, every weight set and sample,
/// within 1e-5 (relative where |value| > 1), host and AVX2 widths.
final class FoldedCircuitPennyLaneTests: XCTestCase {
    struct Case { var name: String; var sets: [(circuit: BoundCircuit, inputs: [Double], batch: Int, expected: [Double])] }

    func loadCases() throws -> [Case] {
        let url = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
            .appendingPathComponent("QEMLQuantumTests/Fixtures/pennylane_reference.json")
        let root = try JSONSerialization.jsonObject(with: Data(contentsOf: url)) as? [String: Any]
        let cases = try XCTUnwrap(root?["cases"] as? [[String: Any]], "no cases in \(url.path)")
        return try cases.map { c in
            let (circuit, width) = try CircuitJSON.circuit(c)
            let sets = try XCTUnwrap(c["sets"] as? [[String: Any]])
            return Case(name: try XCTUnwrap(c["name"] as? String), sets: try sets.map { s in
                let bound = try BoundCircuit(circuit, weights: try CircuitJSON.weights(s["weights"]), inputWidth: width)
                return (bound, try XCTUnwrap(s["inputs"] as? [Double]), try XCTUnwrap(s["batch"] as? Int),
                        try XCTUnwrap(s["expected"] as? [Double]))
            })
        }
    }

    func testCompiledKernelMatchesPennyLane() throws {
        var folded: Set<String> = []
        var samples = 0
        for c in try loadCases() {
            for (s, set) in c.sets.enumerated() {
                let plan = CircuitPlan(set.circuit)
                guard case .foldedObservables(let f) = plan.strategy else { continue }
                folded.insert(c.name)
                let k = set.circuit.inputWidth, m = set.circuit.outputWidth, n = set.batch
                XCTAssertEqual(set.expected.count, n * m, "\(c.name) set \(s): fixture shape")
                // Every set on the host's vector width, the first also at AVX2's 8 lanes.
                for t in s == 0 ? [TargetDescription.host, try .named("x86-64-avx2")] : [.host] {
                    let l = t.vectorWidth
                    let kp = (k + l - 1) / l * l, mp = (m + l - 1) / l * l
                    let def = try KernelDefinition.foldedCircuit(f, target: t, name: "circuit")
                    let kernel = try KernelCompiler(target: t, cache: nil).compile([def]).kernels[0]
                    var blocked = [Float](repeating: 0, count: n * kp)
                    for i in 0..<n { for j in 0..<k { blocked[i * kp + j] = Float(set.inputs[i * k + j]) } }
                    let out = KernelHarness.run(kernel, batch: n, inputs: [blocked])[0]
                    var worst = 0.0
                    for i in 0..<n {
                        for o in 0..<m {
                            let e = set.expected[i * m + o], got = Double(out[i * mp + o])
                            let err = abs(got - e) / max(1, abs(e))
                            worst = err.isNaN ? .infinity : max(worst, err)
                        }
                    }
                    XCTAssertLessThanOrEqual(worst, 1e-5, "\(c.name) set \(s) on \(t.name): plan \(plan.name)")
                    samples += n
                }
            }
        }
        // The four template circuits of issue #3 must plan as folded observables, so they ran here.
        XCTAssertTrue(folded.isSuperset(of: ["qemlnet", "basic_entangler", "rx_encoding", "strongly_entangling"]), "folded: \(folded.sorted())")
        XCTAssertGreaterThan(samples, 0)
    }
}
