/// int8 convolution and dense layers (docs/QUANTIZATION.md): u7 activations (one byte per
/// channel, blocked like f32 values), s8 weights per output channel with BatchNorm already
/// folded, i32 accumulation, and the f32 epilogue `fma(Float(acc), s_x·s_w[co], b'[co])`,
/// + residual, activation, then f32 out or requantized to u7 for an int8 consumer.
extension KernelDefinition {
    /// Buffers: input (u8), [residual (f32)], output (u8 when `outputScale` is given, else f32),
    /// [avg, max] (f32, when `spec.pool`). `weight`: `[out, in/groups, kh, kw]` as s8.
    public static func conv2dInt8(_ spec: Conv2DSpec, weight: [Int8], weightScales: [Float], bias: [Float],
                                  inputScale: Float, outputScale: Float?, target: TargetDescription, name: String) throws -> KernelDefinition {
        try spec.validate()
        let o = spec.outChannels, ig = spec.inChannels / spec.groups, taps = spec.kernel[0] * spec.kernel[1]
        guard weight.count == o * ig * taps else {
            throw CodegenError(.kernel, "\(spec) int8: the weight has \(weight.count) values, expected \(o * ig * taps)")
        }
        guard weightScales.count == o, bias.count == o else {
            throw CodegenError(.kernel, "\(spec) int8: \(weightScales.count) weight scales and \(bias.count) biases, expected \(o) each")
        }
        for (what, s) in [("input", inputScale), ("output", outputScale ?? 1)] where !(s > 0 && s.isFinite) {
            throw CodegenError(.kernel, "\(spec) int8: the \(what) scale \(s) must be positive and finite")
        }
        let c = target.vectorWidth
        guard c % 4 == 0 else { throw CodegenError(.kernel, "int8 kernels need a vector width that is a multiple of 4 (target '\(target.name)': \(c))") }
        // Groups run as a dense conv with a block-diagonal weight, as in f32.
        var dense = spec
        dense.groups = 1
        let cin = spec.inChannels, og = o / spec.groups
        var w = [Int8](repeating: 0, count: o * cin * taps)
        for oc in 0..<o {
            let g = oc / og
            for i in 0..<ig {
                for t in 0..<taps { w[(oc * cin + g * ig + i) * taps + t] = weight[(oc * ig + i) * taps + t] }
            }
        }
        let dot = DotProduct.choose(for: target)
        let plan = ConvPlan(dense, target: target, arithmetic: .int8(dot, u8Output: outputScale != nil))
        let outShape = [o, spec.outHeight, spec.outWidth]
        let outCount = blockedCount(o, spec.outHeight, spec.outWidth, lanes: c)
        var buffers = [Buffer(name: "input", role: .input, shape: [cin, spec.height, spec.width],
                              elementsPerSample: blockedCount(cin, spec.height, spec.width, lanes: c), element: .u8)]
        if spec.residual { buffers.append(Buffer(name: "residual", role: .input, shape: outShape, elementsPerSample: outCount)) }
        buffers.append(Buffer(name: "output", role: .output, shape: outShape, elementsPerSample: outCount, element: outputScale == nil ? .f32 : .u8))
        if spec.pool {
            let pooled = blockedCount(o, 1, 1, lanes: c)
            buffers.append(Buffer(name: "avg", role: .output, shape: [o, 1, 1], elementsPerSample: pooled))
            buffers.append(Buffer(name: "max", role: .output, shape: [o, 1, 1], elementsPerSample: pooled))
        }
        let params = plan.packInt8(weight: w, multipliers: weightScales.map { inputScale * $0 }, bias: bias,
                                   outputInverse: outputScale.map { 1 / $0 })
        return KernelDefinition(name: name, kind: "conv2d int8 (\(dot.rawValue))", summary: spec.description + " int8" + (outputScale == nil ? "" : "→u7"),
                                buffers: buffers, itemsPerSample: plan.itemsPerSample, flopsPerSample: spec.flopsPerSample, lanes: c,
                                params: params, body: .conv2d(plan))
    }

    /// A dense layer `[N,K] → [N,O]` in int8: the 1×1 convolution of a 1×1 image (the blocked
    /// `[N,K,1,1]` layout is the same). Buffers: input (u8), output (u8 or f32).
    public static func denseInt8(inFeatures: Int, outFeatures: Int, weight: [Int8], weightScales: [Float], bias: [Float],
                                 inputScale: Float, outputScale: Float?, activation: Activation = .none,
                                 target: TargetDescription, name: String) throws -> KernelDefinition {
        let spec = Conv2DSpec(inChannels: inFeatures, height: 1, width: 1, outChannels: outFeatures, kernel: [1, 1], activation: activation)
        var d = try conv2dInt8(spec, weight: weight, weightScales: weightScales, bias: bias, inputScale: inputScale,
                               outputScale: outputScale, target: target, name: name)
        d.kind = "dense" + d.kind.dropFirst("conv2d".count)
        d.summary = "dense \(inFeatures)→\(outFeatures) +bias" + (activation == .none ? "" : "+\(activation.rawValue)") + " int8" + (outputScale == nil ? "" : "→u7")
        return d
    }
}
