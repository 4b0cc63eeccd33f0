import Foundation
import XCTest

/// `run --output NAME=FILE.npy` of values inside the network comes from the compiled plan (the
/// values become outputs of the plan), equal to the interpreter's.
final class IntermediateValuesTests: CommandLineTestCase {
    /// The float32 payload of a little-endian .npy file.
    func floats(_ path: String) throws -> [Float] {
        let d = try Data(contentsOf: URL(fileURLWithPath: path))
        let headerLength = Int(d[8]) | Int(d[9]) << 8
        let body = d.dropFirst(10 + headerLength)
        return body.withUnsafeBytes { raw in (0..<(body.count / 4)).map { Float(bitPattern: raw.loadUnaligned(fromByteOffset: 4 * $0, as: UInt32.self)) } }
    }

    func testCompiledIntermediatesEqualTheInterpreters() throws {
        let names = ["layer1.0.cbam.sigmoid_2", "layer3.0.cbam.sigmoid", "layer2.0.bn1", "angles", "expvals"]
        var files: [String: [String: [Float]]] = [:]
        for backend in ["jit", "interpret"] {
            var args = ["run", "examples/qemlnet-tiny.qir", "--weights", "examples/qemlnet-tiny.safetensors",
                        "--input", "examples/signals/cage.wav", "--backend", backend, "--top", "1"]
            for n in names { args += ["--output", "\(n)=\(path("\(backend)-\(n).npy"))"] }
            let r = try exec("qemlc", args)
            XCTAssertEqual(r.status, 0, r.stderr)
            XCTAssertFalse(r.stderr.contains("running on the interpreter"), "\(backend): \(r.stderr)")
            files[backend] = try Dictionary(uniqueKeysWithValues: names.map { ($0, try floats(path("\(backend)-\($0).npy"))) })
        }
        for n in names {
            let jit = try XCTUnwrap(files["jit"]?[n]), reference = try XCTUnwrap(files["interpret"]?[n])
            XCTAssertEqual(jit.count, reference.count, n)
            XCTAssertFalse(jit.isEmpty, n)
            let scale = reference.map(abs).max() ?? 0
            for (a, b) in zip(jit, reference) {
                XCTAssertTrue(abs(a - b) <= 1e-5 * max(scale, 1e-6), "\(n): \(a) vs \(b)")  // NaN fails
            }
        }
    }

    func testAnUnknownValueIsNamed() throws {
        let r = try qemlc("run", "examples/qemlnet-tiny.qir", "--weights", "examples/qemlnet-tiny.safetensors",
                          "--input", "examples/signals/cage.wav", "--output", "nothing=\(path("x.npy"))")
        XCTAssertEqual(r.status, 1)
        XCTAssertTrue(r.stderr.contains("--output nothing: the model has no value named %nothing"), r.stderr)
    }
}
