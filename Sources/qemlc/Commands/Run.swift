import ArgumentParser
import Foundation
import QEMLIR
import QEMLPasses
import QEMLRuntime
import QEMLTensor

struct Run: ParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Classify a signal (or run the model on any tensor) and print the top classes.",
        discussion: """
            --input takes [NAME=]FILE. A .wav or .csv file is a raw signal and goes through the model's frontend section; a .npy file binds a graph input — or, with NAME, any named value, skipping the stages before it.

            --output NAME=FILE.npy writes any named value (e.g. --output spectrogram=spec.npy to see what the network was fed).
            """)

    enum Backend: String, ExpressibleByArgument, CaseIterable { case jit, blas, interpret }

    @Argument(help: "The model (.qir).") var model: String
    @Option(help: "Trained weights (.safetensors, PyTorch state_dict names).") var weights: String?
    @Option(name: .customLong("input"), help: "[NAME=]FILE: a signal (.wav/.csv) or a tensor (.npy).") var inputs: [String] = []
    @Option(name: .customLong("output"), help: "NAME=FILE.npy: write a named value.") var outputs: [String] = []
    @Option(help: "Channel of a multi-channel WAV, or column (index or header) of a CSV.") var channel: String?
    @Flag(help: "Resample a signal whose rate differs from the model's sample_rate.") var resample = false
    @Option(help: "Execution backend: jit (compiled kernels), blas (OpenBLAS convolutions) or interpret (reference).") var backend: Backend = .jit
    @Option(help: "Threads for jit/blas (default: every core).") var threads: Int?
    @Option(help: "How many classes to print (default: every class).") var top: Int?
    @Flag(help: "Print the result as JSON.") var json = false
    @Flag(help: "Overwrite existing --output and --plot files.") var force = false
    @Flag(help: "Classify a long recording window by window, as a monitor would: one line per window (the frontend's length) every --hop.") var stream = false
    @Option(help: "With --stream: seconds between windows (default: a quarter of the window, in whole STFT hops).") var hop: Double?
    @Option(help: "With --stream: draw the timeline (spectrogram, class probabilities, top class) into this PNG file.") var plot: String?

    func validate() throws {
        try Validate.atLeast(top, 1, "--top")
        try Validate.atLeast(threads, 1, "--threads")
        try Validate.positive(hop, "--hop", maximum: 3600, unit: " seconds")
        if !stream, hop != nil || plot != nil { throw ValidationError("--hop and --plot go with --stream") }
        if stream, !outputs.isEmpty { throw ValidationError("--stream prints a line per window; --output goes with a single run") }
    }

    func run() throws {
        let threads = try Validate.threads(threads)
        let graph = try ModelFiles.graph(model)
        let weightTensors = try ModelFiles.weights(weights, for: graph)
        if stream { return try runStream(graph: graph, weights: weightTensors, threads: threads) }
        var given: [String: Tensor] = [:]
        for arg in inputs {
            let (name, path) = ModelFiles.binding(arg)
            let bound = try InputFiles.load(path: path, name: name, graph: graph, channel: channel, resample: resample)
            given[bound.name] = bound.tensor
        }
        if given.isEmpty {
            throw UserError("no input given", fix: "pass --input FILE (a .wav/.csv signal or a .npy tensor for %\(graph.inputs.first.map { graph[$0].name } ?? "input"))")
        }
        var wantedNames: [(String, String)] = []
        for arg in outputs {
            let (name, path) = ModelFiles.binding(arg)
            guard let name else { throw UserError("--output needs NAME=FILE.npy, got '\(arg)'", fix: "e.g. --output features=features.npy") }
            try ModelFiles.checkWritable(path, force: force)
            wantedNames.append((name, path))
        }

        let finalNames = graph.outputs.map { graph[$0].name }
        var results: [String: Tensor]
        var precision = "f32"
        // The compiled model runs from the graph's inputs; a value bound anywhere else goes
        // through the interpreter. Values asked for with --output become outputs of the compiled
        // plan: kept in the arena and copied out in the graph's layout.
        let inputNames = Set(graph.inputs.map { graph[$0].name })
        let boundElsewhere = !given.keys.allSatisfy(inputNames.contains)
        if backend != .interpret && boundElsewhere {
            FileHandle.standardError.write(Data("note: a value other than an input is bound: running on the interpreter\n".utf8))
        }
        if backend != .interpret && !boundElsewhere {
            var withOutputs = graph
            for (name, _) in wantedNames where !finalNames.contains(name) && !inputNames.contains(name) {
                guard let v = graph.value(named: name) else {
                    throw UserError("--output \(name): the model has no value named %\(name)", fix: "`qemlc check` lists every value")
                }
                if !withOutputs.outputs.contains(v) { withOutputs.outputs.append(v) }
            }
            let compiled = try ExecutableModel.compile(withOutputs, weights: weightTensors, target: .host,
                                                       backend: backend == .blas ? .blas : .jit, threads: threads)
            results = try ExecutableModel.userFacing { try compiled.run(inputs: given) }
            precision = Precision.summary(compiled.passes.graph)
            for name in inputNames { results[name] = given[name] }
        } else {
            let interpreter = try Interpreter.forModel(graph, weights: weightTensors, keeping: wantedNames.map(\.0))
            precision = Precision.summary(interpreter.graph)
            results = try interpreter.evaluate(finalNames + wantedNames.map(\.0), inputs: given)
        }
        for (name, path) in wantedNames {
            guard let t = results[name] else { continue }
            try NPY.write(t, to: path, overwrite: force)
        }
        // The classes: the first output as wide as the label list (probs), else the first output.
        let classOutput = graph.outputs.first { graph.type(of: $0).dims.last?.value == graph.labels.count } ?? graph.outputs.first
        let final = classOutput.map { graph[$0].name } ?? ""
        guard let out = results[final] else { return }
        print(ClassReport(tensor: out, labels: graph.labels, valueName: final, top: top, precision: precision).render(json: json, written: wantedNames))
    }
}

/// The top classes per sample, as a table or JSON.
struct ClassReport {
    var tensor: Tensor
    var labels: [String]
    var valueName: String
    var top: Int?
    /// What the model computed in (`Precision.summary`); the text names it unless f32.
    var precision = "f32"

    func render(json: Bool, written: [(String, String)]) -> String {
        let batch = tensor.shape.first ?? 1
        let width = tensor.count / max(1, batch)
        let k = max(0, min(top ?? width, width))
        var samples: [[(String, Float)]] = []
        for b in 0..<batch {
            let row = Array(tensor.data[(b * width)..<((b + 1) * width)])
            // NaN-aware: a non-finite value ranks last (inputs are checked, so this is a model fault).
            let ranked = row.indices.sorted { rankKey(row[$0]) > rankKey(row[$1]) || (rankKey(row[$0]) == rankKey(row[$1]) && $0 < $1) }.prefix(k)
            samples.append(ranked.map { (labels.count == width ? labels[$0] : "class \($0)", row[$0]) })
        }
        if json {
            return TopClassesReport(output: valueName, precision: precision, samples: samples.enumerated().map { b, s in
                .init(sample: b, top: s.map { .init(label: $0.0, value: $0.1, valueName: valueName) })
            }).json
        }
        var text: [String] = []
        for (b, s) in samples.enumerated() {
            if batch > 1 { text.append("sample \(b)") }
            var t = TextTable(["rank", "class", valueName], rightAligned: [0, 2])
            for (i, (label, p)) in s.enumerated() { t.add([String(i + 1), label, String(format: "%.4f", p)]) }
            text.append(t.render())
        }
        if precision != "f32" { text.append("precision: \(precision)") }
        for (n, p) in written { text.append("wrote %\(n) to \(p)") }
        return text.joined(separator: "\n")
    }
}

/// Ranking value: NaN sorts below every number.
private func rankKey(_ v: Float) -> Float { v.isNaN ? -.infinity : v }
