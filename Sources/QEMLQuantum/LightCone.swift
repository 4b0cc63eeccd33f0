import QEMLIR

extension CircuitProgram {
    /// Strategy (b): drops every step outside the backward light cone of the measured wires. Walking
    /// backwards, a step matters only if it touches a wire that a later kept step (or a measurement)
    /// depends on; unitaries on other wires cancel in ⟨ψ|O|ψ⟩ and in the marginal probabilities.
    public func restrictedToLightCone() -> CircuitProgram {
        var live = measuredWires
        var kept: [CircuitStep] = []
        for step in steps.reversed() where step.wires.contains(where: live.contains) {
            live.formUnion(step.wires)
            kept.append(step)
        }
        return CircuitProgram(qubits: qubits, inputWidth: inputWidth, steps: kept.reversed(), measurements: measurements)
    }
}
