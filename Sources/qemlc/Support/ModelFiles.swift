import Foundation
import QEMLIR
import QEMLPasses
import QEMLTensor

/// Loading what the user names on the command line: the model, its weights, its inputs.
enum ModelFiles {
    /// Parses, lowers and verifies a `.qir` file (fused ops are registered so dumps re-enter).
    static func graph(_ path: String) throws -> Graph {
        try requireInputFile(path, given: "MODEL")
        return try QIR.load(path: path)
    }

    /// The weights the graph needs, shape-checked against the file before anything is decoded.
    static func weights(_ path: String?, for graph: Graph) throws -> [String: Tensor] {
        let needed = graph.weights.compactMap { graph[$0].weightName }
        guard let path else {
            if needed.isEmpty { return [:] }
            throw UserError("the model needs \(needed.count) weight tensors (\(needed.prefix(3).joined(separator: ", "))…)",
                            fix: "pass --weights FILE.safetensors (make one with `qemlc init-weights MODEL -o FILE.safetensors`)")
        }
        try requireInputFile(path, given: "--weights")
        let file = try SafetensorsFile(path: path)
        var available: [String: [Int]] = [:]
        for name in needed { if let e = file.entry(name) { available[name] = e.shape } }
        // A quantized file (docs/QUANTIZATION.md "The file") folds BatchNorm into the op and keeps
        // its numbers beside the weight; the quantize pass reads them.
        let folded = QuantizedFile.foldedAway(graph) { file.entry($0) != nil }
        try WeightCheck.check(graph, available: available, file: path, foldedAway: folded)
        var out: [String: Tensor] = [:]
        for name in needed where !folded.contains(name) || file.entry(name) != nil { out[name] = try file.tensor(name) }
        for name in needed { for c in QuantizedFile.companions(of: name) where file.entry(c) != nil { out[c] = try file.tensor(c) } }
        return out
    }

    /// The precision a weights file declares (`qemlc quantize` writes it), f32 for any other file.
    static func precision(ofWeights path: String?) throws -> Precision {
        guard let path else { return .f32 }
        let file = try SafetensorsFile(path: path)
        guard let p = file.metadata[QuantizedFile.precisionKey] else { return .f32 }
        guard let precision = Precision(rawValue: p) else {
            throw UserError("\(path): __metadata__ \(QuantizedFile.precisionKey) is '\(p)'; expected f32, bf16 or int8",
                            fix: "write the file again with `qemlc quantize`")
        }
        return precision
    }

    /// Splits `NAME=FILE` (or plain `FILE`) as `--input` and `--output` take it.
    static func binding(_ arg: String) -> (name: String?, path: String) {
        if let eq = arg.firstIndex(of: "="), !arg[..<eq].contains("/") {
            return (String(arg[..<eq]), String(arg[arg.index(after: eq)...]))
        }
        return (nil, arg)
    }

    /// Refuses to replace a file the user already has unless they said --force.
    /// `folderMayBeCreated`: the caller creates the folder (export -o), so it need not exist yet.
    static func checkWritable(_ path: String, force: Bool, folderMayBeCreated: Bool = false) throws {
        if !folderMayBeCreated { try requireOutputFolder(path) }
        if !force, FileManager.default.fileExists(atPath: path) {
            throw UserError("\(path) exists; qemlc does not overwrite files unless asked", fix: "pass --force, or choose another path")
        }
    }

    /// Writes text atomically (temporary file in the same folder, then rename).
    static func writeText(_ text: String, to path: String, force: Bool) throws {
        try checkWritable(path, force: force)
        try atomicWrite(Data(text.utf8), to: path)
    }
}

func atomicWrite(_ data: Data, to path: String) throws {
    try requireOutputFolder(path)
    let url = URL(fileURLWithPath: path)
    let tmp = url.deletingLastPathComponent().appendingPathComponent(".\(url.lastPathComponent).\(getpid()).tmp")
    do {
        try data.write(to: tmp)
        if rename(tmp.path, url.path) != 0 { throw UserError("cannot write \(path): \(String(cString: strerror(errno)))") }
    } catch let e as UserError {
        try? FileManager.default.removeItem(at: tmp)
        throw e
    } catch {
        try? FileManager.default.removeItem(at: tmp)
        throw UserError("cannot write \(path): \(error.localizedDescription)", fix: "check that the folder exists and is writable")
    }
}
