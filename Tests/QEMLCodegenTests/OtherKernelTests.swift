import XCTest
import QEMLTensor
import Foundation
@testable import QEMLCodegen

/// Pooling, layout, elementwise, dense and softmax kernels against plain-loop references over
/// random shapes, for the host and for narrower vector widths.
final class OtherKernelTests: XCTestCase {
    let targets: [TargetDescription] = [.host, try! .named("x86-64-avx2"), try! .named("x86-64-v2")]

    func blocked(_ x: [Float], _ n: Int, _ s: [Int], _ l: Int) -> [Float] { Reference.blocked(x, n: n, c: s[0], h: s[1], w: s[2], lanes: l) }
    func plain(_ x: [Float], _ n: Int, _ s: [Int], _ l: Int, file: StaticString = #filePath, line: UInt = #line) -> [Float] {
        let (v, pad) = Reference.unblocked(x, n: n, c: s[0], h: s[1], w: s[2], lanes: l)
        XCTAssertEqual(pad, 0, "padded lanes must be zero", file: file, line: line)
        return v
    }

    func testLayoutRoundTrip() throws {
        var rng = Reference.RNG(3)
        for t in targets {
            let shapes = [[3, 5, 7], [16, 4, 4], [17, 1, 1], [1, 9, 2]]
            var defs: [KernelDefinition] = []
            for (i, s) in shapes.enumerated() {
                defs.append(try .toBlocked(channels: s[0], height: s[1], width: s[2], target: t, name: "to\(i)"))
                defs.append(try .fromBlocked(channels: s[0], height: s[1], width: s[2], target: t, name: "from\(i)"))
            }
            let m = try KernelCompiler(target: t, cache: nil).compile(defs)
            for (i, s) in shapes.enumerated() {
                let n = 2
                let x = rng.floats(n * s.reduce(1, *))
                let b = KernelHarness.run(m.kernels[2 * i], batch: n, inputs: [x])[0]
                XCTAssertEqual(b, blocked(x, n, s, t.vectorWidth), "to_blocked \(s) on \(t.name)")
                XCTAssertEqual(KernelHarness.run(m.kernels[2 * i + 1], batch: n, inputs: [b])[0], x, "from_blocked \(s) on \(t.name)")
            }
        }
    }

    func testPooling() throws {
        var rng = Reference.RNG(5)
        for t in targets {
            var specs: [PoolSpec] = [
                PoolSpec(kind: .max, channels: 16, height: 11, width: 11, kernel: [3, 3], stride: [2, 2], padding: [1, 1]),
                PoolSpec(kind: .avg, channels: 5, height: 7, width: 6, kernel: [3, 3], stride: [2, 2], padding: [1, 1], ceilMode: true),
            ]
            for _ in 0..<6 {
                let k = rng.int(1...3), p = rng.int(0...(k / 2))
                specs.append(PoolSpec(kind: rng.pick([.max, .avg]), channels: rng.int(1...19), height: rng.int(k...12), width: rng.int(k...12),
                                      kernel: [k, k], stride: [rng.int(1...2), rng.int(1...2)], padding: [p, p], ceilMode: rng.int(0...1) == 1))
            }
            let defs = try specs.enumerated().map { try KernelDefinition.pool($1, target: t, name: "pool\($0)") }
            let m = try KernelCompiler(target: t, cache: nil).compile(defs)
            for (i, s) in specs.enumerated() {
                let n = rng.int(1...2)
                let x = rng.floats(n * s.channels * s.height * s.width)
                let out = KernelHarness.run(m.kernels[i], batch: n, inputs: [blocked(x, n, [s.channels, s.height, s.width], t.vectorWidth)])[0]
                let got = plain(out, n, [s.channels, s.outHeight, s.outWidth], t.vectorWidth)
                let ref = poolReference(s, n, x)
                XCTAssertLessThan(Reference.mismatch(got, ref), 1e-5, "\(defs[i].summary) ceil=\(s.ceilMode) on \(t.name)")
            }
        }
    }

    func poolReference(_ s: PoolSpec, _ n: Int, _ x: [Float]) -> [Float] {
        var out: [Float] = []
        for i in 0..<n { for c in 0..<s.channels { for y in 0..<s.outHeight { for xx in 0..<s.outWidth {
            let y0 = y * s.stride[0] - s.padding[0], x0 = xx * s.stride[1] - s.padding[1]
            var acc: Float = s.kind == .max ? -.infinity : 0
            for ky in 0..<s.kernel[0] { for kx in 0..<s.kernel[1] {
                let iy = y0 + ky, ix = x0 + kx
                guard iy >= 0, iy < s.height, ix >= 0, ix < s.width else { continue }
                let v = x[((i * s.channels + c) * s.height + iy) * s.width + ix]
                acc = s.kind == .max ? max(acc, v) : acc + v
            } }
            if s.kind == .avg {
                let hEnd = min(y0 + s.kernel[0], s.height + s.padding[0]), wEnd = min(x0 + s.kernel[1], s.width + s.padding[1])
                acc /= Float((hEnd - y0) * (wEnd - x0))
            }
            out.append(acc)
        } } } }
        return out
    }

    func testGlobalPoolsAndChannelReductions() throws {
        var rng = Reference.RNG(9)
        for t in targets {
            let shapes = [[13, 5, 3], [16, 7, 7], [3, 1, 1], [9, 4, 5]]
            var defs: [KernelDefinition] = []
            for (i, s) in shapes.enumerated() {
                defs.append(try .globalPool(GlobalPoolSpec(kind: .avg, channels: s[0], height: s[1], width: s[2]), target: t, name: "gavg\(i)"))
                defs.append(try .globalPool(GlobalPoolSpec(kind: .max, channels: s[0], height: s[1], width: s[2]), target: t, name: "gmax\(i)"))
                defs.append(try .channelReduce(ChannelReduceSpec(channels: s[0], height: s[1], width: s[2], mean: true, max: true), target: t, name: "cmm\(i)"))
                defs.append(try .channelReduce(ChannelReduceSpec(channels: s[0], height: s[1], width: s[2], mean: false, max: true), target: t, name: "cmax\(i)"))
            }
            let m = try KernelCompiler(target: t, cache: nil).compile(defs)
            for (i, s) in shapes.enumerated() {
                let n = 2, (c, h, w) = (s[0], s[1], s[2])
                // Negative values: a padded lane (0) must not win a max.
                let x = rng.floats(n * c * h * w, -2, -0.1)
                let xb = blocked(x, n, s, t.vectorWidth)
                var avg = [Float](), mx = [Float](), cmean = [Float](), cmax = [Float]()
                for b in 0..<n {
                    for ch in 0..<c {
                        let plane = (0..<(h * w)).map { x[(b * c + ch) * h * w + $0] }
                        avg.append(plane.reduce(0, +) / Float(h * w)); mx.append(plane.max()!)
                    }
                    for p in 0..<(h * w) {
                        let col = (0..<c).map { x[(b * c + $0) * h * w + p] }
                        cmean.append(col.reduce(0, +) / Float(c)); cmax.append(col.max()!)
                    }
                }
                let l = t.vectorWidth
                XCTAssertLessThan(Reference.mismatch(plain(KernelHarness.run(m.kernels[4 * i], batch: n, inputs: [xb])[0], n, [c, 1, 1], l), avg), 1e-5, "global avg \(s)")
                XCTAssertEqual(plain(KernelHarness.run(m.kernels[4 * i + 1], batch: n, inputs: [xb])[0], n, [c, 1, 1], l), mx, "global max \(s)")
                let both = plain(KernelHarness.run(m.kernels[4 * i + 2], batch: n, inputs: [xb])[0], n, [2, h, w], l)
                let hw = h * w
                var gotMean: [Float] = [], gotMax: [Float] = []
                for b in 0..<n {
                    gotMean += both[(2 * b * hw)..<((2 * b + 1) * hw)]
                    gotMax += both[((2 * b + 1) * hw)..<((2 * b + 2) * hw)]
                }
                XCTAssertLessThan(Reference.mismatch(gotMean, cmean), 1e-5, "channel mean \(s) on \(t.name)")
                XCTAssertEqual(gotMax, cmax, "channel max \(s) on \(t.name)")
                XCTAssertEqual(plain(KernelHarness.run(m.kernels[4 * i + 3], batch: n, inputs: [xb])[0], n, [1, h, w], l), cmax, "channel max only \(s)")
            }
        }
    }

    func testElementwise() throws {
        var rng = Reference.RNG(11)
        for t in targets {
            var specs: [ElementwiseSpec] = []
            for _ in 0..<10 {
                let op: ElementwiseSpec.BinaryOp? = rng.pick([nil, .add, .mul])
                specs.append(ElementwiseSpec(channels: rng.int(1...20), height: rng.int(1...6), width: rng.int(1...6), op: op,
                                             broadcast: rng.pick([.same, .perChannel, .perPixel]), scale: rng.pick([nil, Float.pi]),
                                             addend: rng.int(0...1) == 1, activation: rng.pick(Activation.allCases)))
            }
            for a in Activation.allCases { specs.append(ElementwiseSpec(channels: 11, height: 3, width: 5, activation: a)) }
            let defs = try specs.enumerated().map { try KernelDefinition.elementwise($1, target: t, name: "ew\($0)") }
            let m = try KernelCompiler(target: t, cache: nil).compile(defs)
            for (i, s) in specs.enumerated() {
                let n = rng.int(1...2), (c, h, w) = (s.channels, s.height, s.width), l = t.vectorWidth
                let a = rng.floats(n * c * h * w, -4, 4)
                let bShape = s.broadcast == .same ? [c, h, w] : s.broadcast == .perChannel ? [c, 1, 1] : [1, h, w]
                let bv = rng.floats(n * bShape.reduce(1, *)), r = rng.floats(n * c * h * w)
                var inputs = [blocked(a, n, [c, h, w], l)]
                if s.op != nil { inputs.append(blocked(bv, n, bShape, l)) }
                if s.addend { inputs.append(blocked(r, n, [c, h, w], l)) }
                var ref: [Float] = []
                for b in 0..<n { for ch in 0..<c { for p in 0..<(h * w) {
                    let at = (b * c + ch) * h * w + p
                    var v = a[at]
                    if let op = s.op {
                        let o = s.broadcast == .same ? bv[at] : s.broadcast == .perChannel ? bv[b * c + ch] : bv[b * h * w + p]
                        v = op == .add ? v + o : v * o
                    }
                    if let k = s.scale { v *= k }
                    if s.addend { v += r[at] }
                    ref.append(Reference.activate(v, s.activation))
                } } }
                let got = plain(KernelHarness.run(m.kernels[i], batch: n, inputs: inputs)[0], n, [c, h, w], l)
                XCTAssertLessThan(Reference.mismatch(got, ref), 1e-5, "\(s) on \(t.name)")
            }
        }
    }

    /// exp, sigmoid and tanh polynomials over a wide range, including tiny and huge inputs.
    func testTranscendentalAccuracy() throws {
        let t = TargetDescription.host
        let xs: [Float] = stride(from: -30, through: 30, by: 0.37).map { Float($0) } + [0, 1e-6, -1e-6, 1e-3, 0.6249, 0.6251, -0.7, 100, -100]
        let c = xs.count
        for a in [Activation.sigmoid, .tanh] {
            let d = try KernelDefinition.elementwise(ElementwiseSpec(channels: c, height: 1, width: 1, activation: a), target: t, name: "f")
            let m = try KernelCompiler(target: t, cache: nil).compile([d])
            let got = plain(KernelHarness.run(m.kernels[0], batch: 1, inputs: [blocked(xs, 1, [c, 1, 1], t.vectorWidth)])[0], 1, [c, 1, 1], t.vectorWidth)
            for (x, g) in zip(xs, got) {
                let ref = Reference.activate(x, a)
                XCTAssertLessThanOrEqual(abs(g - ref), 2e-6 * max(abs(ref), 1e-3), "\(a)(\(x)) = \(g), expected \(ref)")
            }
        }
    }

    func testDenseAndSoftmax() throws {
        var rng = Reference.RNG(13)
        for t in targets {
            let shapes: [(Int, Int, Activation)] = [(64, 4, .tanh), (4, 8, .none), (13, 19, .relu), (1, 1, .sigmoid), (2048, 24, .none)]
            var defs: [KernelDefinition] = []
            var ws: [(Tensor, [Float])] = []
            for (i, (k, o, a)) in shapes.enumerated() {
                let w = Tensor(shape: [o, k], data: rng.floats(o * k)), b = rng.floats(o)
                ws.append((w, b))
                defs.append(try .dense(inFeatures: k, outFeatures: o, weight: w, bias: b, activation: a, target: t, name: "dense\(i)"))
                defs.append(try .softmax(features: o, target: t, name: "softmax\(i)"))
            }
            let m = try KernelCompiler(target: t, cache: nil).compile(defs)
            for (i, (k, o, a)) in shapes.enumerated() {
                let n = 3, l = t.vectorWidth
                let x = rng.floats(n * k)
                var ref: [Float] = []
                for b in 0..<n { for j in 0..<o {
                    var acc = Double(ws[i].1[j])
                    for q in 0..<k { acc += Double(x[b * k + q]) * Double(ws[i].0.data[j * k + q]) }
                    ref.append(Reference.activate(Float(acc), a))
                } }
                let y = KernelHarness.run(m.kernels[2 * i], batch: n, inputs: [blocked(x, n, [k, 1, 1], l)])[0]
                XCTAssertLessThan(Reference.mismatch(plain(y, n, [o, 1, 1], l), ref), 1e-4, "dense \(k)→\(o) on \(t.name)")
                var soft: [Float] = []
                for b in 0..<n {
                    let row = ref[(b * o)..<(b * o + o)].map(Double.init)
                    let mx = row.max()!, e = row.map { Foundation.exp($0 - mx) }, s = e.reduce(0, +)
                    soft += e.map { Float($0 / s) }
                }
                let z = KernelHarness.run(m.kernels[2 * i + 1], batch: n, inputs: [blocked(ref, n, [o, 1, 1], l)])[0]
                XCTAssertLessThan(Reference.mismatch(plain(z, n, [o, 1, 1], l), soft), 1e-5, "softmax \(o) on \(t.name)")
            }
        }
    }
}
