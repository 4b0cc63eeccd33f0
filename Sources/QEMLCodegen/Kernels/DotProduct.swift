internal import CLLVM

/// The instruction that multiplies 4-channel groups of u8 activations by s8 weights into i32
/// lanes: `acc[i] += Σₖ x[4i+k] · w[4i+k]` for every 32-bit lane `i`. Chosen from the target
/// description's features only (never the build machine), so a `.target` file decides.
/// Activations are 7-bit (0…127, docs/QUANTIZATION.md): the same bytes are vpdpbusd's u8 and
/// sdot's s8 operand, and every path computes the same exact integers.
public enum DotProduct: String, Hashable, Sendable, CaseIterable {
    /// `vpdpbusd` on zmm (AVX512-VNNI).
    case vnni
    /// `vpdpbusd` on ymm/xmm (AVX-VNNI, or AVX512-VNNI with AVX512VL).
    case vnniNarrow = "vnni-narrow"
    /// AArch64 `sdot` (the dot-product extension).
    case sdot
    /// Bytes widened to i32, multiplied and summed in fours: correct on any CPU (no
    /// `vpmaddubsw`, whose i16 sums saturate).
    case widening

    /// The instruction for `target` at its vector width.
    public static func choose(for target: TargetDescription) -> DotProduct {
        let on = target.enabledFeatures
        let w = target.vectorWidth
        switch target.architecture {
        case "x86_64":
            if w == 16 && on.contains("avx512vnni") { return .vnni }
            if (w == 8 || w == 4) && (on.contains("avxvnni") || (on.contains("avx512vnni") && on.contains("avx512vl"))) { return .vnniNarrow }
        case "aarch64", "arm64":
            if w == 4 && on.contains("dotprod") { return .sdot }
        default: break
        }
        return .widening
    }

    /// `acc + dot(x, w)` on `<lanes x i32>` accumulators; `x` and `w` are `lanes` 32-bit words
    /// (as `<lanes x float>` bit patterns: four bytes each).
    func emit(_ b: IRBuilder, acc: IRValue, x: IRValue, w: IRValue, lanes: Int) -> IRValue {
        let m = b.m
        let words = m.vector(m.i32, lanes), bytes = m.vector(m.i8, lanes * 4)
        switch self {
        case .vnni, .vnniNarrow:
            let bits = lanes * 32
            return b.call("llvm.x86.avx512.vpdpbusd.\(bits)", [acc, b.bitcast(x, words), b.bitcast(w, words)], returning: words)
        case .sdot:
            return b.call("llvm.aarch64.neon.sdot.v\(lanes)i32.v\(lanes * 4)i8", [acc, b.bitcast(x, bytes), b.bitcast(w, bytes)], returning: words)
        case .widening:
            let wide = m.vector(m.i32, lanes * 4)
            let xs = LLVMBuildZExt(b.builder, b.bitcast(x, bytes), wide, "")!
            let ws = LLVMBuildSExt(b.builder, b.bitcast(w, bytes), wide, "")!
            let p = b.mul(xs, ws)
            var sum = acc
            for k in 0..<4 { sum = b.add(sum, b.shuffle(p, (0..<lanes).map { 4 * $0 + k })) }
            return sum
        }
    }
}

extension TargetDescription {
    /// The `+feature` names of the feature string.
    var enabledFeatures: Set<String> {
        Set(features.split(separator: ",").filter { $0.hasPrefix("+") }.map { String($0.dropFirst()) })
    }
}
