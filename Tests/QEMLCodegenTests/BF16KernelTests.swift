import XCTest
import QEMLPasses
import QEMLTensor
@testable import QEMLCodegen

/// bf16 weights (docs/QUANTIZATION.md): packed as 16-bit (half the bytes) and widened in
/// registers, the conv and dense kernels compute exactly what the f32 kernels compute on the
/// weights rounded to bf16 — bit for bit, on AVX-512 and AVX2.
final class BF16KernelTests: XCTestCase {
    static let targets = ["x86-64-avx512", "x86-64-avx2"]

    func testConvWithBF16WeightsEqualsTheF32KernelOnRoundedWeights() throws {
        let specs = [
            Conv2DSpec(inChannels: 3, height: 9, width: 11, outChannels: 20, kernel: [3, 3], padding: [1, 1], activation: .relu),
            Conv2DSpec(inChannels: 24, height: 6, width: 6, outChannels: 16, kernel: [1, 1], residual: true, pool: true),
            Conv2DSpec(inChannels: 16, height: 4, width: 4, outChannels: 32, kernel: [3, 3], stride: [2, 2], padding: [1, 1]),
        ]
        for name in Self.targets {
            let target = try TargetDescription.named(name)
            guard target.runsOnHost else { continue }
            var rng = Reference.RNG(5)
            var defs: [KernelDefinition] = [], inputs: [[[Float]]] = []
            for (i, s) in specs.enumerated() {
                let shape = [s.outChannels, s.inChannels, s.kernel[0], s.kernel[1]]
                let w = rng.floats(shape.reduce(1, *)), bias = rng.floats(s.outChannels)
                var bf = s
                bf.weights = .bf16
                let half = try KernelDefinition.conv2d(bf, weights: ConvWeights(weight: Tensor(shape: shape, data: w), bias: bias), target: target, name: "bf\(i)")
                let full = try KernelDefinition.conv2d(s, weights: ConvWeights(weight: Tensor(shape: shape, data: w.map(QuantizationMath.roundToBF16)), bias: bias),
                                                       target: target, name: "f\(i)")
                let biasFloats = (s.outChannels + target.vectorWidth - 1) / target.vectorWidth * target.vectorWidth
                XCTAssertLessThanOrEqual(half.params.count, (full.params.count - biasFloats) / 2 + 16 + biasFloats, "\(s): bf16 weights take half the floats")
                defs += [half, full]
                let c = target.vectorWidth
                var bufs = [Reference.blocked(rng.floats(2 * s.inChannels * s.height * s.width), n: 2, c: s.inChannels, h: s.height, w: s.width, lanes: c)]
                if s.residual { bufs.append(Reference.blocked(rng.floats(2 * s.outChannels * s.outHeight * s.outWidth), n: 2, c: s.outChannels, h: s.outHeight, w: s.outWidth, lanes: c)) }
                inputs.append(bufs)
            }
            let module = try KernelCompiler(target: target, cache: nil).compile(defs)
            for (i, s) in specs.enumerated() {
                let got = KernelHarness.run(module.kernels[2 * i], batch: 2, inputs: inputs[i])
                let want = KernelHarness.run(module.kernels[2 * i + 1], batch: 2, inputs: inputs[i])
                XCTAssertEqual(got.count, want.count)
                for (g, w) in zip(got, want) {
                    XCTAssertFalse(g.contains { $0.isNaN }, "\(s) on \(name): unwritten output")
                    XCTAssertEqual(g, w, "\(s) on \(name)")
                }
            }
        }
    }

    func testDenseWithBF16WeightsEqualsTheF32KernelOnRoundedWeights() throws {
        for name in Self.targets {
            let target = try TargetDescription.named(name)
            guard target.runsOnHost else { continue }
            var rng = Reference.RNG(9)
            let (k, o) = (37, 21)
            let w = rng.floats(o * k), bias = rng.floats(o)
            let half = try KernelDefinition.dense(inFeatures: k, outFeatures: o, weight: Tensor(shape: [o, k], data: w), bias: bias,
                                                  activation: .tanh, weights: .bf16, target: target, name: "bf")
            let full = try KernelDefinition.dense(inFeatures: k, outFeatures: o, weight: Tensor(shape: [o, k], data: w.map(QuantizationMath.roundToBF16)),
                                                  bias: bias, activation: .tanh, target: target, name: "f")
            let module = try KernelCompiler(target: target, cache: nil).compile([half, full])
            let x = Reference.blocked(rng.floats(3 * k), n: 3, c: k, h: 1, w: 1, lanes: target.vectorWidth)
            XCTAssertEqual(KernelHarness.run(module.kernels[0], batch: 3, inputs: [x]), KernelHarness.run(module.kernels[1], batch: 3, inputs: [x]), name)
        }
    }
}
