import Foundation
import XCTest

/// `run --output NAME=FILE.npy` of values inside the network comes from the compiled plan (the
/// values become outputs of the plan), equal to the interpreter's.
final class IntermediateValuesTests: CommandLineTestCase {
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

/// `qemlc explain`: CBAM attention from the compiled plan, equal to the interpreter's.
final class ExplainTests: CommandLineTestCase {
    func testExplainDrawsAttentionEqualToTheInterpreters() throws {
        for backend in ["jit", "interpret"] {
            let r = try qemlc("explain", "examples/qemlnet-tiny.qir", "examples/signals/inner_race.wav", "--weights", "examples/qemlnet-tiny.safetensors",
                              "-o", path("\(backend).png"), "--output", "layer1=\(path("\(backend)-layer1.npy"))", "--output", "layer2=\(path("\(backend)-layer2.npy"))",
                              "--backend", backend)
            XCTAssertEqual(r.status, 0, r.stderr)
            XCTAssertTrue(r.stdout.hasPrefix("inner_race "), r.stdout)
            XCTAssertTrue(r.stdout.contains("attention of layer1, layer2, layer3, layer4 (\(backend == "jit" ? "compiled plan" : "reference interpreter"))"), r.stdout)
            XCTAssertEqual(try Data(contentsOf: URL(fileURLWithPath: path("\(backend).png"))).prefix(4), Data([0x89, 0x50, 0x4E, 0x47]))
        }
        for stage in ["layer1", "layer2"] {
            let jit = try floats(path("jit-\(stage).npy")), reference = try floats(path("interpret-\(stage).npy"))
            XCTAssertEqual(jit.count, stage == "layer1" ? 64 : 16, stage)
            XCTAssertEqual(jit.count, reference.count)
            for (a, b) in zip(jit, reference) { XCTAssertTrue(abs(a - b) <= 1e-6 && (0...1).contains(a), "\(stage): \(a) vs \(b)") }
        }
        // An int8 file (CBAM MLP weights as codes): the unfused blocks run code · scale, on both backends.
        for backend in ["jit", "interpret"] {
            let r = try qemlc("explain", "examples/qemlnet-tiny.qir", "examples/signals/inner_race.wav", "--weights", "ir/passes/quantize/tiny-int8.safetensors",
                              "-o", path("int8-\(backend).png"), "--output", "layer1=\(path("int8-\(backend)-layer1.npy"))", "--backend", backend)
            XCTAssertEqual(r.status, 0, r.stderr)
            XCTAssertTrue(r.stdout.hasPrefix("inner_race "), r.stdout)
        }
        // So does `run --output` of a value inside a CBAM block (its channel gate).
        for backend in ["jit", "interpret"] {
            let r = try qemlc("run", "examples/qemlnet-tiny.qir", "--weights", "ir/passes/quantize/tiny-int8.safetensors", "--input", "examples/signals/inner_race.wav",
                              "--output", "layer1.0.cbam.sigmoid=\(path("gate-\(backend).npy"))", "--backend", backend)
            XCTAssertEqual(r.status, 0, r.stderr)
        }
        let gate = try floats(path("gate-jit.npy")), gateReference = try floats(path("gate-interpret.npy"))
        XCTAssertEqual(gate.count, 16)
        for (a, b) in zip(gate, gateReference) { XCTAssertTrue(abs(a - b) <= 1e-5 && (0...1).contains(a), "int8 CBAM gate: \(a) vs \(b)") }
        let int8 = try floats(path("int8-jit-layer1.npy")), int8Reference = try floats(path("int8-interpret-layer1.npy"))
        let f32 = try floats(path("jit-layer1.npy"))
        XCTAssertEqual(int8.count, 64)
        for (a, b) in zip(int8, int8Reference) { XCTAssertTrue(abs(a - b) <= 1e-5, "int8 layer1: \(a) vs \(b)") }
        for (a, b) in zip(int8, f32) { XCTAssertTrue(abs(a - b) <= 0.05, "int8 vs f32 layer1 attention: \(a) vs \(b)") }
        let one = try qemlc("explain", "examples/qemlnet-tiny.qir", "examples/signals/ball.wav", "--weights", "examples/qemlnet-tiny.safetensors",
                            "-o", path("one.png"), "--stage", "layer3")
        XCTAssertEqual(one.status, 0, one.stderr)
        XCTAssertTrue(one.stdout.contains("attention of layer3 (compiled plan)"), one.stdout)
        let bad = try qemlc("explain", "examples/qemlnet-tiny.qir", "examples/signals/ball.wav", "--weights", "examples/qemlnet-tiny.safetensors",
                            "-o", path("bad.png"), "--stage", "layer9")
        XCTAssertEqual(bad.status, 64)
        XCTAssertTrue(bad.stderr.contains("--stage layer9: the model's stages with attention are all, layer1, layer2, layer3, layer4"), bad.stderr)
    }
}
