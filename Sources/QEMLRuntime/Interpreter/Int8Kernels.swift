import QEMLIR
import QEMLPasses
import QEMLTensor

/// The integer reference of docs/QUANTIZATION.md: int8 conv2d and dense with plain loops. The
/// generated int8 kernels (VNNI, `sdot`, the widening path) are tested against these functions
/// bit for bit: the accumulators are exact int32 sums, the epilogue is one f32 `fma` per
/// element, the requantization one `rint`.
public enum Int8Reference {
    /// A convolution's geometry (groups = 1, PyTorch semantics).
    public struct ConvGeometry: Sendable, Hashable {
        public var inChannels, height, width, outChannels: Int
        public var kernel: [Int], stride: [Int], padding: [Int], dilation: [Int]

        public init(inChannels: Int, height: Int, width: Int, outChannels: Int, kernel: [Int],
                    stride: [Int] = [1, 1], padding: [Int] = [0, 0], dilation: [Int] = [1, 1]) {
            (self.inChannels, self.height, self.width, self.outChannels) = (inChannels, height, width, outChannels)
            (self.kernel, self.stride, self.padding, self.dilation) = (kernel, stride, padding, dilation)
        }

        public var outHeight: Int { windowOutput(height, kernel: kernel[0], stride: stride[0], padding: padding[0], dilation: dilation[0]) }
        public var outWidth: Int { windowOutput(width, kernel: kernel[1], stride: stride[1], padding: padding[1], dilation: dilation[1]) }
    }

    /// `x_q = clamp(rint(x · inv_s_x), 0, 127)` element by element.
    public static func quantize(_ x: [Float], inverseScale: Float) -> [UInt8] {
        x.map { QuantizationMath.quantize($0, inverseScale: inverseScale) }
    }

    /// `acc[n][co][oy][ox] = Σ x_q · w_q` over input channels and taps, in int32; padding reads 0.
    /// `xq` is `[batch, C, H, W]`, `weights` `[O, C, kh, kw]`.
    public static func conv2dAccumulators(_ xq: [UInt8], batch: Int, _ g: ConvGeometry, weights: [Int8]) -> [Int32] {
        let (c, h, w, o) = (g.inChannels, g.height, g.width, g.outChannels)
        let (kh, kw, ho, wo) = (g.kernel[0], g.kernel[1], g.outHeight, g.outWidth)
        precondition(xq.count == batch * c * h * w && weights.count == o * c * kh * kw, "int8 conv2d: operand sizes do not fit \(g)")
        var acc = [Int32](repeating: 0, count: batch * o * ho * wo)
        for n in 0..<batch {
            for co in 0..<o {
                for oy in 0..<ho {
                    for ox in 0..<wo {
                        var s: Int32 = 0
                        for ci in 0..<c {
                            for ky in 0..<kh {
                                let iy = oy * g.stride[0] - g.padding[0] + ky * g.dilation[0]
                                guard iy >= 0, iy < h else { continue }
                                for kx in 0..<kw {
                                    let ix = ox * g.stride[1] - g.padding[1] + kx * g.dilation[1]
                                    guard ix >= 0, ix < w else { continue }
                                    s &+= Int32(xq[((n * c + ci) * h + iy) * w + ix]) * Int32(weights[((co * c + ci) * kh + ky) * kw + kx])
                                }
                            }
                        }
                        acc[((n * o + co) * ho + oy) * wo + ox] = s
                    }
                }
            }
        }
        return acc
    }

    /// `acc[n][co] = Σ_k x_q[n][k] · w_q[co][k]` in int32.
    public static func denseAccumulators(_ xq: [UInt8], batch: Int, inFeatures k: Int, weights: [Int8], outFeatures o: Int) -> [Int32] {
        precondition(xq.count == batch * k && weights.count == o * k, "int8 dense: operand sizes do not fit [\(batch),\(k)]·[\(o),\(k)]ᵀ")
        var acc = [Int32](repeating: 0, count: batch * o)
        for n in 0..<batch {
            for co in 0..<o {
                var s: Int32 = 0
                for i in 0..<k { s &+= Int32(xq[n * k + i]) * Int32(weights[co * k + i]) }
                acc[n * o + co] = s
            }
        }
        return acc
    }

    /// The f32 epilogue over `[batch, O, plane]` accumulators: `y = fma(Float(acc), m[co], b′[co])`,
    /// then `+ residual`, then ReLU when `relu`.
    public static func epilogue(_ acc: [Int32], params: Int8Params, plane: Int, residual: [Float]? = nil, relu: Bool = false) -> [Float] {
        let m = params.multipliers, o = m.count
        var y = [Float](repeating: 0, count: acc.count)
        for i in acc.indices {
            let co = (i / plane) % o
            var v = params.bias[co].addingProduct(Float(acc[i]), m[co])
            if let residual { v += residual[i] }
            if relu { v = max(v, 0) }
            y[i] = v
        }
        return y
    }

    /// The output as 7-bit codes for int8 consumers: `clamp(rint(y · inv_s_y), 0, 127)`.
    public static func requantize(_ y: [Float], outputScale: Float) -> [UInt8] { quantize(y, inverseScale: 1 / outputScale) }

    /// What the interpreter stores for an int8 op's output: `y`, or when the output is
    /// requantized, the codes times s_y (which the consumer's quantization maps back to the same
    /// codes exactly: |q·s_y·(1/s_y) − q| < 10⁻⁴).
    public static func stored(_ y: [Float], params: Int8Params) -> [Float] {
        guard let s = params.outputScale else { return y }
        return requantize(y, outputScale: s).map { Float($0) * s }
    }
}

/// The interpreter's int8 conv2d and dense: nodes the `quantize` pass marked `precision="int8"`.
enum Int8Kernels {
    /// The node's numbers from its operands (weight codes as f32 integers, folded bias, weight
    /// scales in `weightScaleSlot`) and attributes.
    static func params(_ node: Node, _ operands: [Tensor?], weightScaleSlot: Int) throws(Diagnostic) -> Int8Params {
        let w = try operand(operands, 1, node), b = try operand(operands, 2, node), s = try operand(operands, weightScaleSlot, node)
        guard let sx = node.attributes.double("input_scale") else { throw kernelError(node, "an int8 op needs input_scale") }
        var q = [Int8](repeating: 0, count: w.count)
        for (i, v) in w.data.enumerated() {
            guard v == v.rounded(), abs(v) <= 127 else { throw kernelError(node, "int8 weight element \(i) is \(v), not an integer in −127…127") }
            q[i] = Int8(v)
        }
        return Int8Params(inputScale: Float(sx), outputScale: node.attributes.double("output_scale").map(Float.init),
                          weights: q, weightScales: s.data, bias: b.data)
    }

    static func conv2d(_ node: Node, _ operands: [Tensor?]) throws(Diagnostic) -> [Tensor] {
        let x = try operand(operands, 0, node), w = try operand(operands, 1, node)
        let (n, c, h, wd) = try requireRank4(x, node)
        guard node.int("groups", 1) == 1, w.rank == 4, w.shape[1] == c else { throw kernelError(node, "int8 conv2d: groups must be 1 and the weight [O, C, kh, kw]") }
        let p = try params(node, operands, weightScaleSlot: 8)
        let geo = Int8Reference.ConvGeometry(inChannels: c, height: h, width: wd, outChannels: w.shape[0], kernel: [w.shape[2], w.shape[3]],
                                             stride: try node.pair("stride", [1, 1], minimum: 1), padding: try node.pair("padding", [0, 0], minimum: 0),
                                             dilation: try node.pair("dilation", [1, 1], minimum: 1))
        let acc = Int8Reference.conv2dAccumulators(Int8Reference.quantize(x.data, inverseScale: p.inverseInputScale), batch: n, geo, weights: p.weights)
        let shape = [n, geo.outChannels, geo.outHeight, geo.outWidth]
        let residual = operands.count > 7 ? operands[7] : nil
        if let residual, residual.shape != shape { throw kernelError(node, "the residual \(describeShape(residual.shape)) does not match the output \(describeShape(shape))") }
        let activation = node.string("activation", "none")
        guard activation == "none" || activation == "relu" else { throw kernelError(node, "int8 conv2d: activation \(activation) is not supported") }
        let y = Tensor(shape: shape, data: Int8Reference.epilogue(acc, params: p, plane: geo.outHeight * geo.outWidth,
                                                                  residual: residual?.data, relu: activation == "relu"))
        let out = Tensor(shape: shape, data: Int8Reference.stored(y.data, params: p))
        switch node.string("pool", "none") {
        case "none": return [out]
        case "avgmax": return [out, Interpreter.globalPool(y, max: false), Interpreter.globalPool(y, max: true)]
        case let pool: throw kernelError(node, "unknown pool '\(pool)'")
        }
    }

    static func dense(_ node: Node, _ operands: [Tensor?]) throws(Diagnostic) -> Tensor {
        let x = try operand(operands, 0, node), w = try operand(operands, 1, node)
        guard x.rank == 2, w.rank == 2, w.shape[1] == x.shape[1] else {
            throw kernelError(node, "input \(describeShape(x.shape)) and weight \(describeShape(w.shape)) do not fit [N,k]·[out,k]ᵀ")
        }
        let p = try params(node, operands, weightScaleSlot: 3)
        let acc = Int8Reference.denseAccumulators(Int8Reference.quantize(x.data, inverseScale: p.inverseInputScale), batch: x.shape[0],
                                                  inFeatures: x.shape[1], weights: p.weights, outFeatures: w.shape[0])
        let y = Int8Reference.epilogue(acc, params: p, plane: 1)
        return Tensor(shape: [x.shape[0], w.shape[0]], data: Int8Reference.stored(y, params: p))
    }
}

extension Interpreter {
    /// The interpreter for a model and its weights: a quantized file (docs/QUANTIZATION.md)
    /// runs the graph as the `quantize` pass marks it (after the fusions it builds on); any
    /// other file, the graph as written. `keeping` names values the caller will evaluate: they
    /// become outputs first, so no fusion removes them.
    public static func forModel(_ graph: Graph, weights: [String: Tensor], keeping: [String] = []) throws -> Interpreter {
        guard weights.keys.contains(where: { $0.hasSuffix(QuantizedFile.foldedBias) }) else {
            return try Interpreter(graph: graph, weights: weights)
        }
        var kept = graph
        for name in keeping { if let v = graph.value(named: name), !kept.outputs.contains(v) { kept.outputs.append(v) } }
        let quantized = try PassManager().run(kept, until: "quantize", context: PassContext(weights: weights)).graph
        return try Interpreter(graph: quantized, weights: weights)
    }
}
