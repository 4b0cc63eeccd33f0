import XCTest
@testable import QEMLTensor

/// Damaged files never crash a reader: thousands of deterministic random corruptions of good
/// files each either load or throw a FileFormatError.
final class FuzzTests: XCTestCase {
    /// A small deterministic generator (xorshift64*), so failures reproduce.
    struct Rng {
        var s: UInt64
        mutating func next() -> UInt64 { s ^= s >> 12; s ^= s << 25; s ^= s >> 27; return s &* 2_685_821_657_736_338_717 }
        mutating func below(_ n: Int) -> Int { Int(next() % UInt64(max(n, 1))) }
    }

    func corruptions(of good: [UInt8], count: Int, seed: UInt64, _ check: ([UInt8]) -> Void) {
        var rng = Rng(s: seed)
        for _ in 0..<count {
            var b = good
            switch rng.below(4) {
            case 0:  // flip a few bytes, mostly in the header where the structure is
                for _ in 0...rng.below(3) { b[rng.below(min(b.count, 200))] = UInt8(truncatingIfNeeded: rng.next()) }
            case 1:  // truncate
                b = Array(b.prefix(rng.below(b.count)))
            case 2:  // append garbage
                b += (0..<rng.below(16) + 1).map { _ in UInt8(truncatingIfNeeded: rng.next()) }
            default:  // overwrite a digit in the header text with another digit
                if let i = (0..<min(b.count, 200)).filter({ (48...57).contains(b[$0]) }).randomElement(using: &rng) {
                    b[i] = UInt8(48 + rng.below(10))
                }
            }
            check(b)
        }
    }

    func testSafetensorsSurvivesCorruption() throws {
        let good = Array(try Data(contentsOf: URL(fileURLWithPath: fixture("f32.safetensors"))))
        let path = temporaryFolder() + "/fuzz.safetensors"
        var errors = 0
        corruptions(of: good, count: 400, seed: 42) { bytes in
            writeBytes(bytes, path)
            do { _ = try Safetensors.read(path: path) } catch is FileFormatError { errors += 1 } catch { XCTFail("\(error)") }
        }
        XCTAssertGreaterThan(errors, 150)
    }

    func testNPYSurvivesCorruption() throws {
        for name in ["f4.npy", "f4_v3.npy", "i8.npy"] {
            let good = Array(try Data(contentsOf: URL(fileURLWithPath: fixture(name))))
            var errors = 0
            corruptions(of: good, count: 1500, seed: 7) { bytes in
                do { _ = try bytes.withUnsafeBytes { try NPY.decode($0, path: name) } } catch is FileFormatError { errors += 1 } catch { XCTFail("\(error)") }
            }
            XCTAssertGreaterThan(errors, 500, name)
        }
    }
}

extension FuzzTests.Rng: RandomNumberGenerator {}
