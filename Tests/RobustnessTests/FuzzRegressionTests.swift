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

    /// Found profiling fuzz-qir (the diagnostics' source lines were half its time): lines were
    /// split at Character "\n", and "\r\n" is one Character, so in a Windows (CRLF) file a
    /// diagnostic on line 2 or later showed no source line and one on line 1 showed the whole file.
    func testDiagnosticsInCRLFFileShowTheirLine() {
        assertThrows(try QIR.parse("input %x: f32[1,4]\r\n\t%y = relu(%q)\r\n%z = relu(%y)\r\n", file: "t.qir"),
                     "t.qir:2:12: error: undefined value %q\n   %y = relu(%q)\n             ^\n")
        do {
            _ = try QIR.parse("input %x: f33[1,4]\r\n%y = relu(%x)\r\n", file: "t.qir")
            XCTFail("f33 is no element type")
        } catch {
            let lines = String(describing: error).split(separator: "\n", omittingEmptySubsequences: false)
            XCTAssertTrue(lines[0].hasPrefix("t.qir:1:"), "\(error)")
            XCTAssertEqual(lines.dropFirst().first, "  input %x: f33[1,4]", "\(error)")
            XCTAssertFalse("\(error)".contains("relu"), "\(error)")
        }
    }
}

final class ErrorBox: @unchecked Sendable {
    // @unchecked: every access goes through `lock`.
    private let lock = NSLock()
    private var error: Error?
    func set(_ e: Error) { lock.lock(); error = e; lock.unlock() }
    func get() -> Error? { lock.lock(); defer { lock.unlock() }; return error }
}
