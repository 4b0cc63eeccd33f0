import QEMLCodegen
import QEMLPasses
import QEMLIR
import QEMLQuantum
import QEMLTensor

/// Which implementation runs the convolutions.
public enum ConvBackend: String, Sendable, CaseIterable {
    /// The code generator's NCHWc direct convolution (weights packed, BatchNorm folded, fused epilogue).
    case jit
    /// im2col + OpenBLAS `cblas_sgemm` (BatchNorm folded), the library baseline; every other op
    /// runs the same generated kernels as `jit`.
    case blas
}

/// The graph after the pass pipeline, mapped to steps: generated kernels (with weights packed
/// now), BLAS convolutions, or — for a node no generator covers — the reference interpreter's
/// kernel. Buffers are arena slots sized per sample; `ArenaLayout` places them.
public struct KernelPlan: Sendable {
    /// A buffer in the arena: one value (or an alias group), or a kernel's scratch.
    struct Slot: Sendable {
        var name: String
        var storage: BlockedStorage
        /// 4-byte words per sample (floats, or four u8 codes each): the arena's unit.
        var floatsPerSample: Int { storage.wordsPerSample }
    }

    enum Action: Sendable {
        /// `definitions[i]`, run over its work items split across threads.
        case kernel(Int)
        case blas(BLASConvolution)
        /// A circuit on a state vector: the compiled kernel once `compileStateVectors` built it,
        /// else QEMLQuantum's Swift evaluator. `reference` is the node on the reference kernel,
        /// which the export turns into C (it never runs in the executor).
        case circuit(CircuitEvaluation, reference: FallbackStep)
        /// A node no generated kernel covers, on the reference interpreter's kernel (`Step.reason` says why).
        case fallback(FallbackStep)
    }

    struct Step: Sendable {
        var action: Action
        /// The arena slots it reads and writes, in the kernel's buffer order.
        var slots: [Int]
        /// The graph node (first result's name) it implements, for reports.
        var node: String
        var summary: String
        var flopsPerSample: Int
        /// A generated kernel's packed weights (the definitions carry none: several steps may
        /// share one function).
        var params: [Float]
        /// Why a step is not a generated kernel (nil for one).
        var reason: String? = nil
    }

    /// A graph input or output and where it lives.
    public struct Port: Sendable {
        public var name: String
        public var type: TensorType
        var slot: Int
    }

    public let target: TargetDescription
    public let backend: ConvBackend
    /// The distinct generated functions (without weights; see `Step.params`).
    public let definitions: [KernelDefinition]
    var slots: [Slot]
    var steps: [Step]
    public let inputs: [Port]
    public let outputs: [Port]
    /// Nodes that run on the reference interpreter's kernel (no generated kernel), as `op %name`.
    public let fallbacks: [String]
    /// The batch the graph fixes, or nil for a symbolic batch.
    public let fixedBatch: Int?
    let layout: ArenaLayout

    /// Floats one sample of the arena takes, and what one buffer per value would take.
    public var arenaBytesPerSample: Int { layout.floatsPerSample * 4 }
    public var naiveBytesPerSample: Int { layout.naiveFloatsPerSample * 4 }

    /// One row per step: what the kernel does, FLOPs per sample.
    public struct StepInfo: Sendable {
        public var node: String
        public var kind: String
        public var summary: String
        public var flopsPerSample: Int
    }

    public var stepInfo: [StepInfo] {
        steps.map { s in
            let kind: String
            switch s.action {
            case .kernel(let i): kind = definitions[i].kind
            case .blas: kind = "conv2d (blas)"
            case .circuit(let e, _): kind = "circuit (\(e.strategy))"
            case .fallback(let f): kind = "\(f.node.op) (interpreter)"
            }
            return StepInfo(node: s.node, kind: kind, summary: s.summary, flopsPerSample: s.flopsPerSample)
        }
    }

    /// Every step that is not a generated kernel, as `op %node: what runs it (why)`, for `compile`
    /// and `bench` (the compiled state-vector kernel is generated code and is not listed).
    public var stepsNotGenerated: [String] {
        steps.compactMap { s in
            switch s.action {
            case .kernel: return nil
            case .blas: return "conv2d %\(s.node): OpenBLAS im2col + sgemm (--backend blas)"
            case .fallback(let f):
                return "\(f.node.op) %\(s.node): reference interpreter (\(s.reason ?? "no generated kernel"))"
            case .circuit(let e, _):
                if e.compiled != nil { return nil }
                if e.plan.schedule != nil {
                    return "circuit %\(s.node): state-vector kernel not compiled for this target (the export runs it as C)"
                }
                return "circuit %\(s.node): QEMLQuantum's Swift evaluator (\(e.plan.reason))"
            }
        }
    }

    public var totalFlopsPerSample: Int { steps.reduce(0) { $0 + $1.flopsPerSample } }

    /// Lowers `graph` (already through the pass pipeline) to the plan for `target`; `circuitPlans`
    /// are `fuse-quantum`'s (`PassManager.Result.circuitPlans`), made with the same weights, and
    /// `int8` the `quantize` pass's numbers (`PassManager.Result.int8`) for `precision="int8"` nodes.
    /// `packWeights: false` leaves the generated f32/bf16 kernels' `params` empty (packing is the
    /// slow part of planning), for a caller that maps every step's packed weights from `PackedWeightsCache`.
    public init(graph g: Graph, weights: [String: Tensor], target: TargetDescription, backend: ConvBackend = .jit,
                circuitPlans: [String: CircuitPlan] = [:], int8: [String: Int8Params] = [:], packWeights: Bool = true) throws {
        var b = try PlanBuilder(graph: g, weights: weights, target: target, backend: backend, circuitPlans: circuitPlans,
                                int8: int8, packWeights: packWeights)
        try b.build()
        self.target = target
        self.backend = backend
        definitions = b.definitions
        slots = b.slots
        steps = b.steps
        inputs = g.inputs.map { Port(name: g[$0].name, type: g.type(of: $0), slot: b.slotOf[$0] ?? 0) }
        outputs = g.outputs.map { Port(name: g[$0].name, type: g.type(of: $0), slot: b.slotOf[$0] ?? 0) }
        fallbacks = b.fallbacks
        fixedBatch = b.fixedBatch
        layout = ArenaLayout(slots: slots, steps: steps, inputs: inputs.map(\.slot), outputs: outputs.map(\.slot))
    }
}

/// Errors in planning are the model's or the weights' (never a crash).
public struct PlanError: ExplainedError, Sendable {
    public var message: String
    public var fix: String? { nil }
    init(_ message: String) { self.message = message }
    public var description: String { explanation }
}
