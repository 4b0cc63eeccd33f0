import Foundation
import XCTest
@testable import QEMLRuntime

/// `qemlc eval`'s measures against scikit-learn's (Fixtures/classification_metrics.json,
/// written by scripts/eval_reference.py).
final class ClassificationReportTests: XCTestCase {
    struct Case: Decodable {
        var name: String
        var classes: Int
        var probabilities: [[Float]]
        var truth: [Int]
        var accuracy: Double
        var macro_f1_present: Double
        var precision: [Double], recall: [Double], f1: [Double]
        var support: [Int]
        var auc: [Double?]
        var macro_auc: Double
        var confusion: [[Int]]
    }

    func testAgreesWithScikitLearn() throws {
        let url = URL(fileURLWithPath: #filePath).deletingLastPathComponent().appendingPathComponent("Fixtures/classification_metrics.json")
        struct File: Decodable { var cases: [Case] }
        let cases = try JSONDecoder().decode(File.self, from: Data(contentsOf: url)).cases
        XCTAssertEqual(cases.count, 3)
        for c in cases {
            let labels = (0..<c.classes).map { "c\($0)" }
            let r = ClassificationReport(labels: labels, probabilities: c.probabilities, truth: c.truth)
            XCTAssertEqual(r.count, c.truth.count, c.name)
            XCTAssertEqual(r.accuracy, c.accuracy, accuracy: 1e-12, c.name)
            // Classes absent from the truth are left out of qemlc's macro-F1 (scikit-learn's `labels=present`).
            XCTAssertEqual(r.macroF1, c.macro_f1_present, accuracy: 1e-12, c.name)
            XCTAssertEqual(r.confusion, c.confusion, c.name)
            XCTAssertEqual(try XCTUnwrap(r.auc, c.name), c.macro_auc, accuracy: 1e-12, c.name)
            for (k, label) in labels.enumerated() {
                let p = try XCTUnwrap(r.perClass[label])
                XCTAssertEqual(p.precision, c.precision[k], accuracy: 1e-12, "\(c.name) \(label)")
                XCTAssertEqual(p.recall, c.recall[k], accuracy: 1e-12, "\(c.name) \(label)")
                XCTAssertEqual(p.f1, c.f1[k], accuracy: 1e-12, "\(c.name) \(label)")
                XCTAssertEqual(p.support, c.support[k], "\(c.name) \(label)")
                if let expected = c.auc[k] {
                    XCTAssertEqual(try XCTUnwrap(p.auc, "\(c.name) \(label)"), expected, accuracy: 1e-12, "\(c.name) \(label)")
                } else {
                    XCTAssertNil(p.auc, "\(c.name) \(label): no positive sample, no AUC")
                }
            }
        }
    }

    func testArgmaxNeverPicksNaN() {
        XCTAssertEqual(ClassificationReport.argmax([.nan, 0.2, 0.7]), 2)
        XCTAssertEqual(ClassificationReport.argmax([0.5, 0.5, 0.1]), 0, "the first on ties")
    }

    func testJSONIsValidWithoutAnAUC() throws {
        // One class only: no negative sample, so no AUC — JSON null, never a bare nan.
        let r = ClassificationReport(labels: ["a", "b"], probabilities: [[0.9, 0.1], [0.8, 0.2]], truth: [0, 0])
        XCTAssertNil(r.auc)
        let s = EvalSummary(model: "m", data: "d", backend: "jit", precision: "f32", report: r,
                            timing: EvalTiming(recordings: 2, wall: 1, frontEnd: 0.5, batches: [0.1], batchSize: 2), skipped: [], breakdown: nil)
        let text = try s.json()
        let object = try XCTUnwrap(try JSONSerialization.jsonObject(with: Data(text.utf8)) as? [String: Any])
        XCTAssertTrue(object["auc"] is NSNull, text)
        XCTAssertEqual(object["accuracy"] as? Double, 1)
    }
}
