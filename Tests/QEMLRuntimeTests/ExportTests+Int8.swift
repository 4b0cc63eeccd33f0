import Foundation
import QEMLCodegen
import QEMLIR
import QEMLTensor
import TestSupport
import XCTest
@testable import QEMLRuntime

/// int8 bundles: the same plan (u8 slots, quantize steps, int8 kernels with packed s8 weights)
/// exported and run as C, on the host and on AArch64 with `sdot` under qemu.
extension ExportTests {
    /// The tiny model with int8 weights (one activation scale, requantized outputs), exported
    /// for `target`; its classify output on every example signal against the JIT's int8 run
    /// on the C front end's own spectrogram, within `tolerance` (absolute, on probabilities).
    func checkInt8Export(target: TargetDescription, folder: String, make: [String], runner: [String], tolerance: Float) throws {
        let g = try QIR.load(path: examplePath("qemlnet-tiny.qir"))
        let weights = try Int8ExecutorTests.quantized(g, WeightInit.initialize(g, seed: 1), scale: 4.0 / 127, requantize: true)
        let model = try ExportedModel(graph: g, weights: weights, target: target, stem: "qemlnet-tiny")
        XCTAssertTrue(model.plan.stepInfo.contains { $0.kind == "conv2d int8 (\(DotProduct.choose(for: target).rawValue))" })
        let dir = work.appendingPathComponent(folder)
        try write(try model.bundle(qemlcVersion: "test", embedWeights: false, cache: ObjectCache(directory: temporaryObjectCacheDirectory())), to: dir)
        let built = try run("make", make, in: dir)
        XCTAssertEqual(built.status, 0, "make failed:\n\(built.stdout)\n\(built.stderr)")
        guard built.status == 0 else { return }
        let jit = try CompiledModel.compile(g, weights: weights, options: CompileOptions(threads: 1, cache: nil))
        for (path, _, _) in try exampleSignals().prefix(2) {
            let specFile = work.appendingPathComponent("spec.f32")
            let out = try run(runner[0], Array(runner.dropFirst()) + ["--spectrogram-out", specFile.path, path], in: dir)
            XCTAssertEqual(out.status, 0, "\(path): \(out.stderr)")
            let got = parseClassify(out.stdout)
            let spectrogram = Tensor(shape: [1, 2, 32, 32], data: try readFloats(specFile))
            let probs = try XCTUnwrap(try jit.run(inputs: ["spectrogram": spectrogram])["probs"])
            let cProbs = g.labels.map { got[$0] ?? -1 }
            XCTAssertLessThanOrEqual(Agreement.absolute(cProbs, probs.data), tolerance, "\(path) on \(target.name): C \(cProbs)\nJIT \(probs.data)")
        }
    }

    /// The host bundle runs the JIT's kernels on the same packed weights: the same numbers.
    func testInt8HostExportMatchesJIT() throws {
        _ = try requireTool("cc")
        try checkInt8Export(target: .host, folder: "int8-host", make: [], runner: ["./classify"], tolerance: 1e-6)
    }

    /// `sdot` kernels (bit-exact per kernel: Int8AArch64Tests). The f32 steps between them (stem,
    /// CBAM, head) round differently at 4 lanes and could move a code by one step; on the
    /// example signals none does and the printed probabilities are the JIT's.
    func testInt8AArch64ExportUnderQEMU() throws {
        _ = try requireTool("aarch64-linux-gnu-gcc")
        _ = try requireTool("qemu-aarch64")
        let target = try TargetDescription.named("aarch64-neon-dotprod")
        try checkInt8Export(target: target, folder: "int8-arm", make: ["CC=aarch64-linux-gnu-gcc"],
                            runner: ["qemu-aarch64", "-cpu", "max", "-L", "/usr/aarch64-linux-gnu", "./classify"], tolerance: 1e-6)
    }
}
