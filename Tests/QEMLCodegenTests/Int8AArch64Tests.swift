import Foundation
import TestSupport
import XCTest
@testable import QEMLCodegen

/// The AArch64 `sdot` path: the int8 kernels compiled for `aarch64-neon-dotprod` into an object,
/// linked with a small C driver and run under `qemu-aarch64 -cpu max`; every output equals the
/// integer reference (and so this machine's JIT results) bit for bit.
final class Int8AArch64Tests: XCTestCase {
    func requireTool(_ name: String) throws {
        let found = (ProcessInfo.processInfo.environment["PATH"] ?? "/usr/bin").split(separator: ":")
            .contains { FileManager.default.isExecutableFile(atPath: "\($0)/\(name)") }
        if !found { throw XCTSkip("\(name) is not installed (scripts/setup.sh installs it)") }
    }

    /// Calls kernel `argv[1]` over `argv[2]` items with the params in `argv[3]`; each further
    /// argument is a buffer: `i:FILE` (an input read from FILE) or `o:BYTES:FILE` (an output
    /// written to FILE). The item range is split in two, as two threads would.
    static func driver(kernels: Int) -> String {
        let decls = (0..<kernels).map { "void k\($0)(float *const *, const float *, int64_t, int64_t);" }.joined(separator: "\n")
        let table = (0..<kernels).map { "k\($0)" }.joined(separator: ", ")
        return """
            #include <stdint.h>
            #include <stdio.h>
            #include <stdlib.h>
            #include <string.h>
            typedef void (*kernel_fn)(float *const *, const float *, int64_t, int64_t);
            \(decls)
            static kernel_fn kernels[] = { \(table) };
            static void *slurp(const char *path) {
                FILE *f = fopen(path, "rb");
                if (!f) { perror(path); exit(2); }
                fseek(f, 0, SEEK_END); long n = ftell(f); fseek(f, 0, SEEK_SET);
                void *p = aligned_alloc(64, (size_t)(n + 64) / 64 * 64);
                if (fread(p, 1, (size_t)n, f) != (size_t)n) exit(3);
                fclose(f);
                return p;
            }
            int main(int argc, char **argv) {
                int k = atoi(argv[1]); int64_t items = atoll(argv[2]);
                const float *params = slurp(argv[3]);
                float *bufs[8]; long sizes[8]; const char *outs[8]; int n = 0;
                for (int a = 4; a < argc; a++, n++) {
                    outs[n] = NULL;
                    if (argv[a][0] == 'i') { bufs[n] = slurp(argv[a] + 2); continue; }
                    char *end; sizes[n] = strtol(argv[a] + 2, &end, 10); outs[n] = end + 1;
                    bufs[n] = aligned_alloc(64, (size_t)(sizes[n] + 64) / 64 * 64);
                    memset(bufs[n], 0xFF, (size_t)sizes[n]);
                }
                kernels[k](bufs, params, 0, items / 2);
                kernels[k](bufs, params, items / 2, items);
                for (int i = 0; i < n; i++) if (outs[i]) {
                    FILE *f = fopen(outs[i], "wb");
                    if (!f || fwrite(bufs[i], 1, (size_t)sizes[i], f) != (size_t)sizes[i]) return 4;
                    fclose(f);
                }
                return 0;
            }
            """
    }

    func testSdotUnderQEMUMatchesReference() throws {
        try requireTool("aarch64-linux-gnu-gcc")
        try requireTool("qemu-aarch64")
        let target = try TargetDescription.named("aarch64-neon-dotprod")
        XCTAssertEqual(DotProduct.choose(for: target), .sdot)
        XCTAssertEqual(DotProduct.choose(for: try .named("aarch64-neon")), .widening, "no dotprod feature, no sdot")
        let cases = Int8KernelTests.resnetCases(seed: 5) + Int8KernelTests.randomCases(seed: 21, count: 4)
        let defs = try cases.enumerated().map { i, k in
            try KernelDefinition.conv2dInt8(k.spec, weight: k.weight, weightScales: k.weightScales, bias: k.bias, inputScale: k.inputScale,
                                            outputScale: k.outputScale, target: target, name: "k\(i)")
        }
        XCTAssertEqual(Set(defs.map(ObjectBuilder.signature)).count, defs.count, "one function per case")
        let compiler = KernelCompiler(target: target, cache: nil)
        XCTAssertTrue(try compiler.assembly([defs[1]]).contains("sdot"), "the 3×3 kernel uses sdot")

        let dir = FileManager.default.temporaryDirectory.appendingPathComponent("qemlc-int8-aarch64-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: dir, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: dir) }
        try Data(try compiler.objectCode(defs).bytes).write(to: dir.appendingPathComponent("kernels.o"))
        try Data(Self.driver(kernels: defs.count).utf8).write(to: dir.appendingPathComponent("driver.c"))
        let cc = try ProcessRunner.run(tool: "aarch64-linux-gnu-gcc", ["-O1", "-std=c11", "-o", "driver", "driver.c", "kernels.o", "-lm"], in: dir, scratch: dir)
        XCTAssertEqual(cc.status, 0, cc.stderr)

        let lanes = target.vectorWidth
        for (i, k) in cases.enumerated() {
            let d = defs[i], s = k.spec
            func file(_ name: String, _ bytes: [UInt8]) throws -> String {
                try Data(bytes).write(to: dir.appendingPathComponent(name))
                return name
            }
            var args = ["\(i)", "\(k.batch * d.itemsPerSample)", try file("p\(i)", d.params.withUnsafeBytes { Array($0) })]
            args.append("i:" + (try file("x\(i)", Int8KernelTests.blocked(k.input, n: k.batch, c: s.inChannels, h: s.height, w: s.width, lanes: lanes))))
            if let r = k.residual {
                let blocked = Reference.blocked(r, n: k.batch, c: s.outChannels, h: s.outHeight, w: s.outWidth, lanes: lanes)
                args.append("i:" + (try file("r\(i)", blocked.withUnsafeBytes { Array($0) })))
            }
            for (j, b) in d.buffers.enumerated() where b.role == .output { args.append("o:\(k.batch * b.bytesPerSample):y\(i)_\(j)") }
            let run = try ProcessRunner.run(tool: "qemu-aarch64", ["-cpu", "max", "-L", "/usr/aarch64-linux-gnu", "./driver"] + args, in: dir, scratch: dir)
            XCTAssertEqual(run.status, 0, "\(s): \(run.stderr)")
            let outIndex = s.residual ? 2 : 1
            let bytes = [UInt8](try Data(contentsOf: dir.appendingPathComponent("y\(i)_\(outIndex)")))
            let got: [Float] = k.outputScale != nil
                ? Int8KernelTests.unblocked(bytes, n: k.batch, c: s.outChannels, h: s.outHeight, w: s.outWidth, lanes: lanes).map { Float($0) }
                : Reference.unblocked(bytes.withUnsafeBytes { Array($0.bindMemory(to: Float.self)) }, n: k.batch, c: s.outChannels,
                                      h: s.outHeight, w: s.outWidth, lanes: lanes).values
            let want = k.reference().y
            let differ = zip(got, want).filter { $0.bitPattern != $1.bitPattern }.count
            XCTAssertEqual(differ, 0, "\(s) under qemu-aarch64 (sdot): \(differ) of \(want.count) values differ from the integer reference")
        }
    }
}
