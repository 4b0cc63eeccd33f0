import QEMLTensor

/// A 2-D convolution (PyTorch semantics) with its fused epilogue, for one input size.
public struct Conv2DSpec: Hashable, Sendable, CustomStringConvertible {
    public var inChannels: Int
    public var height: Int
    public var width: Int
    public var outChannels: Int
    public var kernel: [Int]
    public var stride: [Int]
    public var padding: [Int]
    public var dilation: [Int]
    public var groups: Int
    public var activation: Activation
    /// `+ residual` (a tensor shaped like the output) before the activation.
    public var residual: Bool
    /// Extra outputs: global average and max of the result per channel (CBAM's channel pooling).
    public var pool: Bool
    /// How the packed weights are stored (bf16: half the bytes, widened in registers).
    public var weights: WeightFormat = .f32

    public init(inChannels: Int, height: Int, width: Int, outChannels: Int, kernel: [Int], stride: [Int] = [1, 1],
                padding: [Int] = [0, 0], dilation: [Int] = [1, 1], groups: Int = 1,
                activation: Activation = .none, residual: Bool = false, pool: Bool = false, weights: WeightFormat = .f32) {
        self.inChannels = inChannels
        self.height = height
        self.width = width
        self.outChannels = outChannels
        self.kernel = kernel
        self.stride = stride
        self.padding = padding
        self.dilation = dilation
        self.groups = groups
        self.activation = activation
        self.residual = residual
        self.pool = pool
        self.weights = weights
    }

    public var outHeight: Int { windowSize(height, 0) }
    public var outWidth: Int { windowSize(width, 1) }

    private func windowSize(_ size: Int, _ d: Int) -> Int {
        let span = dilation[d] * (kernel[d] - 1) + 1
        let num = size + 2 * padding[d] - span
        return num < 0 ? 0 : num / stride[d] + 1
    }

    public var flopsPerSample: Int { 2 * outChannels * outHeight * outWidth * (inChannels / max(groups, 1)) * kernel[0] * kernel[1] }

    public var description: String {
        var s = "conv2d \(kernel[0])x\(kernel[1])/s\(stride[0])"
        if padding != [0, 0] { s += "/p\(padding[0])" }
        if dilation != [1, 1] { s += "/d\(dilation[0])" }
        if groups != 1 { s += "/g\(groups)" }
        s += " \(inChannels)→\(outChannels) \(height)x\(width)→\(outHeight)x\(outWidth) +bias"
        if residual { s += "+residual" }
        if activation != .none { s += "+\(activation.rawValue)" }
        if pool { s += "+avgmax" }
        if weights != .f32 { s += " \(weights.rawValue) weights" }
        return s
    }

    func validate() throws(CodegenError) {
        guard inChannels > 0, outChannels > 0, height > 0, width > 0 else {
            throw CodegenError(.kernel, "\(self): channel counts and sizes must be positive")
        }
        guard kernel.count == 2, stride.count == 2, padding.count == 2, dilation.count == 2,
              kernel.allSatisfy({ $0 > 0 }), stride.allSatisfy({ $0 > 0 }), dilation.allSatisfy({ $0 > 0 }),
              padding.allSatisfy({ $0 >= 0 }) else {
            throw CodegenError(.kernel, "conv2d: kernel, stride, padding and dilation need two entries each (kernel/stride/dilation positive, padding ≥ 0)")
        }
        guard groups > 0, inChannels % groups == 0, outChannels % groups == 0 else {
            throw CodegenError(.kernel, "\(self): groups=\(groups) must divide \(inChannels) and \(outChannels)")
        }
        guard outHeight > 0, outWidth > 0 else { throw CodegenError(.kernel, "\(self): the kernel does not fit the input") }
    }
}

/// The trained tensors of a convolution; BatchNorm, when given, is folded into weight and bias.
public struct ConvWeights: Sendable {
    public struct BatchNorm: Sendable {
        public var gamma: [Float], beta: [Float], mean: [Float], variance: [Float], eps: Double
        public init(gamma: [Float], beta: [Float], mean: [Float], variance: [Float], eps: Double = 1e-5) {
            self.gamma = gamma
            self.beta = beta
            self.mean = mean
            self.variance = variance
            self.eps = eps
        }
    }

    /// `[out, in/groups, kh, kw]`.
    public var weight: Tensor
    public var bias: [Float]?
    public var batchNorm: BatchNorm?

    public init(weight: Tensor, bias: [Float]? = nil, batchNorm: BatchNorm? = nil) {
        self.weight = weight
        self.bias = bias
        self.batchNorm = batchNorm
    }

    /// Weight and bias with BatchNorm folded in (dense over input channels: groups expanded to
    /// a block-diagonal weight): `w' = w·γ/√(σ²+ε)`, `b' = (b−μ)·γ/√(σ²+ε) + β`.
    public func folded(_ spec: Conv2DSpec) throws(CodegenError) -> (weight: [Float], bias: [Float]) {
        let o = spec.outChannels, ig = spec.inChannels / spec.groups, kh = spec.kernel[0], kw = spec.kernel[1]
        guard weight.shape == [o, ig, kh, kw] else {
            throw CodegenError(.kernel, "\(spec): the weight is \(describeShape(weight.shape)), expected \(describeShape([o, ig, kh, kw]))")
        }
        if let bias, bias.count != o { throw CodegenError(.kernel, "\(spec): the bias has \(bias.count) values, expected \(o)") }
        if let bn = batchNorm, [bn.gamma.count, bn.beta.count, bn.mean.count, bn.variance.count] != [o, o, o, o] {
            throw CodegenError(.kernel, "\(spec): the BatchNorm parameters must have \(o) values each")
        }
        let cin = spec.inChannels, og = o / spec.groups, taps = kh * kw
        var w = [Float](repeating: 0, count: o * cin * taps)
        var b = [Float](repeating: 0, count: o)
        for oc in 0..<o {
            var scale = 1.0, shift = Double(bias?[oc] ?? 0)
            if let bn = batchNorm {
                scale = Double(bn.gamma[oc]) / (Double(bn.variance[oc]) + bn.eps).squareRoot()
                shift = (shift - Double(bn.mean[oc])) * scale + Double(bn.beta[oc])
            }
            b[oc] = Float(shift)
            let g = oc / og
            for i in 0..<ig {
                for t in 0..<taps {
                    w[(oc * cin + g * ig + i) * taps + t] = Float(Double(weight.data[(oc * ig + i) * taps + t]) * scale)
                }
            }
        }
        return (w, b)
    }
}
