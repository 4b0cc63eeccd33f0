/// A parameterized quantum circuit as written in a `circuit { … }` body, templates already
/// expanded into gates. Conventions are PennyLane's: RX(θ)=exp(−iθX/2), Rot(φ,θ,ω)=RZ(ω)RY(θ)RZ(φ),
/// wire 0 is the most significant bit of a basis-state index.
public struct Circuit: Hashable, Sendable {
    public var qubits: Int
    public var gates: [Gate]
    public var measurements: [Measurement]

    public init(qubits: Int, gates: [Gate] = [], measurements: [Measurement] = []) {
        self.qubits = qubits
        self.gates = gates
        self.measurements = measurements
    }

    /// Number of output columns per sample.
    public var outputWidth: Int { measurements.outputWidth }
}

public enum GateKind: String, CaseIterable, Hashable, Sendable {
    case rx, ry, rz, rot, phaseshift
    case h, x, y, z, s, t
    case cnot, cz, swap, crx, cry, crz

    public var wireCount: Int {
        switch self {
        case .cnot, .cz, .swap, .crx, .cry, .crz: return 2
        default: return 1
        }
    }

    public var parameterCount: Int {
        switch self {
        case .rx, .ry, .rz, .phaseshift, .crx, .cry, .crz: return 1
        case .rot: return 3
        default: return 0
        }
    }
}

/// Where a gate angle comes from.
public enum GateParam: Hashable, Sendable {
    case constant(Double)
    /// Column `column` of the circuit's data input (operand 0), per sample: `x[i]`.
    case input(column: Int)
    /// An element of weight operand `operand` (1-based among the circuit's operands): `w[l,q,k]`.
    case weight(operand: Int, index: [Int])

    public var dependsOnInput: Bool {
        if case .input = self { return true }
        return false
    }
}

public struct Gate: Hashable, Sendable {
    public var kind: GateKind
    public var wires: [Int]
    public var params: [GateParam]

    public init(_ kind: GateKind, wires: [Int], params: [GateParam] = []) {
        self.kind = kind
        self.wires = wires
        self.params = params
    }
}

public enum Pauli: String, Hashable, Sendable, CaseIterable { case x, y, z }

public enum Measurement: Hashable, Sendable {
    /// ⟨P⟩ on one wire.
    case expval(Pauli, wire: Int)
    /// Probabilities of the 2^k basis states of `wires` (wires[0] most significant).
    case probs([Int])

    /// Output columns per sample: 1 for an expectation value, 2^k for k wires' probabilities.
    public var width: Int {
        switch self {
        case .expval: return 1
        case .probs(let wires): return 1 << wires.count
        }
    }
}

extension Array where Element == Measurement {
    /// Output columns per sample of a circuit measuring these.
    public var outputWidth: Int { reduce(0) { $0 + $1.width } }
}
