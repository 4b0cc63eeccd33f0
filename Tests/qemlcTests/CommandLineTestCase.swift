import Foundation
import XCTest

/// The base of the command-line tests: runs the built `qemlc` binary (or any tool) from the
/// repository root with a private work folder and object cache, and captures its output in
/// files (pipes could fill up and stall a chatty child).
class CommandLineTestCase: XCTestCase {
    static let repo = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()
    var work: URL!

    struct Result {
        var status: Int32
        var stdout: String
        var stderr: String
    }

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
        let p = Process()
        if tool == "qemlc" {
            let here = Bundle(for: CommandLineTestCase.self).bundleURL
            let candidates = [here, here.deletingLastPathComponent()].map { $0.appendingPathComponent("qemlc") }
            guard let bin = candidates.first(where: { FileManager.default.isExecutableFile(atPath: $0.path) }) else {
                throw XCTSkip("qemlc binary not built next to the test bundle (\(here.path)); run `swift build` first")
            }
            p.executableURL = bin
            p.arguments = args
        } else {
            p.executableURL = URL(fileURLWithPath: "/usr/bin/env")
            p.arguments = [tool] + args
        }
        p.currentDirectoryURL = dir ?? Self.repo
        var env = ProcessInfo.processInfo.environment
        env["QEMLC_NO_PROGRESS"] = "1"
        env["XDG_CACHE_HOME"] = work.appendingPathComponent("cache").path
        env.merge(environment) { $1 }
        p.environment = env
        let outURL = work.appendingPathComponent("out-\(UUID().uuidString)"), errURL = work.appendingPathComponent("err-\(UUID().uuidString)")
        FileManager.default.createFile(atPath: outURL.path, contents: nil)
        FileManager.default.createFile(atPath: errURL.path, contents: nil)
        let out = try FileHandle(forWritingTo: outURL), err = try FileHandle(forWritingTo: errURL)
        p.standardOutput = out
        p.standardError = err
        try p.run()
        p.waitUntilExit()
        try out.close()
        try err.close()
        defer {
            try? FileManager.default.removeItem(at: outURL)
            try? FileManager.default.removeItem(at: errURL)
        }
        return Result(status: p.terminationStatus, stdout: (try? String(contentsOf: outURL, encoding: .utf8)) ?? "",
                      stderr: (try? String(contentsOf: errURL, encoding: .utf8)) ?? "")
    }

    func path(_ name: String) -> String { work.appendingPathComponent(name).path }

    func write(_ name: String, _ text: String) throws -> String {
        try text.write(toFile: path(name), atomically: true, encoding: .utf8)
        return path(name)
    }
}
