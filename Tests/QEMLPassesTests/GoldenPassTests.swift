import Foundation
import XCTest
import QEMLCodegen
import QEMLIR
import QEMLRuntime
import QEMLTensor
@testable import QEMLPasses

/// Golden pass tests: each `ir/passes/<pass>/<case>.qir` is parsed, run through that one pass,
/// printed, and compared with `<case>.expected.qir` beside it. The expected dump must parse back to the same graph.
/// `ir/passes/plan/<case>.qir` goes through every pass and the lowering to the kernel plan for
/// x86-64-avx2; `<case>.expected.plan` is the plan's text (`qemlc dump --after plan`).
/// Re-record with `QEMLC_RECORD=1 swift test --filter GoldenPassTests`.
final class GoldenPassTests: XCTestCase {
    static let root = URL(fileURLWithPath: #filePath).deletingLastPathComponent()
        .deletingLastPathComponent().deletingLastPathComponent().appendingPathComponent("ir/passes")


    func testEveryGoldenCase() throws {
        let record = ProcessInfo.processInfo.environment["QEMLC_RECORD"] == "1"
        let fm = FileManager.default
        let folders = try fm.contentsOfDirectory(atPath: Self.root.path).sorted()
        var cases = 0
        for folder in folders {
            var isFolder: ObjCBool = false
            guard fm.fileExists(atPath: Self.root.appendingPathComponent(folder).path, isDirectory: &isFolder), isFolder.boolValue else { continue }
            if folder == "plan" { cases += try checkPlans(record: record); continue }
            guard let entry = Pipeline.entries.first(where: { $0.name == folder }) else {
                XCTFail("ir/passes/\(folder) does not name a pass; the passes are: \(PassManager().passNames.joined(separator: ", "))")
                continue
            }
            guard let pass = entry.pass else { continue }
            let dir = Self.root.appendingPathComponent(folder)
            for file in try fm.contentsOfDirectory(atPath: dir.path).sorted()
            where file.hasSuffix(".qir") && !file.hasSuffix(".expected.qir") {
                cases += 1
                let input = dir.appendingPathComponent(file)
                let expectedURL = dir.appendingPathComponent(String(file.dropLast(4)) + ".expected.qir")
                let graph = try QIR.parse(try String(contentsOf: input, encoding: .utf8), file: "ir/passes/\(folder)/\(file)")
                // `<case>.safetensors` beside the input: the weights the pass sees (a quantized file for `quantize`).
                let weightsURL = dir.appendingPathComponent(String(file.dropLast(4)) + ".safetensors")
                let weights = fm.fileExists(atPath: weightsURL.path) ? try Safetensors.read(path: weightsURL.path) : [:]
                let ctx = PassContext(vectorWidth: 8, weights: weights)
                let out = try pass.run(graph, ctx)
                XCTAssertEqual(GraphChecks.problems(in: out), [], "\(folder)/\(file)")
                guard let expected = try golden(QIR.print(out), expectedURL, record: record, what: "\(folder)/\(file): the dump") else { continue }
                // The dump is valid .qir that means the same graph.
                let reparsed = try QIR.parse(expected, file: expectedURL.lastPathComponent)
                XCTAssertEqual(QIR.print(reparsed), QIR.print(out), "\(folder)/\(file): the dump does not round-trip")
            }
        }
        XCTAssertGreaterThanOrEqual(cases, 8)
    }

    private func checkPlans(record: Bool) throws -> Int {
        let dir = Self.root.appendingPathComponent("plan")
        let target = try TargetDescription.named("x86-64-avx2")
        var cases = 0
        for file in try FileManager.default.contentsOfDirectory(atPath: dir.path).sorted() where file.hasSuffix(".qir") {
            cases += 1
            let graph = try QIR.parse(try String(contentsOf: dir.appendingPathComponent(file), encoding: .utf8), file: "ir/passes/plan/\(file)")
            let passes = try PassManager().run(graph, context: PassContext(vectorWidth: target.vectorWidth, l1Bytes: target.l1Bytes))
            var zeros: [String: Tensor] = [:]
            for v in graph.weights {
                if let name = graph[v].weightName, let shape = graph.type(of: v).fixedShape { zeros[name] = Tensor(zeros: shape) }
            }
            let text = try KernelPlan(graph: passes.graph, weights: zeros, target: target).text
            let expectedURL = dir.appendingPathComponent(String(file.dropLast(4)) + ".expected.plan")
            _ = try golden(text, expectedURL, record: record, what: "plan/\(file): the plan")
        }
        return cases
    }

    /// Records `text` as the expected file, or compares it with the one recorded; returns the
    /// expected text when there is one to compare (nil when recording or missing).
    private func golden(_ text: String, _ expectedURL: URL, record: Bool, what: String) throws -> String? {
        if record {
            try text.write(to: expectedURL, atomically: true, encoding: .utf8)
            return nil
        }
        guard let expected = try? String(contentsOf: expectedURL, encoding: .utf8) else {
            XCTFail("missing \(expectedURL.path); record it with QEMLC_RECORD=1")
            return nil
        }
        XCTAssertEqual(text, expected, "\(what) differs from \(expectedURL.lastPathComponent)")
        return expected
    }
}
