/// NCHW ↔ NCHWc conversion at the edges of a compiled graph.
struct LayoutSpec: Sendable {
    var channels, height, width, lanes: Int
    var toBlocked: Bool
}

extension KernelDefinition {
    /// Plain NCHW → blocked NCHWc (padded lanes zero). Buffers: input (plain), output.
    public static func toBlocked(channels: Int, height: Int, width: Int, target: TargetDescription, name: String) throws -> KernelDefinition {
        try layout(channels, height, width, target, name, toBlocked: true)
    }

    /// Blocked NCHWc → plain NCHW. Buffers: input, output (plain).
    public static func fromBlocked(channels: Int, height: Int, width: Int, target: TargetDescription, name: String) throws -> KernelDefinition {
        try layout(channels, height, width, target, name, toBlocked: false)
    }

    private static func layout(_ c: Int, _ h: Int, _ w: Int, _ t: TargetDescription, _ name: String, toBlocked: Bool) throws -> KernelDefinition {
        guard c > 0, h > 0, w > 0 else { throw CodegenError(.kernel, "layout conversion of [\(c),\(h),\(w)]: sizes must be positive") }
        let shape = [c, h, w]
        let plain = Buffer(name: toBlocked ? "input" : "output", role: toBlocked ? .input : .output, shape: shape,
                           elementsPerSample: c * h * w, layout: .plain)
        let blocked = Buffer.blocked(toBlocked ? "output" : "input", toBlocked ? .output : .input, shape, lanes: t.vectorWidth)
        let spec = LayoutSpec(channels: c, height: h, width: w, lanes: t.vectorWidth, toBlocked: toBlocked)
        return KernelDefinition(name: name, kind: toBlocked ? "to_blocked" : "from_blocked",
                                summary: "\(toBlocked ? "nchw→nchw\(t.vectorWidth)c" : "nchw\(t.vectorWidth)c→nchw") [\(c),\(h),\(w)]",
                                buffers: toBlocked ? [plain, blocked] : [blocked, plain],
                                itemsPerSample: ceilDiv(c, t.vectorWidth) * h, flopsPerSample: 0, lanes: t.vectorWidth, params: [], body: .layout(spec))
    }
}

/// One item = one row of one channel block.
struct LayoutGenerator {
    let s: LayoutSpec
    let b: IRBuilder

    func emit() {
        let l = s.lanes, blocks = ceilDiv(s.channels, l), hw = s.height * s.width
        let bufs = b.buffers(2)
        b.itemLoop(perSample: blocks * s.height) { n, local in
            let cb = b.sdiv(local, b.m.constI64(s.height))
            let y = b.srem(local, b.m.constI64(s.height))
            // Offsets of this row in both layouts.
            let blockedRow = b.mul(b.add(b.mul(b.add(b.mul(n, blocks), cb), s.height), y), s.width * l)
            let plainRow = b.add(b.mul(b.add(b.mul(n, s.channels), b.mul(cb, l)), hw), b.mul(y, s.width))
            let row = { (valid: Int) in
                b.loop(0, s.width, "x") { x in
                    if s.toBlocked {
                        var v = b.m.splat(0, l)
                        for lane in 0..<valid {
                            v = b.insert(v, b.loadF32(b.gep(bufs[0], b.add(b.add(plainRow, x), lane * hw))), lane)
                        }
                        b.store(v, b.gep(bufs[1], b.add(blockedRow, b.mul(x, l))))
                    } else {
                        let v = b.loadVector(b.gep(bufs[0], b.add(blockedRow, b.mul(x, l))), l)
                        for lane in 0..<valid {
                            b.store(b.extract(v, lane), b.gep(bufs[1], b.add(b.add(plainRow, x), lane * hw)))
                        }
                    }
                }
            }
            let tail = s.channels % l
            if tail == 0 { row(l) } else {
                b.ifElse(b.icmp(LLVMIntEQ, cb, b.m.constI64(blocks - 1)), "tail", then: { row(tail) }, else: { row(l) })
            }
        }
    }
}

internal import CLLVM
