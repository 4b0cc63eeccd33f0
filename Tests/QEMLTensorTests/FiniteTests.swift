import XCTest
@testable import QEMLTensor

/// `requireFinite`, the one check every reader and input binding uses; `plural` and
/// `formatBytes`, the one wording of counts and sizes in reports.
final class FiniteTests: XCTestCase {
    func testFirstNonFiniteIsNamedWithItsIndex() {
        XCTAssertNoThrow(try requireFinite([0, 1, -2, .greatestFiniteMagnitude], path: "x"))
        XCTAssertThrowsError(try requireFinite([0, 1, .nan, .infinity], path: "x.npy")) { e in
            XCTAssertEqual("\(e)", "x.npy: index 2: NaN is not a finite number\n  fix: qemlc refuses non-finite input; clean the data first (numpy: np.isfinite(x).all())")
        }
        XCTAssertThrowsError(try Tensor(shape: [2, 3], data: [0, 0, 0, 0, -.infinity, 0]).requireFinite(path: "t.npy")) { e in
            XCTAssertEqual((e as? FileFormatError)?.place, "index 4 [1,1]")
            XCTAssertEqual((e as? FileFormatError)?.message, "-Inf is not a finite number")
        }
        let slice = [Float](arrayLiteral: 1, 2, .nan, 4)[1...]
        XCTAssertThrowsError(try requireFinite(slice, path: "s", what: "sample")) { e in
            XCTAssertEqual((e as? FileFormatError)?.place, "sample 1", "the index counts from the slice's start")
        }
        XCTAssertEqual(firstNonFinite([Float]()), nil)
    }

    func testPluralAndBytes() {
        XCTAssertEqual(plural(1, "block"), "1 block")
        XCTAssertEqual(plural(0, "block"), "0 blocks")
        XCTAssertEqual(plural(2, "channel"), "2 channels")
        XCTAssertEqual(formatBytes(512), "512 B")
        XCTAssertEqual(formatBytes(81_920), "80.0 KiB")
        XCTAssertEqual(formatBytes(3 * 1_048_576 / 2), "1.50 MiB")
        XCTAssertEqual(formatBytes(2 * 1_073_741_824), "2.00 GiB")
    }

    func testMissingFileAndFolderWording() {
        XCTAssertEqual("\(FileFormatError.missing("a.wav", given: "--input"))", "a.wav: no such file\n  fix: check the path given to --input")
        XCTAssertThrowsError(try requireOutputFolder("/nonexistent-qemlc-dir/x.png")) { e in
            XCTAssertEqual("\(e)", "/nonexistent-qemlc-dir/x.png: the folder '/nonexistent-qemlc-dir' does not exist\n  fix: create it first (mkdir -p '/nonexistent-qemlc-dir'), or choose another path")
        }
        XCTAssertNoThrow(try requireOutputFolder("relative.png"))
    }
}
