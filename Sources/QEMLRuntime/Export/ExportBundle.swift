import QEMLCodegen

/// One file of an export: its name in the output folder and its bytes.
public struct ExportFile: Sendable {
    public var name: String
    public var bytes: [UInt8]
}

/// Everything `qemlc export` writes, and the sizes it reports.
public struct ExportBundle: Sendable {
    public var files: [ExportFile]
    public var codeBytes: Int
    public var weightsBytes: Int
    public var arenaBytes: Int
    public var contextBytes: Int
    public var modelHash: String
}

extension ExportedModel {
    /// The file names, in the order they are written (for the overwrite check before any work).
    public func fileNames(embedWeights: Bool) -> [String] {
        ["\(stem).o", "\(stem).h", "\(stem)_runtime.c"] + (embedWeights ? [] : ["\(stem).weights"]) + CRuntimeFiles.names
            + ["model.h", "Makefile", "README.md"]
    }

    /// Generates every file; `progress` is called before each stage.
    public func bundle(qemlcVersion: String, embedWeights: Bool, cache: ObjectCache? = .standard,
                       progress: (String) -> Void = { _ in }) throws -> ExportBundle {
        progress("kernels")
        let weights = WeightsImage.file(blocks, modelHash: modelHash)
        let compiler = KernelCompiler(target: target, cache: cache)
        let (object, symbols) = try compiler.exportObject(kernelDefinitions, embedding: embedWeights ? weights : nil,
                                                          symbol: "\(prefix)_weights_image")
        progress("runtime")
        var files = [
            ExportFile(name: "\(stem).o", bytes: object),
            ExportFile(name: "\(stem).h", bytes: Array(header(qemlcVersion: qemlcVersion, embedded: embedWeights).utf8)),
            ExportFile(name: "\(stem)_runtime.c", bytes: Array(try runtimeSource(qemlcVersion: qemlcVersion, symbols: symbols).utf8)),
        ]
        if !embedWeights { files.append(ExportFile(name: "\(stem).weights", bytes: weights)) }
        files += CRuntimeFiles.files
        files.append(ExportFile(name: "model.h", bytes: Array(modelHeader.utf8)))
        files.append(ExportFile(name: "Makefile", bytes: Array(makefile().utf8)))
        let codeBytes = embedWeights ? object.count - weights.count : object.count
        files.append(ExportFile(name: "README.md", bytes: Array(readme(qemlcVersion: qemlcVersion, embedded: embedWeights, objectBytes: codeBytes).utf8)))
        return ExportBundle(files: files, codeBytes: codeBytes, weightsBytes: weights.count, arenaBytes: arenaBytes,
                            contextBytes: contextBytes, modelHash: modelHashHex)
    }
}
