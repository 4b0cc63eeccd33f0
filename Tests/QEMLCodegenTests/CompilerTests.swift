import XCTest
import QEMLTensor
@testable import QEMLCodegen
internal import CLLVM

/// The LLVM side: verification errors, cross-target emission, the object cache, the hash.
final class CompilerTests: XCTestCase {
    func sampleKernels(_ t: TargetDescription) throws -> [KernelDefinition] {
        let spec = Conv2DSpec(inChannels: 5, height: 6, width: 7, outChannels: 9, kernel: [3, 3], padding: [1, 1], activation: .relu)
        let w = Tensor(shape: [9, 5, 3, 3], data: (0..<405).map { Float($0 % 7) * 0.1 - 0.3 })
        return [try .conv2d(spec, weights: ConvWeights(weight: w), target: t, name: "conv"),
                try .pool(PoolSpec(kind: .max, channels: 9, height: 6, width: 7, kernel: [2, 2]), target: t, name: "pool")]
    }

    func tempCache() -> ObjectCache {
        ObjectCache(directory: FileManager.default.temporaryDirectory.appendingPathComponent("qemlc-cache-test-\(UInt64.random(in: 0...UInt64.max))"))
    }

    func testVerificationFailureIsAnError() {
        let m = IRModule(name: "broken")
        let f = m.addFunction("f", m.functionType(m.i64, [m.i64]))
        let b = IRBuilder(m, function: f)
        b.retVoid()  // a void return in a function returning i64
        XCTAssertThrowsError(try m.verify()) { e in
            guard let e = e as? CodegenError else { return XCTFail("\(e)") }
            XCTAssertEqual(e.stage, .verify)
            XCTAssertTrue(e.message.hasPrefix("LLVM rejected the generated module: "), e.message)
            XCTAssertTrue(e.message.contains("return"), e.message)
        }
    }

    func testBadPassPipelineIsAnError() throws {
        let c = KernelCompiler(target: .host, cache: nil, pipeline: "no-such-pass")
        XCTAssertThrowsError(try c.llvmIR(try sampleKernels(.host))) { e in
            XCTAssertEqual((e as? CodegenError)?.stage, .optimize)
            XCTAssertTrue("\(e)".contains("no-such-pass"), "\(e)")
        }
    }

    func testUnknownTripleIsAnError() {
        XCTAssertThrowsError(try TargetMachine(triple: "z80-unknown-none", cpu: "", features: "")) { e in
            XCTAssertEqual((e as? CodegenError)?.stage, .target)
            XCTAssertTrue("\(e)".contains("z80-unknown-none"), "\(e)")
        }
    }

    func testAArch64ObjectAndAssembly() throws {
        let t = try TargetDescription.named("aarch64-neon")
        let c = KernelCompiler(target: t, cache: nil)
        let (object, _) = try c.objectCode(try sampleKernels(t))
        XCTAssertEqual(Array(object.prefix(4)), [0x7f, 0x45, 0x4c, 0x46], "an ELF object")
        XCTAssertEqual(object[4], 2, "64-bit ELF")
        XCTAssertEqual(UInt16(object[18]) | UInt16(object[19]) << 8, 183, "e_machine = EM_AARCH64")
        let asm = try c.assembly(try sampleKernels(t))
        XCTAssertTrue(asm.contains("fmla") || asm.contains("fmul"), "NEON arithmetic in the assembly")
        XCTAssertTrue(asm.contains("conv:"))
        XCTAssertThrowsError(try c.compile(try sampleKernels(t))) { e in
            XCTAssertTrue("\(e)".contains("cannot run on this"), "\(e)")
        }
    }

    func testHostAssemblyUsesTheVectorWidth() throws {
        let t = try TargetDescription.named("x86-64-avx2")
        let asm = try KernelCompiler(target: t, cache: nil).assembly(try sampleKernels(t))
        XCTAssertTrue(asm.contains("vfmadd"), "FMA instructions for AVX2")
        XCTAssertTrue(asm.contains("%ymm"), "256-bit registers for AVX2")
    }

    func testMismatchedVectorWidthIsAnError() throws {
        let defs = try sampleKernels(try .named("x86-64-v2"))
        XCTAssertThrowsError(try KernelCompiler(target: try .named("x86-64-avx2"), cache: nil).compile(defs)) { e in
            XCTAssertTrue("\(e)".contains("4-lane vectors but target 'x86-64-avx2' has 8"), "\(e)")
        }
    }

    func testCacheHitAndCorruptEntryRebuilt() throws {
        let cache = tempCache()
        defer { try? FileManager.default.removeItem(at: cache.directory) }
        let t = TargetDescription.host
        let c = KernelCompiler(target: t, cache: cache)
        let first = try c.compile(try sampleKernels(t))
        XCTAssertFalse(first.fromCache)
        XCTAssertEqual(c.lastCacheOutcome, "miss")
        let second = try c.compile(try sampleKernels(t))
        XCTAssertTrue(second.fromCache)
        XCTAssertEqual(c.lastCacheOutcome, "hit")

        // The cached kernels compute what freshly compiled ones do.
        let x = (0..<(blockedCount(5, 6, 7, lanes: t.vectorWidth))).map { Float($0 % 11) * 0.1 }
        XCTAssertEqual(KernelHarness.run(first.kernels[0], batch: 1, inputs: [x]), KernelHarness.run(second.kernels[0], batch: 1, inputs: [x]))

        // Damage the entry three ways: each is detected, rebuilt and then served again.
        let files = try FileManager.default.contentsOfDirectory(at: cache.directory, includingPropertiesForKeys: nil).filter { $0.pathExtension == "qc" }
        XCTAssertGreaterThanOrEqual(files.count, 1)
        let good = try Data(contentsOf: files[0])
        let damaged: [(Data, String)] = [
            (Data("NOTANOBJ".utf8) + good.dropFirst(8), "bad magic"),
            (good.prefix(good.count - 10), "size"),
            ({ var d = good; d[d.count - 100] ^= 0xff; return d }(), "checksum mismatch"),
        ]
        for (bytes, reason) in damaged {
            try bytes.write(to: files[0])
            let rebuilt = try c.compile(try sampleKernels(t))
            XCTAssertFalse(rebuilt.fromCache)
            XCTAssertTrue(c.lastCacheOutcome.contains("rebuilt ("), c.lastCacheOutcome)
            XCTAssertTrue(c.lastCacheOutcome.contains(reason), c.lastCacheOutcome)
            XCTAssertEqual(try Data(contentsOf: files[0]), good, "the entry was rewritten")
            XCTAssertTrue(try c.compile(try sampleKernels(t)).fromCache)
        }
        // A different target is a different key.
        let other = KernelCompiler(target: try .named("x86-64-v2"), cache: cache)
        XCTAssertFalse(try other.compile(try sampleKernels(try .named("x86-64-v2"))).fromCache)
    }

    func testDefaultCacheDirectoryFollowsXDG() {
        let dir = ObjectCache.defaultDirectory.path
        if let xdg = ProcessInfo.processInfo.environment["XDG_CACHE_HOME"], !xdg.isEmpty {
            XCTAssertEqual(dir, xdg + "/qemlc")
        } else {
            XCTAssertTrue(dir.hasSuffix("/.cache/qemlc"), dir)
        }
    }

    func testContentHashIsFNV1a128() {
        var h = ContentHash()
        XCTAssertEqual(h.hex, "6c62272e07bb014262b821756295c58d")
        h.update(Array("a".utf8))
        XCTAssertEqual(h.hex, "d228cb696f1a8caf78912b704e4a8964")
        XCTAssertEqual(ContentHash.of(Array("foobar".utf8)), "343e1662793c64bf6f0d3597ba446f18")
    }

    func testDuplicateKernelNamesAreAnError() throws {
        let k = try sampleKernels(.host)[0]
        XCTAssertThrowsError(try KernelCompiler(target: .host, cache: nil).compile([k, k])) { e in
            XCTAssertTrue("\(e)".contains("two kernels are named 'conv'"), "\(e)")
        }
    }

    func testBadConvolutionInputsAreErrors() {
        let t = TargetDescription.host
        let spec = Conv2DSpec(inChannels: 4, height: 5, width: 5, outChannels: 8, kernel: [3, 3])
        XCTAssertThrowsError(try KernelDefinition.conv2d(spec, weights: ConvWeights(weight: Tensor(zeros: [8, 3, 3, 3])), target: t, name: "c")) { e in
            XCTAssertTrue("\(e)".contains("the weight is [8,3,3,3], expected [8,4,3,3]"), "\(e)")
        }
        var big = spec
        big.kernel = [9, 9]
        XCTAssertThrowsError(try KernelDefinition.conv2d(big, weights: ConvWeights(weight: Tensor(zeros: [8, 4, 9, 9])), target: t, name: "c")) { e in
            XCTAssertTrue("\(e)".contains("does not fit"), "\(e)")
        }
    }
}
