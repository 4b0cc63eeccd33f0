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
        try requireInputFile(path, given: "--input")
        let ext = URL(fileURLWithPath: path).pathExtension.lowercased()
        switch ext {
        case "npy":
            let t = try NPY.read(path: path)
            try t.requireFinite(path: path)
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
        let (recording, channelIndex) = try readSignal(path, channel: channel)
        if !spec.settings.contains(where: { $0.0 == "channel" }) { warnIfChannelUnchosen(recording, path: path, channel: channelIndex) }
        let tensor = try FrontEnd(spec: spec).run(recording, path: path, channel: channelIndex, resample: resample)
        return Bound(name: spec.output, tensor: try conform(tensor, to: graph, value: spec.output, path: path))
    }

    /// Reads a recording; `--channel` is a WAV channel number or a CSV column (name or index).
    /// Returns the channel to take: the CSV's one column, the WAV channel asked for, or nil for
    /// the model's frontend default.
    static func readSignal(_ path: String, channel: String?) throws -> (Recording, channel: Int?) {
        let isCSV = ["csv", "tsv", "txt"].contains(URL(fileURLWithPath: path).pathExtension.lowercased())
        let recording = try SignalFile.read(path, column: isCSV ? channel : nil)
        if isCSV { return (recording, 0) }
        guard let channel else { return (recording, nil) }
        guard let c = Int(channel), c >= 0 else {
            throw UserError("--channel \(channel): a WAV channel is a number from 0", fix: "e.g. --channel 1")
        }
        return (recording, c)
    }

    /// A multi-channel WAV read without --channel: say which channel is used and how to pick another.
    static func warnIfChannelUnchosen(_ recording: Recording, path: String, channel: Int?, defaultChannel: Int = 0) {
        guard channel == nil, recording.channels.count > 1 else { return }
        FileHandle.standardError.write(Data("warning: \(path) has \(plural(recording.channels.count, "channel")); using channel \(defaultChannel) (pass --channel N to choose)\n".utf8))
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
            throw UserError("the model has \(plural(inputNames.count, "input")); say which one \(path) is",
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
