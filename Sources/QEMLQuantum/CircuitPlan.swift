import QEMLTensor
import QEMLIR

/// The strategy chosen for one circuit, with the reason the dump prints.
///
/// Order: light cone, then merge single-qubit runs; then, if the input only enters through
/// single-qubit encodings before any entangling gate and the circuit is small, fold the rest into
/// observables; otherwise fuse into blocks over a state vector, block size chosen by cost, and
/// schedule the unfused program for the compiled cache-blocked kernel (`StateVectorSchedule`).
public struct CircuitPlan: Sendable {
    public enum Strategy: Sendable {
        case foldedObservables(FoldedObservables)
        case stateVector(CircuitProgram)
    }

    public let strategy: Strategy
    /// The program after light cone and single-qubit merging, before folding or fusion: what the
    /// compiled state-vector kernel (`StateVectorSchedule`) starts from, fusing by its own cost.
    public let unfused: CircuitProgram
    /// For a state-vector plan, what the code generator compiles (the block-fused program above is
    /// the Swift evaluator: fallback and oracle); nil for folded plans and for programs with more
    /// ops than `StateVectorSchedule.maximumCompiledOps`.
    public let schedule: StateVectorSchedule?
    /// Short name: `folded-observables` or `block-fusion k=N`.
    public let name: String
    /// One human-readable sentence: what was chosen and why.
    public let reason: String

    /// `lanes` and `localQubits` shape the compiled kernel's schedule: doubles per vector register
    /// and bit positions per cache-blocked stage (`StateVectorSchedule.localQubits(l1Bytes:)`).
    public init(_ circuit: BoundCircuit, lanes: Int = 4, localQubits: Int = StateVectorSchedule.localQubits(l1Bytes: 32 << 10)) {
        let n = circuit.qubits
        let base = CircuitProgram(circuit)
        let program = base.restrictedToLightCone().mergingSingleQubitRuns()
        unfused = program
        let dropped = base.steps.count - base.restrictedToLightCone().steps.count
        let prefix = "\(n) qubit\(n == 1 ? "" : "s"), \(plural(circuit.gates.count, "gate"))"
            + (dropped > 0 ? " (\(dropped) outside the measured light cone dropped)" : "")
        var why = FoldedObservables.inapplicability(program)
        var foldable = why == nil ? FoldedObservables(program) : nil
        if let f = foldable, f.coefficients.count > FoldedObservables.maximumCompiledCoefficients {
            why = "folding needs \(f.coefficients.count) coefficients, above the generated kernel's limit of "
                + "\(FoldedObservables.maximumCompiledCoefficients)"
            foldable = nil
        }
        if why == nil, let folded = foldable {
            let terms = folded.featureCounts.reduce(1, *)
            strategy = .foldedObservables(folded)
            schedule = nil
            name = "folded-observables"
            reason = "\(prefix): the input enters only through single-qubit gates before any entangling gate, so the "
                + "\(folded.foldedSteps) fixed steps fold into \(folded.outputs) observable\(folded.outputs == 1 ? "" : "s") M = U†OU, "
                + "each evaluated as \(terms) real coefficients contracted wire by wire with cos/sin features "
                + "(\(folded.encodingIsReal ? "real" : "complex") encoding)"
            return
        }
        var best = program.foldingFixedUnitaries(maxQubits: min(n, 4)), bestK = 0
        for k in 2...5 where k <= n {
            let fused = program.fusingBlocks(maxQubits: k)
            if fused.estimatedCost < best.estimatedCost { best = fused; bestK = k }
        }
        strategy = .stateVector(best)
        let s = StateVectorSchedule(program, lanes: lanes, localQubits: localQubits)
        let compilable = s.map { $0.opCount <= StateVectorSchedule.maximumCompiledOps } ?? false
        schedule = compilable ? s : nil
        var compiled = ""
        if let s {
            compiled = compilable
                ? "; compiled: \(s.opCount) ops (fused where that saves vector instructions) in \(s.stages.count) cache-blocked "
                    + "stage\(s.stages.count == 1 ? "" : "s") of \(s.localQubits) local qubits, \(s.lanes) doubles per vector"
                : "; not compiled: \(s.opCount) ops exceed the kernel limit of \(StateVectorSchedule.maximumCompiledOps) (compile time), "
                    + "so the Swift evaluator runs them"
        }
        let whyNot = why ?? "folding failed"
        if bestK == 0 {
            name = "fixed-unitary-folding"
            reason = "\(prefix): not foldable into observables (\(whyNot)); input-independent runs fold into fixed unitaries "
                + "of up to \(min(n, 4)) wires: \(plural(best.steps.count, "step")) over a 2^\(n) state vector" + compiled
        } else {
            name = "block-fusion k=\(bestK)"
            reason = "\(prefix): not foldable into observables (\(whyNot)); qsim-style fusion into blocks of at most "
                + "\(bestK) wires (cheapest of k=2…5 by estimated cost): \(plural(best.steps.count, "block")) over a 2^\(n) state vector" + compiled
        }
    }

    /// Evaluates the plan on `batch` input rows (row-major [batch, inputWidth]) → [batch, outputWidth].
    public func run(inputs: [Double], batch: Int) -> [Double] {
        switch strategy {
        case .foldedObservables(let f): return f.evaluate(inputs: inputs, batch: batch)
        case .stateVector(let p): return p.run(inputs: inputs, batch: batch)
        }
    }
}
