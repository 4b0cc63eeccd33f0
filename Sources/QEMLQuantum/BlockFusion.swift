import QEMLIR

extension CircuitProgram {
    /// Strategy (e): qsim-style fusion of all steps into blocks of at most `maxQubits` wires, each
    /// applied in one pass over the state vector. Fixed blocks become one matrix now; blocks that read
    /// the input keep their steps and build their matrix per sample (2^k × 2^k, cheap beside 2^n).
    public func fusingBlocks(maxQubits: Int) -> CircuitProgram {
        let blocks = GateFusion.blocks(steps, qubits: qubits, maxQubits: maxQubits) { _ in true }
        let out: [CircuitStep] = blocks.map { b in
            if b.steps.count == 1 { return b.steps[0] }
            let wires = b.wires.sorted()
            if b.steps.contains(where: \.dependsOnInput) { return .block(wires: wires, steps: b.steps) }
            return .unitary(blockMatrix(wires: wires, steps: b.steps.map { ($0.matrix(noInput), $0.wires) }), wires: wires)
        }
        return CircuitProgram(qubits: qubits, inputWidth: inputWidth, steps: out, measurements: measurements)
    }

    /// Estimated work to run the program once: per step, one pass over 2^n amplitudes with a
    /// 2^k-term dot product per amplitude plus a fixed per-pass memory cost.
    public var estimatedCost: Double {
        let n = Double(1 << qubits)
        return steps.reduce(0) { acc, s in acc + n * (Double(1 << s.wires.count) * 4 + 16) }
    }
}
