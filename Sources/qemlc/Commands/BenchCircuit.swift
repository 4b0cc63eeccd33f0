import ArgumentParser
import QEMLTensor
import QEMLCodegen
import QEMLQuantum

struct BenchCircuit: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "bench-circuit",
        abstract: "Time a quantum circuit case (JSON, as benchmarks/quantum/bench_pennylane.py writes) with the strategy qemlc picks.",
        discussion: "Prints one JSON line: the plan and why it was chosen, compile time, seconds per call, samples per second and the largest deviation from the reference simulator. With --compiled it times the generated LLVM kernel instead of the Swift evaluator (compiled before timing): the folded-observables kernel (f32) or the cache-blocked state-vector kernel (f64). benchmarks/quantum/bench_pennylane.py runs it beside PennyLane, lightning.qubit, Catalyst and NumPy in the same session.")

    @Argument(help: "The case file (.json).") var caseFile: String
    @Argument(help: "Measure for at least this many seconds.") var minSeconds: Double = 1
    @Flag(help: "Time the generated LLVM kernel.") var compiled = false
    @Option(help: "Target for --compiled (see `qemlc targets`).") var target = "host"
    @Option(name: .customLong("emit-asm"), help: "Write the state-vector kernel's assembly to FILE (- for stdout) instead of timing it, as compile --emit-asm does.") var emitAsm: String?
    @Flag(help: "Overwrite an existing --emit-asm file.") var force = false
    @Option(help: "State-vector kernel: qubits per cache-blocked stage (default: from the target's L1 size, at most 3/4 of it).") var localQubits: Int?

    func validate() throws {
        guard minSeconds.isFinite, minSeconds >= 0, minSeconds <= 600 else { throw ValidationError("<min-seconds> \(minSeconds): give 0 to 600 seconds") }
        try Validate.atLeast(localQubits, 1, "--local-qubits", maximum: 24)
    }

    func run() throws {
        try requireInputFile(caseFile, given: "CASE-FILE")
        let t = try ExecutableModel.target(target)
        if let emitAsm {
            let plan = try QuantumBenchmark.plan(caseFile: caseFile)
            let asm = try CompiledStateVector.assembly(plan.unfused, target: t, localQubits: localQubits)
            if emitAsm == "-" { return print(asm) }
            try ModelFiles.writeText(asm, to: emitAsm, force: force)
            return print("wrote the state-vector kernel's assembly to \(emitAsm)")
        }
        print(try QuantumBenchmark.run(caseFile: caseFile, minSeconds: minSeconds, evaluator: compiled ? { try Self.kernel($0, $1, $2, target: t, localQubits: localQubits) } : nil).json)
    }

    /// The plan's LLVM kernel, compiled; one call runs every timed row on this thread.
    static func kernel(_ plan: CircuitPlan, _ inputs: [Double], _ rows: Int, target: TargetDescription, localQubits: Int? = nil) throws -> QuantumBenchmark.Evaluator {
        switch plan.strategy {
        case .foldedObservables(let f): return try folded(f, inputs, rows, target: target)
        case .stateVector: return try stateVector(plan.unfused, inputs, rows, target: target, localQubits: localQubits)
        }
    }

    /// The cache-blocked state-vector kernel of the program before block fusion (the kernel fuses by its own cost).
    static func stateVector(_ p: CircuitProgram, _ inputs: [Double], _ rows: Int, target: TargetDescription, localQubits: Int?) throws -> QuantumBenchmark.Evaluator {
        let start = ContinuousClock.now
        let compiled = try CompiledStateVector(p, target: target, cache: nil, localQubits: localQubits)
        let elapsed = ContinuousClock.now - start
        let s = compiled.schedule
        let timed = Array(inputs.prefix(rows * p.inputWidth))
        return QuantumBenchmark.Evaluator(
            label: "llvm-state-vector \(target.name): \(s.stages.count) stage\(s.stages.count == 1 ? "" : "s") of \(s.localQubits) local qubits, \(s.opCount) ops, \(s.lanes) doubles per vector",
            compileSeconds: seconds(elapsed), check: { x, n in compiled.run(inputs: x, batch: n) },
            call: { _ = compiled.run(inputs: timed, batch: rows) })
    }

    static func seconds(_ d: Duration) -> Double { Double(d.components.seconds) + Double(d.components.attoseconds) * 1e-18 }

    /// The folded-observables kernel, compiled, with the case's inputs converted to its blocked f32
    /// layout before timing.
    static func folded(_ f: FoldedObservables, _ inputs: [Double], _ rows: Int, target: TargetDescription) throws -> QuantumBenchmark.Evaluator {
        let start = ContinuousClock.now
        let def = try KernelDefinition.foldedCircuit(f, target: target, name: "circuit")
        let kernel = try KernelCompiler(target: target, cache: nil).compile([def]).kernels[0]
        let elapsed = ContinuousClock.now - start
        let l = target.vectorWidth, k = f.inputWidth, m = f.outputs
        let kp = (k + l - 1) / l * l, mp = (m + l - 1) / l * l
        let timed = BlockedRows(inputs, rows, k: k, kp: kp, mp: mp)
        let check: ([Double], Int) -> [Double] = { x, n in
            let b = BlockedRows(x, n, k: k, kp: kp, mp: mp)
            kernel.run(b.pointers, begin: 0, end: n)
            return (0..<n).flatMap { s in (0..<m).map { Double(b.pointers[1][s * mp + $0]) } }
        }
        return QuantumBenchmark.Evaluator(label: "llvm-kernel \(target.name)",
                                          compileSeconds: seconds(elapsed),
                                          check: check, call: { kernel.run(timed.pointers, begin: 0, end: rows) })
    }
}

/// `n` rows of `x` in the kernel's blocked layout and an output buffer, freed with the value.
private final class BlockedRows {
    let pointers: [UnsafeMutablePointer<Float>]

    init(_ x: [Double], _ n: Int, k: Int, kp: Int, mp: Int) {
        let a = UnsafeMutablePointer<Float>.allocate(capacity: max(n * kp, 1)), y = UnsafeMutablePointer<Float>.allocate(capacity: max(n * mp, 1))
        a.initialize(repeating: 0, count: max(n * kp, 1))
        y.initialize(repeating: 0, count: max(n * mp, 1))
        for s in 0..<n { for j in 0..<k { a[s * kp + j] = Float(x[s * k + j]) } }
        pointers = [a, y]
    }

    deinit { pointers.forEach { $0.deallocate() } }
}
