import ArgumentParser
import Foundation
import QEMLIR
import QEMLPasses
import QEMLRuntime
import QEMLSignal
import QEMLTensor

struct Eval: ParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Measure a model on labelled recordings: accuracy, macro-F1, per-class precision/recall/F1, ROC AUC, the confusion matrix.",
        discussion: """
            DATA is a folder of label-named subfolders of .wav/.csv files (what `qemlc synth --dataset` writes; its manifest.csv is read when present) or a manifest CSV with path and label columns (more columns allowed, paths relative to the manifest).

            Recordings go through the model's front end and run batched through the compiled model (--backend jit), as `qemlc run` would classify them one by one. --by COLUMN breaks the accuracy down by a manifest column: numeric columns fall into four equal-width bins, or into the bins whose edges follow a colon (--by snr_db:-5,0,10,20).
            """)

    @Argument(help: "The model (.qir).") var model: String
    @Argument(help: "The recordings: a folder of label-named subfolders, or a manifest .csv.") var data: String
    @Option(help: "Trained weights (.safetensors).") var weights: String
    @Flag(help: "Resample recordings whose rate differs from the model's sample_rate.") var resample = false
    @Option(help: "Channel of multi-channel WAV files.") var channel: String?
    @Option(help: "Execution backend: jit (compiled kernels), blas (OpenBLAS convolutions) or interpret (reference).") var backend: Run.Backend = .jit
    @Option(help: "Threads for jit/blas (default: every core).") var threads: Int?
    @Option(help: "Recordings per batch (default 32; 1 for a model whose batch is fixed at 1).") var batch: Int?
    @Option(help: "COLUMN[:EDGES]: accuracy by a manifest column (e.g. snr_db:-5,0,10,20, rpm, bearing).") var by: String?
    @Flag(help: "Skip recordings that cannot be read (each is named in the summary) instead of stopping.") var skipBad = false
    @Option(help: "Draw the confusion matrix into this PNG file.") var plot: String?
    @Option(help: "Write every recording's path, label, predicted class and probabilities to this CSV file.") var predictions: String?
    @Flag(help: "Print the result as one JSON object.") var json = false
    @Flag(help: "Overwrite existing --plot and --predictions files.") var force = false

    func validate() throws {
        _ = try Validate.threads(threads)
        try Validate.atLeast(batch, 1, "--batch", maximum: 4096)
    }

    func run() throws {
        let graph = try ModelFiles.graph(model)
        let weightTensors = try ModelFiles.weights(weights, for: graph)
        let labels = graph.labels
        guard !labels.isEmpty, let classOutput = graph.outputs.first(where: { graph.type(of: $0).dims.last?.value == labels.count }) else {
            throw UserError("\(model) has no output as wide as its labels list (\(labels.count) labels), so its classes cannot be scored",
                            fix: "declare `labels [...]` with one name per class and output the class probabilities")
        }
        guard let spec = graph.frontend, let input = graph.inputs.first, graph[input].name == spec.output, graph.inputs.count == 1 else {
            throw UserError("\(model) has no frontend feeding its only input, so it cannot classify recordings",
                            fix: "add a frontend section (ir/LANGUAGE.md) or evaluate with `qemlc run` on tensors")
        }
        for out in [plot, predictions].compactMap({ $0 }) { try ModelFiles.checkWritable(out, force: force) }
        let recordings = try LabelledRecordings(data)
        let breakdown = try by.map { try Breakdown.Spec($0, columns: recordings.columnNames, source: recordings.source) }
        for item in recordings.items where !labels.contains(item.label) {
            throw UserError("\(item.path): label '\(item.label)' is not one of \(model)'s labels (\(labels.joined(separator: ", ")))",
                            fix: "rename the folder or manifest label, or evaluate a model trained on these classes")
        }
        let fixedBatch = graph.type(of: input).dims.first?.value
        let batchSize = fixedBatch ?? batch ?? 32
        if let fixedBatch, let batch, batch != fixedBatch {
            throw UserError("--batch \(batch): \(model) declares a fixed batch of \(fixedBatch) (%\(spec.output): \(graph.type(of: input)))",
                            fix: "drop --batch, or declare the input's batch as N")
        }
        let runner = try Runner(graph: graph, weights: weightTensors, backend: backend, threads: try Validate.threads(threads),
                                output: graph[classOutput].name)

        var probabilities: [[Float]] = [], truth: [Int] = [], scored: [LabelledRecordings.Item] = []
        var skipped: [(path: String, error: String)] = []
        var batchSeconds: [Double] = []
        var frontEndSeconds = 0.0
        let progress = Progress("evaluating", total: recordings.items.count)
        let start = Date()
        var next = 0
        while next < recordings.items.count {
            let chunk = Array(recordings.items[next..<min(next + batchSize, recordings.items.count)])
            next += chunk.count
            let t0 = Date()
            let tensors = frontEnd(chunk, graph: graph)
            frontEndSeconds += Date().timeIntervalSince(t0)
            var good: [(LabelledRecordings.Item, Tensor)] = []
            for (item, result) in zip(chunk, tensors) {
                switch result {
                case .success(let t): good.append((item, t))
                case .failure(let e):
                    let (what, fix) = Self.explain(e, path: item.path)
                    guard skipBad else {
                        progress.finish()
                        throw UserError("\(item.path): \(what)", fix: fix ?? "fix or remove the recording, or pass --skip-bad to skip unreadable ones")
                    }
                    skipped.append((item.path, what))
                }
                progress.step()
            }
            guard !good.isEmpty else { continue }
            // A fixed batch of 1 runs one at a time; otherwise the chunk is one batch.
            let groups = fixedBatch == 1 ? good.map { [$0] } : [good]
            for g in groups {
                let t1 = Date()
                let rows = try runner.classify(g.map(\.1), inputName: spec.output)
                batchSeconds.append(Date().timeIntervalSince(t1))
                probabilities += rows
                truth += g.map { labels.firstIndex(of: $0.0.label)! }  // checked above
                scored += g.map(\.0)
            }
        }
        progress.finish()
        let wall = Date().timeIntervalSince(start)
        guard !truth.isEmpty else {
            throw UserError("no recording of \(recordings.source) could be read (\(skipped.count) skipped)", fix: "check the files named with --skip-bad")
        }
        let report = ClassificationReport(labels: labels, probabilities: probabilities, truth: truth)
        let correct = zip(probabilities, truth).map { ClassificationReport.argmax($0) == $1 }
        let groups = breakdown.map { $0.groups(scored, correct: correct) }
        let timing = EvalTiming(recordings: truth.count, wall: wall, frontEnd: frontEndSeconds, batches: batchSeconds, batchSize: fixedBatch == 1 ? 1 : batchSize)
        if let plot {
            try writeFileAtomically(ConfusionMatrixImage.png(labels: labels, confusion: report.confusion,
                                                             title: "\(graph.name): accuracy \(String(format: "%.1f", 100 * report.accuracy)) %, \(truth.count) recordings"),
                                    to: plot, overwrite: force)
        }
        if let predictions {
            var lines = ["path,label,predicted," + labels.map { "p_" + $0 }.joined(separator: ",")]
            for (item, row) in zip(scored, probabilities) {
                lines.append(([Self.csvField(item.path), Self.csvField(item.label), labels[ClassificationReport.argmax(row)]]
                              + row.map { String(format: "%.6g", $0) }).joined(separator: ","))
            }
            try writeFileAtomically(Array((lines.joined(separator: "\n") + "\n").utf8), to: predictions, overwrite: force)
        }
        let summary = EvalSummary(model: graph.name, data: recordings.source, backend: runner.label, precision: runner.precision, report: report,
                                  timing: timing, skipped: skipped, breakdown: groups.map { (breakdown!.column, $0) })
        print(json ? try summary.json() : summary.text(plot: plot))
        if let predictions, !json { print("wrote every recording's prediction to \(predictions)") }
    }

    /// What went wrong with one recording, without the path the caller names (and its fix, if
    /// the error has one: a sample-rate mismatch says to pass --resample).
    static func explain(_ e: Error, path: String) -> (String, fix: String?) {
        switch e {
        case let e as SignalError: return (e.message, e.fix)
        case let e as FileFormatError: return (e.place.isEmpty ? e.message : "\(e.place): \(e.message)", nil)  // a damaged file: skip or fix it
        case let e as UserError: return (e.message, e.fix)
        default:
            let text = "\(e)"
            return (text.hasPrefix("error: ") ? String(text.dropFirst(7)) : text, nil)
        }
    }

    /// A CSV field, quoted when it holds a comma or a quote.
    static func csvField(_ s: String) -> String {
        s.contains(",") || s.contains("\"") ? "\"" + s.replacingOccurrences(of: "\"", with: "\"\"") + "\"" : s
    }

    /// Each recording's network input, or why it could not be made; computed in parallel.
    private func frontEnd(_ items: [LabelledRecordings.Item], graph: Graph) -> [Result<Tensor, Error>] {
        let results = ResultBox<Tensor>(count: items.count)
        let channel = self.channel, resample = self.resample
        DispatchQueue.concurrentPerform(iterations: items.count) { i in
            results[i] = Result { try InputFiles.signal(path: items[i].path, name: nil, graph: graph, channel: channel, resample: resample).tensor }
        }
        return results.values
    }

    /// The model as one backend runs it: the compiled plan or the reference interpreter.
    struct Runner {
        let compiled: CompiledModel?
        let interpreter: Interpreter?
        let output: String
        let label: String
        /// What the model computes in (`Precision.summary`).
        let precision: String

        init(graph: Graph, weights: [String: Tensor], backend: Run.Backend, threads: Int?, output: String) throws {
            self.output = output
            if backend == .interpret {
                compiled = nil
                let i = try Interpreter.forModel(graph, weights: weights)
                interpreter = i
                precision = Precision.summary(i.graph)
                label = "interpret (reference interpreter)"
            } else {
                let c = try ExecutableModel.compile(graph, weights: weights, target: .host, backend: backend == .blas ? .blas : .jit, threads: threads)
                compiled = c
                interpreter = nil
                precision = Precision.summary(c.passes.graph)
                label = "\(backend.rawValue), \(c.threads) thread\(c.threads == 1 ? "" : "s")"
            }
        }

        /// Class scores, one row per input.
        func classify(_ inputs: [Tensor], inputName: String) throws -> [[Float]] {
            let perSample = inputs[0].count
            var data: [Float] = []
            data.reserveCapacity(perSample * inputs.count)
            for t in inputs { data += t.data }
            let x = Tensor(shape: [inputs.count] + Array(inputs[0].shape.dropFirst()), data: data)
            let out: Tensor?
            if let compiled {
                out = try ExecutableModel.userFacing { try compiled.run(inputs: [inputName: x]) }[output]
            } else {
                out = try interpreter!.evaluate([output], inputs: [inputName: x])[output]
            }
            guard let out else { throw UserError("the model computed no %\(output)") }
            let width = out.count / inputs.count
            return (0..<inputs.count).map { Array(out.data[($0 * width)..<(($0 + 1) * width)]) }
        }
    }
}

/// Results written from parallel work, one slot each.
private final class ResultBox<T>: @unchecked Sendable {
    private var slots: [Result<T, Error>?]
    private let lock = NSLock()
    init(count: Int) { slots = Array(repeating: nil, count: count) }
    subscript(i: Int) -> Result<T, Error> {
        get { lock.lock(); defer { lock.unlock() }; return slots[i]! }
        set { lock.lock(); slots[i] = newValue; lock.unlock() }
    }
    var values: [Result<T, Error>] { lock.lock(); defer { lock.unlock() }; return slots.map { $0! } }
}

extension EvalSummary {
    /// The report as tables: totals, per class, the confusion matrix, the breakdown, timings.
    func text(plot: String?) -> String {
        let r = report
        func f(_ v: Double?) -> String { v.map { String(format: "%.4f", $0) } ?? "–" }
        var out = ["\(model) on \(data): \(r.count) recordings, backend \(backend), \(precision)",
                   "accuracy \(f(r.accuracy))   macro-F1 \(f(r.macroF1))   AUC (macro, one-vs-rest) \(f(r.auc))", ""]
        var t = TextTable(["class", "precision", "recall", "F1", "AUC", "support"], rightAligned: [1, 2, 3, 4, 5])
        for label in r.labels {
            guard let c = r.perClass[label] else { continue }
            t.add([label, f(c.precision), f(c.recall), f(c.f1), f(c.auc), String(c.support)])
        }
        out.append(t.render())
        out.append("")
        out.append("confusion matrix (rows: true class, columns: predicted, in the order above)")
        var m = TextTable(["true \\ predicted"] + r.labels.indices.map { String($0 + 1) }, rightAligned: Set(1...r.labels.count))
        for (i, row) in r.confusion.enumerated() { m.add(["\(i + 1) \(r.labels[i])"] + row.map(String.init)) }
        out.append(m.render())
        if let (column, groups) = breakdown {
            out.append("")
            var b = TextTable([column, "recordings", "accuracy"], rightAligned: [1, 2])
            for g in groups { b.add([g.group, String(g.count), f(g.accuracy)]) }
            out.append(b.render())
        }
        out.append("")
        out.append(String(format: "%.0f recordings/s (%.2f s in all; front end %.2f ms per recording); network p50 %.2f ms per batch of %d",
                          timing.recordingsPerSecond, timing.wall, timing.frontEnd * 1e3 / Double(max(1, timing.recordings)),
                          timing.p50Batch * 1e3, timing.batchSize))
        if !skipped.isEmpty {
            out.append("skipped \(skipped.count) unreadable recording\(skipped.count == 1 ? "" : "s"):")
            out += skipped.map { "  \($0.path): \($0.error)" }
        }
        if let plot { out.append("wrote the confusion matrix to \(plot)") }
        return out.joined(separator: "\n")
    }
}
