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
