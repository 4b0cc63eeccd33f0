import Foundation
import XCTest
import QEMLCodegen

/// Nothing lost: every file qemlc writes appears whole (temporary file in the same folder,
/// then rename), leaves no temporary behind, and never replaces an existing file without
/// --force. The object cache survives two compilers at once and rebuilds a damaged entry.
final class CacheAndFilesTests: XCTestCase {
    var work: URL!
    var cli: CLIRunner!

    override func setUpWithError() throws {
        work = try freshFolder("files")
        cli = CLIRunner(cacheHome: work.appendingPathComponent("cache"))
    }

    override func tearDownWithError() throws { try? FileManager.default.removeItem(at: work) }

    func path(_ name: String) -> String { work.appendingPathComponent(name).path }

    /// Files in the work folder other than the cache, sorted.
    func files() throws -> [String] {
        try FileManager.default.contentsOfDirectory(atPath: work.path).filter { $0 != "cache" }.sorted()
    }

    var cacheFolder: URL { work.appendingPathComponent("cache").appendingPathComponent("qemlc") }

    func cacheEntries() throws -> [String] {
        try FileManager.default.contentsOfDirectory(atPath: cacheFolder.path).filter { $0.hasSuffix(".o.qc") }.sorted()
    }

    /// Writes `existing`, runs the command without and with --force, checks the file was kept,
    /// then replaced, and that no temporary file is left.
    func assertGuardedWrite(_ output: String, _ args: [String], file: StaticString = #filePath, line: UInt = #line) throws {
        let existing = "the user's file\n"
        try existing.write(toFile: output, atomically: false, encoding: .utf8)
        let refused = try cli.start(args).1()
        XCTAssertNotEqual(refused.status, 0, file: file, line: line)
        XCTAssertTrue(refused.stderr.contains(output) && refused.stderr.contains("exists"), refused.stderr, file: file, line: line)
        XCTAssertTrue(refused.stderr.contains("--force"), refused.stderr, file: file, line: line)
        XCTAssertEqual(try String(contentsOfFile: output, encoding: .utf8), existing, "kept without --force", file: file, line: line)
        let forced = try cli.start(args + ["--force"]).1()
        XCTAssertEqual(forced.status, 0, forced.stderr, file: file, line: line)
        let written = try Data(contentsOf: URL(fileURLWithPath: output))
        XCTAssertNotEqual(written, Data(existing.utf8), "replaced with --force", file: file, line: line)
        XCTAssertGreaterThan(written.count, 16, file: file, line: line)
        let leftovers = try files().filter { $0.hasPrefix(".") || $0.contains("tmp") }
        XCTAssertEqual(leftovers, [], "no temporary file left behind", file: file, line: line)
    }

    func testInitWeightsNeverOverwritesWithoutForce() throws {
        try assertGuardedWrite(path("w.safetensors"), ["init-weights", "examples/qemlnet-tiny.qir", "-o", path("w.safetensors")])
    }

    func testRunOutputNeverOverwritesWithoutForce() throws {
        XCTAssertEqual(try cli.run("init-weights", "examples/qemlnet-tiny.qir", "-o", path("w.safetensors")).status, 0)
        try assertGuardedWrite(path("probs.npy"), ["run", "examples/qemlnet-tiny.qir", "--weights", path("w.safetensors"),
                                                   "--input", "examples/signals/ball.wav",
                                                   "--output", "probs=\(path("probs.npy"))", "--threads", "1"])
    }

    func testSpectrogramNeverOverwritesWithoutForce() throws {
        try assertGuardedWrite(path("s.png"), ["spectrogram", "examples/signals/ball.wav", "-o", path("s.png")])
        try assertGuardedWrite(path("s.npy"), ["spectrogram", "examples/signals/ball.wav", "-o", path("s.npy")])
    }

    func testEmittedCodeNeverOverwritesWithoutForce() throws {
        try assertGuardedWrite(path("k.ll"), ["compile", "examples/qemlnet-circuit.qir", "--emit-llvm", path("k.ll")])
    }

    func testSynthNeverOverwritesWithoutForce() throws {
        try assertGuardedWrite(path("x.wav"), ["synth", "ball", "-o", path("x.wav"), "--duration", "0.1"])
    }

    func testExportNeverOverwritesWithoutForce() throws {
        XCTAssertEqual(try cli.run("init-weights", "examples/qemlnet-tiny.qir", "-o", path("w.safetensors")).status, 0)
        let folder = work.appendingPathComponent("edge")
        try FileManager.default.createDirectory(at: folder, withIntermediateDirectories: true)
        let header = folder.appendingPathComponent("qemlnet-tiny.h").path
        try "the user's header\n".write(toFile: header, atomically: false, encoding: .utf8)
        let args = ["export", "examples/qemlnet-tiny.qir", "--weights", path("w.safetensors"), "-o", folder.path]
        let refused = try cli.start(args).1()
        XCTAssertNotEqual(refused.status, 0)
        XCTAssertTrue(refused.stderr.contains("exists") && refused.stderr.contains("--force"), refused.stderr)
        XCTAssertEqual(try FileManager.default.contentsOfDirectory(atPath: folder.path), ["qemlnet-tiny.h"], "nothing written")
        XCTAssertEqual(try String(contentsOfFile: header, encoding: .utf8), "the user's header\n")
        let forced = try cli.start(args + ["--force"]).1()
        XCTAssertEqual(forced.status, 0, forced.stderr)
        let written = try FileManager.default.contentsOfDirectory(atPath: folder.path)
        XCTAssertTrue(written.contains("qemlnet-tiny.o") && written.contains("main.c"), "\(written)")
        XCTAssertEqual(written.filter { $0.hasPrefix(".") }, [], "no temporary file left behind")
        XCTAssertNotEqual(try String(contentsOfFile: header, encoding: .utf8), "the user's header\n")
    }

    /// A write into a folder that does not exist fails with a message and leaves nothing.
    func testUnwritableDestinationIsAnError() throws {
        let target = path("missing/w.safetensors")
        let r = try cli.run("init-weights", "examples/qemlnet-tiny.qir", "-o", target)
        XCTAssertNotEqual(r.status, 0)
        XCTAssertTrue(r.stderr.contains("missing"), r.stderr)
        XCTAssertFalse(FileManager.default.fileExists(atPath: target))
        XCTAssertEqual(try files(), [])
    }

    /// Two compilers on the same model at once, sharing a fresh cache: both succeed, every
    /// entry is whole (magic, size, checksum), no temporary file remains, and a third compile
    /// hits the cache.
    func testTwoConcurrentCompilesLeaveAValidCache() throws {
        let args = ["compile", "examples/qemlnet-tiny.qir"]
        let a = try cli.start(args), b = try cli.start(args)
        let (ra, rb) = (try a.1(), try b.1())
        XCTAssertEqual(ra.status, 0, ra.stderr)
        XCTAssertEqual(rb.status, 0, rb.stderr)
        let entries = try cacheEntries()
        XCTAssertFalse(entries.isEmpty)
        let cache = ObjectCache(directory: cacheFolder)
        for e in entries {
            let key = String(e.dropLast(".o.qc".count))
            guard case .hit = cache.lookup(key) else { return XCTFail("entry \(e) is not valid: \(cache.lookup(key))") }
        }
        let temporaries = try FileManager.default.contentsOfDirectory(atPath: cacheFolder.path).filter { $0.contains(".tmp") }
        XCTAssertEqual(temporaries, [])
        let third = try cli.run("compile", "examples/qemlnet-tiny.qir")
        XCTAssertTrue(third.stdout.contains("(LLVM skipped)"), third.stdout)
        // The packed weights the two wrote at once are whole too (a damaged entry would say "rebuilt").
        XCTAssertTrue(third.stdout.contains("packed weights cache: hit"), third.stdout)
    }

    /// A damaged packed-weights entry is rebuilt too, and the next compile hits it again.
    func testCorruptPackedWeightsEntryIsRebuilt() throws {
        let args = ["compile", "examples/qemlnet-tiny.qir", "--weights", "examples/qemlnet-tiny.safetensors"]
        XCTAssertEqual(try cli.start(args).1().status, 0)
        let entries = try FileManager.default.contentsOfDirectory(atPath: cacheFolder.path).filter { $0.hasSuffix(".pw.qc") }
        XCTAssertEqual(entries.count, 1)
        let url = cacheFolder.appendingPathComponent(entries[0])
        let bytes = [UInt8](try Data(contentsOf: url))
        try Data(bytes.prefix(bytes.count - 7)).write(to: url)
        let r = try cli.start(args).1()
        XCTAssertEqual(r.status, 0, r.stderr)
        XCTAssertTrue(r.stdout.contains("packed weights cache: rebuilt (size"), r.stdout)
        XCTAssertTrue(try cli.start(args).1().stdout.contains("packed weights cache: hit"))
    }

    /// A damaged entry counts as a miss: the next compile rebuilds and rewrites it.
    func testCorruptCacheEntryIsRebuilt() throws {
        XCTAssertEqual(try cli.run("compile", "examples/qemlnet-tiny.qir").status, 0)
        let entries = try cacheEntries()
        XCTAssertFalse(entries.isEmpty)
        let cache = ObjectCache(directory: cacheFolder)
        for (i, e) in entries.enumerated() {
            let url = cacheFolder.appendingPathComponent(e)
            var bytes = [UInt8](try Data(contentsOf: url))
            if i % 2 == 0 { bytes[bytes.count / 2] ^= 0xFF } else { bytes = Array(bytes.prefix(20)) }
            try Data(bytes).write(to: url)
        }
        let r = try cli.run("compile", "examples/qemlnet-tiny.qir")
        XCTAssertEqual(r.status, 0, r.stderr)
        XCTAssertFalse(r.stdout.contains("(LLVM skipped)"), r.stdout)
        for e in entries {
            guard case .hit = cache.lookup(String(e.dropLast(".o.qc".count))) else { return XCTFail("\(e) was not rebuilt") }
        }
    }
}
