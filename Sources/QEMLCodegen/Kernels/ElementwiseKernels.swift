internal import CLLVM

/// `out = activation((a ∘ b) · scale + addend)` over a blocked `[C,H,W]` tensor, each part
/// optional: covers add, mul, relu, sigmoid, tanh, scale, the residual add + ReLU, and CBAM's
/// channel/spatial attention products in one pass over memory.
public struct ElementwiseSpec: Hashable, Sendable, CustomStringConvertible {
    public enum BinaryOp: String, Hashable, Sendable { case add, mul }
    /// The shape of `b`: like `a`, one value per channel (`[C,1,1]`), or one per pixel (`[1,H,W]`).
    public enum Broadcast: String, Hashable, Sendable { case same, perChannel, perPixel }

    public var channels, height, width: Int
    public var op: BinaryOp?
    public var broadcast: Broadcast
    public var scale: Float?
    public var addend: Bool
    public var activation: Activation

    public init(channels: Int, height: Int, width: Int, op: BinaryOp? = nil, broadcast: Broadcast = .same,
                scale: Float? = nil, addend: Bool = false, activation: Activation = .none) {
        self.channels = channels
        self.height = height
        self.width = width
        self.op = op
        self.broadcast = broadcast
        self.scale = scale
        self.addend = addend
        self.activation = activation
    }

    public var description: String {
        var s = "x"
        if let op { s = "(\(s) \(op == .add ? "+" : "*") b\(broadcast == .same ? "" : "[\(broadcast.rawValue)]"))" }
        if let scale { s += "·\(scale)" }
        if addend { s += " + r" }
        if activation != .none { s = "\(activation.rawValue)(\(s))" }
        return "elementwise \(s) [\(channels),\(height),\(width)]"
    }
}

extension KernelDefinition {
    /// Buffers: a, [b], [addend], output.
    public static func elementwise(_ s: ElementwiseSpec, target: TargetDescription, name: String) throws -> KernelDefinition {
        guard s.channels > 0, s.height > 0, s.width > 0 else { throw CodegenError(.kernel, "\(s): sizes must be positive") }
        let l = target.vectorWidth, shape = [s.channels, s.height, s.width]
        var bufs: [Buffer] = [.blocked("a", .input, shape, lanes: l)]
        if s.op != nil {
            let bShape = s.broadcast == .same ? shape : s.broadcast == .perChannel ? [s.channels, 1, 1] : [1, s.height, s.width]
            bufs.append(.blocked("b", .input, bShape, lanes: l))
        }
        if s.addend { bufs.append(.blocked("addend", .input, shape, lanes: l)) }
        bufs.append(.blocked("output", .output, shape, lanes: l))
        let perElement = (s.op != nil ? 1 : 0) + (s.scale != nil ? 1 : 0) + (s.addend ? 1 : 0) + (s.activation == .none ? 0 : s.activation == .relu ? 1 : 4)
        return KernelDefinition(name: name, kind: "elementwise", summary: s.description, buffers: bufs,
                                itemsPerSample: ceilDiv(s.channels, l), flopsPerSample: perElement * s.channels * s.height * s.width, lanes: l,
                                params: [], body: .elementwise(s))
    }
}

/// One item = one channel block's H×W plane.
struct ElementwiseGenerator {
    let s: ElementwiseSpec
    let b: IRBuilder
    let l: Int

    func emit() {
        let blocks = ceilDiv(s.channels, l), hw = s.height * s.width
        let bufs = b.buffers(1 + (s.op != nil ? 1 : 0) + (s.addend ? 1 : 0) + 1)
        let a = bufs[0], out = bufs[bufs.count - 1]
        let rhs: IRValue? = s.op != nil ? bufs[1] : nil
        let addend: IRValue? = s.addend ? bufs[s.op != nil ? 2 : 1] : nil
        b.itemLoop(perSample: blocks) { n, plane in
            let planeStart = b.mul(b.add(b.mul(n, blocks), plane), hw * l)
            let channelB: IRValue? = (s.op != nil && s.broadcast == .perChannel)
                ? b.loadVector(b.gep(rhs!, b.mul(b.add(b.mul(n, blocks), plane), l)), l) : nil
            b.loop(0, hw, "p") { p in
                let at = b.add(planeStart, b.mul(p, l))
                var v = b.loadVector(b.gep(a, at), l)
                if let op = s.op, let rhs {
                    let bv: IRValue
                    switch s.broadcast {
                    case .same: bv = b.loadVector(b.gep(rhs, at), l)
                    case .perChannel: bv = channelB!
                    case .perPixel: bv = b.broadcast(b.loadF32(b.gep(rhs, b.mul(b.add(b.mul(n, hw), p), l))), l)
                    }
                    v = op == .add ? b.fadd(v, bv) : b.fmul(v, bv)
                }
                if let k = s.scale { v = b.fmul(v, b.m.splat(k, l)) }
                if let addend { v = b.fadd(v, b.loadVector(b.gep(addend, at), l)) }
                v = b.activate(v, s.activation)
                v = b.zeroPadding(v, block: plane, channels: s.channels, lanes: l)
                b.store(v, b.gep(out, at))
            }
        }
    }
}
