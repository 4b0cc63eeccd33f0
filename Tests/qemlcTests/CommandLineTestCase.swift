import Foundation
import TestSupport
import XCTest

/// The base of the command-line tests: runs the built `qemlc` binary (or any tool) from the
/// repository root with a private work folder and object cache, and captures its output in
/// files (pipes could fill up and stall a chatty child).
class CommandLineTestCase: XCTestCase {
    static let repo = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()
    var work: URL!

    typealias Result = ProcessOutput

    override func setUpWithError() throws {
        work = FileManager.default.temporaryDirectory.appendingPathComponent("qemlc-cli-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: work, withIntermediateDirectories: true)
    }

    override func tearDownWithError() throws {
        try? FileManager.default.removeItem(at: work)
    }

    /// Runs qemlc from the build folder this test bundle sits in.
    @discardableResult
    func qemlc(_ args: String...) throws -> Result { try exec("qemlc", args) }

    /// `qemlc` with extra environment variables.
    func qemlc(environment: [String: String], _ args: String...) throws -> Result { try exec("qemlc", args, environment: environment) }

    /// Runs `tool` (`qemlc` from the build folder, or a program on PATH) in `dir` (default: the repository).
    @discardableResult
    func exec(_ tool: String, _ args: [String], in dir: URL? = nil, environment: [String: String] = [:]) throws -> Result {
        let env = ["QEMLC_NO_PROGRESS": "1", "XDG_CACHE_HOME": work.appendingPathComponent("cache").path].merging(environment) { $1 }
        guard tool == "qemlc" else { return try ProcessRunner.run(tool: tool, args, in: dir ?? Self.repo, environment: env, scratch: work) }
        guard let bin = ProcessRunner.qemlcBinary(besideBundleOf: CommandLineTestCase.self) else {
            throw XCTSkip("qemlc binary not built next to the test bundle (\(Bundle(for: CommandLineTestCase.self).bundleURL.path)); run `swift build` first")
        }
        return try ProcessRunner.run(bin, args, in: dir ?? Self.repo, environment: env, scratch: work)
    }

    func path(_ name: String) -> String { work.appendingPathComponent(name).path }

    /// The float32 payload of a little-endian .npy file qemlc wrote.
    func floats(_ path: String) throws -> [Float] {
        let d = try Data(contentsOf: URL(fileURLWithPath: path))
        let headerLength = Int(d[8]) | Int(d[9]) << 8
        let body = d.dropFirst(10 + headerLength)
        return body.withUnsafeBytes { raw in (0..<(body.count / 4)).map { Float(bitPattern: raw.loadUnaligned(fromByteOffset: 4 * $0, as: UInt32.self)) } }
    }

    func write(_ name: String, _ text: String) throws -> String {
        try text.write(toFile: path(name), atomically: true, encoding: .utf8)
        return path(name)
    }
}
