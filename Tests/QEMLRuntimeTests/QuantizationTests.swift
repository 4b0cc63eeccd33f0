import Foundation
import TestSupport
import XCTest
import QEMLCodegen
import QEMLIR
import QEMLPasses
import QEMLTensor
@testable import QEMLRuntime

/// docs/QUANTIZATION.md's arithmetic: the rounding rules, the integer reference against an
/// independent f32 computation, the calibration methods, and the quantized tiny model on the
/// interpreter against the compiled plan.
final class QuantizationTests: XCTestCase {
    func testRoundingRules() {
        // bf16: nearest, ties to even (1 + 2⁻⁸ is halfway between 1 and 1 + 2⁻⁷).
        XCTAssertEqual(QuantizationMath.roundToBF16(1 + 0x1p-8), 1)
        XCTAssertEqual(QuantizationMath.roundToBF16(1 + 3 * 0x1p-8), 1 + 2 * 0x1p-7)
        XCTAssertEqual(QuantizationMath.roundToBF16(1 + 0x1p-8 + 0x1p-20), 1 + 0x1p-7)
        XCTAssertEqual(QuantizationMath.bf16Bits(-2), 0xC000)
        XCTAssertEqual(QuantizationMath.roundToBF16(.infinity), .infinity)
        // Activations: 7-bit codes, half to even, clamped; NaN and negatives are 0.
        XCTAssertEqual([0.5, 1.5, 2.5, -3, 200, .nan].map { QuantizationMath.quantize($0, inverseScale: 1) }, [0, 2, 2, 0, 127, 0])
        // Weights: per output channel, the largest magnitude maps to ±127; an all-zero channel has scale 1.
        let (q, s) = QuantizationMath.quantizeWeights([0.5, -1, 0.25, 0, 0, 0], outChannels: 2)
        XCTAssertEqual(s, [1 / 127, 1])
        XCTAssertEqual(q, [64, -127, 32, 0, 0, 0])  // 63.5 → 64 (half to even), 31.75 → 32
    }

    /// The int32 accumulation and f32 epilogue equal the f32 convolution of the dequantized
    /// numbers (exact products, one rounding per sum in the reference) to within f32 rounding.
    func testInt8ConvolutionMatchesTheDequantizedFloatConvolution() throws {
        var rng = SplitMix64(seed: 3)
        for (c, h, w, o, k, s, p) in [(3, 7, 6, 5, 3, 1, 1), (16, 5, 5, 8, 1, 1, 0), (4, 9, 8, 3, 3, 2, 1), (2, 4, 4, 1, 5, 1, 2)] {
            let geo = Int8Reference.ConvGeometry(inChannels: c, height: h, width: w, outChannels: o, kernel: [k, k], stride: [s, s], padding: [p, p])
            let x = (0..<2 * c * h * w).map { _ in Float(rng.next() % 40) / 10 }  // 0…3.9
            let wf = (0..<o * c * k * k).map { _ in Float(Int(rng.next() % 201) - 100) / 50 }
            let (wq, ws) = QuantizationMath.quantizeWeights(wf, outChannels: o)
            let bias = (0..<o).map { Float($0) / 4 - 0.5 }
            let params = Int8Params(inputScale: 4.0 / 127, outputScale: nil, weights: wq, weightScales: ws, bias: bias)
            let xq = Int8Reference.quantize(x, inverseScale: params.inverseInputScale)
            let acc = Int8Reference.conv2dAccumulators(xq, batch: 2, geo, weights: wq)
            let y = Int8Reference.epilogue(acc, params: params, plane: geo.outHeight * geo.outWidth, relu: true)
            // Independent: the interpreter's f32 conv on dequantized input and weights.
            var node = Node(op: "conv2d", operands: [])
            node.attributes = Attributes([("out", .int(o)), ("kernel", .ints([k, k])), ("stride", .ints([s, s])),
                                          ("padding", .ints([p, p])), ("activation", .string("relu"))])
            let wd = wq.enumerated().map { Float($0.element) * ws[$0.offset / (c * k * k)] }
            let want = try Interpreter.conv2d(node, [Tensor(shape: [2, c, h, w], data: xq.map { Float($0) * params.inputScale }),
                                                     Tensor(shape: [o, c, k, k], data: wd), Tensor(shape: [o], data: bias)])[0]
            XCTAssertLessThanOrEqual(Agreement.relativeToPeak(y, want.data, minimumScale: 1e-3), 1e-5, "\(geo)")
            // The node form (weights as integers, scales as attributes and operand) computes the same.
            var q8 = node
            q8.attributes = Attributes(node.attributes.entries.map { ($0.name, $0.value) } + [("precision", .string("int8")), ("input_scale", .float(Double(params.inputScale)))])
            let got = try Interpreter.conv2d(q8, [Tensor(shape: [2, c, h, w], data: x), Tensor(shape: [o, c, k, k], data: wq.map(Float.init)),
                                                  Tensor(shape: [o], data: bias), nil, nil, nil, nil, nil, Tensor(shape: [o], data: ws)])[0]
            XCTAssertEqual(got.data, y, "\(geo)")
        }
    }

    func testRequantizedOutputsAreTheCodesTimesTheScale() {
        let p = Int8Params(inputScale: 0.1, outputScale: 0.05, weights: [1], weightScales: [1], bias: [0])
        let stored = Int8Reference.stored([0.0, 0.024, 0.026, 3.0, 7.0, -1], params: p)
        XCTAssertEqual(stored, [0, 0, 0.05, 60 * Float(0.05), 127 * Float(0.05), 0])
        // A consumer with the same scale recovers the codes exactly.
        XCTAssertEqual(Int8Reference.quantize(stored, inverseScale: 1 / Float(0.05)), [0, 0, 1, 60, 127, 0])
    }

    func testCalibrationMethods() {
        // 10,000 values spread over 0…1 and one outlier at 100.
        var values = (0..<10_000).map { Float($0) / 10_000 }
        values.append(100)
        var r = RangeCollector()
        values.withUnsafeBufferPointer { r.observeMaximum($0) }
        values.withUnsafeBufferPointer { r.observeHistogram($0) }
        XCTAssertEqual(r.range(.minmax), 100)
        let p = r.range(.percentile, percentile: 99.9)
        XCTAssertTrue(p >= 1 && p <= 1 + 2 * 100.0 / 2048, "the outlier is cut: \(p)")
        let entropy = r.range(.entropy)
        XCTAssertGreaterThanOrEqual(entropy, 0.9)
        XCTAssertLessThan(entropy, 100, "entropy clips the lone outlier")
        XCTAssertEqual(RangeCollector().range(.entropy), 0)
        // A ReLU's output: half zeros. Code 0 holds them exactly, so they do not pull the range down.
        var relu = RangeCollector()
        let half = [Float](repeating: 0, count: 10_000) + (0..<10_000).map { Float($0) / 10_000 }
        half.withUnsafeBufferPointer { relu.observeMaximum($0) }
        half.withUnsafeBufferPointer { relu.observeHistogram($0) }
        XCTAssertGreaterThan(relu.range(.entropy), 0.8)
        XCTAssertGreaterThan(relu.range(.percentile, percentile: 99.99), 0.99)
    }

    /// The shipped tiny model with its int8 file (ir/passes/quantize): the interpreter and the
    /// compiled plan run the same quantized graph (int8 ops on the integer reference in both,
    /// until generated int8 kernels exist; the f32 ops differ in rounding only).
    func testQuantizedTinyModelInterpreterAgreesWithTheCompiledPlan() throws {
        let graph = try QIR.load(path: examplePath("qemlnet-tiny.qir"))
        let all = try Safetensors.read(path: examplePath("../ir/passes/quantize/tiny-int8.safetensors"))
        let interpreter = try Interpreter.forModel(graph, weights: all)
        XCTAssertEqual(Precision.summary(interpreter.graph), "int8 (17 of 19 conv2d/dense ops, the rest f32; the MLP weights of 4 CBAM blocks)")
        let compiled = try CompiledModel.compile(graph, weights: all, options: CompileOptions(threads: 1, cache: nil))
        XCTAssertEqual(compiled.passes.int8.count, 17)
        XCTAssertEqual(compiled.passes.int8["layer1.0.relu1"]?.weights.count, 4 * 8)
        let x = executorTestInput([3, 2, 32, 32])
        let want = try interpreter.evaluate(["probs"], inputs: ["spectrogram": x])["probs"]!
        let got = try compiled.run(inputs: ["spectrogram": x])["probs"]!
        XCTAssertLessThanOrEqual(Agreement.absolute(got.data, want.data), 2e-3)
    }

    /// CBAM's int8 MLP weights are codes: a file that leaves out one scale, or holds a code that is
    /// no integer in −127…127, is refused (never run as if the codes were weights).
    func testInt8CBAMWeightsAreCheckedBeforeTheyRun() throws {
        let graph = try QIR.load(path: examplePath("qemlnet-tiny.qir"))
        let all = try Safetensors.read(path: examplePath("../ir/passes/quantize/tiny-int8.safetensors"))
        let w = "layer2.0.cbam.ca.fc1.weight"
        XCTAssertNotNil(all[w + ".scale"])
        var noScale = all
        noScale[w + ".scale"] = nil
        XCTAssertThrowsError(try Interpreter.forModel(graph, weights: noScale)) { e in
            XCTAssertTrue("\(e)".contains("one MLP weight has int8 scales"), "\(e)")
        }
        var notACode = all
        notACode[w]!.data[3] = 0.25
        XCTAssertThrowsError(try CompiledModel.compile(graph, weights: notACode, options: CompileOptions(threads: 1, cache: nil))) { e in
            XCTAssertTrue("\(e)".contains("int8 weights are integers in −127…127"), "\(e)")
        }
        // The interpreter applies the row scales: without them the block would see the raw codes.
        let interpreter = try Interpreter.forModel(graph, weights: all)
        let cbam = try XCTUnwrap(interpreter.graph.nodes.first { $0.op == "fused_cbam" })
        XCTAssertEqual(cbam.attributes.string("precision"), "int8")
        XCTAssertNotNil(cbam.operand(10))
        XCTAssertNotNil(cbam.operand(11))
    }
}
