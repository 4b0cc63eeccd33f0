import Foundation
import QEMLTensor

/// Timings of repeated runs: end to end (input in, outputs out) and per plan step.
public struct RunTimings: Sendable {
    /// Nanoseconds of each timed run (wall clock).
    public var runs: [UInt64]
    /// Process CPU nanoseconds of each timed run (all threads): with one thread, the run's time
    /// without the time it spent descheduled on a busy machine.
    public var cpuRuns: [UInt64]
    /// `steps[i]`: nanoseconds of step i in each timed run.
    public var steps: [[UInt64]]
    public var batch: Int

    /// The q-quantile (0…1) of `samples`, nearest rank.
    public static func quantile(_ samples: [UInt64], _ q: Double) -> Double {
        guard !samples.isEmpty else { return 0 }
        let sorted = samples.sorted()
        let rank = Int((q * Double(sorted.count)).rounded(.up)) - 1
        return Double(sorted[min(max(rank, 0), sorted.count - 1)])
    }
}

extension CompiledModel {
    /// Runs `warmup` untimed and `iterations` timed inferences on `inputs`.
    public func measure(inputs: [String: Tensor], warmup: Int, iterations: Int) throws -> RunTimings {
        let count = plan.steps.count
        let timings = UnsafeMutablePointer<UInt64>.allocate(capacity: max(1, count))
        defer { timings.deallocate() }
        var runs: [UInt64] = [], cpuRuns: [UInt64] = []
        var steps = [[UInt64]](repeating: [], count: count)
        var batch = 1
        for i in 0..<(warmup + iterations) {
            timings.initialize(repeating: 0, count: max(1, count))
            let cpuStart = processCPUNanoseconds()
            let start = DispatchTime.now().uptimeNanoseconds
            let arena = try bind(inputs)
            try execute(arena, timings: timings)
            _ = outputs(of: arena)
            let elapsed = DispatchTime.now().uptimeNanoseconds - start
            let cpu = processCPUNanoseconds() - cpuStart
            batch = arena.batch
            guard i >= warmup else { continue }
            runs.append(elapsed)
            cpuRuns.append(cpu)
            for s in 0..<count { steps[s].append(timings[s]) }
        }
        return RunTimings(runs: runs, cpuRuns: cpuRuns, steps: steps, batch: batch)
    }
}

/// CPU time of the whole process so far.
public func processCPUNanoseconds() -> UInt64 {
    var t = timespec()
    clock_gettime(CLOCK_PROCESS_CPUTIME_ID, &t)
    return UInt64(t.tv_sec) * 1_000_000_000 + UInt64(t.tv_nsec)
}
