internal import CLLVM
import Foundation

/// An LLVM target machine for one triple, CPU and feature string: optimizes modules for that
/// CPU and emits object files or assembly.
final class TargetMachine {
    let machine: LLVMTargetMachineRef
    let triple: String
    let cpu: String
    let features: String

    init(triple: String, cpu: String, features: String) throws(CodegenError) {
        try LLVMSupport.initialize()
        var target: LLVMTargetRef?
        var message: UnsafeMutablePointer<CChar>?
        if LLVMGetTargetFromTriple(triple, &target, &message) != 0 || target == nil {
            let text = LLVMSupport.takeMessage(message)
            throw CodegenError(.target, "LLVM has no target for triple '\(triple)': \(text)")
        }
        guard let tm = LLVMCreateTargetMachine(target, triple, cpu, features, LLVMCodeGenLevelAggressive,
                                               LLVMRelocPIC, LLVMCodeModelDefault) else {
            throw CodegenError(.target, "LLVM could not create a target machine for '\(triple)' cpu '\(cpu)'")
        }
        machine = tm
        self.triple = triple
        self.cpu = cpu
        self.features = features
    }

    deinit { LLVMDisposeTargetMachine(machine) }

    var dataLayout: String {
        let layout = LLVMCreateTargetDataLayout(machine)
        defer { LLVMDisposeTargetData(layout) }
        return LLVMSupport.takeMessage(LLVMCopyStringRepOfTargetData(layout))
    }

    /// Sets the module's triple and data layout and tags every function with this CPU and its
    /// features, so the optimizer's cost model and the backend agree.
    func configure(_ m: IRModule) {
        m.setTarget(triple: triple, dataLayout: dataLayout)
        var f = LLVMGetFirstFunction(m.module)
        while let fn = f {
            if LLVMIsDeclaration(fn) == 0 {
                m.addAttribute(fn, key: "target-cpu", value: cpu)
                if !features.isEmpty { m.addAttribute(fn, key: "target-features", value: features) }
            }
            f = LLVMGetNextFunction(fn)
        }
    }

    /// Runs LLVM's `default<O3>` pipeline (or another pass string) with this machine's cost model.
    func optimize(_ m: IRModule, pipeline: String = "default<O3>") throws(CodegenError) {
        let options = LLVMCreatePassBuilderOptions()
        defer { LLVMDisposePassBuilderOptions(options) }
        // The generators emit vector code and unroll what matters; LLVM's vectorizers and
        // unroller would only spend compile time on it.
        LLVMPassBuilderOptionsSetLoopVectorization(options, 0)
        LLVMPassBuilderOptionsSetSLPVectorization(options, 0)
        LLVMPassBuilderOptionsSetLoopUnrolling(options, 0)
        try LLVMSupport.check(LLVMRunPasses(m.module, pipeline, machine, options), .optimize, "running '\(pipeline)'")
    }

    enum FileKind { case object, assembly }

    /// Machine code for the module as bytes.
    func emit(_ m: IRModule, _ kind: FileKind) throws(CodegenError) -> [UInt8] {
        var message: UnsafeMutablePointer<CChar>?
        var buffer: LLVMMemoryBufferRef?
        let type = kind == .object ? LLVMObjectFile : LLVMAssemblyFile
        if LLVMTargetMachineEmitToMemoryBuffer(machine, m.module, type, &message, &buffer) != 0 || buffer == nil {
            throw CodegenError(.emit, "LLVM could not emit code for \(triple): \(LLVMSupport.takeMessage(message))")
        }
        defer { LLVMDisposeMemoryBuffer(buffer) }
        let size = LLVMGetBufferSize(buffer)
        guard let start = LLVMGetBufferStart(buffer) else { return [] }
        return start.withMemoryRebound(to: UInt8.self, capacity: size) { Array(UnsafeBufferPointer(start: $0, count: size)) }
    }
}
