import Foundation
import QEMLIR
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
        default:
            throw UserError("\(path): unsupported input format '.\(ext)'", fix: "give a .npy tensor")
        }
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
