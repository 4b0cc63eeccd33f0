import ArgumentParser
import Foundation
import QEMLCodegen
import QEMLIR
import QEMLRuntime

struct Export: ParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Write a standalone C runtime for a model and target: kernels object, header, weights, example, Makefile.",
        discussion: """
            DIR receives <model>.o (the generated kernels for the target), <model>_runtime.c (the model's tables: steps, arena offsets, front end constants, circuit schedule), <model>.h (the model's constants and C prefix), <model>.weights (pre-packed, with header and checksum; inside the object with --embed-weights), the fixed runtime (qeml.h, the C API; qeml_tables.h, qeml_runtime.c, qeml_frontend.c, qeml_circuit.c: the same bytes in every export, included by <model>_runtime.c), main.c and model.h (the classify example), a Makefile and a README. `make` in DIR builds ./classify with cc; for a board, `make CC=aarch64-linux-gnu-gcc` after exporting with --target aarch64-neon.
            """)

    @Argument(help: "The model (.qir).") var model: String
    @Option(help: "Trained weights (.safetensors, PyTorch state_dict names).") var weights: String?
    @Option(help: "Target: host, x86-64-v2, x86-64-avx2, x86-64-avx512, aarch64-neon, or a .target file.") var target = "host"
    @Option(name: .shortAndLong, help: "Output folder (created if missing).") var output: String
    @Flag(help: "Put the weights inside the object instead of a .weights file.") var embedWeights = false
    @Option(help: "Samples between two classified windows of the streaming API (default: a quarter of the frontend's length, in whole STFT hops, so frames are reused).") var streamHop: Int?
    @Flag(help: "Overwrite existing files in the output folder.") var force = false

    func validate() throws {
        try Validate.atLeast(streamHop, 1, "--stream-hop", maximum: 100_000_000, unit: " samples")
    }

    func run() throws {
        let graph = try ModelFiles.graph(model)
        let targetDescription: TargetDescription
        do { targetDescription = try TargetDescription.named(target) } catch let e as CodegenError {
            throw UserError(e.message)
        }
        let weightTensors = try ModelFiles.weights(weights, for: graph)
        let stem = URL(fileURLWithPath: model).deletingPathExtension().lastPathComponent
        let progress = Progress("exporting", total: 3)
        var exported: ExportedModel
        do {
            progress.step("planning")
            exported = try ExportedModel(graph: graph, weights: weightTensors, target: targetDescription, stem: stem)
            if let streamHop { exported.streamHop = streamHop }
        } catch let e as ExportError {
            progress.finish()
            throw UserError("cannot export \(model): \(e.message)", fix: e.fix)
        } catch let e as PlanError {
            progress.finish()
            throw UserError("cannot export \(model): \(e.description)")
        }
        let folder = URL(fileURLWithPath: output)
        // `-o edge-arm/` and `-o edge-arm` print alike.
        var shown = output
        while shown.count > 1, shown.hasSuffix("/") { shown.removeLast() }
        for name in exported.fileNames(embedWeights: embedWeights) {
            try ModelFiles.checkWritable(folder.appendingPathComponent(name).path, force: force, folderMayBeCreated: true)
        }
        let bundle: ExportBundle
        do {
            bundle = try exported.bundle(qemlcVersion: qemlcVersion, embedWeights: embedWeights) { progress.step($0) }
        } catch let e as CodegenError {
            progress.finish()
            throw UserError("cannot export \(model): \(e.description)")
        }
        progress.finish()
        do {
            try FileManager.default.createDirectory(at: folder, withIntermediateDirectories: true)
        } catch {
            throw UserError("cannot create \(output): \(error.localizedDescription)", fix: "check the path and permissions")
        }
        for f in bundle.files { try atomicWrite(Data(f.bytes), to: folder.appendingPathComponent(f.name).path) }
        print("exported \(graph.name) for \(targetDescription.name) (\(targetDescription.triple)) to \(shown)/")
        print("precision: \(exported.precision)")
        var t = TextTable(["", "bytes"], rightAligned: [1])
        t.add(["code", String(bundle.codeBytes)])
        t.add([embedWeights ? "weights (in the object)" : "weights", String(bundle.weightsBytes)])
        t.add(["arena", String(bundle.arenaBytes)])
        t.add(["context (arena + front end)", String(bundle.contextBytes)])
        print(t.render())
        print("model hash \(bundle.modelHash); files: " + bundle.files.map(\.name).joined(separator: ", "))
        print("build: cd \(shown) && make" + (targetDescription.architecture == "aarch64" ? " CC=aarch64-linux-gnu-gcc" : ""))
    }
}
