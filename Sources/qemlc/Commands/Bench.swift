import ArgumentParser
internal import CLLVM
import Foundation
import QEMLCodegen
import QEMLIR
import QEMLPasses
import QEMLRuntime
import QEMLTensor

struct Bench: ParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Time a model: per kernel (p50/p90, GFLOP/s, share of the FMA peak) and end to end (p50/p90/p99, FPS).",
        discussion: "The input is deterministic noise of the model's input shape. Without --weights the weights are generated (speed does not depend on the values). The FMA peak is measured: a generated probe of independent FMA chains at the target's vector width runs on one core (cached per CPU), times the threads. With --clock-ghz the peak is instead the nominal FLOP per cycle × that clock × threads, and the report says so. A kernel faster than the peak (timer noise, a clock that changed) shows as 100+, never above 100 %.")

    enum Backend: String, ExpressibleByArgument, CaseIterable { case jit, blas, interpret }

    @Argument(help: "The model (.qir).") var model: String
    @Option(help: "Trained weights (.safetensors); default: generated.") var weights: String?
    @Option(help: "jit (generated kernels), blas (OpenBLAS convolutions) or interpret (reference interpreter).") var backend: Backend = .jit
    @Option(help: "Threads (default: every core).") var threads: Int?
    @Option(help: "Target to generate code for; it must run on this machine (e.g. host, x86-64-avx2).") var target = "host"
    @Option(help: "Untimed runs first.") var warmup = 5
    @Option(help: "Timed runs.") var iterations = 30
    @Option(help: "Batch size (for a model with a symbolic batch).") var batch = 1
    @Option(name: .customLong("clock-ghz"), help: "Report shares of a nominal peak at this core clock instead of the measured one.") var clockGHz: Double?
    @Flag(help: "Print one JSON object instead of tables.") var json = false

    func validate() throws {
        try Validate.atLeast(iterations, 1, "--iterations", maximum: 1_000_000)
        try Validate.atLeast(warmup, 0, "--warmup", maximum: 1_000_000)
        try Validate.atLeast(batch, 1, "--batch", maximum: 65_536)
        try Validate.atLeast(threads, 1, "--threads")
        try Validate.positive(clockGHz, "--clock-ghz", maximum: 10, unit: " GHz")
    }

    func run() throws {
        let threads = try Validate.threads(threads)
        let graph = try ModelFiles.graph(model)
        let (weightTensors, generated) = try ExecutableModel.weights(weights, for: graph)
        let target = try ExecutableModel.target(target)
        let threadCount = threads ?? ProcessInfo.processInfo.activeProcessorCount
        var inputs: [String: Tensor] = [:]
        for (k, v) in graph.inputs.enumerated() {
            let t = graph.type(of: v)
            var shape: [Int] = []
            for (i, d) in t.dims.enumerated() {
                switch d {
                case .fixed(let n):
                    if i == 0, n != batch, batch != 1 {
                        throw UserError("the model fixes the batch of %\(graph[v].name) to \(n)", fix: "drop --batch or pass --batch \(n)")
                    }
                    shape.append(n)
                case .symbolic: shape.append(batch)
                }
            }
            inputs[graph[v].name] = benchInput(shape, seed: UInt64(k + 1))
        }

        // The built-in targets' clock_ghz describes some CPU, not this one: never used for a share.
        let peak: BenchResult.Peak?
        if let clockGHz {
            peak = .init(gflops: clockGHz * Double(target.flopsPerCycle) * Double(threadCount), source: .nominal(clockGHz: clockGHz))
        } else if backend != .interpret, target.runsOnHost {  // (another CPU's target is refused when compiling)
            let probe = try ExecutableModel.userFacing { try PeakProbe.measure(target: target) }
            peak = .init(gflops: probe.gflopsPerCore * Double(threadCount), source: .measured(perCore: probe.gflopsPerCore, cached: probe.fromCache))
        } else {
            peak = nil
        }
        var result = BenchResult(model: graph.name, backend: backend.rawValue, threads: threadCount, batch: batch,
                                 cpu: target.cpu, features: enabledFeatures(target.features), llvm: LLVM_VERSION_STRING,
                                 peak: peak, generatedWeights: generated)
        switch backend {
        case .interpret:
            let interpreter = try Interpreter.forModel(graph, weights: weightTensors)
            result.precision = Precision.summary(interpreter.graph)
            for i in 0..<(warmup + iterations) {
                let cpu = processCPUNanoseconds()
                let start = DispatchTime.now().uptimeNanoseconds
                _ = try interpreter.run(inputs: inputs)
                if i >= warmup {
                    result.runs.append(DispatchTime.now().uptimeNanoseconds - start)
                    result.cpuRuns.append(processCPUNanoseconds() - cpu)
                }
            }
        case .jit, .blas:
            let compiled = try ExecutableModel.compile(graph, weights: weightTensors, target: target,
                                                       backend: backend == .blas ? .blas : .jit, threads: threadCount)
            result.compileSeconds = compiled.timings.total
            result.precision = Precision.summary(compiled.passes.graph)
            let m = try ExecutableModel.userFacing { try compiled.measure(inputs: inputs, warmup: warmup, iterations: iterations) }
            result.runs = m.runs
            result.cpuRuns = m.cpuRuns
            result.openBLASCore = backend == .blas ? BLASInfo.coreName : nil
            for (info, samples) in zip(compiled.plan.stepInfo, m.steps) {
                result.kernels.append(.init(node: info.node, kernel: info.kind, shape: info.summary,
                                            flops: info.flopsPerSample * m.batch, samples: samples))
            }
            result.notGenerated = compiled.plan.stepsNotGenerated
        }
        print(json ? result.json : result.text)
    }

    private func enabledFeatures(_ features: String) -> [String] {
        features.split(separator: ",").filter { $0.hasPrefix("+") }.map { String($0.dropFirst()) }.sorted()
    }

    private func benchInput(_ shape: [Int], seed: UInt64) -> Tensor {
        var state = seed
        let data: [Float] = (0..<shape.reduce(1, *)).map { _ in
            state = state &* 6364136223846793005 &+ 1442695040888963407
            return Float(state >> 40) / Float(1 << 24) * 2 - 1
        }
        return Tensor(shape: shape, data: data)
    }
}

/// What `bench` measured, as tables or one JSON object.
struct BenchResult {
    struct Kernel {
        var node, kernel, shape: String
        /// FLOPs of one run (all samples).
        var flops: Int
        var samples: [UInt64]
        var p50: Double { RunTimings.quantile(samples, 0.5) / 1e6 }
        var p90: Double { RunTimings.quantile(samples, 0.9) / 1e6 }
        func gflops(_ ms: Double) -> Double { ms > 0 ? Double(flops) / (ms * 1e6) : 0 }
    }

    var model, backend: String
    var threads, batch: Int
    var cpu: String
    var features: [String]
    var llvm: String
    /// The FMA peak shares are taken of, and where it comes from.
    struct Peak {
        enum Source { case measured(perCore: Double, cached: Bool), nominal(clockGHz: Double) }
        var gflops: Double
        var source: Source
    }
    var peak: Peak?
    var generatedWeights: Bool
    var compileSeconds: Double?
    var runs: [UInt64] = []
    var cpuRuns: [UInt64] = []
    var openBLASCore: String?
    var kernels: [Kernel] = []
    var notGenerated: [String] = []
    /// What the model computes in (`Precision.summary`).
    var precision = "f32"

    func latency(_ q: Double) -> Double { RunTimings.quantile(runs, q) / 1e6 }
    func cpu(_ q: Double) -> Double { RunTimings.quantile(cpuRuns, q) / 1e6 }
    var fps: Double { latency(0.5) > 0 ? Double(batch) * 1000 / latency(0.5) : 0 }

    /// The share of the peak, at most 1 (a kernel timed faster than the peak is reported as 1).
    func share(_ gflops: Double) -> Double? { peak.map { min(1, gflops / $0.gflops) } }
    func exceedsPeak(_ gflops: Double) -> Bool { peak.map { gflops > $0.gflops } ?? false }

    var text: String {
        var out: [String] = []
        let keyFeatures = features.filter { ["sse4.2", "avx", "avx2", "fma", "avx512f", "avx512bw", "avx512vl", "neon", "f16c"].contains($0) }
        out.append("\(model): backend \(backend), \(threads) thread\(threads == 1 ? "" : "s"), batch \(batch), \(runs.count) runs, \(precision)")
        out.append("cpu \(cpu) (\(keyFeatures.joined(separator: " "))), LLVM \(llvm)" + (generatedWeights ? ", generated weights" : ""))
        let plural = threads == 1 ? "" : "s"
        switch peak?.source {
        case .measured(let perCore, let cached)?:
            out.append(String(format: "FMA peak %.1f GFLOP/s = %.1f measured on one core by the FMA probe%@ × %d thread%@",
                              peak?.gflops ?? 0, perCore, cached ? " (cached for this CPU)" : "", threads, plural))
        case .nominal(let clock)?:
            out.append(String(format: "FMA peak %.1f GFLOP/s NOMINAL = FLOP/cycle × %.2f GHz (--clock-ghz) × %d thread%@, not measured",
                              peak?.gflops ?? 0, clock, threads, plural))
        case nil: break
        }
        if !kernels.isEmpty {
            var t = TextTable(["#", "node", "kernel", "shape", "p50 ms", "p90 ms", "GFLOP/s", "% peak"], rightAligned: [0, 4, 5, 6, 7])
            for (i, k) in kernels.enumerated() {
                let g = k.gflops(k.p50)
                // Long node names and shapes are cut to keep rows narrow; --json has them whole.
                t.add([String(i), Self.cut(k.node, 24), Self.cut(k.kernel, 20), Self.cut(k.shape, 40), String(format: "%.3f", k.p50), String(format: "%.3f", k.p90),
                       k.flops > 0 ? String(format: "%.1f", g) : "",
                       k.flops > 0 ? share(g).map { exceedsPeak(g) ? "100+" : String(format: "%.1f", 100 * $0) } ?? "" : ""])
            }
            out.append(t.render())
            if kernels.contains(where: { $0.flops > 0 && exceedsPeak($0.gflops($0.p50)) }) {
                out.append("100+: timed faster than the peak (timer noise on a short kernel, or the clock changed since the probe)")
            }
            let sum = kernels.reduce(0) { $0 + $1.p50 }
            out.append(String(format: "sum of kernel p50s %.3f ms", sum))
        }
        if !notGenerated.isEmpty { out.append("not generated kernels (\(notGenerated.count)):") }
        for f in notGenerated { out.append("  " + f) }
        if let compileSeconds { out.append(String(format: "compile %.2f s", compileSeconds)) }
        if let openBLASCore { out.append("OpenBLAS core \(openBLASCore) (set OPENBLAS_CORETYPE if that is not this CPU)") }
        out.append(String(format: "process CPU time per run: p50 %.3f ms, min %.3f ms", cpu(0.5), Double(cpuRuns.min() ?? 0) / 1e6))
        out.append(String(format: "end to end: p50 %.3f ms, p90 %.3f ms, p99 %.3f ms, %.1f FPS", latency(0.5), latency(0.9), latency(0.99), fps))
        return out.joined(separator: "\n")
    }

    /// `s` cut to `n` characters with an ellipsis.
    static func cut(_ s: String, _ n: Int) -> String { s.count <= n ? s : String(s.prefix(n - 1)) + "…" }

    private var peakSource: String {
        switch peak?.source {
        case .measured?: return "\"measured\""
        case .nominal?: return "\"nominal\""
        case nil: return "null"
        }
    }

    var json: String {
        func num(_ v: Double?) -> String { v.map { $0.isFinite ? String(format: "%.6g", $0) : "null" } ?? "null" }
        let ks = kernels.map { k -> String in
            let g = k.gflops(k.p50)
            return "{\"node\": \(jsonQuote(k.node)), \"kernel\": \(jsonQuote(k.kernel)), \"shape\": \(jsonQuote(k.shape)), "
                + "\"p50_ms\": \(num(k.p50)), \"p90_ms\": \(num(k.p90)), \"flops\": \(k.flops), \"gflops\": \(num(g)), \"peak_share\": \(num(k.flops > 0 ? share(g) : nil))}"
        }
        var fields = [
            "\"model\": \(jsonQuote(model))", "\"backend\": \(jsonQuote(backend))", "\"precision\": \(jsonQuote(precision))",
            "\"threads\": \(threads)", "\"batch\": \(batch)", "\"cpu\": \(jsonQuote(cpu))", "\"features\": [" + features.map(jsonQuote).joined(separator: ", ") + "]",
            "\"llvm\": \(jsonQuote(llvm))", "\"peak_gflops\": \(num(peak?.gflops))", "\"peak_source\": \(peakSource)",
            "\"generated_weights\": \(generatedWeights)", "\"compile_s\": \(num(compileSeconds))", "\"runs\": \(runs.count)",
            "\"latency_ms\": {\"p50\": \(num(latency(0.5))), \"p90\": \(num(latency(0.9))), \"p99\": \(num(latency(0.99))), \"min\": \(num(Double(runs.min() ?? 0) / 1e6))}",
            "\"fps\": \(num(fps))",
            "\"cpu_ms\": {\"p50\": \(num(cpu(0.5))), \"min\": \(num(Double(cpuRuns.min() ?? 0) / 1e6))}",
            "\"openblas_core\": \(openBLASCore.map(jsonQuote) ?? "null")",
            "\"not_generated\": [" + notGenerated.map(jsonQuote).joined(separator: ", ") + "]",
        ]
        fields.append("\"kernels\": [" + ks.joined(separator: ", ") + "]")
        return "{" + fields.joined(separator: ", ") + "}"
    }
}
