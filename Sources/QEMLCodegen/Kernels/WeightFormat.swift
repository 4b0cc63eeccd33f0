internal import CLLVM
import QEMLPasses

/// How a kernel's packed weights sit in its `params` (docs/QUANTIZATION.md, bf16): f32, or bf16
/// — 16-bit patterns, two to a float slot, half the bytes — which the kernel widens to f32 in
/// registers as it loads them (exact: a bf16 is the top half of an f32). The kernel then
/// computes what the f32 kernel computes on the rounded weights, bit for bit.
public enum WeightFormat: String, Sendable, Hashable {
    case f32, bf16

    /// Float slots `count` packed weights occupy, padded to whole 64-byte lines.
    func floats(_ count: Int) -> Int {
        let n = self == .bf16 ? (count + 1) / 2 : count
        return (n + 15) / 16 * 16
    }

    /// `weights` (in packing order) as the float slots of `params`: as they are, or each
    /// rounded to bf16 (nearest, ties to even) and stored two to a slot, low half first.
    func pack(_ weights: [Float]) -> [Float] {
        guard self == .bf16 else { return weights + [Float](repeating: 0, count: floats(weights.count) - weights.count) }
        var out = [Float](repeating: 0, count: floats(weights.count))
        for i in stride(from: 0, to: weights.count, by: 2) {
            let lo = UInt32(QuantizationMath.bf16Bits(weights[i]))
            let hi = i + 1 < weights.count ? UInt32(QuantizationMath.bf16Bits(weights[i + 1])) : 0
            out[i / 2] = Float(bitPattern: lo | hi << 16)
        }
        return out
    }
}

extension IRBuilder {
    /// `&weights[index]` in packed weights of `format` (`weights`: the params pointer or one
    /// derived from it by this function).
    func gepWeight(_ weights: IRValue, _ index: IRValue, _ format: WeightFormat) -> IRValue {
        guard format == .bf16 else { return gep(weights, index) }
        let i16 = LLVMInt16TypeInContext(m.context)!
        let base = bitcast(weights, m.pointer(to: i16))
        var idx: [IRValue?] = [index]
        let p = idx.withUnsafeMutableBufferPointer { LLVMBuildInBoundsGEP2(builder, i16, base, $0.baseAddress, 1, "") }!
        return bitcast(p, m.pointer(to: m.f32))  // kept as float*, like every params pointer; loadWeights knows
    }

    func gepWeight(_ weights: IRValue, _ index: Int, _ format: WeightFormat) -> IRValue {
        index == 0 ? weights : gepWeight(weights, m.constI64(index), format)
    }

    /// `lanes` consecutive weights at `p` (from `gepWeight`) as an f32 vector.
    func loadWeights(_ p: IRValue, _ lanes: Int, _ format: WeightFormat, align: Int) -> IRValue {
        guard format == .bf16 else { return loadVector(p, lanes, align: align) }
        let i16 = LLVMInt16TypeInContext(m.context)!
        let vt = m.vector(i16, lanes)
        let raw = LLVMBuildLoad2(builder, vt, bitcast(p, m.pointer(to: vt)), "")!
        LLVMSetAlignment(raw, UInt32(max(2, align / 2)))
        let wide = LLVMBuildZExt(builder, raw, m.vector(m.i32, lanes), "")!
        var sixteens: [IRValue?] = Array(repeating: LLVMConstInt(m.i32, 16, 0), count: lanes)
        let sixteen = sixteens.withUnsafeMutableBufferPointer { LLVMConstVector($0.baseAddress, UInt32(lanes)) }!
        let shifted = shl(wide, sixteen)
        return bitcast(shifted, m.vector(m.f32, lanes))
    }
}
