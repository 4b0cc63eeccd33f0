internal import CLLVM

/// f32 → u7 at the boundary into an int8 op (docs/QUANTIZATION.md): `clamp(rint(x · (1/s)),
/// 0, 127)` stored as one byte per channel in the same blocked layout (c bytes per pixel).
struct QuantizeSpec: Hashable, Sendable {
    var channels, height, width, lanes: Int
}

extension KernelDefinition {
    /// Buffers: input (f32), output (u8). `scale`: the consumer's activation scale `s_x`.
    public static func quantize(channels: Int, height: Int, width: Int, scale: Float, target: TargetDescription, name: String) throws -> KernelDefinition {
        guard channels > 0, height > 0, width > 0 else { throw CodegenError(.kernel, "quantize: sizes must be positive") }
        guard scale > 0, scale.isFinite else { throw CodegenError(.kernel, "quantize: the scale \(scale) must be positive and finite") }
        let l = target.vectorWidth, shape = [channels, height, width]
        var output = Buffer.blocked("output", .output, shape, lanes: l)
        output.element = .u8
        return KernelDefinition(name: name, kind: "quantize u7", summary: "quantize u7 [\(channels),\(height),\(width)] ·1/\(scale)",
                                buffers: [.blocked("input", .input, shape, lanes: l), output],
                                itemsPerSample: ceilDiv(channels, l), flopsPerSample: 2 * channels * height * width, lanes: l,
                                params: [1 / scale], body: .quantize(QuantizeSpec(channels: channels, height: height, width: width, lanes: l)))
    }
}

/// One item = one channel block's H×W plane.
struct QuantizeGenerator {
    let s: QuantizeSpec
    let b: IRBuilder

    func emit() {
        let l = s.lanes, blocks = ceilDiv(s.channels, l), hw = s.height * s.width
        let bufs = b.buffers(2)
        let inverse = b.broadcast(b.loadF32(b.param(1)), l)
        b.itemLoop(perSample: blocks) { n, plane in
            let planeStart = b.mul(b.add(b.mul(n, blocks), plane), hw * l)
            b.loop(0, hw, "p") { p in
                let at = b.add(planeStart, b.mul(p, l))
                b.store(b.requantize(b.loadVector(b.gep(bufs[0], at), l), inverse: inverse, lanes: l), b.gepBytes(bufs[1], at))
            }
        }
    }
}

extension IRBuilder {
    /// `clamp(rint(v · inverse), 0, 127)` as `<lanes x i8>` (rint: ties to even under the
    /// default rounding mode; the multiply is a separate, unfused step).
    func requantize(_ v: IRValue, inverse: IRValue, lanes: Int) -> IRValue {
        var q = intrinsic("llvm.rint", [fmul(v, inverse)])
        q = minnum(maxnum(q, m.splat(0, lanes)), m.splat(127, lanes))
        return LLVMBuildTrunc(builder, fptosi(q, m.vector(m.i32, lanes)), m.vector(m.i8, lanes), "")!
    }

    /// `<lanes x i32>` → `<lanes x float>`.
    func sitofpVector(_ v: IRValue, lanes: Int) -> IRValue { LLVMBuildSIToFP(builder, v, m.vector(m.f32, lanes), "")! }
}
