import TestSupport
import Foundation
import XCTest

/// Reference vectors written by `scripts/signal_reference.py` (SciPy, librosa, soundfile).
enum Fixtures {
    static let folder = URL(fileURLWithPath: #filePath).deletingLastPathComponent().appendingPathComponent("Fixtures")

    static func path(_ name: String) -> String { folder.appendingPathComponent(name).path }

    static func json(_ name: String) throws -> Any {
        try JSONSerialization.jsonObject(with: Data(contentsOf: folder.appendingPathComponent(name)))
    }
}

extension Dictionary where Key == String, Value == Any {
    func floats(_ key: String) -> [Float] { (self[key] as? [NSNumber] ?? []).map { $0.floatValue } }
    func ints(_ key: String) -> [Int] { (self[key] as? [NSNumber] ?? []).map { $0.intValue } }
    func int(_ key: String) -> Int? { (self[key] as? NSNumber)?.intValue }
    func double(_ key: String) -> Double? { (self[key] as? NSNumber)?.doubleValue }
    func string(_ key: String) -> String? { self[key] as? String }
}

/// Within `rel` relative error, with an absolute floor of `floorShare` × max|expected| for
/// near-zero bins (single-precision FFT rounding is relative to the largest bin, not each bin).
func assertClose(_ actual: [Float], _ expected: [Float], rel: Float = 1e-4, floorShare: Float = 1e-5,
                 _ what: String, file: StaticString = #filePath, line: UInt = #line) {
    XCTAssertEqual(actual.count, expected.count, "\(what): element count", file: file, line: line)
    guard actual.count == expected.count else { return }
    let floor = floorShare * Agreement.largest(expected.map(abs))
    let excess = zip(actual, expected).map { abs($0 - $1) - (rel * abs($1) + floor) }
    let at = excess.firstIndex { !($0 <= 0) } ?? 0
    XCTAssertLessThanOrEqual(Agreement.largest(excess), 0, "\(what): element \(at) is \(actual[at]), expected \(expected[at])",
                             file: file, line: line)
}
