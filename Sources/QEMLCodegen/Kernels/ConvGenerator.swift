internal import CLLVM

/// Generates the direct NCHWc convolution described by a `ConvPlan`:
///
///     for item in begin..<end:                      (sample, channel group[, output row])
///       for each register tile of R pixels × M channel blocks:
///         acc[R][M] = 0
///         for cib, kh (skipping rows outside the input), kw (unrolled), ci (unrolled):
///           acc[r][m] += in[cib][ih][iw_r][ci] · W[cob_m][cib][kh][kw][ci][:]
///         epilogue: + bias, + residual, activation, zero padded lanes, store, pool
struct ConvGenerator {
    let plan: ConvPlan
    let b: IRBuilder
    let c: Int

    init(_ plan: ConvPlan, _ b: IRBuilder) {
        self.plan = plan
        self.b = b
        c = plan.lanes
    }

    struct Pointers { var input, output, params: IRValue; var residual, avg, max: IRValue? }

    func emit() {
        let spec = plan.spec
        let bufs = b.param(0)
        var slot = 0
        func next() -> IRValue {
            defer { slot += 1 }
            return b.bufferPointer(bufs, slot)
        }
        let input = next()
        var p = Pointers(input: input, output: input, params: b.param(1))
        if spec.residual { p.residual = next() }
        p.output = next()
        if spec.pool { p.avg = next(); p.max = next() }

        let perSample = plan.itemsPerSample
        b.loop(b.param(2), b.param(3), "item") { item in
            let n = b.sdiv(item, b.m.constI64(perSample))
            let rest = b.srem(item, b.m.constI64(perSample))
            let group = spec.pool ? rest : b.sdiv(rest, b.m.constI64(plan.oh))
            let row: IRValue? = spec.pool ? nil : b.srem(rest, b.m.constI64(plan.oh))
            let lastM = plan.coutBlocks - (plan.channelGroups - 1) * plan.m
            let cob0 = b.mul(group, plan.m)
            if lastM == plan.m {
                emitGroup(p, n: n, cob0: cob0, row: row, m: plan.m)
            } else {
                let isLast = b.icmp(LLVMIntEQ, group, b.m.constI64(plan.channelGroups - 1))
                b.ifElse(isLast, "lastgroup", then: { emitGroup(p, n: n, cob0: cob0, row: row, m: lastM) },
                         else: { emitGroup(p, n: n, cob0: cob0, row: row, m: plan.m) })
            }
        }
        b.retVoid()
    }

    /// One channel group: one output row, or every row when pooling.
    private func emitGroup(_ p: Pointers, n: IRValue, cob0: IRValue, row: IRValue?, m: Int) {
        if let row {
            emitRow(p, n: n, cob0: cob0, oh: row, m: m, pool: nil)
            return
        }
        let sums = (0..<m).map { _ in b.variable(b.m.splat(0, c)) }
        let maxes = (0..<m).map { _ in b.variable(b.m.splat(-.infinity, c)) }
        b.loop(0, plan.oh, "oh") { oh in
            emitRow(p, n: n, cob0: cob0, oh: oh, m: m, pool: (sums, maxes))
        }
        let inv = b.m.splat(1 / Float(plan.oh * plan.ow), c)
        for j in 0..<m {
            let at = b.mul(b.add(b.mul(n, plan.coutBlocks), b.add(cob0, j)), c)
            b.store(b.fmul(sums[j].value, inv), b.gep(p.avg!, at))
            b.store(maxes[j].value, b.gep(p.max!, at))
        }
    }

    private func emitRow(_ p: Pointers, n: IRValue, cob0: IRValue, oh: IRValue, m: Int,
                         pool: ([IRBuilder.Variable], [IRBuilder.Variable])?) {
        for tile in plan.tiles {
            switch tile {
            case .loop(let start, let count):
                b.loop(0, count, "tile") { t in
                    let x0 = b.add(b.mul(t, plan.r), start)
                    emitTile(p, n: n, cob0: cob0, oh: oh, x0: x0, x0Const: nil, width: plan.r, m: m, pool: pool)
                }
            case .fixed(let start, let width):
                emitTile(p, n: n, cob0: cob0, oh: oh, x0: b.m.constI64(start), x0Const: start, width: width, m: m, pool: pool)
            }
        }
    }

    /// One register tile: `width` pixels from column `x0` × `m` channel blocks.
    private func emitTile(_ p: Pointers, n: IRValue, cob0: IRValue, oh: IRValue, x0: IRValue, x0Const: Int?,
                          width: Int, m: Int, pool: ([IRBuilder.Variable], [IRBuilder.Variable])?) {
        let zero = b.m.splat(0, c)
        let acc = (0..<width).map { _ in (0..<m).map { _ in b.variable(zero) } }
        // Which (pixel, kx) taps are inside the row: all for loop tiles, known for fixed ones.
        let inside: (Int, Int) -> Bool = { r, kx in
            guard let x = x0Const else { return true }
            return plan.tapInside(column: x + r, kx: kx)
        }
        let ih0 = b.sub(b.mul(oh, plan.sh), b.m.constI64(plan.ph))
        let tapStride = plan.kh * plan.kw * c * c
        let fullBlocks = plan.cin / c, rest = plan.cin % c

        func channelBlock(_ cib: IRValue, lanesUsed: Int) {
            let plane = b.mul(b.add(b.mul(n, plan.cinBlocks), cib), plan.h * plan.w * c)
            let wBlock = (0..<m).map { j in
                b.mul(b.add(b.mul(b.add(cob0, j), plan.cinBlocks), cib), tapStride)
            }
            b.loop(0, plan.kh, "kh") { kh in
                let ih = b.add(ih0, b.mul(kh, plan.dh))
                let rowInside = plan.ph == 0 && (plan.oh - 1) * plan.sh + (plan.kh - 1) * plan.dh < plan.h
                let body = {
                    let rowBase = b.gep(p.input, b.add(plane, b.mul(ih, plan.w * c)))
                    let live = (0..<plan.kw).map { kx in (0..<width).filter { inside($0, kx) } }
                    // Per tap: the first input column it reads, and each channel block's weights.
                    let inTaps = (0..<plan.kw).map { kx in
                        live[kx].isEmpty ? nil : b.gep(rowBase, b.mul(b.add(b.mul(x0, plan.sw), kx * plan.dw - plan.pw), c))
                    }
                    let wTaps = (0..<plan.kw).map { kx in
                        wBlock.map { b.gep(p.params, b.add(b.add($0, b.mul(kh, plan.kw * c * c)), kx * c * c)) }
                    }
                    // `count` input channels from `ci0`, every tap: the register block's FMAs.
                    func channels(_ ci0: IRValue, _ count: Int) {
                        var a = acc.map { $0.map { $0.value } }
                        for kx in 0..<plan.kw {
                            guard let inTap = inTaps[kx] else { continue }
                            let inBase = b.gep(inTap, ci0)
                            let wBase = wTaps[kx].map { b.gep($0, b.mul(ci0, c)) }
                            for ci in 0..<count {
                                let wv = wBase.map { b.loadVector(b.gep($0, ci * c), c, align: plan.weightAlign) }
                                for r in live[kx] {
                                    let x = b.broadcast(b.loadF32(b.gep(inBase, r * plan.sw * c + ci)), c)
                                    for j in 0..<m { a[r][j] = b.fma(x, wv[j], a[r][j]) }
                                }
                            }
                        }
                        for r in 0..<width { for j in 0..<m { acc[r][j].value = a[r][j] } }
                    }
                    let u = min(plan.channelUnroll, lanesUsed)
                    b.loop(0, lanesUsed / u, "ci") { q in channels(b.mul(q, u), u) }
                    if lanesUsed % u > 0 { channels(b.m.constI64(lanesUsed / u * u), lanesUsed % u) }
                }
                if rowInside { body() } else { b.when(b.inRange(ih, 0, plan.h), "row", body) }
            }
        }
        b.loop(0, fullBlocks, "cib") { cib in channelBlock(cib, lanesUsed: c) }
        if rest > 0 { channelBlock(b.m.constI64(fullBlocks), lanesUsed: rest) }

        // Epilogue.
        let spec = plan.spec
        let padLanes = spec.outChannels % c
        let mask: IRValue? = padLanes == 0 ? nil : b.m.constVector((0..<c).map { LLVMConstInt(b.m.i1, $0 < padLanes ? 1 : 0, 0) })
        for j in 0..<m {
            let cob = b.add(cob0, j)
            let bias = b.loadVector(b.gep(p.params, b.add(b.mul(cob, c), plan.weightCount)), c, align: plan.weightAlign)
            let isLastBlock = mask == nil ? nil : b.icmp(LLVMIntEQ, cob, b.m.constI64(plan.coutBlocks - 1))
            let rowStart = b.mul(b.add(b.mul(b.add(b.mul(n, plan.coutBlocks), cob), plan.oh), oh), plan.ow * c)
            for r in 0..<width {
                var v = b.fadd(acc[r][j].value, bias)
                let at = b.add(rowStart, b.mul(b.add(x0, r), c))
                if let res = p.residual { v = b.fadd(v, b.loadVector(b.gep(res, at), c)) }
                v = b.activate(v, spec.activation)
                if let mask, let isLastBlock { v = b.select(isLastBlock, b.select(mask, v, zero), v) }
                b.store(v, b.gep(p.output, at))
                if let (sums, maxes) = pool {
                    sums[j].value = b.fadd(sums[j].value, v)
                    maxes[j].value = b.maxnum(maxes[j].value, v)
                }
            }
        }
    }
}

extension IRBuilder {
    func activate(_ v: IRValue, _ a: Activation) -> IRValue {
        switch a {
        case .none: return v
        case .relu: return relu(v)
        case .sigmoid: return sigmoid(v)
        case .tanh: return tanh(v)
        }
    }

    /// Loads `buffers[i]` (a `float*`) from the `float**` argument.
    func bufferPointer(_ buffers: IRValue, _ i: Int) -> IRValue {
        let pt = m.pointer(to: m.f32)
        var idx: [IRValue?] = [m.constI64(i)]
        let slot = idx.withUnsafeMutableBufferPointer { LLVMBuildInBoundsGEP2(builder, pt, buffers, $0.baseAddress, 1, "") }
        return load(pt, slot!)
    }
}
