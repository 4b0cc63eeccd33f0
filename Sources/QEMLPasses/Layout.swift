import QEMLIR

/// Physical layouts of activations. The IR keeps logical NCHW shapes everywhere; `layout="nchw8c"`
/// on an op says its activation operands and results are stored as [N, ⌈C/8⌉, H, W, 8] (channels
/// padded with zeros to a whole block), and `reorder` ops convert at the edges.
public enum Layout {
    public static let plain = "nchw"

    public static func blocked(_ c: Int) -> String { "nchw\(c)c" }

    /// 1 for plain NCHW, c for `nchw<c>c`, nil for anything else.
    public static func blockSize(of layout: String) -> Int? { layoutBlockSize(layout) }

    static let blockableOps = FusedOps.blockableOps
    static let blockable = Set(blockableOps + ["fused_cbam"])

    /// The layout `v` is stored in: its producer's annotation (a reorder's `to`); inputs are plain.
    public static func of(_ v: ValueID, in g: Graph) -> String {
        guard let p = g.producer(of: v) else { return plain }
        let n = g.nodes[p]
        if n.op == "reorder" { return n.attributes.string("to") ?? plain }
        return n.attributes.string("layout") ?? plain
    }

    /// Elements `v` occupies in memory with batch symbols bound to `batch`, counting block padding.
    public static func physicalElements(_ v: ValueID, in g: Graph, batch: Int) -> Int {
        let t = g.type(of: v)
        var dims = t.dims.map { d -> Int in
            switch d {
            case .fixed(let x): return x
            case .symbolic: return batch
            }
        }
        if dims.count == 4, let c = blockSize(of: of(v, in: g)), c > 1 { dims[1] = (dims[1] + c - 1) / c * c }
        return dims.reduce(1, *)
    }
}

/// `layout`: NCHW → NCHWc with c the target's vector width. Every op on 4-D activations that has
/// a blocked form runs blocked (channel counts that are not a multiple of c are padded), so the
/// whole backbone stays blocked — CBAM's channel mean/max, concat and products included — and
/// `reorder` ops convert only at the edges: 4-D graph inputs, the first plain consumer (flatten)
/// and 4-D graph outputs. Weights are not activations: the code generator packs them.
public struct LayoutPass: Pass {
    public init() {}
    public var name: String { "layout" }
    public var summary: String { "annotate ops with the NCHWc blocked layout and insert reorders at its edges" }

    public func run(_ g: Graph, _ ctx: PassContext) throws -> Graph {
        let c = ctx.vectorWidth
        guard c > 1 else {
            ctx.log("vector width \(c): everything stays \(Layout.plain)")
            return g
        }
        // A dump taken after this pass already says where each value lives: keep it.
        if g.nodes.contains(where: { $0.op == "reorder" || $0.attributes["layout"] != nil }) {
            ctx.log("already laid out, unchanged")
            return g
        }
        let blocked = Layout.blocked(c)
        var rw = Rewriter(g)
        var isBlocked = [Bool](repeating: false, count: g.values.count)

        func activations(_ n: Node) -> [ValueID] { n.operands.compactMap { $0 }.filter { !g[$0].isWeight } }

        // Every op with a blocked form whose activations are all 4-D runs blocked; the rest
        // (flatten, dense, softmax, circuit) read plain tensors.
        var blockedOps = 0
        for (i, n) in g.nodes.enumerated() where Layout.blockable.contains(n.op) {
            guard (activations(n) + n.results).allSatisfy({ g.type(of: $0).rank == 4 }),
                  n.op != "concat" || n.int("axis") == 1 else { continue }
            var m = n
            m.setAttribute("layout", .string(blocked))
            rw.replace(i, with: m)
            for r in n.results { isBlocked[r.raw] = true }
            blockedOps += 1
        }

        // Conversions: one reorder per (value, wanted layout), before its first consumer.
        var converted: [ValueID: ValueID] = [:]
        func convert(_ v: ValueID, toBlocked: Bool, before index: Int, name: String) -> ValueID {
            if let done = converted[v] { return done }
            let r = rw.newValue(name, g.type(of: v))
            rw.insert(Node(op: "reorder", operands: [v],
                           attributes: Attributes([("from", .string(toBlocked ? Layout.plain : blocked)),
                                                   ("to", .string(toBlocked ? blocked : Layout.plain))]),
                           results: [r]), before: index)
            converted[v] = r
            return r
        }
        for (i, n) in g.nodes.enumerated() {
            var m = rw.graph.nodes[i]
            let wantsBlocked = m.attributes.string("layout") == blocked
            var changed = false
            for (k, v) in n.operands.enumerated() {
                guard let v, !g[v].isWeight, isBlocked[v.raw] != wantsBlocked else { continue }
                let suffix = wantsBlocked ? blocked : Layout.plain
                m.operands[k] = convert(v, toBlocked: wantsBlocked, before: i, name: "\(g[v].name)_\(suffix)")
                changed = true
            }
            if changed { rw.replace(i, with: m) }
        }
        // Graph outputs are plain; the converted value takes over the output's name.
        var outputs = g.outputs
        for (k, v) in g.outputs.enumerated() where isBlocked[v.raw] {
            let name = g[v].name
            rw.rename(v, to: rw.freshName("\(name)_\(blocked)"))
            if let done = converted[v] {
                rw.rename(done, to: name)
                outputs[k] = done
            } else {
                outputs[k] = convert(v, toBlocked: false, before: g.nodes.count, name: name)
            }
        }
        var out = rw.finish(outputs: outputs)
        let conversions = converted.count
        ctx.count(blockedOps + conversions)
        let note = "layout: \(blocked) on \(blockedOps) op\(blockedOps == 1 ? "" : "s"), "
            + "\(conversions) layout conversion\(conversions == 1 ? "" : "s") (reorder)"
        ctx.log(String(note.dropFirst("layout: ".count)))
        out.notes.append(note)
        return out
    }
}
