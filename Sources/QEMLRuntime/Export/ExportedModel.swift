import Foundation
import QEMLCodegen
import QEMLIR
import QEMLPasses
import QEMLSignal
import QEMLTensor

/// A model prepared for the edge runtime: the executor's kernel plan for one target (the same
/// kernels, arena layout, packed weights and circuit schedule the JIT runs), flattened into the
/// tables the fixed C runtime reads — one entry per step with constant arena offsets, the weight
/// blocks in file order, the circuits' schedules, the front end's constants.
///
/// The kernels become one object file (LLVM, specialised for the target). Everything around
/// them — the step driver, the weights loader, the front end, the circuit evaluator, `main.c` —
/// is fixed C in `Export/C/`, copied byte for byte into the bundle (`CRuntimeFiles`); only
/// `<model>.h` (constants and prefix) and `<model>_runtime.c` (tables) are generated. C rather
/// than LLVM IR for that part: it is a handful of loops run once per inference, and as readable
/// C the user can audit it, step through it in a debugger and build it for any board with
/// nothing but `cc`.
public struct ExportedModel {
    /// The file stem (`qemlnet-tiny`) and the C prefix (`qemlnet_tiny`).
    public let stem: String
    public let prefix: String
    public let graph: Graph
    public let plan: KernelPlan
    /// What the model computes in (`Precision.summary` of the pipeline's graph).
    public internal(set) var precision = "f32"
    public let target: TargetDescription
    public let frontEnd: FrontEnd?
    /// Samples between two classified windows of the streaming API (default: a quarter window).
    public var streamHop: Int
    let steps: [Step]
    /// Packed weight blocks in file order (each starts 64-byte aligned in the payload).
    let blocks: [WeightBlock]
    /// The class output (probabilities) and every output, in plain NCHW per sample.
    let outputs: [Output]
    let input: Input
    /// Identifies the model's structure and the target: a weights file packed for another
    /// model (or target) is refused. Weights retrained for the same structure keep it.
    public let modelHash: UInt64

    /// One step of the plan as the C driver runs it.
    struct Step {
        enum Action {
            /// Generated kernel `definition` (an index into the plan's definitions) over items `0..<items` (batch 1).
            case kernel(definition: Int, items: Int)
            case circuit(CircuitTables)
        }
        var action: Action
        /// Arena offsets (floats) of the step's buffers, in the kernel's buffer order.
        var offsets: [Int]
        /// The weight block of the step's packed params (kernels), or of the circuit's numbers.
        var block: Int?
        var comment: String
    }

    struct Input {
        var name: String
        var offset: Int
        var storage: BlockedStorage
    }

    struct Output {
        var name: String
        var offset: Int
        var storage: BlockedStorage
        /// Plain floats per sample.
        var count: Int { storage.plainPerSample }
    }

    /// The output read as class probabilities (its width is the label count), as `qemlc run` picks it.
    let classOutput: Int

    public init(graph: Graph, weights: [String: Tensor], target: TargetDescription, stem: String) throws {
        let passes = try PassManager().run(graph, context: PassContext(vectorWidth: target.vectorWidth, l1Bytes: target.l1Bytes, weights: weights))
        let plan = try KernelPlan(graph: passes.graph, weights: weights, target: target, backend: .jit, circuitPlans: passes.circuitPlans, int8: passes.int8)
        try self.init(graph: graph, plan: plan, stem: stem)
        precision = Precision.summary(passes.graph)
    }

    init(graph: Graph, plan: KernelPlan, stem: String) throws {
        self.graph = graph
        self.plan = plan
        self.target = plan.target
        self.stem = stem
        prefix = ExportedModel.cIdentifier(stem)
        if let f = plan.fixedBatch, f != 1 {
            throw ExportError("the model fixes the batch to \(f); the exported runtime classifies one signal at a time",
                              fix: "declare the input with batch 1 or a symbolic batch (f32[N,...])")
        }
        guard plan.inputs.count == 1, let port = plan.inputs.first else {
            throw ExportError("the model has \(plural(plan.inputs.count, "input")); the exported runtime feeds exactly one (the spectrogram)",
                              fix: "give the model one input")
        }
        let offsets = plan.layout.offsets
        input = Input(name: port.name, offset: offsets[port.slot], storage: plan.slots[port.slot].storage)
        outputs = plan.outputs.map { Output(name: $0.name, offset: offsets[$0.slot], storage: plan.slots[$0.slot].storage) }
        let labelCount = graph.labels.count
        classOutput = outputs.firstIndex { $0.count == labelCount && labelCount > 0 } ?? 0
        if outputs.isEmpty { throw ExportError("the model has no outputs", fix: "add an `output` line") }

        var steps: [Step] = []
        var blocks: [WeightBlock] = []
        for s in plan.steps {
            let stepOffsets = s.slots.map { offsets[$0] }
            switch s.action {
            case .kernel(let k):
                let d = plan.definitions[k]
                guard stepOffsets.count <= Self.maximumBuffers else {
                    throw ExportError("kernel \(d.name) takes \(stepOffsets.count) buffers; the exported runtime passes at most \(Self.maximumBuffers)")
                }
                let params = s.params
                var block: Int?
                if !params.isEmpty { blocks.append(WeightBlock(floats: params)); block = blocks.count - 1 }
                steps.append(Step(action: .kernel(definition: k, items: d.itemsPerSample),
                                  offsets: stepOffsets, block: block, comment: "\(s.node): \(s.summary)"))
            case .circuit(let evaluation, _):
                let c = try CircuitTables(evaluation, target: plan.target)
                blocks.append(c.block)
                let stages = c.schedule.stages.count
                steps.append(Step(action: .circuit(c), offsets: stepOffsets, block: blocks.count - 1,
                                  comment: "\(s.node): circuit, \(c.qubits) qubits, \(plural(evaluation.gates, "gate")): \(evaluation.plan.name), "
                                      + "state vector, \(plural(c.schedule.opCount, "op")) in \(plural(stages, "stage"))"))
            case .fallback(let f):
                let why = s.reason.map { " (\($0))" } ?? ""
                throw ExportError("\(f.node.op) %\(s.node) has no generated kernel\(why); the JIT runs it on the reference interpreter, so it cannot be exported",
                                  fix: "the exported runtime supports generated kernels and circuits; rewrite the node with supported ops")
            case .blas:
                throw ExportError("the plan uses the BLAS backend", fix: "export plans with the jit backend")
            }
        }
        self.steps = steps
        self.blocks = blocks

        if let spec = graph.frontend {
            let fe = try FrontEnd(spec: spec)
            try CFrontEnd.check(fe, input: input.storage)
            frontEnd = fe
        } else {
            frontEnd = nil
        }
        streamHop = frontEnd.map { StreamWindow.defaultHop(length: $0.length ?? 4, stftHop: $0.stft.hop) } ?? 1

        var h = FNV64()
        h.update("qemlc export v\(WeightsImage.formatVersion)")
        h.update(graph.name)
        h.update(target.text)
        h.update("arena \(plan.layout.floatsPerSample)")
        for s in steps {
            switch s.action {
            case .kernel(let k, let items): h.update("k \(plan.definitions[k].name) \(items)")
            case .circuit(let c): h.update("c \(c.signature)")
            }
            h.update(s.offsets.map(String.init).joined(separator: ","))
        }
        for b in blocks { h.update("b \(b.bytes.count)") }
        modelHash = h.value
    }

    /// `QEML_MAX_BUFFERS` in `C/qeml_tables.h`.
    static let maximumBuffers = 16

    public var arenaBytes: Int { plan.arenaBytesPerSample }
    public var weightsBytes: Int { WeightsImage.fileBytes(blocks) }
    public var modelHashHex: String { String(format: "%016llx", modelHash) }

    /// The kernel definitions under their exported symbol names (`<prefix>_<kernel>`), so two
    /// exported models link into one program.
    public var kernelDefinitions: [KernelDefinition] {
        plan.definitions.map { d in
            var e = d
            e.name = prefix + "_" + d.name
            return e
        }
    }

    /// `qemlnet-tiny` → `qemlnet_tiny` (a valid C identifier).
    static func cIdentifier(_ s: String) -> String {
        var out = String(s.map { $0.isASCII && ($0.isLetter || $0.isNumber) ? $0 : "_" })
        if out.first.map({ $0.isNumber }) ?? true { out = "m_" + out }
        return out.lowercased()
    }
}

/// An export that cannot be made: what is wrong and how to fix it.
public struct ExportError: ExplainedError, Sendable {
    public var message: String
    public var fix: String?
    public init(_ message: String, fix: String? = nil) {
        self.message = message
        self.fix = fix
    }
    public var description: String { explanation }
}

/// 64-bit FNV-1a: the model hash and the weights checksum (the C loader computes the same).
struct FNV64 {
    private(set) var value: UInt64 = 0xcbf2_9ce4_8422_2325

    mutating func update<S: Sequence>(_ bytes: S) where S.Element == UInt8 {
        for b in bytes { value = (value ^ UInt64(b)) &* 0x0000_0100_0000_01b3 }
    }

    mutating func update(_ s: String) {
        update(s.utf8)
        update([0])
    }
}
