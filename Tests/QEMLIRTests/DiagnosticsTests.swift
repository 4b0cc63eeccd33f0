import Foundation
import XCTest
@testable import QEMLIR

/// Malformed models under `ir/diagnostics/`: each `NAME.qir` must fail with exactly the text in
/// `NAME.expected` (file:line:col, message, source line, caret, notes). Error text is API.
/// Re-record after a deliberate wording change: `QEMLC_RECORD=1 swift test --filter DiagnosticsTests`.
final class DiagnosticsTests: XCTestCase {
    func testMalformedModelsGolden() throws {
        let dir = Repo.path("ir/diagnostics")
        let names = try FileManager.default.contentsOfDirectory(atPath: dir).filter { $0.hasSuffix(".qir") }.sorted()
        XCTAssertGreaterThanOrEqual(names.count, 35)
        let record = ProcessInfo.processInfo.environment["QEMLC_RECORD"] == "1"
        for name in names {
            let base = String(name.dropLast(4))
            let source = try String(contentsOfFile: dir + "/" + name, encoding: .utf8)
            let actual: String
            do {
                _ = try QIR.parse(source, file: "ir/diagnostics/\(name)")
                XCTFail("\(name) parsed without a diagnostic")
                continue
            } catch let list as DiagnosticList {
                actual = list.description + "\n"
                XCTAssertFalse(list.diagnostics.isEmpty, name)
                for d in list.diagnostics {
                    XCTAssertEqual(d.location?.file, "ir/diagnostics/\(name)", "\(name): every diagnostic is located: \(d)")
                }
            }
            let expectedPath = dir + "/" + base + ".expected"
            if record {
                try actual.write(toFile: expectedPath, atomically: true, encoding: .utf8)
                continue
            }
            guard let expected = try? String(contentsOfFile: expectedPath, encoding: .utf8) else {
                XCTFail("\(base).expected is missing; record it with QEMLC_RECORD=1")
                continue
            }
            XCTAssertEqual(actual, expected, base)
        }
    }
}
