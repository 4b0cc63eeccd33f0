import Foundation
import Synchronization

/// Work split into `parts` pieces by index; part p always gets the same share, so results do
/// not depend on which thread ran what.
protocol ParallelWork: AnyObject {
    func run(part: Int, of parts: Int)
}

/// A small persistent pool: `threads − 1` workers plus the calling thread. `run` hands every
/// worker the same work object and returns when all parts are done. Workers spin briefly on a
/// generation counter (kernels follow each other within microseconds), then sleep on a
/// condition variable, so an idle pool costs nothing. No allocation per `run`.
final class ThreadPool {
    let threads: Int
    private let state: State

    init(threads: Int) {
        self.threads = max(1, threads)
        state = State(workers: self.threads - 1)
        for index in 1..<self.threads {
            let state = state
            let t = Thread { state.workerLoop(index: index) }
            t.name = "qemlc-worker-\(index)"
            t.start()
        }
    }

    deinit { state.stop() }

    /// Runs `work` as `threads` parts, part 0 on this thread.
    func run(_ work: ParallelWork) {
        if threads == 1 { work.run(part: 0, of: 1); return }
        state.dispatch(work, parts: threads)
    }

    /// Shared between the pool and its workers.
    private final class State: @unchecked Sendable {
        // @unchecked: `work` is written only by the dispatching thread before it publishes a new
        // generation (release) and read by workers after they observe it (acquire); the
        // dispatcher clears it only after every worker has reported done.
        let workers: Int
        let generation = Atomic<Int>(0)
        let pending = Atomic<Int>(0)
        let stopping = Atomic<Bool>(false)
        let condition = NSCondition()
        nonisolated(unsafe) var work: ParallelWork?
        nonisolated(unsafe) var parts = 1

        init(workers: Int) { self.workers = workers }

        func dispatch(_ w: ParallelWork, parts: Int) {
            work = w
            self.parts = parts
            pending.store(workers, ordering: .relaxed)
            condition.lock()
            generation.add(1, ordering: .releasing)
            condition.broadcast()
            condition.unlock()
            w.run(part: 0, of: parts)
            var spins = 0
            while pending.load(ordering: .acquiring) != 0 {
                spins += 1
                if spins > 256 { sched_yield() }
            }
            work = nil
        }

        func workerLoop(index: Int) {
            var seen = 0
            while true {
                var g = generation.load(ordering: .acquiring)
                var spins = 0
                while g == seen, spins < 40_000, !stopping.load(ordering: .relaxed) {
                    spins += 1
                    if spins > 2_000 { sched_yield() }
                    g = generation.load(ordering: .acquiring)
                }
                if g == seen {
                    condition.lock()
                    while generation.load(ordering: .acquiring) == seen, !stopping.load(ordering: .relaxed) { condition.wait() }
                    condition.unlock()
                    g = generation.load(ordering: .acquiring)
                }
                if stopping.load(ordering: .relaxed) { return }
                seen = g
                work?.run(part: index, of: parts)
                pending.subtract(1, ordering: .releasing)
            }
        }

        func stop() {
            condition.lock()
            stopping.store(true, ordering: .relaxed)
            condition.broadcast()
            condition.unlock()
        }
    }
}
