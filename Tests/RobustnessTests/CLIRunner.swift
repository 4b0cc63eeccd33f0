import Foundation
import XCTest

/// Runs the built `qemlc` binary (next to the test bundle) in the repository root, with its own
/// cache folder, as a user would.
struct CLIRunner {
    struct Result {
        var status: Int32
        var stdout: String
        var stderr: String
    }

    let cacheHome: URL

    static func binary() throws -> URL {
        let here = Bundle(for: LimitsTests.self).bundleURL
        let candidates = [here, here.deletingLastPathComponent()].map { $0.appendingPathComponent("qemlc") }
        guard let bin = candidates.first(where: { FileManager.default.isExecutableFile(atPath: $0.path) }) else {
            throw XCTSkip("qemlc binary not built next to the test bundle (\(here.path)); run `swift build` first")
        }
        return bin
    }

    /// A started process; `finish()` waits and collects its output.
    func start(_ args: [String]) throws -> (Process, () -> Result) {
        let p = Process()
        p.executableURL = try CLIRunner.binary()
        p.arguments = args
        p.currentDirectoryURL = repositoryRoot
        var env = ProcessInfo.processInfo.environment
        env["QEMLC_NO_PROGRESS"] = "1"
        env["XDG_CACHE_HOME"] = cacheHome.path
        p.environment = env
        let out = Pipe(), err = Pipe()
        p.standardOutput = out
        p.standardError = err
        try p.run()
        return (p, {
            let o = out.fileHandleForReading.readDataToEndOfFile()
            let e = err.fileHandleForReading.readDataToEndOfFile()
            p.waitUntilExit()
            return Result(status: p.terminationStatus, stdout: String(decoding: o, as: UTF8.self), stderr: String(decoding: e, as: UTF8.self))
        })
    }

    @discardableResult
    func run(_ args: String...) throws -> Result { try start(args).1() }
}
