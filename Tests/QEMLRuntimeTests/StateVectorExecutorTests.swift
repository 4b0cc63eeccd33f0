import XCTest
import QEMLCodegen
import QEMLIR
import QEMLTensor
@testable import QEMLRuntime

/// The data re-uploading example (10 qubits, input after entangling gates) through the executor:
/// its circuit runs on the compiled cache-blocked state-vector kernel and agrees with the
/// reference interpreter for several batch sizes.
final class StateVectorExecutorTests: XCTestCase {
    func testReuploadExampleRunsOnTheStateVectorKernel() throws {
        let g = try QIR.load(path: examplePath("qemlnet-reupload.qir"))
        let w = executorTestWeights(g, seed: 5)
        let options = CompileOptions(backend: .jit, threads: 2, cache: ObjectCache(directory: temporaryObjectCacheDirectory()))
        let model = try CompiledModel.compile(g, weights: w, options: options)
        let kinds = model.plan.stepInfo.map(\.kind)
        XCTAssertTrue(kinds.contains { $0.hasPrefix("circuit (state-vector kernel") }, "\(kinds)")
        let name = g[g.outputs[0]].name
        for batch in [1, 3, 8] {
            let angles = Tensor(shape: [batch, 10], data: (0..<(batch * 10)).map { Float(sin(Double($0) * 0.9)) * 3 })
            let got = try XCTUnwrap(try model.run(inputs: ["angles": angles])[name])
            let want = try XCTUnwrap(try Interpreter(graph: g, weights: w).evaluate([name], inputs: ["angles": angles])[name])
            XCTAssertEqual(got.shape, [batch, 10])
            let worst = zip(got.data, want.data).map { abs($0 - $1) }.max() ?? .nan
            XCTAssertLessThan(worst, 1e-5, "batch \(batch)")
            XCTAssertGreaterThan(want.data.map(abs).max() ?? 0, 0.05, "expectation values far from 0, so agreement means something")
        }
    }

    /// The batch is split over the pool's threads; each sample is computed the same way.
    func testThreadCountDoesNotChangeResults() throws {
        let g = try QIR.load(path: examplePath("qemlnet-reupload.qir"))
        let w = executorTestWeights(g, seed: 6)
        let angles = Tensor(shape: [7, 10], data: (0..<70).map { Float(cos(Double($0) * 1.3)) * 3 })
        let outputs = try [1, 2, 3].map { threads -> [Float] in
            let options = CompileOptions(backend: .jit, threads: threads, cache: ObjectCache(directory: temporaryObjectCacheDirectory()))
            let model = try CompiledModel.compile(g, weights: w, options: options)
            return try XCTUnwrap(try model.run(inputs: ["angles": angles])[g[g.outputs[0]].name]).data
        }
        XCTAssertEqual(outputs[0], outputs[1])
        XCTAssertEqual(outputs[0], outputs[2])
    }
}
