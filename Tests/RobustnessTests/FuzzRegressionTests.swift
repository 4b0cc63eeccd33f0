import Foundation
import XCTest
import QEMLIR

/// Inputs the fuzzers (scripts/fuzz.sh) found to crash or hang, each kept as a test.
final class FuzzRegressionTests: XCTestCase {
    /// Parses on another thread and fails (instead of hanging the suite) if it takes too long.
    func parseWithin(_ seconds: Double, _ source: String, file: StaticString = #filePath, line: UInt = #line) -> Error? {
        let done = DispatchSemaphore(value: 0)
        let box = ErrorBox()
        Thread.detachNewThread {
            do { _ = try QIR.parse(source, file: "fuzz.qir") } catch { box.set(error) }
            done.signal()
        }
        guard done.wait(timeout: .now() + seconds) == .success else {
            XCTFail("QIR.parse did not finish within \(seconds) s", file: file, line: line)
            return nil
        }
        return box.get()
    }

    /// fuzz-qir, timeout: a ';' inside a frontend section after a bad setting made error
    /// recovery stop at the ';' forever.
    func testSemicolonInFrontendSectionDoesNotHang() {
        let error = parseWithin(10, "frontend %s {\n  ;\n}\ninput %s: f32[1,1,8,8]\noutput %s\n")
        XCTAssertNil(error, "a lone ';' is an empty statement, as elsewhere")
        let bad = parseWithin(10, "frontend %s {\n  nff %s {\n  sample_rate = 12; x\n}\ninput %s: f32[1,1,8,8]\n")
        XCTAssertNotNil(bad)
        XCTAssertTrue(String(describing: bad).contains("fuzz.qir:2:"), String(describing: bad))
    }
}

final class ErrorBox: @unchecked Sendable {
    // @unchecked: every access goes through `lock`.
    private let lock = NSLock()
    private var error: Error?
    func set(_ e: Error) { lock.lock(); error = e; lock.unlock() }
    func get() -> Error? { lock.lock(); defer { lock.unlock() }; return error }
}
