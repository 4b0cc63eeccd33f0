import XCTest
import QEMLTensor
import TestSupport
@testable import QEMLCodegen

/// Winograd F(2×2, 3×3) for bf16 3×3 convolutions (`WinogradKernels.swift`): the three kernels
/// against PyTorch's convolution in f64, with odd sizes (partial edge tiles), a partial register
/// tile and both epilogues. Its error must stay near the direct `vdpbf16ps` kernel's on the same
/// data (the two round different numbers to bf16), and far below a wrong transform's.
final class WinogradTests: XCTestCase {
    var host: TargetDescription { get throws { try TargetDescription.named("host") } }

    func hostHasBF16() throws {
        let cpuinfo = (try? String(contentsOfFile: "/proc/cpuinfo", encoding: .utf8)) ?? ""
        guard cpuinfo.contains(" avx512_bf16") else { throw XCTSkip("this CPU has no AVX512_BF16: the Winograd kernels use vdpbf16ps (their IR is checked in testOnlyBF16ThreeByThreeLayersTakeIt)") }
    }

    func testWinogradAgreesWithTheConvolution() throws {
        try hostHasBF16()
        let t = try host, l = t.vectorWidth
        var rng = Reference.RNG(77)
        let cases: [(c: Int, k: Int, h: Int, w: Int, act: Activation, bn: Bool)] = [
            (16, 16, 14, 14, .relu, false), (32, 64, 15, 17, .none, true), (64, 48, 14, 16, .relu, true), (32, 32, 7, 7, .relu, true),
        ]
        for cs in cases {
            let spec = Conv2DSpec(inChannels: cs.c, height: cs.h, width: cs.w, outChannels: cs.k, kernel: [3, 3], padding: [1, 1],
                                  activation: cs.act, weights: .bf16)
            XCTAssertTrue(WinogradSpec.applies(to: spec, target: t), "\(spec)")
            let n = 2
            let bn = cs.bn ? ConvWeights.BatchNorm(gamma: rng.floats(cs.k, 0.5, 1.5), beta: rng.floats(cs.k), mean: rng.floats(cs.k),
                                                   variance: rng.floats(cs.k, 0.5, 2)) : nil
            let weights = ConvWeights(weight: Tensor(shape: [cs.k, cs.c, 3, 3], data: rng.floats(cs.k * cs.c * 9, -0.2, 0.2)),
                                      bias: rng.floats(cs.k), batchNorm: bn)
            let x = rng.floats(n * cs.c * cs.h * cs.w)
            let want = Reference.conv2d(spec, n: n, input: x, weights: weights, residual: nil).out
            let xb = Reference.blocked(x, n: n, c: cs.c, h: cs.h, w: cs.w, lanes: l)

            let ks = try KernelDefinition.winograd(spec, weights: weights, target: t, name: "w")
            let m = try KernelCompiler(target: t, cache: nil).compile(ks)
            let v = KernelHarness.run(m.kernels[0], batch: n, inputs: [xb])[0]
            let mm = KernelHarness.run(m.kernels[1], batch: n, inputs: [v])[0]
            let y = KernelHarness.run(m.kernels[2], batch: n, inputs: [mm])[0]
            let (got, pad) = Reference.unblocked(y, n: n, c: cs.k, h: cs.h, w: cs.w, lanes: l)
            XCTAssertEqual(pad, 0)
            XCTAssertFalse(got.contains { $0.isNaN }, "every output written")

            let direct = try KernelCompiler(target: t, cache: nil).compile([try KernelDefinition.conv2d(spec, weights: weights, target: t, name: "d")])
            let (directOut, _) = Reference.unblocked(KernelHarness.run(direct.kernels[0], batch: n, inputs: [xb])[0], n: n, c: cs.k, h: cs.h, w: cs.w, lanes: l)
            let scale = want.map(abs).max()!
            let errW = Agreement.absolute(got, want) / scale, errD = Agreement.absolute(directOut, want) / scale
            XCTAssertLessThan(errW, 0.01, "\(spec): winograd \(errW), direct bf16 \(errD) (relative to max |y|)")
            XCTAssertLessThan(errW, 4 * errD + 1e-4, "\(spec): winograd \(errW) against direct bf16 \(errD)")
        }
    }

    /// A wrong tap (one element of G) fails the comparison above: the test can fail.
    func testAPlantedTransformErrorIsCaught() throws {
        try hostHasBF16()
        let t = try host, l = t.vectorWidth
        var rng = Reference.RNG(5)
        let spec = Conv2DSpec(inChannels: 16, height: 14, width: 14, outChannels: 16, kernel: [3, 3], padding: [1, 1], weights: .bf16)
        let weights = ConvWeights(weight: Tensor(shape: [16, 16, 3, 3], data: rng.floats(16 * 16 * 9, -0.2, 0.2)), bias: nil, batchNorm: nil)
        var ks = try KernelDefinition.winograd(spec, weights: weights, target: t, name: "w")
        // U for ξ = 5 (the centre) scaled by 1.01 in bf16: the result must move measurably.
        let perXi = ks[1].params.count / 16
        for i in (5 * perXi)..<(6 * perXi) {
            let bits = ks[1].params[i].bitPattern
            let lo = Float(bitPattern: (bits & 0xFFFF) << 16) * 1.25, hi = Float(bitPattern: bits & 0xFFFF_0000) * 1.25
            ks[1].params[i] = Float(bitPattern: (lo.bitPattern >> 16) | (hi.bitPattern & 0xFFFF_0000))
        }
        let x = rng.floats(16 * 14 * 14)
        let want = Reference.conv2d(spec, n: 1, input: x, weights: weights, residual: nil).out
        let m = try KernelCompiler(target: t, cache: nil).compile(ks)
        let y = KernelHarness.run(m.kernels[2], batch: 1, inputs: [KernelHarness.run(m.kernels[1], batch: 1, inputs: [
            KernelHarness.run(m.kernels[0], batch: 1, inputs: [Reference.blocked(x, n: 1, c: 16, h: 14, w: 14, lanes: l)])[0]])[0]])[0]
        let got = Reference.unblocked(y, n: 1, c: 16, h: 14, w: 14, lanes: l).values
        XCTAssertGreaterThan(Agreement.absolute(got, want) / want.map(abs).max()!, 0.01)
    }

    /// Which convolutions take it: bf16, 3×3 stride 1 "same", whole channel blocks, ≥ 7×7, a
    /// target with vdpbf16ps — whatever machine compiles. Its IR uses vdpbf16ps.
    func testOnlyBF16ThreeByThreeLayersTakeIt() throws {
        var bf16 = try TargetDescription.named("x86-64-avx512")
        bf16.features += ",+avx512bf16"
        let base = Conv2DSpec(inChannels: 64, height: 14, width: 14, outChannels: 64, kernel: [3, 3], padding: [1, 1], weights: .bf16)
        XCTAssertTrue(WinogradSpec.applies(to: base, target: bf16))
        var f32 = base; f32.weights = .f32
        var small = base; small.height = 6; small.width = 6
        var strided = base; strided.stride = [2, 2]
        var odd = base; odd.inChannels = 24
        var residual = base; residual.residual = true
        for s in [f32, small, strided, odd, residual] { XCTAssertFalse(WinogradSpec.applies(to: s, target: bf16), "\(s)") }
        XCTAssertFalse(WinogradSpec.applies(to: base, target: try TargetDescription.named("x86-64-avx512")))
        let ks = try KernelDefinition.winograd(base, weights: nil, target: bf16, name: "w")
        let ir = try KernelCompiler(target: bf16, cache: nil).llvmIR(ks)
        XCTAssertTrue(ir.contains("llvm.x86.avx512bf16.dpbf16ps.512"))
    }
}
