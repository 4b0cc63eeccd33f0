import Foundation
import XCTest
import QEMLIR
import QEMLTensor
import QEMLCodegen
@testable import QEMLRuntime

/// What holds, bit for bit:
/// - the interpreter and a compiled model give identical outputs run after run, and a model
///   compiled twice gives the same outputs as the first;
/// - 1 and 2 threads agree exactly: work is split by output index, never reduced across threads;
/// - several threads, each with its own CompiledModel, run at once and each matches a serial run.
/// The compiled model and the interpreter agree to a tolerance only (different summation order).
final class DeterminismTests: XCTestCase {
    var cacheDir: URL!

    override func setUpWithError() throws { cacheDir = try freshFolder("cache") }
    override func tearDownWithError() throws { try? FileManager.default.removeItem(at: cacheDir) }

    func tiny() throws -> (Graph, [String: Tensor]) {
        let g = try QIR.load(path: examplePath("qemlnet-tiny.qir"))
        return (g, WeightInit.initialize(g, seed: 5))
    }

    func input(batch: Int, seed: UInt64) -> [String: Tensor] {
        var state = seed
        let data: [Float] = (0..<batch * 2048).map { _ in
            state = state &* 6364136223846793005 &+ 1442695040888963407
            return Float(state >> 40) / Float(1 << 24) * 2 - 1
        }
        return ["spectrogram": Tensor(shape: [batch, 2, 32, 32], data: data)]
    }

    func compile(_ g: Graph, _ w: [String: Tensor], threads: Int) throws -> CompiledModel {
        try CompiledModel.compile(g, weights: w, options: CompileOptions(threads: threads, cache: ObjectCache(directory: cacheDir)))
    }

    func bits(_ r: [String: Tensor]) -> [String: [UInt32]] { r.mapValues { $0.data.map(\.bitPattern) } }

    func testInterpreterIsBitIdenticalRunAfterRun() throws {
        let (g, w) = try tiny()
        let names = g.outputs.map { g[$0].name }
        let x = input(batch: 2, seed: 3)
        let first = bits(try Interpreter(graph: g, weights: w).evaluate(names, inputs: x))
        for _ in 0..<2 { XCTAssertEqual(bits(try Interpreter(graph: g, weights: w).evaluate(names, inputs: x)), first) }
    }

    func testCompiledModelIsBitIdenticalRunAfterRunAndRecompile() throws {
        let (g, w) = try tiny()
        let x = input(batch: 3, seed: 7)
        let model = try compile(g, w, threads: 2)
        let first = bits(try model.run(inputs: x))
        XCTAssertFalse(first.isEmpty)
        for _ in 0..<3 { XCTAssertEqual(bits(try model.run(inputs: x)), first) }
        // A different batch in between does not disturb the arena of this one.
        _ = try model.run(inputs: input(batch: 1, seed: 99))
        XCTAssertEqual(bits(try model.run(inputs: x)), first)
        // Compiled again (now from the object cache): the same bits.
        let again = try compile(g, w, threads: 2)
        XCTAssertTrue(again.fromCache)
        XCTAssertEqual(bits(try again.run(inputs: x)), first)
    }

    func testOneAndTwoThreadsAgreeBitForBit() throws {
        let (g, w) = try tiny()
        let x = input(batch: 2, seed: 11)
        XCTAssertEqual(bits(try compile(g, w, threads: 1).run(inputs: x)), bits(try compile(g, w, threads: 2).run(inputs: x)))
    }

    /// Each thread compiles and owns its model (CompiledModel is one-run-at-a-time); all run
    /// at once, each on its own input, and each result equals the serial one.
    func testThreadsWithTheirOwnModelsRunConcurrently() throws {
        let (g, w) = try tiny()
        let workers = 3
        let inputs = (0..<workers).map { input(batch: 1 + $0 % 2, seed: UInt64(100 + $0)) }
        let serialModel = try compile(g, w, threads: 1)
        let expected = try inputs.map { bits(try serialModel.run(inputs: $0)) }
        let results = Results(count: workers)
        let cache = ObjectCache(directory: cacheDir)
        let graph = g, weights = w
        DispatchQueue.concurrentPerform(iterations: workers) { i in
            do {
                let model = try CompiledModel.compile(graph, weights: weights, options: CompileOptions(threads: 1 + i % 2, cache: cache))
                var outs: [[String: Tensor]] = []
                for _ in 0..<3 { outs.append(try model.run(inputs: inputs[i])) }
                results.set(i, outs)
            } catch {
                results.fail(i, error)
            }
        }
        for i in 0..<workers {
            let (outs, error) = results.get(i)
            XCTAssertNil(error, "worker \(i)")
            XCTAssertEqual(outs.count, 3, "worker \(i)")
            for o in outs { XCTAssertEqual(bits(o), expected[i], "worker \(i)") }
        }
    }

    /// The interpreter is a value: one instance serves several threads at once.
    func testInterpreterSharedAcrossThreads() throws {
        let (g, w) = try tiny()
        let interpreter = try Interpreter(graph: g, weights: w)
        let names = g.outputs.map { g[$0].name }
        let inputs = (0..<3).map { input(batch: 1, seed: UInt64(200 + $0)) }
        let expected = try inputs.map { bits(try interpreter.evaluate(names, inputs: $0)) }
        let results = Results(count: 3)
        DispatchQueue.concurrentPerform(iterations: 3) { i in
            do { results.set(i, [try interpreter.evaluate(names, inputs: inputs[i])]) } catch { results.fail(i, error) }
        }
        for i in 0..<3 {
            let (outs, error) = results.get(i)
            XCTAssertNil(error)
            XCTAssertEqual(outs.first.map(bits), expected[i])
        }
    }
}

/// Per-worker results behind a lock.
final class Results: @unchecked Sendable {
    // @unchecked: every access goes through `lock`.
    private let lock = NSLock()
    private var outputs: [[[String: Tensor]]]
    private var errors: [Error?]

    init(count: Int) {
        outputs = Array(repeating: [], count: count)
        errors = Array(repeating: nil, count: count)
    }
    func set(_ i: Int, _ o: [[String: Tensor]]) { lock.lock(); outputs[i] = o; lock.unlock() }
    func fail(_ i: Int, _ e: Error) { lock.lock(); errors[i] = e; lock.unlock() }
    func get(_ i: Int) -> ([[String: Tensor]], Error?) { lock.lock(); defer { lock.unlock() }; return (outputs[i], errors[i]) }
}
