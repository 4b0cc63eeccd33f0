import XCTest
import QEMLCodegen
import QEMLIR
import QEMLTensor
@testable import QEMLRuntime

/// The circuit-only example through the executor: its folded-observables plan runs as the
/// generated LLVM kernel, and agrees with the reference interpreter (double-precision
/// simulator) for batches that fill, split and under-fill the kernel's vector blocks.
final class FoldedCircuitExecutorTests: XCTestCase {
    func testCircuitExampleKernelMatchesInterpreter() throws {
        let g = try QIR.load(path: examplePath("qemlnet-circuit.qir"))
        let w = executorTestWeights(g, seed: 21)
        let options = CompileOptions(backend: .jit, threads: 2, cache: ObjectCache(directory: temporaryObjectCacheDirectory()))
        let model = try CompiledModel.compile(g, weights: w, options: options)
        XCTAssertTrue(model.plan.definitions.contains { $0.kind == "circuit (folded-observables)" }, "the circuit runs as a generated kernel")
        XCTAssertEqual(model.plan.fallbacks, [])
        let name = g[g.outputs[0]].name
        for batch in [1, 3, 17, 40] {
            let angles = Tensor(shape: [batch, 4], data: (0..<(batch * 4)).map { Float(sin(Double($0) * 1.7)) * 3.5 })
            let got = try model.run(inputs: ["angles": angles])
            let want = try Interpreter(graph: g, weights: w).evaluate([name], inputs: ["angles": angles])
            let a = try XCTUnwrap(got[name]), b = try XCTUnwrap(want[name])
            XCTAssertEqual(a.shape, [batch, 4])
            XCTAssertEqual(a.shape, b.shape)
            let worst = zip(a.data, b.data).map { abs($0 - $1) }.max() ?? .nan
            XCTAssertLessThan(worst, 1e-5, "batch \(batch)")
            XCTAssertGreaterThan(b.data.map(abs).max() ?? 0, 0.05, "expectation values far from 0, so agreement means something")
        }
    }
}
