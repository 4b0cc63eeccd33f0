import QEMLCodegen
import QEMLIR
import QEMLPasses
import QEMLTensor

/// The weights file `qemlc quantize` writes (docs/QUANTIZATION.md "The file"): the f32 file with
/// every reduced op's weight replaced by its folded I8 or BF16 form, its numbers beside it under
/// `QuantizedFile`'s names, and the bias and BatchNorm tensors it absorbed left out.
public struct QuantizedWeights {
    /// What the file stores, by tensor name.
    public var stored: [String: StoredTensor] = [:]
    /// Per op of the fused graph, its precision and why.
    public var decisions: [QuantizePass.Decision]

    /// Names of the activations whose ranges an int8 file needs: every int8 op's input (the same
    /// value serves as the scale of a producer that requantizes its output for it).
    public static func calibratedValues(_ fused: Graph, _ decisions: [QuantizePass.Decision]) -> [String] {
        var names: [String] = []
        for d in decisions where d.precision == .int8 && !d.weightOnly {
            guard let x = fused.nodes[d.node].operand(0) else { continue }
            if !names.contains(fused[x].name) { names.append(fused[x].name) }
        }
        return names
    }

    /// `fused`: the graph after `fuse-cbam` (what the quantize pass sees); `weights`: the f32
    /// tensors by name; `ranges`: each calibrated value's range (0…r), by value name.
    public init(fused: Graph, weights: [String: Tensor], precision: Precision, ranges: [String: Float]) throws {
        var decisions = QuantizePass.decisions(fused, precision: precision)
        let users = fused.users()
        func weightName(_ v: ValueID?) -> String? { v.flatMap { fused[$0].weightName } }
        // A weight shared by several ops cannot carry one op's folded BatchNorm: those ops stay f32.
        var uses: [String: Int] = [:]
        for n in fused.nodes { for case let v? in n.operands { if let w = fused[v].weightName { uses[w, default: 0] += 1 } } }
        for k in decisions.indices where decisions[k].precision != .f32 {
            if let w = weightName(fused.nodes[decisions[k].node].operand(1)), uses[w, default: 0] > 1 {
                decisions[k].precision = .f32
                decisions[k].why = "its weight @\(w) is shared with another op"
            }
        }
        self.decisions = decisions
        // What each op reads: a CBAM block with reduced MLP weights still reads f32.
        let precisionOf = Dictionary(decisions.map { ($0.node, $0.weightOnly ? .f32 : $0.precision) }) { a, _ in a }

        var dropped = Set<String>()
        var keep = Set<String>()  // weights a non-reduced op still reads
        for d in decisions where d.weightOnly {
            // A CBAM block's MLP: fc1 [hidden, C] and fc2 [C, hidden], one scale per output row.
            let n = fused.nodes[d.node]
            for (weightSlot, biasSlot) in [(3, 6), (4, 7)] {
                guard let w = weightName(n.operand(weightSlot)), let wt = weights[w] else {
                    throw QuantizationError("%\(d.name): its CBAM MLP weight is missing from the weights", fix: QuantizedWeights.fix)
                }
                let out = wt.shape[0]
                var bias = [Float](repeating: 0, count: out)
                if let b = weightName(n.operand(biasSlot)) {
                    guard let t = weights[b], t.count == out else { throw QuantizationError("%\(d.name): @\(b) is missing or not [\(out)]", fix: QuantizedWeights.fix) }
                    bias = t.data
                    dropped.insert(b)
                }
                stored[w + QuantizedFile.foldedBias] = StoredTensor(Tensor(shape: [out], data: bias))
                if d.precision == .int8 {
                    let (q, scales) = QuantizationMath.quantizeWeights(wt.data, outChannels: out)
                    stored[w] = StoredTensor(int8: q, shape: wt.shape)
                    stored[w + QuantizedFile.weightScale] = StoredTensor(Tensor(shape: [out], data: scales))
                } else {
                    stored[w] = StoredTensor(bf16: wt.data.map(QuantizationMath.bf16Bits), shape: wt.shape)
                }
            }
        }
        for d in decisions where d.precision != .f32 && !d.weightOnly {
            let n = fused.nodes[d.node]
            guard let w = weightName(n.operand(1)), let wt = weights[w] else {
                throw QuantizationError("%\(d.name): its weight is missing from the weights", fix: QuantizedWeights.fix)
            }
            let out = wt.shape[0]
            func vector(_ slot: String) throws -> [Float]? {
                guard let i = OpRegistry.decl(n.op)?.operandIndex(slot), let name = weightName(n.operand(i)) else { return nil }
                guard let t = weights[name], t.count == out else { throw QuantizationError("%\(d.name): @\(name) is missing or not [\(out)]", fix: QuantizedWeights.fix) }
                dropped.insert(name)
                return t.data
            }
            let bias = try vector("bias")
            var bn: ConvWeights.BatchNorm?
            if let g = try vector("bn_weight") {
                guard let b = try vector("bn_bias"), let m = try vector("bn_mean"), let v = try vector("bn_var") else {
                    throw QuantizationError("%\(d.name): a folded BatchNorm needs all four of its parameters", fix: QuantizedWeights.fix)
                }
                bn = ConvWeights.BatchNorm(gamma: g, beta: b, mean: m, variance: v, eps: n.attributes.double("eps") ?? 1e-5)
            }
            // The code generator's folding, per output channel over the weight as stored (a dense
            // weight is a 1×1 conv's; groups need no expansion here).
            let shape = wt.rank == 2 ? wt.shape + [1, 1] : wt.shape
            let (fw, fb) = try ConvWeights(weight: Tensor(shape: shape, data: wt.data), bias: bias, batchNorm: bn)
                .folded(Conv2DSpec(inChannels: shape[1], height: shape[2], width: shape[3], outChannels: out, kernel: [shape[2], shape[3]]))
            stored[w + QuantizedFile.foldedBias] = StoredTensor(Tensor(shape: [out], data: fb))
            switch d.precision {
            case .bf16:
                stored[w] = StoredTensor(bf16: fw.map(QuantizationMath.bf16Bits), shape: wt.shape)
            case .int8:
                let (q, s) = QuantizationMath.quantizeWeights(fw, outChannels: out)
                stored[w] = StoredTensor(int8: q, shape: wt.shape)
                stored[w + QuantizedFile.weightScale] = StoredTensor(Tensor(shape: [out], data: s))
                guard let x = n.operand(0), let r = ranges[fused[x].name] else {
                    throw QuantizationError("%\(d.name): no calibrated range for its input", fix: QuantizedWeights.fix)
                }
                stored[w + QuantizedFile.inputScale] = StoredTensor(Tensor(shape: [1], data: [QuantizationMath.activationScale(range: r)]))
                // Requantized output: every reader is int8 (and so shares one scale) and it is no graph output.
                if let y = n.results.first, n.results.count == 1, !fused.outputs.contains(y), !users[y.raw].isEmpty,
                   users[y.raw].allSatisfy({ precisionOf[$0] == .int8 && fused.nodes[$0].operand(0) == y }),
                   let ry = ranges[fused[y].name] {
                    stored[w + QuantizedFile.outputScale] = StoredTensor(Tensor(shape: [1], data: [QuantizationMath.activationScale(range: ry)]))
                }
            case .f32:
                break
            }
        }
        for d in decisions where d.precision == .f32 {
            for case let v? in fused.nodes[d.node].operands { if let w = fused[v].weightName { keep.insert(w) } }
        }
        let reducedCBAM = Set(decisions.filter(\.weightOnly).map(\.node))
        for (i, n) in fused.nodes.enumerated() where n.op != "conv2d" && n.op != "dense" {
            for (k, v) in n.operands.enumerated() {
                // A reduced CBAM block reads its MLP biases from the `.folded_bias` companions.
                guard let v, let w = fused[v].weightName, !(reducedCBAM.contains(i) && (k == 6 || k == 7)) else { continue }
                keep.insert(w)
            }
        }
        for (name, t) in weights where stored[name] == nil && (!dropped.contains(name) || keep.contains(name)) {
            stored[name] = StoredTensor(t)
        }
    }

    /// The stored tensors as every reader decodes them (f32).
    public var tensors: [String: Tensor] {
        stored.mapValues { s in
            let n = s.shape.reduce(1, *)
            switch s.dtype {
            case .I8: return Tensor(shape: s.shape, data: s.bytes.map { Float(Int8(bitPattern: $0)) })
            case .BF16:
                return Tensor(shape: s.shape, data: (0..<n).map { i in
                    Float(bitPattern: (UInt32(s.bytes[2 * i + 1]) << 24) | (UInt32(s.bytes[2 * i]) << 16))
                })
            default:
                return Tensor(shape: s.shape, data: (0..<n).map { i in
                    Float(bitPattern: UInt32(s.bytes[4 * i]) | UInt32(s.bytes[4 * i + 1]) << 8 | UInt32(s.bytes[4 * i + 2]) << 16 | UInt32(s.bytes[4 * i + 3]) << 24)
                })
            }
        }
    }

    /// What to do when the f32 weights cannot be quantized for the model.
    static let fix = "pass this model's own f32 weights, every tensor its .qir names"

    /// Bytes of tensor data in the file.
    public var byteCount: Int { stored.values.reduce(0) { $0 + $1.bytes.count } }
}
