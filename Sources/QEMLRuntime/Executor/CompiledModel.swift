import Foundation
import QEMLCodegen
import QEMLIR
import QEMLPasses
import QEMLQuantum
import QEMLTensor

/// How to compile a model.
public struct CompileOptions: Sendable {
    public var target: TargetDescription
    public var backend: ConvBackend
    /// Worker threads for a run (the caller's thread counts as one); default: every core.
    public var threads: Int
    public var cache: ObjectCache?

    public init(target: TargetDescription = .host, backend: ConvBackend = .jit,
                threads: Int = ProcessInfo.processInfo.activeProcessorCount, cache: ObjectCache? = .standard) {
        self.target = target
        self.backend = backend
        self.threads = threads
        self.cache = cache
    }
}

/// A model compiled for this machine: the pass pipeline's graph, the kernel plan, the linked
/// kernels and a thread pool. `run` executes the plan over one preallocated arena per batch
/// size (created on first use, then reused). Generated-kernel and BLAS steps allocate nothing
/// while they run; what does allocate per inference: the output tensors `run` returns, a
/// circuit step's row buffers (and the state vector of the Swift evaluator), and every node on
/// the reference interpreter (its operands and results as tensors). Not thread-safe: one run at a time.
public final class CompiledModel {
    /// The plan (its steps' packed weights moved into `weights`, or mapped from the cache).
    public let plan: KernelPlan
    public let passes: PassManager.Result
    public let options: CompileOptions
    /// Whether the object code came from the on-disk cache, and how compiling went.
    public let fromCache: Bool
    public let cacheOutcome: String
    /// Whether the packed weights came from the cache: `hit`, `miss`, `rebuilt (why)` or `disabled`.
    public let packedWeightsOutcome: String
    public let timings: Timings
    let kernels: [CompiledKernel]
    private let module: CompiledModule
    /// Bytes of linked object code.
    public var objectSize: Int { module.objectSize }
    private let pool: ThreadPool
    private let launch = KernelLaunch()
    /// Every step's packed weights, each 64-byte aligned, in one allocation.
    private let weights: PackedWeights
    private var arenas: [Int: Arena] = [:]

    public var threads: Int { pool.threads }

    /// Seconds per compile phase, for `qemlc compile`.
    public struct Timings: Sendable {
        public var passes = 0.0, planning = 0.0, codegen = 0.0
        public init() {}

        /// Times phases one after another: each `lap()` is the seconds since the previous one.
        struct Clock {
            private var last = DispatchTime.now().uptimeNanoseconds
            mutating func lap() -> Double {
                let now = DispatchTime.now().uptimeNanoseconds
                defer { last = now }
                return Double(now - last) / 1e9
            }
        }
        public var total: Double { passes + planning + codegen }
    }

    /// Runs the pass pipeline on `graph` (as parsed), plans kernels (packing the weights) and
    /// JIT-compiles them. `progress` hears the name of each phase as it starts.
    public static func compile(_ graph: Graph, weights: [String: Tensor], options: CompileOptions = CompileOptions(),
                               progress: ((String) -> Void)? = nil) throws -> CompiledModel {
        var timings = Timings()
        var clock = Timings.Clock()
        progress?("passes")
        let passes = try PassManager().run(graph, context: PassContext(vectorWidth: options.target.vectorWidth, l1Bytes: options.target.l1Bytes,
                                                                      weights: weights))
        timings.passes = clock.lap()
        progress?("kernel plan, weight packing")
        // Packed weights come from the cache beside the objects when this model, these weights
        // and this target were compiled before; else they are packed now and stored.
        let packedCache = options.backend == .jit ? options.cache.map { PackedWeightsCache(folder: $0.folder) } : nil
        let key = packedCache.map { _ in PackedWeightsCache.key(graph: passes.graph, weights: weights, target: options.target, backend: options.backend) }
        var plan = try KernelPlan(graph: passes.graph, weights: weights, target: options.target, backend: options.backend,
                                  circuitPlans: passes.circuitPlans, int8: passes.int8, packWeights: packedCache == nil)
        var packed: PackedWeights?
        var packedOutcome = "disabled"
        if let packedCache, let key {
            switch packedCache.lookup(key, blobCount: plan.steps.count) {
            case .hit(let w): packed = w; packedOutcome = "hit"
            case .miss: packedOutcome = "miss"
            case .corrupt(let why): packedOutcome = "rebuilt (\(why))"
            }
            if packed == nil {
                plan = try KernelPlan(graph: passes.graph, weights: weights, target: options.target, backend: options.backend,
                                      circuitPlans: passes.circuitPlans, int8: passes.int8)
                let w = PackedWeights(plan.steps.map(\.params))
                do { try packedCache.store(key, w) } catch { packedOutcome += ", not stored: \(error)" }
                packed = w
            }
        }
        timings.planning = clock.lap()
        progress?("LLVM: \(plural(plan.definitions.count, "kernel"))")
        let compiler = KernelCompiler(target: options.target, cache: options.cache)
        let module = try compiler.compile(plan.definitions)
        try plan.compileStateVectors(cache: options.cache)
        timings.codegen = clock.lap()
        DebugLadder.show(1, String(format: "qemlc: compiled %@ for %@ (%@): passes %.0f ms, planning %.0f ms, LLVM %.0f ms; object cache: %@; packed weights: %@",
                                   graph.name, options.target.name, options.target.cpu, timings.passes * 1e3, timings.planning * 1e3,
                                   timings.codegen * 1e3, plan.definitions.isEmpty ? "no generated kernels" : compiler.lastCacheOutcome, packedOutcome))
        if DebugLadder.level >= 3 {
            DebugLadder.show(3, plan.stepInfo.enumerated().map { "qemlc: step \($0.offset) %\($0.element.node): \($0.element.kind): \($0.element.summary)" }
                .joined(separator: "\n"))
        }
        // Levels 4 and 5: the code of the model's kernels, then of each state-vector circuit.
        let code: [(level: Int, kernels: () throws -> String, circuit: (StateVectorSchedule) throws -> String)] = [
            (4, { try compiler.llvmIR(plan.definitions) }, { try CompiledStateVector.llvmIR($0, target: options.target) }),
            (5, { try compiler.assembly(plan.definitions) }, { try CompiledStateVector.assembly($0, target: options.target) }),
        ]
        for c in code where DebugLadder.level >= c.level {
            var parts = [try c.kernels()]
            for s in plan.stateVectorSchedules { parts.append(try c.circuit(s)) }
            let text = parts.joined(separator: "\n")
            DebugLadder.show(c.level, text)
        }
        return CompiledModel(plan: plan, passes: passes, options: options, module: module, weights: packed ?? PackedWeights(plan.steps.map(\.params)),
                             cacheOutcome: compiler.lastCacheOutcome, packedWeightsOutcome: packedOutcome, timings: timings)
    }

    init(plan: KernelPlan, passes: PassManager.Result, options: CompileOptions, module: CompiledModule, weights: PackedWeights,
         cacheOutcome: String, packedWeightsOutcome: String, timings: Timings) {
        self.weights = weights
        self.packedWeightsOutcome = packedWeightsOutcome
        var light = plan
        for i in light.steps.indices { light.steps[i].params = [] }
        self.plan = light
        self.passes = passes
        self.options = options
        self.module = module
        kernels = plan.definitions.map { d in module[d.name]! }  // the module was compiled from these definitions
        fromCache = module.fromCache
        self.cacheOutcome = cacheOutcome
        self.timings = timings
        pool = ThreadPool(threads: options.threads)
        if options.backend == .blas { OpenBLAS.setThreads(options.threads) }
    }

    /// Runs the model. `inputs` maps graph input names to tensors (every input, same batch);
    /// returns every graph output by name, in plain NCHW.
    public func run(inputs: [String: Tensor]) throws -> [String: Tensor] {
        let arena = try bind(inputs)
        if DebugLadder.level >= 2 {
            var nanoseconds = [UInt64](repeating: 0, count: plan.steps.count)
            try nanoseconds.withUnsafeMutableBufferPointer { try execute(arena, timings: $0.baseAddress) }
            let info = plan.stepInfo
            DebugLadder.show(2, zip(info, nanoseconds).enumerated().map { i, s in
                String(format: "qemlc: run batch %d step %d %%%@ (%@): %.3f ms", arena.batch, i, s.0.node, s.0.kind, Double(s.1) / 1e6)
            }.joined(separator: "\n"))
        } else {
            try execute(arena, timings: nil)
        }
        return outputs(of: arena)
    }

    /// Binds the inputs into the arena for their batch size (created on first use).
    func bind(_ inputs: [String: Tensor]) throws -> Arena {
        var batch: Int?
        for port in plan.inputs {
            guard let t = inputs[port.name] else {
                throw PlanError("input '\(port.name)' (\(port.type)) was not given")
            }
            let perSample = port.type.dims.dropFirst().compactMap(\.value)
            guard t.rank == port.type.rank, Array(t.shape.dropFirst()) == perSample, let n = t.shape.first, n > 0 else {
                throw PlanError("input '\(port.name)' has shape \(describeShape(t.shape)) but the model declares \(port.type)")
            }
            if let b = batch, b != n { throw PlanError("input '\(port.name)' has batch \(n), an earlier input \(b); every input must have the same batch size") }
            if let f = plan.fixedBatch, f != n { throw PlanError("input '\(port.name)' has batch \(n) but the model fixes it to \(f)") }
            batch = n
        }
        for name in inputs.keys where !plan.inputs.contains(where: { $0.name == name }) {
            throw PlanError("the model has no input named '\(name)' (its inputs: \(plan.inputs.map(\.name).joined(separator: ", ")))")
        }
        let arena = self.arena(batch: batch ?? plan.fixedBatch ?? 1)
        for port in plan.inputs {
            guard let t = inputs[port.name] else { continue }
            let storage = plan.slots[port.slot].storage
            t.data.withUnsafeBufferPointer { p in
                if let base = p.baseAddress { storage.block(base, into: arena.pointer(slot: port.slot), batch: arena.batch) }
            }
        }
        return arena
    }

    /// The arena for `batch` samples.
    func arena(batch: Int) -> Arena {
        if let a = arenas[batch] { return a }
        let a = Arena(plan: plan, batch: batch)
        arenas[batch] = a
        return a
    }

    func outputs(of arena: Arena) -> [String: Tensor] {
        var out: [String: Tensor] = [:]
        for port in plan.outputs {
            let storage = plan.slots[port.slot].storage
            var t = Tensor(zeros: [arena.batch] + port.type.dims.dropFirst().compactMap(\.value))
            t.data.withUnsafeMutableBufferPointer { p in
                if let base = p.baseAddress { storage.unblock(arena.pointer(slot: port.slot), into: base, batch: arena.batch) }
            }
            out[port.name] = t
        }
        return out
    }

    /// Runs every step over the bound arena; with `timings`, adds each step's nanoseconds.
    func execute(_ arena: Arena, timings: UnsafeMutablePointer<UInt64>?) throws {
        for (i, step) in plan.steps.enumerated() {
            let start = timings != nil ? DispatchTime.now().uptimeNanoseconds : 0
            let buffers = arena.buffers(step: i)
            switch step.action {
            case .kernel(let k):
                let kernel = kernels[k]
                launch.entry = kernel.entry
                launch.buffers = buffers
                launch.params = weights.pointer(step: i)
                launch.total = arena.batch * kernel.itemsPerSample
                if launch.total < 2 { launch.run(part: 0, of: 1) } else { pool.run(launch) }
            case .blas(let conv):
                conv.run(buffers, batch: arena.batch, scratch: arena.scratch)
            case .circuit(let e, _):
                e.run(buffers, batch: arena.batch, pool: pool)
            case .fallback(let f):
                try f.run(buffers, batch: arena.batch, pool: pool)
            }
            if let timings { timings[i] += DispatchTime.now().uptimeNanoseconds - start }
        }
    }
}

/// One generated kernel's launch, reused for every step (no allocation per run): its item
/// range is split evenly into the pool's parts.
final class KernelLaunch: ParallelWork, @unchecked Sendable {
    // @unchecked: fields are set by the dispatching thread before `ThreadPool.run`, which
    // publishes them to the workers, and are not changed until every part is done.
    var entry: CompiledKernel.Entry?
    var buffers: UnsafePointer<UnsafeMutablePointer<Float>?>?
    var params: UnsafePointer<Float>?
    var total = 0

    func run(part: Int, of parts: Int) {
        let begin = total * part / parts, end = total * (part + 1) / parts
        if begin < end, let entry { entry(buffers, params, Int64(begin), Int64(end)) }
    }
}

/// The memory of one batch size: the arena (slots at `offset · batch`), the BLAS scratch and,
/// per step, its buffer pointer table.
final class Arena {
    let batch: Int
    private let base: UnsafeMutablePointer<Float>
    private let floats: Int
    let scratch: UnsafeMutablePointer<Float>
    private let scratchFloats: Int
    private let tables: UnsafeMutablePointer<UnsafeMutablePointer<Float>?>
    private let tableStarts: [Int]
    private let tableCount: Int
    private let offsets: [Int]

    init(plan: KernelPlan, batch: Int) {
        self.batch = batch
        floats = max(16, plan.layout.floatsPerSample * batch)
        base = UnsafeMutableRawPointer.allocate(byteCount: floats * 4, alignment: 64).bindMemory(to: Float.self, capacity: floats)
        base.initialize(repeating: 0, count: floats)
        var need = 16
        for s in plan.steps { if case .blas(let c) = s.action { need = max(need, c.scratchFloats) } }
        scratchFloats = need
        scratch = UnsafeMutableRawPointer.allocate(byteCount: need * 4, alignment: 64).bindMemory(to: Float.self, capacity: need)
        scratch.initialize(repeating: 0, count: need)
        offsets = plan.layout.offsets.map { $0 * batch }
        var starts: [Int] = []
        var count = 0
        for s in plan.steps { starts.append(count); count += s.slots.count }
        tableStarts = starts
        tableCount = max(1, count)
        tables = .allocate(capacity: tableCount)
        tables.initialize(repeating: nil, count: tableCount)
        for (i, s) in plan.steps.enumerated() {
            for (j, k) in s.slots.enumerated() { tables[starts[i] + j] = base + offsets[k] }
        }
    }

    deinit {
        base.deinitialize(count: floats)
        UnsafeMutableRawPointer(base).deallocate()
        scratch.deinitialize(count: scratchFloats)
        UnsafeMutableRawPointer(scratch).deallocate()
        tables.deinitialize(count: tableCount)
        tables.deallocate()
    }

    func pointer(slot: Int) -> UnsafeMutablePointer<Float> { base + offsets[slot] }
    func buffers(step: Int) -> UnsafePointer<UnsafeMutablePointer<Float>?> { UnsafePointer(tables + tableStarts[step]) }
}
