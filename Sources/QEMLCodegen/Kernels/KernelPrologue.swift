internal import CLLVM

/// Pieces every generator shares: the item loop of the ABI and padded-lane masking.
extension IRBuilder {
    /// `for item in begin..<end { body(sample, item within the sample) }`, then `ret void`.
    func itemLoop(perSample: Int, _ body: (_ n: IRValue, _ local: IRValue) -> Void) {
        loop(param(2), param(3), "item") { item in
            body(sdiv(item, m.constI64(perSample)), srem(item, m.constI64(perSample)))
        }
        retVoid()
    }

    /// The buffers of the ABI's first argument, loaded in order.
    func buffers(_ count: Int) -> [IRValue] { (0..<count).map { bufferPointer(param(0), $0) } }

    /// A `<lanes x i1>` constant: true for the first `valid` lanes.
    func laneMask(valid: Int, lanes: Int) -> IRValue {
        m.constVector((0..<lanes).map { LLVMConstInt(m.i1, $0 < valid ? 1 : 0, 0) })
    }

    /// Zeroes the lanes past `channels` when `block` is the last channel block.
    func zeroPadding(_ v: IRValue, block: IRValue, channels: Int, lanes: Int) -> IRValue {
        let valid = channels % lanes
        if valid == 0 { return v }
        let last = icmp(LLVMIntEQ, block, m.constI64(ceilDiv(channels, lanes) - 1))
        return select(last, select(laneMask(valid: valid, lanes: lanes), v, m.splat(0, lanes)), v)
    }

    func sitofp(_ v: IRValue) -> IRValue { LLVMBuildSIToFP(builder, v, m.f32, "") }
}
