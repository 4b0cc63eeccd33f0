import Foundation
import XCTest
import QEMLIR
@testable import QEMLPasses

final class FuseQuantumTests: XCTestCase {
    private func messages(_ source: String) throws -> [String] {
        let g = try QIR.parse(source, file: "test.qir")
        let r = try PassManager().run(g, until: "fuse-quantum")
        return r.reports.last?.lines ?? []
    }

    func testExampleCircuitFoldsIntoObservables() throws {
        let path = URL(fileURLWithPath: #filePath).deletingLastPathComponent()
            .appendingPathComponent("../../examples/qemlnet-circuit.qir").standardized.path
        let lines = try messages(String(contentsOfFile: path, encoding: .utf8))
        XCTAssertEqual(lines.count, 1)
        XCTAssertTrue(lines[0].hasPrefix("fuse-quantum: test.qir:"), lines[0])
        XCTAssertTrue(lines[0].contains(": folded-observables: 4 qubits, 46 gates: the input enters only through single-qubit gates"), lines[0])
    }

    func testReuploadingCircuitFallsBackToStateVector() throws {
        let lines = try messages("""
        model "reupload"
        input %x: f32[N,2]
        %e = circuit(%x, @w, wires=2) {
          ry(x[0], wires=0)
          cnot(wires=[0, 1])
          rx(x[1], wires=1)
          ry(w[0], wires=1)
          expval(Z, wires=[0,1])
        }
        output %e
        """)
        XCTAssertEqual(lines.count, 1)
        XCTAssertTrue(lines[0].contains("not foldable into observables (a gate reads the input after an entangling gate on wire 1)"), lines[0])
    }
}
