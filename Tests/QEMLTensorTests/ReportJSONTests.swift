import Foundation
import XCTest
@testable import QEMLTensor

/// Reports go through one JSON encoder: numbers JSON cannot spell and absent values are null,
/// never a missing key or a bare NaN; and every user-facing error renders in one shape.
final class ReportJSONTests: XCTestCase {
    struct Sample: Encodable {
        @NullIfNotFinite var nan: Double?
        @NullIfNotFinite var infinite: Float?
        @NullIfNotFinite var absent: Double?
        @NullIfNotFinite var value: Double?
        @NullIfAbsent var name: String?
        var label: String
    }

    func testNonFiniteAndAbsentValuesAreNull() throws {
        let json = ReportJSON.encode(Sample(nan: .nan, infinite: -.infinity, absent: nil, value: 0.25, name: nil, label: "a/b \"c\""))
        XCTAssertEqual(json, #"{"absent":null,"infinite":null,"label":"a/b \"c\"","name":null,"nan":null,"value":0.25}"#)
        XCTAssertNotNil(try JSONSerialization.jsonObject(with: Data(json.utf8)))
    }

    func testEveryExplainedErrorRendersAlike() {
        let file = FileFormatError(path: "w.safetensors", place: "byte 8", message: "truncated", fix: "save it again")
        XCTAssertEqual(file.rendered, "error: w.safetensors: byte 8: truncated\n  fix: save it again")
        XCTAssertEqual(file.description, "w.safetensors: byte 8: truncated\n  fix: save it again")
        XCTAssertEqual(FileFormatError.missing("x.npy").rendered, "error: x.npy: no such file\n  fix: check the path")
        struct Plain: ExplainedError {
            var message = "bad", fix: String? = nil
            var category: String? { "circuit error" }
            var description: String { explanation }
        }
        XCTAssertEqual(Plain().rendered, "error: circuit error: bad")
    }
}
