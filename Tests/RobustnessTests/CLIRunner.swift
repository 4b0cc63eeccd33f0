import Foundation
import TestSupport
import XCTest

/// Runs the built `qemlc` binary (next to the test bundle) in the repository root, with its own
/// cache folder, as a user would.
struct CLIRunner {
    typealias Result = ProcessOutput

    let cacheHome: URL

    static func binary() throws -> URL {
        guard let bin = ProcessRunner.qemlcBinary(besideBundleOf: LimitsTests.self) else {
            throw XCTSkip("qemlc binary not built next to the test bundle (\(Bundle(for: LimitsTests.self).bundleURL.path)); run `swift build` first")
        }
        return bin
    }

    /// A started process; calling the closure waits for it and collects its output.
    func start(_ args: [String]) throws -> (RunningProcess, () throws -> Result) {
        let p = try ProcessRunner.start(try CLIRunner.binary(), args, in: repositoryRoot,
                                        environment: ["QEMLC_NO_PROGRESS": "1", "XDG_CACHE_HOME": cacheHome.path],
                                        scratch: cacheHome.deletingLastPathComponent())
        return (p, p.finish)
    }

    @discardableResult
    func run(_ args: String...) throws -> Result { try start(args).1() }
}
