import XCTest
import QEMLTensor
import Foundation
@testable import QEMLCodegen

final class ZZMeasure: XCTestCase {
    func testMeasure() throws {
        guard ProcessInfo.processInfo.environment["QEMLC_MEASURE"] != nil else { return }
        let tname = ProcessInfo.processInfo.environment["QEMLC_TARGET"] ?? "x86-64-avx2"
        let target = try TargetDescription.named(tname)
        let specs: [Conv2DSpec] = [
            Conv2DSpec(inChannels: 64, height: 56, width: 56, outChannels: 64, kernel: [3, 3], padding: [1, 1], activation: .relu),
            Conv2DSpec(inChannels: 128, height: 28, width: 28, outChannels: 128, kernel: [3, 3], padding: [1, 1], activation: .relu),
            Conv2DSpec(inChannels: 256, height: 14, width: 14, outChannels: 256, kernel: [3, 3], padding: [1, 1], activation: .relu),
            Conv2DSpec(inChannels: 512, height: 7, width: 7, outChannels: 512, kernel: [3, 3], padding: [1, 1], activation: .relu),
            Conv2DSpec(inChannels: 64, height: 56, width: 56, outChannels: 256, kernel: [1, 1], activation: .relu),
            Conv2DSpec(inChannels: 256, height: 56, width: 56, outChannels: 64, kernel: [1, 1], activation: .relu),
            Conv2DSpec(inChannels: 512, height: 28, width: 28, outChannels: 128, kernel: [1, 1], activation: .relu),
            Conv2DSpec(inChannels: 1024, height: 14, width: 14, outChannels: 256, kernel: [1, 1], activation: .relu),
            Conv2DSpec(inChannels: 2048, height: 7, width: 7, outChannels: 512, kernel: [1, 1], activation: .relu),
            Conv2DSpec(inChannels: 3, height: 224, width: 224, outChannels: 64, kernel: [7, 7], stride: [2, 2], padding: [3, 3], activation: .relu),
        ]
        var defs: [KernelDefinition] = []
        for (i, s) in specs.enumerated() {
            let w = Tensor(shape: [s.outChannels, s.inChannels, s.kernel[0], s.kernel[1]], repeating: 0.01)
            defs.append(try .conv2d(s, weights: ConvWeights(weight: w), target: target, name: "k\(i)"))
        }
        let t0 = Date()
        let mod = try KernelCompiler(target: target, cache: nil).compile(defs)
        print("compile \(Date().timeIntervalSince(t0)) s")
        for k in mod.kernels {
            let bufs = k.definition.buffers.map { b -> UnsafeMutablePointer<Float> in
                let p = UnsafeMutablePointer<Float>.allocate(capacity: b.elementsPerSample)
                p.initialize(repeating: 0.5, count: b.elementsPerSample)
                return p
            }
            var best = Double.infinity
            for _ in 0..<7 {
                let s = DispatchTime.now().uptimeNanoseconds
                k.run(bufs, begin: 0, end: k.itemsPerSample)
                best = min(best, Double(DispatchTime.now().uptimeNanoseconds - s) / 1e9)
            }
            let gf = Double(k.flopsPerSample) / best / 1e9
            print(String(format: "%-60@ %8.3f ms %7.1f GFLOP/s", k.summary as NSString, best * 1e3, gf))
        }
    }
}

final class ZZPeak: XCTestCase {
    /// Register-only FMA loop: the achievable FMA peak of one core for a target.
    func testPeak() throws {
        guard ProcessInfo.processInfo.environment["QEMLC_MEASURE"] != nil else { return }
        for t in [TargetDescription.host, try .named("x86-64-avx2")] {
            let l = t.vectorWidth
            let m = IRModule(name: "peak")
            let pf = m.pointer(to: m.f32)
            let f = m.addFunction("peak", m.functionType(m.void, [pf, m.i64]))
            let b = IRBuilder(m, function: f)
            let accs = (0..<12).map { _ in b.variable(b.m.splat(0, l)) }
            let x = b.loadVector(b.param(0), l), y = b.loadVector(b.gep(b.param(0), l), l)
            b.loop(b.m.constI64(0), b.param(1), "i") { _ in
                for _ in 0..<4 { for a in accs { a.value = b.fma(x, a.value, y) } }
            }
            var s = accs[0].value
            for a in accs.dropFirst() { s = b.fadd(s, a.value) }
            b.store(s, b.param(0))
            b.retVoid()
            let tm = try TargetMachine(triple: t.triple, cpu: t.cpu, features: t.features)
            tm.configure(m)
            try m.verify()
            try tm.optimize(m)
            let obj = try tm.emit(m, .object)
            let jit = try JITLinker()
            try jit.addObject(obj, name: "peak")
            let fn = unsafeBitCast(UnsafeRawPointer(bitPattern: try jit.address(of: "peak")), to: (@convention(c) (UnsafeMutablePointer<Float>, Int64) -> Void).self)
            let buf = UnsafeMutablePointer<Float>.allocate(capacity: 64)
            buf.initialize(repeating: 0.999, count: 64)
            let iters: Int64 = 20_000_000
            var best = Double.infinity
            for _ in 0..<5 {
                let s0 = DispatchTime.now().uptimeNanoseconds
                fn(buf, iters)
                best = min(best, Double(DispatchTime.now().uptimeNanoseconds - s0) / 1e9)
            }
            let flops = Double(iters) * 48 * Double(l) * 2
            print(String(format: "PEAK %@: %.1f GFLOP/s", t.name, flops / best / 1e9))
        }
    }
}

import QEMLIR
import QEMLPasses
final class ZZCompileTime: XCTestCase {
    func testEdgeCompile() throws {
        guard ProcessInfo.processInfo.environment["QEMLC_MEASURE"] != nil else { return }
        let file = ProcessInfo.processInfo.environment["QEMLC_MODEL"] ?? "qemlnet-edge.qir"
        let t = try TargetDescription.named(ProcessInfo.processInfo.environment["QEMLC_TARGET"] ?? "host")
        let src = try QIR.load(path: "/work/wt/codegen/examples/" + file)
        var weights: [String: Tensor] = [:]
        for v in src.weights { if let n = src[v].weightName, let s = src.type(of: v).fixedShape { weights[n] = Tensor(shape: s, repeating: 0.01) } }
        let g = try PassManager().run(src, context: PassContext(vectorWidth: t.vectorWidth, batch: 1)).graph
        let t0 = Date()
        var defs: [KernelDefinition] = []
        for (i, node) in g.nodes.enumerated() {
            if let l = try KernelDefinition.lower(node: node, in: g, weights: weights, target: t, name: "n\(i)") { defs += l.kernels }
        }
        let t1 = Date()
        let c = KernelCompiler(target: t, cache: nil, pipeline: ProcessInfo.processInfo.environment["QEMLC_PIPE"] ?? KernelCompiler.defaultPipeline)
        do {
            let a = Date()
            let (mod, tm, _) = try c.builder.makeModule(defs)
            let b0 = Date()
            try tm.optimize(mod, pipeline: ProcessInfo.processInfo.environment["QEMLC_PIPE"] ?? KernelCompiler.defaultPipeline)
            let b1 = Date()
            _ = try tm.emit(mod, .object)
            print(String(format: "PHASES build %.2f optimize %.2f emit %.2f", b0.timeIntervalSince(a), b1.timeIntervalSince(b0), Date().timeIntervalSince(b1)))
        }
        if ProcessInfo.processInfo.environment["QEMLC_PERKERNEL"] != nil {
            var seen = Set<String>()
            var rows: [(Double, String)] = []
            for d in defs where seen.insert(d.kind + String(reflecting: d.body)).inserted {
                let a = Date()
                let (mod, tm, _) = try c.builder.makeModule([d])
                try tm.optimize(mod)
                _ = try tm.emit(mod, .object)
                rows.append((Date().timeIntervalSince(a), d.summary))
            }
            for r in rows.sorted(by: { $0.0 > $1.0 }).prefix(15) { print(String(format: "KTIME %.3f %@", r.0, r.1)) }
            if let d = defs.first(where: { $0.summary.hasPrefix(ProcessInfo.processInfo.environment["QEMLC_ASM"] ?? "none") }) {
                let asm = try c.assembly([d])
                try asm.write(toFile: "/tmp/qm/kernel.s", atomically: true, encoding: .utf8)
                let ir = try c.llvmIR([d], optimized: false)
                try ir.write(toFile: "/tmp/qm/kernel.ll", atomically: true, encoding: .utf8)
            }
            print("UNIQUE", rows.count, rows.map(\.0).reduce(0, +))
        }
        let t1b = Date()
        let m = try c.compile(defs)
        print(String(format: "COMPILEONLY %.2f s", Date().timeIntervalSince(t1b)))
        let t2 = Date()
        print(String(format: "COMPILE %@ %@: %d kernels, lower+pack %.2f s, llvm+jit %.2f s, object %d bytes", file, t.name, defs.count, t1.timeIntervalSince(t0), t2.timeIntervalSince(t1), m.objectSize))
        let convs = m.kernels.filter { $0.definition.kind == "conv2d" }
        var total = 0.0, flops = 0
        for k in m.kernels {
            let bufs = k.definition.buffers.map { b -> UnsafeMutablePointer<Float> in
                let p = UnsafeMutablePointer<Float>.allocate(capacity: b.elementsPerSample)
                p.initialize(repeating: 0.5, count: b.elementsPerSample)
                return p
            }
            var best = Double.infinity
            for _ in 0..<5 {
                let s = DispatchTime.now().uptimeNanoseconds
                k.run(bufs, begin: 0, end: k.itemsPerSample)
                best = min(best, Double(DispatchTime.now().uptimeNanoseconds - s) / 1e9)
            }
            total += best; flops += k.flopsPerSample
            if ProcessInfo.processInfo.environment["QEMLC_VERBOSE"] != nil || (k.definition.kind == "conv2d" && best > 0.0003) {
                print(String(format: "  %-70@ %8.3f ms %7.1f GFLOP/s", k.summary as NSString, best * 1e3, Double(k.flopsPerSample) / best / 1e9))
            }
        }
        print(String(format: "TOTAL kernels %.2f ms, %.3f GFLOP, %.1f GFLOP/s; %d convs", total * 1e3, Double(flops) / 1e9, Double(flops) / total / 1e9, convs.count))
    }
}
