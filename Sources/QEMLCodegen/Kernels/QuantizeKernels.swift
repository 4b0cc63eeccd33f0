internal import CLLVM

/// f32 → u7 at the boundary into an int8 op (docs/QUANTIZATION.md): `clamp(rint(x · (1/s)),
/// 0, 127)` stored as one byte per channel in the same blocked layout (c bytes per pixel); and
/// back (`dequantize`): `Float(q) · s`, the value of an int8 op's requantized output for a
/// reader that is not int8 (or a graph output), as the interpreter stores it.
struct QuantizeSpec: Hashable, Sendable {
    var channels, height, width, lanes: Int
    var dequantize = false
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

extension KernelDefinition {
    /// Buffers: input (u8), output (f32). `scale`: the producer's output scale `s_y`.
    public static func dequantize(channels: Int, height: Int, width: Int, scale: Float, target: TargetDescription, name: String) throws -> KernelDefinition {
        guard channels > 0, height > 0, width > 0 else { throw CodegenError(.kernel, "dequantize: sizes must be positive") }
        let l = target.vectorWidth, shape = [channels, height, width]
        var input = Buffer.blocked("input", .input, shape, lanes: l)
        input.element = .u8
        return KernelDefinition(name: name, kind: "dequantize u7", summary: "dequantize u7 [\(channels),\(height),\(width)] ·\(scale)",
                                buffers: [input, .blocked("output", .output, shape, lanes: l)],
                                itemsPerSample: ceilDiv(channels, l), flopsPerSample: channels * height * width, lanes: l, params: [scale],
                                body: .quantize(QuantizeSpec(channels: channels, height: height, width: width, lanes: l, dequantize: true)))
    }
}

/// One item = one channel block's H×W plane.
struct QuantizeGenerator {
    let s: QuantizeSpec
    let b: IRBuilder

    func emit() {
        let l = s.lanes, blocks = ceilDiv(s.channels, l), hw = s.height * s.width
        let bufs = b.buffers(2)
        let factor = b.broadcast(b.loadF32(b.param(1)), l)  // 1/s, or s to dequantize
        b.itemLoop(perSample: blocks) { n, plane in
            let planeStart = b.mul(b.add(b.mul(n, blocks), plane), hw * l)
            b.loop(0, hw, "p") { p in
                let at = b.add(planeStart, b.mul(p, l))
                if s.dequantize {
                    let bytes = b.loadBytes(b.gepBytes(bufs[0], at), l)
                    let q = LLVMBuildUIToFP(b.builder, bytes, b.m.vector(b.m.f32, l), "")!
                    b.store(b.fmul(q, factor), b.gep(bufs[1], at))
                } else {
                    b.store(b.requantize(b.loadVector(b.gep(bufs[0], at), l), inverse: factor, lanes: l), b.gepBytes(bufs[1], at))
                }
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

    /// `lanes` bytes at `p` (an `i8*`) as `<lanes x i8>`.
    func loadBytes(_ p: IRValue, _ lanes: Int) -> IRValue {
        let vt = m.vector(m.i8, lanes)
        let v = LLVMBuildLoad2(builder, vt, bitcast(p, m.pointer(to: vt)), "")!
        LLVMSetAlignment(v, 1)
        return v
    }

    /// `<lanes x i32>` → `<lanes x float>`.
    func sitofpVector(_ v: IRValue, lanes: Int) -> IRValue { LLVMBuildSIToFP(builder, v, m.vector(m.f32, lanes), "")! }
}
