import QEMLIR

/// Greedy fusion of consecutive steps into blocks of at most `maxQubits` wires, after qsim's basic
/// fuser: a step joins the blocks that currently end its wires when each of them is the last block
/// on all of its own wires (so moving it later commutes with everything in between) and the union
/// still fits; otherwise it starts a new block.
struct GateFusion {
    struct Block {
        var wires: [Int]
        var steps: [CircuitStep]
        var alive = true
    }

    /// Groups `steps`; steps for which `canFuse` is false stay alone and are barriers on their wires.
    static func blocks(_ steps: [CircuitStep], qubits: Int, maxQubits: Int,
                       canFuse: (CircuitStep) -> Bool) -> [Block] {
        var blocks: [Block] = []
        var last = [Int?](repeating: nil, count: qubits)
        // Blocks that may still grow (a lone barrier step may not).
        var open: [Bool] = []
        for step in steps {
            let ws = step.wires
            if canFuse(step) {
                var candidates = Set<Int>()
                for w in ws { if let b = last[w] { candidates.insert(b) } }
                let frontier = candidates.allSatisfy { b in open[b] && blocks[b].wires.allSatisfy { last[$0] == b } }
                var union = Set(ws)
                for b in candidates { union.formUnion(blocks[b].wires) }
                if frontier && union.count <= maxQubits, let target = candidates.max() {
                    // Blocks act on disjoint wires: their order among themselves does not matter.
                    var merged: [CircuitStep] = []
                    var wires: [Int] = []
                    for b in candidates.sorted() {
                        merged += blocks[b].steps
                        wires += blocks[b].wires
                        if b != target { blocks[b].alive = false }
                    }
                    for w in ws where !wires.contains(w) { wires.append(w) }
                    blocks[target].steps = merged + [step]
                    blocks[target].wires = wires
                    for w in wires { last[w] = target }
                    continue
                }
            }
            blocks.append(Block(wires: ws, steps: [step]))
            open.append(canFuse(step))
            for w in ws { last[w] = blocks.count - 1 }
        }
        return blocks.filter(\.alive)
    }
}
