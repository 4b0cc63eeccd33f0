import QEMLIR

/// One step of a circuit program: what the fusion strategies rewrite.
public indirect enum CircuitStep: Hashable, Sendable {
    /// A unitary fixed at compile time on `wires` (wires[0] the most significant bit of its index).
    case unitary(GateMatrix, wires: [Int])
    /// A gate whose angles read the sample's input: its matrix is built per sample.
    case gate(BoundGate)
    /// Several steps fused into one block on `wires` that contains input-dependent gates: the block's
    /// matrix is built per sample, then applied in one pass over the state vector.
    case block(wires: [Int], steps: [CircuitStep])

    public var wires: [Int] {
        switch self {
        case .unitary(_, let w), .block(let w, _): return w
        case .gate(let g): return g.wires
        }
    }

    public var dependsOnInput: Bool {
        switch self {
        case .unitary: return false
        case .gate, .block: return true
        }
    }

    /// The step's matrix for one sample's input row.
    public func matrix(_ row: UnsafeBufferPointer<Double>) -> GateMatrix {
        switch self {
        case .unitary(let m, _): return m
        case .gate(let g): return g.matrix(row)
        case .block(let wires, let steps): return blockMatrix(wires: wires, steps: steps.map { ($0.matrix(row), $0.wires) })
        }
    }
}

/// The product of `parts` (applied in order) as one matrix on `wires`; every part's wires must be
/// among `wires`. Built column by column by simulating each basis state.
public func blockMatrix(wires: [Int], steps parts: [(GateMatrix, [Int])]) -> GateMatrix {
    let k = wires.count, dim = 1 << k
    let local = parts.map { (m, ws) in (m, ws.map { w in wires.firstIndex(of: w) ?? 0 }) }
    var out = GateMatrix(qubits: k, entries: [Complex](repeating: .zero, count: dim * dim))
    var column = StateVector(qubits: k)
    for j in 0..<dim {
        for a in 0..<dim { column.re[a] = 0; column.im[a] = 0 }
        column.re[j] = 1
        for (m, ws) in local { column.apply(m, wires: ws) }
        for r in 0..<dim { out[r, j] = column[r] }
    }
    return out
}

/// A circuit as a list of steps over a state vector, with its measurements. The fusion strategies
/// are pure rewrites `CircuitProgram → CircuitProgram`; `run` is their common semantics.
public struct CircuitProgram: Hashable, Sendable {
    public var qubits: Int
    public var inputWidth: Int
    public var steps: [CircuitStep]
    public var measurements: [Measurement]

    public init(qubits: Int, inputWidth: Int, steps: [CircuitStep], measurements: [Measurement]) {
        self.qubits = qubits
        self.inputWidth = inputWidth
        self.steps = steps
        self.measurements = measurements
    }

    /// One step per gate: fixed gates become their matrices, input-dependent gates stay symbolic.
    public init(_ c: BoundCircuit) {
        self.init(qubits: c.qubits, inputWidth: c.inputWidth,
                  steps: c.gates.map { $0.dependsOnInput ? .gate($0) : .unitary($0.fixedMatrix, wires: $0.wires) },
                  measurements: c.measurements)
    }

    public var outputWidth: Int {
        BoundCircuit(qubits: qubits, inputWidth: inputWidth, gates: [], measurements: measurements).outputWidth
    }

    /// Simulates the program on `batch` input rows (row-major [batch, inputWidth]).
    public func run(inputs: [Double], batch: Int) -> [Double] {
        var state = StateVector(qubits: qubits)
        var out: [Double] = []
        out.reserveCapacity(batch * outputWidth)
        inputs.withUnsafeBufferPointer { all in
            for s in 0..<batch {
                let row = UnsafeBufferPointer(rebasing: all[(s * inputWidth)..<((s + 1) * inputWidth)])
                state.reset()
                for step in steps { state.apply(step.matrix(row), wires: step.wires) }
                state.measure(measurements, into: &out)
            }
        }
        return out
    }

    /// Wires measured by any measurement.
    public var measuredWires: Set<Int> {
        var s = Set<Int>()
        for m in measurements {
            switch m {
            case .expval(_, let w): s.insert(w)
            case .probs(let ws): s.formUnion(ws)
            }
        }
        return s
    }
}

/// The input row handed to steps that do not read the input (an empty buffer: never dereferenced).
var noInput: UnsafeBufferPointer<Double> { UnsafeBufferPointer(start: nil, count: 0) }
