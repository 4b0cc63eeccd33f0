internal import CLLVM

extension KernelCompiler {
    /// An object file with the kernels and, as the constant `symbol` (64-byte aligned, external),
    /// `data` — the edge export's `--embed-weights`. Not cached: the weights make it unique.
    public func objectCode(_ kernels: [KernelDefinition], embedding data: [UInt8], symbol: String) throws -> [UInt8] {
        guard data.count < Int(UInt32.max) else {
            throw CodegenError(.emit, "\(data.count) bytes of weights are too many to embed in an object (at most 4 GiB)")
        }
        let (m, machine) = try makeModule(kernels, name: "qemlc-export")
        try machine.optimize(m, pipeline: pipeline)
        let i8 = LLVMInt8TypeInContext(m.context)
        let global = LLVMAddGlobal(m.module, LLVMArrayType(i8, UInt32(data.count)), symbol)
        let bytes = data.map { CChar(bitPattern: $0) }
        let initializer = bytes.withUnsafeBufferPointer { p in
            LLVMConstStringInContext(m.context, p.baseAddress, UInt32(p.count), 1)  // 1: no terminating NUL
        }
        LLVMSetInitializer(global, initializer)
        LLVMSetGlobalConstant(global, 1)
        LLVMSetAlignment(global, 64)
        LLVMSetLinkage(global, LLVMExternalLinkage)
        return try machine.emit(m, .object)
    }
}
