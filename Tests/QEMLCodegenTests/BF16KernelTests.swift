import XCTest
import QEMLPasses
import QEMLTensor
@testable import QEMLCodegen

/// bf16 weights (docs/QUANTIZATION.md), packed as 16-bit (half the bytes). Widened in registers
/// (AVX-512 without bf16, AVX2), the conv and dense kernels compute exactly what the f32 kernels
/// compute on the weights rounded to bf16, bit for bit. With `vdpbf16ps` (the host, when it has
/// avx512bf16) the conv equals the f32 kernel on rounded weights and rounded activations up to
/// the order of summation.
final class BF16KernelTests: XCTestCase {
    static let targets = ["x86-64-avx512", "x86-64-avx2", "host"]

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
                XCTAssertEqual(ConvPlan(bf, target: target).bf16Dot, WeightFormat.hasBF16Dot(target))
                let biasFloats = (s.outChannels + target.vectorWidth - 1) / target.vectorWidth * target.vectorWidth
                XCTAssertLessThanOrEqual(half.params.count, (full.params.count - biasFloats) / 2 + 16 + biasFloats, "\(s): bf16 weights take half the floats")
                defs += [half, full]
                let c = target.vectorWidth
                var x = rng.floats(2 * s.inChannels * s.height * s.width)
                // vdpbf16ps rounds the activations to bf16: give both kernels rounded ones.
                if WeightFormat.hasBF16Dot(target) { x = x.map(QuantizationMath.roundToBF16) }
                var bufs = [Reference.blocked(x, n: 2, c: s.inChannels, h: s.height, w: s.width, lanes: c)]
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
                    if WeightFormat.hasBF16Dot(target) {
                        XCTAssertLessThanOrEqual(Reference.mismatch(g, w), 1e-5, "\(s) on \(name) (vdpbf16ps)")
                    } else {
                        XCTAssertEqual(g, w, "\(s) on \(name)")
                    }
                }
            }
        }
    }

    /// The host takes the `vdpbf16ps` path when its CPU has AVX512_BF16 (this machine's does).
    func testHostTargetChoosesTheDotProductWhenTheCPUHasIt() throws {
        let cpuinfo = (try? String(contentsOfFile: "/proc/cpuinfo", encoding: .utf8)) ?? ""
        guard cpuinfo.contains(" avx512_bf16") else { throw XCTSkip("this CPU has no AVX512_BF16") }
        XCTAssertTrue(WeightFormat.hasBF16Dot(try TargetDescription.named("host")))
        XCTAssertFalse(WeightFormat.hasBF16Dot(try TargetDescription.named("x86-64-avx512")))
        let spec = Conv2DSpec(inChannels: 16, height: 4, width: 4, outChannels: 16, kernel: [1, 1], weights: .bf16)
        let d = try KernelDefinition.conv2d(spec, weights: ConvWeights(weight: Tensor(zeros: [16, 16, 1, 1])), target: try TargetDescription.named("host"), name: "k")
        let ir = try KernelCompiler(target: try TargetDescription.named("host"), cache: nil).llvmIR([d])
        XCTAssertTrue(ir.contains("llvm.x86.avx512bf16.dpbf16ps.512"))
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
