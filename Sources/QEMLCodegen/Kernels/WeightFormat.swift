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

extension WeightFormat {
    /// Whether `vdpbf16ps` runs bf16 convolutions on `target`: it has `avx512bf16` and 16 lanes.
    static func hasBF16Dot(_ target: TargetDescription) -> Bool {
        target.vectorWidth == 16 && target.features.split(separator: ",").contains("+avx512bf16")
    }

    /// Each `[ci:c][co:c]` block of packed conv weights regrouped as `[ci/2][co:c][2]`: the
    /// input-channel pairs `vdpbf16ps` multiplies, one 32-bit lane per output channel.
    static func pairs(_ w: [Float], lanes c: Int) -> [Float] {
        var out = w
        for block in stride(from: 0, to: w.count, by: c * c) {
            for ci in 0..<c { for co in 0..<c { out[block + ((ci / 2) * c + co) * 2 + ci % 2] = w[block + ci * c + co] } }
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

    /// `lanes` 32-bit lanes of bf16 weight pairs at `p` (from `gepWeight`).
    func loadBF16Pairs(_ p: IRValue, _ lanes: Int) -> IRValue {
        let vt = m.vector(m.i32, lanes)
        let v = LLVMBuildLoad2(builder, vt, bitcast(p, m.pointer(to: vt)), "")!
        LLVMSetAlignment(v, 4)
        return v
    }

    /// The floats at `p` and `p + 1`, each rounded to bf16 (nearest, ties to even, as the
    /// weights), as one 32-bit pair (low half first) in every lane.
    func broadcastBF16Pair(_ p: IRValue, _ lanes: Int) -> IRValue {
        func rounded(_ q: IRValue) -> IRValue {
            let bits = LLVMBuildLoad2(builder, m.i32, bitcast(q, m.pointer(to: m.i32)), "")!
            LLVMSetAlignment(bits, 4)
            return bf16Bits(bits)
        }
        let pair = LLVMBuildOr(builder, rounded(p), shl(rounded(gep(p, 1)), LLVMConstInt(m.i32, 16, 0)), "")!
        let vt = m.vector(m.i32, lanes)
        let one = LLVMBuildInsertElement(builder, LLVMGetUndef(vt), pair, m.constI32(0), "")!
        return LLVMBuildShuffleVector(builder, one, LLVMGetUndef(vt), LLVMConstNull(vt), "")!
    }

    /// The nearest bf16 (ties to even) of f32 bit patterns `bits` (i32 or `<n x i32>`), in the
    /// low 16 bits: `(bits + 0x7FFF + ((bits >> 16) & 1)) >> 16`, as `QuantizationMath.bf16Bits`.
    func bf16Bits(_ bits: IRValue) -> IRValue {
        let n = lanes(of: bits)
        func c(_ v: Int) -> IRValue { LLVMGetTypeKind(typeOf(bits)) == LLVMVectorTypeKind ? m.splatI32(v, n) : m.constI32(v) }
        let lsb = LLVMBuildAnd(builder, LLVMBuildLShr(builder, bits, c(16), ""), c(1), "")!
        return LLVMBuildLShr(builder, add(add(bits, c(0x7FFF)), lsb), c(16), "")!
    }

    /// `acc + x[2i]·w[2i] + x[2i+1]·w[2i+1]` per lane: `vdpbf16ps` (LLVM 14:
    /// `<16 x float> @llvm.x86.avx512bf16.dpbf16ps.512(<16 x float>, <16 x i32>, <16 x i32>)`).
    func dotBF16(_ acc: IRValue, _ x: IRValue, _ w: IRValue) -> IRValue {
        let name = "llvm.x86.avx512bf16.dpbf16ps.512"
        let id = LLVMLookupIntrinsicID(name, name.utf8.count)
        let decl = LLVMGetIntrinsicDeclaration(m.module, id, nil, 0)
        let type = LLVMIntrinsicGetType(m.context, id, nil, 0)
        var a: [IRValue?] = [acc, x, w]
        return a.withUnsafeMutableBufferPointer { LLVMBuildCall2(builder, type, decl, $0.baseAddress, 3, "") }!
    }
}
