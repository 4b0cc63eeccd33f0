import QEMLIR

/// `fuse-cbam`: finds each Convolutional Block Attention Module written out op by op and
/// replaces it with one `fused_cbam` op, moving the channel pooling into the producing conv
/// (`pool="avgmax"`, whose extra results are the pooled vectors).
///
/// The pattern, for a value `y` ([N,C,H,W]):
///
///     a = global_avgpool(y)          m = global_maxpool(y)
///     a2 = fc2(relu(fc1(a)))         m2 = fc2(relu(fc1(m)))      (1×1 conv2d, shared weights)
///     y1 = mul(y, sigmoid(add(a2, m2)))
///     s = conv2d(concat(channel_mean(y1), channel_max(y1)), @w, out=1, kernel=k, padding=k/2)
///     y2 = mul(y1, sigmoid(s))
///     [y3 = add(y2, r)] [relu(…)]
///
/// Operands of mul and add may come in either order; the relu after fc1 and the sigmoid after
/// the spatial conv may already be fused into those convs. Every intermediate value must feed
/// only the pattern (y itself may have other users). If `y` is not made by a conv that can take
/// the pooling, the two global pools stay and feed the `fused_cbam` op.
public struct FuseCBAM: Pass {
    public init() {}
    public var name: String { "fuse-cbam" }
    public var summary: String { "replace each CBAM block by one fused_cbam op and pool in the producing conv" }

    struct Match {
        var y: ValueID
        var avgPool: Int, maxPool: Int
        var operands: [ValueID?]   // cbam's slots, avg/max filled from the pools' results
        var attributes: Attributes
        var removed: [Int]         // every matched node except the last
        var last: Int              // replaced by the fused_cbam op
    }

    public func run(_ g: Graph, _ ctx: PassContext) throws -> Graph {
        let facts = GraphFacts(g)
        var rw = Rewriter(g)
        var taken = Set<Int>()
        var fused = 0, pooledInConv = 0, withResidual = 0
        for (i, n) in g.nodes.enumerated() where n.op == "mul" && !taken.contains(i) {
            guard let m = match(channelMul: i, facts) else { continue }
            let nodes = m.removed + [m.last]
            guard taken.isDisjoint(with: nodes) else { continue }
            var operands = m.operands
            var removed = m.removed
            // Pool in the producer of y when it is a conv that does not pool yet.
            if let pi = g.producer(of: m.y), !taken.contains(pi), g.nodes[pi].op == "conv2d",
               g.nodes[pi].results.count == 1, g.nodes[pi].string("pool") == "none" {
                var conv = rw.graph.nodes[pi]
                conv.setAttribute("pool", .string("avgmax"))
                conv.results = [m.y, g.nodes[m.avgPool].results[0], g.nodes[m.maxPool].results[0]]
                rw.replace(pi, with: conv)
                taken.insert(pi)
                pooledInConv += 1
            } else {
                removed.removeAll { $0 == m.avgPool || $0 == m.maxPool }
            }
            operands[1] = g.nodes[m.avgPool].results[0]
            operands[2] = g.nodes[m.maxPool].results[0]
            if operands[9] != nil { withResidual += 1 }
            taken.formUnion(nodes)
            for r in removed { rw.remove(r) }
            var attributes = m.attributes
            attributes["precision"] = .string(Precision.f32.rawValue)  // the MLP's weights; `quantize` may reduce them
            rw.replace(m.last, with: Node(op: "fused_cbam", operands: operands, attributes: attributes,
                                          results: g.nodes[m.last].results, location: g.nodes[i].location))
            fused += 1
        }
        ctx.count(fused)
        if fused > 0 {
            ctx.log("fused \(fused) CBAM block\(fused == 1 ? "" : "s") (\(pooledInConv) with pooling in the producing conv, "
                    + "\(withResidual) with the residual add)")
        }
        return rw.finish()
    }

    /// Matches the whole block from the channel-attention multiply `mul(y, sigmoid(…))`.
    func match(channelMul i: Int, _ f: GraphFacts) -> Match? {
        let g = f.graph
        let mul1 = g.nodes[i]
        guard let a = mul1.operand(0), let b = mul1.operand(1) else { return nil }
        for (y, gate) in [(a, b), (b, a)] where y != gate {
            guard g.type(of: mul1.results[0]) == g.type(of: y), g.type(of: y).rank == 4,
                  var m = matchChannelGate(gate, y: y, user: i, f) else { continue }
            guard let rest = matchSpatial(y1: mul1.results[0], channelMul: i, f) else { continue }
            m.removed += [i] + rest.removed
            m.last = rest.last
            m.operands[5] = rest.spatial
            m.operands[8] = rest.spatialBias
            m.operands[9] = rest.residual
            m.attributes["kernel"] = .int(rest.kernel)
            m.attributes["padding"] = .int(rest.kernel / 2)
            m.attributes["activation"] = .string(rest.relu ? "relu" : "none")
            return m
        }
        return nil
    }

    /// `sigmoid(add(fc2(relu(fc1(avg(y)))), fc2(relu(fc1(max(y))))))`, read by node `user` only.
    private func matchChannelGate(_ gate: ValueID, y: ValueID, user: Int, _ f: GraphFacts) -> Match? {
        let g = f.graph
        guard f.soleUser(gate) == user, let si = g.producer(of: gate), g.nodes[si].op == "sigmoid",
              let s = g.nodes[si].operand(0), f.soleUser(s) == si, let ai = g.producer(of: s), g.nodes[ai].op == "add",
              let p = g.nodes[ai].operand(0), let q = g.nodes[ai].operand(1), p != q,
              let bp = matchMLPBranch(p, user: ai, y: y, f), let bq = matchMLPBranch(q, user: ai, y: y, f),
              Set([bp.pool.op, bq.pool.op]) == ["global_avgpool", "global_maxpool"],
              bp.fc1 == bq.fc1, bp.fc2 == bq.fc2 else { return nil }
        let (avg, max) = bp.pool.op == "global_avgpool" ? (bp, bq) : (bq, bp)
        var operands = [ValueID?](repeating: nil, count: OpRegistry.decl("fused_cbam")?.operands.count ?? 12)
        operands[0] = y
        operands[3] = bp.fc1.weight
        operands[4] = bp.fc2.weight
        operands[6] = bp.fc1.bias
        operands[7] = bp.fc2.bias
        return Match(y: y, avgPool: avg.pool.index, maxPool: max.pool.index, operands: operands,
                     attributes: Attributes([("hidden", .int(bp.hidden))]),
                     removed: bp.nodes + bq.nodes + [ai, si], last: -1)
    }

    private struct Weights: Equatable { var weight: ValueID; var bias: ValueID? }
    private struct Branch { var pool: (op: String, index: Int); var fc1: Weights; var fc2: Weights; var hidden: Int; var nodes: [Int] }

    /// `fc2(relu(fc1(pool(y))))` read by node `user` only; the relu may be fc1's activation.
    private func matchMLPBranch(_ v: ValueID, user: Int, y: ValueID, _ f: GraphFacts) -> Branch? {
        let g = f.graph
        guard f.soleUser(v) == user, let fc2i = g.producer(of: v), let fc2 = pointwiseConv(g.nodes[fc2i], f),
              g.nodes[fc2i].string("activation") == "none", let h = g.nodes[fc2i].operand(0), f.soleUser(h) == fc2i,
              var fc1i = g.producer(of: h) else { return nil }
        var nodes = [fc2i]
        if g.nodes[fc1i].op == "relu" {
            guard let h0 = g.nodes[fc1i].operand(0), f.soleUser(h0) == fc1i, let c = g.producer(of: h0),
                  g.nodes[c].string("activation") == "none" else { return nil }
            nodes.append(fc1i)
            fc1i = c
        } else if g.nodes[fc1i].string("activation") != "relu" {
            return nil
        }
        guard let fc1 = pointwiseConv(g.nodes[fc1i], f), let pooled = g.nodes[fc1i].operand(0), f.soleUser(pooled) == fc1i,
              let pi = g.producer(of: pooled), ["global_avgpool", "global_maxpool"].contains(g.nodes[pi].op),
              g.nodes[pi].operand(0) == y, let hidden = g.nodes[fc1i].int("out") else { return nil }
        nodes += [fc1i, pi]
        return Branch(pool: (g.nodes[pi].op, pi), fc1: fc1, fc2: fc2, hidden: hidden, nodes: nodes)
    }

    /// A plain 1×1 conv (the MLP's dense layer on a pooled vector): its weight and bias.
    private func pointwiseConv(_ n: Node, _ f: GraphFacts) -> Weights? {
        guard n.op == "conv2d", n.results.count == 1, n.ints("kernel") == [1, 1], n.ints("stride") == [1, 1],
              n.ints("padding") == [0, 0], n.ints("dilation") == [1, 1], n.int("groups") == 1, n.string("pool") == "none",
              noEpilogueOperands(n), let w = n.operand(1), f.isWeight(w) else { return nil }
        let bias = n.operand(named: "bias")
        if let bias, !f.isWeight(bias) { return nil }
        return Weights(weight: w, bias: bias)
    }

    private func noEpilogueOperands(_ n: Node) -> Bool {
        ["bn_weight", "bn_bias", "bn_mean", "bn_var", "residual"].allSatisfy { n.operand(named: $0) == nil }
    }

    private struct Spatial {
        var spatial: ValueID, spatialBias: ValueID?, kernel: Int
        var residual: ValueID?, relu: Bool
        var removed: [Int], last: Int
    }

    /// From y1: `mul(y1, sigmoid(conv(concat(channel_mean(y1), channel_max(y1)))))`, then the
    /// optional residual add and relu.
    private func matchSpatial(y1: ValueID, channelMul: Int, _ f: GraphFacts) -> Spatial? {
        let g = f.graph
        guard !f.isOutput.contains(y1), f.users[y1.raw].count == 3 else { return nil }
        let users = f.users[y1.raw]
        guard let meanI = users.first(where: { g.nodes[$0].op == "channel_mean" }),
              let maxI = users.first(where: { g.nodes[$0].op == "channel_max" }),
              let mul2I = users.first(where: { g.nodes[$0].op == "mul" }) else { return nil }
        let mean = g.nodes[meanI].results[0], mx = g.nodes[maxI].results[0]
        guard let catI = f.soleUser(mean), f.soleUser(mx) == catI, g.nodes[catI].op == "concat",
              g.nodes[catI].operands == [mean, mx], g.nodes[catI].int("axis") == 1,
              let convI = f.soleUser(g.nodes[catI].results[0]) else { return nil }
        let conv = g.nodes[convI]
        guard conv.op == "conv2d", conv.results.count == 1, conv.operand(0) == g.nodes[catI].results[0],
              conv.int("out") == 1, let k = conv.ints("kernel"), k.count == 2, k[0] == k[1], k[0] % 2 == 1,
              conv.ints("padding") == [k[0] / 2, k[0] / 2], conv.ints("stride") == [1, 1], conv.ints("dilation") == [1, 1],
              conv.int("groups") == 1, conv.string("pool") == "none", noEpilogueOperands(conv),
              let w = conv.operand(1), f.isWeight(w) else { return nil }
        let bias = conv.operand(named: "bias")
        if let bias, !f.isWeight(bias) { return nil }
        var removed = [meanI, maxI, catI, convI]
        var gate = conv.results[0]
        switch conv.string("activation") {
        case "sigmoid": break
        case "none":
            guard let si = f.soleUser(gate), g.nodes[si].op == "sigmoid" else { return nil }
            removed.append(si)
            gate = g.nodes[si].results[0]
        default: return nil
        }
        let mul2 = g.nodes[mul2I]
        guard f.soleUser(gate) == mul2I, Set([mul2.operand(0), mul2.operand(1)]) == Set([y1, gate]),
              g.type(of: mul2.results[0]) == g.type(of: y1) else { return nil }

        // Optional tail: + residual, relu.
        var last = mul2I, out = mul2.results[0]
        var residual: ValueID?
        if let ai = f.soleUser(out), g.nodes[ai].op == "add", let a = g.nodes[ai].operand(0), let b = g.nodes[ai].operand(1) {
            let r = a == out ? b : a
            if r != out, !f.isWeight(r), g.type(of: r) == g.type(of: out), g.type(of: g.nodes[ai].results[0]) == g.type(of: out) {
                residual = r
                removed.append(last)
                last = ai
                out = g.nodes[ai].results[0]
            }
        }
        var relu = false
        if let ri = f.soleUser(out), g.nodes[ri].op == "relu" {
            relu = true
            removed.append(last)
            last = ri
        }
        return Spatial(spatial: w, spatialBias: bias, kernel: k[0], residual: residual, relu: relu, removed: removed, last: last)
    }
}
