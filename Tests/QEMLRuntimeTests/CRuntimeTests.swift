import Foundation
import QEMLCodegen
import QEMLIR
import QEMLTensor
import TestSupport
import XCTest
@testable import QEMLRuntime

/// The exported runtime's fixed C files (`Sources/QEMLRuntime/Export/C`): exported byte for byte,
/// quiet under `-Wall -Wextra -Werror` for every variant the tables select (front end or not,
/// circuit or not, weights embedded or not; gcc and the AArch64 cross compiler when present), and
/// the circuit evaluator running the planner's state-vector schedule against the reference
/// simulator and the JIT.
final class CRuntimeTests: XCTestCase {
    var work: URL!

    override func setUpWithError() throws {
        work = FileManager.default.temporaryDirectory.appendingPathComponent("qemlc-cruntime-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: work, withIntermediateDirectories: true)
    }

    override func tearDownWithError() throws {
        try? FileManager.default.removeItem(at: work)
    }

    static let folder = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()
        .appendingPathComponent("Sources/QEMLRuntime/Export/C")

    func run(_ tool: String, _ args: [String], in dir: URL) throws -> ProcessOutput {
        try ProcessRunner.run(tool: tool, args, in: dir, scratch: work)
    }

    func hasTool(_ name: String) -> Bool {
        (ProcessInfo.processInfo.environment["PATH"] ?? "/usr/bin").split(separator: ":")
            .contains { FileManager.default.isExecutableFile(atPath: "\($0)/\(name)") }
    }

    /// `examples/<model>.qir` with `WeightInit` weights, exported for `target` into `work/<folder>`.
    func export(_ model: String, target: TargetDescription = .host, folder: String, embed: Bool = false,
                seed: UInt64 = 1) throws -> (ExportedModel, [String: Tensor], URL) {
        let g = try QIR.load(path: examplePath("\(model).qir"))
        let w = WeightInit.initialize(g, seed: seed)
        let m = try ExportedModel(graph: g, weights: w, target: target, stem: model)
        let dir = work.appendingPathComponent(folder)
        try FileManager.default.createDirectory(at: dir, withIntermediateDirectories: true)
        let bundle = try m.bundle(qemlcVersion: "test", embedWeights: embed, cache: ObjectCache(directory: temporaryObjectCacheDirectory()))
        for f in bundle.files { try Data(f.bytes).write(to: dir.appendingPathComponent(f.name)) }
        return (m, w, dir)
    }

    func testExportedFixedFilesAreTheRepositorysBytes() throws {
        let names = try FileManager.default.contentsOfDirectory(atPath: Self.folder.path).filter { $0.hasSuffix(".c") || $0.hasSuffix(".h") }.sorted()
        XCTAssertEqual(CRuntimeFiles.names.sorted(), names, "qemlc embeds exactly the files of Export/C")
        let (_, _, dir) = try export("qemlnet-tiny", folder: "tiny")
        for name in names {
            let repository = try Data(contentsOf: Self.folder.appendingPathComponent(name))
            let exported = try Data(contentsOf: dir.appendingPathComponent(name))
            XCTAssertEqual(exported, repository, "\(name) in the bundle differs from Sources/QEMLRuntime/Export/C/\(name)")
        }
    }

    /// Every fixed file compiled as the bundles use it: `<model>_runtime.c` (which includes
    /// qeml_runtime.c, qeml_frontend.c and qeml_circuit.c) and main.c.
    func testFixedFilesCompileWithoutWarnings() throws {
        guard hasTool("cc") else { throw XCTSkip("cc is not installed") }
        let bundles = [
            try export("qemlnet-tiny", folder: "tiny"),                       // front end, folded circuit kernel
            try export("qemlnet-tiny", folder: "tiny-embedded", embed: true), // weights in the object
            try export("qemlnet-reupload", folder: "reupload"),               // no front end, state-vector circuit
        ]
        var compilers = ["cc"]
        if hasTool("aarch64-linux-gnu-gcc") { compilers.append("aarch64-linux-gnu-gcc") }
        for (model, _, dir) in bundles {
            for compiler in compilers {
                for file in ["\(model.stem)_runtime.c", "main.c"] {
                    let r = try run(compiler, ["-std=c11", "-O2", "-Wall", "-Wextra", "-Werror", "-c", "-o", "/dev/null", file], in: dir)
                    XCTAssertEqual(r.status, 0, "\(compiler) \(dir.lastPathComponent)/\(file):\n\(r.stderr)")
                }
            }
        }
    }

    /// Two exported models in one program (and one translation unit including both headers): every
    /// external name carries its model's prefix, and each runtime includes its own folder's fixed files.
    func testTwoModelsLinkIntoOneProgram() throws {
        guard hasTool("cc") else { throw XCTSkip("cc is not installed") }
        let (_, _, tiny) = try export("qemlnet-tiny", folder: "tiny")
        let (_, _, reupload) = try export("qemlnet-reupload", folder: "reupload")
        let source = """
            #include "qemlnet-tiny.h"
            #include "qemlnet-reupload.h"
            #include <stdio.h>
            int main(void) {
                qemlnet_tiny_context *a = qemlnet_tiny_create(NULL, 0);
                qemlnet_reupload_context *b = qemlnet_reupload_create(NULL, 0);
                if (!a || !b || qemlnet_tiny_load_weights_file(a, "tiny/qemlnet-tiny.weights")
                    || qemlnet_reupload_load_weights_file(b, "reupload/qemlnet-reupload.weights")) return 1;
                static float signal[QEMLNET_TINY_SIGNAL_LENGTH];
                const float angles[QEMLNET_REUPLOAD_INPUT_CHANNELS] = {0.5f};
                if (qemlnet_tiny_run_signal(a, signal, QEMLNET_TINY_SIGNAL_LENGTH) != QEMLNET_TINY_OK) return 2;
                if (qemlnet_reupload_run_spectrogram(b, angles) != QEMLNET_REUPLOAD_OK) return 3;
                printf("%d %s %d\\n", QEMLNET_TINY_CLASSES, qemlnet_tiny_label(0), qemlnet_reupload_top_class(b) >= 0);
                qemlnet_tiny_destroy(a);
                qemlnet_reupload_destroy(b);
                return 0;
            }
            """
        try Data(source.utf8).write(to: work.appendingPathComponent("both.c"))
        let build = try run("cc", ["-std=c11", "-Wall", "-Wextra", "-Werror", "-I", tiny.path, "-I", reupload.path, "-o", "both", "both.c",
                                   "tiny/qemlnet-tiny_runtime.c", "reupload/qemlnet-reupload_runtime.c", "tiny/qemlnet-tiny.o",
                                   "reupload/qemlnet-reupload.o", "-lm"], in: work)
        XCTAssertEqual(build.status, 0, build.stderr)
        let out = try run("./both", [], in: work)
        XCTAssertEqual(out.status, 0, out.stderr)
        XCTAssertTrue(out.stdout.hasPrefix("8 "), out.stdout)
        XCTAssertTrue(out.stdout.hasSuffix(" 1\n"), out.stdout)
    }

    /// The re-uploading circuit (it cannot fold) on the exported state-vector evaluator: the
    /// planner's schedule, here with a small L1 so that it has several cache-blocked stages whose
    /// buffers are gathered, against the reference simulator (the interpreter) and the JIT.
    func testStateVectorCircuitMatchesReferenceAndJIT() throws {
        guard hasTool("cc") else { throw XCTSkip("cc is not installed") }
        var small = TargetDescription.host
        small.l1Bytes = 4096
        for (target, folder) in [(TargetDescription.host, "reupload"), (small, "reupload-staged")] {
            let (model, w, dir) = try export("qemlnet-reupload", target: target, folder: folder, seed: 3)
            guard case .circuit(let tables)? = model.steps.first?.action else { return XCTFail("the circuit is a state-vector step") }
            if folder == "reupload-staged" {
                XCTAssertGreaterThan(tables.schedule.stages.count, 1, "a small L1 splits the schedule into stages")
                XCTAssertTrue(tables.schedule.stages.contains { !$0.isContiguous }, "and some stage gathers its amplitudes")
            }
            XCTAssertEqual(try run("make", [], in: dir).status, 0)
            let g = model.graph
            let jit = try CompiledModel.compile(g, weights: w, options: CompileOptions(target: .host, threads: 1,
                                                                                      cache: ObjectCache(directory: temporaryObjectCacheDirectory())))
            let interpreter = try Interpreter(graph: g, weights: w)
            for sample in 0..<3 {
                let angles = (0..<10).map { Float(sin(Double(7 * sample + $0) * 1.3)) * 2.5 }
                let file = dir.appendingPathComponent("angles\(sample).f32")
                try angles.withUnsafeBufferPointer { Data(buffer: $0) }.write(to: file)
                let out = try run("./classify", [file.lastPathComponent], in: dir)
                XCTAssertEqual(out.status, 0, out.stderr)
                var got = [Float](repeating: .nan, count: 10)
                for line in out.stdout.split(separator: "\n") {
                    let parts = line.split(separator: " ")
                    if parts.count == 3, let i = Int(parts[1]), i < 10, let v = Float(parts[2]) { got[i] = v }
                }
                let input = Tensor(shape: [1, 10], data: angles)
                let reference = try XCTUnwrap(try interpreter.evaluate(["expvals"], inputs: ["angles": input])["expvals"]).data
                let compiled = try XCTUnwrap(try jit.run(inputs: ["angles": input])["expvals"]).data
                XCTAssertLessThanOrEqual(Agreement.absolute(got, reference), 1e-6, "\(folder) sample \(sample): C \(got) vs reference \(reference)")
                XCTAssertLessThanOrEqual(Agreement.absolute(got, compiled), 1e-6, "\(folder) sample \(sample): C \(got) vs JIT \(compiled)")
            }
        }
    }

    /// The circuit's numbers are weights, its structure the tables: other weights for the same
    /// circuit load into the same runtime and give the reference simulator's values.
    func testRetrainedCircuitWeightsNeedNoNewRuntime() throws {
        guard hasTool("cc") else { throw XCTSkip("cc is not installed") }
        let (model, _, dir) = try export("qemlnet-reupload", folder: "first", seed: 3)
        let g = model.graph
        let retrained = WeightInit.initialize(g, seed: 8)
        let other = try ExportedModel(graph: g, weights: retrained, target: .host, stem: "qemlnet-reupload")
        XCTAssertEqual(other.modelHash, model.modelHash, "the same structure, the same model")
        try Data(WeightsImage.file(other.blocks, modelHash: other.modelHash)).write(to: dir.appendingPathComponent("retrained.weights"))
        XCTAssertEqual(try run("make", [], in: dir).status, 0)
        let angles: [Float] = (0..<10).map { Float($0) * 0.3 - 1.1 }
        try angles.withUnsafeBufferPointer { Data(buffer: $0) }.write(to: dir.appendingPathComponent("a.f32"))
        let out = try run("./classify", ["--weights", "retrained.weights", "a.f32"], in: dir)
        XCTAssertEqual(out.status, 0, out.stderr)
        var got = [Float](repeating: .nan, count: 10)
        for line in out.stdout.split(separator: "\n") {
            let parts = line.split(separator: " ")
            if parts.count == 3, let i = Int(parts[1]), i < 10, let v = Float(parts[2]) { got[i] = v }
        }
        let want = try XCTUnwrap(try Interpreter(graph: g, weights: retrained).evaluate(["expvals"], inputs: ["angles": Tensor(shape: [1, 10], data: angles)])["expvals"]).data
        XCTAssertLessThanOrEqual(Agreement.absolute(got, want), 1e-6, "C \(got) vs reference \(want)")
    }
}
