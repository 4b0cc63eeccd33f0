import QEMLIR
import QEMLPasses
import QEMLTensor

/// How one graph node runs as generated kernels: steps run in order (each step's item range may
/// be split across threads; a barrier between steps), reading and writing the node's operands,
/// results and per-node scratch buffers.
public struct LoweredNode: Sendable {
    /// Where a kernel buffer lives.
    public enum Slot: Sendable, Equatable {
        /// The node's operand in declared slot `i` (an activation, never a weight).
        case operand(Int)
        /// The node's result `i`.
        case result(Int)
        /// Scratch buffer `i` of `scratch` (alive during this node only).
        case scratch(Int)
    }

    public struct Step: Sendable {
        public var kernel: KernelDefinition
        /// One slot per `kernel.buffers` entry, in the same order.
        public var slots: [Slot]
    }

    public var steps: [Step]
    /// Floats per sample of each scratch buffer.
    public var scratch: [Int]
    public var kernels: [KernelDefinition] { steps.map(\.kernel) }
}

extension KernelDefinition {
    /// The generated kernels for a graph node, or nil when the op has no generated kernel
    /// (`flatten`, `concat`, `circuit`, broadcasts other than per-channel/per-pixel): run those
    /// with the interpreter, or as an alias (`flatten` moves no data).
    ///
    /// Activations are read and written in the layout the `layout` pass chose (`Layout.of`);
    /// where a value is plain NCHW and that differs from the blocked layout, conversion steps
    /// through scratch buffers are added around the kernel. Weights are looked up by name in
    /// `weights` and packed now (BatchNorm folded).
    public static func lower(node: Node, in graph: Graph, weights: [String: Tensor], target: TargetDescription,
                             name: String) throws -> LoweredNode? {
        var l = Lowering(node: node, graph: graph, weights: weights, target: target, name: name)
        return try l.lower()
    }
}

private struct Lowering {
    let node: Node
    let graph: Graph
    let weights: [String: Tensor]
    let target: TargetDescription
    let name: String
    var before: [LoweredNode.Step] = []
    var core: [LoweredNode.Step] = []
    var after: [LoweredNode.Step] = []
    var scratch: [Int] = []
    var lanes: Int { target.vectorWidth }

    init(node: Node, graph: Graph, weights: [String: Tensor], target: TargetDescription, name: String) {
        self.node = node
        self.graph = graph
        self.weights = weights
        self.target = target
        self.name = name
    }

    func fail(_ message: String) -> CodegenError {
        CodegenError(.kernel, "\(node.location.map { "\($0): " } ?? "")\(node.op) '\(name)': \(message)")
    }

    // MARK: attributes, shapes and weights

    func attr(_ n: String) -> Attribute? {
        node.attributes[n] ?? OpRegistry.decl(node.op)?.attributes.first { $0.name == n }?.defaultValue
    }
    func int(_ n: String) -> Int? { attr(n)?.int }
    func ints(_ n: String) -> [Int]? { attr(n)?.ints.map { $0.count == 1 ? [$0[0], $0[0]] : $0 } }
    func string(_ n: String) -> String? { attr(n)?.string }

    func activation(_ n: String = "activation") throws -> Activation {
        let s = string(n) ?? "none"
        guard let a = Activation(rawValue: s) else { throw fail("unsupported activation '\(s)'") }
        return a
    }

    /// `[C,H,W]` of an activation: rank 4 → its C,H,W; rank 2 `[N,K]` → `[K,1,1]`.
    func chw(_ v: ValueID) throws -> [Int] {
        let d = graph.type(of: v).dims.dropFirst().map(\.value)
        guard d.allSatisfy({ $0 != nil }) else { throw fail("\(graph[v].name) needs fixed sizes past the batch") }
        let s = d.compactMap { $0 }
        switch s.count {
        case 3: return s
        case 1: return [s[0], 1, 1]
        default: throw fail("\(graph[v].name) is \(graph.type(of: v)): only [N,C,H,W] and [N,K] values have kernels")
        }
    }

    func operand(_ i: Int) -> ValueID? { node.operand(i) }

    func weight(_ i: Int, _ what: String) throws -> Tensor? {
        guard let v = operand(i) else { return nil }
        guard let wn = graph[v].weightName else { throw fail("\(what) must be a weight, got %\(graph[v].name)") }
        guard let t = weights[wn] else { throw fail("weight '\(wn)' was not loaded") }
        return t
    }
    func vector(_ i: Int, _ what: String, count: Int) throws -> [Float]? {
        guard let t = try weight(i, what) else { return nil }
        guard t.count == count else { throw fail("\(what) has \(t.count) values, expected \(count)") }
        return t.data
    }

    // MARK: layout

    /// Whether `v`, as stored, differs from the blocked layout (so it needs converting).
    func needsConversion(_ v: ValueID, layout: String) throws -> Bool {
        let s = try chw(v)
        if let c = Layout.blockSize(of: layout), c > 1 {
            guard c == lanes else { throw fail("the graph was laid out for \(c)-lane blocks but target '\(target.name)' has \(lanes)") }
            return false
        }
        return !(s[0] % lanes == 0 && s[1] * s[2] == 1)
    }

    /// The slot a kernel reads operand `i` from (converted into scratch when it is plain).
    mutating func input(_ i: Int) throws -> LoweredNode.Slot {
        guard let v = operand(i) else { throw fail("operand \(i) is missing") }
        guard try needsConversion(v, layout: Layout.of(v, in: graph)) else { return .operand(i) }
        let s = try chw(v)
        let k = try KernelDefinition.toBlocked(channels: s[0], height: s[1], width: s[2], target: target, name: "\(name)_in\(i)")
        scratch.append(k.buffers[1].elementsPerSample)
        before.append(.init(kernel: k, slots: [.operand(i), .scratch(scratch.count - 1)]))
        return .scratch(scratch.count - 1)
    }

    /// The slot a kernel writes result `i` to (converted out of scratch when the node is plain).
    mutating func output(_ i: Int) throws -> LoweredNode.Slot {
        let v = node.results[i]
        guard try needsConversion(v, layout: string("layout") ?? Layout.plain) else { return .result(i) }
        let s = try chw(v)
        let k = try KernelDefinition.fromBlocked(channels: s[0], height: s[1], width: s[2], target: target, name: "\(name)_out\(i)")
        scratch.append(k.buffers[0].elementsPerSample)
        after.append(.init(kernel: k, slots: [.scratch(scratch.count - 1), .result(i)]))
        return .scratch(scratch.count - 1)
    }

    mutating func add(_ k: KernelDefinition, _ slots: [LoweredNode.Slot]) { core.append(.init(kernel: k, slots: slots)) }

    // MARK: ops

    mutating func lower() throws -> LoweredNode? {
        switch node.op {
        case "conv2d": try conv()
        case "maxpool2d", "avgpool2d":
            guard let x = operand(0) else { return nil }
            let s = try chw(x)
            let spec = PoolSpec(kind: node.op == "maxpool2d" ? .max : .avg, channels: s[0], height: s[1], width: s[2],
                                kernel: ints("kernel") ?? [1, 1], stride: ints("stride"), padding: ints("padding") ?? [0, 0],
                                ceilMode: attr("ceil_mode")?.bool ?? false)
            let (i, o) = (try input(0), try output(0))
            add(try .pool(spec, target: target, name: name), [i, o])
        case "global_avgpool", "global_maxpool":
            guard let x = operand(0) else { return nil }
            let s = try chw(x)
            let spec = GlobalPoolSpec(kind: node.op == "global_avgpool" ? .avg : .max, channels: s[0], height: s[1], width: s[2])
            let (i, o) = (try input(0), try output(0))
            add(try .globalPool(spec, target: target, name: name), [i, o])
        case "channel_mean", "channel_max":
            guard let x = operand(0) else { return nil }
            let s = try chw(x)
            let spec = ChannelReduceSpec(channels: s[0], height: s[1], width: s[2], mean: node.op == "channel_mean", max: node.op == "channel_max")
            let (i, o) = (try input(0), try output(0))
            add(try .channelReduce(spec, target: target, name: name), [i, o])
        case "relu", "sigmoid", "tanh", "scale":
            guard let x = operand(0) else { return nil }
            let s = try chw(x)
            let act = Activation(rawValue: node.op) ?? .none
            let scale = node.op == "scale" ? (attr("by")?.double).map(Float.init) : nil
            let (i, o) = (try input(0), try output(0))
            add(try .elementwise(ElementwiseSpec(channels: s[0], height: s[1], width: s[2], scale: scale, activation: act), target: target, name: name), [i, o])
        case "add", "mul":
            guard try binary() else { return nil }
        case "dense":
            guard let x = operand(0) else { return nil }
            let k = try chw(x)[0], out = int("out") ?? 0
            guard let w = try weight(1, "the weight") else { throw fail("the weight is missing") }
            let bias = try vector(2, "the bias", count: out)
            let (i, o) = (try input(0), try output(0))
            add(try .dense(inFeatures: k, outFeatures: out, weight: w.reshaped([out, w.count / max(out, 1)]), bias: bias, target: target, name: name), [i, o])
        case "softmax":
            guard let x = operand(0), graph.type(of: x).rank == 2 else { return nil }
            let (i, o) = (try input(0), try output(0))
            add(try .softmax(features: try chw(x)[0], target: target, name: name), [i, o])
        case "reorder":
            guard let x = operand(0) else { return nil }
            let s = try chw(x)
            let from = string("from") ?? "", to = string("to") ?? ""
            if from == Layout.plain, to == Layout.blocked(lanes) {
                add(try .toBlocked(channels: s[0], height: s[1], width: s[2], target: target, name: name), [.operand(0), .result(0)])
            } else if from == Layout.blocked(lanes), to == Layout.plain {
                add(try .fromBlocked(channels: s[0], height: s[1], width: s[2], target: target, name: name), [.operand(0), .result(0)])
            } else {
                throw fail("reorder from \(from) to \(to) does not match target '\(target.name)' (\(Layout.blocked(lanes)))")
            }
        case "fused_cbam": try cbam()
        default: return nil
        }
        return LoweredNode(steps: before + core + after, scratch: scratch)
    }

    mutating func conv() throws {
        guard let x = operand(0) else { throw fail("the input is missing") }
        let s = try chw(x), out = int("out") ?? 0
        let spec = Conv2DSpec(inChannels: s[0], height: s[1], width: s[2], outChannels: out,
                              kernel: ints("kernel") ?? [1, 1], stride: ints("stride") ?? [1, 1], padding: ints("padding") ?? [0, 0],
                              dilation: ints("dilation") ?? [1, 1], groups: int("groups") ?? 1, activation: try activation(),
                              residual: operand(7) != nil, pool: string("pool") == "avgmax")
        guard let w = try weight(1, "the weight") else { throw fail("the weight is missing") }
        var bn: ConvWeights.BatchNorm?
        if let g = try vector(3, "bn_weight", count: out), let b = try vector(4, "bn_bias", count: out),
           let m = try vector(5, "bn_mean", count: out), let v = try vector(6, "bn_var", count: out) {
            bn = .init(gamma: g, beta: b, mean: m, variance: v, eps: attr("eps")?.double ?? 1e-5)
        }
        let weights = ConvWeights(weight: w, bias: try vector(2, "the bias", count: out), batchNorm: bn)
        var slots = [try input(0)]
        if spec.residual { slots.append(try input(7)) }
        slots.append(try output(0))
        if spec.pool { slots += [try output(1), try output(2)] }
        add(try .conv2d(spec, weights: weights, target: target, name: name), slots)
    }

    /// add/mul with the same shape or a per-channel / per-pixel right (or left) operand.
    mutating func binary() throws -> Bool {
        guard let a = operand(0), let b = operand(1), !graph[a].isWeight, !graph[b].isWeight else { return false }
        let out = node.results[0]
        let ta = graph.type(of: a), tb = graph.type(of: b), to = graph.type(of: out)
        func form(_ t: TensorType) -> ElementwiseSpec.Broadcast? {
            if t == to { return .same }
            guard to.rank == 4, t.rank == 4 else { return nil }
            if t.dims[1] == to.dims[1], t.dims[2] == .fixed(1), t.dims[3] == .fixed(1) { return .perChannel }
            if t.dims[1] == .fixed(1), t.dims[2] == to.dims[2], t.dims[3] == to.dims[3] { return .perPixel }
            return nil
        }
        if ta == to, let f = form(tb) { return try emitBinary(0, 1, f) }
        // The broadcast operand on the left: both ops commute.
        if tb == to, let f = form(ta) { return try emitBinary(1, 0, f) }
        return false
    }

    mutating func emitBinary(_ first: Int, _ second: Int, _ bc: ElementwiseSpec.Broadcast) throws -> Bool {
        let s = try chw(node.results[0])
        let spec = ElementwiseSpec(channels: s[0], height: s[1], width: s[2], op: node.op == "add" ? .add : .mul, broadcast: bc)
        let (i, j, o) = (try input(first), try input(second), try output(0))
        add(try .elementwise(spec, target: target, name: name), [i, j, o])
        return true
    }

    mutating func cbam() throws {
        guard let y = operand(0) else { throw fail("the input is missing") }
        let s = try chw(y), hidden = int("hidden") ?? 0, k = int("kernel") ?? 7
        guard (int("padding") ?? k / 2) == k / 2 else { throw fail("only 'same' spatial padding (kernel/2) is generated") }
        guard let fc1 = try weight(3, "fc1"), let fc2 = try weight(4, "fc2"), let sp = try weight(5, "spatial") else {
            throw fail("a CBAM weight is missing")
        }
        let spec = CBAMSpec(channels: s[0], height: s[1], width: s[2], hidden: hidden, kernel: k,
                            residual: operand(9) != nil, activation: try activation())
        let w = CBAMWeights(fc1: fc1.reshaped([hidden, s[0], 1, 1]), fc2: fc2.reshaped([s[0], hidden, 1, 1]), spatial: sp.reshaped([1, 2, k, k]),
                            fc1Bias: try vector(6, "fc1 bias", count: hidden), fc2Bias: try vector(7, "fc2 bias", count: s[0]),
                            spatialBias: try vector(8, "spatial bias", count: 1)?.first)
        let ks = try KernelDefinition.cbam(spec, weights: w, target: target, name: name)
        let yIn = try input(0), avg = try input(1), mx = try input(2)
        let res: LoweredNode.Slot? = spec.residual ? try input(9) : nil
        let out = try output(0)
        scratch.append(ks.channelGate.buffers[2].elementsPerSample)
        let gate = LoweredNode.Slot.scratch(scratch.count - 1)
        scratch.append(ks.reduce.buffers[2].elementsPerSample)
        let map = LoweredNode.Slot.scratch(scratch.count - 1)
        add(ks.channelGate, [avg, mx, gate])
        add(ks.reduce, [yIn, gate, map])
        add(ks.apply, [yIn, gate, map] + (res.map { [$0] } ?? []) + [out])
    }
}
