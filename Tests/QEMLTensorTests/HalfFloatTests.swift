import XCTest
@testable import QEMLTensor

final class HalfFloatTests: XCTestCase {
    func testKnownBitPatterns() {
        XCTAssertEqual(HalfFloat.float(fromHalf: 0x3C00), 1)
        XCTAssertEqual(HalfFloat.float(fromHalf: 0xC000), -2)
        XCTAssertEqual(HalfFloat.float(fromHalf: 0x7BFF), 65504)  // largest finite
        XCTAssertEqual(HalfFloat.float(fromHalf: 0x0001), 0x1p-24)  // smallest subnormal
        XCTAssertEqual(HalfFloat.float(fromHalf: 0x0400), 0x1p-14)  // smallest normal
        XCTAssertEqual(HalfFloat.float(fromHalf: 0x7C00), .infinity)
        XCTAssertEqual(HalfFloat.float(fromHalf: 0xFC00), -.infinity)
        XCTAssertTrue(HalfFloat.float(fromHalf: 0x7E00).isNaN)
        XCTAssertEqual(HalfFloat.float(fromHalf: 0x8000).sign, .minus)
        XCTAssertEqual(HalfFloat.float(fromBFloat16: 0x3F80), 1)
        XCTAssertEqual(HalfFloat.float(fromBFloat16: 0xC0A0), -5)
    }

    func testEveryHalfRoundTrips() {
        for h in UInt16.min...UInt16.max {
            let f = HalfFloat.float(fromHalf: h)
            if f.isNaN { continue }
            XCTAssertEqual(HalfFloat.half(from: f), h, "0x\(String(h, radix: 16))")
        }
    }

    func testRoundingToNearestEven() {
        XCTAssertEqual(HalfFloat.half(from: 1 + 0x1p-11), 0x3C00)  // tie → even (down)
        XCTAssertEqual(HalfFloat.half(from: 1 + 3 * 0x1p-11), 0x3C02)  // tie → even (up)
        XCTAssertEqual(HalfFloat.half(from: 70000), 0x7C00)
    }
}
