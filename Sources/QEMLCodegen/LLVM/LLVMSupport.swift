internal import CLLVM
import Foundation

/// Process-wide LLVM set-up: targets are registered once, before the first use.
enum LLVMSupport {
    /// The LLVM this binary links (part of every cache key).
    static let version: String = LLVM_VERSION_STRING

    private static let initialized: Bool = {
        qemlc_llvm_initialize_all_targets()
        return qemlc_llvm_initialize_native() == 0
    }()

    static func initialize() throws(CodegenError) {
        guard initialized else { throw CodegenError(.target, "LLVM could not initialise the native target") }
    }

    static var hostTriple: String { takeMessage(LLVMGetDefaultTargetTriple()) }
    static var hostCPU: String { takeMessage(LLVMGetHostCPUName()) }
    static var hostFeatures: String { takeMessage(LLVMGetHostCPUFeatures()) }

    /// Copies and frees a string LLVM allocated with `LLVMCreateMessage`.
    static func takeMessage(_ p: UnsafeMutablePointer<CChar>?) -> String {
        guard let p else { return "" }
        defer { LLVMDisposeMessage(p) }
        return String(cString: p)
    }

    /// Converts an `LLVMErrorRef` into a Swift error (nil error: success).
    static func check(_ error: LLVMErrorRef?, _ stage: CodegenError.Stage, _ what: String) throws(CodegenError) {
        guard let error else { return }
        let message = LLVMGetErrorMessage(error)
        defer { LLVMDisposeErrorMessage(message) }
        throw CodegenError(stage, "\(what): \(message.map { String(cString: $0) } ?? "unknown LLVM error")")
    }
}
