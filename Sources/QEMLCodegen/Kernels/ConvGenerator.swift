internal import CLLVM

/// Generates the direct NCHWc convolution described by a `ConvPlan`:
///
///     for item in begin..<end:                      (sample, channel group[, output row])
///       for each register tile of R pixels × M channel blocks:
///         acc[R][M] = 0
///         for cib, kh (skipping rows outside the input), kw (unrolled), ci (unrolled):
///           acc[r][m] += in[cib][ih][iw_r][ci] · W[cob_m][cib][kh][kw][ci][:]
///         epilogue: + bias, + residual, activation, zero padded lanes, store, pool
///
/// int8 (`ConvArithmetic.int8`) runs the same loops over 4-channel groups: `ci` steps over
/// 32-bit words of four u8 channels, broadcast and dot-multiplied with four s8 weights per
/// output lane into i32 (`DotProduct`); the epilogue starts with `fma(Float(acc), m, bias)`
/// and may requantize the result to u7 bytes.
struct ConvGenerator {
    let plan: ConvPlan
    let b: IRBuilder
    let c: Int
    /// Words per pixel of an input channel block (= multiply steps per block).
    let s: Int

    init(_ plan: ConvPlan, _ b: IRBuilder) {
        self.plan = plan
        self.b = b
        c = plan.lanes
        s = plan.steps
    }

    /// A zero accumulator: f32 or i32 lanes.
    private var zeroAccumulator: IRValue { plan.arithmetic.isInt8 ? LLVMConstNull(b.m.vector(b.m.i32, c))! : b.m.splat(0, c) }

    /// `acc + x·w`: an FMA, or a dot product of 4-byte groups.
    private func multiplyAdd(_ x: IRValue, _ w: IRValue, _ acc: IRValue) -> IRValue {
        switch plan.arithmetic {
        case .f32: return b.fma(x, w, acc)
        case .int8(let dot, _): return dot.emit(b, acc: acc, x: x, w: w, lanes: c)
        }
    }

    /// Input channel steps in a block with `lanesUsed` real channels.
    private func stepsUsed(_ lanesUsed: Int) -> Int { plan.arithmetic.isInt8 ? ceilDiv(lanesUsed, 4) : lanesUsed }

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
            let perGroup = plan.itemsPerSample / plan.channelGroups
            let group = perGroup == 1 ? rest : b.sdiv(rest, b.m.constI64(perGroup))
            let row: IRValue? = perGroup == 1 ? nil : b.srem(rest, b.m.constI64(perGroup))
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
        let pool: Pool? = plan.spec.pool ? (sums, maxes) : nil
        if plan.planeMode {
            for start in stride(from: 0, to: plan.oh * plan.ow, by: plan.r) {
                emitPlaneTile(p, n: n, cob0: cob0, first: start, width: min(plan.r, plan.oh * plan.ow - start), m: m, pool: pool)
            }
        } else {
            b.loop(0, plan.oh, "oh") { oh in emitRow(p, n: n, cob0: cob0, oh: oh, m: m, pool: pool) }
        }
        guard plan.spec.pool else { return }
        let inv = b.m.splat(1 / Float(plan.oh * plan.ow), c)
        for j in 0..<m {
            let at = b.mul(b.add(b.mul(n, plan.coutBlocks), b.add(cob0, j)), c)
            b.store(b.fmul(sums[j].value, inv), b.gep(p.avg!, at))
            b.store(maxes[j].value, b.gep(p.max!, at))
        }
    }

    typealias Pool = ([IRBuilder.Variable], [IRBuilder.Variable])

    private func emitRow(_ p: Pointers, n: IRValue, cob0: IRValue, oh: IRValue, m: Int, pool: Pool?) {
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
                          width: Int, m: Int, pool: Pool?) {
        let zero = zeroAccumulator
        let acc = (0..<width).map { _ in (0..<m).map { _ in b.variable(zero) } }
        // Which (pixel, kx) taps are inside the row: all for loop tiles, known for fixed ones.
        let inside: (Int, Int) -> Bool = { r, kx in
            guard let x = x0Const else { return true }
            return plan.tapInside(column: x + r, kx: kx)
        }
        let ih0 = b.sub(b.mul(oh, plan.sh), b.m.constI64(plan.ph))
        let tapStride = plan.kh * plan.kw * s * c
        let fullBlocks = plan.cin / c, rest = plan.cin % c

        func channelBlock(_ cib: IRValue, lanesUsed: Int) {
            let plane = b.mul(b.add(b.mul(n, plan.cinBlocks), cib), plan.h * plan.w * s)
            let wBlock = (0..<m).map { j in
                b.mul(b.add(b.mul(b.add(cob0, j), plan.cinBlocks), cib), tapStride)
            }
            b.loop(0, plan.kh, "kh") { kh in
                let ih = b.add(ih0, b.mul(kh, plan.dh))
                let rowInside = plan.ph == 0 && (plan.oh - 1) * plan.sh + (plan.kh - 1) * plan.dh < plan.h
                let body = {
                    let rowBase = b.gep(p.input, b.add(plane, b.mul(ih, plan.w * s)))
                    let wRow = wBlock.map { b.add($0, b.mul(kh, plan.kw * s * c)) }
                    // Tap `kx` (reading `live` pixels), `count` input channels from `ci0`:
                    // the register block's FMAs.
                    func channels(_ kx: IRValue, live: [Int], _ ci0: IRValue, _ count: Int) {
                        var a = acc.map { $0.map { $0.value } }
                        let column = b.mul(b.add(b.add(b.mul(x0, plan.sw), b.mul(kx, plan.dw)), -plan.pw), s)
                        let inBase = b.gep(b.gep(rowBase, column), ci0)
                        let wBase = wRow.map { b.gepWeight(p.params, b.add(b.add($0, b.mul(kx, s * c)), b.mul(ci0, c)), plan.weightFormat) }
                        if plan.bf16Dot {
                            for pair in 0..<(count + 1) / 2 {  // ci0 is even; an odd count's partner lane is a zero pad
                                let wv = wBase.map { b.loadBF16Pairs(b.gepWeight($0, 2 * pair * c, .bf16), c) }
                                for r in live {
                                    let x = b.broadcastBF16Pair(b.gep(inBase, r * plan.sw * c + 2 * pair), c)
                                    for j in 0..<m { a[r][j] = b.dotBF16(a[r][j], x, wv[j]) }
                                }
                            }
                        }
                        for ci in 0..<count where !plan.bf16Dot {
                            let wv = wBase.map { b.loadWeights(b.gepWeight($0, ci * c, plan.weightFormat), c, plan.weightFormat, align: plan.weightAlign) }
                            for r in live {
                                let x = b.broadcast(b.loadF32(b.gep(inBase, r * plan.sw * s + ci)), c)
                                for j in 0..<m { a[r][j] = multiplyAdd(x, wv[j], a[r][j]) }
                            }
                        }
                        for r in 0..<width { for j in 0..<m { acc[r][j].value = a[r][j] } }
                    }
                    let used = stepsUsed(lanesUsed)
                    let u = min(plan.channelUnroll, used)
                    func tap(_ kx: IRValue, live: [Int]) {
                        b.loop(0, used / u, "ci") { q in channels(kx, live: live, b.mul(q, u), u) }
                        if used % u > 0 { channels(kx, live: live, b.m.constI64(used / u * u), used % u) }
                    }
                    // Taps every pixel of the tile reads inside the row run as a loop (unrolled
                    // taps would let the optimizer keep inputs shared between taps alive and
                    // spill); the others, known for border tiles, are unrolled.
                    let full = (0..<plan.kw).filter { kx in (0..<width).allSatisfy { inside($0, kx) } }
                    var looped = 0..<0
                    if let lo = full.first, let hi = full.last, full.count == hi - lo + 1 { looped = lo..<(hi + 1) }
                    if looped.count > 1 {
                        b.loop(looped.lowerBound, looped.upperBound, "kx") { kx in tap(kx, live: Array(0..<width)) }
                    }
                    for kx in 0..<plan.kw where looped.count <= 1 || !looped.contains(kx) {
                        let live = (0..<width).filter { inside($0, kx) }
                        if !live.isEmpty { tap(b.m.constI64(kx), live: live) }
                    }
                }
                if rowInside { body() } else { b.when(b.inRange(ih, 0, plan.h), "row", body) }
            }
        }
        b.loop(0, fullBlocks, "cib") { cib in channelBlock(cib, lanesUsed: c) }
        if rest > 0 { channelBlock(b.m.constI64(fullBlocks), lanesUsed: rest) }

        epilogue(p, acc, n: n, cob0: cob0, m: m, pool: pool) { r in b.mul(b.add(b.add(b.mul(oh, plan.ow), x0), r), c) }
    }

    /// A register tile over the whole (small) output plane: pixels `first..<first+width` in
    /// row-major order, every tap's position known, so no bounds checks and no row loop.
    private func emitPlaneTile(_ p: Pointers, n: IRValue, cob0: IRValue, first: Int, width: Int, m: Int, pool: Pool?) {
        let acc = (0..<width).map { _ in (0..<m).map { _ in b.variable(zeroAccumulator) } }
        let pixels = (first..<(first + width)).map { (y: $0 / plan.ow, x: $0 % plan.ow) }
        let taps = plan.kh * plan.kw
        // Input offset (words from the channel block's plane) of pixel r at tap (ky, kx), if inside.
        func offset(_ r: Int, _ ky: Int, _ kx: Int) -> Int? {
            let iy = pixels[r].y * plan.sh - plan.ph + ky * plan.dh, ix = pixels[r].x * plan.sw - plan.pw + kx * plan.dw
            guard iy >= 0, iy < plan.h, ix >= 0, ix < plan.w else { return nil }
            return (iy * plan.w + ix) * s
        }
        func channelBlock(_ cib: IRValue, lanesUsed: Int) {
            let plane = b.gep(p.input, b.mul(b.add(b.mul(n, plan.cinBlocks), cib), plan.h * plan.w * s))
            let wBlock = (0..<m).map { j in b.gepWeight(p.params, b.mul(b.add(b.mul(b.add(cob0, j), plan.cinBlocks), cib), taps * s * c), plan.weightFormat) }
            func channels(_ ci0: IRValue, _ count: Int) {
                var a = acc.map { $0.map { $0.value } }
                let inBase = b.gep(plane, ci0)
                let wBase = wBlock.map { b.gepWeight($0, b.mul(ci0, c), plan.weightFormat) }
                for ky in 0..<plan.kh {
                    for kx in 0..<plan.kw {
                        let live = (0..<width).compactMap { r in offset(r, ky, kx).map { (r, $0) } }
                        if live.isEmpty { continue }
                        let tap = (ky * plan.kw + kx) * s * c
                        for pair in 0..<(plan.bf16Dot ? (count + 1) / 2 : 0) {
                            let wv = wBase.map { b.loadBF16Pairs(b.gepWeight($0, tap + 2 * pair * c, .bf16), c) }
                            for (r, off) in live {
                                let x = b.broadcastBF16Pair(b.gep(inBase, off + 2 * pair), c)
                                for j in 0..<m { a[r][j] = b.dotBF16(a[r][j], x, wv[j]) }
                            }
                        }
                        for ci in 0..<count where !plan.bf16Dot {
                            let wv = wBase.map { b.loadWeights(b.gepWeight($0, tap + ci * c, plan.weightFormat), c, plan.weightFormat, align: plan.weightAlign) }
                            for (r, off) in live {
                                let x = b.broadcast(b.loadF32(b.gep(inBase, off + ci)), c)
                                for j in 0..<m { a[r][j] = multiplyAdd(x, wv[j], a[r][j]) }
                            }
                        }
                    }
                }
                for r in 0..<width { for j in 0..<m { acc[r][j].value = a[r][j] } }
            }
            let used = stepsUsed(lanesUsed)
            let u = min(plan.channelUnroll, used)
            b.loop(0, used / u, "ci") { q in channels(b.mul(q, u), u) }
            if used % u > 0 { channels(b.m.constI64(used / u * u), used % u) }
        }
        b.loop(0, plan.cin / c, "cib") { cib in channelBlock(cib, lanesUsed: c) }
        if plan.cin % c > 0 { channelBlock(b.m.constI64(plan.cin / c), lanesUsed: plan.cin % c) }
        epilogue(p, acc, n: n, cob0: cob0, m: m, pool: pool) { r in b.m.constI64((pixels[r].y * plan.ow + pixels[r].x) * c) }
    }

    /// + bias (int8: `fma(Float(acc), m, bias)`), + residual, activation, zero padded lanes,
    /// store (or requantize to u7 and store bytes), pool. `pixelOffset(r)`: elements from the
    /// start of the output channel block's plane.
    private func epilogue(_ p: Pointers, _ acc: [[IRBuilder.Variable]], n: IRValue, cob0: IRValue, m: Int, pool: Pool?,
                          pixelOffset: (Int) -> IRValue) {
        let spec = plan.spec
        let zero = b.m.splat(0, c)
        let padLanes = spec.outChannels % c
        let mask: IRValue? = padLanes == 0 ? nil : b.laneMask(valid: padLanes, lanes: c)
        let int8 = plan.arithmetic.isInt8
        let outputInverse = plan.arithmetic.u8Output ? b.broadcast(b.loadF32(b.gep(p.params, plan.outputScaleOffset)), c) : nil
        for j in 0..<m {
            let cob = b.add(cob0, j)
            let bias = b.loadVector(b.gep(p.params, b.add(b.mul(cob, c), plan.biasOffset)), c, align: plan.weightAlign)
            let multiplier = int8 ? b.loadVector(b.gep(p.params, b.add(b.mul(cob, c), plan.multiplierOffset)), c, align: plan.weightAlign) : nil
            let isLastBlock = mask == nil ? nil : b.icmp(LLVMIntEQ, cob, b.m.constI64(plan.coutBlocks - 1))
            let planeStart = b.mul(b.add(b.mul(n, plan.coutBlocks), cob), plan.oh * plan.ow * c)
            for r in acc.indices {
                var v: IRValue
                if let multiplier {
                    // Exactly fused, as the contract says: `llvm.fma`, not `fmuladd`.
                    v = b.intrinsic("llvm.fma", [b.sitofpVector(acc[r][j].value, lanes: c), multiplier, bias])
                } else {
                    v = b.fadd(acc[r][j].value, bias)
                }
                let at = b.add(planeStart, pixelOffset(r))
                if let res = p.residual { v = b.fadd(v, b.loadVector(b.gep(res, at), c)) }
                v = b.activate(v, spec.activation)
                if let mask, let isLastBlock { v = b.select(isLastBlock, b.select(mask, v, zero), v) }
                if let outputInverse {
                    b.store(b.requantize(v, inverse: outputInverse, lanes: c), b.gepBytes(p.output, at))
                } else {
                    b.store(v, b.gep(p.output, at))
                }
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
