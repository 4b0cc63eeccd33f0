import Foundation
import XCTest
@testable import QEMLIR

/// ir/LANGUAGE.md's op reference and frontend table are generated from the declarations; this
/// test fails when they drift. Update with `QEMLC_RECORD=1 swift test --filter LanguageReferenceTests`.
final class LanguageReferenceTests: XCTestCase {
    func section(_ name: String, in doc: String) -> (Range<String.Index>, String)? {
        guard let begin = doc.range(of: "<!-- BEGIN \(name) "), let beginEnd = doc.range(of: "-->\n", range: begin.upperBound..<doc.endIndex),
              let end = doc.range(of: "<!-- END \(name) -->", range: beginEnd.upperBound..<doc.endIndex) else { return nil }
        return (beginEnd.upperBound..<end.lowerBound, String(doc[beginEnd.upperBound..<end.lowerBound]))
    }

    func testGeneratedSectionsAreCurrent() throws {
        let path = Repo.path("ir/LANGUAGE.md")
        var doc = try String(contentsOfFile: path, encoding: .utf8)
        let generated = ["ops": LanguageReference.ops(OpRegistry.builtIn), "frontend": LanguageReference.frontendKeys()]
        let record = ProcessInfo.processInfo.environment["QEMLC_RECORD"] == "1"
        for name in ["ops", "frontend"] {
            guard let (range, current) = section(name, in: doc) else { XCTFail("LANGUAGE.md lacks the \(name) markers"); continue }
            if record { doc.replaceSubrange(range, with: generated[name]!) } else { XCTAssertEqual(current, generated[name]!, name) }
        }
        if record { try doc.write(toFile: path, atomically: true, encoding: .utf8) }
    }

    func testEveryOpIsDocumentedWithAShapeRule() throws {
        let doc = try String(contentsOfFile: Repo.path("ir/LANGUAGE.md"), encoding: .utf8)
        for d in OpRegistry.builtIn {
            XCTAssertTrue(doc.contains("### `\(d.name)`"), d.name)
            XCTAssertNotNil(LanguageReference.shapeRules[d.name], "\(d.name) needs a shape rule in LanguageReference.shapeRules")
            for a in d.attributes where a.kind != .circuit { XCTAssertTrue(doc.contains("`\(a.name)`"), "\(d.name).\(a.name)") }
        }
        for gate in GateKind.allCases { XCTAssertTrue(doc.contains(gate.rawValue), gate.rawValue) }
        for t in CircuitLowering.templates { XCTAssertTrue(doc.contains("`\(t)("), t) }
    }

    /// Every op's example line parses (with suitable inputs) — the summaries stay honest.
    func testOpExamplesParse() throws {
        let inputs: [String: String] = [
            "conv2d": "input %x: f32[1,1,64,64]", "dense": "input %x: f32[1,2048]", "add": "input %a: f32[1,4]\ninput %b: f32[1,4]",
            "mul": "input %a: f32[1,4]\ninput %b: f32[1,4]", "concat": "input %a: f32[1,4,2,2]\ninput %b: f32[1,4,2,2]",
        ]
        for d in BaseOps.all where d.name != "circuit" {
            let src = (inputs[d.name] ?? "input %x: f32[1,8,8,8]") + "\n" + d.example + "\n"
            XCTAssertNoThrow(try QIR.parse(src, file: "\(d.name).qir"), "\(d.name): \(d.example)")
        }
    }
}
