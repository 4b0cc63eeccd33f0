import QEMLCodegen
import QEMLIR
import QEMLPasses
import QEMLQuantum
import QEMLTensor

/// Walks the graph once, node by node, choosing a kernel for each (see `KernelPlan`).
struct PlanBuilder {
    let g: Graph
    let weights: [String: Tensor]
    let target: TargetDescription
    let backend: ConvBackend
    let users: [[Int]]
    let flops: [Int]
    /// `fuse-quantum`'s circuit plans (with the real weights), by result name.
    let circuitPlans: [String: CircuitPlan]
    /// False: no generated kernel's weights are packed (conv, dense and CBAM steps' `params` stay
    /// empty), as when the packed-weights cache has them.
    let packWeights: Bool
    /// `quantize`'s int8 ops, by the node's first result name (`PassManager.Result.int8`).
    let int8: [String: Int8Params]
    /// Slots holding a value as u7 codes, by value and scale (the producer's own, or a quantize
    /// step's shared by every int8 reader with that scale).
    var codeSlots: [CodesKey: Int] = [:]

    var definitions: [KernelDefinition] = []
    private var kernelIndex: [AnyHashable: Int] = [:]
    private var paramCounts: [Int] = []
    var slots: [KernelPlan.Slot] = []
    var steps: [KernelPlan.Step] = []
    var slotOf: [ValueID: Int] = [:]
    var fallbacks: [String] = []
    var fixedBatch: Int?
    /// Nodes already covered by a fused step (e.g. an activation folded into a dense).
    private var absorbed: Set<Int> = []

    init(graph: Graph, weights: [String: Tensor], target: TargetDescription, backend: ConvBackend,
         circuitPlans: [String: CircuitPlan] = [:], int8: [String: Int8Params] = [:], packWeights: Bool = true) throws {
        self.circuitPlans = circuitPlans
        self.int8 = int8
        self.packWeights = packWeights
        g = graph
        self.weights = weights
        self.target = target
        self.backend = backend
        users = graph.users()
        flops = LayerReport(graph).rows.map(\.flops)
    }

    var lanes: Int { target.vectorWidth }

    mutating func build() throws {
        var batchSymbol: String?
        // Every activation's first dim is the batch: one symbol, or the same fixed size.
        for (i, v) in g.values.enumerated() where !v.isWeight {
            guard let first = v.type.dims.first else { throw PlanError("%\(v.name) is a scalar; the executor needs a batch dimension") }
            switch first {
            case .symbolic(let s):
                if let b = batchSymbol, b != s { throw PlanError("%\(v.name) has batch \(s) but other values have \(b); one batch symbol is supported") }
                batchSymbol = s
            case .fixed(let n):
                if let f = fixedBatch, f != n { throw PlanError("%\(v.name) has batch \(n) but other values have \(f)") }
                fixedBatch = n
            }
            _ = i
        }
        if batchSymbol != nil, let f = fixedBatch {
            throw PlanError("the graph mixes a symbolic batch with a fixed one (\(f)); write the batch the same way everywhere")
        }
        for v in g.inputs { slotOf[v] = try newSlot(for: v) }
        for (i, n) in g.nodes.enumerated() where !absorbed.contains(i) {
            try plan(node: i, n)
        }
        for v in g.outputs where slotOf[v] == nil { throw PlanError("output %\(g[v].name) is never computed") }
    }

    // MARK: slots

    func storage(of v: ValueID) throws -> BlockedStorage {
        let t = g.type(of: v)
        var dims: [Int] = []
        for d in t.dims.dropFirst() {
            guard let x = d.value else { throw PlanError("%\(g[v].name): \(t) has a symbolic dimension besides the batch") }
            dims.append(x)
        }
        guard let s = BlockedStorage(perSample: dims, lanes: lanes) else {
            throw PlanError("%\(g[v].name): \(t) has rank \(t.rank); the executor stores ranks 1 to 4")
        }
        return s
    }

    mutating func newSlot(for v: ValueID) throws -> Int {
        slots.append(KernelPlan.Slot(name: g[v].name, storage: try storage(of: v)))
        return slots.count - 1
    }

    mutating func scratch(_ name: String, _ s: BlockedStorage) -> Int {
        slots.append(KernelPlan.Slot(name: name, storage: s))
        return slots.count - 1
    }

    func slot(_ v: ValueID) throws -> Int {
        guard let s = slotOf[v] else { throw PlanError("%\(g[v].name) is used before it is computed") }
        return s
    }

    func weight(_ v: ValueID?) -> Tensor? {
        guard let v, let name = g[v].weightName else { return nil }
        return weights[name]
    }

    func requireWeight(_ v: ValueID?, _ node: Node, _ what: String) throws -> Tensor {
        guard let v else { throw PlanError("\(node.op) %\(nodeName(node)): the \(what) is missing") }
        guard let name = g[v].weightName else { throw PlanError("\(node.op) %\(nodeName(node)): the \(what) must be a weight (@name)") }
        guard let t = weights[name] else { throw PlanError("missing weight '\(name)' (\(g.type(of: v)))") }
        return t
    }

    func nodeName(_ n: Node) -> String { n.results.first.map { g[$0].name } ?? n.op }

    // MARK: steps

    /// Adds a step running `d`. Nodes with the same `key` (the kernel's spec: shapes and fused
    /// steps, not weights) share one generated function, called with each node's own packed
    /// weights; the plan's definitions carry no weights (`Step.params` does).
    mutating func addKernel(_ d: KernelDefinition, key: AnyHashable, slots s: [Int], node i: Int) {
        addKernel(d, key: key, slots: s, named: nodeName(g.nodes[i]))
    }

    /// A step for value `node` (by name), e.g. a quantize step at an int8 op's input.
    mutating func addKernel(_ d: KernelDefinition, key: AnyHashable, slots s: [Int], named node: String) {
        var code = d
        code.params = []
        let index: Int
        if let j = kernelIndex[key], definitions[j].kind == d.kind, definitions[j].buffers == d.buffers,
           definitions[j].itemsPerSample == d.itemsPerSample, paramCounts[j] == d.params.count {
            index = j
        } else {
            definitions.append(code)
            paramCounts.append(d.params.count)
            index = definitions.count - 1
            kernelIndex[key] = index
        }
        steps.append(KernelPlan.Step(action: .kernel(index), slots: s, node: node,
                                     summary: d.summary, flopsPerSample: d.flopsPerSample, params: d.params))
    }

    /// The reference kernel, reading and writing the arena through plain tensors.
    mutating func addFallback(node i: Int, why: String) throws {
        let (step, used) = try referenceStep(node: i)
        let n = g.nodes[i]
        fallbacks.append("\(n.op) %\(nodeName(n)) (\(why))")
        steps.append(KernelPlan.Step(action: .fallback(step), slots: used, node: nodeName(n),
                                     summary: "\(n.op) (reference interpreter)", flopsPerSample: flops[i], params: [], reason: why))
    }

    /// Node `i` on its reference kernel, and the arena slots it reads and writes (results get new slots).
    mutating func referenceStep(node i: Int) throws -> (FallbackStep, [Int]) {
        let n = g.nodes[i]
        var sources: [FallbackStep.Source?] = []
        var used: [Int] = []
        for v in n.operands {
            guard let v else { sources.append(nil); continue }
            if g[v].isWeight {
                guard let t = weight(v) else { throw PlanError("missing weight '\(g[v].weightName ?? g[v].name)'") }
                sources.append(.weight(t))
            } else {
                let s = try slot(v)
                sources.append(.slot(used.count, try storage(of: v), g.type(of: v).dims.dropFirst().compactMap(\.value)))
                used.append(s)
            }
        }
        var results: [(index: Int, storage: BlockedStorage, dims: [Int])] = []
        for r in n.results {
            let s = try newSlot(for: r)
            slotOf[r] = s
            results.append((used.count, try storage(of: r), g.type(of: r).dims.dropFirst().compactMap(\.value)))
            used.append(s)
        }
        guard let kernel = Interpreter.kernel(for: n.op) else {
            throw PlanError("no kernel, generated or reference, for op '\(n.op)' (%\(nodeName(n)))")
        }
        return (FallbackStep(node: n, graph: g, sources: sources, results: results, kernel: kernel), used)
    }

    func kernelName(_ i: Int, _ op: String) -> String { "n\(i)_\(op)" }

    mutating func plan(node i: Int, _ n: Node) throws {
        let name = kernelName(i, n.op)
        switch n.op {
        case "reorder":
            // Every value is stored blocked already: the reorder is the same buffer.
            guard let x = n.operand(0), let r = n.results.first else { throw PlanError("reorder without an operand") }
            slotOf[r] = try slot(x)

        case "flatten":
            guard let x = n.operand(0), let r = n.results.first else { throw PlanError("flatten without an operand") }
            let s = try storage(of: x)
            if s.height == 1 && s.width == 1 { slotOf[r] = try slot(x) } else { try addFallback(node: i, why: "flatten of a spatial tensor") }

        case _ where n.readsInt8Codes:
            try planInt8(i, n, name)

        case "conv2d":
            try planConv(i, n, name)

        case "maxpool2d", "avgpool2d":
            guard let x = n.operand(0), let r = n.results.first else { throw PlanError("\(n.op) without an operand") }
            let s = try storage(of: x)
            let k = n.attributes.ints("kernel") ?? [1, 1]
            let spec = PoolSpec(kind: n.op == "maxpool2d" ? .max : .avg, channels: s.channels, height: s.height, width: s.width,
                                kernel: k, stride: n.attributes.ints("stride") ?? k, padding: n.attributes.ints("padding") ?? [0, 0],
                                ceilMode: n.attributes.bool("ceil_mode") ?? false)
            let out = try newSlot(for: r)
            slotOf[r] = out
            addKernel(try KernelDefinition.pool(spec, target: target, name: name), key: spec, slots: [try slot(x), out], node: i)

        case "global_avgpool", "global_maxpool":
            guard let x = n.operand(0), let r = n.results.first else { throw PlanError("\(n.op) without an operand") }
            let s = try storage(of: x)
            let spec = GlobalPoolSpec(kind: n.op == "global_maxpool" ? .max : .avg, channels: s.channels, height: s.height, width: s.width)
            let out = try newSlot(for: r)
            slotOf[r] = out
            addKernel(try KernelDefinition.globalPool(spec, target: target, name: name), key: spec, slots: [try slot(x), out], node: i)

        case "channel_mean", "channel_max":
            guard let x = n.operand(0), let r = n.results.first else { throw PlanError("\(n.op) without an operand") }
            let s = try storage(of: x)
            let spec = ChannelReduceSpec(channels: s.channels, height: s.height, width: s.width,
                                         mean: n.op == "channel_mean", max: n.op == "channel_max")
            let out = try newSlot(for: r)
            slotOf[r] = out
            addKernel(try KernelDefinition.channelReduce(spec, target: target, name: name), key: spec, slots: [try slot(x), out], node: i)

        case "relu", "sigmoid", "tanh", "scale":
            guard let x = n.operand(0), let r = n.results.first else { throw PlanError("\(n.op) without an operand") }
            let s = try storage(of: r)
            var spec = ElementwiseSpec(channels: s.channels, height: s.height, width: s.width)
            if n.op == "scale" { spec.scale = Float(n.attributes.double("by") ?? 1) } else { spec.activation = Activation(rawValue: n.op) ?? .none }
            let out = try newSlot(for: r)
            slotOf[r] = out
            addKernel(try KernelDefinition.elementwise(spec, target: target, name: name), key: spec, slots: [try slot(x), out], node: i)

        case "add", "mul":
            try planBinary(i, n, name)

        case "dense":
            try planDense(i, n, name)

        case "softmax":
            guard let x = n.operand(0), let r = n.results.first, g.type(of: x).rank == 2 else {
                return try addFallback(node: i, why: "softmax over a tensor of rank other than 2")
            }
            let s = try storage(of: x)
            let out = try newSlot(for: r)
            slotOf[r] = out
            addKernel(try KernelDefinition.softmax(features: s.channels, target: target, name: name), key: "softmax \(s.channels)", slots: [try slot(x), out], node: i)

        case "fused_cbam":
            try planCBAM(i, n, name)

        case "circuit":
            try planCircuit(i, n)

        default:
            try addFallback(node: i, why: "no generated kernel for \(n.op)")
        }
    }

    private mutating func planBinary(_ i: Int, _ n: Node, _ name: String) throws {
        guard var a = n.operand(0), var bv = n.operand(1), let r = n.results.first, !g[a].isWeight, !g[bv].isWeight else {
            return try addFallback(node: i, why: "\(n.op) with a weight operand")
        }
        let out = try storage(of: r)
        func broadcast(_ v: ValueID) throws -> ElementwiseSpec.Broadcast? {
            let s = try storage(of: v)
            if s == out { return .same }
            if g.type(of: v).rank == g.type(of: r).rank, s.channels == out.channels, s.height == 1, s.width == 1 { return .perChannel }
            if g.type(of: v).rank == 4, s.channels == 1, s.height == out.height, s.width == out.width { return .perPixel }
            return nil
        }
        if try storage(of: a) != out { swap(&a, &bv) }  // both ops commute: the full-size operand goes first
        guard try storage(of: a) == out, let mode = try broadcast(bv) else {
            return try addFallback(node: i, why: "\(n.op) with a broadcast the elementwise kernel does not cover")
        }
        let spec = ElementwiseSpec(channels: out.channels, height: out.height, width: out.width,
                                   op: n.op == "add" ? .add : .mul, broadcast: mode)
        let o = try newSlot(for: r)
        slotOf[r] = o
        addKernel(try KernelDefinition.elementwise(spec, target: target, name: name), key: spec, slots: [try slot(a), try slot(bv), o], node: i)
    }

    private mutating func planDense(_ i: Int, _ n: Node, _ name: String) throws {
        guard let x = n.operand(0), let r = n.results.first, g.type(of: x).rank == 2 else {
            return try addFallback(node: i, why: "dense on a tensor of rank other than 2")
        }
        // The generated dense adds a packed constant bias; a computed one (an activation) runs
        // on the reference kernel, which adds it as the interpreter does.
        if let b = n.operand(2), !g[b].isWeight {
            return try addFallback(node: i, why: "its bias %\(g[b].name) is computed, not a weight")
        }
        let w = try weightTensor(n)
        let bias = try n.operand(2).map { try requireWeight($0, n, "bias").data }
        let s = try storage(of: x)
        guard w.rank == 2 else { throw PlanError("dense %\(nodeName(n)): the weight must be 2-D, got \(describeShape(w.shape))") }
        // An activation that is the dense's only reader runs in the dense's epilogue.
        var activation = Activation.none
        var result = r
        if users[r.raw].count == 1, !g.outputs.contains(r), let u = users[r.raw].first,
           let act = Activation(rawValue: g.nodes[u].op), act != .none, let ur = g.nodes[u].results.first {
            activation = act
            result = ur
            absorbed.insert(u)
        }
        let out = try newSlot(for: result)
        slotOf[result] = out
        let format = weightFormat(n)
        let d = try KernelDefinition.dense(inFeatures: s.channels, outFeatures: w.shape[0], weight: packWeights ? w : nil, bias: bias,
                                           activation: activation, weights: format, target: target, name: name)
        addKernel(d, key: "dense \(s.channels)→\(w.shape[0]) \(activation.rawValue) \(format.rawValue)", slots: [try slot(x), out], node: i)
    }

    /// A conv2d's or dense's weight as its f32 kernel multiplies it: weight-only int8 codes
    /// (`Node.hasWeightOnlyInt8`) become code · scale.
    private func weightTensor(_ n: Node) throws -> Tensor {
        let w = try requireWeight(n.operand(1), n, "weight")
        guard n.hasWeightOnlyInt8 else { return w }
        let s = try requireWeight(OpRegistry.decl(n.op)?.operandIndex("weight_scale").flatMap { n.operand($0) }, n, "weight scale")
        guard s.count == w.shape[0] else { throw PlanError("\(n.op) %\(nodeName(n)): \(s.count) weight scales for \(w.shape[0]) output rows") }
        return QuantizationMath.dequantize(codes: w, rowScales: s)
    }

    /// bf16 ops (the `quantize` pass) keep their weights as bf16 in the plan.
    private func weightFormat(_ n: Node) -> WeightFormat {
        n.attributes.string("precision") == Precision.bf16.rawValue ? .bf16 : .f32
    }

    private mutating func planConv(_ i: Int, _ n: Node, _ name: String) throws {
        guard let x = n.operand(0), let y = n.results.first else { throw PlanError("conv2d without an operand") }
        let s = try storage(of: x), o = try storage(of: y)
        let act = n.attributes.string("activation") ?? "none"
        guard let activation = Activation(rawValue: act) else { return try addFallback(node: i, why: "activation \(act)") }
        let residual = n.operand(7)
        if let residual, try storage(of: residual) != o || g[residual].isWeight {
            return try addFallback(node: i, why: "a broadcast residual")
        }
        let pool = n.attributes.string("pool") == "avgmax"
        let spec = Conv2DSpec(inChannels: s.channels, height: s.height, width: s.width, outChannels: o.channels,
                              kernel: n.attributes.ints("kernel") ?? [1, 1], stride: n.attributes.ints("stride") ?? [1, 1],
                              padding: n.attributes.ints("padding") ?? [0, 0], dilation: n.attributes.ints("dilation") ?? [1, 1],
                              groups: n.attributes.int("groups") ?? 1, activation: activation, residual: residual != nil, pool: pool,
                              weights: weightFormat(n))
        var bn: ConvWeights.BatchNorm?
        if n.operand(3) != nil {
            bn = ConvWeights.BatchNorm(gamma: try requireWeight(n.operand(3), n, "bn_weight").data,
                                       beta: try requireWeight(n.operand(4), n, "bn_bias").data,
                                       mean: try requireWeight(n.operand(5), n, "bn_mean").data,
                                       variance: try requireWeight(n.operand(6), n, "bn_var").data,
                                       eps: n.attributes.double("eps") ?? 1e-5)
        }
        let cw = ConvWeights(weight: try weightTensor(n),
                             bias: n.operand(2) != nil ? try requireWeight(n.operand(2), n, "bias").data : nil, batchNorm: bn)
        var used = [try slot(x)]
        if let residual { used.append(try slot(residual)) }
        for r in n.results {
            let rs = try newSlot(for: r)
            slotOf[r] = rs
            used.append(rs)
        }
        if backend == .blas && spec.groups == 1 {
            let conv = try BLASConvolution(spec: spec, weights: cw, lanes: lanes)
            steps.append(KernelPlan.Step(action: .blas(conv), slots: used, node: nodeName(n),
                                         summary: spec.description + " (im2col+sgemm)", flopsPerSample: spec.flopsPerSample, params: []))
        } else if WinogradSpec.applies(to: spec, target: target) {
            // Input transform → 16 products → output transform, through two scratch slots.
            let w = WinogradSpec(spec, lanes: lanes)
            let ks = try KernelDefinition.winograd(spec, weights: packWeights ? cw : nil, target: target, name: name)
            let v = scratch("\(nodeName(n)).winograd_v", BlockedStorage(channels: 8 * spec.inChannels, height: w.tileRows, width: w.tileCols, lanes: lanes))
            let m = scratch("\(nodeName(n)).winograd_m", BlockedStorage(channels: 16 * spec.outChannels, height: w.tileRows, width: w.tileCols, lanes: lanes))
            for (k, slots) in zip(ks, [[used[0], v], [v, m], [m, used[1]]]) {
                addKernel(k, key: [AnyHashable(k.kind), AnyHashable(spec)], slots: slots, node: i)
            }
        } else {
            addKernel(try KernelDefinition.conv2d(spec, weights: packWeights ? cw : nil, target: target, name: name), key: spec, slots: used, node: i)
        }
    }
}
