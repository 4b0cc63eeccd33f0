import XCTest
import QEMLTensor
@testable import QEMLCodegen

final class TargetTests: XCTestCase {
    var targetsFolder: URL {
        URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent().appendingPathComponent("targets")
    }

    func testEmbeddedTextEqualsTheTargetsFolder() throws {
        let files = try FileManager.default.contentsOfDirectory(atPath: targetsFolder.path).filter { $0.hasSuffix(".target") }.sorted()
        XCTAssertEqual(files, BuiltInTargets.files.map(\.file).sorted(), "targets/ and BuiltInTargets.swift list different files")
        for (file, text) in BuiltInTargets.files {
            let onDisk = try String(contentsOf: targetsFolder.appendingPathComponent(file), encoding: .utf8)
            XCTAssertEqual(text + "\n", onDisk, "\(file) differs from its embedded copy")
        }
        XCTAssertEqual(TargetDescription.described.count, BuiltInTargets.files.count, "every embedded target parses")
    }

    func testBuiltInTargets() throws {
        XCTAssertEqual(TargetDescription.builtIn.map(\.name), ["host", "x86-64-v2", "x86-64-avx2", "x86-64-avx512", "aarch64-neon", "aarch64-neon-dotprod"])
        let avx2 = try TargetDescription.named("x86-64-avx2")
        XCTAssertEqual(avx2.vectorWidth, 8)
        XCTAssertEqual(avx2.vectorRegisters, 16)
        XCTAssertEqual(avx2.flopsPerCycle, 32)
        XCTAssertEqual(avx2.l1Bytes, 32 * 1024)
        XCTAssertEqual(try TargetDescription.named("aarch64-neon").vectorWidth, 4)
        XCTAssertEqual(try TargetDescription.named("x86-64-avx512").vectorRegisters, 32)
        // Text form round-trips.
        for t in TargetDescription.builtIn { XCTAssertEqual(try TargetDescription.parse(t.text, path: "x"), t) }
    }

    func testHostIsDetectedThroughLLVM() {
        let host = TargetDescription.host
        XCTAssertFalse(host.cpu.isEmpty)
        XCTAssertTrue(host.runsOnHost)
        #if arch(x86_64)
        XCTAssertEqual(host.architecture, "x86_64")
        let avx512 = host.features.split(separator: ",").contains("+avx512f")
        let avx2 = host.features.split(separator: ",").contains("+avx2")
        XCTAssertEqual(host.vectorWidth, avx512 ? 16 : avx2 ? 8 : 4)
        #endif
    }

    func testUnknownTargetIsAClearError() {
        XCTAssertThrowsError(try TargetDescription.named("pentium")) { e in
            XCTAssertEqual("\(e)", "target: unknown target 'pentium'; known targets: host, x86-64-v2, x86-64-avx2, x86-64-avx512, aarch64-neon, aarch64-neon-dotprod; "
                           + "or pass a target file (key = value lines, see targets/README.md) as --target path/to/file.target")
        }
    }

    func testTargetFileErrorsNameFileAndPlace() throws {
        let dir = FileManager.default.temporaryDirectory.appendingPathComponent("qemlc-target-\(UInt64.random(in: 0...UInt64.max))")
        try FileManager.default.createDirectory(at: dir, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: dir) }
        let good = dir.appendingPathComponent("mine.target")
        try (try TargetDescription.named("x86-64-avx2")).text.replacingOccurrences(of: "name = x86-64-avx2", with: "name = mine").write(to: good, atomically: true, encoding: .utf8)
        XCTAssertEqual(try TargetDescription.named(good.path).name, "mine")

        XCTAssertThrowsError(try TargetDescription.parse("name = a\nvector_wdth = 8\n", path: "t.target")) { e in
            XCTAssertEqual((e as? FileFormatError)?.place, "line 2")
            XCTAssertTrue("\(e)".hasPrefix("t.target: line 2: unknown key 'vector_wdth'"), "\(e)")
        }
        XCTAssertThrowsError(try TargetDescription.parse("name = a\n", path: "t.target")) { e in
            XCTAssertEqual("\(e)", "t.target: file: missing key 'triple'\n  fix: add a line 'triple = …' (see targets/README.md)")
        }
        let bad = (try TargetDescription.named("x86-64-avx2")).text.replacingOccurrences(of: "vector_width = 8", with: "vector_width = eight")
        XCTAssertThrowsError(try TargetDescription.parse(bad, path: "t.target")) { e in
            XCTAssertEqual("\(e)", "t.target: key 'vector_width': expected a whole number ≥ 1 (K/M suffix allowed), got 'eight'")
        }
        XCTAssertThrowsError(try TargetDescription.named(dir.appendingPathComponent("missing.target").path)) { e in
            XCTAssertTrue("\(e)".contains("cannot read the target file"), "\(e)")
        }
    }
}
