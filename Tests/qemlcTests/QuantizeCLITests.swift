import Foundation
import XCTest

/// `qemlc quantize` as a user meets it: the shipped tiny model calibrated on one synthesized set
/// and evaluated on another, the file every command reads, determinism, and every refusal.
final class QuantizeCLITests: CommandLineTestCase {
    static let model = "examples/qemlnet-tiny.qir", weights = "examples/qemlnet-tiny.safetensors"

    /// docs/QUANTIZATION.md's accuracy contract: int8 within 0.5 points of f32 and top-1 agreement
    /// ≥ 99 %, bf16 within 0.1 points, on 200 held-out recordings (calibrated on another seed;
    /// benchmarks/RESULTS.md has the figures on 800).
    func testTinyModelKeepsItsAccuracyInInt8AndBF16() throws {
        let cal = path("cal"), test = path("test")
        XCTAssertEqual(try qemlc("synth", "--dataset", cal, "--per-class", "8", "--seed", "31", "--rpm", "1450:1850").status, 0)
        XCTAssertEqual(try qemlc("synth", "--dataset", test, "--per-class", "25", "--seed", "2029", "--rpm", "1450:1850").status, 0)
        let int8 = path("int8.safetensors"), bf16 = path("bf16.safetensors")
        let q = try qemlc("quantize", Self.model, "--weights", Self.weights, "--calibrate", cal, "--precision", "int8", "-o", int8, "--report")
        XCTAssertEqual(q.status, 0, q.stderr)
        XCTAssertTrue(q.stdout.contains("int8, 17 of 19 conv2d/dense ops reduced, the MLP weights of 4 CBAM blocks"), q.stdout)
        XCTAssertTrue(q.stdout.contains("calibrated 13 activation ranges on 64 inputs"), q.stdout)
        XCTAssertTrue(q.stdout.contains("%relu     conv2d   its input %spectrogram can be negative"), q.stdout)
        let b = try qemlc("quantize", Self.model, "--weights", Self.weights, "--precision", "bf16", "-o", bf16)
        XCTAssertEqual(b.status, 0, b.stderr)
        XCTAssertTrue(b.stdout.contains("bf16, 19 of 19 conv2d/dense ops reduced, the MLP weights of 4 CBAM blocks"), b.stdout)

        func eval(_ w: String, _ name: String) throws -> (accuracy: Double, precision: String, predicted: [Substring]) {
            let r = try qemlc("eval", Self.model, test, "--weights", w, "--json", "--predictions", path("\(name).csv"))
            XCTAssertEqual(r.status, 0, r.stderr)
            let json = try XCTUnwrap(try JSONSerialization.jsonObject(with: Data(r.stdout.utf8)) as? [String: Any], r.stdout)
            let rows = try String(contentsOfFile: path("\(name).csv"), encoding: .utf8).split(separator: "\n").dropFirst()
            return (try XCTUnwrap(json["accuracy"] as? Double), try XCTUnwrap(json["precision"] as? String), rows.map { $0.split(separator: ",")[2] })
        }
        let f = try eval(Self.weights, "f32"), i = try eval(int8, "int8"), h = try eval(bf16, "bf16")
        XCTAssertEqual(f.precision, "f32")
        XCTAssertEqual(i.precision, "int8 (17 of 19 conv2d/dense ops, the rest f32; the MLP weights of 4 CBAM blocks)")
        XCTAssertEqual(h.precision, "bf16 (19 of 19 conv2d/dense ops; the MLP weights of 4 CBAM blocks)")
        XCTAssertEqual(f.predicted.count, 200)
        XCTAssertLessThanOrEqual(abs(i.accuracy - f.accuracy), 0.005, "int8 \(i.accuracy) vs f32 \(f.accuracy)")
        XCTAssertLessThanOrEqual(abs(h.accuracy - f.accuracy), 0.001, "bf16 \(h.accuracy) vs f32 \(f.accuracy)")
        let agree = zip(f.predicted, i.predicted).filter { $0 == $1 }.count
        XCTAssertGreaterThanOrEqual(Double(agree) / 200, 0.99, "int8 top-1 agreement with f32: \(agree) of 200")

        // The same file, every reader: run, bench --json, compile, dump.
        let run = try qemlc("run", Self.model, "--weights", int8, "--input", "examples/signals/inner_race.wav", "--json", "--top", "1")
        XCTAssertEqual(run.status, 0, run.stderr)
        let runJSON = try JSONSerialization.jsonObject(with: Data(run.stdout.utf8)) as? [String: Any]
        XCTAssertTrue((runJSON?["precision"] as? String)?.hasPrefix("int8 (17 of 19") == true, run.stdout)
        let top = ((runJSON?["samples"] as? [[String: Any]])?.first?["top"] as? [[String: Any]])?.first
        XCTAssertEqual(top?["label"] as? String, "inner_race", run.stdout)
        let bench = try qemlc("bench", Self.model, "--weights", bf16, "--json", "--iterations", "2", "--warmup", "0", "--clock-ghz", "1")
        XCTAssertEqual(bench.status, 0, bench.stderr)
        let benchJSON = try JSONSerialization.jsonObject(with: Data(bench.stdout.utf8)) as? [String: Any]
        XCTAssertEqual(benchJSON?["precision"] as? String, "bf16 (19 of 19 conv2d/dense ops; the MLP weights of 4 CBAM blocks)", bench.stdout)
        let compile = try qemlc("compile", Self.model, "--weights", int8)
        XCTAssertEqual(compile.status, 0, compile.stderr)
        XCTAssertTrue(compile.stdout.contains("quantize: 17 ops in int8"), compile.stdout)
        XCTAssertTrue(compile.stdout.contains("the MLP weights of 4 CBAM blocks in int8"), compile.stdout)
        // export: bf16 weights stay 16-bit in the bundle's weight image (int8 bundles: ExportTests+Int8).
        let e16 = try qemlc("export", Self.model, "--weights", bf16, "-o", path("e16"))
        XCTAssertEqual(e16.status, 0, e16.stderr)
        XCTAssertTrue(e16.stdout.contains("bf16 (19 of 19 conv2d/dense ops; the MLP weights of 4 CBAM blocks)"), e16.stdout)
        XCTAssertEqual(try qemlc("export", Self.model, "--weights", Self.weights, "-o", path("e32")).status, 0)
        let size = { (p: String) in (try FileManager.default.attributesOfItem(atPath: p)[.size] as? Int) ?? 0 }
        XCTAssertLessThan(try size(path("e16/qemlnet-tiny.weights")), try size(path("e32/qemlnet-tiny.weights")) * 2 / 3)
        let dump = try qemlc("dump", Self.model, "--after", "quantize", "--weights", int8)
        XCTAssertTrue(dump.stdout.contains("weight_scale=@layer1.0.conv1.weight.scale"), dump.stdout)
        XCTAssertTrue(dump.stdout.contains("precision=\"int8\", input_scale="), dump.stdout)
    }

    /// The same data twice gives the same bytes (the histogram methods; minmax is their first sweep).
    func testCalibrationIsDeterministic() throws {
        let cal = path("cal")
        XCTAssertEqual(try qemlc("synth", "--dataset", cal, "--per-class", "1", "--seed", "5").status, 0)
        for method in ["percentile", "entropy"] {
            var files: [Data] = []
            for k in 0..<2 {
                let out = path("\(method)\(k).safetensors")
                let r = try qemlc("quantize", Self.model, "--weights", Self.weights, "--calibrate", cal, "--precision", "int8", "--method", method, "-o", out)
                XCTAssertEqual(r.status, 0, r.stderr)
                files.append(try Data(contentsOf: URL(fileURLWithPath: out)))
            }
            XCTAssertEqual(files[0], files[1], method)
        }
    }

    func testRefusals() throws {
        let cal = path("cal")
        XCTAssertEqual(try qemlc("synth", "--dataset", cal, "--per-class", "1", "--seed", "5").status, 0)
        let out = path("q.safetensors")
        // int8 without calibration data.
        var r = try qemlc("quantize", Self.model, "--weights", Self.weights, "--precision", "int8", "-o", out)
        XCTAssertEqual(r.status, 1)
        XCTAssertTrue(r.stderr.contains("error: int8 needs calibration data for its activation ranges"), r.stderr)
        // An empty calibration folder.
        try FileManager.default.createDirectory(atPath: path("empty"), withIntermediateDirectories: true)
        r = try qemlc("quantize", Self.model, "--weights", Self.weights, "--precision", "int8", "--calibrate", path("empty"), "-o", out)
        XCTAssertEqual(r.status, 1)
        XCTAssertTrue(r.stderr.hasPrefix("error: "), r.stderr)
        // A model whose only conv reads a signed input has no int8 op.
        let m = try write("signed.qir", """
            input %x: f32[N,1,4,4]
            %y = conv2d(%x, @c.weight, out=2, kernel=3)
            output %y
            """)
        XCTAssertEqual(try qemlc("init-weights", m, "-o", path("signed.safetensors")).status, 0)
        r = try qemlc("quantize", m, "--weights", path("signed.safetensors"), "--precision", "int8", "--calibrate", cal, "-o", out)
        XCTAssertEqual(r.status, 1)
        XCTAssertTrue(r.stderr.contains("has no op that can run in int8 (%y: its input %x can be negative"), r.stderr)
        XCTAssertTrue(r.stderr.contains("try --precision bf16"), r.stderr)
        // NaN weights.
        let header = Array(#"{"c.weight":{"dtype":"F32","shape":[2,1,3,3],"data_offsets":[0,72]}}"#.utf8)
        var bytes = withUnsafeBytes(of: UInt64(header.count).littleEndian) { Array($0) } + header
        for _ in 0..<18 { bytes += withUnsafeBytes(of: Float.nan.bitPattern.littleEndian) { Array($0) } }
        try Data(bytes).write(to: URL(fileURLWithPath: path("nan.safetensors")))
        r = try qemlc("quantize", m, "--weights", path("nan.safetensors"), "--precision", "bf16", "-o", out)
        XCTAssertEqual(r.status, 1)
        XCTAssertTrue(r.stderr.contains("tensor 'c.weight' holds nan at element 0; quantized weights need finite numbers"), r.stderr)
        // A quantized file is not quantized again; nothing is overwritten without --force.
        XCTAssertEqual(try qemlc("quantize", Self.model, "--weights", Self.weights, "--precision", "bf16", "-o", out).status, 0)
        r = try qemlc("quantize", Self.model, "--weights", out, "--precision", "bf16", "-o", path("again.safetensors"))
        XCTAssertEqual(r.status, 1)
        XCTAssertTrue(r.stderr.contains("holds bf16 weights already; quantize starts from f32 weights"), r.stderr)
        r = try qemlc("quantize", Self.model, "--weights", Self.weights, "--precision", "bf16", "-o", out)
        XCTAssertEqual(r.status, 1)
        XCTAssertTrue(r.stderr.contains("exists; qemlc does not overwrite files unless asked"), r.stderr)
        // A quantized file for another model is refused by name.
        r = try qemlc("run", "examples/qemlnet-edge.qir", "--weights", out, "--input", "examples/signals/healthy.wav")
        XCTAssertEqual(r.status, 1)
        XCTAssertTrue(r.stderr.contains("missing weight"), r.stderr)
        // --precision f32 is a usage error.
        r = try qemlc("quantize", Self.model, "--weights", Self.weights, "--precision", "f32", "-o", path("f.safetensors"))
        XCTAssertEqual(r.status, 64)
    }
}
