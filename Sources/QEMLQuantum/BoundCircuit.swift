import QEMLIR

/// One weight operand's values: a row-major tensor (operand 1 of the circuit is `weights[0]`).
public struct WeightArray: Hashable, Sendable {
    public var shape: [Int]
    public var values: [Double]

    public init(shape: [Int], values: [Double]) {
        self.shape = shape
        self.values = values
    }
}

/// A gate angle once the weights are known: a number, or a column of the per-sample input.
public enum Angle: Hashable, Sendable {
    case fixed(Double)
    case input(column: Int)

    @inlinable public func value(_ row: UnsafeBufferPointer<Double>) -> Double {
        switch self {
        case .fixed(let v): return v
        case .input(let c): return row[c]
        }
    }

    public var isFixed: Bool { if case .fixed = self { return true }; return false }
}

public struct BoundGate: Hashable, Sendable {
    public var kind: GateKind
    public var wires: [Int]
    public var angles: [Angle]

    public init(_ kind: GateKind, wires: [Int], angles: [Angle] = []) {
        self.kind = kind
        self.wires = wires
        self.angles = angles
    }

    public var dependsOnInput: Bool { angles.contains { !$0.isFixed } }

    /// The matrix for one sample's input row.
    public func matrix(_ row: UnsafeBufferPointer<Double>) -> GateMatrix {
        GateMatrix.of(kind, angles.map { $0.value(row) })
    }

    /// The matrix of a gate that does not depend on the input.
    public var fixedMatrix: GateMatrix {
        GateMatrix.of(kind, angles.map { if case .fixed(let v) = $0 { return v }; return .nan })
    }
}

/// The largest state vector the simulator allocates: 2^24 amplitudes (256 MB in double precision).
public let maximumQubits = 24

/// A validated circuit with its weights substituted: every strategy starts from this.
public struct BoundCircuit: Hashable, Sendable {
    public var qubits: Int
    public var inputWidth: Int
    public var gates: [BoundGate]
    public var measurements: [Measurement]

    public init(qubits: Int, inputWidth: Int, gates: [BoundGate], measurements: [Measurement]) {
        self.qubits = qubits
        self.inputWidth = inputWidth
        self.gates = gates
        self.measurements = measurements
    }

    public var outputWidth: Int { measurements.outputWidth }

    /// Checks `circuit` against its weights and input width and substitutes the weights.
    /// Every problem is a `CircuitError` naming the gate and the fix.
    public init(_ circuit: Circuit, weights: [WeightArray], inputWidth: Int) throws(CircuitError) {
        let n = circuit.qubits
        guard n >= 1 else { throw CircuitError("the circuit has \(n) wires", fix: "declare at least one wire") }
        guard n <= maximumQubits else {
            throw CircuitError("the circuit has \(n) wires; the state-vector simulator supports at most \(maximumQubits)",
                               fix: "use at most \(maximumQubits) wires (2^\(n) amplitudes do not fit in memory)")
        }
        for (j, w) in weights.enumerated() where w.shape.reduce(1, *) != w.values.count || w.shape.contains(where: { $0 < 0 }) {
            throw CircuitError("weight operand \(j + 1) has shape \(describe(w.shape)) but \(w.values.count) values",
                               fix: "pass a row-major array with as many values as the shape holds")
        }
        func checkWires(_ wires: [Int], _ what: String) throws(CircuitError) {
            for w in wires where w < 0 || w >= n {
                throw CircuitError("\(what) uses wire \(w), out of range for a \(n)-wire circuit", fix: "use wires 0…\(n - 1)")
            }
            if Set(wires).count != wires.count {
                throw CircuitError("\(what) uses wire \(wires[0]) twice (wires \(describe(wires)))", fix: "give a multi-qubit gate distinct wires")
            }
        }
        var bound: [BoundGate] = []
        bound.reserveCapacity(circuit.gates.count)
        for (g, gate) in circuit.gates.enumerated() {
            let what = "gate \(g) (\(gate.kind.rawValue))"
            guard gate.wires.count == gate.kind.wireCount else {
                throw CircuitError("\(what) acts on \(gate.kind.wireCount) wire\(gate.kind.wireCount == 1 ? "" : "s") but was given \(gate.wires.count)",
                                   fix: "pass exactly \(gate.kind.wireCount) wire\(gate.kind.wireCount == 1 ? "" : "s")")
            }
            try checkWires(gate.wires, what)
            guard gate.params.count == gate.kind.parameterCount else {
                throw CircuitError("\(what) takes \(gate.kind.parameterCount) parameter\(gate.kind.parameterCount == 1 ? "" : "s") but was given \(gate.params.count)",
                                   fix: "pass exactly \(gate.kind.parameterCount)")
            }
            var angles: [Angle] = []
            for p in gate.params {
                switch p {
                case .constant(let v):
                    guard v.isFinite else { throw CircuitError("\(what) has a non-finite angle \(v)", fix: "use a finite number") }
                    angles.append(.fixed(v))
                case .input(let c):
                    guard c >= 0, c < inputWidth else {
                        throw CircuitError("\(what) reads input column \(c) but the input has \(inputWidth) columns",
                                           fix: "read columns 0…\(inputWidth - 1) or widen the input")
                    }
                    angles.append(.input(column: c))
                case .weight(let op, let index):
                    guard op >= 1, op <= weights.count else {
                        throw CircuitError("\(what) reads weight operand \(op) but \(weights.count) weight tensor\(weights.count == 1 ? " is" : "s are") passed",
                                           fix: "pass weight operand \(op) or read operands 1…\(weights.count)")
                    }
                    let w = weights[op - 1]
                    guard index.count == w.shape.count, zip(index, w.shape).allSatisfy({ $0 >= 0 && $0 < $1 }) else {
                        throw CircuitError("\(what) reads weight operand \(op) at \(describe(index)) but it has shape \(describe(w.shape))",
                                           fix: "pass weights of a shape that covers every index the circuit reads")
                    }
                    var flat = 0
                    for (i, d) in zip(index, w.shape) { flat = flat * d + i }
                    angles.append(.fixed(w.values[flat]))
                }
            }
            bound.append(BoundGate(gate.kind, wires: gate.wires, angles: angles))
        }
        for (m, meas) in circuit.measurements.enumerated() {
            switch meas {
            case .expval(_, let w): try checkWires([w], "measurement \(m)")
            case .probs(let ws):
                guard !ws.isEmpty else { throw CircuitError("measurement \(m) (probs) has no wires", fix: "list the wires to measure") }
                try checkWires(ws, "measurement \(m) (probs)")
            }
        }
        guard !circuit.measurements.isEmpty else {
            throw CircuitError("the circuit measures nothing", fix: "add an expval or probs measurement")
        }
        self.init(qubits: n, inputWidth: inputWidth, gates: bound, measurements: circuit.measurements)
    }
}

func describe(_ xs: [Int]) -> String { "[" + xs.map(String.init).joined(separator: ",") + "]" }
