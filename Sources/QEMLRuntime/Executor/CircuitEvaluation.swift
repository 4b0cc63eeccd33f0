import QEMLCodegen
import QEMLIR
import QEMLPasses
import QEMLQuantum
import QEMLTensor

/// Which evaluators of a circuit exist, and why (`CircuitPlan` picks one per circuit, with its
/// real weights bound when the model is planned):
/// - `StateVectorSimulator` (QEMLQuantum): gate by gate in Double, the reference interpreter's
///   kernel and the oracle every other evaluator is tested against (and it against PennyLane);
/// - the folded-observables LLVM kernel (`KernelDefinition.foldedCircuit`): circuits whose input
///   enters before any entangling gate, up to `FoldedObservables.maximumCompiledCoefficients`;
/// - the compiled cache-blocked state-vector kernel (`CompiledStateVector`, LLVM): every other
///   circuit whose schedule has at most `StateVectorSchedule.maximumCompiledOps` ops;
/// - QEMLQuantum's Swift evaluator (`CircuitPlan.run`): only for a schedule above that limit
///   (LLVM compile time), and for a state-vector circuit on a target that is not this machine
///   until it is exported; reports name it;
/// - the exported runtime's C evaluator (`Export/C/qeml_circuit.c`, tables from `CircuitTables`):
///   the edge board has no LLVM, so it runs the same schedule as portable C (folded circuits are
///   in its object file like other kernels).
///
/// The `circuit` op on a state vector, reading the angles from and writing the expectation values
/// to the arena: the compiled cache-blocked kernel of the plan's schedule once `CompiledModel` has
/// built it for the host, else QEMLQuantum's evaluator (`CircuitPlan.run`). Folded-observables
/// plans are generated kernels instead (`planCircuit`).
struct CircuitEvaluation: Sendable {
    let plan: CircuitPlan
    /// The circuit as written, for reports.
    let qubits: Int, gates: Int
    let input: BlockedStorage
    let output: BlockedStorage
    var compiled: CompiledStateVector?

    /// The step's line in reports: size, then what evaluates it.
    var summary: String { "circuit \(qubits) qubits, \(gates) gates: \(strategy)" }

    var strategy: String {
        guard let s = compiled?.schedule else { return plan.name }
        return "state-vector kernel, \(s.opCount) ops in \(s.stages.count) stage\(s.stages.count == 1 ? "" : "s") of \(s.localQubits) qubits"
    }

    /// States of at least this many qubits are split across the pool's threads when the batch
    /// has fewer samples than threads (below it, a stage has too few chunks to share).
    static let parallelStateQubits = 14

    /// Evaluates the batch over `pool`'s threads: its samples split among them, or, for fewer
    /// samples than threads and a large state, each stage's chunks. Each part always gets the same
    /// samples or chunks, and they are independent: results do not depend on the thread count.
    func run(_ buffers: UnsafePointer<UnsafeMutablePointer<Float>?>, batch: Int, pool: ThreadPool? = nil) {
        guard let x = buffers[0], let y = buffers[1] else { return }
        if let pool, pool.threads > 1, batch < pool.threads, let compiled, compiled.schedule.qubits >= Self.parallelStateQubits {
            return run(x, y, 0..<batch) { rows, n in
                compiled.run(inputs: rows, batch: n, parts: pool.threads) { work in pool.run(Parts(work)) }
            }
        }
        let work = Samples(evaluation: self, x: x, y: y, batch: batch)
        if let pool, batch > 1 { pool.run(work) } else { work.run(part: 0, of: 1) }
    }

    /// Samples `range` of the batch, on this thread unless `evaluate` spreads them.
    fileprivate func run(_ x: UnsafeMutablePointer<Float>, _ y: UnsafeMutablePointer<Float>, _ range: Range<Int>,
                         evaluate: ((_ rows: [Double], _ batch: Int) -> [Double])? = nil) {
        let k = input.channels, m = output.channels
        var rows = [Double](repeating: 0, count: range.count * k)
        for (r, n) in range.enumerated() {
            for j in 0..<k { rows[r * k + j] = Double(x[n * input.elementsPerSample + j]) }
        }
        let values = evaluate?(rows, range.count) ?? compiled?.run(inputs: rows, batch: range.count) ?? plan.run(inputs: rows, batch: range.count)
        for (r, n) in range.enumerated() {
            let out = y + n * output.elementsPerSample
            for j in 0..<output.elementsPerSample { out[j] = j < m ? Float(values[r * m + j]) : 0 }
        }
    }
}

/// A closure run once per part.
private final class Parts: ParallelWork, @unchecked Sendable {
    // @unchecked: the closure is @Sendable.
    let body: @Sendable (Int) -> Void
    init(_ body: @escaping @Sendable (Int) -> Void) { self.body = body }
    func run(part: Int, of parts: Int) { body(part) }
}

private final class Samples: ParallelWork, @unchecked Sendable {
    // @unchecked: the parts read disjoint input rows and write disjoint output rows.
    let evaluation: CircuitEvaluation
    let x: UnsafeMutablePointer<Float>, y: UnsafeMutablePointer<Float>
    let batch: Int

    init(evaluation: CircuitEvaluation, x: UnsafeMutablePointer<Float>, y: UnsafeMutablePointer<Float>, batch: Int) {
        self.evaluation = evaluation
        self.x = x
        self.y = y
        self.batch = batch
    }

    func run(part: Int, of parts: Int) {
        let range = (batch * part / parts)..<(batch * (part + 1) / parts)
        if !range.isEmpty { evaluation.run(x, y, range) }
    }
}

extension PlanBuilder {
    /// `circuit`: bound to its weights, with the plan `fuse-quantum` made from the same weights
    /// (planned here by the same function only when the passes ran without them, e.g. a graph
    /// lowered directly); the reference kernel alone when the circuit cannot be bound.
    mutating func planCircuit(_ i: Int, _ n: Node) throws {
        guard let x = n.operand(0), let r = n.results.first, let body = n.attributes["body"]?.circuit,
              g.type(of: x).rank == 2, g.type(of: r).rank == 2 else {
            return try addFallback(node: i, why: "a circuit on a tensor of rank other than 2")
        }
        var arrays: [WeightArray] = []
        for v in n.operands.dropFirst() {
            guard let v, let t = weight(v) else { return try addFallback(node: i, why: "a circuit weight that is not a bound tensor") }
            arrays.append(WeightArray(shape: t.shape, values: t.data.map(Double.init)))
        }
        let input = try storage(of: x), output = try storage(of: r)
        guard let bound = try? BoundCircuit(body, weights: arrays, inputWidth: input.channels), bound.outputWidth == output.channels else {
            return try addFallback(node: i, why: "the circuit does not bind to its weights")
        }
        let plan = circuitPlans[nodeName(n)]
            ?? FuseQuantum.plan(bound, PassContext(vectorWidth: target.vectorWidth, l1Bytes: target.l1Bytes))
        // Folded observables compile to an LLVM kernel (coefficients as packed params); a circuit too
        // large for that, or another strategy, stays on QEMLQuantum's evaluator.
        if case .foldedObservables(let folded) = plan.strategy,
           var d = try? KernelDefinition.foldedCircuit(folded, target: target, name: kernelName(i, n.op)) {
            d.kind = "circuit (\(plan.name))"
            d.summary = "circuit \(bound.qubits) qubits, \(plural(bound.gates.count, "gate")): \(plan.name), LLVM kernel (\(d.summary))"
            let out = try newSlot(for: r)
            slotOf[r] = out
            addKernel(d, key: "folded-circuit \(folded.inputWidth)→\(folded.outputs) \(folded.featureColumns)", slots: [try slot(x), out], node: i)
            return
        }
        let (step, used) = try referenceStep(node: i)
        let evaluation = CircuitEvaluation(plan: plan, qubits: bound.qubits, gates: bound.gates.count, input: input, output: output, compiled: nil)
        steps.append(KernelPlan.Step(action: .circuit(evaluation, reference: step), slots: used, node: nodeName(n),
                                     summary: evaluation.summary,
                                     flopsPerSample: flops[i], params: []))
    }
}

extension KernelPlan {
    /// The schedules of the state-vector circuits compiled for the host.
    var stateVectorSchedules: [StateVectorSchedule] {
        steps.compactMap { s in if case .circuit(let e, _) = s.action { return e.compiled?.schedule }; return nil }
    }

    /// Compiles the cache-blocked kernel of every state-vector circuit for the host (the plan itself
    /// stays target-neutral: the export turns the same steps into C).
    public mutating func compileStateVectors(cache: ObjectCache?) throws {
        for i in steps.indices {
            guard case .circuit(var e, let reference) = steps[i].action, let schedule = e.plan.schedule else { continue }
            e.compiled = try CompiledStateVector(schedule, target: target, cache: cache, name: "qemlc_circuit_\(i)")
            steps[i].action = .circuit(e, reference: reference)
            steps[i].summary = e.summary
        }
    }
}
