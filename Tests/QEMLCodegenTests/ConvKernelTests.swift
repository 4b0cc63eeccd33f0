import XCTest
import QEMLTensor
@testable import QEMLCodegen

final class ConvKernelTests: XCTestCase {
    /// The kernels' comparison fails on a planted NaN, in the result or in the reference.
    func testMismatchFailsOnAPlantedNaN() {
        let b: [Float] = [1, -2, 3, 0]
        for at in b.indices {
            var a = b
            a[at] = .nan
            XCTAssertFalse(Reference.mismatch(a, b) <= 1e-3, "NaN at \(at) in the result")
            XCTAssertFalse(Reference.mismatch(b, a) <= 1e-3, "NaN at \(at) in the reference")
        }
    }

    /// Compiles `cases` into one module for `target`, runs each over its whole batch (split
    /// into two item ranges, as two threads would) and compares with the reference.
    func check(_ cases: [(Conv2DSpec, Int)], target: TargetDescription, seed: UInt64, file: StaticString = #filePath, line: UInt = #line) throws {
        var rng = Reference.RNG(seed)
        let c = target.vectorWidth
        var defs: [KernelDefinition] = []
        var data: [(input: [Float], weights: ConvWeights, residual: [Float]?)] = []
        for (i, (s, n)) in cases.enumerated() {
            let w = Tensor(shape: [s.outChannels, s.inChannels / s.groups, s.kernel[0], s.kernel[1]],
                           data: rng.floats(s.outChannels * s.inChannels / s.groups * s.kernel[0] * s.kernel[1]))
            let o = s.outChannels
            let bn = rng.int(0...1) == 1 ? ConvWeights.BatchNorm(gamma: rng.floats(o, 0.5, 1.5), beta: rng.floats(o), mean: rng.floats(o),
                                                                  variance: rng.floats(o, 0.2, 2), eps: 1e-5) : nil
            let weights = ConvWeights(weight: w, bias: rng.int(0...1) == 1 ? rng.floats(o) : nil, batchNorm: bn)
            let input = rng.floats(n * s.inChannels * s.height * s.width)
            let residual = s.residual ? rng.floats(n * o * s.outHeight * s.outWidth) : nil
            defs.append(try .conv2d(s, weights: weights, target: target, name: "conv\(i)"))
            data.append((input, weights, residual))
        }
        let module = try KernelCompiler(target: target, cache: nil).compile(defs)
        for (i, (s, n)) in cases.enumerated() {
            let k = module.kernels[i]
            let (input, weights, residual) = data[i]
            let ref = Reference.conv2d(s, n: n, input: input, weights: weights, residual: residual)
            var bufs: [[Float]] = [Reference.blocked(input, n: n, c: s.inChannels, h: s.height, w: s.width, lanes: c)]
            if let residual { bufs.append(Reference.blocked(residual, n: n, c: s.outChannels, h: s.outHeight, w: s.outWidth, lanes: c)) }
            let outCount = n * k.definition.outputs[0].elementsPerSample
            bufs.append([Float](repeating: .nan, count: outCount))
            if s.pool { bufs += [[Float](repeating: .nan, count: n * k.definition.outputs[1].elementsPerSample), [Float](repeating: .nan, count: n * k.definition.outputs[2].elementsPerSample)] }
            let total = n * k.itemsPerSample
            withPointers(&bufs) { ptrs in
                k.run(ptrs, begin: 0, end: total / 2)
                k.run(ptrs, begin: total / 2, end: total)
            }
            let outIndex = s.residual ? 2 : 1
            let (got, padMax) = Reference.unblocked(bufs[outIndex], n: n, c: s.outChannels, h: s.outHeight, w: s.outWidth, lanes: c)
            let err = Reference.mismatch(got, ref.out)
            XCTAssertLessThan(err, 1e-4, "\(s) batch \(n) target \(target.name): error \(err)", file: file, line: line)
            XCTAssertEqual(padMax, 0, "\(s): padded lanes must be zero", file: file, line: line)
            if s.pool {
                let avg = Reference.unblocked(bufs[outIndex + 1], n: n, c: s.outChannels, h: 1, w: 1, lanes: c).values
                let mx = Reference.unblocked(bufs[outIndex + 2], n: n, c: s.outChannels, h: 1, w: 1, lanes: c).values
                XCTAssertLessThan(Reference.mismatch(avg, ref.avg), 1e-4, "\(s): avg pool", file: file, line: line)
                XCTAssertLessThan(Reference.mismatch(mx, ref.max), 1e-4, "\(s): max pool", file: file, line: line)
            }
        }
    }

    /// Runs `body` with each array copied into its own allocation, then copies the data back.
    func withPointers(_ bufs: inout [[Float]], _ body: ([UnsafeMutablePointer<Float>]) throws -> Void) rethrows {
        let ptrs = bufs.map { a -> UnsafeMutablePointer<Float> in
            let p = UnsafeMutablePointer<Float>.allocate(capacity: max(a.count, 1))
            p.initialize(from: a, count: a.count)
            return p
        }
        defer { ptrs.forEach { $0.deallocate() } }
        try body(ptrs)
        for i in bufs.indices { bufs[i] = Array(UnsafeBufferPointer(start: ptrs[i], count: bufs[i].count)) }
    }

    func testResNetLikeShapes() throws {
        let cases: [(Conv2DSpec, Int)] = [
            (Conv2DSpec(inChannels: 3, height: 17, width: 15, outChannels: 16, kernel: [7, 7], stride: [2, 2], padding: [3, 3], activation: .relu), 1),
            (Conv2DSpec(inChannels: 16, height: 9, width: 9, outChannels: 16, kernel: [3, 3], padding: [1, 1], activation: .relu), 2),
            (Conv2DSpec(inChannels: 16, height: 9, width: 9, outChannels: 32, kernel: [1, 1], residual: true), 1),
            (Conv2DSpec(inChannels: 16, height: 9, width: 9, outChannels: 24, kernel: [1, 1], stride: [2, 2]), 1),
            (Conv2DSpec(inChannels: 24, height: 8, width: 8, outChannels: 24, kernel: [3, 3], stride: [2, 2], padding: [1, 1], activation: .relu), 1),
            (Conv2DSpec(inChannels: 8, height: 7, width: 7, outChannels: 32, kernel: [1, 1], activation: .relu, residual: true, pool: true), 2),
            (Conv2DSpec(inChannels: 2, height: 7, width: 7, outChannels: 1, kernel: [7, 7], padding: [3, 3], activation: .sigmoid), 1),
            // Small output planes (computed whole per channel group).
            (Conv2DSpec(inChannels: 40, height: 2, width: 2, outChannels: 48, kernel: [3, 3], padding: [1, 1], activation: .relu), 2),
            (Conv2DSpec(inChannels: 24, height: 4, width: 4, outChannels: 40, kernel: [3, 3], stride: [2, 2], padding: [1, 1], pool: true), 2),
            (Conv2DSpec(inChannels: 32, height: 4, width: 4, outChannels: 64, kernel: [1, 1], stride: [2, 2], activation: .relu, residual: true), 1),
            (Conv2DSpec(inChannels: 16, height: 3, width: 5, outChannels: 16, kernel: [3, 3], padding: [1, 1], dilation: [1, 2]), 1),
        ]
        for (s, _) in cases.suffix(4) {
            XCTAssertTrue(ConvPlan(s, target: .host).planeMode, "\(s) should use plane mode")
        }
        for target in try [TargetDescription.host, .named("x86-64-avx2"), .named("x86-64-v2")] {
            try check(cases, target: target, seed: 1)
        }
    }

    /// Pointwise convs run as GEMMs over rows of several image rows, but keep enough work items
    /// for threads; the register block fits the register file.
    func testPlansLeaveWorkForThreads() throws {
        for t in [TargetDescription.host, try .named("x86-64-avx2"), try .named("aarch64-neon")] {
            for (cin, hw, cout) in [(256, 56, 64), (64, 56, 256), (1024, 14, 256), (2048, 7, 512), (512, 7, 2048), (64, 3, 64)] {
                let plan = ConvPlan(Conv2DSpec(inChannels: cin, height: hw, width: hw, outChannels: cout, kernel: [1, 1]), target: t)
                if plan.planeMode {
                    XCTAssertEqual(plan.itemsPerSample, plan.channelGroups, "a small plane is one item per channel group")
                } else {
                    XCTAssertGreaterThanOrEqual(plan.itemsPerSample, min(ConvPlan.minimumItems, plan.channelGroups * hw), "\(cin)→\(cout) \(hw)² on \(t.name)")
                }
                XCTAssertEqual(plan.h * plan.w, hw * hw)
                XCTAssertLessThanOrEqual(plan.r * plan.m + plan.m + 1, t.vectorRegisters)
            }
        }
        let wide = ConvPlan(Conv2DSpec(inChannels: 2048, height: 7, width: 7, outChannels: 512, kernel: [1, 1]), target: try .named("x86-64-avx2"))
        XCTAssertEqual(wide.h, 1, "many channel groups: one row of all 49 pixels")
    }

    /// Many random shapes: odd sizes, strides, padding, dilation, kernels 1/3/5/7, channel
    /// counts off the vector width, batch > 1, every epilogue.
    func testRandomShapes() throws {
        var rng = Reference.RNG(42)
        for target in try [TargetDescription.host, .named("x86-64-avx2")] {
            var cases: [(Conv2DSpec, Int)] = []
            for _ in 0..<14 {
                let k = rng.pick([1, 1, 3, 3, 5, 7])
                let s = rng.pick([1, 1, 2])
                let d = k > 1 && rng.int(0...4) == 0 ? 2 : 1
                let p = rng.int(0...(k / 2 * d))
                let h = rng.int(max(1, d * (k - 1) + 1 - 2 * p)...13), w = rng.int(max(1, d * (k - 1) + 1 - 2 * p)...13)
                let groups = rng.int(0...6) == 0 ? 2 : 1
                let cin = groups * rng.int(1...11), cout = groups * rng.int(1...13)
                let spec = Conv2DSpec(inChannels: cin, height: h, width: w, outChannels: cout, kernel: [k, k], stride: [s, s],
                                      padding: [p, p], dilation: [d, d], groups: groups,
                                      activation: rng.pick(Activation.allCases), residual: rng.int(0...1) == 1, pool: rng.int(0...2) == 0)
                cases.append((spec, rng.int(1...3)))
            }
            try check(cases, target: target, seed: 7)
        }
    }
}
