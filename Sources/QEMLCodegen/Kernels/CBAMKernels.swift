internal import CLLVM
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
public struct CBAMSpec: Hashable, Sendable {
    public var channels, height, width, hidden: Int
    public var kernel: Int
    public var residual: Bool
    public var activation: Activation

    public init(channels: Int, height: Int, width: Int, hidden: Int, kernel: Int = 7, residual: Bool = false, activation: Activation = .none) {
        self.channels = channels
        self.height = height
        self.width = width
        self.hidden = hidden
        self.kernel = kernel
        self.residual = residual
        self.activation = activation
    }
}

/// The trained tensors of a CBAM block (PyTorch shapes).
public struct CBAMWeights: Sendable {
    /// `[hidden, C, 1, 1]`, `[C, hidden, 1, 1]`, `[1, 2, k, k]`.
    public var fc1: Tensor, fc2: Tensor, spatial: Tensor
    public var fc1Bias: [Float]?, fc2Bias: [Float]?, spatialBias: Float?

    public init(fc1: Tensor, fc2: Tensor, spatial: Tensor, fc1Bias: [Float]? = nil, fc2Bias: [Float]? = nil, spatialBias: Float? = nil) {
        self.fc1 = fc1
        self.fc2 = fc2
        self.spatial = spatial
        self.fc1Bias = fc1Bias
        self.fc2Bias = fc2Bias
        self.spatialBias = spatialBias
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

struct CBAMGateSpec: Sendable { var channels, hidden, lanes: Int }
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
        let cp = ceilDiv(c, l) * l
        var gp: [Float] = [], ap: [Float] = []
        if let w = weights {
            guard w.fc1.shape == [hid, c, 1, 1], w.fc2.shape == [c, hid, 1, 1], w.spatial.shape == [1, 2, k, k] else {
                throw CodegenError(.kernel, "cbam: weights \(describeShape(w.fc1.shape)), \(describeShape(w.fc2.shape)), \(describeShape(w.spatial.shape)) do not fit C=\(c), hidden=\(hid), kernel=\(k)")
            }
            if let b = w.fc1Bias, b.count != hid { throw CodegenError(.kernel, "cbam: fc1 bias has \(b.count) values, expected \(hid)") }
            if let b = w.fc2Bias, b.count != c { throw CodegenError(.kernel, "cbam: fc2 bias has \(b.count) values, expected \(c)") }
            // Gate params: fc1 [hidden][Cp], b1 [hidden], fc2ᵀ [hidden][Cp], 2·b2 [Cp].
            gp = [Float](repeating: 0, count: 2 * hid * cp + hid + cp)
            for j in 0..<hid {
                for ch in 0..<c {
                    gp[j * cp + ch] = w.fc1.data[j * c + ch]
                    gp[hid * cp + hid + j * cp + ch] = w.fc2.data[ch * hid + j]
                }
                gp[hid * cp + j] = w.fc1Bias?[j] ?? 0
            }
            for ch in 0..<c { gp[2 * hid * cp + hid + ch] = 2 * (w.fc2Bias?[ch] ?? 0) }
            // Apply params: the 2·k·k spatial weights, then its bias.
            ap = [Float](repeating: 0, count: 2 * k * k + 1)
            for i in 0..<(2 * k * k) { ap[i] = w.spatial.data[i] }
            ap[2 * k * k] = w.spatialBias ?? 0
        }
        let shape = [c, s.height, s.width], vec = [c, 1, 1], map = [2, s.height, s.width]
        let hw = s.height * s.width
        let gate = KernelDefinition(
            name: name + "_gate", kind: "cbam_gate", summary: "cbam channel gate \(c)→\(hid)→\(c)",
            buffers: [.blocked("avg", .input, vec, lanes: l), .blocked("max", .input, vec, lanes: l), .blocked("gate", .output, vec, lanes: l)],
            itemsPerSample: 1, flopsPerSample: 8 * c * hid, lanes: l, params: gp,
            body: .cbamGate(CBAMGateSpec(channels: c, hidden: hid, lanes: l)))
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

    func emit() {
        let l = s.lanes, cp = ceilDiv(s.channels, l) * l, blocks = cp / l, hid = s.hidden
        let bufs = b.buffers(3), params = b.param(1)
        let bias2 = b.gep(params, 2 * hid * cp + hid)
        b.itemLoop(perSample: 1) { n, _ in
            let avg = b.gep(bufs[0], b.mul(n, cp)), mx = b.gep(bufs[1], b.mul(n, cp)), out = b.gep(bufs[2], b.mul(n, cp))
            b.loop(0, blocks, "cb") { cb in b.store(b.loadVector(b.gep(bias2, b.mul(cb, l)), l), b.gep(out, b.mul(cb, l))) }
            b.loop(0, hid, "j") { j in
                let row = b.gep(params, b.mul(j, cp))
                let sa = b.variable(b.m.splat(0, l)), sm = b.variable(b.m.splat(0, l))
                b.loop(0, blocks, "cb") { cb in
                    let w = b.loadVector(b.gep(row, b.mul(cb, l)), l)
                    sa.value = b.fma(w, b.loadVector(b.gep(avg, b.mul(cb, l)), l), sa.value)
                    sm.value = b.fma(w, b.loadVector(b.gep(mx, b.mul(cb, l)), l), sm.value)
                }
                let b1 = b.loadF32(b.gep(params, b.add(j, hid * cp)))
                let h = b.fadd(b.relu(b.fadd(b.reduceAdd(sa.value), b1)), b.relu(b.fadd(b.reduceAdd(sm.value), b1)))
                let hv = b.broadcast(h, l)
                let col = b.gep(params, b.add(b.mul(j, cp), hid * cp + hid))
                b.loop(0, blocks, "cb") { cb in
                    let at = b.gep(out, b.mul(cb, l))
                    b.store(b.fma(hv, b.loadVector(b.gep(col, b.mul(cb, l)), l), b.loadVector(at, l)), at)
                }
            }
            b.loop(0, blocks, "cb") { cb in
                let at = b.gep(out, b.mul(cb, l))
                b.store(b.zeroPadding(b.sigmoid(b.loadVector(at, l)), block: cb, channels: s.channels, lanes: l), at)
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
