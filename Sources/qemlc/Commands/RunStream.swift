import Foundation
import QEMLIR
import QEMLRuntime
import QEMLSignal
import QEMLTensor

/// `qemlc run --stream`: a long recording classified as a monitor would see it, window by window
/// (`StreamWindow`: the frontend's `length` every hop; the exported runtime streams by the same rule).
extension Run {
    func runStream(graph: Graph, weights: [String: Tensor], threads: Int?) throws {
        guard inputs.count == 1, let arg = inputs.first else {
            throw UserError("--stream classifies one recording", fix: "pass one --input FILE.wav (or .csv)")
        }
        let (_, path) = ModelFiles.binding(arg)
        guard let spec = graph.frontend else {
            throw UserError("--stream classifies a recording through the model's frontend, and \(model) has none", fix: "add a frontend section")
        }
        let frontEnd = try FrontEnd(spec: spec)
        guard let length = frontEnd.length else {
            throw UserError("--stream needs the model's frontend to set length (the window, in samples)",
                            fix: "add `length = <samples>` to the frontend section")
        }
        try requireInputFile(path, given: "--input")
        let (recording, channelIndex) = try InputFiles.readSignal(path, channel: channel)
        let (x, rate) = try frontEnd.prepare(recording, path: path, channel: channelIndex, resample: resample)
        let hopSamples = hop.map { max(1, Int(($0 * Double(rate)).rounded())) } ?? StreamWindow.defaultHop(length: length, stftHop: frontEnd.stft.hop)
        let windows = StreamWindow.windows(samples: x.count, length: length, hop: hopSamples)
        if let plot { try ModelFiles.checkWritable(plot, force: force) }
        guard let input = graph.inputs.first, graph[input].name == spec.output,
              let classOutput = graph.outputs.first(where: { graph.type(of: $0).dims.last?.value == graph.labels.count }) else {
            throw UserError("\(model): --stream needs a frontend feeding the input and an output as wide as the labels")
        }
        let runner = try Eval.Runner(graph: graph, weights: weights, backend: backend, threads: threads, output: graph[classOutput].name)
        let batch = graph.type(of: input).dims.first?.value ?? 32
        var probabilities: [[Float]] = []
        var next = 0
        while next < windows.count {
            let chunk = windows[next..<min(next + batch, windows.count)]
            next += chunk.count
            let tensors = try chunk.map { w in
                try InputFiles.conform(frontEnd.run(Array(x[w.start..<w.end]), sampleRate: rate), to: graph, value: spec.output, path: path)
            }
            probabilities += try runner.classify(tensors, inputName: spec.output)
        }
        let labels = graph.labels.isEmpty ? (0..<(probabilities.first?.count ?? 0)).map { "class \($0)" } : graph.labels
        let times = windows.map { Double($0.end) / Double(rate) }
        for (w, (t, row)) in zip(windows, zip(times, probabilities)) {
            let k = ClassificationReport.argmax(row)
            let note = w.kind == .short ? " (short window: \(w.end) of \(length) samples, zero-padded)"
                : w.kind == .finalPartialHop ? " (final window: \(w.end - (windows.count > 1 ? windows[windows.count - 2].end : 0)) new samples)" : ""
            if json {
                print(StreamWindowReport(t: t, start: Double(w.start) / Double(rate), label: labels[k], p: row[k], window: w.kind.rawValue,
                                         probs: Array(zip(labels, row))).json)
            } else {
                print(String(format: "t=%.2f %@ %.2f", t, labels[k], row[k]) + note)
            }
        }
        if let plot {
            let strip = try frontEnd.strip(x, sampleRate: rate)
            try writeFileAtomically(try TimelineImage.png(spectrogram: strip.map, sampleRate: rate, hop: strip.hop, nFFT: strip.nFFT,
                                                          firstBin: strip.firstBin, duration: Double(x.count) / Double(rate), times: times,
                                                          probabilities: probabilities, labels: labels),
                                    to: plot, overwrite: force)
            if !json { print("wrote the timeline to \(plot)") }
        }
    }
}
