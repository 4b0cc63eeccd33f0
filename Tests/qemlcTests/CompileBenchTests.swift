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

    /// `cache info` lists both kinds of entry with sizes and hits; `cache clear` empties it; a
    /// bad QEMLC_CACHE_MAX is a clear error, a small one evicts down to the cap.
    func testCacheInfoClearAndSizeCap() throws {
        let args = ["compile", "examples/qemlnet-tiny.qir", "--weights", "examples/qemlnet-tiny.safetensors"]
        XCTAssertEqual(try exec("qemlc", args).status, 0)
        let again = try exec("qemlc", args)
        XCTAssertTrue(again.stdout.contains("packed weights cache: hit"), again.stdout)
        let info = try qemlc("cache", "info")
        XCTAssertEqual(info.status, 0, info.stderr)
        XCTAssertTrue(info.stdout.contains("location: " + work.appendingPathComponent("cache/qemlc").path), info.stdout)
        XCTAssertTrue(info.stdout.contains("size cap: 2.00 GiB (default"), info.stdout)
        let packedRow = try XCTUnwrap(info.stdout.split(separator: "\n").first { $0.hasPrefix("packed weights") })
        XCTAssertEqual(packedRow.split(separator: " ", omittingEmptySubsequences: true).suffix(2), ["1", "1"], "1 hit, 1 miss: \(packedRow)")

        let bad = try exec("qemlc", args, environment: ["QEMLC_CACHE_MAX": "lots"])
        XCTAssertEqual(bad.status, 1)
        XCTAssertTrue(bad.stderr.contains("error: QEMLC_CACHE_MAX='lots' is not a size") && bad.stderr.contains("fix: "), bad.stderr)

        // A cap below one entry keeps only what the last compile wrote or used.
        XCTAssertEqual(try exec("qemlc", ["compile", "examples/qemlnet-circuit.qir"], environment: ["QEMLC_CACHE_MAX": "1K"]).status, 0)
        let entries = try FileManager.default.contentsOfDirectory(atPath: path("cache/qemlc")).filter { $0.hasSuffix(".qc") }
        XCTAssertLessThanOrEqual(entries.count, 2, "\(entries)")

        let cleared = try qemlc("cache", "clear")
        XCTAssertEqual(cleared.status, 0, cleared.stderr)
        XCTAssertTrue(cleared.stdout.hasPrefix("deleted "), cleared.stdout)
        XCTAssertEqual(try FileManager.default.contentsOfDirectory(atPath: path("cache/qemlc")).filter { $0.hasSuffix(".qc") }, [])
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
        // Shares are of the measured peak, never above 1.
        XCTAssertEqual(object["peak_source"] as? String, "measured")
        XCTAssertGreaterThan(object["peak_gflops"] as? Double ?? 0, 0)
        for k in kernels { if let share = k["peak_share"] as? Double { XCTAssertLessThanOrEqual(share, 1, "\(k)") } }
    }

    /// The text report says which peak it is; a nominal one is named as such, and no row exceeds 100 %.
    func testBenchSaysWhichPeak() throws {
        let measured = try qemlc("bench", "examples/qemlnet-tiny.qir", "--iterations", "2", "--warmup", "0", "--threads", "1")
        XCTAssertEqual(measured.status, 0, measured.stderr)
        XCTAssertTrue(measured.stdout.contains("measured on one core by the FMA probe"), measured.stdout)
        let nominal = try qemlc("bench", "examples/qemlnet-tiny.qir", "--iterations", "2", "--warmup", "0", "--threads", "1", "--clock-ghz", "0.1")
        XCTAssertEqual(nominal.status, 0, nominal.stderr)
        XCTAssertTrue(nominal.stdout.contains("NOMINAL = FLOP/cycle × 0.10 GHz (--clock-ghz) × 1 thread, not measured"), nominal.stdout)
        // At 0.1 GHz every conv is "faster than the peak": shown as 100+, explained, never a larger number.
        XCTAssertTrue(nominal.stdout.contains("100+"), nominal.stdout)
        XCTAssertTrue(nominal.stdout.contains("100+: timed faster than the peak"), nominal.stdout)
        for line in nominal.stdout.split(separator: "\n") where line.contains("| conv2d") || line.contains(" conv2d ") {
            let last = line.split(separator: " ").last.map(String.init) ?? ""
            if let v = Double(last) { XCTAssertLessThanOrEqual(v, 100, String(line)) }
        }
    }

    /// Benchmarking another CPU's target is refused by name (the FMA probe is not attempted for it).
    func testBenchForAnotherArchitectureIsAClearError() throws {
        let r = try qemlc("bench", "examples/qemlnet-tiny.qir", "--target", "aarch64-neon", "--iterations", "1")
        XCTAssertEqual(r.status, 1)
        XCTAssertTrue(r.stderr.contains("target 'aarch64-neon'") && r.stderr.contains("cannot run on this machine"), r.stderr)
    }

    /// `compile` and `bench` list every step that is not a generated kernel, with why.
    func testStepsThatAreNotGeneratedAreListedWithWhy() throws {
        let model = try write("dense_bias.qir", """
        model "dense_bias"
        input %x: f32[N,4]
        %b = dense(%x, @pre.weight, out=3)
        %y = dense(%x, @fc.weight, bias=%b, out=3)
        output %y
        """)
        let line = "dense %y: reference interpreter (its bias %b is computed, not a weight)"
        let compiled = try qemlc("compile", model)
        XCTAssertEqual(compiled.status, 0, compiled.stderr)
        XCTAssertTrue(compiled.stdout.contains("not generated kernels (1):\n  " + line), compiled.stdout)
        let bench = try qemlc("bench", model, "--iterations", "1", "--warmup", "0", "--threads", "1")
        XCTAssertEqual(bench.status, 0, bench.stderr)
        XCTAssertTrue(bench.stdout.contains("not generated kernels (1):\n  " + line), bench.stdout)
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
