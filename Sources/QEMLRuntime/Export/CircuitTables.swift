import QEMLCodegen
import QEMLIR
import QEMLQuantum

/// A state-vector circuit step of the plan as the exported runtime runs it: the circuit planner's
/// schedule (`StateVectorSchedule`, what the JIT's compiled kernel runs, with the real weights
/// bound) as C tables for the fixed evaluator `qeml_circuit.c`. The structure — stages, op
/// positions, which matrix entries are constants and which per-sample coefficients, how each
/// input-dependent op's matrix is built — is the tables (and the model hash); the numbers
/// (constant entries, fixed factor matrices, bound angles) are a block of doubles in the weights.
struct CircuitTables {
    let qubits: Int
    let inputWidth: Int
    let outputWidth: Int
    /// Floats the step writes per sample (the output's blocked width; padded lanes are zeroed).
    let outputPadded: Int
    let schedule: StateVectorSchedule
    /// Complex numbers (re, im interleaved) the tables index.
    let data: [Double]
    /// The tables, as C initializers (see `source(name:)`), and the widest stage and op matrix.
    private let stages: [String], ops: [String], sources: [String], factors: [String], ints: [Int], measure: [Int]
    let widestStage: Int, widestMatrix: Int

    /// The state lives in the context: 2^qubits amplitudes three times over (state and probabilities).
    static let maximumQubits = 16
    /// `QEML_MAX_OP_QUBITS` in `C/qeml_tables.h` (the schedule fuses up to 3).
    static let maximumOpQubits = 5

    init(_ e: CircuitEvaluation, target: TargetDescription) throws {
        guard e.input.height == 1, e.input.width == 1, e.output.height == 1, e.output.width == 1 else {
            throw ExportError("the circuit's input and output must be activations of shape [N,k]")
        }
        // The plan's schedule (built when the circuit was planned); a folded plan that did not
        // compile, or one above the JIT's op limit, is scheduled the same way here.
        let plan = e.plan
        guard let schedule = plan.schedule
            ?? StateVectorSchedule(plan.unfused, lanes: max(1, target.vectorWidth / 2),
                                   localQubits: StateVectorSchedule.localQubits(l1Bytes: target.l1Bytes)) else {
            throw ExportError("the circuit cannot be scheduled for the exported runtime")
        }
        guard schedule.qubits <= Self.maximumQubits else {
            throw ExportError("a circuit of \(schedule.qubits) qubits is too large for the exported runtime's state vector (at most \(Self.maximumQubits))",
                              fix: "use at most \(Self.maximumQubits) wires, or classify with `qemlc run`")
        }
        qubits = schedule.qubits
        inputWidth = e.input.channels
        outputWidth = schedule.outputWidth
        outputPadded = e.output.elementsPerSample
        self.schedule = schedule
        guard outputWidth == e.output.channels, schedule.inputWidth <= inputWidth else {
            throw ExportError("the circuit's schedule does not match its operands (\(schedule.inputWidth)→\(outputWidth) for \(inputWidth)→\(e.output.channels))")
        }

        // Complex numbers, in table order (not shared: which entries coincide depends on the
        // weights, and retrained weights must fit the same tables).
        var data: [Double] = []
        func number(_ re: Double, _ im: Double) -> Int {
            data += [re, im]
            return data.count / 2 - 1
        }
        func angle(_ a: Angle) -> Int {
            switch a {
            case .fixed(let v): return 2 * number(v, 0)
            case .input(let column): return -1 - column
            }
        }
        var ints: [Int] = [], stages: [String] = [], ops: [String] = []
        var widestStage = 0, widestMatrix = 1
        for stage in schedule.stages {
            stages.append("{\(stage.positions.count), \(ints.count), \(ops.count), \(stage.ops.count)}")
            ints += stage.positions
            widestStage = max(widestStage, stage.positions.count)
            for op in stage.ops {
                guard op.positions.count <= Self.maximumOpQubits else {
                    throw ExportError("a circuit op on \(op.positions.count) wires is wider than the exported runtime's \(Self.maximumOpQubits)")
                }
                ops.append("{\(op.positions.count), {\(op.positions.map(String.init).joined(separator: ", "))}, \(ints.count)}")
                for entry in op.entries {
                    switch entry {
                    case .constant(let c): ints.append(number(c.re, c.im))
                    case .variable(let i, _): ints.append(-1 - i)
                    }
                }
                widestMatrix = max(widestMatrix, 1 << op.positions.count)
            }
        }
        var sources: [String] = [], factors: [String] = []
        for source in schedule.coefficientSources {
            let p = source.program
            let firstFactor = factors.count
            for f in p.factors {
                let firstOffset = ints.count
                ints += f.offsets
                let firstBase = ints.count
                ints += f.bases
                switch f.source {
                case .gate(let kind, let angles):
                    guard let code = GateKind.allCases.firstIndex(of: kind) else { throw ExportError("unknown gate \(kind)") }
                    let a = (0..<3).map { $0 < angles.count ? angle(angles[$0]) : 0 }
                    factors.append("{\(code), 0, {\(a[0]), \(a[1]), \(a[2])}, \(f.offsets.count), \(firstOffset), \(firstBase), \(f.bases.count)}")
                case .fixed(let entries):
                    let at = data.count / 2
                    for c in entries { data += [c.re, c.im] }
                    factors.append("{-1, \(at), {0, 0, 0}, \(f.offsets.count), \(firstOffset), \(firstBase), \(f.bases.count)}")
                }
            }
            let firstPair = ints.count
            for (entry, coefficient) in zip(source.entries, source.indices) { ints += [entry, coefficient] }
            sources.append("{\(p.dimension), \(p.isSingleGate ? 1 : 0), \(firstFactor), \(p.factors.count), \(firstPair), \(source.entries.count)}")
            widestMatrix = max(widestMatrix, p.dimension)
        }
        var measure: [Int] = []
        for m in schedule.measurements {
            switch m {
            case .expval(let pauli, let wire):
                measure += [pauli == .x ? 0 : pauli == .y ? 1 : 2, 1, wire]
            case .probs(let wires):
                measure += [3, wires.count] + wires
            }
        }
        self.data = data.isEmpty ? [0, 0] : data
        self.stages = stages
        self.ops = ops
        self.sources = sources
        self.factors = factors
        self.ints = ints
        self.measure = measure
        self.widestStage = widestStage
        self.widestMatrix = widestMatrix
    }

    /// The block of numbers in the weights.
    var block: WeightBlock { WeightBlock(doubles: data) }

    /// Doubles of work `qeml_circuit_run` needs (its layout is documented there).
    var workDoubles: Int {
        3 * (1 << qubits) + 2 * (1 << widestStage) + 2 * schedule.coefficientCount + 2 * widestMatrix * widestMatrix + 32
            + 2 * widestMatrix + inputWidth
    }

    /// The tables as C definitions named `<name>_*`, and the `qeml_circuit` initializer that refers to them.
    func source(name: String) -> (definitions: String, initializer: String) {
        func array(_ type: String, _ suffix: String, _ items: [String]) -> String {
            "static const \(type) \(name)_\(suffix)[] = {\(items.isEmpty ? "{0}" : CFrontEnd.wrap(items))};"
        }
        let definitions = [
            array("qeml_sv_stage", "stages", stages),
            array("qeml_sv_op", "ops", ops),
            array("qeml_sv_source", "sources", sources),
            array("qeml_sv_factor", "factors", factors),
            "static const int \(name)_ints[] = {\(ints.isEmpty ? "0" : CFrontEnd.wrap(ints.map(String.init)))};",
            "static const int \(name)_measure[] = {\(measure.isEmpty ? "0" : measure.map(String.init).joined(separator: ", "))};",
        ].joined(separator: "\n")
        let initializer = "{\(qubits), \(inputWidth), \(outputWidth), \(outputPadded), \(stages.count), \(name)_stages, \(name)_ops, "
            + "\(schedule.coefficientCount), \(sources.count), \(name)_sources, \(name)_factors, \(name)_ints, "
            + "\(schedule.measurements.count), \(name)_measure}"
        return (definitions, initializer)
    }

    /// What identifies the tables (for the model hash): everything but the numbers.
    var signature: String {
        let s = source(name: "c")
        return "\(s.definitions) \(s.initializer) \(data.count)"
    }
}
