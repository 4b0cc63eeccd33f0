import XCTest
import QEMLCodegen
import QEMLIR
import QEMLPasses
import QEMLTensor
@testable import QEMLRuntime

/// Whole models through the executor against the reference interpreter on the unoptimized graph.
final class ExecutorTests: XCTestCase {
    private func compile(_ g: Graph, _ w: [String: Tensor], backend: ConvBackend = .jit, threads: Int = 1) throws -> CompiledModel {
        let options = CompileOptions(backend: backend, threads: threads, cache: ObjectCache(directory: temporaryObjectCacheDirectory()))
        return try CompiledModel.compile(g, weights: w, options: options)
    }

    private func reference(_ g: Graph, _ w: [String: Tensor], _ inputs: [String: Tensor]) throws -> [String: Tensor] {
        let names = g.outputs.map { g[$0].name }
        return try Interpreter(graph: g, weights: w).evaluate(names, inputs: inputs)
    }

    private func assertClose(_ got: [String: Tensor], _ want: [String: Tensor], tolerance: Float = 1e-4,
                             file: StaticString = #filePath, line: UInt = #line) {
        XCTAssertEqual(Set(got.keys), Set(want.keys), file: file, line: line)
        for (name, w) in want {
            guard let t = got[name] else { continue }
            XCTAssertEqual(t.shape, w.shape, name, file: file, line: line)
            guard t.shape == w.shape else { continue }
            let err = relativeError(t, w)
            XCTAssertLessThanOrEqual(err, tolerance, "%\(name): relative error \(err)", file: file, line: line)
        }
    }

    func testTinyModelJITMatchesInterpreter() throws {
        let g = try QIR.load(path: examplePath("qemlnet-tiny.qir"))
        let w = executorTestWeights(g)
        let input = ["spectrogram": executorTestInput([1, 2, 32, 32])]
        let model = try compile(g, w)
        assertClose(try model.run(inputs: input), try reference(g, w, input))
        XCTAssertEqual(model.plan.definitions.filter { $0.kind == "conv2d" }.count, 17, "every convolution is generated")
        XCTAssertEqual(model.plan.fallbacks, [], "every node runs compiled code")
        XCTAssertTrue(model.plan.stepInfo.contains { $0.kind == "circuit (folded-observables)" }, "the circuit runs as the generated folded-observables kernel")
    }

    func testTinyModelBLASMatchesInterpreter() throws {
        let g = try QIR.load(path: examplePath("qemlnet-tiny.qir"))
        let w = executorTestWeights(g, seed: 3)
        let input = ["spectrogram": executorTestInput([1, 2, 32, 32], seed: 5)]
        let model = try compile(g, w, backend: .blas)
        XCTAssertTrue(model.plan.stepInfo.contains { $0.kind == "conv2d (blas)" })
        assertClose(try model.run(inputs: input), try reference(g, w, input))
    }

    /// The symbolic batch: one compiled model runs batch 1 and batch 3 (arena per batch size),
    /// each sample equal to running it alone.
    func testSymbolicBatch() throws {
        let g = try QIR.load(path: examplePath("qemlnet-tiny.qir"))
        let w = executorTestWeights(g, seed: 9)
        let batch = executorTestInput([3, 2, 32, 32], seed: 13)
        let model = try compile(g, w, threads: 2)
        let got = try model.run(inputs: ["spectrogram": batch])
        assertClose(got, try reference(g, w, ["spectrogram": batch]))
        let second = Tensor(shape: [1, 2, 32, 32], data: Array(batch.data[2048..<4096]))
        let alone = try model.run(inputs: ["spectrogram": second])
        let probs = try XCTUnwrap(got["probs"]), one = try XCTUnwrap(alone["probs"])
        XCTAssertEqual(Array(probs.data[8..<16]), one.data, "a sample's result does not depend on the batch around it")
    }

    /// Work items are split by index, never reduced across threads: 1 and 2 threads agree bit for bit.
    func testThreadCountDoesNotChangeResults() throws {
        let g = try QIR.load(path: examplePath("qemlnet-tiny.qir"))
        let w = executorTestWeights(g, seed: 21)
        let input = ["spectrogram": executorTestInput([2, 2, 32, 32], seed: 17)]
        let one = try compile(g, w, threads: 1).run(inputs: input)
        let two = try compile(g, w, threads: 2).run(inputs: input)
        for (name, t) in one { XCTAssertEqual(t.data, two[name]?.data, name) }
        let blasOne = try compile(g, w, backend: .blas, threads: 1).run(inputs: input)
        let blasTwo = try compile(g, w, backend: .blas, threads: 2).run(inputs: input)
        for (name, t) in blasOne { XCTAssertEqual(t.data, blasTwo[name]?.data, name) }
    }

    /// A mid-size variant of the tiny model: 3 input channels, odd spatial sizes (27×27), channel
    /// counts that are not multiples of the vector width (6, 10, 20 → 24, 40, 80), two blocks per
    /// stage (identical blocks share one generated function per kernel), batch 2.
    func testMidSizeModelWithRepeatedBlocks() throws {
        var source = try String(contentsOfFile: examplePath("qemlnet-tiny.qir"), encoding: .utf8)
        // Three channels are no front end's output (it makes one spectrogram): drop the section.
        if let start = source.range(of: "frontend %spectrogram {"), let end = source.range(of: "}\n", range: start.upperBound..<source.endIndex) {
            source.removeSubrange(start.lowerBound..<end.upperBound)
        }
        for (old, new) in [("input %spectrogram: f32[N,2,32,32]", "input %spectrogram: f32[N,3,27,27]"),
                           ("stage(%stem, 1, 4, 1,", "stage(%stem, 2, 6, 1,"), ("stage(%layer1, 1, 8, 2,", "stage(%layer1, 2, 10, 2,"),
                           ("stage(%layer2, 1, 8, 2,", "stage(%layer2, 1, 20, 2,")] {
            XCTAssertTrue(source.contains(old), old)
            source = source.replacingOccurrences(of: old, with: new)
        }
        let g = try QIR.parse(source, file: "mid.qir")
        let w = executorTestWeights(g, seed: 31)
        let input = ["spectrogram": executorTestInput([2, 3, 27, 27], seed: 37)]
        let model = try compile(g, w, threads: 2)
        let steps = model.plan.stepInfo.filter { !$0.kind.contains("interpreter") }.count
        XCTAssertLessThan(model.plan.definitions.count, steps, "repeated blocks share generated functions")
        assertClose(try model.run(inputs: input), try reference(g, w, input))
        let blas = try compile(g, w, backend: .blas, threads: 2)
        assertClose(try blas.run(inputs: input), try reference(g, w, input))
    }

    func testWrongInputIsAClearError() throws {
        let g = try QIR.load(path: examplePath("qemlnet-tiny.qir"))
        let model = try compile(g, executorTestWeights(g))
        XCTAssertThrowsError(try model.run(inputs: ["spectrogram": Tensor(zeros: [1, 1, 16, 16])])) { e in
            XCTAssertEqual("\(e)", "input 'spectrogram' has shape [1,1,16,16] but the model declares f32[N,2,32,32]")
        }
        XCTAssertThrowsError(try model.run(inputs: [:])) { e in
            XCTAssertEqual("\(e)", "input 'spectrogram' (f32[N,2,32,32]) was not given")
        }
    }
}
