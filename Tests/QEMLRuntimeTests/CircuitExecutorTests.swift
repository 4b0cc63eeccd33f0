import TestSupport
import XCTest
import QEMLCodegen
import QEMLIR
import QEMLPasses
import QEMLTensor
@testable import QEMLRuntime

/// Circuit-only examples through the executor, against the reference interpreter (double-precision
/// simulator) for batches that fill, split and under-fill vector blocks and thread parts:
/// QEML-Net's circuit as the generated folded-observables kernel, the 10-qubit re-uploading circuit
/// on the compiled cache-blocked state-vector kernel.
final class CircuitExecutorTests: XCTestCase {
    /// Compiles `example`, checks its circuit step's kind, and compares `batches` random inputs.
    private func check(_ example: String, width: Int, kind: String, batches: [Int], seed: UInt64, threads: Int = 2,
                       generatedKernel: Bool = false) throws {
        try check(try QIR.load(path: examplePath(example)), label: example, width: width, kind: kind, batches: batches, seed: seed,
                  threads: threads, generatedKernel: generatedKernel)
    }

    private func check(_ g: Graph, label example: String, width: Int, kind: String, batches: [Int], seed: UInt64, threads: Int = 2,
                       generatedKernel: Bool = false) throws {
        let w = executorTestWeights(g, seed: seed)
        let options = CompileOptions(backend: .jit, threads: threads, cache: ObjectCache(directory: temporaryObjectCacheDirectory()))
        let model = try CompiledModel.compile(g, weights: w, options: options)
        let kinds = model.plan.stepInfo.map(\.kind)
        XCTAssertTrue(kinds.contains { $0.hasPrefix(kind) }, "\(kinds)")
        XCTAssertEqual(model.plan.fallbacks, [])
        if generatedKernel { XCTAssertTrue(model.plan.definitions.contains { $0.kind.hasPrefix(kind) }, "not a generated kernel") }
        let name = g[g.outputs[0]].name
        for batch in batches {
            let angles = Tensor(shape: [batch, width], data: (0..<(batch * width)).map { Float(sin(Double($0) * 1.7)) * 3.5 })
            let got = try XCTUnwrap(try model.run(inputs: ["angles": angles])[name])
            let want = try XCTUnwrap(try Interpreter(graph: g, weights: w).evaluate([name], inputs: ["angles": angles])[name])
            XCTAssertEqual(got.shape, [batch, width])
            XCTAssertEqual(got.shape, want.shape)
            let worst = Agreement.absolute(got.data, want.data)
            XCTAssertLessThan(worst, 1e-5, "\(example) batch \(batch)")
            XCTAssertGreaterThan(Agreement.largest(want.data.map(abs)), 0.05, "expectation values far from 0, so agreement means something")
        }
    }

    func testQEMLNetCircuitRunsAsTheFoldedKernel() throws {
        try check("qemlnet-circuit.qir", width: 4, kind: "circuit (folded-observables)", batches: [1, 3, 17, 40], seed: 21,
                  generatedKernel: true)
    }


    func testEightQubitsAboveTheFoldingLimitRunOnTheStateVectorKernel() throws {
        let g = try QIR.parse(TestModels.eightQubitCircuit, file: "wide8.qir")
        try check(g, label: "wide8", width: 8, kind: "circuit (state-vector kernel", batches: [1, 5], seed: 9)
    }

    /// One circuit planner: `fuse-quantum` binds the real weights when compiling, and its plan is
    /// the one the step runs; without weights it says it planned with placeholders.
    func testTheCircuitPlanThatRunsIsFuseQuantumsWithTheRealWeights() throws {
        let g = try QIR.load(path: examplePath("qemlnet-reupload.qir"))
        let w = executorTestWeights(g, seed: 5)
        let model = try CompiledModel.compile(g, weights: w, options: CompileOptions(backend: .jit, threads: 1,
                                                                                      cache: ObjectCache(directory: temporaryObjectCacheDirectory())))
        let name = g[g.outputs[0]].name
        let planned = try XCTUnwrap(model.passes.circuitPlans[name])
        let step = try XCTUnwrap(model.plan.steps.first { $0.node == name })
        guard case .circuit(let e, _) = step.action else { return XCTFail("not a circuit step: \(step.summary)") }
        XCTAssertEqual(e.plan.reason, planned.reason)
        XCTAssertEqual(e.compiled?.schedule.opCount, planned.schedule?.opCount)
        let note = try XCTUnwrap(model.passes.graph.notes.first { $0.hasPrefix("fuse-quantum:") })
        XCTAssertFalse(note.contains("placeholder"), note)
        let bare = try PassManager().run(g)
        XCTAssertTrue(bare.circuitPlans.isEmpty)
        XCTAssertTrue(bare.graph.notes.contains { $0.hasPrefix("fuse-quantum:") && $0.hasSuffix("(planned with placeholder weights; compiling binds the real ones)") },
                      "\(bare.graph.notes)")
    }

    func testReuploadCircuitRunsOnTheStateVectorKernel() throws {
        try check("qemlnet-reupload.qir", width: 10, kind: "circuit (state-vector kernel", batches: [1, 3, 8], seed: 5)
    }

    /// The batch is split over the pool's threads; each sample is computed the same way.
    func testThreadCountDoesNotChangeStateVectorResults() throws {
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

    /// One sample of a 15-qubit state: the pool splits each stage's chunks instead of samples.
    func testLargeStateSplitsStagesOverThreads() throws {
        let source = """
        model "wide"
        input %angles: f32[N,15]
        %z = circuit(%angles, @w, wires=15) {
          for l in 0..2 {
            for q in 0..15 { ry(x[q], wires=q) }
            for q in 0..15 { rot(w[l,q,0], w[l,q,1], w[l,q,2], wires=q) }
            for q in 0..14 { cnot(wires=[q, q+1]) }
          }
          expval(Z, wires=[0,1,2,3,4,5,6,7,8,9,10,11,12,13,14])
        }
        output %z
        """
        let g = try QIR.parse(source, file: "wide.qir")
        let w = executorTestWeights(g, seed: 8)
        let angles = Tensor(shape: [1, 15], data: (0..<15).map { Float(sin(Double($0) * 2.1)) * 3 })
        let want = try XCTUnwrap(try Interpreter(graph: g, weights: w).evaluate(["z"], inputs: ["angles": angles])["z"])
        var outputs: [[Float]] = []
        for threads in [1, 2] {
            let options = CompileOptions(backend: .jit, threads: threads, cache: ObjectCache(directory: temporaryObjectCacheDirectory()))
            let model = try CompiledModel.compile(g, weights: w, options: options)
            XCTAssertTrue(model.plan.stepInfo.contains { $0.kind.hasPrefix("circuit (state-vector kernel") }, "\(model.plan.stepInfo.map(\.kind))")
            let got = try XCTUnwrap(try model.run(inputs: ["angles": angles])["z"])
            XCTAssertLessThan(Agreement.absolute(got.data, want.data), 1e-5, "\(threads) threads")
            outputs.append(got.data)
        }
        XCTAssertEqual(outputs[0], outputs[1])
        XCTAssertGreaterThan(Agreement.largest(want.data.map(abs)), 0.05)
    }
}
