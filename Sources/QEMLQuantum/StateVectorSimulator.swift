import QEMLIR

/// The reference simulator: every gate applied in order to a double-precision state vector, one
/// sample at a time. The oracle for every other strategy (and tested against PennyLane).
public enum StateVectorSimulator {
    /// Runs `circuit` on `batch` input rows (`inputs` row-major [batch, inputWidth]) and returns
    /// [batch, circuit.outputWidth] row-major.
    public static func run(_ circuit: Circuit, inputs: [Double], batch: Int, inputWidth: Int,
                           weights: [WeightArray]) throws(CircuitError) -> [Double] {
        let bound = try BoundCircuit(circuit, weights: weights, inputWidth: inputWidth)
        try checkInputs(inputs, batch: batch, inputWidth: inputWidth)
        return run(bound, inputs: inputs, batch: batch)
    }

    /// Runs an already bound circuit (inputs must hold batch × inputWidth values).
    public static func run(_ c: BoundCircuit, inputs: [Double], batch: Int) -> [Double] {
        let fixed: [GateMatrix?] = c.gates.map { $0.dependsOnInput ? nil : $0.fixedMatrix }
        var state = StateVector(qubits: c.qubits)
        var out: [Double] = []
        out.reserveCapacity(batch * c.outputWidth)
        inputs.withUnsafeBufferPointer { all in
            for s in 0..<batch {
                let row = UnsafeBufferPointer(rebasing: all[(s * c.inputWidth)..<((s + 1) * c.inputWidth)])
                state.reset()
                for (g, gate) in c.gates.enumerated() {
                    state.apply(fixed[g] ?? gate.matrix(row), wires: gate.wires)
                }
                state.measure(c.measurements, into: &out)
            }
        }
        return out
    }

    static func checkInputs(_ inputs: [Double], batch: Int, inputWidth: Int) throws(CircuitError) {
        guard batch >= 0, inputs.count == batch * inputWidth else {
            throw CircuitError("the input holds \(inputs.count) values but batch \(batch) × width \(inputWidth) needs \(batch * inputWidth)",
                               fix: "pass a row-major [N, \(inputWidth)] array")
        }
    }
}
