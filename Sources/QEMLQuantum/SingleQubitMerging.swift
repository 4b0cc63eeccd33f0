import QEMLIR

extension CircuitProgram {
    /// Strategy (a): every run of fixed single-qubit unitaries on one wire becomes one 2×2 matrix.
    /// A pending product on wire w is emitted just before the next step that touches w (it commutes
    /// with everything in between); input-dependent gates stay symbolic.
    public func mergingSingleQubitRuns() -> CircuitProgram {
        var pending = [GateMatrix?](repeating: nil, count: qubits)
        var out: [CircuitStep] = []
        func flush(_ w: Int) {
            if let m = pending[w] { out.append(.unitary(m, wires: [w])); pending[w] = nil }
        }
        for step in steps {
            if case .unitary(let m, let ws) = step, ws.count == 1 {
                pending[ws[0]] = pending[ws[0]].map { m * $0 } ?? m
                continue
            }
            for w in step.wires { flush(w) }
            out.append(step)
        }
        for w in 0..<qubits { flush(w) }
        return CircuitProgram(qubits: qubits, inputWidth: inputWidth, steps: out, measurements: measurements)
    }
}
