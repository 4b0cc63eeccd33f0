import Foundation
import QEMLIR

/// Strategy (f), what the code generator compiles for circuits too large to fold: the program's
/// steps as ops on a double-precision state vector, grouped into cache-sized stages.
///
/// A stage holds `localQubits` bit positions of the basis index, always including the lowest
/// ones (so gathers move contiguous runs). For each assignment of the other bits its 2^L
/// amplitudes are gathered into a buffer that stays in cache while every op of the stage runs
/// over it, then scattered back: one pass over memory per stage instead of one per gate (cache
/// blocking). A step may run in an earlier stage than a step before it when they share no wire
/// (they commute), so a stage takes every step that fits its wires.
///
/// Inside a stage, neighbouring steps fuse into one op of up to `maxFusedQubits` wires only when
/// `VectorizedOp.cost` — the vector instructions the generated loop will execute — goes down:
/// in cache, gates are bound by arithmetic, and a fused dense 4×4 can cost more than its parts.
public struct StateVectorSchedule: Hashable, Sendable {
    /// One matrix entry of an op: a number known now, or a per-sample coefficient.
    public enum Entry: Hashable, Sendable {
        case constant(Complex)
        /// Coefficient `index` of the per-sample array (real part at 2·index, imaginary at
        /// 2·index+1); `real`: the imaginary part is always zero.
        case variable(index: Int, real: Bool)

        var isZero: Bool { self == .constant(.zero) }
        var isOne: Bool { self == .constant(.one) }
        var hasReal: Bool { if case .constant(let c) = self { return c.re != 0 }; return true }
        var hasImaginary: Bool {
            switch self {
            case .constant(let c): return c.im != 0
            case .variable(_, let real): return !real
            }
        }
    }

    /// One step (or several fused) as a matrix on local bit positions.
    public struct Op: Hashable, Sendable {
        /// What it evaluates; its matrix is built per sample when it reads the input.
        public var step: CircuitStep
        /// The local bit position of each of the step's wires (wires[0] is the matrix index's most
        /// significant bit).
        public var positions: [Int]
        /// Row-major 2^k × 2^k.
        public var entries: [Entry]
    }

    public struct Stage: Hashable, Sendable {
        /// The global bit positions held in the buffer, ascending: local position j is global
        /// position `positions[j]`.
        public var positions: [Int]
        public var ops: [Op]
        /// The buffer is a contiguous slice of the state: no gather needed.
        public var isContiguous: Bool { positions.last.map { $0 == positions.count - 1 } ?? true }
        /// One chunk per assignment of the bits outside the stage.
        public func chunks(qubits: Int) -> Int { 1 << (qubits - positions.count) }
    }

    public let qubits: Int
    public let inputWidth: Int
    /// Amplitudes per vector register (8 doubles for AVX-512, 4 for AVX2, 2 for NEON).
    public let lanes: Int
    /// Bit positions per stage (all of them when the state fits in cache).
    public let localQubits: Int
    public let stages: [Stage]
    public let measurements: [QEMLIR.Measurement]
    /// Complex per-sample coefficients (the variable entries of all ops).
    public let coefficientCount: Int

    public var opCount: Int { stages.reduce(0) { $0 + $1.ops.count } }
    public var outputWidth: Int { measurements.outputWidth }

    /// Ops above this count are not compiled: LLVM needs a few milliseconds per op's loop, and a
    /// 10^5-gate circuit (the language's limit) would take minutes.
    public static let maximumCompiledOps = 2_000

    /// The largest stage whose buffer (2^L complex doubles) fills at most three quarters of an L1
    /// data cache of `l1Bytes`: the ops of a stage are bound by loads and stores, and L1 serves
    /// them fastest. Measured on random 400-gate circuits (`qemlc bench-circuit --compiled
    /// --local-qubits L`, benchmarks/RESULTS.md): at 20 qubits 17 stages of 11 qubits (32 KB)
    /// take 0.6–0.8× the time of 7 stages of 16 (1 MB, half of L2), though they pass over the
    /// whole state 2.4× as often.
    public static func localQubits(l1Bytes: Int) -> Int {
        var l = 6
        while 16 << (l + 1) <= l1Bytes * 3 / 4 && l < 20 { l += 1 }
        return l
    }

    /// Bit positions every stage keeps local: the in-register ones and one more, so a gather
    /// moves runs of two vectors.
    static func fixedLowPositions(lanes: Int) -> Int { lanes.trailingZeroBitCount + 1 }

    /// The schedule, or nil when `lanes` is not a power of two. Vectors are narrowed to half the
    /// state for tiny circuits; a stage holds at least the fixed low positions plus the widest step.
    public init?(_ program: CircuitProgram, lanes: Int, localQubits: Int, maxFusedQubits: Int = 3) {
        let n = program.qubits
        guard n >= 1, lanes >= 1, lanes.nonzeroBitCount == 1 else { return nil }
        let lanes = min(lanes, 1 << (n - 1))
        let low = Self.fixedLowPositions(lanes: lanes)
        let widest = program.steps.map(\.wires.count).max() ?? 0
        let l = min(n, max(localQubits, low + widest))

        qubits = n
        inputWidth = program.inputWidth
        self.lanes = lanes
        self.localQubits = l
        measurements = program.measurements

        var stages: [Stage] = []
        var remaining = program.steps
        let position = { (wire: Int) in n - 1 - wire }
        repeat {
            var local = Set((0..<min(low, l)).map { n - 1 - $0 })
            var taken: [CircuitStep] = [], deferred: [CircuitStep] = [], blocked = Set<Int>()
            for step in remaining {
                let ws = Set(step.wires)
                if l == n || (ws.isDisjoint(with: blocked) && local.union(ws).count <= l) {
                    local.formUnion(ws)
                    taken.append(step)
                } else {
                    deferred.append(step)
                    blocked.formUnion(ws)
                }
            }
            // Fill the stage with the lowest free positions: longer contiguous runs to gather.
            var positions = Set(local.map(position))
            var p = 0
            while positions.count < l { if !positions.contains(p) { positions.insert(p) }; p += 1 }
            let sorted = positions.sorted()
            stages.append(Stage(positions: sorted, ops: Self.fuse(taken, stagePositions: sorted, qubits: n, lanes: lanes,
                                                                   inputWidth: program.inputWidth, maxQubits: maxFusedQubits)))
            remaining = deferred
        } while !remaining.isEmpty
        // Number the variable entries.
        var next = 0
        for s in stages.indices {
            for o in stages[s].ops.indices {
                stages[s].ops[o].entries = stages[s].ops[o].entries.map { e in
                    guard case .variable(_, let real) = e else { return e }
                    defer { next += 1 }
                    return .variable(index: next, real: real)
                }
            }
        }
        self.stages = stages
        coefficientCount = next
        coefficientSources = stages.flatMap(\.ops).compactMap { op in
            var entries: [Int] = [], indices: [Int] = []
            for (i, e) in op.entries.enumerated() {
                if case .variable(let index, _) = e { entries.append(i); indices.append(index) }
            }
            return entries.isEmpty ? nil : CoefficientSource(program: StepMatrixProgram(op.step), entries: entries, indices: indices)
        }
    }

    /// Writes one sample's coefficients (`2 · coefficientCount` doubles) for the input `row`;
    /// `scratch` holds `fillScratchCount` complex numbers.
    public func fillCoefficients(_ row: UnsafeBufferPointer<Double>, into out: UnsafeMutablePointer<Double>,
                                 scratch: UnsafeMutablePointer<Complex>) {
        let matrix = scratch, work = scratch + largestMatrix
        for source in coefficientSources {
            source.program.evaluate(row, into: matrix, scratch: work)
            for (entry, index) in zip(source.entries, source.indices) {
                out[2 * index] = matrix[entry].re
                out[2 * index + 1] = matrix[entry].im
            }
        }
    }

    /// Complex scratch for `fillCoefficients`: the largest op matrix and the evaluation's own.
    public var fillScratchCount: Int { largestMatrix + (coefficientSources.map(\.program.scratchCount).max() ?? 0) }
    private var largestMatrix: Int { coefficientSources.map { $0.program.dimension * $0.program.dimension }.max() ?? 0 }

    /// An op with variable entries: how to build its matrix, and which entries go to which coefficients.
    public struct CoefficientSource: Hashable, Sendable {
        public var program: StepMatrixProgram
        /// Matrix entries (row-major) kept, and the coefficient each goes to.
        public var entries: [Int]
        public var indices: [Int]
    }
    public let coefficientSources: [CoefficientSource]

    // MARK: fusion inside a stage

    /// Greedy fusion after qsim's fuser (see `GateFusion`), accepting a merge only when the fused
    /// op's loop is cheaper than the loops it replaces.
    static func fuse(_ steps: [CircuitStep], stagePositions: [Int], qubits n: Int, lanes: Int, inputWidth: Int, maxQubits: Int) -> [Op] {
        let local = { (wire: Int) in stagePositions.firstIndex(of: n - 1 - wire) ?? 0 }
        let l = stagePositions.count
        func op(_ step: CircuitStep) -> Op {
            Op(step: step, positions: step.wires.map(local), entries: structure(of: step, inputWidth: inputWidth))
        }
        func cost(_ o: Op) -> Int { VectorizedOp(o, lanes: lanes).cost(localQubits: l) }

        var ops: [Op?] = []
        var last = [Int?](repeating: nil, count: n)
        for step in steps {
            let candidate = op(step)
            // The identity (a rotation by a zero angle) costs a loop and changes nothing.
            if VectorizedOp(candidate, lanes: lanes).outputs.isEmpty { continue }
            let owners = Set(step.wires.compactMap { last[$0] })
            if owners.count == 1, let b = owners.first, let current = ops[b],
               current.step.wires.allSatisfy({ last[$0] == b }) {
                let wires = Set(current.step.wires).union(step.wires).sorted()
                if wires.count <= maxQubits {
                    let merged = op(fusedStep(wires: wires, [current.step, step]))
                    if cost(merged) <= cost(current) + cost(candidate) {
                        ops[b] = merged
                        for w in wires { last[w] = b }
                        continue
                    }
                }
            }
            ops.append(candidate)
            for w in step.wires { last[w] = ops.count - 1 }
        }
        return ops.compactMap { $0 }
    }

    /// `parts` (applied in order) as one step on `wires`.
    static func fusedStep(wires: [Int], _ parts: [CircuitStep]) -> CircuitStep {
        let flat = parts.flatMap { p -> [CircuitStep] in if case .block(_, let s) = p { return s }; return [p] }
        if flat.contains(where: \.dependsOnInput) { return .block(wires: wires, steps: flat) }
        return .unitary(blockMatrix(wires: wires, steps: flat.map { ($0.matrix(noInput), $0.wires) }), wires: wires)
    }

    /// Which entries of a step's matrix are constants and which change with the input. A step that
    /// reads the input is evaluated on three unrelated probe rows: an entry equal on all three is a
    /// constant (zeros and ones of controlled and diagonal gates), one whose imaginary part is zero
    /// on all three is real (RY).
    static func structure(of step: CircuitStep, inputWidth: Int) -> [Entry] {
        guard step.dependsOnInput else { return step.matrix(noInput).entries.map { .constant($0) } }
        let probes: [GateMatrix] = (0..<3).map { d in
            let row = (0..<max(inputWidth, 1)).map { c -> Double in
                let x = 1.7 + 2.3 * Double(d) + 0.61 * Double(c) + 0.37 * Double(c * c)
                return 3 * sin(x)
            }
            return row.withUnsafeBufferPointer { step.matrix($0) }
        }
        return probes[0].entries.indices.map { i in
            let v = probes.map { $0.entries[i] }
            if v.allSatisfy({ $0 == v[0] }) { return .constant(v[0]) }
            return .variable(index: -1, real: v.allSatisfy { $0.im == 0 })
        }
    }
}

/// How an op runs on vectors of `lanes` amplitudes — what the code generator emits and what the
/// fusion cost counts. The op's positions below log2(lanes) lie inside a vector ("low"); the others
/// select one of 2^|high| vectors of a group. For each vector that changes, the new value is
/// Σ over source vectors h' and lane flips s of C ⊙ shuffle_s(x[h']), where shuffle_s(x)[ℓ] =
/// x[ℓ xor s] and C holds, lane by lane, the matrix entry linking the two amplitudes.
public struct VectorizedOp: Sendable {
    public struct Term: Sendable {
        public var source: Int
        /// Lane mask: the term reads lane ℓ xor flip.
        public var flip: Int
        /// One entry per lane.
        public var coefficients: [StateVectorSchedule.Entry]

        /// Coefficient one in every lane, no shuffle: the term is the source vector itself.
        public var isUnit: Bool { flip == 0 && coefficients.allSatisfy(\.isOne) }
        public var hasReal: Bool { coefficients.contains(where: \.hasReal) }
        public var hasImaginary: Bool { coefficients.contains(where: \.hasImaginary) }
    }

    public struct Output: Sendable {
        public var vector: Int
        public var terms: [Term]
    }

    public let lanes: Int
    /// Op positions at or above log2(lanes), ascending: bit j of a vector number is `high[j]`.
    public let high: [Int]
    /// The vectors that change (a vector whose only term is itself times one is left alone).
    public let outputs: [Output]
    /// The vectors read.
    public var sources: [Int] { Array(Set(outputs.flatMap { $0.terms.map(\.source) })).sorted() }

    public init(_ op: StateVectorSchedule.Op, lanes: Int) {
        let w = lanes.trailingZeroBitCount, k = op.positions.count, dim = 1 << k
        self.lanes = lanes
        high = op.positions.filter { $0 >= w }.sorted()
        let lowMask = op.positions.filter { $0 < w }.reduce(0) { $0 | (1 << $1) }
        let high = self.high
        // The matrix index of lane `lane` of vector `v`.
        func index(_ v: Int, _ lane: Int) -> Int {
            var r = 0
            for (t, p) in op.positions.enumerated() {
                let bit = p >= w ? (v >> (high.firstIndex(of: p) ?? 0)) & 1 : (lane >> p) & 1
                r |= bit << (k - 1 - t)
            }
            return r
        }
        let flips = (0..<lanes).filter { $0 & ~lowMask == 0 }
        var outputs: [Output] = []
        for v in 0..<(1 << high.count) {
            var terms: [Term] = []
            for source in 0..<(1 << high.count) {
                for s in flips {
                    let c = (0..<lanes).map { lane in op.entries[index(v, lane) * dim + index(source, lane ^ s)] }
                    if c.allSatisfy(\.isZero) { continue }
                    terms.append(Term(source: source, flip: s, coefficients: c))
                }
            }
            if terms.count == 1, terms[0].source == v, terms[0].isUnit { continue }
            outputs.append(Output(vector: v, terms: terms))
        }
        self.outputs = outputs
    }

    /// Vector instructions per group of 2^|high| vectors: loads and stores of real and imaginary
    /// parts, a shuffle pair per flipped term, two FMAs per non-zero coefficient part.
    public var instructionsPerGroup: Int {
        var n = 2 * sources.count
        for o in outputs {
            n += 2
            for t in o.terms {
                if t.flip != 0 { n += 2 }
                n += t.isUnit ? 2 : 2 * ((t.hasReal ? 1 : 0) + (t.hasImaginary ? 1 : 0))
            }
        }
        return n
    }

    /// Groups in a buffer of 2^localQubits amplitudes.
    public func groups(localQubits: Int) -> Int { 1 << max(0, localQubits - lanes.trailingZeroBitCount - high.count) }

    public func cost(localQubits: Int) -> Int { instructionsPerGroup * groups(localQubits: localQubits) }
}
