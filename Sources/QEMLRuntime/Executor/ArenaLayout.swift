/// `plan-memory`, the one memory planner: where every slot of a kernel plan lives in one arena,
/// per sample. It runs on the plan, not the graph, because the plan knows what the executor
/// stores (every value blocked, kernel scratch, aliases such as a free `reorder`), and its result
/// is the arena that runs, that `compile` reports and that the export sizes. Slots whose
/// lifetimes (first to last step that touches them; inputs from the start, outputs to the end)
/// overlap never share floats. Greedy best fit, largest first (TFLite's strategy): the largest
/// slots are placed first, each into the smallest gap between slots already placed whose
/// lifetimes overlap its own. A batch of B samples scales every offset by B, so one layout
/// serves every batch size.
struct ArenaLayout: Sendable {
    /// Offset of each slot, in floats per sample (multiples of 16: 64-byte aligned).
    var offsets: [Int]
    /// Each slot's first and last step (-1: from before the first; `steps.count`: to the end);
    /// a slot no step touches has `last < first`.
    var first: [Int], last: [Int]
    var floatsPerSample: Int
    var naiveFloatsPerSample: Int

    static let alignment = 16

    init(slots: [KernelPlan.Slot], steps: [KernelPlan.Step], inputs: [Int], outputs: [Int]) {
        var first = [Int](repeating: Int.max, count: slots.count)
        var last = [Int](repeating: -1, count: slots.count)
        for (i, s) in steps.enumerated() {
            for k in s.slots { first[k] = min(first[k], i); last[k] = max(last[k], i) }
        }
        for k in inputs { first[k] = -1; last[k] = max(last[k], -1) }
        for k in outputs { last[k] = steps.count; first[k] = min(first[k], steps.count) }
        let size = slots.map { ($0.floatsPerSample + Self.alignment - 1) / Self.alignment * Self.alignment }
        var offsets = [Int](repeating: 0, count: slots.count)
        let live = slots.indices.filter { last[$0] >= first[$0] }
        let order = live.sorted { (size[$0], -first[$0], -$0) > (size[$1], -first[$1], -$1) }
        var placed: [Int] = []
        for k in order {
            let overlapping = placed.filter { first[$0] <= last[k] && first[k] <= last[$0] }.sorted { offsets[$0] < offsets[$1] }
            var best: (offset: Int, gap: Int)?
            var cursor = 0
            for o in overlapping {
                let gap = offsets[o] - cursor
                if gap >= size[k], best.map({ gap < $0.gap }) ?? true { best = (cursor, gap) }
                cursor = max(cursor, offsets[o] + size[o])
            }
            offsets[k] = best?.offset ?? cursor
            placed.append(k)
        }
        self.offsets = offsets
        self.first = first
        self.last = last
        floatsPerSample = live.map { offsets[$0] + size[$0] }.max() ?? 0
        naiveFloatsPerSample = live.reduce(0) { $0 + size[$1] }
    }
}
