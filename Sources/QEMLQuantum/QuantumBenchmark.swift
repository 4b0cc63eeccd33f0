import Foundation
import QEMLIR
import QEMLTensor

/// Times qemlc's circuit evaluation on one case file, for `benchmarks/quantum/bench_pennylane.py`
/// (which times PennyLane, Lightning, Catalyst and NumPy on the same file in the same run) and for
/// a `qemlc bench-circuit <case.json>` subcommand.
///
/// The case file is a `CircuitJSON` circuit plus `"weights"`, `"inputs"` (row-major [batch, k]),
/// `"batch"` and optionally `"single": true` (time one sample per call instead of the whole batch).
public enum QuantumBenchmark {
    public struct Report: Encodable, Sendable {
        public var plan: String
        public var reason: String
        public var qubits: Int
        public var gates: Int
        public var batch: Int
        /// Choosing and building the plan (folding, fusion), once.
        public var compileSeconds: Double
        /// One evaluation of the whole batch (or of one sample when `single`).
        public var secondsPerCall: Double
        public var samplesPerSecond: Double
        /// Largest |plan − reference simulator| over the first outputs: the timed path is checked.
        public var maxDeviationFromReference: Double
        /// What was timed: "swift" (the plan's own evaluator) or an `Evaluator`'s label.
        public var evaluator: String = "swift"

        enum CodingKeys: String, CodingKey {
            case plan, reason, qubits, gates, batch, compileSeconds = "compile_s", secondsPerCall = "seconds_per_call"
            case samplesPerSecond = "samples_per_s", maxDeviationFromReference = "max_dev_vs_reference", evaluator
        }

        /// Valid JSON always: a NaN or infinite number (a broken kernel's deviation) is null.
        public func encode(to encoder: Encoder) throws {
            var c = encoder.container(keyedBy: CodingKeys.self)
            try c.encode(plan, forKey: .plan); try c.encode(reason, forKey: .reason)
            try c.encode(qubits, forKey: .qubits); try c.encode(gates, forKey: .gates); try c.encode(batch, forKey: .batch)
            for (key, v) in [(CodingKeys.compileSeconds, compileSeconds), (.secondsPerCall, secondsPerCall), (.samplesPerSecond, samplesPerSecond),
                             (.maxDeviationFromReference, maxDeviationFromReference)] {
                try c.encode(NullIfNotFinite(wrappedValue: v), forKey: key)
            }
            try c.encode(evaluator, forKey: .evaluator)
        }

        /// One JSON object per line, what the Python driver reads.
        public var json: String { ReportJSON.encode(self) }
    }

    /// Another evaluator of a planned circuit, timed instead of the plan's own (`qemlc bench-circuit
    /// --compiled` passes the generated LLVM kernel; QEMLQuantum cannot depend on the code generator).
    /// It is built outside the timing; `check` evaluates rows for the comparison with the reference
    /// simulator, `call` evaluates the timed rows (the whole batch, or one sample when `single`).
    public struct Evaluator {
        public var label: String
        public var compileSeconds: Double
        public var check: (_ inputs: [Double], _ rows: Int) -> [Double]
        public var call: () -> Void
        public init(label: String, compileSeconds: Double, check: @escaping ([Double], Int) -> [Double], call: @escaping () -> Void) {
            self.label = label; self.compileSeconds = compileSeconds; self.check = check; self.call = call
        }
    }
    /// Builds an `Evaluator` for the plan, the case's inputs and the number of timed rows.
    public typealias EvaluatorFactory = (_ plan: CircuitPlan, _ inputs: [Double], _ rows: Int) throws -> Evaluator

    /// The plan qemlc picks for the case in `path`.
    public static func plan(caseFile path: String) throws -> CircuitPlan {
        let (root, circuit, width) = try read(caseFile: path)
        return CircuitPlan(try BoundCircuit(circuit, weights: try CircuitJSON.weights(root["weights"]), inputWidth: width))
    }

    static func read(caseFile path: String) throws -> (root: [String: Any], circuit: Circuit, inputWidth: Int) {
        let data: Data
        do { data = try Data(contentsOf: URL(fileURLWithPath: path)) } catch {
            throw CircuitError("cannot read benchmark case \(path): \(error.localizedDescription)")
        }
        guard let root = try? JSONSerialization.jsonObject(with: data) as? [String: Any] else {
            throw CircuitError("\(path) is not a JSON object", fix: "write it with benchmarks/quantum/bench_pennylane.py")
        }
        let (circuit, width) = try CircuitJSON.circuit(root)
        return (root, circuit, width)
    }

    /// Runs the case in `path` for at least `minSeconds` of CPU time and reports the best of several
    /// repeats, in process CPU time.
    public static func run(caseFile path: String, minSeconds: Double = 1, evaluator: EvaluatorFactory? = nil) throws -> Report {
        let (root, circuit, width) = try read(caseFile: path)
        let weights = try CircuitJSON.weights(root["weights"])
        guard let inputs = root["inputs"] as? [Double], let batch = root["batch"] as? Int else {
            throw CircuitError("\(path) needs inputs and batch")
        }
        return try run(circuit, weights: weights, inputs: inputs, batch: batch, inputWidth: width,
                       single: root["single"] as? Bool ?? false, minSeconds: minSeconds, evaluator: evaluator)
    }

    public static func run(_ circuit: Circuit, weights: [WeightArray], inputs: [Double], batch: Int, inputWidth: Int,
                           single: Bool = false, minSeconds: Double = 1, evaluator: EvaluatorFactory? = nil) throws -> Report {
        let bound = try BoundCircuit(circuit, weights: weights, inputWidth: inputWidth)
        try StateVectorSimulator.checkInputs(inputs, batch: batch, inputWidth: inputWidth)
        var plan: CircuitPlan?
        var compile = cpuSeconds { plan = CircuitPlan(bound) }
        guard let plan else { throw CircuitError("no plan") }
        let rows = single ? 1 : batch
        let alternative = try evaluator.map { try $0(plan, inputs, rows) }
        compile += alternative?.compileSeconds ?? 0

        // Check the timed path against the reference on a few samples.
        let checkRows = min(batch, 4)
        let checkInputs = Array(inputs.prefix(checkRows * inputWidth))
        let reference = StateVectorSimulator.run(bound, inputs: checkInputs, batch: checkRows)
        let planned = alternative.map { $0.check(checkInputs, checkRows) } ?? plan.run(inputs: checkInputs, batch: checkRows)
        let deviation = planned.count == reference.count ? zip(reference, planned).map { abs($0 - $1) }.max() ?? 0 : .infinity

        var out = [Double](repeating: 0, count: rows * bound.outputWidth)
        let call: () -> Void
        if let alternative {
            call = alternative.call
        } else {
        switch plan.strategy {
        case .foldedObservables(let f):
            call = {
                inputs.withUnsafeBufferPointer { x in
                    out.withUnsafeMutableBufferPointer { y in f.evaluate(inputs: x, batch: rows, into: y) }
                }
            }
        case .stateVector(let p):
            let slice = Array(inputs.prefix(rows * inputWidth))
            call = { out = p.run(inputs: slice, batch: rows) }
        }
        }
        call()
        var best = Double.infinity
        var spent = 0.0
        var repeats = 0
        while spent < minSeconds || repeats < 3 {
            // Enough calls per timing to be well above clock resolution.
            var calls = 1
            var t = 0.0
            while true {
                t = cpuSeconds { for _ in 0..<calls { call() } }
                if t > 0.01 || calls > 1 << 24 { break }
                calls *= 4
            }
            best = min(best, t / Double(calls))
            spent += t
            repeats += 1
        }
        return Report(plan: plan.name, reason: plan.reason, qubits: bound.qubits, gates: bound.gates.count, batch: rows,
                      compileSeconds: compile, secondsPerCall: best, samplesPerSecond: Double(rows) / best,
                      maxDeviationFromReference: deviation, evaluator: alternative?.label ?? "swift")
    }

    /// CPU time of this process spent in `body`: on a shared machine, time spent descheduled does
    /// not count (the Python driver measures its contenders the same way).
    static func cpuSeconds(_ body: () -> Void) -> Double {
        var a = timespec(), b = timespec()
        clock_gettime(CLOCK_PROCESS_CPUTIME_ID, &a)
        body()
        clock_gettime(CLOCK_PROCESS_CPUTIME_ID, &b)
        return Double(b.tv_sec - a.tv_sec) + Double(b.tv_nsec - a.tv_nsec) * 1e-9
    }
}
