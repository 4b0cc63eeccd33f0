internal import CLLVM

public enum PoolKind: String, Hashable, Sendable { case max, avg }

/// k×k max/avg pooling (PyTorch semantics: avg counts padding, `ceil_mode` windows clipped).
public struct PoolSpec: Hashable, Sendable {
    public var kind: PoolKind
    public var channels, height, width: Int
    public var kernel, stride, padding: [Int]
    public var ceilMode: Bool

    public init(kind: PoolKind, channels: Int, height: Int, width: Int, kernel: [Int], stride: [Int]? = nil,
                padding: [Int] = [0, 0], ceilMode: Bool = false) {
        self.kind = kind
        self.channels = channels
        self.height = height
        self.width = width
        self.kernel = kernel
        self.stride = stride ?? kernel
        self.padding = padding
        self.ceilMode = ceilMode
    }

    public var outHeight: Int { size(height, 0) }
    public var outWidth: Int { size(width, 1) }
    private func size(_ n: Int, _ d: Int) -> Int {
        let num = n + 2 * padding[d] - kernel[d]
        if num < 0 { return 0 }
        var o = (ceilMode ? (num + stride[d] - 1) / stride[d] : num / stride[d]) + 1
        // PyTorch: the last window must start inside the input or its left padding.
        if ceilMode && (o - 1) * stride[d] >= n + padding[d] { o -= 1 }
        return o
    }
}

/// Global average or max over H×W → `[C,1,1]`.
public struct GlobalPoolSpec: Hashable, Sendable {
    public var kind: PoolKind
    public var channels, height, width: Int
    public init(kind: PoolKind, channels: Int, height: Int, width: Int) {
        self.kind = kind
        self.channels = channels
        self.height = height
        self.width = width
    }
}

/// Per-pixel mean and/or max over channels → a blocked 1- or 2-channel map (CBAM's spatial
/// attention input: with both, lane 0 is the mean and lane 1 the max, i.e. `concat(mean, max)`).
public struct ChannelReduceSpec: Hashable, Sendable {
    public var channels, height, width: Int
    public var mean: Bool
    public var max: Bool
    public init(channels: Int, height: Int, width: Int, mean: Bool, max: Bool) {
        self.channels = channels
        self.height = height
        self.width = width
        self.mean = mean
        self.max = max
    }
}

extension KernelDefinition {
    public static func pool(_ s: PoolSpec, target: TargetDescription, name: String) throws -> KernelDefinition {
        guard s.channels > 0, s.kernel.count == 2, s.stride.count == 2, s.padding.count == 2,
              s.kernel.allSatisfy({ $0 > 0 }), s.stride.allSatisfy({ $0 > 0 }),
              s.padding[0] * 2 <= s.kernel[0], s.padding[1] * 2 <= s.kernel[1], s.outHeight > 0, s.outWidth > 0 else {
            throw CodegenError(.kernel, "\(s.kind)pool2d: invalid window \(s.kernel)/\(s.stride)/\(s.padding) for [\(s.channels),\(s.height),\(s.width)]")
        }
        let l = target.vectorWidth
        let out = [s.channels, s.outHeight, s.outWidth]
        return KernelDefinition(
            name: name, kind: "\(s.kind)pool2d",
            summary: "\(s.kind)pool2d \(s.kernel[0])x\(s.kernel[1])/s\(s.stride[0])/p\(s.padding[0]) \(s.channels)ch \(s.height)x\(s.width)→\(s.outHeight)x\(s.outWidth)",
            buffers: [.blocked("input", .input, [s.channels, s.height, s.width], lanes: l), .blocked("output", .output, out, lanes: l)],
            itemsPerSample: ceilDiv(s.channels, l) * s.outHeight,
            flopsPerSample: s.channels * s.outHeight * s.outWidth * s.kernel[0] * s.kernel[1], lanes: l, params: [], body: .pool(s))
    }

    public static func globalPool(_ s: GlobalPoolSpec, target: TargetDescription, name: String) throws -> KernelDefinition {
        guard s.channels > 0, s.height > 0, s.width > 0 else { throw CodegenError(.kernel, "global pool: sizes must be positive") }
        let l = target.vectorWidth
        return KernelDefinition(
            name: name, kind: "global_\(s.kind)pool", summary: "global_\(s.kind)pool \(s.channels)ch \(s.height)x\(s.width)",
            buffers: [.blocked("input", .input, [s.channels, s.height, s.width], lanes: l), .blocked("output", .output, [s.channels, 1, 1], lanes: l)],
            itemsPerSample: ceilDiv(s.channels, l), flopsPerSample: s.channels * s.height * s.width, lanes: l, params: [], body: .globalPool(s))
    }

    public static func channelReduce(_ s: ChannelReduceSpec, target: TargetDescription, name: String) throws -> KernelDefinition {
        guard s.channels > 0, s.height > 0, s.width > 0, s.mean || s.max else {
            throw CodegenError(.kernel, "channel reduce: sizes must be positive and at least one of mean/max requested")
        }
        let l = target.vectorWidth
        let outC = (s.mean ? 1 : 0) + (s.max ? 1 : 0)
        guard outC <= l else { throw CodegenError(.kernel, "channel mean+max needs a vector width ≥ 2") }
        let what = [s.mean ? "mean" : nil, s.max ? "max" : nil].compactMap { $0 }.joined(separator: "+")
        return KernelDefinition(
            name: name, kind: "channel_\(what)", summary: "channel_\(what) \(s.channels)ch \(s.height)x\(s.width)",
            buffers: [.blocked("input", .input, [s.channels, s.height, s.width], lanes: l), .blocked("output", .output, [outC, s.height, s.width], lanes: l)],
            itemsPerSample: s.height, flopsPerSample: outC * s.channels * s.height * s.width, lanes: l, params: [], body: .channelReduce(s))
    }
}

struct PoolGenerator {
    let s: PoolSpec
    let b: IRBuilder
    let l: Int

    func emit() {
        let blocks = ceilDiv(s.channels, l), oh = s.outHeight, ow = s.outWidth
        let bufs = b.buffers(2)
        let isMax = s.kind == .max
        b.itemLoop(perSample: blocks * oh) { n, local in
            let plane = b.sdiv(local, b.m.constI64(oh))
            let y = b.srem(local, b.m.constI64(oh))
            let inPlane = b.mul(b.add(b.mul(n, blocks), plane), s.height * s.width * l)
            let outRow = b.mul(b.add(b.mul(b.add(b.mul(n, blocks), plane), oh), y), ow * l)
            let y0 = b.sub(b.mul(y, s.stride[0]), b.m.constI64(s.padding[0]))
            b.loop(0, ow, "x") { x in
                let x0 = b.sub(b.mul(x, s.stride[1]), b.m.constI64(s.padding[1]))
                let acc = b.variable(b.m.splat(isMax ? -.infinity : 0, l))
                b.loop(0, s.kernel[0], "ky") { ky in
                    let iy = b.add(y0, ky)
                    b.when(b.inRange(iy, 0, s.height), "row") {
                        for kx in 0..<s.kernel[1] {
                            let ix = b.add(x0, kx)
                            b.when(b.inRange(ix, 0, s.width), "col") {
                                let v = b.loadVector(b.gep(b.gep(bufs[0], inPlane), b.mul(b.add(b.mul(iy, s.width), ix), l)), l)
                                acc.value = isMax ? b.maxnum(acc.value, v) : b.fadd(acc.value, v)
                            }
                        }
                    }
                }
                var v = acc.value
                if !isMax {
                    // PyTorch's divisor: the window clipped to the padded input (padding counted).
                    func extent(_ start: IRValue, _ k: Int, _ n: Int, _ p: Int) -> IRValue {
                        let end = b.add(start, k)
                        let limit = b.m.constI64(n + p)
                        return b.sub(b.select(b.icmp(LLVMIntSLT, end, limit), end, limit), start)
                    }
                    let count = b.mul(extent(y0, s.kernel[0], s.height, s.padding[0]), extent(x0, s.kernel[1], s.width, s.padding[1]))
                    v = b.fdiv(v, b.broadcast(b.sitofp(count), l))
                }
                b.store(v, b.gep(bufs[1], b.add(outRow, b.mul(x, l))))
            }
        }
    }
}

struct GlobalPoolGenerator {
    let s: GlobalPoolSpec
    let b: IRBuilder
    let l: Int

    func emit() {
        let blocks = ceilDiv(s.channels, l), hw = s.height * s.width
        let bufs = b.buffers(2)
        let isMax = s.kind == .max
        b.itemLoop(perSample: blocks) { n, plane in
            let base = b.gep(bufs[0], b.mul(b.add(b.mul(n, blocks), plane), hw * l))
            // Two accumulators hide the add latency.
            let a0 = b.variable(b.m.splat(isMax ? -.infinity : 0, l)), a1 = b.variable(b.m.splat(isMax ? -.infinity : 0, l))
            b.loop(0, hw / 2 * 2, step: 2, "p") { p in
                let v0 = b.loadVector(b.gep(base, b.mul(p, l)), l), v1 = b.loadVector(b.gep(base, b.mul(b.add(p, 1), l)), l)
                a0.value = isMax ? b.maxnum(a0.value, v0) : b.fadd(a0.value, v0)
                a1.value = isMax ? b.maxnum(a1.value, v1) : b.fadd(a1.value, v1)
            }
            if hw % 2 == 1 {
                let v = b.loadVector(b.gep(base, (hw - 1) * l), l)
                a0.value = isMax ? b.maxnum(a0.value, v) : b.fadd(a0.value, v)
            }
            var r = isMax ? b.maxnum(a0.value, a1.value) : b.fmul(b.fadd(a0.value, a1.value), b.m.splat(1 / Float(hw), l))
            r = b.zeroPadding(r, block: plane, channels: s.channels, lanes: l)
            b.store(r, b.gep(bufs[1], b.mul(b.add(b.mul(n, blocks), plane), l)))
        }
    }
}

struct ChannelReduceGenerator {
    let s: ChannelReduceSpec
    let b: IRBuilder
    let l: Int

    func emit() {
        let blocks = ceilDiv(s.channels, l), hw = s.height * s.width
        let bufs = b.buffers(2)
        let full = s.channels / l, tail = s.channels % l
        b.itemLoop(perSample: s.height) { n, y in
            b.loop(0, s.width, "x") { x in
                let pixel = b.add(b.mul(y, s.width), x)
                let base = b.gep(bufs[0], b.add(b.mul(n, blocks * hw * l), b.mul(pixel, l)))
                let sum = b.variable(b.m.splat(0, l)), mx = b.variable(b.m.splat(-.infinity, l))
                b.loop(0, full, "cb") { cb in
                    let v = b.loadVector(b.gep(base, b.mul(cb, hw * l)), l)
                    sum.value = b.fadd(sum.value, v)
                    mx.value = b.maxnum(mx.value, v)
                }
                if tail > 0 {
                    // Padded lanes hold zeros: they must not win the max.
                    let v = b.loadVector(b.gep(base, full * hw * l), l)
                    sum.value = b.fadd(sum.value, v)
                    mx.value = b.maxnum(mx.value, b.select(b.laneMask(valid: tail, lanes: l), v, b.m.splat(-.infinity, l)))
                }
                var out = b.m.splat(0, l)
                var lane = 0
                if s.mean { out = b.insert(out, b.fmul(b.reduceAdd(sum.value), b.m.constF32(1 / Float(s.channels))), lane); lane += 1 }
                if s.max { out = b.insert(out, b.reduceMax(mx.value), lane) }
                b.store(out, b.gep(bufs[1], b.mul(b.add(b.mul(n, hw), pixel), l)))
            }
        }
    }
}
