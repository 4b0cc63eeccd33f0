import XCTest
@testable import QEMLTensor

/// Fixture files live beside the tests (written by scripts/tensor_io_fixtures.py).
func fixture(_ name: String) -> String {
    let dir = #filePath.split(separator: "/").dropLast().joined(separator: "/")
    return "/" + dir + "/Fixtures/" + name
}

/// A fresh, empty temporary folder for one test.
func temporaryFolder() -> String {
    let template = FileManager.default.temporaryDirectory.appendingPathComponent("qemlc-test-XXXXXX").path
    var chars = Array(template.utf8CString)
    let p = chars.withUnsafeMutableBufferPointer { mkdtemp($0.baseAddress!) }
    XCTAssertNotNil(p)
    return String(decoding: chars.prefix { $0 != 0 }.map { UInt8(bitPattern: $0) }, as: UTF8.self)
}

func writeBytes(_ bytes: [UInt8], _ path: String) {
    _ = FileManager.default.createFile(atPath: path, contents: Data(bytes))
}

/// Asserts that `body` throws a FileFormatError whose description contains every fragment.
func assertFormatError<T>(_ body: @autoclosure () throws -> T, contains fragments: [String],
                          file: StaticString = #filePath, line: UInt = #line) {
    do {
        _ = try body()
        XCTFail("expected an error containing \(fragments)", file: file, line: line)
    } catch let e as FileFormatError {
        for f in fragments where !e.description.contains(f) {
            XCTFail("error \"\(e.description)\" does not contain \"\(f)\"", file: file, line: line)
        }
    } catch {
        XCTFail("unexpected error type \(error)", file: file, line: line)
    }
}
