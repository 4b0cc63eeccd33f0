internal import CLLVM

/// An ORC LLJIT instance for the host. Object files (compiled by `TargetMachine` or read from
/// the cache) are linked into its main JITDylib, which also resolves symbols from this process
/// (libm, runtime helpers).
final class JITLinker {
    private let jit: LLVMOrcLLJITRef
    private let dylib: LLVMOrcJITDylibRef

    init() throws(CodegenError) {
        try LLVMSupport.initialize()
        var j: LLVMOrcLLJITRef?
        try LLVMSupport.check(LLVMOrcCreateLLJIT(&j, nil), .jit, "creating the LLJIT")
        guard let j else { throw CodegenError(.jit, "creating the LLJIT returned nothing") }
        jit = j
        dylib = LLVMOrcLLJITGetMainJITDylib(j)
        var generator: LLVMOrcDefinitionGeneratorRef?
        do {
            try LLVMSupport.check(LLVMOrcCreateDynamicLibrarySearchGeneratorForProcess(&generator, LLVMOrcLLJITGetGlobalPrefix(j), nil, nil),
                                  .jit, "making process symbols visible to JIT code")
        } catch {
            LLVMOrcDisposeLLJIT(j)
            throw error
        }
        LLVMOrcJITDylibAddGenerator(dylib, generator)
    }

    deinit { _ = LLVMOrcDisposeLLJIT(jit) }

    var triple: String { String(cString: LLVMOrcLLJITGetTripleString(jit)) }

    /// Links an object file (copied; LLVM owns the copy).
    func addObject(_ bytes: [UInt8], name: String) throws(CodegenError) {
        let buffer = bytes.withUnsafeBufferPointer { p in
            p.baseAddress!.withMemoryRebound(to: CChar.self, capacity: bytes.count) {
                LLVMCreateMemoryBufferWithMemoryRangeCopy($0, bytes.count, name)
            }
        }
        try LLVMSupport.check(LLVMOrcLLJITAddObjectFile(jit, dylib, buffer), .jit, "adding object '\(name)'")
    }

    /// The address of a defined symbol (materializes it: linking errors surface here).
    func address(of symbol: String) throws(CodegenError) -> UInt {
        var addr: LLVMOrcExecutorAddress = 0
        try LLVMSupport.check(LLVMOrcLLJITLookup(jit, &addr, symbol), .jit, "looking up '\(symbol)'")
        guard addr != 0 else { throw CodegenError(.jit, "symbol '\(symbol)' resolved to address 0") }
        return UInt(addr)
    }
}
