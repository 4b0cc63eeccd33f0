import XCTest
@testable import QEMLIR

final class RoundTripTests: XCTestCase {
    /// 250 seeded random graphs over every base op: verified, printed, parsed back equal, and
    /// printing the parsed graph gives the same text.
    func testRandomGraphsRoundTrip() throws {
        var opsSeen: Set<String> = []
        for seed in 0..<250 {
            var b = RandomGraphBuilder(seed: UInt64(seed))
            let g = b.build()
            XCTAssertEqual(g.compacted(), g, "seed \(seed): the builder makes canonical graphs")
            XCTAssertNoThrow(try Verifier.verify(g), "seed \(seed)")
            let text = QIR.print(g)
            do {
                let back = try QIR.parse(text, file: "random-\(seed).qir")
                XCTAssertEqual(back, g, "seed \(seed):\n\(text)")
                XCTAssertEqual(QIR.print(back), text, "seed \(seed)")
            } catch {
                XCTFail("seed \(seed): \(error)\n\(text)")
            }
            g.nodes.forEach { opsSeen.insert($0.op) }
        }
        let base = Set(BaseOps.all.map(\.name))
        XCTAssertEqual(base.subtracting(opsSeen), [], "every base op appears in some random graph")
    }
}
