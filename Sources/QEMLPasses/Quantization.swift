import QEMLIR
import QEMLTensor

/// The arithmetic of a conv2d or dense node (docs/QUANTIZATION.md), as the `quantize` pass
/// records it in the node's `precision` attribute.
public enum Precision: String, Sendable, Codable, CaseIterable { case f32, bf16, int8 }

/// An int8 op's numbers, per docs/QUANTIZATION.md.
public struct Int8Params: Sendable, Equatable {
    public var inputScale: Float        // s_x (the input is u7: 0…127)
    public var outputScale: Float?      // s_y when the output is stored as u7 for int8 consumers; nil = f32 output
    public var weights: [Int8]          // w_q, same element order as the node's f32 weight tensor (OIHW / [out, in])
    public var weightScales: [Float]    // s_w[co]
    public var bias: [Float]            // b'[co]: BatchNorm and bias folded

    public init(inputScale: Float, outputScale: Float?, weights: [Int8], weightScales: [Float], bias: [Float]) {
        self.inputScale = inputScale
        self.outputScale = outputScale
        self.weights = weights
        self.weightScales = weightScales
        self.bias = bias
    }

    /// The epilogue's multipliers `m[co] = s_x · s_w[co]`, rounded to f32 once.
    public var multipliers: [Float] { weightScales.map { inputScale * $0 } }
    /// `1 / s_x` in f32, the factor the input is quantized with.
    public var inverseInputScale: Float { 1 / inputScale }
    /// `1 / s_y` in f32, when the output is requantized.
    public var inverseOutputScale: Float? { outputScale.map { 1 / $0 } }
}

/// The rounding rules of docs/QUANTIZATION.md, one function each, shared by `qemlc quantize`,
/// the interpreter's integer reference and the tests.
public enum QuantizationMath {
    /// Round half to even, as `llvm.rint` and `vcvtps2dq` under the default MXCSR.
    @inline(__always) public static func rint(_ x: Float) -> Float { x.rounded(.toNearestOrEven) }

    /// An activation as the 7-bit code 0…127: `clamp(rint(x · inv_s), 0, 127)`.
    @inline(__always) public static func quantize(_ x: Float, inverseScale: Float) -> UInt8 {
        let q = rint(x * inverseScale)
        return q >= 127 ? 127 : q > 0 ? UInt8(q) : 0  // NaN and negatives → 0
    }

    /// The scale of a tensor whose calibrated range is 0…`range`: `range / 127` (1 for an all-zero tensor).
    public static func activationScale(range: Float) -> Float { range > 0 && range.isFinite ? range / 127 : 1 }

    /// Per output channel symmetric weights: `s_w = max|w| / 127` (1 for an all-zero channel),
    /// `w_q = clamp(rint(w / s_w), −127, 127)`. `w` is `[out, …]` in row-major order.
    public static func quantizeWeights(_ w: [Float], outChannels: Int) -> (weights: [Int8], scales: [Float]) {
        precondition(outChannels > 0 && w.count % outChannels == 0, "the weight does not split into \(outChannels) channels")
        let per = w.count / outChannels
        var q = [Int8](repeating: 0, count: w.count)
        var scales = [Float](repeating: 1, count: outChannels)
        for co in 0..<outChannels {
            let row = w[co * per..<(co + 1) * per]
            let m = row.reduce(Float(0)) { max($0, abs($1)) }
            let s: Float = m > 0 ? m / 127 : 1
            scales[co] = s
            for i in row.indices { q[i] = Int8(max(-127, min(127, rint(w[i] / s)))) }
        }
        return (q, scales)
    }

    /// The nearest bf16, ties to even, as its 16 bits (`(bits + 0x7FFF + ((bits >> 16) & 1)) >> 16`).
    /// The caller refuses NaN first.
    @inline(__always) public static func bf16Bits(_ x: Float) -> UInt16 {
        let bits = x.bitPattern
        return UInt16(truncatingIfNeeded: (bits &+ 0x7FFF &+ ((bits >> 16) & 1)) >> 16)
    }

    /// `x` rounded to the nearest bf16 value, as an f32.
    @inline(__always) public static func roundToBF16(_ x: Float) -> Float { Float(bitPattern: UInt32(bf16Bits(x)) << 16) }
}

/// How a quantized weights file stores an op (docs/QUANTIZATION.md "The file"): for a conv2d
/// or dense whose weight is `W`, `W` itself holds the reduced weights (I8 codes or BF16 values,
/// BatchNorm folded in) and its companions sit beside it under `W` + a suffix. The op's bias and
/// BatchNorm parameters are then absent: they are folded into `W.folded_bias`.
public enum QuantizedFile {
    /// `W.folded_bias`: b′[co], F32 `[out]` (every reduced op).
    public static let foldedBias = ".folded_bias"
    /// `W.scale`: s_w[co], F32 `[out]` (int8).
    public static let weightScale = ".scale"
    /// `W.input_scale`: s_x, F32 `[1]` (int8).
    public static let inputScale = ".input_scale"
    /// `W.output_scale`: s_y, F32 `[1]` (int8 ops whose consumers are all int8).
    public static let outputScale = ".output_scale"
    public static let suffixes = [foldedBias, weightScale, inputScale, outputScale]

    /// `__metadata__` keys: the precision, and how the activation ranges were calibrated.
    public static let precisionKey = "qemlc.precision"
    public static let methodKey = "qemlc.calibration.method"
    public static let dataKey = "qemlc.calibration.data"
    public static let countKey = "qemlc.calibration.count"
    public static let modelKey = "qemlc.model"

    /// The companion tensors of weight `w` a file may hold.
    public static func companions(of w: String) -> [String] { suffixes.map { w + $0 } }

    /// Weights of `g` (as parsed) that a file with these tensors may omit because they were folded:
    /// the bias and the BatchNorm parameters of each conv2d or dense whose weight has a folded bias.
    public static func foldedAway(_ g: Graph, has: (String) -> Bool) -> Set<String> {
        var out = Set<String>()
        func name(_ v: ValueID?) -> String? { v.flatMap { g[$0].weightName } }
        for n in g.nodes where n.op == "conv2d" || n.op == "dense" {
            guard let w = name(n.operand(1)), has(w + foldedBias) else { continue }
            if let b = name(n.operand(2)) { out.insert(b) }
            for slot in ["bn_weight", "bn_bias", "bn_mean", "bn_var"] { if let v = name(n.operand(named: slot)) { out.insert(v) } }
            // A BatchNorm node that reads only this op's output is folded into it.
            guard let y = n.results.first else { continue }
            for bn in g.nodes where bn.op == "batchnorm" && bn.operand(0) == y {
                for i in 1...4 { if let v = name(bn.operand(i)) { out.insert(v) } }
            }
        }
        return out
    }
}

extension Node {
    /// A conv2d or dense the `quantize` pass marked int8 with an input scale: it reads 7-bit
    /// activation codes.
    public var readsInt8Codes: Bool {
        (op == "conv2d" || op == "dense") && attributes.string("precision") == Precision.int8.rawValue
            && attributes.double("input_scale") != nil
    }

    /// A conv2d or dense with int8 weights and f32 activations: a CBAM MLP weight (weight-only,
    /// one scale per output row) read by a CBAM block left unfused — `explain` and
    /// `run --output` make its inner values outputs. It computes on code · scale in f32.
    public var hasWeightOnlyInt8: Bool {
        (op == "conv2d" || op == "dense") && attributes.string("precision") == Precision.int8.rawValue
            && attributes.double("input_scale") == nil
    }
}

extension QuantizationMath {
    /// Weight-only int8 as the f32 it stands for: `codes[row, …] · scales[row]`, rounded once.
    public static func dequantize(codes: Tensor, rowScales scales: Tensor) -> Tensor {
        let per = codes.count / max(1, scales.count)
        return Tensor(shape: codes.shape, data: codes.data.enumerated().map { k, q in q * scales.data[k / per] })
    }
}

extension Precision {
    /// What a graph after the pipeline computes in, for reports: `f32`, or e.g.
    /// `int8 (17 of 19 conv2d/dense ops, the rest f32)`.
    public static func summary(_ g: Graph) -> String {
        let ops = g.nodes.filter { $0.op == "conv2d" || $0.op == "dense" }
        var counts: [Precision: Int] = [:]
        for n in ops { counts[Precision(rawValue: n.attributes.string("precision") ?? "f32") ?? .f32, default: 0] += 1 }
        let reduced = [Precision.int8, .bf16].filter { counts[$0] != nil }
        guard !reduced.isEmpty else { return Precision.f32.rawValue }
        let parts = reduced.map { "\($0.rawValue) (\(counts[$0]!) of \(ops.count) conv2d/dense ops" }
        let cbam = g.nodes.filter { $0.op == "fused_cbam" && ($0.attributes.string("precision") ?? "f32") != "f32" }.count
        return parts.joined(separator: ", ") + (counts[.f32] != nil ? ", the rest f32" : "")
            + (cbam > 0 ? "; the MLP weights of \(cbam) CBAM block\(cbam == 1 ? "" : "s"))" : ")")
    }
}
