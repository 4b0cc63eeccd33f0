internal import CLLVM
import Foundation

/// Turns kernel definitions into machine code for one target: LLVM modules verified, optimized
/// for the target's CPU, emitted as object files (served from the `ObjectCache` when the same
/// module was compiled before) and, for the host, linked by ORC LLJIT into callable kernels.
///
/// Kernels that differ only in name and packed constants share one function (weights are
/// arguments), and `compile` builds the distinct ones in several modules in parallel.
public final class KernelCompiler {
    /// The optimization pipeline: promote the generators' stack slots to registers, simplify,
    /// hoist loop invariants, rotate loops. The generators already vectorize and unroll, so
    /// `default<O3>` would spend 2–3× the time for the same code.
    public static let defaultPipeline =
        "function(sroa,early-cse,simplifycfg,instcombine,loop(loop-rotate),loop-mssa(licm),loop(indvars),gvn,instcombine,simplifycfg)"

    public let target: TargetDescription
    public let cache: ObjectCache?
    public let pipeline: String
    /// Modules compiled at once by `compile` (default: the active processors, at most 4).
    public var parallelism: Int

    public init(target: TargetDescription = .host, cache: ObjectCache? = .standard, pipeline: String = KernelCompiler.defaultPipeline) {
        self.target = target
        self.cache = cache
        self.pipeline = pipeline
        parallelism = max(1, min(4, ProcessInfo.processInfo.activeProcessorCount))
    }

    /// What the last `objectCode`/`compile` call did, for reports: `hit`, `miss`, `rebuilt (reason)`
    /// (several modules: their outcomes joined by `, `).
    public private(set) var lastCacheOutcome = "none"

    var builder: ObjectBuilder { ObjectBuilder(target: target, cache: cache, pipeline: pipeline) }

    /// The module's LLVM IR, before or after optimization (`--emit-llvm`).
    public func llvmIR(_ kernels: [KernelDefinition], optimized: Bool = true) throws -> String {
        let (m, machine, _) = try builder.makeModule(kernels)
        if optimized { try machine.optimize(m, pipeline: pipeline) }
        return m.text
    }

    /// Assembly for the target (the debug ladder's last rung).
    public func assembly(_ kernels: [KernelDefinition]) throws -> String {
        let (m, machine, _) = try builder.makeModule(kernels)
        try machine.optimize(m, pipeline: pipeline)
        return String(decoding: try machine.emit(m, .assembly), as: UTF8.self)
    }

    /// One object file for all the kernels (for export), from the cache when possible.
    public func objectCode(_ kernels: [KernelDefinition]) throws -> (bytes: [UInt8], fromCache: Bool) {
        let r = try builder.object(kernels)
        lastCacheOutcome = r.outcome
        return (r.bytes, r.fromCache)
    }

    /// Compiles and links the kernels into this process.
    public func compile(_ kernels: [KernelDefinition]) throws -> CompiledModule {
        guard target.runsOnHost else {
            throw CodegenError(.jit, "target '\(target.name)' (\(target.triple)) cannot run on this \(TargetDescription.host.architecture) host; emit an object file instead")
        }
        try ObjectBuilder.checkNames(kernels, target: target)
        // Distinct bodies, each compiled once under the name of its first kernel.
        var symbolOf: [String: String] = [:]
        var unique: [KernelDefinition] = []
        let symbols = kernels.map { k -> String in
            let s = ObjectBuilder.signature(k)
            if let shared = symbolOf[s] { return shared }
            symbolOf[s] = k.name
            unique.append(k)
            return k.name
        }
        let chunks = min(parallelism, unique.count)
        let parts = (0..<chunks).map { c in stride(from: c, to: unique.count, by: chunks).map { unique[$0] } }
        let results = Results(count: parts.count)
        let builder = self.builder
        DispatchQueue.concurrentPerform(iterations: parts.count) { i in
            results.set(i, Result { try builder.object(parts[i]) })
        }
        let linker = try JITLinker()
        var outcomes: [String] = [], size = 0, allCached = true
        for (i, r) in results.values.enumerated() {
            guard let r else { continue }
            let o = try r.get()
            try linker.addObject(o.bytes, name: "qemlc-kernels-\(i)")
            outcomes.append(o.outcome)
            size += o.bytes.count
            allCached = allCached && o.fromCache
        }
        lastCacheOutcome = Set(outcomes).count == 1 ? outcomes[0] : outcomes.joined(separator: ", ")
        var compiled: [CompiledKernel] = []
        for (k, symbol) in zip(kernels, symbols) {
            compiled.append(CompiledKernel(definition: k, address: try linker.address(of: symbol), owner: linker))
        }
        return CompiledModule(kernels: compiled, fromCache: allCached && !kernels.isEmpty, objectSize: size)
    }
}

/// Per-chunk results filled from several threads.
private final class Results: @unchecked Sendable {
    private let lock = NSLock()
    private(set) var values: [Result<ObjectBuilder.Output, Error>?]
    init(count: Int) { values = Array(repeating: nil, count: count) }
    func set(_ i: Int, _ r: Result<ObjectBuilder.Output, Error>) {
        lock.lock()
        values[i] = r
        lock.unlock()
    }
}

/// Builds one module's object file; a value type so chunks compile on several threads (each
/// with its own LLVM context and target machine).
struct ObjectBuilder: Sendable {
    let target: TargetDescription
    let cache: ObjectCache?
    let pipeline: String

    struct Output: Sendable {
        var bytes: [UInt8]
        var fromCache: Bool
        var outcome: String
    }

    /// What makes two kernels' code identical: their kind and generation plan (not name or weights).
    static func signature(_ k: KernelDefinition) -> String { k.kind + "|" + String(reflecting: k.body) }

    static func checkNames(_ kernels: [KernelDefinition], target: TargetDescription) throws {
        var seen = Set<String>()
        for k in kernels {
            guard seen.insert(k.name).inserted else {
                throw CodegenError(.kernel, "two kernels are named '\(k.name)'; kernel names must be unique in a module")
            }
            guard k.lanes == target.vectorWidth else {
                throw CodegenError(.kernel, "kernel '\(k.name)' was generated for \(k.lanes)-lane vectors but target '\(target.name)' has \(target.vectorWidth)")
            }
        }
    }

    /// One module with a function per distinct kernel body; returns each kernel's symbol.
    func makeModule(_ kernels: [KernelDefinition]) throws -> (IRModule, TargetMachine, symbols: [String]) {
        try ObjectBuilder.checkNames(kernels, target: target)
        let machine = try TargetMachine(triple: target.triple, cpu: target.cpu, features: target.features)
        let m = IRModule(name: "qemlc")
        var bySignature: [String: String] = [:]
        var symbols: [String] = []
        for k in kernels {
            let signature = ObjectBuilder.signature(k)
            if let shared = bySignature[signature] {
                symbols.append(shared)
            } else {
                bySignature[signature] = k.name
                symbols.append(k.name)
                emit(k, into: m)
            }
        }
        machine.configure(m)
        try m.verify()
        return (m, machine, symbols)
    }

    /// Declares the ABI function and generates its body.
    private func emit(_ k: KernelDefinition, into m: IRModule) {
        let pf = m.pointer(to: m.f32)
        let type = m.functionType(m.void, [m.pointer(to: pf), pf, m.i64, m.i64])
        let f = m.addFunction(k.name, type)
        m.addAttribute(f, enumNamed: "nounwind", index: UInt32(bitPattern: Int32(LLVMAttributeFunctionIndex)))
        m.addAttribute(f, enumNamed: "noalias", index: 2)
        m.addAttribute(f, enumNamed: "readonly", index: 2)
        let b = IRBuilder(m, function: f)
        let l = target.vectorWidth
        switch k.body {
        case .conv2d(let plan): ConvGenerator(plan, b).emit()
        case .layout(let s): LayoutGenerator(s: s, b: b).emit()
        case .pool(let s): PoolGenerator(s: s, b: b, l: l).emit()
        case .globalPool(let s): GlobalPoolGenerator(s: s, b: b, l: l).emit()
        case .channelReduce(let s): ChannelReduceGenerator(s: s, b: b, l: l).emit()
        case .elementwise(let s): ElementwiseGenerator(s: s, b: b, l: l).emit()
        case .dense(let s): DenseGenerator(s: s, b: b).emit()
        case .softmax(let s): SoftmaxGenerator(s: s, b: b).emit()
        case .cbamGate(let s): CBAMGateGenerator(s: s, b: b).emit()
        case .cbamReduce(let s): CBAMReduceGenerator(s: s, b: b).emit()
        case .cbamApply(let s): CBAMApplyGenerator(a: s, b: b).emit()
        case .foldedCircuit(let s): FoldedCircuitGenerator(s: s, b: b).emit()
        case .fmaProbe(let s): FMAProbeGenerator(s: s, b: b).emit()
        case .quantize(let s): QuantizeGenerator(s: s, b: b).emit()
        case .winogradInput(let s): WinogradInputGenerator(s: s, b: b).emit()
        case .winogradGEMM(let s): WinogradGEMMGenerator(s: s, b: b).emit()
        case .winogradOutput(let s): WinogradOutputGenerator(s: s, b: b).emit()
        }
    }

    /// The cache key of a module built from IR: the unoptimized IR, the target, the pipeline
    /// and the LLVM version.
    func cacheKey(irText: String) -> String {
        var h = ContentHash()
        h.update("qemlc-object-v1")
        h.update(LLVMSupport.version)
        h.update(target.text)
        h.update(pipeline)
        h.update(irText)
        return h.hex
    }

    /// The cache key of the kernels' module without generating it (a cached compile skips IR
    /// generation too): each kernel's name and generation plan (`signature`), the target, the
    /// pipeline and the compiler build (which stands for the generators' code).
    func cacheKey(kernels: [KernelDefinition]) -> String {
        var h = ContentHash()
        h.update("qemlc-object-kernels-v1")
        h.update(CacheFolder.compilerBuild)
        h.update(target.text)
        h.update(pipeline)
        for k in kernels {
            h.update(k.name)
            h.update(ObjectBuilder.signature(k))
        }
        return h.hex
    }

    func object(_ kernels: [KernelDefinition]) throws -> Output {
        try ObjectBuilder.checkNames(kernels, target: target)
        let key = cacheKey(kernels: kernels)
        return try cached(key) {
            let (m, machine, _) = try makeModule(kernels)
            return (m, machine)
        }
    }

    /// A configured, verified module optimized and emitted, or its object from the cache.
    func object(_ m: IRModule, _ machine: TargetMachine) throws -> Output {
        try cached(cacheKey(irText: m.text)) { (m, machine) }
    }

    /// The object under `key` from the cache, else `module()` optimized, emitted and stored.
    private func cached(_ key: String, module: () throws -> (IRModule, TargetMachine)) throws -> Output {
        var outcome = "miss"
        if let cache {
            switch cache.lookup(key) {
            case .hit(let bytes): return Output(bytes: bytes, fromCache: true, outcome: "hit")
            case .miss: break
            case .corrupt(let why): outcome = "rebuilt (\(why))"
            }
        }
        let (m, machine) = try module()
        try machine.optimize(m, pipeline: pipeline)
        let bytes = try machine.emit(m, .object)
        if let cache {
            do { try cache.store(key, bytes) } catch { outcome += ", not stored: \(error)" }
        } else {
            outcome = "disabled"
        }
        return Output(bytes: bytes, fromCache: false, outcome: outcome)
    }
}

/// Kernels linked into this process, alive as long as this value (or any of its kernels).
public final class CompiledModule: @unchecked Sendable {
    public let kernels: [CompiledKernel]
    public let fromCache: Bool
    public let objectSize: Int

    init(kernels: [CompiledKernel], fromCache: Bool, objectSize: Int) {
        self.kernels = kernels
        self.fromCache = fromCache
        self.objectSize = objectSize
    }

    public subscript(name: String) -> CompiledKernel? { kernels.first { $0.name == name } }
}
