import Foundation
import TestSupport
import XCTest

/// The command line as a user meets it: the built `qemlc` binary, its output, its error text
/// and its exit code.
final class CLITests: CommandLineTestCase {
    func testHelpListsEveryCommand() throws {
        let r = try qemlc("--help")
        XCTAssertEqual(r.status, 0)
        for c in ["check", "dump", "run", "init-weights", "synth"] { XCTAssertTrue(r.stdout.contains("  \(c) "), "help lacks \(c)") }
    }

    func testCheckReportsTotals() throws {
        let r = try qemlc("check", "examples/qemlnet-edge.qir", "--summary")
        XCTAssertEqual(r.status, 0, r.stderr)
        XCTAssertTrue(r.stdout.contains("parameters 26079700"), r.stdout)
        XCTAssertTrue(r.stdout.contains("outputs %probs: f32[1,8]"), r.stdout)
    }

    func testMalformedModelIsADiagnosticWithLocationAndExit1() throws {
        let m = try write("bad.qir", "input %x: f32[1,4]\n%y = relux(%x)\n")
        let r = try qemlc("check", m)
        XCTAssertEqual(r.status, 1)
        XCTAssertTrue(r.stderr.hasPrefix("\(m):2:6: error: unknown op 'relux'"), r.stderr)
        XCTAssertTrue(r.stderr.contains("^"), r.stderr)
        XCTAssertFalse(r.stderr.contains("Error:"), "no ArgumentParser noise: \(r.stderr)")
    }

    func testMissingModelFile() throws {
        let r = try qemlc("check", path("nope.qir"))
        XCTAssertEqual(r.status, 1)
        XCTAssertTrue(r.stderr.contains("nope.qir"), r.stderr)
    }

    func testRunEndToEndFromAWAVAndJSON() throws {
        let w = path("tiny.safetensors")
        XCTAssertEqual(try qemlc("init-weights", "examples/qemlnet-tiny.qir", "--seed", "3", "-o", w).status, 0)
        let r = try qemlc("run", "examples/qemlnet-tiny.qir", "--weights", w, "--input", "examples/signals/inner_race.wav",
                          "--output", "spectrogram=\(path("spec.npy"))", "--json", "--top", "3")
        XCTAssertEqual(r.status, 0, r.stderr)
        let json = try JSONSerialization.jsonObject(with: Data(r.stdout.utf8)) as? [String: Any]
        let samples = json?["samples"] as? [[String: Any]]
        let top = samples?.first?["top"] as? [[String: Any]]
        XCTAssertEqual(top?.count, 3)
        let probs = top?.compactMap { $0["probs"] as? Double } ?? []
        XCTAssertEqual(probs, probs.sorted(by: >), "classes are ranked")
        XCTAssertTrue(probs.allSatisfy { $0 > 0 && $0 < 1 })
        XCTAssertTrue(FileManager.default.fileExists(atPath: path("spec.npy")))
    }

    func testRunWithoutWeightsSaysHowToGetThem() throws {
        let r = try qemlc("run", "examples/qemlnet-tiny.qir", "--input", "examples/signals/healthy.wav")
        XCTAssertEqual(r.status, 1)
        XCTAssertTrue(r.stderr.contains("qemlc init-weights"), r.stderr)
    }

    func testNothingIsOverwrittenWithoutForce() throws {
        let w = path("w.safetensors")
        try Data("precious".utf8).write(to: URL(fileURLWithPath: w))
        let r = try qemlc("init-weights", "examples/qemlnet-tiny.qir", "-o", w)
        XCTAssertEqual(r.status, 1)
        XCTAssertTrue(r.stderr.contains("--force"), r.stderr)
        XCTAssertEqual(try String(contentsOfFile: w, encoding: .utf8), "precious")
        XCTAssertEqual(try qemlc("init-weights", "examples/qemlnet-tiny.qir", "-o", w, "--force").status, 0)
    }

    func testTruncatedWeightsFile() throws {
        let w = path("w.safetensors")
        XCTAssertEqual(try qemlc("init-weights", "examples/qemlnet-tiny.qir", "-o", w).status, 0)
        let data = try Data(contentsOf: URL(fileURLWithPath: w))
        try data.prefix(data.count / 2).write(to: URL(fileURLWithPath: w))
        let r = try qemlc("run", "examples/qemlnet-tiny.qir", "--weights", w, "--input", "examples/signals/healthy.wav")
        XCTAssertEqual(r.status, 1)
        XCTAssertTrue(r.stderr.contains(w), r.stderr)
    }

    func testWeightsOfAnotherModel() throws {
        let w = path("circuit.safetensors")
        XCTAssertEqual(try qemlc("init-weights", "examples/qemlnet-circuit.qir", "-o", w).status, 0)
        let r = try qemlc("run", "examples/qemlnet-tiny.qir", "--weights", w, "--input", "examples/signals/healthy.wav")
        XCTAssertEqual(r.status, 1)
        XCTAssertTrue(r.stderr.contains("conv1.weight"), r.stderr)
    }

    func testWAVWithAWrongHeader() throws {
        let bad = path("bad.wav")
        try Data("RIFF\u{0}\u{0}\u{0}\u{0}WAVEjunk".utf8).write(to: URL(fileURLWithPath: bad))
        let w = path("w.safetensors")
        XCTAssertEqual(try qemlc("init-weights", "examples/qemlnet-tiny.qir", "-o", w).status, 0)
        let r = try qemlc("run", "examples/qemlnet-tiny.qir", "--weights", w, "--input", bad)
        XCTAssertEqual(r.status, 1)
        XCTAssertTrue(r.stderr.contains(bad), r.stderr)
    }

    func testInputShapeMismatch() throws {
        let w = path("w.safetensors")
        XCTAssertEqual(try qemlc("init-weights", "examples/qemlnet-circuit.qir", "-o", w).status, 0)
        // A 1-D NPY of 3 floats for f32[N,4].
        var npy = Data("\u{93}NUMPY".utf8.map { $0 == 0xC2 ? 0 : $0 }.filter { $0 != 0 })
        npy = Data([0x93]) + Data("NUMPY".utf8) + Data([1, 0])
        var header = "{'descr': '<f4', 'fortran_order': False, 'shape': (3,), }"
        while (10 + header.utf8.count + 1) % 64 != 0 { header += " " }
        header += "\n"
        npy += Data([UInt8(header.utf8.count & 0xff), UInt8(header.utf8.count >> 8)]) + Data(header.utf8)
        for v: Float in [0.1, 0.2, 0.3] { withUnsafeBytes(of: v.bitPattern.littleEndian) { npy += Data($0) } }
        try npy.write(to: URL(fileURLWithPath: path("x.npy")))
        let r = try qemlc("run", "examples/qemlnet-circuit.qir", "--weights", w, "--input", "angles=\(path("x.npy"))")
        XCTAssertEqual(r.status, 1)
        XCTAssertTrue(r.stderr.contains("shape [1,3]") && r.stderr.contains("f32[N,4]"), r.stderr)
    }

    func testDumpAfterAPassReparses() throws {
        let r = try qemlc("dump", "examples/qemlnet-edge.qir", "--after", "fuse-cbam")
        XCTAssertEqual(r.status, 0, r.stderr)
        XCTAssertTrue(r.stdout.contains("fused_cbam("))
        let again = try qemlc("check", try write("dumped.qir", r.stdout), "--summary")
        XCTAssertEqual(again.status, 0, again.stderr)
    }

    /// `dump` plans for the host's vector width by default, as `compile` does (it used to assume 8).
    func testDumpUsesTheTargetsVectorWidth() throws {
        let compiled = try qemlc("compile", "examples/qemlnet-tiny.qir")
        XCTAssertEqual(compiled.status, 0, compiled.stderr)
        let lanes = try XCTUnwrap(compiled.stdout.firstMatch(of: /, (\d+) lanes\)/).map { Int($0.1)! })
        let byDefault = try qemlc("dump", "examples/qemlnet-tiny.qir", "--after", "layout")
        let explicit = try qemlc("dump", "examples/qemlnet-tiny.qir", "--after", "layout", "--vector-width", "\(lanes)")
        XCTAssertEqual(byDefault.status, 0, byDefault.stderr)
        XCTAssertEqual(byDefault.stdout, explicit.stdout)
        XCTAssertTrue(byDefault.stdout.contains("layout=\"nchw\(lanes)c\""), byDefault.stdout)
        let neon = try qemlc("dump", "examples/qemlnet-tiny.qir", "--after", "layout", "--target", "aarch64-neon")
        XCTAssertTrue(neon.stdout.contains("layout=\"nchw4c\""), neon.stdout)
    }

    /// `dump --after plan` lists every step with what runs it, and the arena `compile` reports.
    func testDumpAfterPlanShowsTheArenaCompileReports() throws {
        let dump = try qemlc("dump", "examples/qemlnet-edge.qir", "--after", "plan")
        XCTAssertEqual(dump.status, 0, dump.stderr)
        let compiled = try qemlc("compile", "examples/qemlnet-edge.qir")
        XCTAssertEqual(compiled.status, 0, compiled.stderr)
        let arena = try XCTUnwrap(compiled.stdout.split(separator: "\n").first { $0.hasPrefix("arena: ") })
        XCTAssertTrue(dump.stdout.hasSuffix(arena + "\n"), "compile: \(arena)\ndump:\n\(dump.stdout)")
        let steps = dump.stdout.split(separator: "\n").filter { $0.hasPrefix("step ") }
        XCTAssertGreaterThan(steps.count, 10)
        for s in steps {
            XCTAssertTrue(s.contains(": generated ") || s.contains(": circuit on the ") || s.contains(": reference interpreter ("), String(s))
        }
    }

    func testDumpAfterAnUnknownPassListsTheValidOnes() throws {
        let r = try qemlc("dump", "examples/qemlnet-tiny.qir", "--after", "fuse-everything")
        XCTAssertEqual(r.status, 1)
        XCTAssertTrue(r.stderr.contains("fold-batchnorm") && r.stderr.contains("fuse-cbam"), r.stderr)
    }

    func testSynthWritesAReadableRecording() throws {
        let f = path("cage.wav")
        let r = try qemlc("synth", "cage", "-o", f, "--duration", "0.5", "--seed", "2")
        XCTAssertEqual(r.status, 0, r.stderr)
        XCTAssertTrue(r.stdout.contains("FTF"), r.stdout)
        let size = try FileManager.default.attributesOfItem(atPath: f)[.size] as? Int
        XCTAssertEqual(size, 44 + 6000 * 2)
        let unknown = try qemlc("synth", "rust", "-o", f)
        XCTAssertEqual(unknown.status, 64, "an unknown fault is a usage error")
        XCTAssertTrue(unknown.stderr.hasPrefix("Error: unknown fault 'rust': choose one of healthy, outer_race, inner_race, ball, cage, inner_outer, misalignment, unbalance\n"), unknown.stderr)
    }

    func testSpectrogramPictureAndNumbers() throws {
        let png = path("s.png"), npy = path("s.npy")
        let r = try qemlc("spectrogram", "examples/signals/outer_race.wav", "-o", png, "--model", "examples/qemlnet-edge.qir", "--scale", "db")
        XCTAssertEqual(r.status, 0, r.stderr)
        let bytes = try Data(contentsOf: URL(fileURLWithPath: png))
        XCTAssertEqual(Array(bytes.prefix(8)), [0x89, 0x50, 0x4E, 0x47, 0x0D, 0x0A, 0x1A, 0x0A])
        let n = try qemlc("spectrogram", "examples/signals/outer_race.wav", "-o", npy, "--n-fft", "512", "--hop", "128", "--center", "none")
        XCTAssertEqual(n.status, 0, n.stderr)
        // 12,000 samples, no padding: 1 + (12000 - 512) / 128 = 90 frames of 257 bins.
        XCTAssertTrue(n.stdout.contains("257×90"), n.stdout)
        XCTAssertEqual(try qemlc("spectrogram", "examples/signals/outer_race.wav", "-o", path("s.jpg")).status, 1)
    }

    func testBenchCircuitReportsThePlanAsJSON() throws {
        let json = """
        {"qubits": 2, "input_width": 2, "batch": 3, "inputs": [0.1, 0.2, 0.3, 0.4, 0.5, 0.6],
         "gates": [["ry", [0], [["i", 0]]], ["ry", [1], [["i", 1]]], ["cnot", [0, 1], []]],
         "measurements": [["expval", "z", 0], ["expval", "z", 1]], "weights": []}
        """
        let r = try qemlc("bench-circuit", try write("case.json", json), "0")
        XCTAssertEqual(r.status, 0, r.stderr)
        let report = try JSONSerialization.jsonObject(with: Data(r.stdout.utf8)) as? [String: Any]
        XCTAssertEqual(report?["plan"] as? String, "folded-observables", r.stdout)
        // --compiled times the generated LLVM kernel, checked against the reference simulator.
        let kernel = try qemlc("bench-circuit", "--compiled", path("case.json"), "0")
        XCTAssertEqual(kernel.status, 0, kernel.stderr)
        let k = try JSONSerialization.jsonObject(with: Data(kernel.stdout.utf8)) as? [String: Any]
        XCTAssertTrue((k?["evaluator"] as? String)?.hasPrefix("llvm-kernel") ?? false, kernel.stdout)
        XCTAssertLessThan(k?["max_dev_vs_reference"] as? Double ?? 1, 1e-5, kernel.stdout)
        let entangledFirst = json.replacingOccurrences(of: #"["ry", [0], [["i", 0]]], ["ry", [1], [["i", 1]]], ["cnot", [0, 1], []]"#,
                                                       with: #"["ry", [0], [["i", 0]]], ["cnot", [0, 1], []], ["ry", [1], [["i", 1]]]"#)
        // Not foldable: the cache-blocked state-vector kernel (f64; 2 qubits: 2-double vectors).
        let notFolded = try qemlc("bench-circuit", "--compiled", try write("late.json", entangledFirst), "0")
        XCTAssertEqual(notFolded.status, 0, notFolded.stderr)
        let sv = try JSONSerialization.jsonObject(with: Data(notFolded.stdout.utf8)) as? [String: Any]
        XCTAssertTrue((sv?["evaluator"] as? String)?.hasPrefix("llvm-state-vector") ?? false, notFolded.stdout)
        XCTAssertLessThan(sv?["max_dev_vs_reference"] as? Double ?? 1, 1e-12, notFolded.stdout)
        let missing = try qemlc("bench-circuit", path("none.json"))
        XCTAssertEqual(missing.status, 1)
        XCTAssertTrue(missing.stderr.contains("none.json") && !missing.stderr.contains("Error:"), missing.stderr)
    }

    /// QEMLC_DEBUG=N adds, level by level: compile times, per-step run times, the chosen kernels,
    /// LLVM IR, assembly — on stderr, with stdout unchanged.
    func testDebugLadder() throws {
        let w = path("tiny.safetensors")
        XCTAssertEqual(try qemlc("init-weights", "examples/qemlnet-tiny.qir", "-o", w).status, 0)
        let args = ["run", "examples/qemlnet-tiny.qir", "--weights", w, "--input", "examples/signals/ball.wav", "--json"]
        let plain = try exec("qemlc", args)
        XCTAssertEqual(plain.status, 0, plain.stderr)
        let markers = ["qemlc: compiled qemlnet-tiny", "qemlc: run batch 1 step 0 %", "qemlc: step 0 %", "define void @", "\t.text"]
        for level in 1...5 {
            let r = try exec("qemlc", args, environment: ["QEMLC_DEBUG": "\(level)"])
            XCTAssertEqual(r.status, 0, r.stderr)
            XCTAssertEqual(r.stdout, plain.stdout, "level \(level) changed stdout")
            for (i, marker) in markers.enumerated() {
                XCTAssertEqual(r.stderr.contains(marker), i < level, "level \(level), marker \(marker)")
            }
        }
    }

    /// An 8-qubit circuit measuring every wire is above the folded kernel's coefficient limit: the
    /// debug ladder names the compiled state-vector kernel as the step that runs it.
    func testDebugLadderNamesTheStateVectorKernelAboveTheFoldingLimit() throws {
        let model = try write("wide8.qir", TestModels.eightQubitCircuit)
        let w = path("w8.safetensors")
        XCTAssertEqual(try qemlc("init-weights", model, "-o", w).status, 0)
        var header = "{'descr': '<f4', 'fortran_order': False, 'shape': (1, 8), }"
        while (10 + header.utf8.count + 1) % 64 != 0 { header += " " }
        header += "\n"
        var npy = Data([0x93]) + Data("NUMPY".utf8) + Data([1, 0])
        npy += Data([UInt8(header.utf8.count & 0xff), UInt8(header.utf8.count >> 8)]) + Data(header.utf8)
        for k in 0..<8 { withUnsafeBytes(of: (Float(k) * 0.3 - 1).bitPattern.littleEndian) { npy += Data($0) } }
        try npy.write(to: URL(fileURLWithPath: path("x8.npy")))
        let r = try qemlc(environment: ["QEMLC_DEBUG": "3"], "run", model, "--weights", w, "--input", "angles=\(path("x8.npy"))")
        XCTAssertEqual(r.status, 0, r.stderr)
        XCTAssertTrue(r.stderr.contains("%z: circuit (state-vector kernel"), r.stderr)
        XCTAssertFalse(r.stderr.contains("folded-observables"), r.stderr)
    }

    /// A file that is not .qir at all: the first 20 errors, then a count of the rest.
    func testManyErrorsAreCapped() throws {
        let junk = (0..<60).map { "%v\($0) = = 1e\n" }.joined()
        let r = try qemlc("check", try write("junk.qir", junk))
        XCTAssertEqual(r.status, 1)
        let errors = r.stderr.components(separatedBy: ": error: ").count - 1
        XCTAssertEqual(errors, 20, r.stderr)
        XCTAssertTrue(r.stderr.contains("… and "), r.stderr)
        XCTAssertTrue(r.stderr.hasSuffix("more errors (the first 20 are shown)\n"), r.stderr)
    }

    func testDumpAfterFuseQuantumSaysWhichStrategyAndWhy() throws {
        let r = try qemlc("dump", "examples/qemlnet-circuit.qir", "--after", "fuse-quantum")
        XCTAssertEqual(r.status, 0, r.stderr)
        XCTAssertTrue(r.stdout.contains("note \"fuse-quantum: %expvals: folded-observables: 4 qubits"), r.stdout)
    }
}
