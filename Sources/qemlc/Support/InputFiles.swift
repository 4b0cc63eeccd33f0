import Foundation
import QEMLIR
import QEMLSignal
import QEMLTensor

/// Turns an `--input [NAME=]FILE` into the tensor it binds.
enum InputFiles {
    struct Bound {
        var name: String
        var tensor: Tensor
    }

    static func load(path: String, name: String?, graph: Graph, channel: String?, resample: Bool) throws -> Bound {
        guard FileManager.default.fileExists(atPath: path) else {
            throw UserError("\(path): no such file", fix: "check the path given to --input")
        }
        let ext = URL(fileURLWithPath: path).pathExtension.lowercased()
        switch ext {
        case "npy":
            let t = try NPY.read(path: path)
            let target = try targetValue(name, graph: graph, path: path)
            return Bound(name: target, tensor: try conform(t, to: graph, value: target, path: path))
        case "wav", "wave", "csv", "tsv", "txt":
            return try signal(path: path, name: name, graph: graph, channel: channel, resample: resample)
        default:
            throw UserError("\(path): unsupported input format '.\(ext)'",
                            fix: "give a signal (.wav, .csv) or a tensor (.npy)")
        }
    }

    /// A raw recording through the model's front end, bound to the value the front end feeds.
    static func signal(path: String, name: String?, graph: Graph, channel: String?, resample: Bool) throws -> Bound {
        guard let spec = graph.frontend else {
            throw UserError("\(path) is a raw signal but \(graph.name) has no frontend section to turn it into %\(graph.inputs.first.map { graph[$0].name } ?? "input")",
                            fix: "add a `frontend` section to the model (ir/LANGUAGE.md), or pass a .npy tensor")
        }
        if let name, name != spec.output {
            throw UserError("--input \(name)=\(path): a signal feeds the front end, which produces %\(spec.output), not %\(name)",
                            fix: "write --input \(path) (or --input \(spec.output)=\(path))")
        }
        let isCSV = ["csv", "tsv", "txt"].contains(URL(fileURLWithPath: path).pathExtension.lowercased())
        let recording = try SignalFile.read(path, column: isCSV ? channel : nil)
        var channelIndex = spec["channel"]?.int ?? 0
        if !isCSV, let channel {
            guard let c = Int(channel), c >= 0 else {
                throw UserError("--channel \(channel): a WAV channel is a number from 0", fix: "e.g. --channel 1")
            }
            channelIndex = c
        }
        var samples = try recording.channel(isCSV ? 0 : channelIndex, path: path)
        let expectedRate = spec["sample_rate"]?.int
        var rate = recording.sampleRate ?? expectedRate ?? 0
        if let expectedRate, rate != expectedRate, resample {
            samples = try resamplePoly(samples, from: rate, to: expectedRate)
            rate = expectedRate
        }
        let tensor = try FrontEnd(spec: spec).run(samples, sampleRate: rate)
        return Bound(name: spec.output, tensor: try conform(tensor, to: graph, value: spec.output, path: path))
    }

    /// The value an input binds: the named one, else the graph's only input.
    static func targetValue(_ name: String?, graph: Graph, path: String) throws -> String {
        let inputNames = graph.inputs.map { graph[$0].name }
        if let name {
            guard graph.value(named: name) != nil else {
                throw UserError("--input \(name)=\(path): the model has no value named %\(name)",
                                fix: "inputs are " + inputNames.map { "%" + $0 }.joined(separator: ", ") + "; `qemlc check` lists every value")
            }
            return name
        }
        guard inputNames.count == 1 else {
            throw UserError("the model has \(inputNames.count) inputs; say which one \(path) is",
                            fix: "--input NAME=\(path) with NAME one of " + inputNames.joined(separator: ", "))
        }
        return inputNames[0]
    }

    /// Checks a tensor against the value's type; a missing leading batch dimension is added.
    static func conform(_ t: Tensor, to graph: Graph, value: String, path: String) throws -> Tensor {
        guard let v = graph.value(named: value) else { return t }
        let type = graph.type(of: v)
        var t = t
        if t.rank == type.rank - 1 { t = t.reshaped([1] + t.shape) }
        let matches = t.rank == type.rank && zip(t.shape, type.dims).allSatisfy { s, d in d.value.map { $0 == s } ?? true }
        guard matches else {
            throw UserError("\(path) holds a tensor of shape \(describeShape(t.shape)) but %\(value) is \(type)",
                            fix: "give a tensor of shape \(type) (a symbolic dimension takes any size)")
        }
        return t
    }
}
