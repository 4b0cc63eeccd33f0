import XCTest
import QEMLCodegen
import QEMLIR
import QEMLPasses
import QEMLTensor
@testable import QEMLRuntime

/// The executor's parts on their own: storage conversion, arena placement, the thread pool.
final class ExecutorPartsTests: XCTestCase {
    func testBlockedStorageRoundTripPadsWithZeros() {
        let s = BlockedStorage(channels: 5, height: 2, width: 3, lanes: 4)
        XCTAssertEqual(s.elementsPerSample, 2 * 4 * 6)
        let plain = (0..<(2 * s.plainPerSample)).map { Float($0) + 1 }
        var blocked = [Float](repeating: -1, count: 2 * s.elementsPerSample)
        var back = [Float](repeating: 0, count: plain.count)
        plain.withUnsafeBufferPointer { p in blocked.withUnsafeMutableBufferPointer { b in s.block(p.baseAddress!, into: b.baseAddress!, batch: 2) } }
        // Sample 0, channel 4 (block 1, lane 0), pixel (1, 2) = plain index 4·6 + 5.
        XCTAssertEqual(blocked[(1 * 6 + 5) * 4 + 0], plain[4 * 6 + 5])
        // Channels 5…7 are padding lanes: zero, in both samples.
        for n in 0..<2 { for p in 0..<6 { for lane in 1..<4 { XCTAssertEqual(blocked[n * s.elementsPerSample + (6 + p) * 4 + lane], 0) } } }
        blocked.withUnsafeBufferPointer { b in back.withUnsafeMutableBufferPointer { p in s.unblock(b.baseAddress!, into: p.baseAddress!, batch: 2) } }
        XCTAssertEqual(back, plain)
    }

    /// Slots alive at the same step never share floats (checked against lifetimes recomputed here).
    func testArenaSlotsWithOverlappingLifetimesDoNotOverlap() throws {
        let g = try QIR.load(path: examplePath("qemlnet-tiny.qir"))
        let graph = try PassManagerRunner.run(g)
        let plan = try KernelPlan(graph: graph, weights: executorTestWeights(g), target: .host)
        var first = [Int](repeating: .max, count: plan.slots.count), last = [Int](repeating: -1, count: plan.slots.count)
        for (i, s) in plan.steps.enumerated() { for k in s.slots { first[k] = min(first[k], i); last[k] = max(last[k], i) } }
        for p in plan.inputs { first[p.slot] = -1 }
        for p in plan.outputs { last[p.slot] = plan.steps.count }
        let offsets = plan.layout.offsets
        var checked = 0
        for a in plan.slots.indices where last[a] >= first[a] {
            XCTAssertEqual(offsets[a] % ArenaLayout.alignment, 0)
            XCTAssertLessThanOrEqual(offsets[a] + plan.slots[a].floatsPerSample, plan.layout.floatsPerSample)
            for b in plan.slots.indices where b > a && last[b] >= first[b] && first[a] <= last[b] && first[b] <= last[a] {
                let disjoint = offsets[a] + plan.slots[a].floatsPerSample <= offsets[b] || offsets[b] + plan.slots[b].floatsPerSample <= offsets[a]
                XCTAssertTrue(disjoint, "\(plan.slots[a].name) and \(plan.slots[b].name) are alive together but overlap")
                checked += 1
            }
        }
        XCTAssertGreaterThan(checked, 10)
        XCTAssertLessThan(plan.layout.floatsPerSample, plan.layout.naiveFloatsPerSample, "dead buffers are reused")
    }

    /// Every part runs exactly once per dispatch, on many dispatches in a row.
    func testThreadPoolRunsEveryPartOncePerDispatch() {
        final class Counter: ParallelWork, @unchecked Sendable {
            // @unchecked: each part writes only its own element; the pool's dispatch orders the reads.
            let hits = UnsafeMutablePointer<Int>.allocate(capacity: 3)
            init() { hits.initialize(repeating: 0, count: 3) }
            deinit { hits.deallocate() }
            func run(part: Int, of parts: Int) { hits[part] += 1 }
        }
        let pool = ThreadPool(threads: 3)
        let counter = Counter()
        for _ in 0..<2000 { pool.run(counter) }
        XCTAssertEqual((0..<3).map { counter.hits[$0] }, [2000, 2000, 2000])
    }
}

/// The pass pipeline with the default context, as `CompiledModel.compile` runs it.
enum PassManagerRunner {
    static func run(_ g: Graph) throws -> Graph {
        try QEMLPasses.PassManager().run(g, context: QEMLPasses.PassContext(vectorWidth: TargetDescription.host.vectorWidth)).graph
    }
}
