import QEMLIR

/// `fuse-conv-epilogue`: `relu(add(conv2d(…), r))` → `conv2d(…, residual=r, activation="relu")`,
/// and `relu(conv2d(…))` → `conv2d(…, activation="relu")`.
///
/// Legal when the conv's output and the sum feed nothing else: the fused conv then takes the
/// place of the relu, where every operand (the conv's inputs and `r`) is already defined, so the
/// residual may come from anywhere before the add, even from after the conv. `r` must have
/// exactly the conv's output type (no broadcasting) and must not be the conv's own output.
/// An add without a relu is left alone: CBAM's `fc2(avg) + fc2(max)` is such an add, and
/// `fuse-cbam` needs to see it.
public struct FuseConvEpilogue: Pass {
    public init() {}
    public var name: String { "fuse-conv-epilogue" }
    public var summary: String { "fuse a residual add and ReLU into the producing conv" }

    public func run(_ g: Graph, _ ctx: PassContext) throws -> Graph {
        let facts = GraphFacts(g)
        var rw = Rewriter(g)
        var withResidual = 0, reluOnly = 0
        for (i, relu) in g.nodes.enumerated() where relu.op == "relu" {
            guard let s = relu.operand(0), let pi = g.producer(of: s), facts.soleUser(s) == i else { continue }
            let p = g.nodes[pi]
            if p.op == "conv2d", p.results.count == 1, acceptsEpilogue(p) {
                // conv → relu
                var fused = p
                fused.setAttribute("activation", .string("relu"))
                fused.results = relu.results
                rw.replace(i, with: fused)
                rw.remove(pi)
                reluOnly += 1
            } else if p.op == "add", let (ci, r) = convOperand(of: p, facts) {
                // conv → add → relu
                var fused = g.nodes[ci]
                fused.setOperand("residual", r)
                fused.setAttribute("activation", .string("relu"))
                fused.results = relu.results
                rw.replace(i, with: fused)
                rw.remove(pi)
                rw.remove(ci)
                withResidual += 1
            }
        }
        ctx.count(withResidual + reluOnly)
        if withResidual > 0 { ctx.log("fused \(withResidual) residual add\(withResidual == 1 ? "" : "s") + relu into convs") }
        if reluOnly > 0 { ctx.log("fused \(reluOnly) relu\(reluOnly == 1 ? "" : "s") into convs") }
        return rw.finish()
    }

    /// The conv operand of `add` that can take the other operand as its residual. When both
    /// qualify, the later conv: its residual is then already computed where it runs.
    private func convOperand(of add: Node, _ facts: GraphFacts) -> (Int, ValueID)? {
        guard let a = add.operand(0), let b = add.operand(1), a != b else { return nil }
        let addIndex = facts.graph.producer(of: add.results[0])
        var best: (Int, ValueID)?
        for (c, r) in [(a, b), (b, a)] {
            guard let ci = facts.graph.producer(of: c), facts.soleUser(c) == addIndex else { continue }
            let conv = facts.graph.nodes[ci]
            guard conv.op == "conv2d", conv.results.count == 1, acceptsEpilogue(conv),
                  conv.operand(named: "residual") == nil, !facts.isWeight(r),
                  facts.graph.type(of: r) == facts.graph.type(of: c) else { continue }
            if let chosen = best, chosen.0 > ci { continue }
            best = (ci, r)
        }
        return best
    }

    private func acceptsEpilogue(_ conv: Node) -> Bool {
        conv.string("activation") == "none" && conv.string("pool") == "none"
    }
}
