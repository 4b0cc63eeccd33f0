import QEMLCodegen
import QEMLIR
import QEMLQuantum
import QEMLTensor

/// The `circuit` op on a state vector, reading the angles from and writing the expectation values
/// to the arena: the compiled cache-blocked kernel of the plan's schedule once `CompiledModel` has
/// built it for the host, else QEMLQuantum's evaluator (`CircuitPlan.run`). Folded-observables
/// plans are generated kernels instead (`planCircuit`).
struct CircuitEvaluation: Sendable {
    let plan: CircuitPlan
    let input: BlockedStorage
    let output: BlockedStorage
    var compiled: CompiledStateVector?

    var strategy: String {
        guard let s = compiled?.schedule else { return plan.name }
        return "state-vector kernel, \(s.opCount) ops in \(s.stages.count) stage\(s.stages.count == 1 ? "" : "s") of \(s.localQubits) qubits"
    }

    /// Evaluates the batch, its samples split over `pool`'s threads (each part always gets the
    /// same samples, and samples are independent: results do not depend on the thread count).
    func run(_ buffers: UnsafePointer<UnsafeMutablePointer<Float>?>, batch: Int, pool: ThreadPool? = nil) {
        guard let x = buffers[0], let y = buffers[1] else { return }
        let work = Samples(evaluation: self, x: x, y: y, batch: batch)
        if let pool, batch > 1 { pool.run(work) } else { work.run(part: 0, of: 1) }
    }

    /// Samples `range` of the batch.
    fileprivate func run(_ x: UnsafeMutablePointer<Float>, _ y: UnsafeMutablePointer<Float>, _ range: Range<Int>) {
        let k = input.channels, m = output.channels
        var rows = [Double](repeating: 0, count: range.count * k)
        for (r, n) in range.enumerated() {
            for j in 0..<k { rows[r * k + j] = Double(x[n * input.elementsPerSample + j]) }
        }
        let values = compiled?.run(inputs: rows, batch: range.count) ?? plan.run(inputs: rows, batch: range.count)
        for (r, n) in range.enumerated() {
            let out = y + n * output.elementsPerSample
            for j in 0..<output.elementsPerSample { out[j] = j < m ? Float(values[r * m + j]) : 0 }
        }
    }
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
    /// `circuit`: bound to its weights and planned by QEMLQuantum; the reference kernel alone
    /// when the circuit cannot be bound (the interpreter then reports the problem at run time).
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
        let plan = CircuitPlan(bound, lanes: CompiledStateVector.lanes(for: target), localQubits: CompiledStateVector.localQubits(for: target))
        // Folded observables compile to an LLVM kernel (coefficients as packed params); a circuit too
        // large for that, or another strategy, stays on QEMLQuantum's evaluator.
        if case .foldedObservables(let folded) = plan.strategy,
           var d = try? KernelDefinition.foldedCircuit(folded, target: target, name: kernelName(i, n.op)) {
            d.kind = "circuit (\(plan.name))"
            d.summary = "circuit \(bound.qubits) qubits, \(bound.gates.count) gates: \(plan.name), LLVM kernel (\(d.summary))"
            let out = try newSlot(for: r)
            slotOf[r] = out
            addKernel(d, key: "folded-circuit \(folded.inputWidth)→\(folded.outputs) \(folded.featureColumns)", slots: [try slot(x), out], node: i)
            return
        }
        var (step, used) = try referenceStep(node: i)
        let evaluation = CircuitEvaluation(plan: plan, input: input, output: output, compiled: nil)
        step.evaluator = evaluation
        steps.append(KernelPlan.Step(action: .fallback(step), slots: used, node: nodeName(n),
                                     summary: "circuit \(bound.qubits) qubits, \(bound.gates.count) gates: \(evaluation.strategy)",
                                     flopsPerSample: flops[i], params: []))
    }
}

extension KernelPlan {
    /// The schedules of the state-vector circuits compiled for the host.
    var stateVectorSchedules: [StateVectorSchedule] {
        steps.compactMap { s in if case .fallback(let f) = s.action { return f.evaluator?.compiled?.schedule }; return nil }
    }

    /// Compiles the cache-blocked kernel of every state-vector circuit for the host (the plan itself
    /// stays target-neutral: the export turns the same steps into C).
    public mutating func compileStateVectors(cache: ObjectCache?) throws {
        for i in steps.indices {
            guard case .fallback(var f) = steps[i].action, var e = f.evaluator, let schedule = e.plan.schedule else { continue }
            e.compiled = try CompiledStateVector(schedule, target: target, cache: cache, name: "qemlc_circuit_\(i)")
            f.evaluator = e
            steps[i].action = .fallback(f)
            steps[i].summary = steps[i].summary.replacingOccurrences(of: e.plan.name, with: e.strategy)
        }
    }
}
