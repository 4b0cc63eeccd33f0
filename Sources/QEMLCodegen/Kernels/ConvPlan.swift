/// What a convolution multiplies: f32 FMAs, or u8 activations × s8 weights summed in i32
/// (4-channel groups, one 32-bit word each) with the f32 epilogue of docs/QUANTIZATION.md and
/// an f32 result or one requantized to u7 bytes.
enum ConvArithmetic: Hashable, Sendable {
    case f32
    case int8(DotProduct, u8Output: Bool)

    var isInt8: Bool { if case .int8 = self { return true } else { return false } }
    var u8Output: Bool { if case .int8(_, let u8) = self { return u8 } else { return false } }
}

/// How a convolution is laid out for code generation: the blocked geometry and the register
/// block (R output pixels × M channel blocks of c lanes = R·M vector accumulators).
struct ConvPlan: Sendable {
    let spec: Conv2DSpec
    let lanes: Int
    let arithmetic: ConvArithmetic
    /// Multiply steps per input channel block, and 4-byte words per pixel of an input channel
    /// block: c floats, or c/4 groups of four u8 channels.
    var steps: Int { arithmetic.isInt8 ? lanes / 4 : lanes }
    /// bf16 weights on a target with `avx512bf16` and 16 lanes: `vdpbf16ps` over input-channel
    /// pairs (activations rounded to bf16), weights packed as pairs (`WeightFormat.pairs`).
    let bf16Dot: Bool
    /// Geometry as generated: a 1×1, stride-1, unpadded conv is a GEMM over the pixels, so it
    /// is planned with rows of several image rows (all of them when threads need no split).
    let h, w, oh, ow: Int
    let kh, kw, sh, sw, ph, pw, dh, dw: Int
    let cin, cinBlocks, coutBlocks: Int
    /// Channel blocks per register block, and pixels per register block.
    let m, r: Int
    /// Input channels per iteration of the innermost (runtime) channel loop: unrolled code
    /// size against loop overhead.
    var channelUnroll: Int { 4 }
    /// Groups of `m` output channel blocks (the last may be smaller).
    var channelGroups: Int { ceilDiv(coutBlocks, m) }
    var rows: Int { oh }
    /// A small output plane (a few register tiles) is computed whole per channel group, so
    /// each weight is read once rather than once per output row.
    var planeMode: Bool { oh > 1 && oh * ow <= 3 * r }
    /// Work items: (sample, channel group, output row); with pooling or in plane mode
    /// (sample, channel group).
    var itemsPerSample: Int { spec.pool || planeMode ? channelGroups : channelGroups * oh }
    /// Packed weight elements (f32 or bf16 values, or for int8 4-byte words of four s8); the
    /// epilogue's constants follow: f32/bf16: bias; int8: multipliers `m[co] = s_x·s_w[co]`,
    /// bias, then `1/s_y` (requantized output).
    var weightCount: Int { coutBlocks * cinBlocks * kh * kw * steps * lanes }
    /// f32, or bf16 widened in registers (`WeightFormat`).
    var weightFormat: WeightFormat { spec.weights }
    var weightAlign: Int { min(lanes * 4, 64) }
    var multiplierOffset: Int { weightCount }
    /// Where the bias starts in the params, in floats (after the packed weights).
    var biasOffset: Int { arithmetic.isInt8 ? weightCount + coutBlocks * lanes : weightFormat.floats(weightCount) }
    var outputScaleOffset: Int { weightCount + 2 * coutBlocks * lanes }

    init(_ spec: Conv2DSpec, target: TargetDescription, arithmetic: ConvArithmetic = .f32) {
        self.spec = spec
        self.arithmetic = arithmetic
        lanes = target.vectorWidth
        bf16Dot = spec.weights == .bf16 && WeightFormat.hasBF16Dot(target)
        let coutBlocks = ceilDiv(spec.outChannels, lanes)
        let flat = ConvPlan.registerBlock(registers: target.vectorRegisters, channelBlocks: coutBlocks,
                                          pixels: spec.outHeight * spec.outWidth)
        // A pointwise conv is a GEMM over pixels: run it over rows of g image rows each, the
        // longest rows that still leave enough work items to share among threads.
        let gemm = spec.kernel == [1, 1] && spec.stride == [1, 1] && spec.padding == [0, 0]
        var rowsPerRow = 1
        if gemm {
            let groups = ceilDiv(coutBlocks, flat.m)
            rowsPerRow = (1...spec.height).last { g in spec.height % g == 0 && groups * (spec.height / g) >= ConvPlan.minimumItems } ?? 1
        }
        h = spec.height / rowsPerRow
        w = spec.width * rowsPerRow
        oh = gemm ? h : spec.outHeight
        ow = gemm ? w : spec.outWidth
        (kh, kw) = (spec.kernel[0], spec.kernel[1])
        (sh, sw) = (spec.stride[0], spec.stride[1])
        (ph, pw) = (spec.padding[0], spec.padding[1])
        (dh, dw) = (spec.dilation[0], spec.dilation[1])
        cin = spec.inChannels
        cinBlocks = ceilDiv(spec.inChannels, lanes)
        self.coutBlocks = coutBlocks
        let block = ConvPlan.registerBlock(registers: target.vectorRegisters, channelBlocks: coutBlocks, pixels: ow)
        m = block.m
        // As many tiles as the widest block needs, but balanced (7 pixels: 4 + 3, not 6 + 1).
        r = ceilDiv(ow, ceilDiv(ow, block.r))
    }

    /// Work items per sample below which a pointwise conv keeps its rows (for threading).
    static let minimumItems = 8

    /// Picks M channel blocks × R pixels with R·M accumulators + M weight vectors + 1 broadcast
    /// within the register file, maximizing FMAs per load (R·M / (R+M)), then R·M.
    static func registerBlock(registers: Int, channelBlocks: Int, pixels: Int) -> (m: Int, r: Int) {
        var best = (m: 1, r: 1, score: 0.0, size: 1)
        // Only M dividing the channel blocks: one code path, no remainder group.
        for m in 1...max(1, min(4, channelBlocks)) where channelBlocks % m == 0 {
            let r = min(max(1, (registers - m - 1) / m), max(1, pixels))
            let score = Double(r * m) / Double(r + m)
            if score > best.score + 1e-9 || (abs(score - best.score) < 1e-9 && r * m > best.size) {
                best = (m, r, score, r * m)
            }
        }
        return (best.m, best.r)
    }

    /// Output columns [lo, hi) whose every kernel tap lies inside the input row.
    var interiorColumns: (lo: Int, hi: Int) {
        let lo = ceilDiv(pw, sw)
        let last = w - 1 + pw - (kw - 1) * dw
        let hi = last < 0 ? 0 : last / sw + 1
        return (min(lo, ow), max(min(hi, ow), min(lo, ow)))
    }

    /// Whether tap `kx` of output column `x` reads inside the input row.
    func tapInside(column x: Int, kx: Int) -> Bool {
        let ix = x * sw - pw + kx * dw
        return ix >= 0 && ix < w
    }

    /// A row as a sequence of register tiles: runs of full interior tiles become a loop, the
    /// others are generated with their columns known.
    enum Tile { case loop(start: Int, count: Int), fixed(start: Int, width: Int) }

    var tiles: [Tile] {
        let (lo, hi) = interiorColumns
        var out: [Tile] = []
        var x = 0
        while x < ow {
            let width = min(r, ow - x)
            if width == r, x >= lo, x + r <= hi {
                let count = (hi - x) / r
                out.append(.loop(start: x, count: count))
                x += count * r
            } else {
                out.append(.fixed(start: x, width: width))
                x += width
            }
        }
        return out
    }

    /// Packs folded weights `[out][in][kh][kw]` into `[cout/c][cin/c][kh][kw][ci:c][co:c]`
    /// in `weightFormat`, followed by the bias (f32) padded to `cout/c · c`; padding lanes are zero.
    func pack(weight: [Float], bias: [Float]) -> [Float] {
        let c = lanes, taps = kh * kw, cinAll = spec.inChannels, cout = spec.outChannels
        var p = [Float](repeating: 0, count: weightCount)
        var b = [Float](repeating: 0, count: coutBlocks * c)
        for oc in 0..<cout {
            let ob = oc / c, co = oc % c
            for ic in 0..<cinAll {
                let ib = ic / c, ci = ic % c
                for t in 0..<taps {
                    p[(((ob * cinBlocks + ib) * taps + t) * c + ci) * c + co] = weight[(oc * cinAll + ic) * taps + t]
                }
            }
            b[oc] = bias[oc]
        }
        return weightFormat.pack(bf16Dot ? WeightFormat.pairs(p, lanes: c) : p) + b
    }

    /// Packs s8 weights `[out][in][kh][kw]` (dense over input channels) into words
    /// `[cout/c][cin/c][kh][kw][g: c/4][co: c]` of four bytes (input channels 4g…4g+3, little
    /// endian as on every target), then `m`, bias (padded to `cout/c · c`) and `1/s_y`.
    func packInt8(weight: [Int8], multipliers: [Float], bias: [Float], outputInverse: Float?) -> [Float] {
        let c = lanes, taps = kh * kw, cinAll = spec.inChannels, cout = spec.outChannels
        var words = [UInt32](repeating: 0, count: weightCount)
        for oc in 0..<cout {
            let ob = oc / c, co = oc % c
            for ic in 0..<cinAll {
                let ib = ic / c, g = (ic % c) / 4, k = ic % 4
                for t in 0..<taps {
                    let byte = UInt32(UInt8(bitPattern: weight[(oc * cinAll + ic) * taps + t]))
                    words[(((ob * cinBlocks + ib) * taps + t) * steps + g) * c + co] |= byte << (8 * UInt32(k))
                }
            }
        }
        var p = words.map { Float(bitPattern: $0) }
        p += [Float](repeating: 0, count: 2 * coutBlocks * c + 1)
        for oc in 0..<cout {
            p[multiplierOffset + oc] = multipliers[oc]
            p[biasOffset + oc] = bias[oc]
        }
        p[outputScaleOffset] = outputInverse ?? 1
        return p
    }
}

extension KernelDefinition {
    /// A direct convolution in NCHWc with weights packed now (BatchNorm folded in); with nil
    /// weights, only the code and shapes (empty `params`: the caller has the packed weights,
    /// e.g. from the packed-weights cache). Buffers: input, [residual], output, [avg, max]
    /// (`[C]` each, when `spec.pool`).
    public static func conv2d(_ spec: Conv2DSpec, weights: ConvWeights?, target: TargetDescription, name: String) throws -> KernelDefinition {
        try spec.validate()
        let dense: Conv2DSpec = {
            var s = spec
            s.groups = 1  // groups run as a dense conv with a block-diagonal weight
            return s
        }()
        let plan = ConvPlan(dense, target: target)
        let c = target.vectorWidth
        let outShape = [spec.outChannels, spec.outHeight, spec.outWidth]
        var buffers = [Buffer(name: "input", role: .input, shape: [spec.inChannels, spec.height, spec.width],
                              elementsPerSample: blockedCount(spec.inChannels, spec.height, spec.width, lanes: c))]
        let outCount = blockedCount(spec.outChannels, spec.outHeight, spec.outWidth, lanes: c)
        if spec.residual { buffers.append(Buffer(name: "residual", role: .input, shape: outShape, elementsPerSample: outCount)) }
        buffers.append(Buffer(name: "output", role: .output, shape: outShape, elementsPerSample: outCount))
        if spec.pool {
            let pooled = blockedCount(spec.outChannels, 1, 1, lanes: c)
            buffers.append(Buffer(name: "avg", role: .output, shape: [spec.outChannels, 1, 1], elementsPerSample: pooled))
            buffers.append(Buffer(name: "max", role: .output, shape: [spec.outChannels, 1, 1], elementsPerSample: pooled))
        }
        // `compile` says which bf16 path the target takes.
        let path = spec.weights != .bf16 ? "" : plan.bf16Dot ? " (vdpbf16ps)" : " (widened to f32)"
        return KernelDefinition(name: name, kind: "conv2d", summary: spec.description + path, buffers: buffers,
                                itemsPerSample: plan.itemsPerSample, flopsPerSample: spec.flopsPerSample, lanes: c,
                                params: try weights.map { w in
                                    let (weight, bias) = try w.folded(spec)
                                    return plan.pack(weight: weight, bias: bias)
                                } ?? [], body: .conv2d(plan))
    }
}
