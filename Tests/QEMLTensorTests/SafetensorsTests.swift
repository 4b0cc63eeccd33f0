import XCTest
@testable import QEMLTensor

final class SafetensorsTests: XCTestCase {
    let values: [Float] = [-1.5, 0.1, 2.0, 3.25, -0.333, 65504.0]

    func testReadsFilesFromTheReferenceWriter() throws {
        let f32 = try Safetensors.read(path: fixture("f32.safetensors"))
        XCTAssertEqual(f32["w"], Tensor(shape: [2, 3], data: values))
        XCTAssertEqual(f32["b"], Tensor(shape: [2], data: [1, 2]))
        XCTAssertEqual(try Safetensors.read(path: fixture("f64.safetensors"))["w"]?.data, values)
        let f16 = try Safetensors.read(path: fixture("f16.safetensors"))["w"]
        XCTAssertEqual(f16?.data, try NPY.read(path: fixture("expected_f2.npy")).data)
        let bf16 = try Safetensors.read(path: fixture("bf16.safetensors"))["w"]
        XCTAssertEqual(bf16?.data, try NPY.read(path: fixture("expected_bf16.npy")).data)
    }

    func testLazyFileListsWithoutDecoding() throws {
        let f = try SafetensorsFile(path: fixture("f32.safetensors"))
        XCTAssertEqual(f.names, ["b", "w"])
        XCTAssertEqual(f.entry("w")?.shape, [2, 3])
        XCTAssertEqual(f.entry("w")?.dtype, .F32)
        XCTAssertEqual(f.metadata, ["format": "pt", "note": "qemlc test"])
        XCTAssertEqual(try f.tensor("b").data, [1, 2])
        assertFormatError(try f.tensor("nope"), contains: ["tensor 'nope'", "no tensor of this name", "b, w"])
    }

    func testRoundTripKeepsEverythingAndIsAligned() throws {
        let dir = temporaryFolder()
        let path = dir + "/w.safetensors"
        let tensors: [String: Tensor] = [
            "layer1.0.conv1.weight": Tensor(shape: [2, 1, 1, 3], data: [1, 2, 3, 4, 5, -6]),
            "scalar": Tensor(shape: [], data: [0.5]),
            "empty": Tensor(shape: [0, 4], data: []),
            "name with \"quotes\" and ü": Tensor(shape: [1], data: [-.infinity]),
        ]
        try Safetensors.write(tensors, to: path, metadata: ["seed": "1"])
        let f = try SafetensorsFile(path: path)
        XCTAssertEqual(try f.tensors(), tensors)
        XCTAssertEqual(f.metadata, ["seed": "1"])
        let headerLength = try Data(contentsOf: URL(fileURLWithPath: path)).prefix(8).reversed().reduce(0) { $0 << 8 | Int($1) }
        XCTAssertEqual(headerLength % 8, 0)
        assertFormatError(try Safetensors.write(tensors, to: path), contains: ["already exists"])
        try Safetensors.write(["a": Tensor(shape: [1], data: [3])], to: path, overwrite: true)
        XCTAssertEqual(try Safetensors.read(path: path), ["a": Tensor(shape: [1], data: [3])])
        XCTAssertEqual(try FileManager.default.contentsOfDirectory(atPath: dir), ["w.safetensors"])
    }

    /// A file with the given header text (padded to 8 bytes) and data section.
    func file(_ header: String, data: [UInt8] = [], lengthOverride: UInt64? = nil) -> String {
        var h = Array(header.utf8)
        while h.count % 8 != 0 { h.append(0x20) }
        var bytes: [UInt8] = []
        let n = lengthOverride ?? UInt64(h.count)
        for i in 0..<8 { bytes.append(UInt8((n >> (8 * UInt64(i))) & 0xFF)) }
        let path = temporaryFolder() + "/m.safetensors"
        writeBytes(bytes + h + data, path)
        return path
    }

    /// A PyTorch state_dict's I64 counters (num_batches_tracked) and other integers read as f32.
    func testIntegerTensorsReadAsFloats() throws {
        let i64 = try Safetensors.read(path: fixture("bad_i64.safetensors"))  // save_file of an int64 array (tensor_io_fixtures.py)
        XCTAssertEqual(i64["w"]?.data.isEmpty, false)
        XCTAssertTrue(i64["w"]!.data.allSatisfy { $0 == $0.rounded() }, "integers stay integers")
        var data: [UInt8] = [5, 0, 0, 0, 0, 0, 0, 0]  // I64 5
        data += [0xFE, 7]  // I8 -2, U8 7
        data += [0, 0, 0, 0, 0, 0]
        let path = file("{\"n\": {\"dtype\": \"I64\", \"shape\": [], \"data_offsets\": [0, 8]}, \"s\": {\"dtype\": \"I8\", \"shape\": [1], \"data_offsets\": [8, 9]}, \"u\": {\"dtype\": \"U8\", \"shape\": [1], \"data_offsets\": [9, 10]}}", data: data)
        let t = try Safetensors.read(path: path)
        XCTAssertEqual(t["n"]?.data, [5])
        XCTAssertEqual(t["s"]?.data, [-2])
        XCTAssertEqual(t["u"]?.data, [7])
    }

    func testDamagedFilesGiveClearErrors() {
        let twelve = [UInt8](repeating: 0, count: 12)
        let cases: [(String, [String])] = [
            (file("{}", lengthOverride: 1 << 40), ["byte 0", "header length 1099511627776 is larger than the 100000000-byte limit"]),
            (file("{}", lengthOverride: 64), ["byte 0", "header length 64 runs past the end of the 16-byte file", "truncated"]),
            (file("{\"w\": {\"dtype\": \"F32\",}}"), ["header byte", "not valid JSON"]),
            (file("[1, 2]"), ["header", "must be a JSON object, got an array"]),
            (file("{\"w\": 3}"), ["tensor 'w'", "must be an object"]),
            (file("{\"w\": {\"shape\": [3], \"data_offsets\": [0, 12]}}", data: twelve), ["tensor 'w'", "no 'dtype'"]),
            (file("{\"w\": {\"dtype\": 4, \"shape\": [3], \"data_offsets\": [0, 12]}}", data: twelve), ["'dtype' must be a string"]),
            (file("{\"w\": {\"dtype\": \"F32\", \"data_offsets\": [0, 12]}}", data: twelve), ["no 'shape'"]),
            (file("{\"w\": {\"dtype\": \"F32\", \"shape\": [3.5], \"data_offsets\": [0, 12]}}", data: twelve), ["'shape' must hold non-negative integers"]),
            (file("{\"w\": {\"dtype\": \"F32\", \"shape\": [3], \"data_offsets\": [0]}}", data: twelve), ["'data_offsets' must have 2 entries"]),
            (file("{\"w\": {\"dtype\": \"BOOL\", \"shape\": [1], \"data_offsets\": [0, 1]}}", data: twelve),
             ["dtype BOOL is not supported; supported dtypes: F32, F16, BF16, F64, I64, I32, I16, I8, U8", "fix:"]),
            (file("{\"w\": {\"dtype\": \"F32\", \"shape\": [3], \"data_offsets\": [0, 12]}}", data: [0, 0]),
             ["tensor 'w'", "run past the 2-byte data section"]),
            (file("{\"w\": {\"dtype\": \"F32\", \"shape\": [3], \"data_offsets\": [12, 0]}}", data: twelve), ["end is before the beginning"]),
            (file("{\"w\": {\"dtype\": \"F32\", \"shape\": [2], \"data_offsets\": [0, 12]}}", data: twelve),
             ["shape [2] of F32 needs 2 × 4 bytes but data_offsets [0, 12] hold 12"]),
            (file("{\"a\": {\"dtype\": \"F32\", \"shape\": [2], \"data_offsets\": [0, 8]}, \"b\": {\"dtype\": \"F32\", \"shape\": [2], \"data_offsets\": [4, 12]}}", data: twelve),
             ["tensor 'b'", "overlaps tensor 'a'"]),
            (file("{\"a\": {\"dtype\": \"F32\", \"shape\": [1], \"data_offsets\": [0, 4]}, \"a\": {\"dtype\": \"F32\", \"shape\": [1], \"data_offsets\": [4, 8]}}", data: twelve),
             ["duplicate key \"a\""]),
            (file("{\"__metadata__\": {\"k\": 1}}"), ["'__metadata__'", "must be a string"]),
            (file("{\"w\": {\"dtype\": \"F32\", \"shape\": [4611686018427387904, 4], \"data_offsets\": [0, 12]}}", data: twelve), ["is too large"]),
        ]
        for (path, fragments) in cases {
            assertFormatError(try Safetensors.read(path: path), contains: [path] + fragments)
        }
        let short = temporaryFolder() + "/short.safetensors"
        writeBytes([1, 2, 3], short)
        assertFormatError(try Safetensors.read(path: short), contains: ["byte 0", "the file is 3 bytes long"])
        assertFormatError(try Safetensors.read(path: temporaryFolder()), contains: ["not a regular file"])
    }

    func testEveryTruncationOfAGoodFileIsAnErrorNotACrash() throws {
        let good = try Data(contentsOf: URL(fileURLWithPath: fixture("f32.safetensors")))
        let dir = temporaryFolder()
        for cut in 0..<good.count {
            let path = dir + "/cut\(cut).safetensors"
            writeBytes(Array(good.prefix(cut)), path)
            XCTAssertThrowsError(try Safetensors.read(path: path), "cut at \(cut)")
        }
    }

    func testHeaderPaddingAndEmptyHeader() throws {
        XCTAssertEqual(try Safetensors.read(path: file("{}")), [:])
        let data: [UInt8] = [0, 0, 0x80, 0x3F]
        XCTAssertEqual(try Safetensors.read(path: file("  {\"x\": {\"dtype\": \"F32\", \"shape\": [], \"data_offsets\": [0, 4]}}  ", data: data))["x"]?.data, [1])
    }
}
