import Foundation
import XCTest

/// `qemlc compile`, `bench`, `targets` and `run --backend` as a user meets them: the built
/// binary, its output and exit code (run with a private object cache).
final class CompileBenchTests: CommandLineTestCase {
    func testTargetsListsTheBuiltInTargets() throws {
        let r = try qemlc("targets")
        XCTAssertEqual(r.status, 0, r.stderr)
        for name in ["host", "x86-64-avx2", "x86-64-avx512", "aarch64-neon"] { XCTAssertTrue(r.stdout.contains(name), name) }
    }

    func testCompileReportsFusionsKernelsAndTheCache() throws {
        let llvm = work.appendingPathComponent("tiny.ll").path
        let first = try qemlc("compile", "examples/qemlnet-tiny.qir", "--emit-llvm", llvm)
        XCTAssertEqual(first.status, 0, first.stderr)
        for line in ["weights: none given", "fold-batchnorm: folded 17 batchnorms into convs", "fuse-cbam: fused 4 CBAM blocks",
                     "conv2d", "cbam_apply", "circuit (folded-observables)", "object cache: miss", "arena:"] {
            XCTAssertTrue(first.stdout.contains(line), "missing '\(line)' in:\n\(first.stdout)")
        }
        XCTAssertTrue(try String(contentsOfFile: llvm, encoding: .utf8).contains("define void @n"))
        let second = try qemlc("compile", "examples/qemlnet-tiny.qir")
        XCTAssertTrue(second.stdout.contains("object cache: hit"), second.stdout)
    }

    func testCompileForAnotherArchitectureEmitsWithoutLinking() throws {
        let r = try qemlc("compile", "examples/qemlnet-tiny.qir", "--target", "aarch64-neon")
        XCTAssertEqual(r.status, 0, r.stderr)
        XCTAssertTrue(r.stdout.contains("not linked: the target is not this machine"), r.stdout)
    }

    func testUnknownTargetIsAClearError() throws {
        let r = try qemlc("compile", "examples/qemlnet-tiny.qir", "--target", "pentium")
        XCTAssertEqual(r.status, 1)
        XCTAssertTrue(r.stderr.hasPrefix("error: unknown target 'pentium'; known targets: host, "), r.stderr)
        XCTAssertTrue(r.stderr.contains("fix: list the targets with `qemlc targets`"), r.stderr)
    }

    func testBenchJSONHasLatencyFPSAndKernels() throws {
        let r = try qemlc("bench", "examples/qemlnet-tiny.qir", "--iterations", "3", "--warmup", "1", "--threads", "2", "--batch", "2", "--json")
        XCTAssertEqual(r.status, 0, r.stderr)
        let object = try XCTUnwrap(try JSONSerialization.jsonObject(with: Data(r.stdout.utf8)) as? [String: Any])
        let latency = try XCTUnwrap(object["latency_ms"] as? [String: Double])
        for q in ["p50", "p90", "p99"] { XCTAssertGreaterThan(latency[q] ?? 0, 0, q) }
        XCTAssertGreaterThan(object["fps"] as? Double ?? 0, 0)
        XCTAssertEqual(object["threads"] as? Int, 2)
        XCTAssertEqual(object["batch"] as? Int, 2)
        XCTAssertFalse((object["llvm"] as? String ?? "").isEmpty)
        let kernels = try XCTUnwrap(object["kernels"] as? [[String: Any]])
        XCTAssertTrue(kernels.contains { $0["kernel"] as? String == "conv2d" && ($0["gflops"] as? Double ?? 0) > 0 })
    }

    func testBenchBLASAndInterpreterPrintEndToEnd() throws {
        for backend in ["blas", "interpret"] {
            let r = try qemlc("bench", "examples/qemlnet-tiny.qir", "--backend", backend, "--iterations", "1", "--warmup", "0", "--threads", "1")
            XCTAssertEqual(r.status, 0, r.stderr)
            XCTAssertTrue(r.stdout.contains("backend \(backend), 1 thread"), r.stdout)
            XCTAssertTrue(r.stdout.contains("end to end: p50 "), r.stdout)
        }
    }

    func testRunBackendsAgree() throws {
        let weights = work.appendingPathComponent("w.safetensors").path
        XCTAssertEqual(try qemlc("init-weights", "examples/qemlnet-tiny.qir", "-o", weights).status, 0)
        var results: [[Double]] = []
        for backend in ["jit", "blas", "interpret"] {
            let r = try qemlc("run", "examples/qemlnet-tiny.qir", "--weights", weights, "--input", "examples/signals/outer_race.wav",
                              "--backend", backend, "--json")
            XCTAssertEqual(r.status, 0, r.stderr)
            let object = try XCTUnwrap(try JSONSerialization.jsonObject(with: Data(r.stdout.utf8)) as? [String: Any])
            let top = try XCTUnwrap((object["samples"] as? [[String: Any]])?.first?["top"] as? [[String: Any]])
            let byLabel = Dictionary(uniqueKeysWithValues: top.compactMap { e in (e["label"] as? String).map { ($0, e["probs"] as? Double ?? -1) } })
            results.append(byLabel.keys.sorted().map { byLabel[$0] ?? -1 })
        }
        XCTAssertEqual(results[0].count, 8)
        for r in results.dropFirst() {
            for (a, b) in zip(results[0], r) { XCTAssertEqual(a, b, accuracy: 1e-4) }
        }
    }
}
