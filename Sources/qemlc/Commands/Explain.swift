import ArgumentParser
import Foundation
import QEMLIR
import QEMLRuntime
import QEMLSignal
import QEMLTensor

struct Explain: ParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Show where the model looks: each stage's CBAM spatial attention over the spectrogram, its channel attention, and the predicted class.",
        discussion: """
            The attention values come from the compiled plan (they become outputs of it; --backend interpret reads them from the reference interpreter). A stage's spatial maps are averaged over its blocks and upsampled (bilinear) to the network's input map; its channel attention is averaged over its blocks too. --output STAGE=FILE.npy writes a stage's averaged spatial map at its own resolution, [H, W] (STAGE as in the picture: layer1, …).
            """)

    @Argument(help: "The model (.qir) with CBAM blocks.") var model: String
    @Argument(help: "A recording (.wav, .csv) for the model's frontend.") var signal: String
    @Option(help: "Trained weights (.safetensors).") var weights: String
    @Option(name: .customShort("o"), help: "The picture to write (.png).") var picture: String
    @Option(help: "Which stages to draw: all, or one name (layer1 … layer4).") var stage = "all"
    @Option(name: .customLong("output"), help: "STAGE=FILE.npy: write a stage's averaged spatial attention map.") var maps: [String] = []
    @Option(help: "Channel of a multi-channel WAV, or column of a CSV.") var channel: String?
    @Flag(help: "Resample a signal whose rate differs from the model's sample_rate.") var resample = false
    @Option(help: "Execution backend: jit (compiled kernels) or interpret (reference).") var backend: Run.Backend = .jit
    @Flag(help: "Overwrite existing files.") var force = false

    /// CBAM's attention values, found by shape: a sigmoid of [N, 1, H, W] (spatial) or
    /// [N, C, 1, 1] (channel), grouped by the stage its name starts with.
    struct Attention {
        var stage: String
        var spatial: [String] = []
        var channel: [String] = []
    }

    static func attention(in g: Graph) -> [Attention] {
        var stages: [Attention] = []
        for node in g.nodes where node.op == "sigmoid" {
            guard let v = node.results.first else { continue }
            let dims = g.type(of: v).dims.map(\.value)
            let name = g[v].name
            let stage = String(name.split(separator: ".").first ?? "")
            guard dims.count == 4 else { continue }
            var index = stages.firstIndex { $0.stage == stage } ?? stages.count
            if index == stages.count { stages.append(Attention(stage: stage)); index = stages.count - 1 }
            if dims[1] == 1 { stages[index].spatial.append(name) }
            else if dims[2] == 1, dims[3] == 1 { stages[index].channel.append(name) }
        }
        return stages.filter { !$0.spatial.isEmpty }
    }

    func run() throws {
        let graph = try ModelFiles.graph(model)
        let weightTensors = try ModelFiles.weights(weights, for: graph)
        var stages = Self.attention(in: graph)
        guard !stages.isEmpty else {
            throw UserError("\(model) has no CBAM spatial attention (a sigmoid of shape [N,1,H,W])", fix: "explain works on QEML-Net models with CBAM blocks")
        }
        if stage != "all" {
            stages = stages.filter { $0.stage == stage }
            guard !stages.isEmpty else {
                throw ValidationError("--stage \(stage): the model's stages with attention are all, " + Self.attention(in: graph).map(\.stage).joined(separator: ", "))
            }
        }
        try ModelFiles.checkWritable(picture, force: force)
        let writes = try maps.map { arg -> (String, String) in
            let (name, path) = ModelFiles.binding(arg)
            guard let name, stages.contains(where: { $0.stage == name }) else {
                throw UserError("--output \(arg): name a drawn stage, STAGE=FILE.npy", fix: "one of " + stages.map(\.stage).joined(separator: ", "))
            }
            try ModelFiles.checkWritable(path, force: force)
            return (name, path)
        }
        let input = try InputFiles.signal(path: signal, name: nil, graph: graph, channel: channel, resample: resample)
        let wanted = stages.flatMap { $0.spatial + $0.channel }
        let classOutput = graph.outputs.first { graph.type(of: $0).dims.last?.value == graph.labels.count } ?? graph.outputs[0]
        let results: [String: Tensor]
        if backend == .interpret {
            results = try Interpreter.forModel(graph, weights: weightTensors, keeping: wanted).evaluate(wanted + [graph[classOutput].name], inputs: [input.name: input.tensor])
        } else {
            var withAttention = graph
            for name in wanted { if let v = graph.value(named: name), !withAttention.outputs.contains(v) { withAttention.outputs.append(v) } }
            let compiled = try ExecutableModel.compile(withAttention, weights: weightTensors, target: .host, backend: backend == .blas ? .blas : .jit, threads: nil)
            results = try ExecutableModel.userFacing { try compiled.run(inputs: [input.name: input.tensor]) }
        }

        // The picture's map: the network input's first channel, with its front end's axes.
        let x = input.tensor, rows = x.shape[2], cols = x.shape[3]
        let map = Array(x.data.prefix(rows * cols))
        var drawn: [AttentionImage.Stage] = []
        for s in stages {
            let spatial = try s.spatial.map { try required(results[$0], $0) }
            let h = spatial[0].shape[2], w = spatial[0].shape[3]
            var mean = [Float](repeating: 0, count: h * w)
            for t in spatial { for i in mean.indices { mean[i] += t.data[i] / Float(spatial.count) } }
            for (name, path) in writes where name == s.stage { try NPY.write(Tensor(shape: [h, w], data: mean), to: path, overwrite: force) }
            let channels = try s.channel.map { try required(results[$0], $0) }
            var channelMean: [Float] = []
            if let first = channels.first {
                channelMean = [Float](repeating: 0, count: first.count)
                for t in channels where t.count == first.count { for i in channelMean.indices { channelMean[i] += t.data[i] / Float(channels.count) } }
            }
            drawn.append(AttentionImage.Stage(name: s.stage, spatial: bilinearResize(mean, height: h, width: w, toHeight: rows, width: cols), channels: channelMean))
        }
        let probs = try required(results[graph[classOutput].name], graph[classOutput].name)
        let k = ClassificationReport.argmax(probs.data)
        let label = graph.labels.count == probs.count ? graph.labels[k] : "class \(k)"
        let (fLow, fHigh, seconds) = try axes(graph: graph)
        let title = String(format: "%@: %@ %.2f", (signal as NSString).lastPathComponent, label, probs.data[k])
        try writeFileAtomically(AttentionImage.png(map: map, rows: rows, cols: cols, fLow: fLow, fHigh: fHigh, seconds: seconds,
                                                   stages: drawn, title: title), to: picture, overwrite: force)
        print(String(format: "%@ %.4f; attention of %@ (%@) drawn to %@", label, probs.data[k], stages.map(\.stage).joined(separator: ", "),
                     backend == .interpret ? "reference interpreter" : "compiled plan", picture))
        for (name, path) in writes { print("wrote \(name)'s spatial attention to \(path)") }
    }

    /// The map's frequency range (its first and last FFT bin or mel band edge) and duration.
    private func axes(graph: Graph) throws -> (Double, Double, Double) {
        guard let spec = graph.frontend else { return (0, 1, 1) }
        let fe = try FrontEnd(spec: spec)
        let rate = Double(fe.sampleRate ?? 1)
        let seconds = Double(fe.length ?? Int(rate)) / rate
        if fe.nMels != nil { return (fe.fmin, fe.fmax ?? rate / 2, seconds) }
        let bins = fe.keptBins(sampleRate: Int(rate))
        let hz = rate / Double(fe.stft.nFFT)
        return (Double(bins.lowerBound) * hz, Double(bins.upperBound - 1) * hz, seconds)
    }

    private func required(_ t: Tensor?, _ name: String) throws -> Tensor {
        guard let t else { throw UserError("the run computed no %\(name)") }
        return t
    }
}
