import QEMLIR
import QEMLTensor

/// `quantize`: marks the conv2d and dense nodes a reduced-precision weights file covers
/// (docs/QUANTIZATION.md). For such a node with weight `W` the file holds `W.folded_bias`
/// (BatchNorm and bias folded) and, for int8, `W.scale` and the activation scales: the pass
/// drops the node's BatchNorm operands, takes `W.folded_bias` as its bias, and records
/// `precision` (and `input_scale`, `output_scale`, `weight_scale=@W.scale`) on it. With an f32
/// file, or no weights, it changes nothing. Which ops may be int8 is decided here
/// (`decisions`), once: `qemlc quantize` asks it which ops to quantize, and the pass refuses a
/// file that quantizes an op it would not.
public struct QuantizePass: Pass {
    public init() {}
    public var name: String { "quantize" }
    public var summary: String { "run the conv2d and dense nodes a quantized weights file covers in int8 or bf16" }

    /// Why an op has the precision it has.
    public struct Decision: Sendable, Equatable {
        public var node: Int
        /// The node's first result.
        public var name: String
        public var op: String
        public var precision: Precision
        /// Why it stays f32 (nil when reduced).
        public var why: String?
        /// A reduced CBAM block: only its MLP's weights are reduced, its activations stay f32.
        public var weightOnly: Bool { op == "fused_cbam" && precision != .f32 }
        /// The precision as reports name it.
        public var label: String { weightOnly ? "\(precision.rawValue) MLP weights" : precision.rawValue }
    }

    /// Per op of `g` (after `fuse-cbam`), the precision a `precision` file gives it. Convs and
    /// dense layers with weight operands are reduced; for int8 only those whose input is
    /// provably non-negative (7-bit unsigned codes). CBAM blocks reduce their MLP's weights
    /// only (`Decision.weightOnly`); circuits and softmax stay f32.
    public static func decisions(_ g: Graph, precision: Precision) -> [Decision] {
        let facts = NonNegative(g)
        var out: [Decision] = []
        for (i, n) in g.nodes.enumerated() {
            let name = n.results.first.map { g[$0].name } ?? n.op
            func add(_ p: Precision, _ why: String? = nil) {
                out.append(Decision(node: i, name: name, op: n.op, precision: p, why: why))
            }
            switch n.op {
            case "conv2d", "dense":
                guard precision != .f32 else { add(.f32, "the file is f32"); continue }
                guard let w = n.operand(1), g[w].isWeight else { add(.f32, "its weight is computed"); continue }
                if let b = n.operand(2), !g[b].isWeight { add(.f32, "its bias is computed"); continue }
                if precision == .bf16 { add(.bf16); continue }
                if n.int("groups") ?? 1 != 1 { add(.f32, "grouped convolution"); continue }
                guard let x = n.operand(0), facts[x] else {
                    add(.f32, "its input %\(n.operand(0).map { g[$0].name } ?? "?") can be negative; 7-bit codes hold 0…127 only")
                    continue
                }
                add(.int8)
            case "fused_cbam":
                // Its channel MLP's weights only: the pooled vectors it reads are signed, and the
                // gates are small; the weights are what it streams (10 MB of the edge model's f32).
                guard precision != .f32 else { add(.f32, "the file is f32"); continue }
                guard let f1 = n.operand(3), let f2 = n.operand(4), g[f1].isWeight, g[f2].isWeight else {
                    add(.f32, "its MLP weights are computed"); continue
                }
                add(precision)
            case "circuit": add(.f32, "the quantum circuit runs in f32 by design")
            case "softmax": add(.f32, "softmax stays f32")
            default: continue
            }
        }
        return out
    }

    public func run(_ g: Graph, _ ctx: PassContext) throws -> Graph {
        let weights = ctx.weights
        guard weights.keys.contains(where: { $0.hasSuffix(QuantizedFile.foldedBias) }) else { return g }
        let eligible = Dictionary(QuantizePass.decisions(g, precision: .int8).map { ($0.node, $0) }) { a, _ in a }
        var rw = Rewriter(g)
        var counts: [Precision: Int] = [:], cbam: [Precision: Int] = [:]
        for (i, n) in g.nodes.enumerated() where n.op == "fused_cbam" {
            guard let m = try reduceCBAM(n, weights: weights, &rw) else { continue }
            cbam[Precision(rawValue: m.string("precision") ?? "f32") ?? .f32, default: 0] += 1
            rw.replace(i, with: m)
        }
        for (i, n) in g.nodes.enumerated() where n.op == "conv2d" || n.op == "dense" {
            guard let wv = n.operand(1), let w = g[wv].weightName, let bias = weights[w + QuantizedFile.foldedBias] else { continue }
            let name = n.results.first.map { g[$0].name } ?? n.op
            let out = g.type(of: wv).fixedShape?.first ?? 0
            func fail(_ message: String) -> QuantizationError {
                QuantizationError("%\(name) (weight @\(w)): \(message)", at: n.location)
            }
            guard bias.count == out else { throw fail("\(w + QuantizedFile.foldedBias) has \(bias.count) values, the op has \(out) output channels") }
            var m = n
            for slot in ["bn_weight", "bn_bias", "bn_mean", "bn_var"] { m.setOperand(slot, nil) }
            m.setOperand("bias", rw.weight(w + QuantizedFile.foldedBias, TensorType(fixed: [out])))
            if weights[w + QuantizedFile.weightScale] != nil, weights[w + QuantizedFile.inputScale] == nil {
                // Weight-only codes (a CBAM MLP weight) read by a block left unfused: f32 on code · scale.
                _ = try int8Codes(w, rows: out, weights, fail: fail)
                m.setOperand("weight_scale", rw.weight(w + QuantizedFile.weightScale, TensorType(fixed: [out])))
                m.setAttribute("precision", .string(Precision.int8.rawValue))
                counts[.int8, default: 0] += 1
            } else if weights[w + QuantizedFile.weightScale] != nil {
                guard eligible[i]?.precision == .int8 else {
                    throw fail("the weights file stores it as int8 but it cannot be int8 (\(eligible[i]?.why ?? "not a quantizable op")); was the file made for another model?")
                }
                let params = try int8Params(w, n, weights: weights, fail: fail)  // bias.count == out, checked above
                m.setOperand("weight_scale", rw.weight(w + QuantizedFile.weightScale, TensorType(fixed: [out])))
                m.setAttribute("precision", .string(Precision.int8.rawValue))
                m.setAttribute("input_scale", .float(Double(params.inputScale)))
                if let s = params.outputScale { m.setAttribute("output_scale", .float(Double(s))) }
                ctx.int8[name] = params
                counts[.int8, default: 0] += 1
            } else {
                m.setAttribute("precision", .string(Precision.bf16.rawValue))
                counts[.bf16, default: 0] += 1
            }
            rw.replace(i, with: m)
        }
        ctx.count(counts.values.reduce(0, +) + cbam.values.reduce(0, +))
        for p in [Precision.int8, .bf16] where counts[p] != nil {
            let k = counts[p]!
            ctx.log("\(k) op\(k == 1 ? "" : "s") in \(p.rawValue)")
        }
        for p in [Precision.int8, .bf16] where cbam[p] != nil {
            let k = cbam[p]!
            ctx.log("the MLP weights of \(k) CBAM block\(k == 1 ? "" : "s") in \(p.rawValue)")
        }
        return rw.finish()
    }

    /// A `fused_cbam` whose MLP weights the file reduces: each of fc1, fc2 has `.folded_bias`
    /// (its bias, or zeros), and for int8 `.scale` (one per output row) beside codes in −127…127.
    private func reduceCBAM(_ n: Node, weights: [String: Tensor], _ rw: inout Rewriter) throws -> Node? {
        let g = rw.graph
        guard let f1 = n.operand(3), let f2 = n.operand(4), let w1 = g[f1].weightName, let w2 = g[f2].weightName else { return nil }
        let has1 = weights[w1 + QuantizedFile.foldedBias] != nil, has2 = weights[w2 + QuantizedFile.foldedBias] != nil
        guard has1 || has2 else { return nil }
        let name = n.results.first.map { g[$0].name } ?? n.op
        func fail(_ message: String) -> QuantizationError {
            QuantizationError("%\(name) (CBAM, MLP weights @\(w1), @\(w2)): \(message)", at: n.location)
        }
        guard has1 && has2 else { throw fail("the file reduces one of the two MLP weights; it must reduce both or neither") }
        let hidden = n.int("hidden") ?? 0, c = g.type(of: f2).fixedShape?.first ?? 0
        var m = n
        let int8 = weights[w1 + QuantizedFile.weightScale] != nil
        guard int8 == (weights[w2 + QuantizedFile.weightScale] != nil) else { throw fail("one MLP weight has int8 scales, the other not") }
        for (w, rows, slot, scaleSlot) in [(w1, hidden, "fc1_bias", "fc1_scale"), (w2, c, "fc2_bias", "fc2_scale")] {
            let bias = weights[w + QuantizedFile.foldedBias]!
            guard bias.count == rows else { throw fail("\(w + QuantizedFile.foldedBias) has \(bias.count) values, expected \(rows)") }
            m.setOperand(slot, rw.weight(w + QuantizedFile.foldedBias, TensorType(fixed: [rows])))
            guard int8 else { continue }
            _ = try int8Codes(w, rows: rows, weights, fail: fail)
            m.setOperand(scaleSlot, rw.weight(w + QuantizedFile.weightScale, TensorType(fixed: [rows])))
        }
        m.setAttribute("precision", .string((int8 ? Precision.int8 : .bf16).rawValue))
        return m
    }

    private func int8Params(_ w: String, _ n: Node, weights: [String: Tensor], fail: (String) -> QuantizationError) throws -> Int8Params {
        func scalar(_ suffix: String) throws -> Float? {
            guard let t = weights[w + suffix] else { return nil }
            guard t.count == 1, let s = t.data.first, s > 0, s.isFinite else {
                throw fail("\(w + suffix) must hold one positive finite number, got \(t.count == 1 ? "\(t.data[0])" : "\(t.count) values")")
            }
            return s
        }
        guard let sx = try scalar(QuantizedFile.inputScale) else { throw fail("\(w + QuantizedFile.inputScale) is missing") }
        guard let scales = weights[w + QuantizedFile.weightScale], let bias = weights[w + QuantizedFile.foldedBias] else {
            throw fail("the int8 weight or its scales are missing")
        }
        let q = try int8Codes(w, rows: bias.count, weights, fail: fail)
        return Int8Params(inputScale: sx, outputScale: try scalar(QuantizedFile.outputScale), weights: q,
                          weightScales: scales.data, bias: bias.data)
    }

    /// The int8 weight `w` as the file must hold it: one positive finite scale per output row
    /// (`w.scale`) and codes that are integers in −127…127.
    private func int8Codes(_ w: String, rows: Int, _ weights: [String: Tensor], fail: (String) -> QuantizationError) throws -> [Int8] {
        guard let t = weights[w], let scales = weights[w + QuantizedFile.weightScale] else { throw fail("the int8 weight or its scales are missing") }
        guard scales.count == rows else { throw fail("\(w + QuantizedFile.weightScale) has \(scales.count) values, expected \(rows)") }
        for s in scales.data where !(s > 0 && s.isFinite) { throw fail("\(w + QuantizedFile.weightScale) holds \(s); scales must be positive and finite") }
        var q = [Int8](repeating: 0, count: t.count)
        for (k, v) in t.data.enumerated() {
            guard v == v.rounded(), v >= -127, v <= 127 else { throw fail("@\(w) holds \(v) at element \(k); int8 weights are integers in −127…127") }
            q[k] = Int8(v)
        }
        return q
    }
}

/// A weights file that does not fit the model's reduced-precision ops.
public struct QuantizationError: ExplainedError {
    public var message: String
    public var place: SourceLocation?
    public var fix: String?
    /// The default fix is for a reduced file the model's ops refuse; `qemlc quantize` passes its own.
    public init(_ message: String, at location: SourceLocation? = nil,
                fix: String? = "the --weights file does not fit this model's reduced ops: write it again with `qemlc quantize` from the f32 weights") {
        self.message = message
        self.place = location
        self.fix = fix
    }
    public var location: String? { place.map { "\($0)" } }
    public var description: String { explanation }
}

/// Which values are provably ≥ 0 (or NaN): outputs of ReLU and sigmoid, pools, concats and
/// products of such values. An int8 op's input must be one (7-bit unsigned codes).
struct NonNegative {
    private var known: [Bool?]
    private let g: Graph

    init(_ g: Graph) {
        self.g = g
        known = Array(repeating: nil, count: g.values.count)
        for v in g.values.indices { _ = compute(ValueID(v)) }
    }

    subscript(v: ValueID) -> Bool { known[v.raw] ?? false }

    private mutating func compute(_ v: ValueID) -> Bool {
        if let k = known[v.raw] { return k }
        known[v.raw] = false  // cycles cannot happen in a DAG; this only guards recursion
        var r = false
        if case .node(let i, _) = g[v].def {
            let n = g.nodes[i]
            let operands = n.operands.compactMap { $0 }.filter { !g[$0].isWeight }
            switch n.op {
            case "relu", "sigmoid", "softmax": r = true
            case "conv2d", "fused_cbam": r = n.string("activation") == "relu"
            case "maxpool2d", "avgpool2d", "global_avgpool", "global_maxpool", "channel_mean", "channel_max",
                 "flatten", "reorder", "concat", "mul", "add":
                r = !operands.isEmpty && operands.allSatisfy { compute($0) }
            default: r = false
            }
        }
        known[v.raw] = r
        return r
    }
}
