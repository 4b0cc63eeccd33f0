import XCTest
@testable import QEMLIR

/// Hostile input never crashes the front end: seeded mutations of real models either parse or
/// fail with located diagnostics.
final class FuzzTests: XCTestCase {
    func testMutatedModelsNeverCrash() throws {
        let sources = try ["qemlnet-tiny", "qemlnet-circuit"].map {
            try String(contentsOfFile: Repo.path("examples/\($0).qir"), encoding: .utf8)
        }
        let alphabet = Array("%@{}()[],=:.#\"\\ \n0123456789-+*/abcxyzwN_")
        var parsed = 0, rejected = 0
        for seed in 0..<300 {
            var rng = SeededRandom(seed: UInt64(seed))
            var chars = Array(sources[seed % sources.count])
            for _ in 0..<Int.random(in: 1...4, using: &rng) {
                let i = Int.random(in: 0..<chars.count, using: &rng)
                switch Int.random(in: 0...4, using: &rng) {
                case 0: chars.remove(at: i)
                case 1: chars.insert(alphabet.randomElement(using: &rng)!, at: i)
                case 2: chars[i] = alphabet.randomElement(using: &rng)!
                case 3: chars = Array(chars[..<i])                                  // truncated file
                default:                                                            // a duplicated span
                    let j = min(chars.count, i + Int.random(in: 1...40, using: &rng))
                    chars.insert(contentsOf: chars[i..<j], at: j)
                }
                if chars.isEmpty { chars = ["\n"] }
            }
            do {
                let g = try QIR.parse(String(chars), file: "fuzz.qir")
                XCTAssertEqual(try QIR.parse(QIR.print(g), file: "dump.qir"), g, "seed \(seed)")
                parsed += 1
            } catch let list as DiagnosticList {
                XCTAssertFalse(list.diagnostics.isEmpty, "seed \(seed)")
                for d in list.diagnostics { XCTAssertNotNil(d.location, "seed \(seed): \(d)") }
                rejected += 1
            }
        }
        XCTAssertGreaterThan(rejected, 100)
        XCTAssertGreaterThan(parsed, 5)
    }
}

final class ScaleTests: XCTestCase {
    /// A long unrolled loop lowers in linear time (names and weights are looked up by hash);
    /// a slip to quadratic would make this test take minutes instead of seconds.
    func testLongLoopLowers() throws {
        let g = try QIR.parse("""
        input %x: f32[1,4]
        %y = relu(%x)
        for i in 0..20000 {
          %y = dense(%y, @w{i % 100}, out=4)
        }
        """, file: "long.qir")
        XCTAssertEqual(g.nodes.count, 20001)
        XCTAssertEqual(g.weights.count, 100)
        XCTAssertEqual(g[g.outputs[0]].name, "y_20001")
    }
}
