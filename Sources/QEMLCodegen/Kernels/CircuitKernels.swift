internal import CLLVM
import QEMLQuantum

/// A folded-observables circuit (`FoldedObservables`) as one generated kernel: each output is
/// Σ_k c[o,k] Φ_k with Φ = ⊗ (1, cos x_r, sin x_r) over the encoding rotations r, contracted
/// rotation by rotation from the last one (2 FMAs per coefficient triple). The structure (columns,
/// term count) is compiled in; the coefficients are packed params, each splatted to a full vector
/// so it is an FMA's memory operand, and kernels of equally shaped circuits share one function
/// (retrained weights need no recompilation, and an exported runtime loads them from its weights file).
public struct FoldedCircuitSpec: Hashable, Sendable, CustomStringConvertible {
    /// Input columns per sample (`k` of `[N,k]`) and outputs (`m` of `[N,m]`).
    public var inputWidth, outputs: Int
    /// The input column of each encoding rotation, in Φ's order (the first is the slowest digit).
    public var rotationColumns: [Int]
    /// Coefficients per output: 3^rotations.
    public var terms: Int
    public var lanes: Int

    public var description: String {
        "circuit folded-observables \(inputWidth)→\(outputs), \(terms) coefficients per output"
    }
}

extension KernelDefinition {
    /// Unrolled coefficients above this count make code too large to be worth generating
    /// (`CircuitPlan` never folds above it).
    public static let maximumFoldedCircuitCoefficients = FoldedObservables.maximumCompiledCoefficients

    /// Buffers: angles `[N, k]`, output `[N, m]` (both blocked as `[N,K,1,1]`). One work item is
    /// one sample; each call vectorises its range over `lanes` consecutive samples.
    public static func foldedCircuit(_ f: FoldedObservables, target: TargetDescription, name: String) throws -> KernelDefinition {
        let columns = Array(f.featureColumns.joined())
        let total = f.featureCounts.reduce(1, *)
        guard f.outputs > 0, f.inputWidth > 0 else { throw CodegenError(.kernel, "circuit: the folded circuit has no outputs or no input columns") }
        guard f.coefficients.count == f.outputs * total, total == columns.reduce(1, { acc, _ in acc * 3 }) else {
            throw CodegenError(.kernel, "circuit: \(f.coefficients.count) folded coefficients do not match \(f.outputs) outputs × \(total) features")
        }
        guard f.coefficients.count <= maximumFoldedCircuitCoefficients else {
            throw CodegenError(.kernel, "circuit: \(f.coefficients.count) folded coefficients exceed the kernel limit of \(maximumFoldedCircuitCoefficients); use the state-vector evaluator")
        }
        let l = target.vectorWidth
        let spec = FoldedCircuitSpec(inputWidth: f.inputWidth, outputs: f.outputs, rotationColumns: columns, terms: total, lanes: l)
        // [outputs][terms][lanes]: every coefficient splatted.
        var params = [Float](repeating: 0, count: f.coefficients.count * l)
        for (i, c) in f.coefficients.enumerated() { for j in 0..<l { params[i * l + j] = Float(c) } }
        return KernelDefinition(name: name, kind: "circuit", summary: spec.description,
                                buffers: [.blocked("angles", .input, [f.inputWidth, 1, 1], lanes: l),
                                          .blocked("output", .output, [f.outputs, 1, 1], lanes: l)],
                                itemsPerSample: 1, flopsPerSample: 2 * f.coefficients.count * 2 / 3 + 40 * Set(columns).count, lanes: l,
                                params: params, body: .foldedCircuit(spec))
    }
}

/// Items are samples; `[begin, end)` runs as full blocks of `lanes` samples (one vector lane per
/// sample), then one partial block whose missing lanes read the block's first sample and store nothing.
struct FoldedCircuitGenerator {
    let s: FoldedCircuitSpec
    let b: IRBuilder

    func emit() {
        let l = s.lanes
        let bufs = b.buffers(2)
        let begin = b.param(2), end = b.param(3)
        let count = b.sub(end, begin)
        let fullEnd = b.add(begin, b.mul(b.sdiv(count, b.m.constI64(l)), b.m.constI64(l)))
        b.loop(begin, fullEnd, step: l, "block") { start in
            emitBlock(start: start, valid: nil, x: bufs[0], y: bufs[1])
        }
        b.when(b.icmp(LLVMIntSLT, fullEnd, end), "tail") {
            emitBlock(start: fullEnd, valid: b.sub(end, fullEnd), x: bufs[0], y: bufs[1])
        }
        b.retVoid()
    }

    /// A value that is either coefficient `i` of the params (not yet loaded) or a vector in a register.
    enum Term { case coefficient(Int), value(IRValue) }

    private func emitBlock(start: IRValue, valid: IRValue?, x: IRValue, y: IRValue) {
        let l = s.lanes
        let inStride = ceilDiv(s.inputWidth, l) * l, outStride = ceilDiv(s.outputs, l) * l
        // Row of each lane's sample; past `valid`, the block's first sample (always in range).
        let rows: [IRValue] = (0..<l).map { j in
            let row = b.add(start, j)
            guard let valid, j > 0 else { return row }
            return b.select(b.icmp(LLVMIntSLT, b.m.constI64(j), valid), row, start)
        }
        var features: [Int: (cos: IRValue, sin: IRValue)] = [:]
        for column in Set(s.rotationColumns).sorted() {
            var v = LLVMGetUndef(b.m.vector(b.m.f32, l))!
            for (j, row) in rows.enumerated() { v = b.insert(v, b.loadF32(b.gep(x, b.add(b.mul(row, inStride), column))), j) }
            let (sine, cosine) = b.sinCos(v)
            features[column] = (cosine, sine)
        }
        let results = (0..<s.outputs).map { o in
            materialize(contract(o, features: features))
        }
        for (j, row) in rows.enumerated() {
            let store = {
                let out = b.gep(y, b.mul(row, outStride))
                for o in 0..<outStride {
                    b.store(o < s.outputs ? b.extract(results[o], j) : b.m.constF32(0), b.gep(out, o))
                }
            }
            if let valid, j > 0 { b.when(b.icmp(LLVMIntSLT, b.m.constI64(j), valid), "lane", store) } else { store() }
        }
    }

    /// Σ_k c[o,k] Φ_k, contracting the last rotation's (1, cos, sin) first.
    private func contract(_ o: Int, features: [Int: (cos: IRValue, sin: IRValue)]) -> Term {
        let total = s.terms
        var level: [Term] = ((o * total)..<((o + 1) * total)).map { .coefficient($0) }
        for column in s.rotationColumns.reversed() {
            guard let f = features[column] else { continue }
            level = stride(from: 0, to: level.count, by: 3).map { k in
                mulAdd(mulAdd(level[k], level[k + 1], f.cos), level[k + 2], f.sin)
            }
        }
        return level[0]
    }

    /// acc + a·f.
    private func mulAdd(_ acc: Term, _ a: Term, _ f: IRValue) -> Term {
        .value(b.fma(materialize(a), f, materialize(acc)))
    }

    private func materialize(_ t: Term) -> IRValue {
        switch t {
        case .coefficient(let i): return b.loadVector(b.gep(b.param(1), i * s.lanes), s.lanes)
        case .value(let v): return v
        }
    }
}

extension IRBuilder {
    /// (sin x, cos x) for a float vector or scalar: x = jπ/2 + r with |r| ≤ π/4 (three-part
    /// Cody–Waite reduction), Cephes' sinf/cosf polynomials on r, then the quadrant j mod 4 swaps
    /// and negates. Absolute error ≈ 1e-7 for |x| up to about 10⁴.
    func sinCos(_ x: IRValue) -> (sin: IRValue, cos: IRValue) {
        let c = { (v: Float) in self.const(v, like: x) }
        let n = lanes(of: x)
        let isVector = LLVMGetTypeKind(typeOf(x)) == LLVMVectorTypeKind
        let int = { (v: Int) in isVector ? self.m.splatI32(v, n) : self.m.constI32(v) }
        let j = floor(fma(x, c(0.636619772367581343), c(0.5)))
        var r = fma(j, c(-1.5703125), x)
        r = fma(j, c(-4.837512969970703125e-4), r)
        r = fma(j, c(-7.54978995489188216e-8), r)
        let z = fmul(r, r)
        var ps = c(-1.9515295891e-4)
        ps = fma(ps, z, c(8.3321608736e-3))
        ps = fma(ps, z, c(-1.6666654611e-1))
        let sr = fma(fmul(ps, z), r, r)
        var pc = c(2.443315711809948e-5)
        pc = fma(pc, z, c(-1.388731625493765e-3))
        pc = fma(pc, z, c(4.166664568298827e-2))
        let cr = fadd(fma(fmul(pc, z), z, fmul(z, c(-0.5))), c(1))
        let q = fptosi(j, isVector ? m.vector(m.i32, n) : m.i32)
        let swap = icmp(LLVMIntNE, and(q, int(1)), int(0))
        let negateSin = icmp(LLVMIntNE, and(q, int(2)), int(0))
        let negateCos = icmp(LLVMIntNE, and(add(q, int(1)), int(2)), int(0))
        let s0 = select(swap, cr, sr), c0 = select(swap, sr, cr)
        return (select(negateSin, fsub(c(0), s0), s0), select(negateCos, fsub(c(0), c0), c0))
    }
}
