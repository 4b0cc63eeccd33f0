internal import CLLVM
import QEMLPasses
import QEMLTensor

/// CBAM (channel attention, then spatial attention, then + residual and activation) as three
/// kernels run in order, each splittable across threads:
///
/// 1. `channelGate`: gate = σ(fc2(relu(fc1·avg + b1) + relu(fc1·max + b1)) + 2·b2), `[C,1,1]`
///    (fc2 is linear, so the two branches share one second layer). One item per sample.
/// 2. `reduce`: per pixel mean and max over channels of y·gate → a 2-channel map (lane 0 mean,
///    lane 1 max). One item per row.
/// 3. `apply`: s = σ(conv_k×k(map) + bias) per pixel; out = act(y·gate·s + residual). One item
///    per row.
///
/// y is read twice (steps 2 and 3), the residual once, the output written once.
///
/// The MLP's weights are what the gate streams (≈10 MB of the edge model in f32), so they may be
/// stored reduced (`mlp`, docs/QUANTIZATION.md): bf16, widened in registers; or int8,
/// weight-only — s8 codes widened to f32, each output row's scale applied after its sum.
public struct CBAMSpec: Hashable, Sendable {
    public var channels, height, width, hidden: Int
    public var kernel: Int
    public var residual: Bool
    public var activation: Activation
    public var mlp: Precision

    public init(channels: Int, height: Int, width: Int, hidden: Int, kernel: Int = 7, residual: Bool = false,
                activation: Activation = .none, mlp: Precision = .f32) {
        self.channels = channels
        self.height = height
        self.width = width
        self.hidden = hidden
        self.kernel = kernel
        self.residual = residual
        self.activation = activation
        self.mlp = mlp
    }
}

/// The trained tensors of a CBAM block (PyTorch shapes).
public struct CBAMWeights: Sendable {
    /// `[hidden, C, 1, 1]`, `[C, hidden, 1, 1]`, `[1, 2, k, k]`.
    public var fc1: Tensor, fc2: Tensor, spatial: Tensor
    public var fc1Bias: [Float]?, fc2Bias: [Float]?, spatialBias: Float?
    /// int8 MLP: fc1 and fc2 hold codes in −127…127, these the scale of each output row.
    public var fc1Scale: [Float]?, fc2Scale: [Float]?

    public init(fc1: Tensor, fc2: Tensor, spatial: Tensor, fc1Bias: [Float]? = nil, fc2Bias: [Float]? = nil, spatialBias: Float? = nil,
                fc1Scale: [Float]? = nil, fc2Scale: [Float]? = nil) {
        self.fc1 = fc1
        self.fc2 = fc2
        self.spatial = spatial
        self.fc1Bias = fc1Bias
        self.fc2Bias = fc2Bias
        self.spatialBias = spatialBias
        self.fc1Scale = fc1Scale
        self.fc2Scale = fc2Scale
    }
}

/// The three CBAM kernels and the scratch buffers between them.
public struct CBAMKernels: Sendable {
    /// Buffers: avg, max (`[C,1,1]`, from the producing conv) → gate.
    public var channelGate: KernelDefinition
    /// Buffers: y, gate → map (`[2,H,W]`).
    public var reduce: KernelDefinition
    /// Buffers: y, gate, map, [residual] → output.
    public var apply: KernelDefinition
    public var all: [KernelDefinition] { [channelGate, reduce, apply] }
}

/// The gate's params: fc1 rows `[hidden][Cp]`, b1 `[hidden]`, fc2ᵀ rows `[hidden][Cp]`, 2·b2
/// `[Cp]`, then for int8 the row scales s1 `[hidden]` and s2 `[Cp]`. A row of Cp weights takes
/// Cp floats (f32), Cp/2 (bf16, two to a float) or Cp/4 (int8, four codes to a float).
struct CBAMGateSpec: Sendable {
    var channels, hidden, lanes: Int
    var mlp: Precision = .f32

    var paddedChannels: Int { ceilDiv(channels, lanes) * lanes }
    /// Floats one row of weights takes.
    var rowFloats: Int { paddedChannels / (mlp == .int8 ? 4 : mlp == .bf16 ? 2 : 1) }
    var bias1: Int { hidden * rowFloats }
    var fc2: Int { bias1 + hidden }
    var bias2: Int { fc2 + hidden * rowFloats }
    var scale1: Int { bias2 + paddedChannels }
    var scale2: Int { scale1 + hidden }
    var count: Int { mlp == .int8 ? scale2 + paddedChannels : scale1 }

    /// `rows` rows of `cp` weights each (`value(row, column)`, zero past `channels`) in `mlp`'s format.
    func packRows(_ rows: Int, _ value: (Int, Int) -> Float) -> [Float] {
        var out = [Float](repeating: 0, count: rows * rowFloats)
        for r in 0..<rows {
            for ch in 0..<channels {
                let v = value(r, ch), k = r * rowFloats
                switch mlp {
                case .f32: out[k + ch] = v
                case .bf16:
                    let bits = UInt32(QuantizationMath.bf16Bits(v)) << (16 * (ch % 2))
                    out[k + ch / 2] = Float(bitPattern: out[k + ch / 2].bitPattern | bits)
                case .int8:
                    let bits = UInt32(UInt8(bitPattern: Int8(v))) << (8 * (ch % 4))
                    out[k + ch / 4] = Float(bitPattern: out[k + ch / 4].bitPattern | bits)
                }
            }
        }
        return out
    }
}
struct CBAMReduceSpec: Sendable { var channels, height, width, lanes: Int }
struct CBAMApplySpec: Sendable { var spec: CBAMSpec; var lanes: Int }

extension KernelDefinition {
    /// The three CBAM kernels with their weights packed; with nil weights, only code and shapes
    /// (empty `params`: the caller has the packed weights, e.g. from the packed-weights cache).
    public static func cbam(_ s: CBAMSpec, weights: CBAMWeights?, target: TargetDescription, name: String) throws -> CBAMKernels {
        let c = s.channels, hid = s.hidden, k = s.kernel, l = target.vectorWidth
        guard c > 0, hid > 0, s.height > 0, s.width > 0, k > 0, k % 2 == 1 else {
            throw CodegenError(.kernel, "cbam: sizes must be positive and the spatial kernel odd")
        }
        let gateSpec = CBAMGateSpec(channels: c, hidden: hid, lanes: l, mlp: s.mlp)
        var gp: [Float] = [], ap: [Float] = []
        if let w = weights {
            guard w.fc1.shape == [hid, c, 1, 1], w.fc2.shape == [c, hid, 1, 1], w.spatial.shape == [1, 2, k, k] else {
                throw CodegenError(.kernel, "cbam: weights \(describeShape(w.fc1.shape)), \(describeShape(w.fc2.shape)), \(describeShape(w.spatial.shape)) do not fit C=\(c), hidden=\(hid), kernel=\(k)")
            }
            if let b = w.fc1Bias, b.count != hid { throw CodegenError(.kernel, "cbam: fc1 bias has \(b.count) values, expected \(hid)") }
            if let b = w.fc2Bias, b.count != c { throw CodegenError(.kernel, "cbam: fc2 bias has \(b.count) values, expected \(c)") }
            if s.mlp == .int8 {
                guard w.fc1Scale?.count == hid, w.fc2Scale?.count == c else {
                    throw CodegenError(.kernel, "cbam: an int8 MLP needs \(hid) fc1 and \(c) fc2 row scales")
                }
                for t in [w.fc1, w.fc2] where t.data.contains(where: { !($0 == $0.rounded() && abs($0) <= 127) }) {
                    throw CodegenError(.kernel, "cbam: int8 MLP weights must be integers in −127…127")
                }
            }
            gp = [Float](repeating: 0, count: gateSpec.count)
            gp.replaceSubrange(0..<gateSpec.bias1, with: gateSpec.packRows(hid) { j, ch in w.fc1.data[j * c + ch] })
            gp.replaceSubrange(gateSpec.fc2..<gateSpec.bias2, with: gateSpec.packRows(hid) { j, ch in w.fc2.data[ch * hid + j] })
            for j in 0..<hid { gp[gateSpec.bias1 + j] = w.fc1Bias?[j] ?? 0 }
            for ch in 0..<c { gp[gateSpec.bias2 + ch] = 2 * (w.fc2Bias?[ch] ?? 0) }
            if s.mlp == .int8 {
                for j in 0..<hid { gp[gateSpec.scale1 + j] = w.fc1Scale![j] }
                for ch in 0..<c { gp[gateSpec.scale2 + ch] = w.fc2Scale![ch] }
            }
            // Apply params: the 2·k·k spatial weights, then its bias.
            ap = [Float](repeating: 0, count: 2 * k * k + 1)
            for i in 0..<(2 * k * k) { ap[i] = w.spatial.data[i] }
            ap[2 * k * k] = w.spatialBias ?? 0
        }
        let shape = [c, s.height, s.width], vec = [c, 1, 1], map = [2, s.height, s.width]
        let hw = s.height * s.width
        let gate = KernelDefinition(
            name: name + "_gate", kind: "cbam_gate",
            summary: "cbam channel gate \(c)→\(hid)→\(c)" + (s.mlp == .f32 ? "" : s.mlp == .int8 ? " int8 weights (widened, row scales)" : " bf16 weights (widened to f32)"),
            buffers: [.blocked("avg", .input, vec, lanes: l), .blocked("max", .input, vec, lanes: l), .blocked("gate", .output, vec, lanes: l)],
            itemsPerSample: 1, flopsPerSample: 8 * c * hid, lanes: l, params: gp,
            body: .cbamGate(gateSpec))
        let reduce = KernelDefinition(
            name: name + "_reduce", kind: "cbam_reduce", summary: "cbam channel mean+max of y·gate \(c)ch \(s.height)x\(s.width)",
            buffers: [.blocked("y", .input, shape, lanes: l), .blocked("gate", .input, vec, lanes: l), .blocked("map", .output, map, lanes: l)],
            itemsPerSample: s.height, flopsPerSample: 3 * c * hw, lanes: l, params: [],
            body: .cbamReduce(CBAMReduceSpec(channels: c, height: s.height, width: s.width, lanes: l)))
        var bufs: [Buffer] = [.blocked("y", .input, shape, lanes: l), .blocked("gate", .input, vec, lanes: l), .blocked("map", .input, map, lanes: l)]
        if s.residual { bufs.append(.blocked("residual", .input, shape, lanes: l)) }
        bufs.append(.blocked("output", .output, shape, lanes: l))
        let act = s.activation == .none ? "" : "+\(s.activation.rawValue)"
        let apply = KernelDefinition(
            name: name + "_apply", kind: "cbam_apply",
            summary: "cbam spatial \(k)x\(k) + scale\(s.residual ? "+residual" : "")\(act) \(c)ch \(s.height)x\(s.width)",
            buffers: bufs, itemsPerSample: s.height, flopsPerSample: 4 * k * k * hw + 4 * hw + 3 * c * hw, lanes: l, params: ap,
            body: .cbamApply(CBAMApplySpec(spec: s, lanes: l)))
        return CBAMKernels(channelGate: gate, reduce: reduce, apply: apply)
    }
}

struct CBAMGateGenerator {
    let s: CBAMGateSpec
    let b: IRBuilder
    /// Partial sums per dot product (FMA latency × issue width on current x86 and Arm cores).
    static let chains = 4

    /// `l` weights of a packed row (`row`: its first float) from column `column` on, as f32.
    func loadRow(_ row: IRValue, _ column: IRValue) -> IRValue {
        let l = s.lanes
        switch s.mlp {
        case .f32: return b.loadVector(b.gep(row, column), l)
        case .bf16: return b.loadWeights(b.gepWeight(row, column, .bf16), l, .bf16, align: 2)
        case .int8:
            let codes = b.loadBytes(b.gepBytes(row, column), l)
            return b.sitofpVector(LLVMBuildSExt(b.builder, codes, b.m.vector(b.m.i32, l), "")!, lanes: l)
        }
    }

    func emit() {
        let l = s.lanes, cp = s.paddedChannels, blocks = cp / l, hid = s.hidden, int8 = s.mlp == .int8
        let bufs = b.buffers(3), params = b.param(1)
        let bias2 = b.gep(params, s.bias2)
        b.itemLoop(perSample: 1) { n, _ in
            let avg = b.gep(bufs[0], b.mul(n, cp)), mx = b.gep(bufs[1], b.mul(n, cp)), out = b.gep(bufs[2], b.mul(n, cp))
            // int8 sums Σ_j h_j·code first and scales each channel at the end; f32 and bf16 start from 2·b2.
            b.loop(0, blocks, "cb") { cb in
                b.store(int8 ? b.m.splat(0, l) : b.loadVector(b.gep(bias2, b.mul(cb, l)), l), b.gep(out, b.mul(cb, l)))
            }
            b.loop(0, hid, "j") { j in
                let row = b.gep(params, b.mul(j, s.rowFloats))
                // Independent partial sums, so the loop is not one chain of dependent FMAs.
                let chains = min(Self.chains, blocks), full = blocks / chains * chains
                let sa = (0..<chains).map { _ in b.variable(b.m.splat(0, l)) }, sm = (0..<chains).map { _ in b.variable(b.m.splat(0, l)) }
                func accumulate(_ cb: IRValue, _ k: Int) {
                    let w = loadRow(row, b.mul(cb, l))
                    sa[k].value = b.fma(w, b.loadVector(b.gep(avg, b.mul(cb, l)), l), sa[k].value)
                    sm[k].value = b.fma(w, b.loadVector(b.gep(mx, b.mul(cb, l)), l), sm[k].value)
                }
                b.loop(0, full, step: chains, "cb") { cb in for k in 0..<chains { accumulate(b.add(cb, k), k) } }
                if full < blocks { b.loop(full, blocks, "cb") { cb in accumulate(cb, 0) } }
                let b1 = b.loadF32(b.gep(params, b.add(j, s.bias1)))
                let totalA = sa.dropFirst().reduce(sa[0].value) { b.fadd($0, $1.value) }
                let totalM = sm.dropFirst().reduce(sm[0].value) { b.fadd($0, $1.value) }
                var ra = b.reduceAdd(totalA), rm = b.reduceAdd(totalM)
                if int8 {
                    let s1 = b.loadF32(b.gep(params, b.add(j, s.scale1)))
                    ra = b.fmul(ra, s1)
                    rm = b.fmul(rm, s1)
                }
                let h = b.fadd(b.relu(b.fadd(ra, b1)), b.relu(b.fadd(rm, b1)))
                let hv = b.broadcast(h, l)
                let col = b.gep(params, b.add(b.mul(j, s.rowFloats), s.fc2))
                b.loop(0, blocks, "cb") { cb in
                    let at = b.gep(out, b.mul(cb, l))
                    b.store(b.fma(hv, loadRow(col, b.mul(cb, l)), b.loadVector(at, l)), at)
                }
            }
            b.loop(0, blocks, "cb") { cb in
                let at = b.gep(out, b.mul(cb, l))
                var v = b.loadVector(at, l)
                if int8 {
                    v = b.fma(v, b.loadVector(b.gep(params, b.add(b.mul(cb, l), s.scale2)), l),
                              b.loadVector(b.gep(bias2, b.mul(cb, l)), l))
                }
                b.store(b.zeroPadding(b.sigmoid(v), block: cb, channels: s.channels, lanes: l), at)
            }
        }
    }
}

struct CBAMReduceGenerator {
    let s: CBAMReduceSpec
    let b: IRBuilder

    func emit() {
        let l = s.lanes, blocks = ceilDiv(s.channels, l), hw = s.height * s.width
        let full = s.channels / l, tail = s.channels % l
        let bufs = b.buffers(3)
        b.itemLoop(perSample: s.height) { n, y in
            let gate = b.gep(bufs[1], b.mul(n, blocks * l))
            b.loop(0, s.width, "x") { x in
                let pixel = b.add(b.mul(y, s.width), x)
                let base = b.gep(bufs[0], b.add(b.mul(n, blocks * hw * l), b.mul(pixel, l)))
                let sum = b.variable(b.m.splat(0, l)), mx = b.variable(b.m.splat(-.infinity, l))
                b.loop(0, full, "cb") { cb in
                    let v = b.fmul(b.loadVector(b.gep(base, b.mul(cb, hw * l)), l), b.loadVector(b.gep(gate, b.mul(cb, l)), l))
                    sum.value = b.fadd(sum.value, v)
                    mx.value = b.maxnum(mx.value, v)
                }
                if tail > 0 {
                    let v = b.fmul(b.loadVector(b.gep(base, full * hw * l), l), b.loadVector(b.gep(gate, full * l), l))
                    sum.value = b.fadd(sum.value, v)
                    mx.value = b.maxnum(mx.value, b.select(b.laneMask(valid: tail, lanes: l), v, b.m.splat(-.infinity, l)))
                }
                var out = b.insert(b.m.splat(0, l), b.fmul(b.reduceAdd(sum.value), b.m.constF32(1 / Float(s.channels))), 0)
                out = b.insert(out, b.reduceMax(mx.value), 1)
                b.store(out, b.gep(bufs[2], b.mul(b.add(b.mul(n, hw), pixel), l)))
            }
        }
    }
}

struct CBAMApplyGenerator {
    let a: CBAMApplySpec
    let b: IRBuilder

    func emit() {
        let s = a.spec, l = a.lanes, blocks = ceilDiv(s.channels, l), h = s.height, w = s.width, hw = h * w
        let k = s.kernel, pad = k / 2
        let bufs = b.buffers(s.residual ? 5 : 4), params = b.param(1)
        let yb = bufs[0], gateb = bufs[1], mapb = bufs[2], res: IRValue? = s.residual ? bufs[3] : nil, out = bufs[bufs.count - 1]
        let spatial = b.stackFloats(w)
        b.itemLoop(perSample: h) { n, y in
            // The spatial gate for this row.
            let maps = b.gep(mapb, b.mul(n, hw * l))
            b.loop(0, w, "x") { x in
                let acc = b.variable(b.loadF32(b.gep(params, 2 * k * k)))
                // Rows of the window: a loop (rows outside the map skipped); columns unrolled.
                b.loop(0, k, "di") { di in
                    let iy = b.add(b.add(y, di), -pad)
                    b.when(b.inRange(iy, 0, h), "row") {
                        var sum = acc.value
                        for dj in 0..<k {
                            let ix = b.add(x, dj - pad)
                            let inside = b.inRange(ix, 0, w)
                            // Clamp the address, zero the weight outside: no branch per tap.
                            let safe = b.select(inside, ix, b.m.constI64(0))
                            let at = b.mul(b.add(b.mul(iy, w), safe), l)
                            for m in 0..<2 {
                                let v = b.loadF32(b.gep(maps, b.add(at, m)))
                                let wt = b.loadF32(b.gep(params, b.add(b.mul(b.add(di, m * k), k), dj)))
                                sum = b.fma(v, b.select(inside, wt, b.m.constF32(0)), sum)
                            }
                        }
                        acc.value = sum
                    }
                }
                b.store(b.sigmoid(acc.value), b.gep(spatial, x))
            }
            // Scale every channel block of the row.
            b.loop(0, blocks, "cb") { cb in
                let g = b.loadVector(b.gep(gateb, b.add(b.mul(n, blocks * l), b.mul(cb, l))), l)
                let row = b.mul(b.add(b.mul(b.add(b.mul(n, blocks), cb), h), y), w * l)
                b.loop(0, w, "x") { x in
                    let at = b.add(row, b.mul(x, l))
                    var v = b.fmul(b.fmul(b.loadVector(b.gep(yb, at), l), g), b.broadcast(b.loadF32(b.gep(spatial, x)), l))
                    if let res { v = b.fadd(v, b.loadVector(b.gep(res, at), l)) }
                    v = b.zeroPadding(b.activate(v, s.activation), block: cb, channels: s.channels, lanes: l)
                    b.store(v, b.gep(out, at))
                }
            }
        }
    }
}
