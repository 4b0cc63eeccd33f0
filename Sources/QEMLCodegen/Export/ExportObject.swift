internal import CLLVM

extension KernelCompiler {
    /// An object file for export: every kernel (kernels with the same body share one function,
    /// as in `compile`) and, with `embedding`, the bytes as the constant `symbol` (64-byte aligned,
    /// external) for `--embed-weights`. Returns each kernel's symbol, in order. Without data the
    /// object comes from the cache when possible.
    public func exportObject(_ kernels: [KernelDefinition], embedding data: [UInt8]? = nil, symbol: String = "")
        throws -> (bytes: [UInt8], symbols: [String]) {
        var symbolOf: [String: String] = [:]
        let symbols = kernels.map { k -> String in
            let s = ObjectBuilder.signature(k)
            if let shared = symbolOf[s] { return shared }
            symbolOf[s] = k.name
            return k.name
        }
        guard let data else { return (try objectCode(kernels).bytes, symbols) }
        guard data.count < Int(UInt32.max) else {
            throw CodegenError(.emit, "\(data.count) bytes of weights are too many to embed in an object (at most 4 GiB)")
        }
        let (m, machine, built) = try builder.makeModule(kernels)
        guard built == symbols else { throw CodegenError(.emit, "kernel symbols disagree with the module's") }
        try machine.optimize(m, pipeline: pipeline)
        let i8 = LLVMInt8TypeInContext(m.context)
        let global = LLVMAddGlobal(m.module, LLVMArrayType(i8, UInt32(data.count)), symbol)
        let initializer = data.map { CChar(bitPattern: $0) }.withUnsafeBufferPointer { p in
            LLVMConstStringInContext(m.context, p.baseAddress, UInt32(p.count), 1)  // 1: no terminating NUL
        }
        LLVMSetInitializer(global, initializer)
        LLVMSetGlobalConstant(global, 1)
        LLVMSetAlignment(global, 64)
        LLVMSetLinkage(global, LLVMExternalLinkage)
        return (try machine.emit(m, .object), symbols)
    }
}
