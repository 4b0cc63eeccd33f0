import Foundation
import XCTest
import QEMLIR
import QEMLTensor
import QEMLSignal
import QEMLCodegen
import QEMLPasses
import QEMLRuntime

/// Absurd sizes are refused with a message naming the limit, before anything is allocated:
/// an out-of-memory kill or a hang is never the answer to a hostile or damaged file.
final class LimitsTests: XCTestCase {
    // MARK: .qir

    func testAbsurdDimension() {
        assertThrows(try QIR.parse("input %x: f32[1000000000000]\noutput %x\n", file: "dim.qir"),
                     "dim.qir:1:11", "dimension 1000000000000 exceeds the limit of 2^31")
    }

    func testTooManyElements() {
        assertThrows(try QIR.parse("input %x: f32[N,65536,65536]\noutput %x\n", file: "big.qir"),
                     "big.qir:1:", "more than 2^30 elements per sample (the limit)")
    }

    func testDeepExpressionNesting() {
        let deep = String(repeating: "relu(", count: 5000) + "%x" + String(repeating: ")", count: 5000)
        assertThrows(try QIR.parse("input %x: f32[1,4]\n%y = \(deep)\noutput %y\n", file: "deep.qir"),
                     "deep.qir:2:", "nesting deeper than 64 levels (the limit)")
    }

    func testDeepBlockNestingInSource() {
        let open = String(repeating: "for i in 0..1 {\n", count: 500), close = String(repeating: "}\n", count: 500)
        assertThrows(try QIR.parse("input %x: f32[1,4]\n\(open)%y = relu(%x)\n\(close)", file: "loops.qir"),
                     "nesting deeper than 64 levels (the limit)")
    }

    func testSelfReferentialBlock() {
        assertThrows(try QIR.parse("input %x: f32[1,4]\ndef f(%v) {\n  return f(%v)\n}\n%y = f(%x)\noutput %y\n", file: "self.qir"),
                     "self.qir:3:10", "recursive block: f → f")
    }

    func testMutuallyRecursiveBlocks() {
        let src = "input %x: f32[1,4]\ndef a(%v) {\n  return b(%v)\n}\ndef b(%v) {\n  return relu(a(%v))\n}\n%y = a(%x)\noutput %y\n"
        assertThrows(try QIR.parse(src, file: "mutual.qir"), "mutual.qir:6:15", "recursive block: a → b → a")
    }

    /// Nested loops multiply: 1000 × 1000 × 1000 statements stop at the statement limit.
    /// (Regression: with a limit of 10^6 this took 32 s in a debug build; now 10^5.)
    func testExponentialLoopExpansion() {
        let src = "input %x: f32[1,4]\nfor i in 0..1000 {\n for j in 0..1000 {\n  for k in 0..1000 {\n   %y = relu(%x)\n  }\n }\n}\n"
        assertThrows(try QIR.parse(src, file: "loops.qir"), "loops.qir:5:", "the model expands to more than 100000 statements (the limit)")
    }

    func testExponentialCircuitExpansion() {
        let src = "input %x: f32[N,1]\n%e = circuit(%x, wires=1) {\n for i in 0..1000 {\n  for j in 0..1000 {\n   for k in 0..1000 {\n    h(wires=0)\n   }\n  }\n }\n expval(Z, wires=[0])\n}\noutput %e\n"
        assertThrows(try QIR.parse(src, file: "gates.qir"), "gates.qir:", "100000")
    }

    func testThousandsOfQubits() {
        let src = "input %x: f32[N,4]\n%e = circuit(%x, wires=4096) {\n  expval(Z, wires=[0])\n}\noutput %e\n"
        assertThrows(try QIR.parse(src, file: "wide.qir"), "wide.qir:2:", "the circuit has 4096 wires, more than the limit of 24 qubits")
    }

    func testHugeWireIndex() {
        let src = "input %x: f32[N,4]\n%e = circuit(%x, wires=4) {\n  h(wires=3000000000)\n  expval(Z, wires=[0])\n}\noutput %e\n"
        assertThrows(try QIR.parse(src, file: "wire.qir"), "wire.qir:3:")
    }

    // MARK: weights and arrays

    func testSafetensorsHeaderClaimingGigabytes() throws {
        let dir = try freshFolder()
        defer { try? FileManager.default.removeItem(at: dir) }
        let path = dir.appendingPathComponent("huge.safetensors").path
        XCTAssertTrue(FileManager.default.createFile(atPath: path, contents: Data(le(4_000_000_000, 8) + Array("{}".utf8))))
        assertThrows(try Safetensors.read(path: path), path, "byte 0",
                     "the header length 4000000000 is larger than the 100000000-byte limit")
    }

    func testSafetensorsTensorClaimingGigabytes() throws {
        let dir = try freshFolder()
        defer { try? FileManager.default.removeItem(at: dir) }
        let path = dir.appendingPathComponent("huge.safetensors").path
        let header = Array(#"{"w":{"dtype":"F32","shape":[1000000000,4],"data_offsets":[0,16000000000]}}"#.utf8)
        XCTAssertTrue(FileManager.default.createFile(atPath: path, contents: Data(le(UInt64(header.count), 8) + header + [0, 0, 0, 0])))
        assertThrows(try Safetensors.read(path: path), path, "tensor 'w'")
    }

    func testNPYHeaderClaimingGigabytes() {
        for shape in ["(3000000000,)", "(100000000, 100000000)", "(1000000,)"] {
            var header = Array("{'descr': '<f4', 'fortran_order': False, 'shape': \(shape), }".utf8)
            while (10 + header.count + 1) % 64 != 0 { header.append(0x20) }
            header.append(0x0A)
            let bytes = [0x93] + Array("NUMPY".utf8) + [1, 0] + le(UInt64(header.count), 2) + header + [0, 0, 0, 0]
            assertThrows(try bytes.withUnsafeBytes { try NPY.decode($0, path: "big.npy") }, "big.npy")
        }
    }

    func testNPYSizeMessages() {
        var header = Array("{'descr': '<f4', 'fortran_order': False, 'shape': (3000000000,), }".utf8)
        while (10 + header.count + 1) % 64 != 0 { header.append(0x20) }
        header.append(0x0A)
        let bytes = [0x93] + Array("NUMPY".utf8) + [1, 0] + le(UInt64(header.count), 2) + header
        assertThrows(try bytes.withUnsafeBytes { try NPY.decode($0, path: "big.npy") }, "big.npy: header", "is too large")
    }

    // MARK: signals

    /// A WAV file: 16-bit PCM mono at 12 kHz, its data chunk declaring `declared` bytes.
    func wav(samples: [Int16], declared: UInt32? = nil) -> Data {
        let data = samples.flatMap { le(UInt64(UInt16(bitPattern: $0)), 2) }
        var b = Array("RIFF".utf8) + le(UInt64(36 + data.count), 4) + Array("WAVE".utf8)
        b += Array("fmt ".utf8) + le(16, 4) + le(1, 2) + le(1, 2) + le(12000, 4) + le(24000, 4) + le(2, 2) + le(16, 2)
        b += Array("data".utf8) + le(UInt64(declared ?? UInt32(data.count)), 4) + data
        return Data(b)
    }

    func testWAVDataChunkClaimingGigabytes() {
        assertThrows(try WAVReader.decode(wav(samples: [1, 2, 3, 4], declared: 4_000_000_000), path: "big.wav"),
                     "big.wav: byte 36", "the data chunk says 4000000000 bytes but only 8 follow")
    }

    func testZeroSampleSignals() throws {
        let empty = try WAVReader.decode(wav(samples: []), path: "empty.wav")
        XCTAssertEqual(empty.frameCount, 0)
        let frontEnd = try FrontEnd(spec: FrontendSpec(output: "x", settings: [("sample_rate", .int(12000)), ("n_fft", .int(256))]))
        assertThrows(try frontEnd.run(empty, path: "empty.wav"), "the signal is empty")
        assertThrows(try CSVReader.parse("# nothing\n\n", path: "empty.csv"), "empty.csv: file: holds no data rows")
        assertThrows(try CSVReader.parse("vibration\n", path: "header.csv"), "header.csv: file: has a header but no data rows")
    }

    /// More samples than a recording may hold: refused from the header's count, before the
    /// samples are decoded.
    func testBillionsOfSamples() {
        assertThrows(try Recording.checkSampleCount(frames: 3_000_000_000, channels: 1, path: "long.wav"),
                     "long.wav: data: 3000000000 samples (1 channel × 3000000000), more than the limit of \(Recording.maxSamples)")
        assertThrows(try Recording.checkSampleCount(frames: 1 << 27, channels: 8, path: "wide.wav"), "more than the limit")
        XCTAssertNoThrow(try Recording.checkSampleCount(frames: 12000, channels: 2, path: "ok.wav"))
    }

    func testFrontendSettingsThatWouldAllocateGigabytes() {
        func frontEnd(_ key: String, _ value: Attribute) throws -> FrontEnd {
            try FrontEnd(spec: FrontendSpec(output: "x", settings: [("sample_rate", .int(12000)), (key, value)]))
        }
        assertThrows(try frontEnd("length", .int(3_000_000_000)), "frontend: length", "at most \(Recording.maxSamples)")
        assertThrows(try frontEnd("n_fft", .int(1 << 30)), "n_fft = 1073741824 is out of range")
        assertThrows(try frontEnd("resize", .ints([100_000, 100_000])), "frontend: resize", "the limit")
        assertThrows(try frontEnd("n_mels", .int(1_000_000_000)), "frontend: n_mels", "the limit")
    }

    // MARK: code generation

    /// A target LLVM does not know is a diagnostic from the code generator, not a trap.
    func testUnknownTargetIsADiagnostic() throws {
        let g = try QIR.load(path: examplePath("qemlnet-circuit.qir"))
        var target = TargetDescription.host
        target.name = "nonsense"
        target.triple = "nonsense-unknown-none"
        let cache = ObjectCache(directory: try freshFolder("cache"))
        defer { try? FileManager.default.removeItem(at: cache.directory) }
        let weights = ["pqc.weights": Tensor(shape: [6, 4, 3], data: [Float](repeating: 0.1, count: 72))]
        assertThrows(try CompiledModel.compile(g, weights: weights, options: CompileOptions(target: target, threads: 1, cache: cache)),
                     "target 'nonsense' (nonsense-unknown-none) cannot run on this")
    }

    func testUnknownTripleForAssemblyIsADiagnostic() throws {
        let g = try QIR.load(path: examplePath("qemlnet-tiny.qir"))
        var target = TargetDescription.host
        target.name = "nonsense"
        target.triple = "nonsense-unknown-none"
        let weights = WeightInit.initialize(g, seed: 1)
        let passes = try PassManager().run(g, context: PassContext(vectorWidth: target.vectorWidth))
        let plan = try KernelPlan(graph: passes.graph, weights: weights, target: target, backend: .jit)
        assertThrows(try KernelCompiler(target: target, cache: nil).assembly(plan.definitions),
                     "LLVM has no target for triple 'nonsense-unknown-none'")
    }
}
