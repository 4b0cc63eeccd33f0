import Foundation
import QEMLIR
import QEMLPasses
import QEMLTensor

/// conv2d (with its epilogue slots) and batchnorm.
extension Interpreter {
    static let convKernels: [String: ReferenceKernel] = [
        "conv2d": { node, operands, _ in try conv2d(node, operands) },
        "batchnorm": { node, operands, _ in try batchnorm(node, operands) },
    ]

    /// Cross-correlation with PyTorch's semantics, then the epilogue in this order:
    /// + bias → BatchNorm → + residual → activation → (pool="avgmax") global avg and max of the result.
    static func conv2d(_ node: Node, _ operands: [Tensor?]) throws(Diagnostic) -> [Tensor] {
        // bf16 weights are f32 values already (the widened kernel); int8 has its integer reference.
        if node.readsInt8Codes { return try Int8Kernels.conv2d(node, operands) }
        let x = try operand(operands, 0, node), w = try weightOnlyDequantized(node, operands)
        let (n, c, h, wd) = try requireRank4(x, node)
        guard w.rank == 4 else { throw kernelError(node, "the weight must be 4-D [out, in/groups, kh, kw], got \(describeShape(w.shape))") }
        let o = w.shape[0], kh = w.shape[2], kw = w.shape[3]
        if let k = node.attr("kernel")?.ints, (k.count == 1 ? [k[0], k[0]] : k) != [kh, kw] {
            throw kernelError(node, "kernel=\(k) but the weight is \(describeShape(w.shape))")
        }
        let groups = node.int("groups", 1)
        let stride = try node.pair("stride", [1, 1], minimum: 1), pad = try node.pair("padding", [0, 0], minimum: 0)
        let dil = try node.pair("dilation", [1, 1], minimum: 1)
        guard groups > 0, c % groups == 0, o % groups == 0, w.shape[1] == c / groups else {
            throw kernelError(node, "weight \(describeShape(w.shape)) does not fit input \(describeShape(x.shape)) with groups=\(groups)")
        }
        let cg = c / groups, og = o / groups
        let ho = windowOutput(h, kernel: kh, stride: stride[0], padding: pad[0], dilation: dil[0])
        let wo = windowOutput(wd, kernel: kw, stride: stride[1], padding: pad[1], dilation: dil[1])
        let plane = ho * wo
        var out = [Float](repeating: 0, count: n * o * plane)

        // Per-channel epilogue parameters (Double), absent ones neutral.
        func channelVector(_ slot: Int) throws(Diagnostic) -> [Double]? {
            guard slot < operands.count, let t = operands[slot] else { return nil }
            guard t.count == o else { throw kernelError(node, "operand \(slot) has \(t.count) elements, expected \(o)") }
            return t.data.map(Double.init)
        }
        let bias = try channelVector(2)
        let bnW = try channelVector(3), bnB = try channelVector(4), bnMean = try channelVector(5), bnVar = try channelVector(6)
        let hasBN = bnW != nil || bnB != nil || bnMean != nil || bnVar != nil
        if hasBN, bnW == nil || bnB == nil || bnMean == nil || bnVar == nil {
            throw kernelError(node, "a fused BatchNorm needs all of bn_weight, bn_bias, bn_mean and bn_var")
        }
        let eps = node.double("eps", 1e-5)
        var residual: Tensor?
        if operands.count > 7, let r = operands[7] {
            guard let s = broadcastShape([n, o, ho, wo], r.shape), s == [n, o, ho, wo] else {
                throw kernelError(node, "the residual \(describeShape(r.shape)) does not match the output \(describeShape([n, o, ho, wo]))")
            }
            residual = broadcast(r, to: [n, o, ho, wo])
        }
        let activation = node.string("activation", "none")
        guard ["none", "relu", "sigmoid"].contains(activation) else { throw kernelError(node, "unknown activation '\(activation)'") }

        // Output rows (columns) whose input row (column) is inside the image, per kernel tap.
        let rows = (0..<kh).map { validRange(ho, h, stride[0], $0 * dil[0] - pad[0]) }
        let cols = (0..<kw).map { validRange(wo, wd, stride[1], $0 * dil[1] - pad[1]) }
        // Weights regrouped as [group][ci][ky][kx][output channel of the group], so the inner
        // loop runs over output channels: long and contiguous even when the image is 2×2.
        var packed = [Double](repeating: 0, count: w.count)
        for oc in 0..<o {
            let (g, oo) = (oc / og, oc % og)
            for r in 0..<cg * kh * kw { packed[(g * cg * kh * kw + r) * og + oo] = Double(w.data[oc * cg * kh * kw + r]) }
        }
        // Accumulators for one (sample, group), laid out [oy][ox][output channel of the group].
        var acc = [Double](repeating: 0, count: plane * og)
        for b in 0..<n {
            for g in 0..<groups {
                for i in acc.indices { acc[i] = 0 }
                x.data.withUnsafeBufferPointer { xp in
                    packed.withUnsafeBufferPointer { wp in
                        acc.withUnsafeMutableBufferPointer { ap in
                            guard let xBase = xp.baseAddress, let wBase = wp.baseAddress, let aBase = ap.baseAddress else { return }
                            for ci in 0..<cg {
                                let xPlane = xBase + (b * c + g * cg + ci) * h * wd
                                for ky in 0..<kh {
                                    for oy in rows[ky] {
                                        let xRow = xPlane + (oy * stride[0] + ky * dil[0] - pad[0]) * wd
                                        for kx in 0..<kw {
                                            let wTap = wBase + (((g * cg + ci) * kh + ky) * kw + kx) * og
                                            for ox in cols[kx] {
                                                let xv = Double(xRow[ox * stride[1] + kx * dil[1] - pad[1]])
                                                let a = aBase + (oy * wo + ox) * og
                                                // The hot loop: raw pointers and `while`, so debug builds stay usable.
                                                var oo = 0
                                                while oo < og {
                                                    a[oo] += xv * wTap[oo]
                                                    oo &+= 1
                                                }
                                            }
                                        }
                                    }
                                }
                            }
                        }
                    }
                }
                // Epilogue, per output element.
                for oo in 0..<og {
                    let oc = g * og + oo
                    let base = (b * o + oc) * plane
                    for i in 0..<plane {
                        var v = acc[i * og + oo]
                        if let bias { v += bias[oc] }
                        if hasBN, let bnW, let bnB, let bnMean, let bnVar {
                            v = (v - bnMean[oc]) / (bnVar[oc] + eps).squareRoot() * bnW[oc] + bnB[oc]
                        }
                        if let residual { v += Double(residual.data[base + i]) }
                        switch activation {
                        case "relu": v = max(v, 0)
                        case "sigmoid": v = 1 / (1 + exp(-v))
                        default: break
                        }
                        out[base + i] = Float(v)
                    }
                }
            }
        }
        let y = Tensor(shape: [n, o, ho, wo], data: out)
        switch node.string("pool", "none") {
        case "none": return [y]
        case "avgmax": return [y, globalPool(y, max: false), globalPool(y, max: true)]
        case let p: throw kernelError(node, "unknown pool '\(p)'")
        }
    }

    /// The outputs `i` in 0..<outSize whose input coordinate i·stride + offset lies in 0..<inSize.
    static func validRange(_ outSize: Int, _ inSize: Int, _ stride: Int, _ offset: Int) -> Range<Int> {
        var lo = 0
        while lo < outSize && lo * stride + offset < 0 { lo += 1 }
        var hi = outSize
        while hi > lo && (hi - 1) * stride + offset >= inSize { hi -= 1 }
        return lo..<hi
    }

    /// Inference BatchNorm over dimension 1 of [N, C, …].
    static func batchnorm(_ node: Node, _ operands: [Tensor?]) throws(Diagnostic) -> [Tensor] {
        let x = try operand(operands, 0, node)
        guard x.rank >= 2 else { throw kernelError(node, "the input must be [N,C,…], got \(describeShape(x.shape))") }
        let c = x.shape[1], inner = x.shape.dropFirst(2).reduce(1, *)
        var params: [[Double]] = []
        for slot in 1...4 {
            let t = try operand(operands, slot, node)
            guard t.count == c else { throw kernelError(node, "operand \(slot) has \(t.count) elements, expected \(c)") }
            params.append(t.data.map(Double.init))
        }
        let eps = node.double("eps", 1e-5)
        var out = x.data
        for i in 0..<x.count {
            let ch = (i / inner) % c
            let v = (Double(x.data[i]) - params[2][ch]) / (params[3][ch] + eps).squareRoot() * params[0][ch] + params[1][ch]
            out[i] = Float(v)
        }
        return [Tensor(shape: x.shape, data: out)]
    }

    /// The weight operand, or for weight-only int8 (`Node.hasWeightOnlyInt8`) code · scale.
    static func weightOnlyDequantized(_ node: Node, _ operands: [Tensor?]) throws(Diagnostic) -> Tensor {
        let w = try operand(operands, 1, node)
        guard node.hasWeightOnlyInt8 else { return w }
        guard let slot = OpRegistry.decl(node.op)?.operandIndex("weight_scale"), slot < operands.count, let s = operands[slot],
              s.count == w.shape[0] else {
            throw kernelError(node, "int8 weights need weight_scale with one scale per output row")
        }
        return QuantizationMath.dequantize(codes: w, rowScales: s)
    }
}
