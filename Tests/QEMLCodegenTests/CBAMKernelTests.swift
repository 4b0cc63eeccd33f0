import XCTest
import QEMLTensor
import Foundation
import QEMLPasses
@testable import QEMLCodegen

final class CBAMKernelTests: XCTestCase {
    /// CBAM written out plainly (as PyTorch's module computes it).
    func reference(_ s: CBAMSpec, _ w: CBAMWeights, n: Int, y: [Float], residual: [Float]?) -> [Float] {
        let c = s.channels, hw = s.height * s.width, k = s.kernel, pad = k / 2
        func sig(_ x: Double) -> Double { 1 / (1 + Foundation.exp(-x)) }
        var out = [Float](repeating: 0, count: y.count)
        for b in 0..<n {
            var avg = [Double](repeating: 0, count: c), mx = [Double](repeating: -.infinity, count: c)
            for ch in 0..<c { for p in 0..<hw { let v = Double(y[(b * c + ch) * hw + p]); avg[ch] += v / Double(hw); mx[ch] = max(mx[ch], v) } }
            func mlp(_ v: [Double]) -> [Double] {
                let h = (0..<s.hidden).map { j in max(0, (0..<c).reduce(Double(w.fc1Bias?[j] ?? 0)) { $0 + Double(w.fc1.data[j * c + $1]) * v[$1] }) }
                return (0..<c).map { ch in (0..<s.hidden).reduce(Double(w.fc2Bias?[ch] ?? 0)) { $0 + Double(w.fc2.data[ch * s.hidden + $1]) * h[$1] } }
            }
            let a = mlp(avg), m = mlp(mx)
            let gate = (0..<c).map { sig(a[$0] + m[$0]) }
            var y1 = [Double](repeating: 0, count: c * hw)
            for ch in 0..<c { for p in 0..<hw { y1[ch * hw + p] = Double(y[(b * c + ch) * hw + p]) * gate[ch] } }
            var maps = [Double](repeating: 0, count: 2 * hw)
            for p in 0..<hw {
                maps[p] = (0..<c).reduce(0) { $0 + y1[$1 * hw + p] } / Double(c)
                maps[hw + p] = (0..<c).map { y1[$0 * hw + p] }.max()!
            }
            for i in 0..<s.height { for j in 0..<s.width {
                var acc = Double(w.spatialBias ?? 0)
                for m in 0..<2 { for di in 0..<k { for dj in 0..<k {
                    let ii = i + di - pad, jj = j + dj - pad
                    guard ii >= 0, ii < s.height, jj >= 0, jj < s.width else { continue }
                    acc += Double(w.spatial.data[(m * k + di) * k + dj]) * maps[m * hw + ii * s.width + jj]
                } } }
                let sg = sig(acc)
                for ch in 0..<c {
                    let at = (b * c + ch) * hw + i * s.width + j
                    var v = y1[ch * hw + i * s.width + j] * sg
                    if let residual { v += Double(residual[at]) }
                    out[at] = Reference.activate(Float(v), s.activation)
                }
            } }
        }
        return out
    }

    /// The three compiled kernels of `ks` run in order on `y` (plain NCHW, `n` samples) and the
    /// result unblocked, with the pooled vectors the producing conv would give; and the padding's largest value.
    func run(_ ks: CBAMKernels, _ s: CBAMSpec, target t: TargetDescription, n: Int, y: [Float], residual: [Float]?) throws -> (out: [Float], pad: Float) {
        let c = s.channels, l = t.vectorWidth
        let m = try KernelCompiler(target: t, cache: nil).compile(ks.all)
        let yb = Reference.blocked(y, n: n, c: c, h: s.height, w: s.width, lanes: l)
        var avg = [Float](), mx = [Float]()
        for b in 0..<n { for ch in 0..<c {
            let plane = y[((b * c + ch) * s.height * s.width)..<((b * c + ch + 1) * s.height * s.width)]
            avg.append(plane.reduce(0, +) / Float(plane.count)); mx.append(plane.max()!)
        } }
        let gate = KernelHarness.run(m.kernels[0], batch: n, inputs: [Reference.blocked(avg, n: n, c: c, h: 1, w: 1, lanes: l),
                                                                     Reference.blocked(mx, n: n, c: c, h: 1, w: 1, lanes: l)])[0]
        let map = KernelHarness.run(m.kernels[1], batch: n, inputs: [yb, gate])[0]
        var inputs = [yb, gate, map]
        if let residual { inputs.append(Reference.blocked(residual, n: n, c: c, h: s.height, w: s.width, lanes: l)) }
        let out = KernelHarness.run(m.kernels[2], batch: n, inputs: inputs)[0]
        let (got, pad) = Reference.unblocked(out, n: n, c: c, h: s.height, w: s.width, lanes: l)
        return (got, pad)
    }

    func testCBAMAgainstReference() throws {
        var rng = Reference.RNG(21)
        for t in [TargetDescription.host, try .named("x86-64-avx2"), try .named("x86-64-v2")] {
            let l = t.vectorWidth
            let specs = [CBAMSpec(channels: 32, height: 9, width: 7, hidden: 4, kernel: 7, residual: true, activation: .relu),
                         CBAMSpec(channels: 13, height: 5, width: 6, hidden: 3, kernel: 3),
                         CBAMSpec(channels: 16, height: 2, width: 11, hidden: 1, kernel: 7, residual: true)]
            for (i, s) in specs.enumerated() {
                let c = s.channels, n = 2, k = s.kernel
                let w = CBAMWeights(fc1: Tensor(shape: [s.hidden, c, 1, 1], data: rng.floats(s.hidden * c)),
                                    fc2: Tensor(shape: [c, s.hidden, 1, 1], data: rng.floats(s.hidden * c)),
                                    spatial: Tensor(shape: [1, 2, k, k], data: rng.floats(2 * k * k)),
                                    fc1Bias: i == 1 ? rng.floats(s.hidden) : nil, fc2Bias: i == 1 ? rng.floats(c) : nil,
                                    spatialBias: i == 1 ? 0.3 : nil)
                let ks = try KernelDefinition.cbam(s, weights: w, target: t, name: "cbam\(i)")
                let y = rng.floats(n * c * s.height * s.width)
                let residual = s.residual ? rng.floats(y.count) : nil
                let (got, pad) = try run(ks, s, target: t, n: n, y: y, residual: residual)
                XCTAssertEqual(pad, 0)
                let err = Reference.mismatch(got, reference(s, w, n: n, y: y, residual: residual))
                XCTAssertLessThan(err, 1e-4, "cbam \(s) on \(t.name)")
            }
        }
    }

    /// The MLP's weights stored as bf16 (widened in registers) or int8 codes with row scales
    /// (weight-only): the kernels equal the plain CBAM on the weights they stand for — the bf16
    /// values, or code · scale — up to f32 summation order, on every x86 target that runs here.
    func testReducedMLPWeightsAgainstReference() throws {
        var rng = Reference.RNG(33)
        for t in [TargetDescription.host, try .named("x86-64-avx2"), try .named("x86-64-v2")] {
            let l = t.vectorWidth
            let specs = [CBAMSpec(channels: 48, height: 3, width: 4, hidden: 6, kernel: 3, residual: true, activation: .relu),
                         CBAMSpec(channels: 13, height: 2, width: 3, hidden: 5, kernel: 3)]
            for mlp in [Precision.bf16, .int8] {
                for (i, base) in specs.enumerated() {
                    var s = base
                    s.mlp = mlp
                    let c = s.channels, hid = s.hidden, n = 2, k = s.kernel
                    func weights(_ rows: Int, _ cols: Int) -> (stored: [Float], scales: [Float]?, meant: [Float]) {
                        switch mlp {
                        case .int8:
                            let codes = (0..<(rows * cols)).map { _ in Float(rng.int(-127...127)) }
                            let scales = (0..<rows).map { _ in rng.float(0.001, 0.011) }
                            return (codes, scales, codes.enumerated().map { $1 * scales[$0 / cols] })
                        default:
                            let v = rng.floats(rows * cols).map(QuantizationMath.roundToBF16)
                            return (v, nil, v)
                        }
                    }
                    let f1 = weights(hid, c), f2 = weights(c, hid)
                    let spatial = Tensor(shape: [1, 2, k, k], data: rng.floats(2 * k * k))
                    let b1 = i == 1 ? rng.floats(hid) : nil, b2 = i == 1 ? rng.floats(c) : nil
                    let stored = CBAMWeights(fc1: Tensor(shape: [hid, c, 1, 1], data: f1.stored), fc2: Tensor(shape: [c, hid, 1, 1], data: f2.stored),
                                             spatial: spatial, fc1Bias: b1, fc2Bias: b2, fc1Scale: f1.scales, fc2Scale: f2.scales)
                    let meant = CBAMWeights(fc1: Tensor(shape: [hid, c, 1, 1], data: f1.meant), fc2: Tensor(shape: [c, hid, 1, 1], data: f2.meant),
                                            spatial: spatial, fc1Bias: b1, fc2Bias: b2)
                    let ks = try KernelDefinition.cbam(s, weights: stored, target: t, name: "cbam\(i)")
                    let f32 = try KernelDefinition.cbam(base, weights: meant, target: t, name: "f32")
                    XCTAssertLessThan(Double(ks.channelGate.params.count), 0.6 * Double(f32.channelGate.params.count),
                                      "\(mlp) MLP weights must take fewer bytes than f32")
                    let y = rng.floats(n * c * s.height * s.width)
                    let residual = s.residual ? rng.floats(y.count) : nil
                    let (got, _) = try run(ks, s, target: t, n: n, y: y, residual: residual)
                    let err = Reference.mismatch(got, reference(s, meant, n: n, y: y, residual: residual))
                    XCTAssertLessThan(err, 1e-4, "cbam \(s) with \(mlp) MLP weights on \(t.name)")
                }
            }
        }
    }

    /// An int8 MLP refuses codes that are not integers in −127…127 and missing row scales.
    func testInt8MLPRefusesBadCodes() throws {
        let s = CBAMSpec(channels: 16, height: 2, width: 2, hidden: 2, kernel: 3, mlp: .int8)
        let ok = CBAMWeights(fc1: Tensor(shape: [2, 16, 1, 1], data: [Float](repeating: 3, count: 32)),
                             fc2: Tensor(shape: [16, 2, 1, 1], data: [Float](repeating: -3, count: 32)),
                             spatial: Tensor(shape: [1, 2, 3, 3], data: [Float](repeating: 0, count: 18)),
                             fc1Scale: [1, 1], fc2Scale: [Float](repeating: 1, count: 16))
        XCTAssertNoThrow(try KernelDefinition.cbam(s, weights: ok, target: .host, name: "ok"))
        var bad = ok
        bad.fc1.data[5] = 0.5
        XCTAssertThrowsError(try KernelDefinition.cbam(s, weights: bad, target: .host, name: "bad"))
        bad = ok
        bad.fc2.data[0] = 200
        XCTAssertThrowsError(try KernelDefinition.cbam(s, weights: bad, target: .host, name: "bad"))
        bad = ok
        bad.fc2Scale = nil
        XCTAssertThrowsError(try KernelDefinition.cbam(s, weights: bad, target: .host, name: "bad"))
    }
}
