import Foundation
import XCTest
import QEMLIR
@testable import QEMLQuantum

/// The benchmark entry point's contract (not its speed): it reads a case file, picks the plan and
/// checks the timed path against the reference simulator.
final class QuantumBenchmarkTests: XCTestCase {
    func testRunsACaseFile() throws {
        let json = """
        {"qubits": 2, "input_width": 2, "batch": 3, "inputs": [0.1, 0.2, 0.3, 0.4, 0.5, 0.6],
         "gates": [["ry", [0], [["i", 0]]], ["rx", [1], [["i", 1]]], ["rot", [0], [["w", 1, [0]], ["w", 1, [1]], ["c", 0.5]]],
                   ["cnot", [0, 1], []]],
         "measurements": [["expval", "z", 0], ["expval", "y", 1], ["probs", [1, 0]]],
         "weights": [{"shape": [2], "data": [0.7, -1.2]}]}
        """
        let path = FileManager.default.temporaryDirectory.appendingPathComponent("qemlc-quantum-case-\(getpid()).json").path
        try json.write(toFile: path, atomically: true, encoding: .utf8)
        defer { try? FileManager.default.removeItem(atPath: path) }
        let report = try QuantumBenchmark.run(caseFile: path, minSeconds: 0)
        XCTAssertEqual(report.plan, "folded-observables")
        XCTAssertEqual(report.qubits, 2)
        XCTAssertEqual(report.gates, 4)
        XCTAssertEqual(report.batch, 3)
        XCTAssertLessThan(report.maxDeviationFromReference, 1e-12)
        XCTAssertGreaterThan(report.samplesPerSecond, 0)
        XCTAssertTrue(report.json.contains("\"plan\":\"folded-observables\""), report.json)
    }

    func testBadCaseFilesAreErrors() {
        XCTAssertThrowsError(try QuantumBenchmark.run(caseFile: "/nonexistent/case.json", minSeconds: 0)) { e in
            XCTAssertTrue("\(e)".hasPrefix("circuit error: cannot read benchmark case /nonexistent/case.json"), "\(e)")
        }
        XCTAssertThrowsError(try CircuitJSON.circuit(["qubits": 1, "input_width": 0, "gates": [["foo", [0], []]], "measurements": []])) { e in
            XCTAssertTrue("\(e)".hasPrefix("circuit error: gate 0 has unknown kind \"foo\"\n  fix: use one of rx, ry, rz"), "\(e)")
        }
    }
}

final class QuantumBenchmarkJSONTests: XCTestCase {
    /// A broken kernel's NaN deviation must still print valid JSON (null), not an empty line.
    func testNonFiniteNumbersAreNull() throws {
        let r = QuantumBenchmark.Report(plan: "p", reason: "r", qubits: 2, gates: 3, batch: 4, compileSeconds: 0.5,
                                        secondsPerCall: .infinity, samplesPerSecond: 8, maxDeviationFromReference: .nan)
        let object = try XCTUnwrap(try JSONSerialization.jsonObject(with: Data(r.json.utf8)) as? [String: Any])
        XCTAssertTrue(object["max_dev_vs_reference"] is NSNull)
        XCTAssertTrue(object["seconds_per_call"] is NSNull)
        XCTAssertEqual(object["samples_per_s"] as? Double, 8)
    }
}
