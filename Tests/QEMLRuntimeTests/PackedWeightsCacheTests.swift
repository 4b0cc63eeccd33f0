import TestSupport
import Foundation
import XCTest
import QEMLCodegen
import QEMLIR
import QEMLTensor
@testable import QEMLRuntime

/// The packed-weights cache: a second compile maps what the first packed and computes the same
/// outputs bit for bit; a damaged or truncated entry is rebuilt (never trusted, never a crash);
/// other weights are another entry.
final class PackedWeightsCacheTests: XCTestCase {
    var folder: URL!

    override func setUpWithError() throws {
        folder = FileManager.default.temporaryDirectory.appendingPathComponent("qemlc-packed-cache-\(getpid())-\(UInt64.random(in: 0...UInt64.max))")
        try FileManager.default.createDirectory(at: folder, withIntermediateDirectories: true)
    }

    override func tearDownWithError() throws { try? FileManager.default.removeItem(at: folder) }

    func compile(_ g: Graph, _ w: [String: Tensor]) throws -> (CompiledModel, [Float]) {
        let m = try CompiledModel.compile(g, weights: w, options: CompileOptions(threads: 1, cache: ObjectCache(directory: folder)))
        let input = try XCTUnwrap(m.plan.inputs.first)
        let x = executorTestInput([1] + input.type.dims.dropFirst().compactMap(\.value))
        let out = try m.run(inputs: [input.name: x])
        return (m, try XCTUnwrap(out[try XCTUnwrap(m.plan.outputs.first).name]).data)
    }

    func entry() throws -> URL {
        let names = try FileManager.default.contentsOfDirectory(atPath: folder.path).filter { $0.hasSuffix(".pw.qc") }
        XCTAssertEqual(names.count, 1, "\(names)")
        return folder.appendingPathComponent(try XCTUnwrap(names.first))
    }

    func testSecondCompileMapsThePackedWeightsAndDamageIsRebuilt() throws {
        let g = try QIR.load(path: examplePath("qemlnet-tiny.qir"))
        let w = executorTestWeights(g)
        let (first, want) = try compile(g, w)
        XCTAssertEqual(first.packedWeightsOutcome, "miss")
        let (second, got) = try compile(g, w)
        XCTAssertEqual(second.packedWeightsOutcome, "hit")
        XCTAssertEqual(got.map(\.bitPattern), want.map(\.bitPattern))

        let url = try entry()
        let whole = try Data(contentsOf: url)
        let damages: [(String, (inout Data) -> Void, String)] = [
            ("a flipped byte in the weights", { $0[$0.count - 100] ^= 0x40 }, "checksum mismatch"),
            ("a truncated file", { $0 = $0.prefix($0.count / 2) }, "size"),
            ("a damaged magic", { $0[0] = 0 }, "bad magic"),
            ("an empty file", { $0 = Data() }, "bad magic"),
        ]
        for (what, damage, reason) in damages {
            var bytes = whole
            damage(&bytes)
            try bytes.write(to: url)
            let (rebuilt, out) = try compile(g, w)
            XCTAssertTrue(rebuilt.packedWeightsOutcome.hasPrefix("rebuilt (") && rebuilt.packedWeightsOutcome.contains(reason),
                          "\(what): \(rebuilt.packedWeightsOutcome)")
            XCTAssertEqual(out.map(\.bitPattern), want.map(\.bitPattern), what)
            XCTAssertEqual(try Data(contentsOf: url), whole, "\(what): the entry was not rewritten whole")
        }

        // Other weight values are another entry, and give their own outputs.
        var other = w
        let name = try XCTUnwrap(w.keys.sorted().first { $0.hasSuffix("conv1.weight") })
        other[name] = Tensor(shape: w[name]!.shape, data: w[name]!.data.map { $0 * 0.5 })
        let (changed, changedOut) = try compile(g, other)
        XCTAssertEqual(changed.packedWeightsOutcome, "miss")
        XCTAssertNotEqual(changedOut.map(\.bitPattern), want.map(\.bitPattern))
        XCTAssertEqual(try FileManager.default.contentsOfDirectory(atPath: folder.path).filter { $0.hasSuffix(".pw.qc") }.count, 2)
    }
}
