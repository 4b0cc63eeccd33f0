import ArgumentParser
import QEMLQuantum

struct BenchCircuit: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "bench-circuit",
        abstract: "Time a quantum circuit case (JSON, as benchmarks/quantum/bench_pennylane.py writes) with the strategy qemlc picks.",
        discussion: "Prints one JSON line: the plan and why it was chosen, compile time, seconds per call, samples per second and the largest deviation from the reference simulator. benchmarks/quantum/bench_pennylane.py runs it beside PennyLane, lightning.qubit, Catalyst and NumPy in the same session.")

    @Argument(help: "The case file (.json).") var caseFile: String
    @Argument(help: "Measure for at least this many seconds.") var minSeconds: Double = 1

    func run() throws {
        guard minSeconds >= 0, minSeconds <= 600 else { throw UserError("minimum time \(minSeconds) s: give 0 to 600 seconds") }
        print(try QuantumBenchmark.run(caseFile: caseFile, minSeconds: minSeconds).json)
    }
}
