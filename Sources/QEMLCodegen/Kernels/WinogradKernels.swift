internal import CLLVM
import QEMLPasses
import QEMLTensor

/// Winograd F(2×2, 3×3) for bf16 3×3 stride-1 convolutions where the target has `vdpbf16ps`:
/// each 2×2 output tile takes 16 multiplies per (input, output) channel pair instead of 36, so
/// the compute-bound layers (ResNet's 3×3 convs at 7×7 and up) do 2.25× fewer of them.
///
/// Three kernels, run in order:
/// 1. `input`: per 4×4 input patch (tiles overlap by 2; zero outside the image) and channel
///    block, V = Bᵀ·d·B, rounded to bf16 and stored as channel pairs `V[ξ][tile][C/2]`
///    (ξ = one of the 16 positions). One item per tile row.
/// 2. `gemm`: per ξ, M[ξ] = V[ξ]·U[ξ] — a `[tiles × C]·[C × K]` product in `vdpbf16ps`, U = G·g·Gᵀ
///    packed at compile time as bf16 pairs. One item per (ξ, group of output blocks).
/// 3. `output`: per tile and output block, Y = Aᵀ·M·A (2×2) + bias, then the activation. One item
///    per tile row.
///
/// It is the same convolution with other roundings (U and V are rounded to bf16 where direct
/// `vdpbf16ps` rounds g and d); `WinogradTests` bounds the difference from the f32 convolution.
public struct WinogradSpec: Hashable, Sendable {
    public var inChannels, outChannels, height, width: Int
    public var activation: Activation
    let lanes: Int

    public var tileRows: Int { (height + 1) / 2 }
    public var tileCols: Int { (width + 1) / 2 }
    var tiles: Int { tileRows * tileCols }
    var pairs: Int { inChannels / 2 }
    var outBlocks: Int { outChannels / lanes }
    /// Output blocks one GEMM item computes (the register tile's width).
    var blocksPerGroup: Int { [4, 2, 1].first { outBlocks % $0 == 0 }! }
    var groups: Int { outBlocks / blocksPerGroup }

    /// Where Winograd runs: a bf16 3×3 stride-1 "same" convolution (no groups, residual or
    /// pooling) with channels in whole blocks, on a target with `vdpbf16ps`, on an image of at
    /// least 7×7 — below that the layer streams its weights (16/9 more of them here) rather
    /// than computes.
    public static func applies(to s: Conv2DSpec, target: TargetDescription) -> Bool {
        let l = target.vectorWidth
        return s.weights == .bf16 && WeightFormat.hasBF16Dot(target) && s.kernel == [3, 3] && s.stride == [1, 1]
            && s.padding == [1, 1] && s.dilation == [1, 1] && s.groups == 1 && !s.residual && !s.pool
            && s.inChannels % l == 0 && s.outChannels % l == 0 && s.height * s.width >= minimumPixels
    }

    /// Measured (benchmarks/RESULTS.md): the paper model's 7×7 layer4 convs 2.6–2.9 → 1.5 ms for
    /// two, the edge model's 8×8 ones 0.36 → 0.27 ms; its 4×4 and 2×2 ones stay direct.
    public static let minimumPixels = 49

    public init(_ s: Conv2DSpec, lanes: Int) {
        inChannels = s.inChannels
        outChannels = s.outChannels
        height = s.height
        width = s.width
        activation = s.activation
        self.lanes = lanes
    }
}

struct WinogradInputSpec: Sendable { var w: WinogradSpec }
struct WinogradGEMMSpec: Sendable { var w: WinogradSpec }
struct WinogradOutputSpec: Sendable { var w: WinogradSpec }

extension KernelDefinition {
    /// The three Winograd kernels of `s`, with U and the bias packed from `weights` (BatchNorm
    /// folded first); with nil weights, code and shapes only. Buffers: x → V, V → M, M → y.
    public static func winograd(_ s: Conv2DSpec, weights: ConvWeights?, target: TargetDescription, name: String) throws -> [KernelDefinition] {
        guard WinogradSpec.applies(to: s, target: target) else { throw CodegenError(.kernel, "winograd: \(s) is not a bf16 3×3 stride-1 convolution it covers") }
        let w = WinogradSpec(s, lanes: target.vectorWidth), l = w.lanes
        var u: [Float] = [], bias: [Float] = []
        if let weights {
            let (fw, fb) = try weights.folded(s)
            u = packedU(w, folded: fw)
            bias = fb + [Float](repeating: 0, count: (16 - fb.count % 16) % 16)
        }
        let v = [8 * w.inChannels, w.tileRows, w.tileCols], m = [16 * w.outChannels, w.tileRows, w.tileCols]
        let multiplies = 2 * 16 * w.tiles * w.inChannels * w.outChannels
        let input = KernelDefinition(
            name: name + "_wi", kind: "winograd_input", summary: "winograd F(2,3) input transform \(w.inChannels)ch \(w.height)x\(w.width) → bf16",
            buffers: [.blocked("x", .input, [w.inChannels, w.height, w.width], lanes: l), .blocked("v", .output, v, lanes: l)],
            itemsPerSample: w.tileRows, flopsPerSample: 32 * w.tiles * w.inChannels, lanes: l, params: [],
            body: .winogradInput(WinogradInputSpec(w: w)))
        let gemm = KernelDefinition(
            name: name + "_wg", kind: "conv2d",
            summary: s.description + " winograd F(2,3) bf16 (vdpbf16ps)",
            buffers: [.blocked("v", .input, v, lanes: l), .blocked("m", .output, m, lanes: l)],
            itemsPerSample: 16 * w.groups, flopsPerSample: multiplies, lanes: l, params: u,
            body: .winogradGEMM(WinogradGEMMSpec(w: w)))
        let output = KernelDefinition(
            name: name + "_wo", kind: "winograd_output",
            summary: "winograd F(2,3) output transform \(w.outChannels)ch \(w.height)x\(w.width) +bias" + (w.activation == .none ? "" : "+\(w.activation.rawValue)"),
            buffers: [.blocked("m", .input, m, lanes: l), .blocked("y", .output, [w.outChannels, w.height, w.width], lanes: l)],
            itemsPerSample: w.tileRows, flopsPerSample: 24 * w.tiles * w.outChannels, lanes: l, params: bias,
            body: .winogradOutput(WinogradOutputSpec(w: w)))
        return [input, gemm, output]
    }

    /// U[ξ] = G·g·Gᵀ per (output, input) channel, rounded to bf16, as 32-bit pairs of input
    /// channels: `[ξ][group][C/2][block in group][lane]`, one output channel per lane.
    static func packedU(_ w: WinogradSpec, folded fw: [Float]) -> [Float] {
        let c = w.inChannels, k = w.outChannels, l = w.lanes, b = w.blocksPerGroup
        let g: [[Double]] = [[1, 0, 0], [0.5, 0.5, 0.5], [0.5, -0.5, 0.5], [0, 0, 1]]
        var u = [UInt16](repeating: 0, count: 16 * k * c)  // [ξ][k][c]
        for o in 0..<k {
            for i in 0..<c {
                let base = (o * c + i) * 9
                for a in 0..<4 {
                    for bb in 0..<4 {
                        var sum = 0.0
                        for p in 0..<3 { for q in 0..<3 { sum += g[a][p] * Double(fw[base + p * 3 + q]) * g[bb][q] } }
                        u[((a * 4 + bb) * k + o) * c + i] = QuantizationMath.bf16Bits(Float(sum))
                    }
                }
            }
        }
        var out = [Float](repeating: 0, count: 16 * k * c / 2)
        var at = 0
        for xi in 0..<16 {
            for group in 0..<w.groups {
                for c2 in 0..<(c / 2) {
                    for blk in 0..<b {
                        for lane in 0..<l {
                            let o = (group * b + blk) * l + lane
                            let lo = UInt32(u[(xi * k + o) * c + 2 * c2]), hi = UInt32(u[(xi * k + o) * c + 2 * c2 + 1])
                            out[at] = Float(bitPattern: lo | hi << 16)
                            at += 1
                        }
                    }
                }
            }
        }
        return out
    }
}

extension IRBuilder {
    /// A float vector rounded to bf16 (nearest, ties to even) as `lanes/2` 32-bit pairs, low lane first.
    func bf16Pairs(_ v: IRValue, lanes: Int) -> IRValue {
        let top = bf16Bits(bitcast(v, m.vector(m.i32, lanes)))
        let halves = LLVMBuildTrunc(builder, top, m.vector(LLVMInt16TypeInContext(m.context)!, lanes), "")!
        return bitcast(halves, m.vector(m.i32, lanes / 2))
    }

    /// Every lane = the 32-bit integer `x`.
    func broadcastI32(_ x: IRValue, _ lanes: Int) -> IRValue {
        let vt = m.vector(m.i32, lanes)
        let one = LLVMBuildInsertElement(builder, LLVMGetUndef(vt), x, m.constI32(0), "")!
        return LLVMBuildShuffleVector(builder, one, LLVMGetUndef(vt), LLVMConstNull(vt), "")!
    }
}

struct WinogradInputGenerator {
    let s: WinogradInputSpec
    let b: IRBuilder

    func emit() {
        let w = s.w, l = w.lanes, blocks = w.inChannels / l, hw = w.height * w.width
        let bufs = b.buffers(2), x = bufs[0], v = bufs[1]
        let zero = b.m.splat(0, l)
        b.itemLoop(perSample: w.tileRows) { n, ty in
            b.loop(0, w.tileCols, "tx") { tx in
                let tile = b.add(b.mul(ty, w.tileCols), tx)
                b.loop(0, blocks, "cb") { cb in
                    let plane = b.gep(x, b.mul(b.add(b.mul(n, blocks), cb), hw * l))
                    // The 4×4 patch at rows 2ty−1…2ty+2, columns 2tx−1…2tx+2; zero outside.
                    var d: [[IRValue]] = []
                    for i in 0..<4 {
                        let iy = b.add(b.mul(ty, 2), i - 1)
                        let rowInside = b.inRange(iy, 0, w.height)
                        var row: [IRValue] = []
                        for j in 0..<4 {
                            let ix = b.add(b.mul(tx, 2), j - 1)
                            let inside = b.and(rowInside, b.inRange(ix, 0, w.width))
                            let at = b.select(inside, b.add(b.mul(iy, w.width), ix), b.m.constI64(0))
                            row.append(b.select(inside, b.loadVector(b.gep(plane, b.mul(at, l)), l), zero))
                        }
                        d.append(row)
                    }
                    // Bᵀ·d·B with Bᵀ = [1 0 −1 0; 0 1 1 0; 0 −1 1 0; 0 1 0 −1].
                    func bt(_ a: [IRValue]) -> [IRValue] { [b.fsub(a[0], a[2]), b.fadd(a[1], a[2]), b.fsub(a[2], a[1]), b.fsub(a[1], a[3])] }
                    let cols = (0..<4).map { j in bt((0..<4).map { d[$0][j] }) }  // cols[j][i]
                    for i in 0..<4 {
                        let t = bt((0..<4).map { cols[$0][i] })
                        for j in 0..<4 {
                            let xi = i * 4 + j
                            let word = b.add(b.mul(b.add(b.mul(b.add(b.mul(n, 16), xi), w.tiles), tile), w.pairs), b.mul(cb, l / 2))
                            b.store(b.bf16Pairs(t[j], lanes: l), b.gep(v, word))
                        }
                    }
                }
            }
        }
    }
}

struct WinogradGEMMGenerator {
    let s: WinogradGEMMSpec
    let b: IRBuilder
    /// Tiles per register tile (× `blocksPerGroup` output blocks: 24 accumulators at most).
    static let rows = 6

    func emit() {
        let w = s.w, l = w.lanes, bpg = w.blocksPerGroup, pairs = w.pairs
        let bufs = b.buffers(2), v = bufs[0], m = bufs[1], params = b.param(1)
        let full = w.tiles / Self.rows * Self.rows
        b.itemLoop(perSample: 16 * w.groups) { n, item in
            let xi = b.sdiv(item, b.m.constI64(w.groups)), group = b.srem(item, b.m.constI64(w.groups))
            let u = b.gep(params, b.mul(b.add(b.mul(xi, w.groups), group), pairs * bpg * l))
            let vBase = b.gep(v, b.mul(b.add(b.mul(n, 16), xi), w.tiles * pairs))
            let mBase = b.gep(m, b.mul(b.add(b.mul(b.add(b.mul(n, 16), xi), w.outBlocks), b.mul(group, bpg)), w.tiles * l))
            func tileRun(_ t0: IRValue, _ rows: Int) {
                let acc = (0..<(rows * bpg)).map { _ in b.variable(b.m.splat(0, l)) }
                b.loop(0, pairs, "c2") { c2 in
                    let weights = (0..<bpg).map { blk in b.loadBF16Pairs(b.gep(u, b.add(b.mul(c2, bpg * l), blk * l)), l) }
                    for r in 0..<rows {
                        let p = b.gep(vBase, b.add(b.mul(b.add(t0, r), pairs), c2))
                        let word = b.load(b.m.i32, b.bitcast(p, b.m.pointer(to: b.m.i32)))
                        let x = b.broadcastI32(word, l)
                        for blk in 0..<bpg { acc[r * bpg + blk].value = b.dotBF16(acc[r * bpg + blk].value, x, weights[blk]) }
                    }
                }
                for r in 0..<rows {
                    for blk in 0..<bpg {
                        b.store(acc[r * bpg + blk].value, b.gep(mBase, b.mul(b.add(b.mul(b.m.constI64(blk), w.tiles), b.add(t0, r)), l)))
                    }
                }
            }
            b.loop(0, full, step: Self.rows, "t") { t0 in tileRun(t0, Self.rows) }
            if full < w.tiles { tileRun(b.m.constI64(full), w.tiles - full) }
        }
    }
}

struct WinogradOutputGenerator {
    let s: WinogradOutputSpec
    let b: IRBuilder

    func emit() {
        let w = s.w, l = w.lanes, blocks = w.outBlocks, hw = w.height * w.width
        let bufs = b.buffers(2), m = bufs[0], y = bufs[1], params = b.param(1)
        b.itemLoop(perSample: w.tileRows) { n, ty in
            b.loop(0, w.tileCols, "tx") { tx in
                let tile = b.add(b.mul(ty, w.tileCols), tx)
                b.loop(0, blocks, "kb") { kb in
                    let mt = (0..<16).map { xi in
                        b.loadVector(b.gep(m, b.mul(b.add(b.mul(b.add(b.mul(b.add(b.mul(n, 16), xi), blocks), kb), w.tiles), tile), l)), l)
                    }
                    // Aᵀ·M·A with Aᵀ = [1 1 1 0; 0 1 −1 −1].
                    func at(_ a: [IRValue]) -> [IRValue] { [b.fadd(b.fadd(a[0], a[1]), a[2]), b.fsub(b.fsub(a[1], a[2]), a[3])] }
                    let cols = (0..<4).map { j in at((0..<4).map { mt[$0 * 4 + j] }) }  // cols[j][r]
                    let bias = b.loadVector(b.gep(params, b.mul(kb, l)), l)
                    let plane = b.gep(y, b.mul(b.add(b.mul(n, blocks), kb), hw * l))
                    for r in 0..<2 {
                        let out = at((0..<4).map { cols[$0][r] })
                        let oy = b.add(b.mul(ty, 2), r)
                        for c in 0..<2 {
                            let ox = b.add(b.mul(tx, 2), c)
                            b.when(b.and(b.inRange(oy, 0, w.height), b.inRange(ox, 0, w.width)), "inside") {
                                b.store(b.activate(b.fadd(out[c], bias), w.activation), b.gep(plane, b.mul(b.add(b.mul(oy, w.width), ox), l)))
                            }
                        }
                    }
                }
            }
        }
    }
}
