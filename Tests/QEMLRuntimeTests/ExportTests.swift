import Foundation
import QEMLCodegen
import QEMLIR
import QEMLSignal
import QEMLTensor
import TestSupport
import XCTest
@testable import QEMLRuntime

/// The exported C runtime, built with real C compilers and run as a user would: its
/// probabilities against the JIT (same plan, same packed weights), its front end against
/// QEMLSignal, on the host and on AArch64 under qemu; weights files that must be refused;
/// the example under AddressSanitizer + UndefinedBehaviorSanitizer.
final class ExportTests: XCTestCase {
    var work: URL!

    override func setUpWithError() throws {
        work = FileManager.default.temporaryDirectory.appendingPathComponent("qemlc-export-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: work, withIntermediateDirectories: true)
    }

    override func tearDownWithError() throws {
        try? FileManager.default.removeItem(at: work)
    }

    // MARK: helpers

    typealias Output = ProcessOutput

    @discardableResult
    func run(_ tool: String, _ args: [String], in dir: URL? = nil, env: [String: String] = [:]) throws -> Output {
        try ProcessRunner.run(tool: tool, args, in: dir ?? work, environment: env, scratch: work)
    }

    func requireTool(_ name: String) throws -> String {
        for dir in (ProcessInfo.processInfo.environment["PATH"] ?? "/usr/bin").split(separator: ":") {
            let path = "\(dir)/\(name)"
            if FileManager.default.isExecutableFile(atPath: path) { return path }
        }
        throw XCTSkip("\(name) is not installed (scripts/setup.sh installs it)")
    }

    func write(_ bundle: ExportBundle, to dir: URL) throws {
        try FileManager.default.createDirectory(at: dir, withIntermediateDirectories: true)
        for f in bundle.files { try Data(f.bytes).write(to: dir.appendingPathComponent(f.name)) }
    }

    /// The tiny model with `WeightInit` weights, exported for `target` into `work/<folder>`.
    func exportTiny(target: TargetDescription, folder: String, seed: UInt64 = 1, embed: Bool = false) throws -> (ExportedModel, URL) {
        let g = try QIR.load(path: examplePath("qemlnet-tiny.qir"))
        let model = try ExportedModel(graph: g, weights: WeightInit.initialize(g, seed: seed), target: target, stem: "qemlnet-tiny")
        let dir = work.appendingPathComponent(folder)
        try write(try model.bundle(qemlcVersion: "test", embedWeights: embed, cache: ObjectCache(directory: temporaryObjectCacheDirectory())), to: dir)
        return (model, dir)
    }

    /// `label probability` lines → probabilities by label.
    func parseClassify(_ text: String) -> [String: Float] {
        var out: [String: Float] = [:]
        for line in text.split(separator: "\n") {
            // The label may contain spaces (`class 3`): the probability follows the last one.
            if let space = line.lastIndex(of: " "), let p = Float(line[line.index(after: space)...]) { out[String(line[..<space])] = p }
        }
        return out
    }

    func readFloats(_ url: URL) throws -> [Float] {
        let d = try Data(contentsOf: url)
        return d.withUnsafeBytes { raw in (0..<(d.count / 4)).map { Float(bitPattern: raw.loadUnaligned(fromByteOffset: 4 * $0, as: UInt32.self)) } }
    }

    /// The signals of examples/signals (first channel), with their paths.
    func exampleSignals() throws -> [(path: String, signal: [Float], rate: Int)] {
        let dir = URL(fileURLWithPath: examplePath("signals"))
        let names = try FileManager.default.contentsOfDirectory(atPath: dir.path).filter { $0.hasSuffix(".wav") }.sorted()
        return try names.map { n in
            let path = dir.appendingPathComponent(n).path
            let r = try WAVReader.read(path)
            return (path, r.channels[0], r.sampleRate ?? 0)
        }
    }

    /// The front end's map is standardized (unit RMS): its values near zero are differences of
    /// larger ones and carry their absolute rounding, so the floor of the relative error is the
    /// map's RMS. (FFTW's float FFT here, a double FFT in the C: a few ulps apart.)
    func rms(_ v: [Float]) -> Float {
        let s = v.reduce(0.0) { $0 + Double($1) * Double($1) }
        return Float((s / Double(max(1, v.count))).squareRoot())
    }

    /// Worst |a − b| / max(|b|, floor).
    func worstRelative(_ a: [Float], _ b: [Float], floor: Float) -> Float {
        Agreement.relative(a, b, floor: floor)
    }

    /// Builds ./classify in `dir` with `cc` (make), runs it on every example signal through
    /// `runner`, compares the front end with QEMLSignal and the probabilities with the JIT.
    func checkAgainstJIT(_ model: ExportedModel, dir: URL, make: [String], runner: [String], signals: Int = .max) throws {
        let built = try run("make", make, in: dir)
        XCTAssertEqual(built.status, 0, "make failed:\n\(built.stdout)\n\(built.stderr)")
        guard built.status == 0 else { return }
        XCTAssertFalse(built.stderr.contains("warning"), "the generated C compiles without warnings:\n\(built.stderr)")
        let g = model.graph
        // The JIT for the same target when it runs here (the same plan), else for the host.
        let jitTarget = model.target.runsOnHost ? model.target : .host
        let jit = try CompiledModel.compile(g, weights: WeightInit.initialize(g, seed: 1),
                                            options: CompileOptions(target: jitTarget, threads: 1, cache: ObjectCache(directory: temporaryObjectCacheDirectory())))
        let frontEnd = try XCTUnwrap(model.frontEnd)
        for (path, signal, rate) in try exampleSignals().prefix(signals) {
            let specFile = work.appendingPathComponent("spec.f32")
            let out = try run(runner[0], Array(runner.dropFirst()) + ["--spectrogram-out", specFile.path, path], in: dir)
            XCTAssertEqual(out.status, 0, "\(path): \(out.stderr)")
            let got = parseClassify(out.stdout)
            XCTAssertEqual(got.count, g.labels.count, "\(path): one line per class:\n\(out.stdout)")

            let spectrogram = try frontEnd.run(signal, sampleRate: rate)
            let cSpectrogram = try readFloats(specFile)
            XCTAssertEqual(cSpectrogram.count, spectrogram.count)
            let feError = worstRelative(cSpectrogram, spectrogram.data, floor: rms(spectrogram.data))
            let worst = zip(cSpectrogram, spectrogram.data).max { abs($0.0 - $0.1) < abs($1.0 - $1.1) }
            XCTAssertLessThanOrEqual(feError, 1e-5, "\(path): the C front end against QEMLSignal; worst abs \(worst.map { "\($0.0) vs \($0.1)" } ?? "")")

            let probs = try XCTUnwrap(try jit.run(inputs: ["spectrogram": spectrogram])["probs"])
            let cProbs = g.labels.map { got[$0] ?? -1 }
            let netError = worstRelative(cProbs, probs.data, floor: 1e-3)
            XCTAssertLessThanOrEqual(netError, 1e-5, "\(path): probabilities against the JIT\nC: \(cProbs)\nJIT: \(probs.data)")
            // Highest first.
            let printed = out.stdout.split(separator: "\n").compactMap { Float($0.split(separator: " ").last ?? "") }
            XCTAssertEqual(printed, printed.sorted(by: >), "\(path): lines are sorted by probability")
        }
    }

    // MARK: tests

    func testHostExportMatchesJIT() throws {
        _ = try requireTool("cc")
        let (model, dir) = try exportTiny(target: .host, folder: "host")
        try checkAgainstJIT(model, dir: dir, make: [], runner: ["./classify"])
        // A WAV without its data or fmt chunk is named as such, not as an unsupported format.
        let wav = try Data(contentsOf: URL(fileURLWithPath: examplePath("signals/ball.wav")))
        let header = wav.prefix(36)  // RIFF/WAVE and the 16-byte fmt chunk, no data chunk
        var noFmt = Data(wav.prefix(12)); noFmt.append(wav.suffix(from: 36))
        for (name, bytes, chunk) in [("nodata.wav", header, "data"), ("nofmt.wav", noFmt, "fmt")] {
            try bytes.write(to: dir.appendingPathComponent(name))
            let r = try run("./classify", [name], in: dir)
            XCTAssertNotEqual(r.status, 0)
            XCTAssertTrue(r.stderr.contains("\(name): the WAV file has no \(chunk) chunk"), r.stderr)
        }
    }

    /// `classify` as a new user meets it (issue #14): weights found beside the program from any
    /// working directory, `--weights`, the places searched named; qemlc's reader checks and words
    /// for a WAV cut inside its data; raw floats only from .f32/.raw or stdin; NaN refused by the
    /// C API (ERROR_NONFINITE); exit 0 / 1 / 64.
    func testClassifyFindsItsWeightsAndRefusesBadInput() throws {
        _ = try requireTool("cc")
        let (_, dir) = try exportTiny(target: .host, folder: "classify")
        XCTAssertEqual(try run("make", [], in: dir).status, 0)
        let classify = dir.appendingPathComponent("classify").path
        let ball = examplePath("signals/ball.wav")
        // From another folder: the weights beside the program are found.
        let elsewhere = work.appendingPathComponent("elsewhere")
        try FileManager.default.createDirectory(at: elsewhere, withIntermediateDirectories: true)
        let found = try run(classify, [ball], in: elsewhere)
        XCTAssertEqual(found.status, 0, found.stderr)
        XCTAssertEqual(found.stdout.split(separator: "\n").count, 8)
        // Moved away: the places searched are named; --weights finds them.
        let moved = elsewhere.appendingPathComponent("w.weights").path
        try FileManager.default.moveItem(atPath: dir.appendingPathComponent("qemlnet-tiny.weights").path, toPath: moved)
        let missing = try run(classify, [ball], in: elsewhere)
        XCTAssertEqual(missing.status, 1)
        XCTAssertEqual(missing.stderr, "error: qemlnet-tiny.weights not found; looked beside the program (\(dir.resolvingSymlinksInPath().path)/qemlnet-tiny.weights) and in the working directory\n  fix: pass --weights FILE\n")
        XCTAssertEqual(try run(classify, ["--weights", moved, ball], in: elsewhere).status, 0)
        try FileManager.default.moveItem(atPath: moved, toPath: dir.appendingPathComponent("qemlnet-tiny.weights").path)

        // A WAV cut inside its data: qemlc's reader words it the same way.
        let wav = try Data(contentsOf: URL(fileURLWithPath: ball))
        let cut = work.appendingPathComponent("cut.wav")
        try wav.dropLast(1000).write(to: cut)
        let truncated = try run(classify, [cut.path], in: dir)
        XCTAssertEqual(truncated.status, 1)
        XCTAssertThrowsError(try WAVReader.read(cut.path)) { e in
            XCTAssertEqual(truncated.stderr, "error: \(e)\n", "classify and qemlc agree")
        }
        XCTAssertTrue(truncated.stderr.hasPrefix("error: \(cut.path): byte 36: the data chunk says 24000 bytes but only 23000 follow\n"), truncated.stderr)
        // CSV is not raw floats.
        let csv = work.appendingPathComponent("x.csv")
        try "0.1\n0.2\n0.3\n".write(to: csv, atomically: true, encoding: .utf8)
        let text = try run(classify, [csv.path], in: dir)
        XCTAssertEqual(text.status, 1)
        XCTAssertEqual(text.stderr, "error: \(csv.path): file name: unknown signal format '.csv'\n  fix: give a .wav file, or raw little-endian float32 samples as a .f32/.raw file or on stdin (-)\n")
        // Raw floats from a .f32 file and from stdin agree.
        let samples = try WAVReader.read(ball).channels[0]
        let raw = work.appendingPathComponent("ball.f32")
        try samples.withUnsafeBufferPointer { Data(buffer: $0) }.write(to: raw)
        let fromFile = try run(classify, [raw.path], in: dir)
        let fromStdin = try run("sh", ["-c", "\(classify) - < \(raw.path)"], in: dir)
        XCTAssertEqual(fromFile.status, 0, fromFile.stderr)
        XCTAssertEqual(fromStdin.status, 0, fromStdin.stderr)
        XCTAssertEqual(fromFile.stdout, fromStdin.stdout)
        // NaN: refused by the C API with its own status.
        var bad = samples
        bad[5] = .nan
        let nan = work.appendingPathComponent("nan.wav").path
        try WAVWriter.write([bad], sampleRate: 12000, to: nan, encoding: .float32)
        let refused = try run(classify, [nan], in: dir)
        XCTAssertEqual(refused.status, 1)
        XCTAssertEqual(refused.stdout, "")
        XCTAssertEqual(refused.stderr, "error: \(nan): sample 5: NaN is not a finite number (non-finite input (NaN or Inf))\n  fix: qemlc refuses non-finite input; clean the data first (numpy: np.isfinite(x).all())\n")
        let header = try run("cc", ["-E", "-P", "qemlnet-tiny.h"], in: dir).stdout  // qeml.h under the model's prefix
        XCTAssertTrue(header.contains("QEMLNET_TINY_ERROR_NONFINITE = 11"), "the status is part of the C API")
        // Usage errors exit 64.
        XCTAssertEqual(try run(classify, [], in: dir).status, 64)
        let unknown = try run(classify, ["--bogus", ball], in: dir)
        XCTAssertEqual(unknown.status, 64)
        XCTAssertTrue(unknown.stderr.hasPrefix("error: unknown option --bogus\nusage: "), unknown.stderr)
        XCTAssertEqual(try run(classify, ["--help"], in: dir).status, 0)
        let readme = try String(contentsOf: dir.appendingPathComponent("README.md"), encoding: .utf8)
        XCTAssertTrue(readme.contains("Exit status (the same scheme as qemlc): **0** every signal classified, **1** a bad signal or"), readme)
    }

    func testAArch64ExportUnderQEMUMatchesJIT() throws {
        _ = try requireTool("aarch64-linux-gnu-gcc")
        _ = try requireTool("qemu-aarch64")
        guard let neon = TargetDescription.builtIn.first(where: { $0.name == "aarch64-neon" }) else { return XCTFail("no aarch64-neon target") }
        let (model, dir) = try exportTiny(target: neon, folder: "arm")
        try checkAgainstJIT(model, dir: dir, make: ["CC=aarch64-linux-gnu-gcc"],
                            runner: ["qemu-aarch64", "-L", "/usr/aarch64-linux-gnu", "./classify"])
    }

    /// The x86-64 targets narrower than the host (4-lane SSE4.2, 8-lane AVX2) run here too.
    func testX86TargetsMatchJIT() throws {
        _ = try requireTool("cc")
        guard TargetDescription.host.architecture == "x86_64" else { throw XCTSkip("not an x86-64 host") }
        for name in ["x86-64-v2", "x86-64-avx2"] {
            let target = try TargetDescription.named(name)
            let (model, dir) = try exportTiny(target: target, folder: name)
            XCTAssertEqual(model.plan.definitions.first?.lanes, target.vectorWidth, "kernels specialised for \(name)")
            try checkAgainstJIT(model, dir: dir, make: [], runner: ["./classify"], signals: 2)
        }
    }

    /// Weights compiled into the object (`--embed-weights`): no .weights file, same results.
    func testEmbeddedWeights() throws {
        _ = try requireTool("cc")
        let (model, dir) = try exportTiny(target: .host, folder: "embedded", embed: true)
        XCTAssertFalse(FileManager.default.fileExists(atPath: dir.appendingPathComponent("qemlnet-tiny.weights").path))
        try checkAgainstJIT(model, dir: dir, make: [], runner: ["./classify"], signals: 2)
    }

    /// A C program that loads a weights file through the API and prints the status and message.
    func buildWeightsChecker(in dir: URL) throws -> URL {
        let source = """
            #include "qemlnet-tiny.h"
            #include <stdio.h>
            int main(int argc, char **argv) {
                qemlnet_tiny_context *ctx = qemlnet_tiny_create(NULL, 0);
                if (!ctx) return 99;
                int s = qemlnet_tiny_load_weights_file(ctx, argv[1]);
                printf("%d %s\\n", s, qemlnet_tiny_error(ctx));
                float input[QEMLNET_TINY_INPUT_HEIGHT * QEMLNET_TINY_INPUT_WIDTH] = {0};
                if (s != QEMLNET_TINY_OK) printf("run %d\\n", qemlnet_tiny_run_spectrogram(ctx, input));
                qemlnet_tiny_destroy(ctx);
                return 0;
            }
            """
        try Data(source.utf8).write(to: dir.appendingPathComponent("check.c"))
        let r = try run("cc", ["-O1", "-std=c11", "-Wall", "-o", "check", "check.c", "qemlnet-tiny_runtime.c", "qemlnet-tiny.o", "-lm"], in: dir)
        XCTAssertEqual(r.status, 0, r.stderr)
        return dir.appendingPathComponent("check")
    }

    func testWeightsFilesThatMustBeRefused() throws {
        _ = try requireTool("cc")
        let (_, dir) = try exportTiny(target: .host, folder: "host")
        let checker = try buildWeightsChecker(in: dir)
        let good = try Data(contentsOf: dir.appendingPathComponent("qemlnet-tiny.weights"))

        func check(_ data: Data?, _ name: String) throws -> (Int, String) {
            let url = work.appendingPathComponent(name)
            if let data { try data.write(to: url) }
            let out = try run(checker.path, [url.path])
            XCTAssertEqual(out.status, 0, "\(name): the checker crashed: \(out.stderr)")
            let first = out.stdout.split(separator: "\n").first.map(String.init) ?? ""
            let status = Int(first.split(separator: " ").first ?? "") ?? -1
            if status != 0 { XCTAssertTrue(out.stdout.contains("run 8"), "\(name): running without weights is refused: \(out.stdout)") }
            return (status, first)
        }

        XCTAssertEqual(try check(good, "good.weights").0, 0)
        let (truncated, truncatedText) = try check(good.prefix(good.count - 64), "truncated.weights")
        XCTAssertEqual(truncated, 5, truncatedText)
        XCTAssertTrue(truncatedText.contains("truncated"), truncatedText)
        XCTAssertEqual(try check(good.prefix(10), "tiny.weights").0, 5)
        XCTAssertEqual(try check(good + Data(count: 64), "padded.weights").0, 5)

        var corrupt = good
        corrupt[good.count / 2] ^= 0x40
        let (bad, badText) = try check(corrupt, "corrupt.weights")
        XCTAssertEqual(bad, 6, badText)
        XCTAssertTrue(badText.contains("corrupt"), badText)

        var magic = good
        magic[0] = UInt8(ascii: "X")
        XCTAssertEqual(try check(magic, "magic.weights").0, 3)

        // Weights packed for another target (another blocking) and for another model.
        let (_, other) = try exportTiny(target: TargetDescription.builtIn.first { $0.name == "x86-64-v2" } ?? .host, folder: "v2")
        let (otherTarget, otherText) = try check(try Data(contentsOf: other.appendingPathComponent("qemlnet-tiny.weights")), "v2.weights")
        XCTAssertEqual(otherTarget, 4, otherText)
        let circuit = try QIR.load(path: examplePath("qemlnet-circuit.qir"))
        let circuitModel = try ExportedModel(graph: circuit, weights: WeightInit.initialize(circuit, seed: 2), target: .host, stem: "qemlnet-circuit")
        let circuitWeights = Data(WeightsImage.file(circuitModel.blocks, modelHash: circuitModel.modelHash))
        let (otherModel, otherModelText) = try check(circuitWeights, "circuit.weights")
        XCTAssertEqual(otherModel, 4, otherModelText)
        XCTAssertTrue(otherModelText.contains("was packed for model"), otherModelText)

        let (missing, missingText) = try check(nil, "does-not-exist.weights")
        XCTAssertEqual(missing, 2, missingText)
    }

    /// The example built with clang's AddressSanitizer + UndefinedBehaviorSanitizer runs clean
    /// (valgrind when clang is missing).
    func testExampleRunsCleanUnderSanitizers() throws {
        let (_, dir) = try exportTiny(target: .host, folder: "asan")
        let signal = try XCTUnwrap(exampleSignals().first).path
        if let clang = try? requireTool("clang") {
            let build = try run(clang, ["-O1", "-g", "-std=c11", "-Wall", "-Wextra", "-fsanitize=address,undefined", "-fno-sanitize-recover=all",
                                        "-o", "classify-asan", "main.c", "qemlnet-tiny_runtime.c", "qemlnet-tiny.o", "-lm"], in: dir)
            XCTAssertEqual(build.status, 0, build.stderr)
            // (ld.gold's notes about the sanitizer runtime's own symbols are not ours.)
            XCTAssertNil(build.stderr.range(of: #"\.[ch]:[0-9]+:[0-9]+: warning"#, options: .regularExpression),
                         "clang -Wall -Wextra is quiet on the generated C:\n\(build.stderr)")
            let out = try run("./classify-asan", [signal, examplePath("signals/stereo_float32.wav")], in: dir,
                              env: ["ASAN_OPTIONS": "detect_leaks=1", "UBSAN_OPTIONS": "print_stacktrace=1"])
            XCTAssertEqual(out.status, 0, out.stderr)
            XCTAssertFalse(out.stderr.contains("runtime error") || out.stderr.contains("Sanitizer"), out.stderr)
            XCTAssertTrue(out.stdout.contains("stereo_float32.wav:"), out.stdout)
        } else {
            _ = try requireTool("valgrind")
            // valgrind decodes no AVX-512, which the host export may use: x86-64-v2 code instead.
            let x86 = TargetDescription.host.architecture == "x86_64"
            let plainTarget = x86 ? TargetDescription.builtIn.first { $0.name == "x86-64-v2" } ?? .host : .host
            let (_, plain) = try exportTiny(target: plainTarget, folder: "valgrind")
            XCTAssertEqual(try run("make", [], in: plain).status, 0)
            let out = try run("valgrind", ["--error-exitcode=3", "--leak-check=full", "./classify", signal], in: plain)
            XCTAssertEqual(out.status, 0, out.stderr)
        }
    }

    /// The tiny model's circuit alone (folded into observables: a kernel in the object) through
    /// `run_spectrogram` — its input is the angles — against the interpreter's state-vector kernel.
    func testCircuitModelMatchesInterpreter() throws {
        _ = try requireTool("cc")
        let g = try QIR.load(path: examplePath("qemlnet-circuit.qir"))
        let w = WeightInit.initialize(g, seed: 4)
        let model = try ExportedModel(graph: g, weights: w, target: .host, stem: "qemlnet-circuit")
        let dir = work.appendingPathComponent("circuit")
        try write(try model.bundle(qemlcVersion: "test", embedWeights: false, cache: nil), to: dir)
        let angles: [Float] = [0.3, -1.2, 2.5, 0.05]
        let source = """
            #include "qemlnet-circuit.h"
            #include <stdio.h>
            int main(void) {
                qemlnet_circuit_context *ctx = qemlnet_circuit_create(NULL, 0);
                if (!ctx || qemlnet_circuit_load_weights_file(ctx, "qemlnet-circuit.weights")) return 1;
                const float angles[4] = {\(angles.map(cFloat).joined(separator: ", "))};
                if (qemlnet_circuit_run_spectrogram(ctx, angles)) return 2;
                size_t n = 0;
                const float *e = qemlnet_circuit_output(ctx, 0, &n);
                for (size_t i = 0; i < n; i++) printf("%.9g\\n", e[i]);
                qemlnet_circuit_destroy(ctx);
                return 0;
            }
            """
        try Data(source.utf8).write(to: dir.appendingPathComponent("circuit.c"))
        let build = try run("cc", ["-std=c11", "-Wall", "-o", "circuit", "circuit.c", "qemlnet-circuit_runtime.c", "qemlnet-circuit.o", "-lm"], in: dir)
        XCTAssertEqual(build.status, 0, build.stderr)
        let out = try run("./circuit", [], in: dir)
        XCTAssertEqual(out.status, 0, out.stderr)
        let got = out.stdout.split(separator: "\n").compactMap { Float($0) }
        let want = try Interpreter(graph: g, weights: w).evaluate(["expvals"], inputs: ["angles": Tensor(shape: [1, 4], data: angles)])["expvals"]
        XCTAssertEqual(got.count, 4)
        XCTAssertLessThanOrEqual(worstRelative(got, try XCTUnwrap(want).data, floor: 1e-3), 1e-5, "C: \(got) interpreter: \(want?.data ?? [])")

        // The example program takes the network input as raw float32 when there is no front end.
        XCTAssertEqual(try run("make", [], in: dir).status, 0)
        try Data(angles.withUnsafeBufferPointer { Data(buffer: $0) }).write(to: dir.appendingPathComponent("angles.f32"))
        let classify = try run("./classify", ["angles.f32"], in: dir)
        XCTAssertEqual(classify.status, 0, classify.stderr)
        let printed = parseClassify(classify.stdout)
        for (i, v) in got.enumerated() { XCTAssertEqual(printed["class \(i)"], v, "classify prints what the API returns:\n\(classify.stdout)") }
        try Data(angles.prefix(3).withUnsafeBufferPointer { Data(buffer: $0) }).write(to: dir.appendingPathComponent("short.f32"))
        let short = try run("./classify", ["short.f32"], in: dir)
        XCTAssertEqual(short.status, 1)
        XCTAssertTrue(short.stderr.contains("has 3 values; the model's input takes 4"), short.stderr)
    }

    /// The fixed front end (`qeml_frontend.c`'s `fe_run` in a small harness, with the generated
    /// tables of each variant) against QEMLSignal's
    /// `FrontEnd` for settings the example models do not use: an n_fft that is not a power of
    /// two (the DFT path), zero padding, no padding, dB with top_db, magnitude and power, no
    /// resize, upsampling resize, no standardize, mel bands (log1p and dB), a short signal
    /// (zero-padded to length).
    func testFrontEndVariantsMatchQEMLSignal() throws {
        _ = try requireTool("cc")
        let variants: [[(String, Attribute)]] = [
            [("n_fft", .int(256)), ("hop", .int(64)), ("center", .string("reflect")), ("scale", .string("log1p")), ("standardize", .bool(true)), ("resize", .ints([32, 32]))],
            [("n_fft", .int(200)), ("hop", .int(50)), ("center", .string("constant")), ("scale", .string("magnitude")), ("window", .string("hamming"))],
            [("n_fft", .int(64)), ("hop", .int(16)), ("center", .string("none")), ("scale", .string("db")), ("top_db", .float(60)), ("resize", .ints([40, 80]))],
            [("n_fft", .int(128)), ("hop", .int(32)), ("win_length", .int(100)), ("scale", .string("power")), ("window", .string("blackman")), ("standardize", .bool(true))],
            [("n_fft", .int(256)), ("hop", .int(64)), ("n_mels", .int(32)), ("scale", .string("log1p")), ("standardize", .bool(true)), ("resize", .ints([32, 32]))],
            [("n_fft", .int(200)), ("hop", .int(80)), ("n_mels", .int(20)), ("fmin", .float(50)), ("fmax", .float(3500)), ("scale", .string("db")), ("top_db", .float(80))],
        ]
        var state: UInt64 = 5
        let signal: [Float] = (0..<1500).map { i in
            state = state &* 6364136223846793005 &+ 1442695040888963407
            return 0.6 * sin(Float(i) * 0.21) + 0.3 * (Float(state >> 40) / Float(1 << 24) - 0.5)
        }
        for (v, settings) in variants.enumerated() {
            let spec = FrontendSpec(output: "x", settings: [("sample_rate", .int(8000)), ("length", .int(2000))] + settings)
            let fe = try FrontEnd(spec: spec)
            let want = try fe.run(signal, sampleRate: 8000)
            let harness = """
                #include <math.h>
                #include <stdio.h>
                #include <stddef.h>
                #include <stdint.h>
                #include <string.h>
                \(try CFrontEnd.tables(fe))
                #include "qeml_frontend.c"
                static float padded[FE_PADDED_FLOATS], spec[FE_SPEC_FLOATS], resized[FE_OUT_FLOATS], in[4096];
                static float work[FE_WORK_FLOATS];
                int main(void) {
                    size_t n = fread(in, sizeof(float), 4096, stdin);
                    const float *out = fe_run(in, n, padded, work, spec, resized);
                    fwrite(out, sizeof(float), FE_OUT_FLOATS, stdout);
                    return 0;
                }
                """
            let dir = work.appendingPathComponent("fe\(v)")
            try FileManager.default.createDirectory(at: dir, withIntermediateDirectories: true)
            try Data(harness.utf8).write(to: dir.appendingPathComponent("fe.c"))
            for f in CRuntimeFiles.files where f.name == "qeml_frontend.c" { try Data(f.bytes).write(to: dir.appendingPathComponent(f.name)) }
            let build = try run("cc", ["-O2", "-std=c11", "-Wall", "-Wextra", "-Werror", "-o", "fe", "fe.c", "-lm"], in: dir)
            XCTAssertEqual(build.status, 0, "variant \(v): \(build.stderr)")
            XCTAssertFalse(build.stderr.contains("warning"), "variant \(v): \(build.stderr)")
            let input = dir.appendingPathComponent("signal.f32")
            try Data(signal.withUnsafeBufferPointer { Data(buffer: $0) }).write(to: input)
            let outURL = dir.appendingPathComponent("out.f32")
            let r = try run("sh", ["-c", "./fe < signal.f32 > out.f32"], in: dir)
            XCTAssertEqual(r.status, 0, r.stderr)
            let got = try readFloats(outURL)
            XCTAssertEqual(got.count, want.count, "variant \(v)")
            let err = worstRelative(got, want.data, floor: rms(want.data))
            XCTAssertLessThanOrEqual(err, 1e-5, "variant \(v) \(settings.map { "\($0.0)=\($0.1)" })")
        }
    }

    /// The API's memory and reentrancy promises: a context in caller memory (misaligned on
    /// purpose) and one from malloc share one in-memory weights image (no copy), run on two
    /// threads at once, and give bit-identical results to a lone run; a misaligned weights
    /// buffer and too little memory are refused.
    func testTwoContextsOnTwoThreadsShareWeights() throws {
        _ = try requireTool("cc")
        let (_, dir) = try exportTiny(target: .host, folder: "threads")
        let source = """
            #define _POSIX_C_SOURCE 200809L
            #include "qemlnet-tiny.h"
            #include <math.h>
            #include <pthread.h>
            #include <stdio.h>
            #include <stdlib.h>
            #include <string.h>
            #define N QEMLNET_TINY_SIGNAL_LENGTH
            static float signal_a[N], signal_b[N];
            struct job { qemlnet_tiny_context *ctx; const float *signal; float probs[QEMLNET_TINY_CLASSES]; int status; };
            static void *work(void *arg) {
                struct job *j = arg;
                for (int r = 0; r < 20 && j->status == 0; r++) j->status = qemlnet_tiny_run_signal(j->ctx, j->signal, N);
                memcpy(j->probs, qemlnet_tiny_probabilities(j->ctx), sizeof j->probs);
                return NULL;
            }
            int main(void) {
                for (int i = 0; i < N; i++) { signal_a[i] = sinf(i * 0.05f); signal_b[i] = 0.3f * cosf(i * 0.7f) + 0.1f * sinf(i * 0.011f); }
                FILE *f = fopen("qemlnet-tiny.weights", "rb");
                if (!f) return 10;
                unsigned char *raw = malloc(QEMLNET_TINY_WEIGHTS_BYTES + 128);
                unsigned char *image = raw + ((64 - ((size_t)raw & 63)) & 63);
                if (fread(image, 1, QEMLNET_TINY_WEIGHTS_BYTES, f) != QEMLNET_TINY_WEIGHTS_BYTES) return 11;
                fclose(f);
                static unsigned char memory[QEMLNET_TINY_CONTEXT_BYTES + 8];
                if (qemlnet_tiny_create(memory + 3, QEMLNET_TINY_CONTEXT_BYTES - 1) != NULL) return 12;
                qemlnet_tiny_context *a = qemlnet_tiny_create(memory + 3, QEMLNET_TINY_CONTEXT_BYTES);
                qemlnet_tiny_context *b = qemlnet_tiny_create(NULL, 0);
                if (!a || !b) return 13;
                if (qemlnet_tiny_load_weights(a, image + 1, QEMLNET_TINY_WEIGHTS_BYTES) != QEMLNET_TINY_ERROR_WEIGHTS_ALIGNMENT) return 14;
                if (qemlnet_tiny_load_weights(a, image, QEMLNET_TINY_WEIGHTS_BYTES) || qemlnet_tiny_load_weights(b, image, QEMLNET_TINY_WEIGHTS_BYTES)) return 15;
                /* Lone runs first: the reference. */
                struct job ja = {a, signal_a, {0}, 0}, jb = {b, signal_b, {0}, 0};
                work(&ja); work(&jb);
                float ra[QEMLNET_TINY_CLASSES], rb[QEMLNET_TINY_CLASSES];
                memcpy(ra, ja.probs, sizeof ra); memcpy(rb, jb.probs, sizeof rb);
                /* Swap the signals between the contexts and run both at once. */
                struct job ta = {a, signal_b, {0}, 0}, tb = {b, signal_a, {0}, 0};
                pthread_t t1, t2;
                pthread_create(&t1, NULL, work, &ta);
                pthread_create(&t2, NULL, work, &tb);
                pthread_join(t1, NULL);
                pthread_join(t2, NULL);
                if (ta.status || tb.status) return 16;
                if (memcmp(ta.probs, rb, sizeof rb) || memcmp(tb.probs, ra, sizeof ra)) { puts("results differ"); return 17; }
                qemlnet_tiny_destroy(a);
                qemlnet_tiny_destroy(b);
                free(raw);
                puts("ok");
                return 0;
            }
            """
        try Data(source.utf8).write(to: dir.appendingPathComponent("threads.c"))
        let build = try run("cc", ["-O2", "-std=c11", "-Wall", "-pthread", "-o", "threads", "threads.c", "qemlnet-tiny_runtime.c", "qemlnet-tiny.o", "-lm"], in: dir)
        XCTAssertEqual(build.status, 0, build.stderr)
        let out = try run("./threads", [], in: dir)
        XCTAssertEqual(out.status, 0, "exit \(out.status): \(out.stdout) \(out.stderr)")
        XCTAssertEqual(out.stdout, "ok\n")
    }
}
