import Foundation
import XCTest

/// `qemlc export` as a user meets it: the report, the files, overwrite protection, an unknown
/// target, a model the runtime cannot export, and the README's build steps with `make`.
final class ExportCLITests: CommandLineTestCase {
    func weights() throws -> String {
        let w = path("w.safetensors")
        let r = try exec("qemlc", ["init-weights", "examples/qemlnet-tiny.qir", "-o", w, "--seed", "3"])
        XCTAssertEqual(r.status, 0, r.stderr)
        return w
    }

    func testExportReportsSizesBuildsWithMakeAndAgreesWithRun() throws {
        let w = try weights()
        let out = path("tiny")
        let r = try exec("qemlc", ["export", "examples/qemlnet-tiny.qir", "--weights", w, "--target", "host", "-o", out])
        XCTAssertEqual(r.status, 0, r.stderr)
        for row in ["code", "weights", "arena"] {
            XCTAssertNotNil(r.stdout.range(of: "\(row) +[0-9]+", options: .regularExpression), "reports \(row) bytes:\n\(r.stdout)")
        }
        for f in ["qemlnet-tiny.o", "qemlnet-tiny.h", "qemlnet-tiny_runtime.c", "qemlnet-tiny.weights", "main.c", "Makefile", "README.md"] {
            XCTAssertTrue(FileManager.default.fileExists(atPath: "\(out)/\(f)"), "writes \(f)")
        }
        let make = try exec("make", [], in: URL(fileURLWithPath: out))
        guard make.status == 0 else { return XCTFail("make: \(make.stderr)") }
        let signal = ExportCLITests.repo.appendingPathComponent("examples/signals/inner_race.wav").path
        let classify = try exec("./classify", [signal], in: URL(fileURLWithPath: out))
        XCTAssertEqual(classify.status, 0, classify.stderr)
        let run = try exec("qemlc", ["run", "examples/qemlnet-tiny.qir", "--weights", w, "--input", signal, "--json"])
        XCTAssertEqual(run.status, 0, run.stderr)
        // The same class order as `qemlc run`.
        let cOrder = classify.stdout.split(separator: "\n").map { String($0.split(separator: " ")[0]) }
        let object = try JSONSerialization.jsonObject(with: Data(run.stdout.utf8)) as? [String: Any]
        let top = ((object?["samples"] as? [[String: Any]])?.first?["top"] as? [[String: Any]]) ?? []
        let labels = top.compactMap { $0["label"] as? String }
        XCTAssertEqual(cOrder, labels, "classify:\n\(classify.stdout)\nrun:\n\(run.stdout)")
    }

    /// `--shared` builds lib<model>.so beside the other files (the Python binding loads it): the
    /// object links into a shared library (position-independent) and exports the C API.
    func testSharedBuildsALibraryExportingTheAPI() throws {
        let w = try weights()
        let out = path("tiny")
        let r = try exec("qemlc", ["export", "examples/qemlnet-tiny.qir", "--weights", w, "-o", out, "--shared"])
        XCTAssertEqual(r.status, 0, r.stderr)
        XCTAssertTrue(r.stdout.contains("libqemlnet-tiny.so"), r.stdout)
        let nm = try exec("nm", ["-D", "--defined-only", "\(out)/libqemlnet-tiny.so"])
        XCTAssertEqual(nm.status, 0, nm.stderr)
        for symbol in ["qemlnet_tiny_create", "qemlnet_tiny_load_weights", "qemlnet_tiny_run_signal", "qemlnet_tiny_run_spectrogram",
                       "qemlnet_tiny_probabilities", "qemlnet_tiny_label", "qemlnet_tiny_error", "qemlnet_tiny_destroy"] {
            XCTAssertNotNil(nm.stdout.range(of: " T \(symbol)\n"), "exports \(symbol):\n\(nm.stdout)")
        }
        // The library is part of the bundle: a second export without --force refuses to replace it.
        for f in try FileManager.default.contentsOfDirectory(atPath: out) where f != "libqemlnet-tiny.so" {
            try FileManager.default.removeItem(atPath: "\(out)/\(f)")
        }
        let again = try exec("qemlc", ["export", "examples/qemlnet-tiny.qir", "--weights", w, "-o", out, "--shared"])
        XCTAssertEqual(again.status, 1)
        XCTAssertTrue(again.stderr.hasPrefix("error: \(out)/libqemlnet-tiny.so exists"), again.stderr)
    }

    func testExistingFilesAreNotOverwrittenWithoutForce() throws {
        let w = try weights()
        let out = path("tiny")
        XCTAssertEqual(try exec("qemlc", ["export", "examples/qemlnet-tiny.qir", "--weights", w, "-o", out]).status, 0)
        let again = try exec("qemlc", ["export", "examples/qemlnet-tiny.qir", "--weights", w, "-o", out])
        XCTAssertEqual(again.status, 1)
        XCTAssertTrue(again.stderr.hasPrefix("error: \(out)/qemlnet-tiny.o exists; qemlc does not overwrite files unless asked"), again.stderr)
        XCTAssertTrue(again.stderr.contains("fix: pass --force"), again.stderr)
        XCTAssertEqual(try exec("qemlc", ["export", "examples/qemlnet-tiny.qir", "--weights", w, "-o", out, "--force"]).status, 0)
    }

    func testUnknownTargetListsTheKnownOnes() throws {
        let w = try weights()
        let r = try exec("qemlc", ["export", "examples/qemlnet-tiny.qir", "--weights", w, "--target", "riscv-v", "-o", path("x")])
        XCTAssertEqual(r.status, 1)
        XCTAssertTrue(r.stderr.hasPrefix("error: unknown target 'riscv-v'; known targets: host, "), r.stderr)
        for t in ["x86-64-v2", "x86-64-avx2", "aarch64-neon"] { XCTAssertTrue(r.stderr.contains(t), r.stderr) }
        XCTAssertFalse(FileManager.default.fileExists(atPath: path("x")), "nothing written")
    }

    func testModelTheRuntimeCannotExportIsAClearError() throws {
        let model = path("noLength.qir")
        try """
            model "no-length"
            frontend %x {
              sample_rate = 8000
              n_fft = 64
              hop = 16
              resize = [8, 8]
            }
            input %x: f32[1,1,8,8]
            %y = relu(%x)
            output %y
            """.write(toFile: model, atomically: true, encoding: .utf8)
        let r = try exec("qemlc", ["export", model, "-o", path("y")])
        XCTAssertEqual(r.status, 1)
        XCTAssertTrue(r.stderr.hasPrefix("error: cannot export \(model): the frontend section sets no length"), r.stderr)
        XCTAssertTrue(r.stderr.contains("fix: add `length = <samples>`"), r.stderr)
    }
}
