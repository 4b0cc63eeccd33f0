import Foundation
import XCTest
import QEMLIR

/// The repository root (three levels above this file).
let repositoryRoot = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()

func examplePath(_ name: String) -> String { repositoryRoot.appendingPathComponent("examples").appendingPathComponent(name).path }

/// A fresh, empty temporary folder for one test.
func freshFolder(_ label: String = "robust") throws -> URL {
    let url = FileManager.default.temporaryDirectory.appendingPathComponent("qemlc-\(label)-\(UUID().uuidString)")
    try FileManager.default.createDirectory(at: url, withIntermediateDirectories: true)
    return url
}

/// Asserts that `body` throws an error whose description contains every fragment.
func assertThrows<T>(_ body: @autoclosure () throws -> T, _ fragments: String...,
                     file: StaticString = #filePath, line: UInt = #line) {
    do {
        _ = try body()
        XCTFail("expected an error containing \(fragments)", file: file, line: line)
    } catch {
        let text = String(describing: error)
        for f in fragments where !text.contains(f) {
            XCTFail("'\(f)' is not in the error:\n\(text)", file: file, line: line)
        }
    }
}

/// Little-endian bytes of `v`, `n` bytes long.
func le(_ v: UInt64, _ n: Int) -> [UInt8] { (0..<n).map { UInt8(truncatingIfNeeded: v >> (8 * UInt64($0))) } }
