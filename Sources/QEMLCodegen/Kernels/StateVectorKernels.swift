internal import CLLVM
import QEMLQuantum

/// A `StateVectorSchedule` as generated code: one function per stage,
///
///     void <name>_stage<i>(double *re, double *im, const double *coefficients, double *buffer,
///                          int64_t firstChunk, int64_t endChunk);
///
/// `re`/`im`: the state vector (2^n doubles each, wire 0 the most significant index bit);
/// `coefficients`: the sample's variable entries (`StateVectorSchedule.fillCoefficients`);
/// `buffer`: 2 · 2^localQubits doubles of scratch for the stage's gathered amplitudes;
/// `[firstChunk, endChunk)`: the chunks (`Stage.chunks`) to run. Chunks touch disjoint amplitudes,
/// so threads may run disjoint ranges of one stage at once, each with its own buffer.
///
/// Every op becomes one loop over the vector groups of the buffer (`VectorizedOp`): its constant
/// entries are folded into the code (zero terms vanish, real entries need half the FMAs), lanes
/// mixed by an op on an in-register bit are exchanged with shuffles, and the vectors the op leaves
/// alone (the control-0 half of a controlled gate, the untouched half of a phase) are never loaded.
struct StateVectorGenerator {
    let schedule: StateVectorSchedule
    let m: IRModule
    let name: String

    func stageSymbol(_ i: Int) -> String { "\(name)_stage\(i)" }

    func emit() {
        let pd = m.pointer(to: m.f64)
        let type = m.functionType(m.void, [pd, pd, pd, pd, m.i64, m.i64])
        for (i, stage) in schedule.stages.enumerated() {
            let f = m.addFunction(stageSymbol(i), type)
            m.addAttribute(f, enumNamed: "nounwind", index: UInt32(bitPattern: Int32(LLVMAttributeFunctionIndex)))
            for p in 1...4 { m.addAttribute(f, enumNamed: "noalias", index: UInt32(p)) }
            m.addAttribute(f, enumNamed: "readonly", index: 3)
            StageGenerator(schedule: schedule, stage: stage, b: IRBuilder(m, function: f)).emit()
        }
    }
}

private struct StageGenerator {
    let schedule: StateVectorSchedule
    let stage: StateVectorSchedule.Stage
    let b: IRBuilder

    var m: IRModule { b.m }
    var lanes: Int { schedule.lanes }
    var vectorType: IRType { m.vector(m.f64, lanes) }

    func emit() {
        let n = schedule.qubits, l = stage.positions.count
        let re = b.param(0), im = b.param(1), buffer = b.param(3)
        let bufRe = buffer, bufIm = gep(buffer, m.constI64(1 << l))
        // The non-local bit positions, ascending: chunk c's base index has c's bits there.
        let outside = (0..<n).filter { !stage.positions.contains($0) }
        b.loop(b.param(4), b.param(5), "chunk") { c in
            var base = m.constI64(0)
            for (j, p) in outside.enumerated() { base = or(base, shl(b.and(lshr(c, j), m.constI64(1)), p)) }
            if stage.isContiguous {
                emitOps(gep(re, base), gep(im, base))
            } else {
                copy(re, im, base, bufRe, bufIm, gather: true)
                emitOps(bufRe, bufIm)
                copy(re, im, base, bufRe, bufIm, gather: false)
            }
        }
        b.retVoid()
    }

    /// Moves the chunk at `base` between the state and the buffer in runs of the contiguous low
    /// positions (at least two vectors).
    private func copy(_ re: IRValue, _ im: IRValue, _ base: IRValue, _ bufRe: IRValue, _ bufIm: IRValue, gather: Bool) {
        let p = stage.positions
        var run = 0
        while run < p.count && p[run] == run { run += 1 }
        let runMask = p[run...].reduce(0) { $0 | (1 << $1) }
        let vectors = (1 << run) / lanes
        let offset = b.variable(m.constI64(0), "run")
        b.loop(0, 1 << (p.count - run), gather ? "gather" : "scatter") { j in
            let at = offset.value
            let state = b.add(base, at), local = shl(j, run)
            let moveVectors = { (first: IRValue, count: Int) in
                for q in 0..<count {
                    let s = b.add(b.add(state, first), m.constI64(q * lanes)), d = b.add(b.add(local, first), m.constI64(q * lanes))
                    if gather {
                        store(load(gep(re, s)), gep(bufRe, d)); store(load(gep(im, s)), gep(bufIm, d))
                    } else {
                        store(load(gep(bufRe, d)), gep(re, s)); store(load(gep(bufIm, d)), gep(im, s))
                    }
                }
            }
            if vectors <= 8 {
                moveVectors(m.constI64(0), vectors)
            } else {
                b.loop(0, vectors * lanes, step: 8 * lanes, "move") { first in moveVectors(first, 8) }
            }
            offset.value = b.and(b.sub(at, m.constI64(runMask)), m.constI64(runMask))
        }
    }

    private func emitOps(_ re: IRValue, _ im: IRValue) {
        for op in stage.ops { OpGenerator(op: VectorizedOp(op, lanes: lanes), g: self).emit(re, im) }
    }

    // MARK: helpers on doubles

    func gep(_ base: IRValue, _ index: IRValue) -> IRValue {
        var idx: [IRValue?] = [index]
        return idx.withUnsafeMutableBufferPointer { LLVMBuildInBoundsGEP2(b.builder, m.f64, base, $0.baseAddress, 1, "") }
    }
    func load(_ p: IRValue) -> IRValue {
        let v = LLVMBuildLoad2(b.builder, vectorType, b.bitcast(p, m.pointer(to: vectorType)), "")!
        LLVMSetAlignment(v, 8)
        return v
    }
    func store(_ v: IRValue, _ p: IRValue) {
        let s = LLVMBuildStore(b.builder, v, b.bitcast(p, m.pointer(to: vectorType)))!
        LLVMSetAlignment(s, 8)
    }
    func shl(_ v: IRValue, _ bits: Int) -> IRValue { bits == 0 ? v : LLVMBuildShl(b.builder, v, m.constI64(bits), "") }
    func lshr(_ v: IRValue, _ bits: Int) -> IRValue { bits == 0 ? v : LLVMBuildLShr(b.builder, v, m.constI64(bits), "") }
    func or(_ a: IRValue, _ c: IRValue) -> IRValue { LLVMBuildOr(b.builder, a, c, "") }
    func constVector(_ values: [Double]) -> IRValue { m.constVector(values.map { LLVMConstReal(m.f64, $0) }) }
}

/// One op's loop.
private struct OpGenerator {
    let op: VectorizedOp
    let g: StageGenerator
    var b: IRBuilder { g.b }
    var m: IRModule { g.m }

    func emit(_ re: IRValue, _ im: IRValue) {
        let lanes = op.lanes, w = lanes.trailingZeroBitCount
        let high = op.high.map { $0 - w }
        // Coefficient vectors (loop-invariant), per output and term: real part, imaginary part and
        // its negation, nil when zero in every lane.
        let coefficients = op.outputs.map { o in o.terms.map { t -> (re: IRValue?, im: IRValue?, negIm: IRValue?) in
            if t.isUnit { return (nil, nil, nil) }
            let r = t.hasReal ? vector(t.coefficients, imaginary: false) : nil
            let i = t.hasImaginary ? vector(t.coefficients, imaginary: true) : nil
            return (r, i, i.map { LLVMBuildFNeg(b.builder, $0, "")! })
        } }
        let sources = op.sources
        b.loop(0, op.groups(localQubits: g.stage.positions.count), "group") { group in
            // The group's first vector: the group number with a zero bit at every high position.
            var v = group
            for q in high.sorted() {
                v = g.or(g.shl(g.lshr(v, q), q + 1), b.and(v, m.constI64((1 << q) - 1)))
            }
            let first = g.shl(v, w)
            func address(_ base: IRValue, _ vector: Int) -> IRValue {
                var offset = 0
                for (j, q) in high.enumerated() where vector & (1 << j) != 0 { offset |= 1 << q }
                return g.gep(base, b.add(first, m.constI64(offset * lanes)))
            }
            var xr: [Int: IRValue] = [:], xi: [Int: IRValue] = [:]
            for s in sources { xr[s] = g.load(address(re, s)); xi[s] = g.load(address(im, s)) }
            var results: [(Int, IRValue, IRValue)] = []
            for (o, output) in op.outputs.enumerated() {
                var accR: IRValue?, accI: IRValue?
                for (t, term) in output.terms.enumerated() {
                    let sr = shuffle(xr[term.source]!, term.flip), si = shuffle(xi[term.source]!, term.flip)
                    if term.isUnit {
                        accR = add(accR, sr); accI = add(accI, si)
                        continue
                    }
                    let c = coefficients[o][t]
                    if let cr = c.re { accR = mulAdd(cr, sr, accR); accI = mulAdd(cr, si, accI) }
                    if let ci = c.im, let nci = c.negIm { accR = mulAdd(nci, si, accR); accI = mulAdd(ci, sr, accI) }
                }
                let zero = g.constVector([Double](repeating: 0, count: lanes))
                results.append((output.vector, accR ?? zero, accI ?? zero))
            }
            // Stores after every load: an op may write a vector another of its outputs reads.
            for (vector, r, i) in results { g.store(r, address(re, vector)); g.store(i, address(im, vector)) }
        }
    }

    /// x with lane ℓ taken from lane ℓ xor flip.
    private func shuffle(_ x: IRValue, _ flip: Int) -> IRValue {
        if flip == 0 { return x }
        let mask = m.constVector((0..<op.lanes).map { m.constI32($0 ^ flip) })
        return LLVMBuildShuffleVector(b.builder, x, LLVMGetUndef(g.vectorType), mask, "")!
    }

    private func add(_ acc: IRValue?, _ x: IRValue) -> IRValue { acc.map { b.fadd($0, x) } ?? x }
    private func mulAdd(_ c: IRValue, _ x: IRValue, _ acc: IRValue?) -> IRValue { acc.map { b.fma(c, x, $0) } ?? b.fmul(c, x) }

    /// The real or imaginary parts of per-lane entries as one vector: constants folded, variable
    /// lanes loaded from the coefficients (one load and a splat when every lane is the same one).
    private func vector(_ entries: [StateVectorSchedule.Entry], imaginary: Bool) -> IRValue {
        let part = { (c: Complex) in imaginary ? c.im : c.re }
        let constants = entries.map { e -> Double in if case .constant(let c) = e { return part(c) }; return 0 }
        var variables: [(lane: Int, index: Int)] = []
        for (lane, e) in entries.enumerated() {
            if case .variable(let index, let real) = e, !(imaginary && real) { variables.append((lane, index)) }
        }
        if variables.isEmpty { return g.constVector(constants) }
        let coefficients = b.param(2)
        func scalar(_ index: Int) -> IRValue {
            let v = LLVMBuildLoad2(b.builder, m.f64, g.gep(coefficients, m.constI64(2 * index + (imaginary ? 1 : 0))), "")!
            LLVMSetAlignment(v, 8)
            return v
        }
        if variables.count == entries.count, Set(variables.map(\.index)).count == 1 {
            let one = LLVMBuildInsertElement(b.builder, LLVMGetUndef(g.vectorType), scalar(variables[0].index), m.constI32(0), "")!
            return LLVMBuildShuffleVector(b.builder, one, LLVMGetUndef(g.vectorType), LLVMConstNull(m.vector(m.i32, op.lanes)), "")!
        }
        var v = g.constVector(constants)
        var loaded: [Int: IRValue] = [:]
        for (lane, index) in variables {
            let s = loaded[index] ?? scalar(index)
            loaded[index] = s
            v = LLVMBuildInsertElement(b.builder, v, s, m.constI32(lane), "")!
        }
        return v
    }
}
