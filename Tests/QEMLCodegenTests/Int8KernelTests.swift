import XCTest
import QEMLPasses
import QEMLRuntime
@testable import QEMLCodegen

/// The int8 kernels against a plain integer reference (docs/QUANTIZATION.md), bit for bit:
/// every instruction path that runs on this machine, chosen by the target's features.
final class Int8KernelTests: XCTestCase {
    /// One int8 layer's data, plain NCHW.
    struct Case {
        var spec: Conv2DSpec
        var batch: Int
        var input: [UInt8]
        var weight: [Int8]
        var weightScales: [Float]
        var bias: [Float]
        var inputScale: Float
        var outputScale: Float?
        var residual: [Float]?

        init(_ spec: Conv2DSpec, batch: Int, u8Output: Bool, rng: inout Reference.RNG) {
            self.spec = spec
            self.batch = batch
            let s = spec, o = s.outChannels
            input = (0..<(batch * s.inChannels * s.height * s.width)).map { _ in UInt8(rng.int(0...127)) }
            weight = (0..<(o * s.inChannels / s.groups * s.kernel[0] * s.kernel[1])).map { _ in Int8(rng.int(-127...127)) }
            weightScales = rng.floats(o, 1e-3, 2e-2)
            bias = rng.floats(o, -2, 2)
            inputScale = rng.float(0.005, 0.05)
            outputScale = u8Output ? rng.float(0.02, 0.2) : nil
            residual = s.residual ? rng.floats(batch * o * s.outHeight * s.outWidth, -3, 3) : nil
        }

        /// The contract: exact i32 sums, `fma(Float(acc), s_x·s_w, b')`, + residual, activation,
        /// then f32 or `clamp(rint(y·(1/s_y)), 0, 127)`; avg/max of y per channel.
        func reference() -> (y: [Float], avg: [Float], max: [Float]) {
            let s = spec, o = s.outChannels, ig = s.inChannels / s.groups, og = o / s.groups
            let (kh, kw, oh, ow) = (s.kernel[0], s.kernel[1], s.outHeight, s.outWidth)
            var y = [Float](repeating: 0, count: batch * o * oh * ow)
            var avg = [Float](repeating: 0, count: batch * o), mx = [Float](repeating: -.infinity, count: batch * o)
            for n in 0..<batch {
                for oc in 0..<o {
                    let g = oc / og, m = inputScale * weightScales[oc]
                    for py in 0..<oh {
                        for px in 0..<ow {
                            var acc: Int32 = 0
                            for i in 0..<ig {
                                let ic = g * ig + i
                                for ky in 0..<kh {
                                    let iy = py * s.stride[0] - s.padding[0] + ky * s.dilation[0]
                                    guard iy >= 0, iy < s.height else { continue }
                                    for kx in 0..<kw {
                                        let ix = px * s.stride[1] - s.padding[1] + kx * s.dilation[1]
                                        guard ix >= 0, ix < s.width else { continue }
                                        acc += Int32(input[((n * s.inChannels + ic) * s.height + iy) * s.width + ix])
                                            * Int32(weight[((oc * ig + i) * kh + ky) * kw + kx])
                                    }
                                }
                            }
                            let at = ((n * o + oc) * oh + py) * ow + px
                            var v = bias[oc].addingProduct(Float(acc), m)
                            if let residual { v += residual[at] }
                            v = Reference.activate(v, s.activation)
                            avg[n * o + oc] += v
                            mx[n * o + oc] = Swift.max(mx[n * o + oc], v)
                            if let outputScale {
                                v = Swift.min(Swift.max((v * (1 / outputScale)).rounded(.toNearestOrEven), 0), 127)
                            }
                            y[at] = v
                        }
                    }
                    avg[n * o + oc] /= Float(oh * ow)
                }
            }
            return (y, avg, mx)
        }
    }

    /// Compiles every case for `target`, runs each and compares with the reference.
    func check(_ cases: [Case], target: TargetDescription, expect path: DotProduct, file: StaticString = #filePath, line: UInt = #line) throws {
        XCTAssertEqual(DotProduct.choose(for: target), path, "\(target.name) \(target.features)", file: file, line: line)
        let defs = try cases.enumerated().map { i, k in
            try KernelDefinition.conv2dInt8(k.spec, weight: k.weight, weightScales: k.weightScales, bias: k.bias, inputScale: k.inputScale,
                                            outputScale: k.outputScale, target: target, name: "int8_\(i)")
        }
        let module = try KernelCompiler(target: target, cache: nil).compile(defs)
        for (i, k) in cases.enumerated() {
            XCTAssertEqual(module.kernels[i].definition.kind, "conv2d int8 (\(path.rawValue))", file: file, line: line)
            compare(module.kernels[i], k, target: target, file: file, line: line)
        }
    }

    /// Runs `kernel` on the case's data (item range split in two, as two threads would) and
    /// compares with the reference bit for bit; pooled averages within rounding (the kernel
    /// sums in its own order).
    func compare(_ kernel: CompiledKernel, _ k: Case, target: TargetDescription, file: StaticString = #filePath, line: UInt = #line) {
        let lanes = target.vectorWidth, s = k.spec, o = s.outChannels
        let ref = k.reference()
        let buffers = Buffers(kernel.definition, batch: k.batch)
        defer { buffers.free() }
        buffers.setBytes(0, Self.blocked(k.input, n: k.batch, c: s.inChannels, h: s.height, w: s.width, lanes: lanes))
        if let residual = k.residual { buffers.setFloats(1, Reference.blocked(residual, n: k.batch, c: o, h: s.outHeight, w: s.outWidth, lanes: lanes)) }
        buffers.run(kernel, items: k.batch * kernel.itemsPerSample)
        let out = s.residual ? 2 : 1
        let got: [Float]
        if k.outputScale != nil {
            let bytes = buffers.bytes(out)
            got = Self.unblocked(bytes, n: k.batch, c: o, h: s.outHeight, w: s.outWidth, lanes: lanes).map { Float($0) }
            XCTAssertTrue(Self.paddingIsZero(bytes, n: k.batch, c: o, hw: s.outHeight * s.outWidth, lanes: lanes),
                          "\(s): padded lanes must be zero", file: file, line: line)
        } else {
            let (values, padMax) = Reference.unblocked(buffers.floats(out), n: k.batch, c: o, h: s.outHeight, w: s.outWidth, lanes: lanes)
            got = values
            XCTAssertEqual(padMax, 0, "\(s): padded lanes must be zero", file: file, line: line)
        }
        let differ = zip(got, ref.y).filter { $0.bitPattern != $1.bitPattern }
        XCTAssertTrue(differ.isEmpty, "\(s)\(k.outputScale == nil ? "" : " →u7") batch \(k.batch) on \(target.name): \(differ.count) of \(got.count) "
                      + "values differ, first (kernel, reference): \(differ.first.map { "\($0)" } ?? "")", file: file, line: line)
        if s.pool {
            let avg = Reference.unblocked(buffers.floats(out + 1), n: k.batch, c: o, h: 1, w: 1, lanes: lanes).values
            let mx = Reference.unblocked(buffers.floats(out + 2), n: k.batch, c: o, h: 1, w: 1, lanes: lanes).values
            XCTAssertLessThan(Reference.mismatch(avg, ref.avg), 1e-4, "\(s): avg pool", file: file, line: line)
            XCTAssertEqual(mx.map(\.bitPattern), ref.max.map(\.bitPattern), "\(s): max pool", file: file, line: line)
        }
    }

    /// A kernel's buffers as raw memory (u8 or f32 per the definition), outputs filled with 0xFF
    /// bytes (NaN floats, 255 bytes: unwritten values show).
    struct Buffers {
        let definition: KernelDefinition
        let storage: [UnsafeMutableRawPointer]
        let batch: Int

        init(_ d: KernelDefinition, batch: Int) {
            definition = d
            self.batch = batch
            storage = d.buffers.map { b in
                let bytes = max(batch * b.bytesPerSample, 4)
                let p = UnsafeMutableRawPointer.allocate(byteCount: bytes, alignment: 64)
                p.initializeMemory(as: UInt8.self, repeating: 0xFF, count: bytes)
                return p
            }
        }
        func free() { storage.forEach { $0.deallocate() } }
        func setBytes(_ i: Int, _ v: [UInt8]) { v.withUnsafeBytes { storage[i].copyMemory(from: $0.baseAddress!, byteCount: v.count) } }
        func setFloats(_ i: Int, _ v: [Float]) { v.withUnsafeBytes { storage[i].copyMemory(from: $0.baseAddress!, byteCount: $0.count) } }
        func bytes(_ i: Int) -> [UInt8] { Array(UnsafeRawBufferPointer(start: storage[i], count: batch * definition.buffers[i].bytesPerSample)) }
        func floats(_ i: Int) -> [Float] {
            Array(UnsafeBufferPointer(start: storage[i].assumingMemoryBound(to: Float.self), count: batch * definition.buffers[i].elementsPerSample))
        }
        func run(_ k: CompiledKernel, items: Int) {
            let ptrs = storage.map { $0.assumingMemoryBound(to: Float.self) }
            k.run(ptrs, begin: 0, end: items / 2)
            k.run(ptrs, begin: items / 2, end: items)
        }
    }

    static func blocked(_ x: [UInt8], n: Int, c: Int, h: Int, w: Int, lanes: Int) -> [UInt8] {
        let cb = ceilDiv(c, lanes)
        var out = [UInt8](repeating: 0, count: n * cb * h * w * lanes)
        for i in 0..<n { for ch in 0..<c { for p in 0..<(h * w) {
            out[((i * cb + ch / lanes) * h * w + p) * lanes + ch % lanes] = x[(i * c + ch) * h * w + p]
        } } }
        return out
    }

    static func unblocked(_ x: [UInt8], n: Int, c: Int, h: Int, w: Int, lanes: Int) -> [UInt8] {
        let cb = ceilDiv(c, lanes)
        var out = [UInt8](repeating: 0, count: n * c * h * w)
        for i in 0..<n { for ch in 0..<c { for p in 0..<(h * w) {
            out[(i * c + ch) * h * w + p] = x[((i * cb + ch / lanes) * h * w + p) * lanes + ch % lanes]
        } } }
        return out
    }

    /// The lanes past `c` of every last channel block are zero.
    static func paddingIsZero(_ x: [UInt8], n: Int, c: Int, hw: Int, lanes: Int) -> Bool {
        let cb = ceilDiv(c, lanes)
        guard c % lanes != 0 else { return true }
        for i in 0..<n { for p in 0..<hw { for lane in (c % lanes)..<lanes where x[((i * cb + cb - 1) * hw + p) * lanes + lane] != 0 { return false } } }
        return true
    }

    // MARK: the cases

    /// Random shapes: kernels 1–5, strides, padding, dilation, groups, channel counts off 4 and
    /// off the vector width, batch > 1, residual/ReLU/pool/requantization on and off.
    static func randomCases(seed: UInt64, count: Int) -> [Case] {
        var rng = Reference.RNG(seed)
        return (0..<count).map { _ in
            let k = rng.pick([1, 1, 3, 3, 5])
            let s = rng.pick([1, 1, 2])
            let d = k > 1 && rng.int(0...4) == 0 ? 2 : 1
            let p = rng.int(0...(k / 2 * d))
            let h = rng.int(max(1, d * (k - 1) + 1 - 2 * p)...9), w = rng.int(max(1, d * (k - 1) + 1 - 2 * p)...9)
            let groups = rng.int(0...6) == 0 ? 2 : 1
            let cin = groups * rng.int(1...37), cout = groups * rng.int(1...37)
            let spec = Conv2DSpec(inChannels: cin, height: h, width: w, outChannels: cout, kernel: [k, k], stride: [s, s],
                                  padding: [p, p], dilation: [d, d], groups: groups, activation: rng.pick([.none, .relu]),
                                  residual: rng.int(0...1) == 1, pool: rng.int(0...2) == 0)
            return Case(spec, batch: rng.int(1...2), u8Output: rng.int(0...1) == 1, rng: &rng)
        }
    }

    /// ResNet-shaped layers: pointwise GEMMs (rows of several image rows), 3×3 with stride,
    /// small planes (computed whole), the bottleneck's residual + ReLU, CBAM's pooling.
    static func resnetCases(seed: UInt64) -> [Case] {
        var rng = Reference.RNG(seed)
        let specs: [(Conv2DSpec, Bool)] = [
            (Conv2DSpec(inChannels: 64, height: 8, width: 8, outChannels: 64, kernel: [1, 1], activation: .relu), true),
            (Conv2DSpec(inChannels: 64, height: 8, width: 8, outChannels: 64, kernel: [3, 3], padding: [1, 1], activation: .relu), true),
            (Conv2DSpec(inChannels: 64, height: 8, width: 8, outChannels: 256, kernel: [1, 1], pool: true), false),
            (Conv2DSpec(inChannels: 64, height: 8, width: 8, outChannels: 128, kernel: [1, 1], stride: [2, 2], activation: .relu, residual: true), false),
            (Conv2DSpec(inChannels: 128, height: 9, width: 7, outChannels: 48, kernel: [3, 3], stride: [2, 2], padding: [1, 1], activation: .relu), true),
            (Conv2DSpec(inChannels: 96, height: 2, width: 2, outChannels: 80, kernel: [3, 3], padding: [1, 1], activation: .relu), true),
            (Conv2DSpec(inChannels: 36, height: 3, width: 3, outChannels: 52, kernel: [1, 1], activation: .relu, residual: true, pool: true), false),
        ]
        return specs.map { Case($0.0, batch: 2, u8Output: $0.1, rng: &rng) }
    }

    /// Targets by their dot-product instruction; nil when this machine cannot run the code.
    static func target(_ base: String, adding features: String = "", name: String? = nil) throws -> TargetDescription? {
        var t = try TargetDescription.named(base)
        if !features.isEmpty { t.features += "," + features }
        if let name { t.name = name }
        let host = TargetDescription.host.enabledFeatures
        let needed = t.enabledFeatures.filter { $0.hasPrefix("avx") }
        return needed.isSubset(of: host) ? t : nil
    }

    /// Runs the cases on each x86 path this machine can run (`all: false`: zmm VNNI and the
    /// AVX2 widening path only, to keep the test fast).
    func checkEveryPath(_ cases: [Case], all: Bool = true) throws {
        var ran = 0
        for (t, path) in [(try Self.target("x86-64-avx512", adding: "+avx512vnni", name: "avx512-vnni"), DotProduct.vnni),
                          (try Self.target("x86-64-avx2", adding: "+avx512vl,+avx512vnni", name: "avx2-vnni-ymm"), .vnniNarrow),
                          (try Self.target("x86-64-avx512"), .widening),
                          (try Self.target("x86-64-avx2"), .widening),
                          (try Self.target("x86-64-v2"), .widening)] {
            guard let t, TargetDescription.host.architecture == "x86_64" else { continue }
            if !all && t.name != "avx512-vnni" && t.name != "x86-64-avx2" { continue }
            try check(cases, target: t, expect: path)
            ran += 1
        }
        if TargetDescription.host.architecture == "x86_64" { XCTAssertGreaterThanOrEqual(ran, 2, "at least the SSE and AVX2 widening paths run") }
    }

    func testRandomShapes() throws { try checkEveryPath(Self.randomCases(seed: 13, count: 10), all: false) }

    func testResNetShapesEveryPath() throws { try checkEveryPath(Self.resnetCases(seed: 5)) }

    /// This file's reference is the interpreter's (`Int8Reference`, the one every backend is
    /// held to) on ungrouped convolutions, bit for bit.
    func testReferenceIsTheInterpreters() {
        for k in Self.resnetCases(seed: 5) + Self.randomCases(seed: 13, count: 10) where k.spec.groups == 1 {
            let s = k.spec
            let geometry = Int8Reference.ConvGeometry(inChannels: s.inChannels, height: s.height, width: s.width, outChannels: s.outChannels,
                                                      kernel: s.kernel, stride: s.stride, padding: s.padding, dilation: s.dilation)
            let params = Int8Params(inputScale: k.inputScale, outputScale: k.outputScale, weights: k.weight, weightScales: k.weightScales, bias: k.bias)
            let acc = Int8Reference.conv2dAccumulators(k.input, batch: k.batch, geometry, weights: k.weight)
            var y = Int8Reference.epilogue(acc, params: params, plane: s.outHeight * s.outWidth, residual: k.residual, relu: s.activation == .relu)
            if let sy = k.outputScale { y = Int8Reference.requantize(y, outputScale: sy).map { Float($0) } }
            XCTAssertEqual(y.map(\.bitPattern), k.reference().y.map(\.bitPattern), "\(s)")
        }
    }

    /// A dense layer is the 1×1 conv of a 1×1 image: same results, its own kind.
    func testDense() throws {
        var rng = Reference.RNG(3)
        let target = TargetDescription.host
        for (k, o, u8) in [(2048, 4, false), (37, 70, true), (64, 8, false)] {
            let c = Case(Conv2DSpec(inChannels: k, height: 1, width: 1, outChannels: o, kernel: [1, 1], activation: u8 ? .relu : .none),
                         batch: 3, u8Output: u8, rng: &rng)
            let d = try KernelDefinition.denseInt8(inFeatures: k, outFeatures: o, weight: c.weight, weightScales: c.weightScales, bias: c.bias,
                                                   inputScale: c.inputScale, outputScale: c.outputScale, activation: c.spec.activation,
                                                   target: target, name: "dense")
            XCTAssertEqual(d.kind, "dense int8 (\(DotProduct.choose(for: target).rawValue))")
            compare(try KernelCompiler(target: target, cache: nil).compile([d]).kernels[0], c, target: target)
        }
    }

    /// f32 → u7: `clamp(rint(x·(1/s)), 0, 127)`, ties to even, padded lanes zero.
    func testQuantize() throws {
        var rng = Reference.RNG(9)
        for target in [try Self.target("x86-64-avx2"), .host].compactMap({ $0 }) {
            let (c, h, w, n) = (21, 3, 5, 2), scale: Float = 0.0625, l = target.vectorWidth
            // Exact ties (k + 0.5)·s, negatives, values past 127·s, and random values.
            var x = (0..<(n * c * h * w)).map { _ in rng.float(-2, 10) }
            for i in stride(from: 0, to: x.count, by: 3) { x[i] = (Float(rng.int(-3...130)) + 0.5) * scale }
            let d = try KernelDefinition.quantize(channels: c, height: h, width: w, scale: scale, target: target, name: "q")
            let kernel = try KernelCompiler(target: target, cache: nil).compile([d]).kernels[0]
            let buffers = Buffers(d, batch: n)
            defer { buffers.free() }
            buffers.setFloats(0, Reference.blocked(x, n: n, c: c, h: h, w: w, lanes: l))
            buffers.run(kernel, items: n * kernel.itemsPerSample)
            let bytes = buffers.bytes(1)
            let want = x.map { UInt8(Swift.min(Swift.max(($0 * (1 / scale)).rounded(.toNearestOrEven), 0), 127)) }
            XCTAssertEqual(Self.unblocked(bytes, n: n, c: c, h: h, w: w, lanes: l), want, target.name)
            XCTAssertTrue(Self.paddingIsZero(bytes, n: n, c: c, hw: h * w, lanes: l))
        }
    }
}
