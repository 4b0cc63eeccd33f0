internal import CLLVM

/// Emits instructions into one function of an `IRModule`: arithmetic on scalars and vectors,
/// memory access, intrinsics and structured loops, so kernel generators read like the loops
/// they generate.
final class IRBuilder {
    let m: IRModule
    let builder: LLVMBuilderRef
    let function: IRValue
    /// Allocas go to the entry block so `mem2reg`/SROA promote them to registers.
    private let entry: IRBlock

    init(_ module: IRModule, function: IRValue) {
        m = module
        self.function = function
        builder = LLVMCreateBuilderInContext(module.context)
        entry = LLVMAppendBasicBlockInContext(module.context, function, "entry")
        LLVMPositionBuilderAtEnd(builder, entry)
    }

    deinit { LLVMDisposeBuilder(builder) }

    func param(_ i: Int) -> IRValue { LLVMGetParam(function, UInt32(i)) }

    // MARK: blocks and control flow

    func block(_ name: String) -> IRBlock { LLVMAppendBasicBlockInContext(m.context, function, name) }
    var currentBlock: IRBlock { LLVMGetInsertBlock(builder) }
    func position(at b: IRBlock) { LLVMPositionBuilderAtEnd(builder, b) }
    func br(_ b: IRBlock) { LLVMBuildBr(builder, b) }
    func condBr(_ c: IRValue, _ t: IRBlock, _ f: IRBlock) { LLVMBuildCondBr(builder, c, t, f) }
    func retVoid() { LLVMBuildRetVoid(builder) }

    func phi(_ type: IRType, _ name: String = "") -> IRValue { LLVMBuildPhi(builder, type, name) }
    func addIncoming(_ phi: IRValue, _ value: IRValue, _ from: IRBlock) {
        var v: [IRValue?] = [value]
        var b: [IRBlock?] = [from]
        LLVMAddIncoming(phi, &v, &b, 1)
    }

    /// `for i in from..<to` (step > 0) with `i` an i64; the body may create blocks.
    func loop(_ from: IRValue, _ to: IRValue, step: Int = 1, _ name: String = "i", _ body: (IRValue) throws -> Void) rethrows {
        let pre = currentBlock
        let header = block(name + ".head"), bodyBlock = block(name + ".body"), exit = block(name + ".exit")
        br(header)
        position(at: header)
        let i = phi(m.i64, name)
        addIncoming(i, from, pre)
        condBr(icmp(LLVMIntSLT, i, to), bodyBlock, exit)
        position(at: bodyBlock)
        try body(i)
        let next = add(i, m.constI64(step))
        addIncoming(i, next, currentBlock)
        br(header)
        position(at: exit)
    }

    func loop(_ from: Int, _ to: Int, step: Int = 1, _ name: String = "i", _ body: (IRValue) throws -> Void) rethrows {
        if to <= from { return }
        try loop(m.constI64(from), m.constI64(to), step: step, name, body)
    }

    /// Runs `body` only when `condition` holds.
    func when(_ condition: IRValue, _ name: String = "if", _ body: () throws -> Void) rethrows {
        let then = block(name + ".then"), done = block(name + ".done")
        condBr(condition, then, done)
        position(at: then)
        try body()
        br(done)
        position(at: done)
    }

    /// `if condition { a } else { b }` as control flow.
    func ifElse(_ condition: IRValue, _ name: String, then a: () throws -> Void, else b: () throws -> Void) rethrows {
        let t = block(name + ".then"), e = block(name + ".else"), done = block(name + ".done")
        condBr(condition, t, e)
        position(at: t)
        try a()
        br(done)
        position(at: e)
        try b()
        br(done)
        position(at: done)
    }

    // MARK: integer arithmetic

    func add(_ a: IRValue, _ b: IRValue) -> IRValue { LLVMBuildAdd(builder, a, b, "") }
    func sub(_ a: IRValue, _ b: IRValue) -> IRValue { LLVMBuildSub(builder, a, b, "") }
    func mul(_ a: IRValue, _ b: IRValue) -> IRValue { LLVMBuildMul(builder, a, b, "") }
    func sdiv(_ a: IRValue, _ b: IRValue) -> IRValue { LLVMBuildSDiv(builder, a, b, "") }
    func srem(_ a: IRValue, _ b: IRValue) -> IRValue { LLVMBuildSRem(builder, a, b, "") }
    func add(_ a: IRValue, _ b: Int) -> IRValue { b == 0 ? a : add(a, m.constI64(b)) }
    func mul(_ a: IRValue, _ b: Int) -> IRValue { b == 1 ? a : mul(a, m.constI64(b)) }
    func icmp(_ p: LLVMIntPredicate, _ a: IRValue, _ b: IRValue) -> IRValue { LLVMBuildICmp(builder, p, a, b, "") }
    func and(_ a: IRValue, _ b: IRValue) -> IRValue { LLVMBuildAnd(builder, a, b, "") }
    func select(_ c: IRValue, _ a: IRValue, _ b: IRValue) -> IRValue { LLVMBuildSelect(builder, c, a, b, "") }
    /// `lo <= v < hi` for i64 `v`.
    func inRange(_ v: IRValue, _ lo: Int, _ hi: Int) -> IRValue {
        and(icmp(LLVMIntSGE, v, m.constI64(lo)), icmp(LLVMIntSLT, v, m.constI64(hi)))
    }

    // MARK: floating point (scalars or vectors alike)

    func fadd(_ a: IRValue, _ b: IRValue) -> IRValue { LLVMBuildFAdd(builder, a, b, "") }
    func fsub(_ a: IRValue, _ b: IRValue) -> IRValue { LLVMBuildFSub(builder, a, b, "") }
    func fmul(_ a: IRValue, _ b: IRValue) -> IRValue { LLVMBuildFMul(builder, a, b, "") }
    func fdiv(_ a: IRValue, _ b: IRValue) -> IRValue { LLVMBuildFDiv(builder, a, b, "") }
    func fcmp(_ p: LLVMRealPredicate, _ a: IRValue, _ b: IRValue) -> IRValue { LLVMBuildFCmp(builder, p, a, b, "") }
    /// a·b + c, fused where the target has FMA (`llvm.fmuladd`: never a libm call).
    func fma(_ a: IRValue, _ b: IRValue, _ c: IRValue) -> IRValue { intrinsic("llvm.fmuladd", [a, b, c]) }
    func maxnum(_ a: IRValue, _ b: IRValue) -> IRValue { intrinsic("llvm.maxnum", [a, b]) }
    func minnum(_ a: IRValue, _ b: IRValue) -> IRValue { intrinsic("llvm.minnum", [a, b]) }
    func floor(_ a: IRValue) -> IRValue { intrinsic("llvm.floor", [a]) }
    func fabs(_ a: IRValue) -> IRValue { intrinsic("llvm.fabs", [a]) }

    func typeOf(_ v: IRValue) -> IRType { LLVMTypeOf(v) }
    func lanes(of v: IRValue) -> Int {
        let t = typeOf(v)
        return LLVMGetTypeKind(t) == LLVMVectorTypeKind ? Int(LLVMGetVectorSize(t)) : 1
    }
    /// A float constant shaped like `like` (scalar or vector).
    func const(_ v: Float, like: IRValue) -> IRValue {
        let n = lanes(of: like)
        return LLVMGetTypeKind(typeOf(like)) == LLVMVectorTypeKind ? m.splat(v, n) : m.constF32(v)
    }

    func fptosi(_ v: IRValue, _ t: IRType) -> IRValue { LLVMBuildFPToSI(builder, v, t, "") }
    func shl(_ a: IRValue, _ b: IRValue) -> IRValue { LLVMBuildShl(builder, a, b, "") }
    func bitcast(_ v: IRValue, _ t: IRType) -> IRValue { LLVMBuildBitCast(builder, v, t, "") }

    /// Calls an overloaded intrinsic (`llvm.fma`, `llvm.maxnum`, …) on the type of its first argument.
    func intrinsic(_ name: String, _ args: [IRValue]) -> IRValue {
        let id = LLVMLookupIntrinsicID(name, name.utf8.count)
        var overload: [IRType?] = [typeOf(args[0])]
        let decl = overload.withUnsafeMutableBufferPointer { LLVMGetIntrinsicDeclaration(m.module, id, $0.baseAddress, 1) }
        let type = overload.withUnsafeMutableBufferPointer { LLVMIntrinsicGetType(m.context, id, $0.baseAddress, 1) }
        var a: [IRValue?] = args
        return a.withUnsafeMutableBufferPointer { LLVMBuildCall2(builder, type, decl, $0.baseAddress, UInt32(args.count), "") }
    }

    /// Calls a function (an intrinsic by its full name, e.g. `llvm.x86.avx512.vpdpbusd.512`)
    /// declared here with the arguments' types and `returning`.
    func call(_ name: String, _ args: [IRValue], returning result: IRType) -> IRValue {
        let type = m.functionType(result, args.map { typeOf($0) })
        let f = m.function(named: name) ?? m.addFunction(name, type)
        var a: [IRValue?] = args
        return a.withUnsafeMutableBufferPointer { LLVMBuildCall2(builder, type, f, $0.baseAddress, UInt32(args.count), "") }
    }

    // MARK: vectors

    /// The lanes `indices` of `v`, as a new vector.
    func shuffle(_ v: IRValue, _ indices: [Int]) -> IRValue {
        LLVMBuildShuffleVector(builder, v, LLVMGetUndef(typeOf(v)), m.constVector(indices.map { m.constI32($0) }), "")
    }

    func extract(_ v: IRValue, _ lane: Int) -> IRValue { LLVMBuildExtractElement(builder, v, m.constI32(lane), "") }
    func insert(_ v: IRValue, _ x: IRValue, _ lane: Int) -> IRValue { LLVMBuildInsertElement(builder, v, x, m.constI32(lane), "") }

    /// Every lane = scalar `x`.
    func broadcast(_ x: IRValue, _ lanes: Int) -> IRValue {
        let vt = m.vector(m.f32, lanes)
        let one = insert(LLVMGetUndef(vt), x, 0)
        let mask = LLVMConstNull(m.vector(m.i32, lanes))
        return LLVMBuildShuffleVector(builder, one, LLVMGetUndef(vt), mask, "")
    }

    /// Horizontal sum / max of a vector's lanes.
    func reduceAdd(_ v: IRValue) -> IRValue {
        var acc = extract(v, 0)
        for i in 1..<lanes(of: v) { acc = fadd(acc, extract(v, i)) }
        return acc
    }
    func reduceMax(_ v: IRValue) -> IRValue {
        var acc = extract(v, 0)
        for i in 1..<lanes(of: v) { acc = maxnum(acc, extract(v, i)) }
        return acc
    }

    // MARK: memory

    /// `&base[index]` for a `float*` base.
    func gep(_ base: IRValue, _ index: IRValue) -> IRValue {
        var idx: [IRValue?] = [index]
        return idx.withUnsafeMutableBufferPointer { LLVMBuildInBoundsGEP2(builder, m.f32, base, $0.baseAddress, 1, "") }
    }
    func gep(_ base: IRValue, _ index: Int) -> IRValue { index == 0 ? base : gep(base, m.constI64(index)) }
    /// `&base[index]` as an `i8*`, for byte (u8) buffers passed as `float*`.
    func gepBytes(_ base: IRValue, _ index: IRValue) -> IRValue {
        var idx: [IRValue?] = [index]
        let bytes = bitcast(base, m.pointer(to: m.i8))
        return idx.withUnsafeMutableBufferPointer { LLVMBuildInBoundsGEP2(builder, m.i8, bytes, $0.baseAddress, 1, "") }
    }

    func loadF32(_ p: IRValue) -> IRValue {
        let v = LLVMBuildLoad2(builder, m.f32, p, "")!
        LLVMSetAlignment(v, 4)
        return v
    }
    /// Loads `lanes` consecutive floats at `p` (a `float*`).
    func loadVector(_ p: IRValue, _ lanes: Int, align: Int = 4) -> IRValue {
        let vt = m.vector(m.f32, lanes)
        let v = LLVMBuildLoad2(builder, vt, bitcast(p, m.pointer(to: vt)), "")!
        LLVMSetAlignment(v, UInt32(align))
        return v
    }
    func store(_ v: IRValue, _ p: IRValue, align: Int = 4) {
        let t = typeOf(v)
        let s = LLVMBuildStore(builder, v, bitcast(p, m.pointer(to: t)))!
        LLVMSetAlignment(s, UInt32(align))
    }

    /// A stack slot in the entry block (promoted to a register by the optimizer).
    func alloca(_ t: IRType, _ name: String = "") -> IRValue {
        let here = currentBlock
        if let first = LLVMGetFirstInstruction(entry) { LLVMPositionBuilderBefore(builder, first) } else { LLVMPositionBuilderAtEnd(builder, entry) }
        let a = LLVMBuildAlloca(builder, t, name)!
        LLVMPositionBuilderAtEnd(builder, here)
        return a
    }
    /// `count` floats on the stack (entry block), as a `float*`.
    func stackFloats(_ count: Int) -> IRValue {
        let here = currentBlock
        if let first = LLVMGetFirstInstruction(entry) { LLVMPositionBuilderBefore(builder, first) } else { LLVMPositionBuilderAtEnd(builder, entry) }
        let a = LLVMBuildArrayAlloca(builder, m.f32, m.constI64(count), "scratch")!
        LLVMSetAlignment(a, 64)
        LLVMPositionBuilderAtEnd(builder, here)
        return a
    }
    func load(_ t: IRType, _ p: IRValue) -> IRValue { LLVMBuildLoad2(builder, t, p, "") }
    func storeRaw(_ v: IRValue, _ p: IRValue) { LLVMBuildStore(builder, v, p) }

    /// A mutable variable living in a stack slot.
    func variable(_ initial: IRValue, _ name: String = "") -> Variable {
        let t = typeOf(initial)
        let slot = alloca(t, name)
        storeRaw(initial, slot)
        return Variable(slot: slot, type: t, b: self)
    }

    struct Variable {
        let slot: IRValue
        let type: IRType
        unowned let b: IRBuilder
        var value: IRValue {
            get { b.load(type, slot) }
            nonmutating set { b.storeRaw(newValue, slot) }
        }
    }
}
