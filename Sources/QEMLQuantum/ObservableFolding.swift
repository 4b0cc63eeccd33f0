import Foundation
import QEMLIR

/// Strategy (d): for circuits whose input enters only through single-qubit gates applied before any
/// entangling gate on their wire, the state is ψ(x) = U·⊗_w φ_w(x) with U fixed. Each measured
/// operator O folds into Mᵢ = U†OU, so ⟨O⟩ = ψ(x)†Mᵢψ(x) for the product state ⊗φ_w(x).
///
/// The fast kernel writes Mᵢ in the Pauli basis and each φ_w(x)φ_w(x)† through its Bloch vector,
/// which is linear in (1, cos x, sin x) per encoding rotation; ⟨O⟩ becomes a small real tensor
/// contracted wire by wire with those features (3^n terms for one rotation per wire, real
/// arithmetic for real and complex encodings alike), batched over samples four at a time.
public struct FoldedObservables: Sendable {
    public let qubits: Int
    public let inputWidth: Int
    /// Per wire, its encoding steps (single-qubit, before any entangling gate), in order.
    public let encodings: [[CircuitStep]]
    /// Per output column, the folded operator Mᵢ (2^n × 2^n).
    public let observables: [GateMatrix]
    /// True when every encoding keeps ψ(x) real (then ψᵀRe(Mᵢ)ψ suffices).
    public let encodingIsReal: Bool
    /// Per wire, the input columns of its encoding rotations; each contributes features (1, cos, sin).
    public let featureColumns: [[Int]]
    /// Per wire, the feature count 3^m.
    public let featureCounts: [Int]
    /// [outputs][Π featureCounts] row-major, wire 0 outermost.
    public let coefficients: [Double]
    /// Number of fixed steps folded into the observables.
    public let foldedSteps: Int
    /// `coefficients` transposed to [Π featureCounts][outputs rounded up to 4] for the kernel.
    let interleavedCoefficients: [Double]
    /// Input columns of all encoding rotations, wire 0 first: the order Φ's factors are built in.
    let flatFeatureColumns: [Int]
    let usedColumns: [Int]

    public var outputs: Int { observables.count }

    /// Observable folding forms U (4^n entries) and Pauli-decomposes each Mᵢ (8^n work): small n only.
    public static let maximumQubits = 8

    /// The generated folded-observables kernel unrolls every coefficient; above this many (e.g. 8
    /// qubits measuring every wire: 8 × 3^8 = 52,488) its code is too large to be worth
    /// generating, and `CircuitPlan` chooses the compiled state-vector kernel instead.
    public static let maximumCompiledCoefficients = 40_000

    /// Why the strategy does not apply to `p`, or nil when it does.
    public static func inapplicability(_ p: CircuitProgram) -> String? {
        guard p.qubits <= maximumQubits else { return "\(p.qubits) qubits exceed the folding limit of \(maximumQubits)" }
        var entangled = [Bool](repeating: false, count: p.qubits)
        for step in p.steps {
            let ws = step.wires
            if ws.count == 1 && !entangled[ws[0]] {
                if step.dependsOnInput && rotations(step) == nil { return "an input-dependent step is not a rotation" }
                continue
            }
            if step.dependsOnInput {
                return ws.count > 1 ? "a multi-qubit gate reads the input" : "a gate reads the input after an entangling gate on wire \(ws[0])"
            }
            for w in ws { entangled[w] = true }
        }
        return nil
    }

    /// Folds `p`; nil when `inapplicability(p)` gives a reason.
    public init?(_ p: CircuitProgram) {
        guard FoldedObservables.inapplicability(p) == nil else { return nil }
        let n = p.qubits, dim = 1 << n
        // A wire's encoding ends at its last input-dependent step; fixed steps after it fold into U.
        var lastInput = [Int](repeating: -1, count: n)
        for (i, step) in p.steps.enumerated() where step.dependsOnInput { lastInput[step.wires[0]] = i }
        var encodings = [[CircuitStep]](repeating: [], count: n)
        var fixed: [CircuitStep] = []
        for (i, step) in p.steps.enumerated() {
            if step.wires.count == 1 && i <= lastInput[step.wires[0]] { encodings[step.wires[0]].append(step) } else { fixed.append(step) }
        }
        let u = blockMatrix(wires: Array(0..<n), steps: fixed.map { ($0.matrix(noInput), $0.wires) })
        let uAdjoint = u.adjoint
        var observables: [GateMatrix] = []
        for m in p.measurements {
            switch m {
            case .expval(let pauli, let w):
                // P·U: apply P on wire w to every column of U.
                var pu = u
                let pm = GateMatrix.pauli(pauli)
                var column = StateVector(qubits: n)
                for j in 0..<dim {
                    for r in 0..<dim { column.re[r] = u[r, j].re; column.im[r] = u[r, j].im }
                    column.apply(pm, wire: w)
                    for r in 0..<dim { pu[r, j] = column[r] }
                }
                observables.append(uAdjoint * pu)
            case .probs(let ws):
                for outcome in 0..<(1 << ws.count) {
                    var pu = u
                    for r in 0..<dim {
                        var j = 0
                        for w in ws { j = (j << 1) | ((r >> (n - 1 - w)) & 1) }
                        if j != outcome { for c in 0..<dim { pu[r, c] = .zero } }
                    }
                    observables.append(uAdjoint * pu)
                }
            }
        }
        self.qubits = n
        self.inputWidth = p.inputWidth
        self.encodings = encodings
        self.observables = observables
        self.foldedSteps = fixed.count
        self.encodingIsReal = encodings.allSatisfy { $0.allSatisfy(FoldedObservables.staysReal) }

        // Bloch-vector transfer per wire: a 4 × F matrix mapping features to (1, x, y, z).
        var transfers: [[Double]] = []
        var columns: [[Int]] = []
        for w in 0..<n {
            var l: [Double] = [1, 0, 0, 1]   // |0⟩: Bloch vector (0, 0, 1); 4 × 1, row-major
            var f = 1
            var cols: [Int] = []
            for step in encodings[w] {
                for r in FoldedObservables.rotations(step) ?? [] {
                    switch r {
                    case .fixed(let v):
                        l = matmul4(blochMatrix(v), l, f)
                    case .input(let axis, let column):
                        // R(θ) = A0 + A1 cos θ + A2 sin θ for a rotation about a fixed axis.
                        let r0 = blochMatrix(GateMatrix.of(axis, [0])), rpi = blochMatrix(GateMatrix.of(axis, [Double.pi]))
                        let rhalf = blochMatrix(GateMatrix.of(axis, [Double.pi / 2]))
                        let a0 = zip(r0, rpi).map { ($0 + $1) / 2 }
                        let a1 = zip(r0, rpi).map { ($0 - $1) / 2 }
                        let a2 = zip(rhalf, a0).map { $0 - $1 }
                        let parts = [a0, a1, a2].map { matmul4($0, l, f) }
                        var next = [Double](repeating: 0, count: 4 * f * 3)
                        for row in 0..<4 { for j in 0..<f { for t in 0..<3 { next[row * f * 3 + j * 3 + t] = parts[t][row * f + j] } } }
                        l = next
                        f *= 3
                        cols.append(column)
                    }
                }
            }
            transfers.append(l)
            columns.append(cols)
        }
        self.featureColumns = columns
        self.featureCounts = columns.map { c in c.reduce(1) { acc, _ in acc * 3 } }

        // Pauli coefficients c_s = Tr(σ_s M)/2^n, then each wire's 4 Pauli indices replaced by its features.
        var coefficients: [Double] = []
        for m in observables {
            var t = pauliCoefficients(m, qubits: n)
            var shape = [Int](repeating: 4, count: n)
            for w in 0..<n {
                t = contract(t, shape: shape, axis: w, with: transfers[w], columns: featureCounts[w])
                shape[w] = featureCounts[w]
            }
            coefficients += t
        }
        self.coefficients = coefficients
        let total = featureCounts.reduce(1, *), outs = observables.count
        let padded = (outs + 3) / 4 * 4
        var interleaved = [Double](repeating: 0, count: total * padded)
        for o in 0..<outs { for k in 0..<total { interleaved[k * padded + o] = coefficients[o * total + k] } }
        self.interleavedCoefficients = interleaved
        self.flatFeatureColumns = Array(columns.joined())
        self.usedColumns = Array(Set(columns.joined())).sorted()
    }

    // MARK: evaluation

    /// ψ(x)†Mᵢψ(x) with the product state built explicitly (2^n amplitudes): the literal form of the
    /// strategy, real arithmetic when the encoding keeps ψ real.
    public func evaluateDirect(inputs: [Double], batch: Int) -> [Double] {
        let dim = 1 << qubits
        var out: [Double] = []
        out.reserveCapacity(batch * outputs)
        inputs.withUnsafeBufferPointer { all in
            for s in 0..<batch {
                let row = UnsafeBufferPointer(rebasing: all[(s * inputWidth)..<((s + 1) * inputWidth)])
                var psi: [Complex] = [.one]
                for w in 0..<qubits {
                    var phi = StateVector(qubits: 1)
                    for step in encodings[w] { phi.apply(step.matrix(row), wire: 0) }
                    psi = psi.flatMap { a in [a * phi[0], a * phi[1]] }
                }
                for m in observables {
                    var acc = 0.0
                    if encodingIsReal {
                        for r in 0..<dim { var t = 0.0; for c in 0..<dim { t += m[r, c].re * psi[c].re }; acc += psi[r].re * t }
                    } else {
                        for r in 0..<dim {
                            var t = Complex.zero
                            for c in 0..<dim { t += m[r, c] * psi[c] }
                            acc += (psi[r].conjugate * t).re
                        }
                    }
                    out.append(acc)
                }
            }
        }
        return out
    }

    /// The batched kernel: [batch, outputs] from [batch, inputWidth], four samples per SIMD lane group.
    public func evaluate(inputs: [Double], batch: Int) -> [Double] {
        var out = [Double](repeating: 0, count: batch * outputs)
        inputs.withUnsafeBufferPointer { x in
            out.withUnsafeMutableBufferPointer { y in evaluate(inputs: x, batch: batch, into: y) }
        }
        return out
    }

    /// The batched kernel into caller-owned memory (no allocation per sample). Per group of four
    /// samples: cos/sin of each used input column, the product feature vector Φ = ⊗_w f_w (Π 3^m
    /// entries), then every output as one dot product with Φ, outputs interleaved so their
    /// accumulation chains run in parallel.
    public func evaluate(inputs x: UnsafeBufferPointer<Double>, batch: Int, into y: UnsafeMutableBufferPointer<Double>) {
        let width = inputWidth, outs = outputs, total = featureCounts.reduce(1, *), paddedOutputs = (outs + 3) / 4 * 4
        withUnsafeTemporaryAllocation(of: SIMD4<Double>.self, capacity: 2 * max(width, 1) + total + 4) { scratch in
            let base = scratch.baseAddress.unsafelyUnwrapped
            let cosines = base, sines = base + max(width, 1)
            let phi = sines + max(width, 1), acc = phi + total
            interleavedCoefficients.withUnsafeBufferPointer { coeff in
                let t = coeff.baseAddress.unsafelyUnwrapped
                var s0 = 0
                while s0 < batch {
                    let lanes = min(4, batch - s0)
                    for c in usedColumns {
                        var v = SIMD4<Double>(repeating: 0)
                        let at = s0 &* width &+ c
                        if lanes == 4 {
                            v = SIMD4(x[at], x[at &+ width], x[at &+ 2 &* width], x[at &+ 3 &* width])
                        } else {
                            for l in 0..<lanes { v[l] = x[at &+ l &* width] }
                        }
                        if max(v.max(), -v.min()) < sinCosRange {
                            (sines[c], cosines[c]) = sinCos(v)
                        } else {
                            for l in 0..<4 { cosines[c][l] = cos(v[l]); sines[c][l] = sin(v[l]) }
                        }
                    }
                    // Φ, built wire by wire (wire 0 outermost): each rotation triples it.
                    phi[0] = SIMD4(repeating: 1)
                    var count = 1
                    for c in flatFeatureColumns {
                        let co = cosines[c], si = sines[c]
                        // In place, back to front: entry j moves to 3j ≥ j.
                        var j = count &- 1
                        while j >= 0 {
                            let v = phi[j], d = phi + j &* 3
                            d[2] = v * si; d[1] = v * co; d[0] = v
                            j &-= 1
                        }
                        count &*= 3
                    }
                    // Four outputs at a time in registers (coefficients padded to a multiple of 4).
                    var o0 = 0
                    while o0 < outs {
                        var a0 = SIMD4<Double>(), a1 = a0, a2 = a0, a3 = a0
                        var row = t + o0
                        for k in 0..<total {
                            let f = phi[k]
                            a0 += row[0] * f; a1 += row[1] * f; a2 += row[2] * f; a3 += row[3] * f
                            row += paddedOutputs
                        }
                        acc[0] = a0; acc[1] = a1; acc[2] = a2; acc[3] = a3
                        for o in o0..<min(o0 + 4, outs) { for l in 0..<lanes { y[(s0 + l) * outs + o] = acc[o - o0][l] } }
                        o0 += 4
                    }
                    s0 += 4
                }
            }
        }
    }

    // MARK: helpers

    enum Rotation { case fixed(GateMatrix), input(GateKind, column: Int) }

    /// A single-qubit step as fixed matrices and input rotations about fixed axes; nil if it is none.
    static func rotations(_ step: CircuitStep) -> [Rotation]? {
        switch step {
        case .unitary(let m, _): return [.fixed(m)]
        case .block(_, let steps):
            var out: [Rotation] = []
            for s in steps { guard let r = rotations(s) else { return nil }; out += r }
            return out
        case .gate(let g):
            func one(_ kind: GateKind, _ a: Angle) -> Rotation {
                switch a {
                case .fixed(let v): return .fixed(GateMatrix.of(kind, [v]))
                // PhaseShift equals RZ up to a global phase, which no observable sees.
                case .input(let c): return .input(kind == .phaseshift ? .rz : kind, column: c)
                }
            }
            switch g.kind {
            case .rx, .ry, .rz, .phaseshift: return [one(g.kind, g.angles[0])]
            case .rot: return [one(.rz, g.angles[0]), one(.ry, g.angles[1]), one(.rz, g.angles[2])]
            default: return g.dependsOnInput ? nil : [.fixed(g.fixedMatrix)]
            }
        }
    }

    static func staysReal(_ step: CircuitStep) -> Bool {
        switch step {
        case .unitary(let m, _): return m.isReal()
        case .block(_, let steps): return steps.allSatisfy(staysReal)
        case .gate(let g): return g.kind == .ry
        }
    }
}

/// The 4×4 homogeneous Bloch-sphere map of a 2×2 unitary V: (1, r) ↦ (1, R r) with
/// R_ij = ½ Tr(σ_i V σ_j V†).
func blochMatrix(_ v: GateMatrix) -> [Double] {
    let sigma = [GateMatrix.pauli(.x), GateMatrix.pauli(.y), GateMatrix.pauli(.z)]
    let va = v.adjoint
    var out = [Double](repeating: 0, count: 16)
    out[0] = 1
    for i in 0..<3 {
        for j in 0..<3 {
            let p = sigma[i] * v * sigma[j] * va
            out[(i + 1) * 4 + (j + 1)] = (p[0, 0].re + p[1, 1].re) / 2
        }
    }
    return out
}

/// a (4×4) · b (4×f), row-major.
func matmul4(_ a: [Double], _ b: [Double], _ f: Int) -> [Double] {
    var out = [Double](repeating: 0, count: 4 * f)
    for i in 0..<4 { for k in 0..<4 where a[i * 4 + k] != 0 { for j in 0..<f { out[i * f + j] += a[i * 4 + k] * b[k * f + j] } } }
    return out
}

/// c_s = Tr(σ_s M) / 2^n for every Pauli string s (base-4 digits, wire 0 most significant;
/// digit 0 = I, 1 = X, 2 = Y, 3 = Z), by a transform over each wire's (row bit, column bit) pair:
/// Tr(σ A) per wire is I: A00+A11, X: A01+A10, Y: i(A01−A10), Z: A00−A11. n·4^n work.
func pauliCoefficients(_ m: GateMatrix, qubits n: Int) -> [Double] {
    let dim = 1 << n
    var a = m.entries
    for w in 0..<n {
        let b = 1 << (n - 1 - w)
        for row in 0..<dim where row & b == 0 {
            for col in 0..<dim where col & b == 0 {
                let a00 = a[row * dim + col], a01 = a[row * dim + (col | b)]
                let a10 = a[(row | b) * dim + col], a11 = a[(row | b) * dim + (col | b)]
                a[row * dim + col] = a00 + a11
                a[row * dim + (col | b)] = a01 + a10
                a[(row | b) * dim + col] = Complex.i * (a01 - a10)
                a[(row | b) * dim + (col | b)] = a00 - a11
            }
        }
    }
    // Slot (row, col) holds digit 2·rowbit + colbit per wire.
    var out = [Double](repeating: 0, count: dim * dim)
    for s in 0..<(dim * dim) {
        var row = 0, col = 0
        for w in 0..<n {
            let d = (s >> (2 * (n - 1 - w))) & 3
            row = (row << 1) | (d >> 1)
            col = (col << 1) | (d & 1)
        }
        out[s] = a[row * dim + col].re / Double(dim)
    }
    return out
}

/// Replaces axis `axis` (size 4) of tensor `t` by `columns` entries: t'[.., j, ..] = Σ_s t[.., s, ..] L[s, j].
func contract(_ t: [Double], shape: [Int], axis: Int, with l: [Double], columns f: Int) -> [Double] {
    let outer = shape[..<axis].reduce(1, *), inner = shape[(axis + 1)...].reduce(1, *)
    var out = [Double](repeating: 0, count: outer * f * inner)
    for o in 0..<outer {
        for s in 0..<4 {
            for j in 0..<f {
                let c = l[s * f + j]
                if c == 0 { continue }
                for i in 0..<inner { out[(o * f + j) * inner + i] += c * t[(o * 4 + s) * inner + i] }
            }
        }
    }
    return out
}
