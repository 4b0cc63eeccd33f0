internal import CLLVM
import Foundation

/// Turns kernel definitions into machine code for one target: one LLVM module per call,
/// verified, optimized with `default<O3>` for the target's CPU, emitted as an object file
/// (served from the `ObjectCache` when the same module was compiled before) and, for the host,
/// linked by ORC LLJIT into callable kernels.
public final class KernelCompiler {
    public let target: TargetDescription
    public let cache: ObjectCache?
    public let pipeline: String

    public init(target: TargetDescription = .host, cache: ObjectCache? = .standard, pipeline: String = "default<O3>") {
        self.target = target
        self.cache = cache
        self.pipeline = pipeline
    }

    /// What the last `objectCode` call did, for reports: `hit`, `miss`, `rebuilt (reason)`.
    public private(set) var lastCacheOutcome = "none"

    // MARK: IR

    func makeModule(_ kernels: [KernelDefinition], name: String) throws -> (IRModule, TargetMachine) {
        let machine = try TargetMachine(triple: target.triple, cpu: target.cpu, features: target.features)
        var seen = Set<String>()
        for k in kernels {
            guard seen.insert(k.name).inserted else {
                throw CodegenError(.kernel, "two kernels are named '\(k.name)'; kernel names must be unique in a module")
            }
            guard k.lanes == target.vectorWidth else {
                throw CodegenError(.kernel, "kernel '\(k.name)' was generated for \(k.lanes)-lane vectors but target '\(target.name)' has \(target.vectorWidth)")
            }
        }
        let m = IRModule(name: name)
        for k in kernels { emit(k, into: m) }
        machine.configure(m)
        try m.verify()
        return (m, machine)
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
        switch k.body {
        case .conv2d(let plan): ConvGenerator(plan, b).emit()
        case .layout(let s): LayoutGenerator(s: s, b: b).emit()
        case .pool(let s): PoolGenerator(s: s, b: b, l: target.vectorWidth).emit()
        case .globalPool(let s): GlobalPoolGenerator(s: s, b: b, l: target.vectorWidth).emit()
        case .channelReduce(let s): ChannelReduceGenerator(s: s, b: b, l: target.vectorWidth).emit()
        case .elementwise(let s): ElementwiseGenerator(s: s, b: b, l: target.vectorWidth).emit()
        case .dense(let s): DenseGenerator(s: s, b: b).emit()
        case .softmax(let s): SoftmaxGenerator(s: s, b: b).emit()
        case .cbamGate(let s): CBAMGateGenerator(s: s, b: b).emit()
        case .cbamReduce(let s): CBAMReduceGenerator(s: s, b: b).emit()
        case .cbamApply(let s): CBAMApplyGenerator(a: s, b: b).emit()
        }
    }

    /// The module's LLVM IR, before or after optimization (`--emit-llvm`).
    public func llvmIR(_ kernels: [KernelDefinition], optimized: Bool = true) throws -> String {
        let (m, machine) = try makeModule(kernels, name: "qemlc")
        if optimized { try machine.optimize(m, pipeline: pipeline) }
        return m.text
    }

    /// Assembly for the target (the debug ladder's last rung).
    public func assembly(_ kernels: [KernelDefinition]) throws -> String {
        let (m, machine) = try makeModule(kernels, name: "qemlc")
        try machine.optimize(m, pipeline: pipeline)
        return String(decoding: try machine.emit(m, .assembly), as: UTF8.self)
    }

    /// The cache key: the unoptimized IR, the target, the pipeline and the LLVM version.
    func cacheKey(irText: String) -> String {
        var h = ContentHash()
        h.update("qemlc-object-v1")
        h.update(LLVMSupport.version)
        h.update(target.text)
        h.update(pipeline)
        h.update(irText)
        return h.hex
    }

    /// An object file for the kernels, from the cache when possible.
    public func objectCode(_ kernels: [KernelDefinition]) throws -> (bytes: [UInt8], fromCache: Bool) {
        let (m, machine) = try makeModule(kernels, name: "qemlc")
        let key = cacheKey(irText: m.text)
        var reason = "miss"
        if let cache {
            switch cache.lookup(key) {
            case .hit(let bytes):
                lastCacheOutcome = "hit"
                return (bytes, true)
            case .miss: break
            case .corrupt(let why): reason = "rebuilt (\(why))"
            }
        }
        try machine.optimize(m, pipeline: pipeline)
        let bytes = try machine.emit(m, .object)
        if let cache {
            do { try cache.store(key, bytes) } catch { reason += ", not stored: \(error)" }
        }
        lastCacheOutcome = cache == nil ? "disabled" : reason
        return (bytes, false)
    }

    /// Compiles and links the kernels into this process.
    public func compile(_ kernels: [KernelDefinition]) throws -> CompiledModule {
        guard target.runsOnHost else {
            throw CodegenError(.jit, "target '\(target.name)' (\(target.triple)) cannot run on this \(TargetDescription.host.architecture) host; emit an object file instead")
        }
        let (object, fromCache) = try objectCode(kernels)
        let linker = try JITLinker()
        try linker.addObject(object, name: "qemlc-kernels")
        var compiled: [CompiledKernel] = []
        for k in kernels {
            let address = try linker.address(of: k.name)
            compiled.append(CompiledKernel(definition: k, address: address, owner: linker))
        }
        return CompiledModule(kernels: compiled, fromCache: fromCache, objectSize: object.count)
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
