import QEMLIR

/// `fold-batchnorm`: `batchnorm(conv2d(x, w), γ, β, μ, σ²)` → `conv2d(x, w, bn_weight=γ, …)`.
/// The numbers stay symbolic: the code generator folds γ/√(σ²+ε) into the packed weights.
/// Only when the conv's output feeds nothing but the batchnorm, the conv has no BatchNorm,
/// residual, activation or pooling yet (those come after BN), and the BN parameters are weights.
public struct FoldBatchNorm: Pass {
    public init() {}
    public var name: String { "fold-batchnorm" }
    public var summary: String { "fold a BatchNorm that follows a conv into the conv's epilogue" }

    public func run(_ g: Graph, _ ctx: PassContext) throws -> Graph {
        let facts = GraphFacts(g)
        var rw = Rewriter(g)
        var folded = 0
        for (i, bn) in g.nodes.enumerated() where bn.op == "batchnorm" {
            guard let x = bn.operand(0), let ci = g.producer(of: x), facts.soleUser(x) == i else { continue }
            let conv = g.nodes[ci]
            guard conv.op == "conv2d", conv.results.count == 1, isPlain(conv) else { continue }
            let params = (1...4).map { bn.operand($0) }
            guard params.allSatisfy({ $0.map(facts.isWeight) ?? false }) else { continue }

            var fused = conv
            for (slot, v) in zip(["bn_weight", "bn_bias", "bn_mean", "bn_var"], params) { fused.setOperand(slot, v) }
            fused.setAttribute("eps", .float(bn.double("eps") ?? 1e-5))
            fused.results = bn.results
            if fused.location == nil { fused.location = bn.location }
            rw.replace(i, with: fused)
            rw.remove(ci)
            folded += 1
        }
        ctx.count(folded)
        if folded > 0 { ctx.log("folded \(folded) batchnorm\(folded == 1 ? "" : "s") into convs") }
        return rw.finish()
    }

    /// A conv whose epilogue is empty after the bias: BN must come before residual and activation.
    private func isPlain(_ conv: Node) -> Bool {
        ["bn_weight", "bn_bias", "bn_mean", "bn_var", "residual"].allSatisfy { conv.operand(named: $0) == nil }
            && conv.string("activation") == "none" && conv.string("pool") == "none"
    }
}
