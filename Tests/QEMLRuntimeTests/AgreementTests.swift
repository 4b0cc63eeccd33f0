import TestSupport
import QEMLTensor
import XCTest

/// A planted NaN fails every comparison helper the tests use (NaN-blind `max` would pass it).
final class AgreementTests: XCTestCase {
    func testPlantedNaNFailsEveryHelper() {
        let want: [Float] = [1, -2, 3, 0.5]
        for at in want.indices {
            var got = want
            got[at] = .nan
            let tolerance: Float = 1
            let errors: [(String, Float)] = [
                ("largest", Agreement.largest(got)),
                ("smallest", Agreement.smallest(got)),
                ("absolute", Agreement.absolute(got, want)),
                ("relative", Agreement.relative(got, want, floor: 1)),
                ("relativeToPeak", Agreement.relativeToPeak(got, want, minimumScale: 1e-6)),
                ("mixed", Agreement.mixed(got, want, share: 0.1, tiny: 1e-12)),
                ("relativeError", relativeError(Tensor(shape: [4], data: got), Tensor(shape: [4], data: want))),
                // NaN in the reference is as bad as NaN in the result.
                ("absolute (reference)", Agreement.absolute(want, got)),
                ("relative (reference)", Agreement.relative(want, got, floor: 1)),
                ("relativeToPeak (reference)", Agreement.relativeToPeak(want, got, minimumScale: 1e-6)),
                ("mixed (reference)", Agreement.mixed(want, got, share: 0.1, tiny: 1e-12)),
            ]
            for (name, err) in errors {
                XCTAssertFalse(err <= tolerance, "\(name) hides a NaN at \(at): \(err)")
                XCTAssertFalse(err >= -tolerance, "\(name) hides a NaN at \(at): \(err)")
            }
        }
    }

    func testAgreeingValuesPassAndCountsMatter() {
        let a: [Double] = [1, 2, 3], b: [Double] = [1, 2, 3.001]
        XCTAssertEqual(Agreement.absolute(a, b), 0.001, accuracy: 1e-12)
        XCTAssertEqual(Agreement.relative(a, b, floor: 1), 0.001 / 3.001, accuracy: 1e-12)
        XCTAssertEqual(Agreement.relativeToPeak(a, b, minimumScale: 1e-6), 0.001 / 3.001, accuracy: 1e-12)
        XCTAssertEqual(Agreement.absolute(a, [1, 2]), .infinity)
        XCTAssertEqual(Agreement.largest([Double]()), 0)
        XCTAssertEqual(Agreement.largest([-3.0, 2, -1]), 2)
        XCTAssertEqual(Agreement.smallest([-3.0, 2, -1]), -3)
    }
}
