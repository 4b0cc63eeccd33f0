import QEMLTensor

/// A fully connected layer `y = act(x · Wᵀ + b)` (PyTorch Linear) on `[N,K]` values, which
/// are blocked as `[N,K,1,1]`.
struct DenseSpec: Sendable {
    var inFeatures, outFeatures, lanes: Int
    var activation: Activation
    /// f32, or bf16 widened in registers (`WeightFormat`).
    var weights: WeightFormat = .f32
    var outBlocks: Int { ceilDiv(outFeatures, lanes) }
    /// Where the bias starts in the params, in floats.
    var biasOffset: Int { weights.floats(outBlocks * inFeatures * lanes) }
}

/// Softmax over the features of `[N,K]` (blocked as `[N,K,1,1]`).
struct SoftmaxSpec: Sendable {
    var features, lanes: Int
}

extension KernelDefinition {
    /// Weights `[out, in]` are packed into `[out/c][in][c]` (c outputs per vector) in `weights`
    /// format, then the bias (f32). Buffers: input, output.
    public static func dense(inFeatures: Int, outFeatures: Int, weight: Tensor, bias: [Float]?, activation: Activation = .none,
                             weights format: WeightFormat = .f32, target: TargetDescription, name: String) throws -> KernelDefinition {
        guard inFeatures > 0, outFeatures > 0 else { throw CodegenError(.kernel, "dense: feature counts must be positive") }
        guard weight.shape == [outFeatures, inFeatures] else {
            throw CodegenError(.kernel, "dense \(inFeatures)→\(outFeatures): the weight is \(describeShape(weight.shape)), expected \(describeShape([outFeatures, inFeatures]))")
        }
        if let bias, bias.count != outFeatures { throw CodegenError(.kernel, "dense: the bias has \(bias.count) values, expected \(outFeatures)") }
        let l = target.vectorWidth
        let spec = DenseSpec(inFeatures: inFeatures, outFeatures: outFeatures, lanes: l, activation: activation, weights: format)
        var packed = [Float](repeating: 0, count: spec.outBlocks * inFeatures * l)
        var b = [Float](repeating: 0, count: spec.outBlocks * l)
        for o in 0..<outFeatures {
            for k in 0..<inFeatures { packed[((o / l) * inFeatures + k) * l + o % l] = weight.data[o * inFeatures + k] }
            b[o] = bias?[o] ?? 0
        }
        let params = format.pack(packed) + b
        let act = activation == .none ? "" : "+\(activation.rawValue)"
        let bf16 = format == .f32 ? "" : " \(format.rawValue) weights (widened to f32)"
        return KernelDefinition(name: name, kind: "dense", summary: "dense \(inFeatures)→\(outFeatures) +bias\(act)\(bf16)",
                                buffers: [.blocked("input", .input, [inFeatures, 1, 1], lanes: l), .blocked("output", .output, [outFeatures, 1, 1], lanes: l)],
                                itemsPerSample: spec.outBlocks, flopsPerSample: 2 * inFeatures * outFeatures, lanes: l, params: params, body: .dense(spec))
    }

    /// Buffers: input, output.
    public static func softmax(features: Int, target: TargetDescription, name: String) throws -> KernelDefinition {
        guard features > 0 else { throw CodegenError(.kernel, "softmax: the feature count must be positive") }
        let l = target.vectorWidth
        return KernelDefinition(name: name, kind: "softmax", summary: "softmax \(features)",
                                buffers: [.blocked("input", .input, [features, 1, 1], lanes: l), .blocked("output", .output, [features, 1, 1], lanes: l)],
                                itemsPerSample: 1, flopsPerSample: 5 * features, lanes: l, params: [], body: .softmax(SoftmaxSpec(features: features, lanes: l)))
    }
}

/// One item = one block of c outputs: four accumulators over the inputs (latency hiding).
struct DenseGenerator {
    let s: DenseSpec
    let b: IRBuilder

    func emit() {
        let l = s.lanes, k = s.inFeatures, kp = ceilDiv(k, l) * l
        let bufs = b.buffers(2)
        let params = b.param(1)
        b.itemLoop(perSample: s.outBlocks) { n, ob in
            let x = b.gep(bufs[0], b.mul(n, kp))
            let w = b.gepWeight(params, b.mul(ob, k * l), s.weights)
            let accs = (0..<4).map { _ in b.variable(b.m.splat(0, l)) }
            let step = { (i: IRValue, j: Int) in
                let xi = b.broadcast(b.loadF32(b.gep(x, i)), l)
                accs[j].value = b.fma(xi, b.loadWeights(b.gepWeight(w, b.mul(i, l), s.weights), l, s.weights, align: min(l * 4, 64)), accs[j].value)
            }
            b.loop(0, k / 4 * 4, step: 4, "k") { i in
                for j in 0..<4 { step(b.add(i, j), j) }
            }
            for j in 0..<(k % 4) { step(b.m.constI64(k / 4 * 4 + j), j) }
            var v = b.fadd(b.fadd(accs[0].value, accs[1].value), b.fadd(accs[2].value, accs[3].value))
            v = b.fadd(v, b.loadVector(b.gep(params, b.add(b.mul(ob, l), s.biasOffset)), l))
            v = b.activate(v, s.activation)
            v = b.zeroPadding(v, block: ob, channels: s.outFeatures, lanes: l)
            b.store(v, b.gep(bufs[1], b.add(b.mul(n, s.outBlocks * l), b.mul(ob, l))))
        }
    }
}

/// One item = one sample; scalar loops (the class count is small).
struct SoftmaxGenerator {
    let s: SoftmaxSpec
    let b: IRBuilder

    func emit() {
        let kp = ceilDiv(s.features, s.lanes) * s.lanes
        let bufs = b.buffers(2)
        b.itemLoop(perSample: 1) { n, _ in
            let x = b.gep(bufs[0], b.mul(n, kp)), y = b.gep(bufs[1], b.mul(n, kp))
            let mx = b.variable(b.m.constF32(-.infinity))
            b.loop(0, s.features, "k") { i in mx.value = b.maxnum(mx.value, b.loadF32(b.gep(x, i))) }
            let sum = b.variable(b.m.constF32(0))
            b.loop(0, s.features, "k") { i in
                let e = b.exp(b.fsub(b.loadF32(b.gep(x, i)), mx.value))
                b.store(e, b.gep(y, i))
                sum.value = b.fadd(sum.value, e)
            }
            let inv = b.fdiv(b.m.constF32(1), sum.value)
            b.loop(0, s.features, "k") { i in b.store(b.fmul(b.loadF32(b.gep(y, i)), inv), b.gep(y, i)) }
            b.loop(s.features, kp, "pad") { i in b.store(b.m.constF32(0), b.gep(y, i)) }
        }
    }
}
