import ArgumentParser
import Foundation
import QEMLIR
import QEMLPasses
import QEMLRuntime
import QEMLTensor

struct Quantize: ParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Write int8 or bf16 weights (docs/QUANTIZATION.md): BatchNorm folded, int8 activation ranges calibrated on data.",
        discussion: """
            DATA is what `qemlc eval` reads (a folder of label-named subfolders of recordings, or a manifest .csv), or a folder of .npy network inputs. The f32 model runs over it; the range of every int8 op's input is taken by --method: minmax (the largest value), percentile (--percentile, default 99.99) or entropy (the 128-level threshold of least KL divergence, as TensorRT). The default, \(Quantize.defaultMethod.rawValue), measured best on the tiny model (benchmarks/RESULTS.md).

            The output is a safetensors file every qemlc command reads as is. int8: convolutions and dense layers whose input is provably non-negative, and the MLP weights of CBAM blocks (weight-only: f32 activations); bf16: every convolution and dense layer, and CBAM's MLP weights. --report prints each reduced op's SQNR (its output, quantized model against f32, over DATA) and which ops stay f32 and why.
            """)

    /// Measured on examples/qemlnet-tiny (benchmarks/RESULTS.md, "Reduced precision").
    static let defaultMethod = CalibrationMethod.percentile

    @Argument(help: "The model (.qir).") var model: String
    @Option(help: "The f32 weights (.safetensors).") var weights: String
    @Option(help: "Calibration data: recordings (as for `qemlc eval`) or a folder of .npy inputs. Required for int8.") var calibrate: String?
    @Option(help: "int8 or bf16.") var precision: Precision
    @Option(name: .shortAndLong, help: "Where to write the quantized weights (.safetensors).") var output: String
    @Option(help: "Range calibration: minmax, percentile or entropy.") var method: CalibrationMethod = Quantize.defaultMethod
    @Option(help: "With --method percentile: the percentile of values kept in range.") var percentile: Double = 99.99
    @Flag(help: "Print per-op SQNR against f32 over the calibration data, and which ops stay f32 and why.") var report = false
    @Option(help: "Threads (default: every core).") var threads: Int?
    @Flag(help: "Resample recordings whose rate differs from the model's sample_rate.") var resample = false
    @Option(help: "Channel of multi-channel WAV files.") var channel: String?
    @Flag(help: "Overwrite the output file.") var force = false

    func validate() throws {
        _ = try Validate.threads(threads)
        guard precision != .f32 else { throw ValidationError("--precision must be int8 or bf16") }
        guard percentile > 50, percentile <= 100 else { throw ValidationError("--percentile must be in (50, 100], got \(percentile)") }
    }

    func run() throws {
        try ModelFiles.checkWritable(output, force: force)
        let graph = try ModelFiles.graph(model)
        let have = try ModelFiles.precision(ofWeights: weights)
        guard have == .f32 else {
            throw UserError("\(weights) holds \(have.rawValue) weights already; quantize starts from f32 weights",
                            fix: "pass the f32 weights the file was made from")
        }
        let f32 = try ModelFiles.weights(weights, for: graph)
        for (name, t) in f32.sorted(by: { $0.key < $1.key }) {
            if let i = t.data.firstIndex(where: { !$0.isFinite }) {
                throw UserError("\(weights): tensor '\(name)' holds \(t.data[i]) at element \(i); quantized weights need finite numbers",
                                fix: "retrain or repair the weights")
            }
        }
        let fused = try ExecutableModel.userFacing {
            try PassManager().run(graph, until: "fuse-cbam", context: PassContext(weights: f32)).graph
        }
        let decisions = QuantizePass.decisions(fused, precision: precision)
        guard decisions.contains(where: { $0.precision != .f32 }) else {
            let why = decisions.compactMap { d in d.why.map { "%\(d.name): \($0)" } }.prefix(4).joined(separator: "; ")
            throw UserError("\(model) has no op that can run in \(precision.rawValue)\(why.isEmpty ? "" : " (\(why))")",
                            fix: precision == .int8 ? "int8 needs a conv2d or dense whose input is non-negative (after a ReLU or pool); try --precision bf16" : "bf16 needs a conv2d or dense layer with weights")
        }
        let calibrated = QuantizedWeights.calibratedValues(fused, decisions)
        for name in calibrated where graph.value(named: name) == nil {
            throw UserError("%\(name) (an int8 op's input) is not a value of \(model) as written, so calibration cannot observe it")
        }
        let inputs = try calibrate.map { try calibrationInputs($0, graph: graph) } ?? []
        if precision == .int8 && calibrate == nil {
            throw UserError("int8 needs calibration data for its activation ranges", fix: "pass --calibrate DATA (recordings as for `qemlc eval`, or a folder of .npy inputs)")
        }
        if calibrate != nil && inputs.isEmpty {
            throw UserError("\(calibrate!) holds no calibration inputs", fix: "give recordings (label folders or a manifest) or a folder of .npy network inputs")
        }

        var ranges: [String: Float] = [:]
        if !calibrated.isEmpty {
            var collectors = Dictionary(uniqueKeysWithValues: calibrated.map { ($0, RangeCollector()) })
            let probe = try compile(graph, f32, outputs: calibrated)
            let sweeps = method == .minmax ? 1 : 2
            let progress = Progress("calibrating", total: sweeps * inputs.count)
            for sweep in 0..<sweeps {
                try forEachBatch(inputs, probe, graph: graph) { outputs, count in
                    for name in calibrated {
                        guard let t = outputs[name] else { continue }
                        t.data.withUnsafeBufferPointer { p in
                            if sweep == 0 { collectors[name]!.observeMaximum(p) } else { collectors[name]!.observeHistogram(p) }
                        }
                    }
                    for _ in 0..<count { progress.step() }
                }
            }
            progress.finish()
            for name in calibrated { ranges[name] = collectors[name]!.range(method, percentile: percentile) }
        }
        let q = try QuantizedWeights(fused: fused, weights: f32, precision: precision, ranges: ranges)
        var metadata = [QuantizedFile.precisionKey: precision.rawValue, QuantizedFile.modelKey: graph.name]
        if let calibrate, precision == .int8 {
            metadata[QuantizedFile.methodKey] = method == .percentile ? "percentile \(percentile)" : method.rawValue
            metadata[QuantizedFile.dataKey] = URL(fileURLWithPath: calibrate).lastPathComponent
            metadata[QuantizedFile.countKey] = String(inputs.count)
        }
        try Safetensors.write(stored: q.stored, to: output, metadata: metadata, overwrite: force)

        let reduced = q.decisions.filter { $0.precision != .f32 && !$0.weightOnly }
        let cbam = q.decisions.filter(\.weightOnly).count
        let f32Bytes = f32.values.reduce(0) { $0 + 4 * $1.count }
        print("wrote \(output): \(precision.rawValue), \(reduced.count) of \(q.decisions.filter { $0.op == "conv2d" || $0.op == "dense" }.count) conv2d/dense ops reduced"
              + (cbam > 0 ? ", the MLP weights of \(cbam) CBAM block\(cbam == 1 ? "" : "s")" : "") + "; "
              + String(format: "weights %.2f MB → %.2f MB", Double(f32Bytes) / 1e6, Double(q.byteCount) / 1e6))
        if precision == .int8, let calibrate {
            print("calibrated \(calibrated.count) activation range\(calibrated.count == 1 ? "" : "s") on \(inputs.count) input\(inputs.count == 1 ? "" : "s") of \(calibrate) (\(metadata[QuantizedFile.methodKey]!))")
        }
        if report { try printReport(graph: graph, f32: f32, decisions: q.decisions, inputs: inputs) }
    }

    /// Per reduced op: SQNR of its output (the quantized model as written, read back from the
    /// file, against f32); then the ops that stay f32 and why; then the top-1 agreement.
    private func printReport(graph: Graph, f32: [String: Tensor], decisions: [QuantizePass.Decision], inputs: [Tensor]) throws {
        let reduced = decisions.filter { $0.precision != .f32 }
        let observed = reduced.map(\.name).filter { graph.value(named: $0) != nil }
        let classOutput = graph.outputs.first { graph.type(of: $0).dims.last?.value == graph.labels.count }.map { graph[$0].name }
        if !inputs.isEmpty {
            let names = observed + (classOutput.map { [$0] } ?? [])
            let reference = try compile(graph, f32, outputs: names)
            let quantized = try compile(graph, try ModelFiles.weights(output, for: graph), outputs: names)
            var signal = [String: Double](), noise = [String: Double]()
            var agree = 0, total = 0
            let progress = Progress("measuring SQNR", total: inputs.count)
            defer { progress.finish() }
            // The same batches through both: the reference's outputs first.
            var batchIndex = 0
            var refBatches: [[String: Tensor]] = []
            try forEachBatch(inputs, reference, graph: graph) { out, _ in refBatches.append(out) }
            try forEachBatch(inputs, quantized, graph: graph) { out, count in
                let ref = refBatches[batchIndex]
                batchIndex += 1
                for name in observed {
                    guard let a = ref[name], let b = out[name] else { continue }
                    for (x, y) in zip(a.data, b.data) {
                        signal[name, default: 0] += Double(x) * Double(x)
                        noise[name, default: 0] += (Double(x) - Double(y)) * (Double(x) - Double(y))
                    }
                }
                if let c = classOutput, let a = ref[c], let b = out[c] {
                    let width = a.count / count
                    for s in 0..<count {
                        let ra = Array(a.data[s * width..<(s + 1) * width]), rb = Array(b.data[s * width..<(s + 1) * width])
                        if ClassificationReport.argmax(ra) == ClassificationReport.argmax(rb) { agree += 1 }
                        total += 1
                    }
                }
                for _ in 0..<count { progress.step() }
            }
            progress.finish()
            print("")
            var t = TextTable(["op", "precision", "SQNR (dB)"], rightAligned: [2])
            var values: [Double] = []
            for d in reduced {
                guard let s = signal[d.name], let n = noise[d.name] else { t.add(["%" + d.name, d.label, "–"]); continue }
                let db = n > 0 ? 10 * log10(s / n) : .infinity
                values.append(db)
                t.add(["%" + d.name, d.label, db.isFinite ? String(format: "%.1f", db) : "exact"])
            }
            print("SQNR of each reduced op's output, \(precision.rawValue) model against f32 over \(inputs.count) inputs:")
            print(t.render())
            if let lo = values.min() {
                print(String(format: "lowest %.1f dB, median %.1f dB", lo, values.sorted()[values.count / 2]))
            }
            if total > 0 {
                print(String(format: "top-1 agreement with f32: %d of %d (%.2f %%)", agree, total, 100 * Double(agree) / Double(total)))
            }
        }
        print("")
        print("ops that stay f32:")
        var f = TextTable(["op", "kind", "why"])
        for d in decisions where d.precision == .f32 { f.add(["%" + d.name, d.op, d.why ?? ""]) }
        print(f.render())
    }

    /// The calibration set as network inputs (`[1, …]` each), in a fixed order.
    private func calibrationInputs(_ data: String, graph: Graph) throws -> [Tensor] {
        var isFolder: ObjCBool = false
        guard FileManager.default.fileExists(atPath: data, isDirectory: &isFolder) else {
            throw UserError("--calibrate \(data): no such file or folder", fix: "give recordings (label folders or a manifest) or a folder of .npy inputs")
        }
        if isFolder.boolValue {
            let entries = try FileManager.default.contentsOfDirectory(atPath: data).sorted()
            let npys = entries.filter { $0.lowercased().hasSuffix(".npy") }
            if !npys.isEmpty {
                let progress = Progress("reading inputs", total: npys.count)
                defer { progress.finish() }
                var out: [Tensor] = []
                for f in npys {
                    let bound = try InputFiles.load(path: data + "/" + f, name: nil, graph: graph, channel: channel, resample: resample)
                    out += split(bound.tensor)
                    progress.step()
                }
                return out
            }
        }
        let recordings = try LabelledRecordings(data)
        let progress = Progress("front end", total: recordings.items.count)
        defer { progress.finish() }
        var out: [Tensor] = []
        for item in recordings.items {
            do {
                out += split(try InputFiles.signal(path: item.path, name: nil, graph: graph, channel: channel, resample: resample).tensor)
            } catch {
                let (what, fix) = Eval.explain(error, path: item.path)
                throw UserError("\(item.path): \(what)", fix: fix ?? "fix or remove the recording")
            }
            progress.step()
        }
        return out
    }

    /// A batch tensor as single samples.
    private func split(_ t: Tensor) -> [Tensor] {
        let n = max(1, t.shape.first ?? 1), per = t.count / n
        return (0..<n).map { Tensor(shape: [1] + t.shape.dropFirst(), data: Array(t.data[$0 * per..<($0 + 1) * per])) }
    }

    /// The model compiled for this machine with `outputs` added to its outputs.
    private func compile(_ graph: Graph, _ weights: [String: Tensor], outputs: [String]) throws -> CompiledModel {
        var g = graph
        for name in outputs { if let v = graph.value(named: name), !g.outputs.contains(v) { g.outputs.append(v) } }
        return try ExecutableModel.compile(g, weights: weights, target: .host, backend: .jit, threads: try Validate.threads(threads))
    }

    /// Runs `model` over `inputs` in batches of 32 (1 for a model with a fixed batch of 1).
    private func forEachBatch(_ inputs: [Tensor], _ model: CompiledModel, graph: Graph,
                              _ body: ([String: Tensor], Int) throws -> Void) throws {
        guard let input = graph.inputs.first else { return }
        let name = graph[input].name
        let size = graph.type(of: input).dims.first?.value ?? 32
        var i = 0
        while i < inputs.count {
            let chunk = inputs[i..<min(i + size, inputs.count)]
            i += chunk.count
            var data: [Float] = []
            for t in chunk { data += t.data }
            let x = Tensor(shape: [chunk.count] + chunk.first!.shape.dropFirst(), data: data)
            try body(try ExecutableModel.userFacing { try model.run(inputs: [name: x]) }, chunk.count)
        }
    }
}

extension Precision: ExpressibleByArgument {}
extension CalibrationMethod: ExpressibleByArgument {}
