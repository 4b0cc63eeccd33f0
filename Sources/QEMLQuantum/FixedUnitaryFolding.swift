import QEMLIR

extension CircuitProgram {
    /// Strategy (c): every run of input-independent steps folds into fixed unitaries on at most
    /// `maxQubits` wires (the whole fixed part of a small circuit becomes one matrix); steps that read
    /// the input stay in place as barriers on their wires.
    public func foldingFixedUnitaries(maxQubits: Int) -> CircuitProgram {
        let blocks = GateFusion.blocks(steps, qubits: qubits, maxQubits: maxQubits) { !$0.dependsOnInput }
        let out: [CircuitStep] = blocks.map { b in
            if b.steps.count == 1 { return b.steps[0] }
            let wires = b.wires.sorted()
            return .unitary(blockMatrix(wires: wires, steps: b.steps.map { ($0.matrix(noInput), $0.wires) }), wires: wires)
        }
        return CircuitProgram(qubits: qubits, inputWidth: inputWidth, steps: out, measurements: measurements)
    }
}
