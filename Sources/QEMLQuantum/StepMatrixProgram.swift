import QEMLIR

/// How to build one sample's matrix of an input-dependent step without allocating: the compiled
/// state-vector kernel needs it for every op that reads the input, for every sample, and
/// `CircuitStep.matrix` (arrays, a simulated block) would cost more than the kernel itself.
///
/// The matrix of a fused block is the product of its factors, each embedded in the block's index
/// space: starting from the identity, each factor is applied to every column.
public struct StepMatrixProgram: Hashable, Sendable {
    public enum Source: Hashable, Sendable {
        case fixed([Complex])
        case gate(GateKind, [Angle])
    }

    public struct Factor: Hashable, Sendable {
        public var source: Source
        /// Block-index offset of each of the factor's 2^k basis states (its wires[0] most significant).
        public var offsets: [Int]
        /// Block indices with all of the factor's bits zero.
        public var bases: [Int]
    }

    /// 2^k for the step's k wires.
    public let dimension: Int
    public let factors: [Factor]
    /// The step is a single gate on its own wires: its matrix is written directly.
    public let isSingleGate: Bool

    /// Complex scratch `evaluate` needs.
    var scratchCount: Int { 16 + dimension }

    init(_ step: CircuitStep) {
        let wires = step.wires, k = wires.count
        dimension = 1 << k
        func flatten(_ s: CircuitStep) -> [CircuitStep] { if case .block(_, let inner) = s { return inner.flatMap(flatten) }; return [s] }
        factors = flatten(step).map { part in
            let local = part.wires.map { w in k - 1 - (wires.firstIndex(of: w) ?? 0) }
            let offsets = basisOffsets(local)
            let mask = local.reduce(0) { $0 | (1 << $1) }
            let source: Source
            switch part {
            case .gate(let g): source = .gate(g.kind, g.angles)
            default: source = .fixed(part.matrix(noInput).entries)
            }
            return Factor(source: source, offsets: offsets, bases: (0..<(1 << k)).filter { $0 & mask == 0 })
        }
        if case .gate = step { isSingleGate = true } else { isSingleGate = false }
    }

    /// Writes the matrix (row-major, `dimension`²) for the input `row` at `out`.
    func evaluate(_ row: UnsafeBufferPointer<Double>, into out: UnsafeMutablePointer<Complex>, scratch: UnsafeMutablePointer<Complex>) {
        if isSingleGate, case .gate(let kind, let angles) = factors[0].source {
            return GateMatrix.write(kind, Self.values(angles, row), into: out)
        }
        let d = dimension
        for i in 0..<(d * d) { out[i] = i % (d + 1) == 0 ? .one : .zero }
        let g = scratch, column = scratch + 16
        // out ← factor · out, column by column.
        func apply(_ f: Factor, _ m: UnsafePointer<Complex>) {
            let n = f.offsets.count
            for c in 0..<d {
                for base in f.bases {
                    for j in 0..<n { column[j] = out[(base + f.offsets[j]) * d + c] }
                    for i in 0..<n {
                        var acc = Complex.zero
                        for j in 0..<n { acc += m[i * n + j] * column[j] }
                        out[(base + f.offsets[i]) * d + c] = acc
                    }
                }
            }
        }
        for f in factors {
            switch f.source {
            case .gate(let kind, let angles):
                GateMatrix.write(kind, Self.values(angles, row), into: g)
                apply(f, g)
            case .fixed(let entries):
                entries.withUnsafeBufferPointer { apply(f, $0.baseAddress!) }
            }
        }
    }

    private static func values(_ angles: [Angle], _ row: UnsafeBufferPointer<Double>) -> (Double, Double, Double) {
        (angles.count > 0 ? angles[0].value(row) : 0, angles.count > 1 ? angles[1].value(row) : 0, angles.count > 2 ? angles[2].value(row) : 0)
    }
}
