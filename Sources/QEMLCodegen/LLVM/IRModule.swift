internal import CLLVM
import Foundation

typealias IRValue = LLVMValueRef
typealias IRType = LLVMTypeRef
typealias IRBlock = LLVMBasicBlockRef

/// An LLVM module with its own context (built, optimized, emitted, then dropped).
final class IRModule {
    let context: LLVMContextRef
    let module: LLVMModuleRef

    let void: IRType
    let i1: IRType
    let i8: IRType
    let i32: IRType
    let i64: IRType
    let f32: IRType
    let f64: IRType

    init(name: String) {
        context = LLVMContextCreate()
        module = LLVMModuleCreateWithNameInContext(name, context)
        void = LLVMVoidTypeInContext(context)
        i1 = LLVMInt1TypeInContext(context)
        i8 = LLVMInt8TypeInContext(context)
        i32 = LLVMInt32TypeInContext(context)
        i64 = LLVMInt64TypeInContext(context)
        f32 = LLVMFloatTypeInContext(context)
        f64 = LLVMDoubleTypeInContext(context)
    }

    deinit {
        LLVMDisposeModule(module)
        LLVMContextDispose(context)
    }

    func vector(_ element: IRType, _ lanes: Int) -> IRType { LLVMVectorType(element, UInt32(lanes)) }
    func pointer(to element: IRType) -> IRType { LLVMPointerType(element, 0) }

    func functionType(_ result: IRType, _ params: [IRType]) -> IRType {
        var p: [IRType?] = params
        return p.withUnsafeMutableBufferPointer { LLVMFunctionType(result, $0.baseAddress, UInt32(params.count), 0) }
    }

    /// Declares an externally visible function.
    func addFunction(_ name: String, _ type: IRType) -> IRValue {
        LLVMAddFunction(module, name, type)
    }

    func function(named name: String) -> IRValue? { LLVMGetNamedFunction(module, name) }

    func setTarget(triple: String, dataLayout: String) {
        LLVMSetTarget(module, triple)
        LLVMSetDataLayout(module, dataLayout)
    }

    /// Adds a string attribute (`"target-cpu"`, …) to a function.
    func addAttribute(_ function: IRValue, key: String, value: String) {
        let a = LLVMCreateStringAttribute(context, key, UInt32(key.utf8.count), value, UInt32(value.utf8.count))
        LLVMAddAttributeAtIndex(function, UInt32(bitPattern: Int32(LLVMAttributeFunctionIndex)), a)
    }

    /// Adds an enum attribute (`noalias`, `nounwind`, …) at `index` (0: return, 1…: params, ~0: function).
    func addAttribute(_ function: IRValue, enumNamed name: String, index: UInt32) {
        let kind = LLVMGetEnumAttributeKindForName(name, name.utf8.count)
        guard kind != 0 else { return }
        LLVMAddAttributeAtIndex(function, index, LLVMCreateEnumAttribute(context, kind, 0))
    }

    /// The module's textual IR (for `--emit-llvm`, dumps and the cache key).
    var text: String { LLVMSupport.takeMessage(LLVMPrintModuleToString(module)) }

    /// Runs LLVM's verifier; a broken module becomes an error carrying LLVM's report.
    func verify() throws(CodegenError) {
        var message: UnsafeMutablePointer<CChar>?
        let broken = LLVMVerifyModule(module, LLVMReturnStatusAction, &message)
        let text = LLVMSupport.takeMessage(message)
        if broken != 0 {
            throw CodegenError(.verify, "LLVM rejected the generated module: " + text.trimmingCharacters(in: .whitespacesAndNewlines))
        }
    }

    // MARK: constants

    func constI64(_ v: Int) -> IRValue { LLVMConstInt(i64, UInt64(bitPattern: Int64(v)), 1) }
    func constI32(_ v: Int) -> IRValue { LLVMConstInt(i32, UInt64(bitPattern: Int64(v)), 1) }
    func constF32(_ v: Float) -> IRValue { LLVMConstReal(f32, Double(v)) }

    /// A constant vector with every lane `v` (or a scalar when `lanes == 1` and `scalar`).
    func splat(_ v: Float, _ lanes: Int) -> IRValue {
        constVector((0..<lanes).map { _ in constF32(v) })
    }
    func splatI32(_ v: Int, _ lanes: Int) -> IRValue {
        constVector((0..<lanes).map { _ in constI32(v) })
    }
    func constVector(_ elements: [IRValue]) -> IRValue {
        var e: [IRValue?] = elements
        return e.withUnsafeMutableBufferPointer { LLVMConstVector($0.baseAddress, UInt32(elements.count)) }
    }
}
