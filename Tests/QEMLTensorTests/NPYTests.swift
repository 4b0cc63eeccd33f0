import XCTest
@testable import QEMLTensor

final class NPYTests: XCTestCase {
    let values: [Float] = [-1.5, 0.1, 2.0, 3.25, -0.333, 65504.0]
    let ints: [Float] = [-3, 0, 7, 100, -128, 127]

    func testReadsEveryFloatDtypeAndVersion() throws {
        for name in ["f4.npy", "f8.npy", "f4_v2.npy", "f4_v3.npy"] {
            let t = try NPY.read(path: fixture(name))
            XCTAssertEqual(t.shape, [2, 3], name)
            XCTAssertEqual(t.data, values, name)
        }
        let half = try NPY.read(path: fixture("f2.npy"))
        XCTAssertEqual(half.data, try NPY.read(path: fixture("expected_f2.npy")).data)
        XCTAssertNotEqual(half.data[1], 0.1)  // really went through binary16
    }

    func testReadsIntegers() throws {
        for name in ["i1.npy", "i2.npy", "i4.npy", "i8.npy"] {
            let t = try NPY.read(path: fixture(name))
            XCTAssertEqual(t.shape, [2, 3], name)
            XCTAssertEqual(t.data, ints, name)
        }
        XCTAssertEqual(try NPY.read(path: fixture("u1.npy")).data, [0, 1, 2, 128, 254, 255])
    }

    func testScalarVectorAndEmpty() throws {
        let s = try NPY.read(path: fixture("scalar.npy"))
        XCTAssertEqual(s.shape, [])
        XCTAssertEqual(s.data, [2.5])
        XCTAssertEqual(try NPY.read(path: fixture("vector.npy")), Tensor(shape: [5], data: [0, 1, 2, 3, 4]))
        XCTAssertEqual(try NPY.read(path: fixture("empty.npy")).shape, [0, 3])
    }

    func testWriterMatchesNumPyByteForByte() throws {
        // numpy.save of the same <f4 array gives the same bytes: header text, padding, data.
        let t = try NPY.read(path: fixture("f4.npy"))
        let reference = try Data(contentsOf: URL(fileURLWithPath: fixture("f4.npy")))
        XCTAssertEqual(NPY.encode(t), Array(reference))
        XCTAssertEqual(Array(try Data(contentsOf: URL(fileURLWithPath: fixture("vector.npy")))), NPY.encode(Tensor(shape: [5], data: [0, 1, 2, 3, 4])))
    }

    func testRoundTripAndOverwriteRule() throws {
        let dir = temporaryFolder()
        let path = dir + "/x.npy"
        let t = Tensor(shape: [2, 1, 3], data: [1, -2, 3.5, .infinity, 0, -0.0])
        try NPY.write(t, to: path)
        XCTAssertEqual(try NPY.read(path: path), t)
        assertFormatError(try NPY.write(t, to: path), contains: ["x.npy", "already exists"])
        try NPY.write(Tensor(shape: [1], data: [7]), to: path, overwrite: true)
        XCTAssertEqual(try NPY.read(path: path).data, [7])
        // No temporary files are left behind.
        XCTAssertEqual(try FileManager.default.contentsOfDirectory(atPath: dir), ["x.npy"])
    }

    func testWriteIntoMissingFolderFailsClearly() {
        assertFormatError(try NPY.write(Tensor(shape: [1], data: [1]), to: "/nonexistent-qemlc/x.npy"),
                          contains: ["/nonexistent-qemlc/x.npy: the folder '/nonexistent-qemlc' does not exist", "fix: create it first (mkdir -p '/nonexistent-qemlc'), or choose another path"])
    }

    func testBadFilesGiveClearErrors() {
        let cases: [(String, [String])] = [
            ("bad_bigendian.npy", ["big-endian dtype '>f4'", "supported: <f4", "fix:"]),
            ("bad_fortran.npy", ["Fortran-ordered", "ascontiguousarray"]),
            ("bad_object.npy", ["object arrays are not supported"]),
            ("bad_structured.npy", ["structured (record) arrays"]),
            ("bad_complex.npy", ["dtype '<c8' is not supported"]),
            ("bad_truncated.npy", ["needs 24 data bytes but the file has 19", "truncated"]),
            ("bad_extra.npy", ["4 bytes follow the 24 bytes"]),
            ("bad_magic.npy", ["byte 0", "not an .npy file"]),
            ("bad_shape_lie.npy", ["shape [3,3] of <f4 needs 36 data bytes but the file has 24"]),
            ("does-not-exist.npy", ["does-not-exist.npy: no such file", "fix: check the path"]),
        ]
        for (name, fragments) in cases {
            assertFormatError(try NPY.read(path: fixture(name)), contains: [name] + fragments)
        }
    }

    func testDamagedHeaders() {
        func file(_ header: String, version: UInt8 = 1, data: [UInt8] = []) -> [UInt8] {
            let h = Array(header.utf8)
            var b: [UInt8] = [0x93] + Array("NUMPY".utf8) + [version, 0]
            b += version == 1 ? [UInt8(h.count & 0xFF), UInt8(h.count >> 8)] : [UInt8(h.count & 0xFF), UInt8(h.count >> 8), 0, 0]
            return b + h + data
        }
        let cases: [([UInt8], String)] = [
            (file("{'descr': '<f4', 'fortran_order': False, 'shape': (1,), }", version: 4), "format version 4.0 is not supported"),
            (Array(file("{'descr': '<f4', 'fortran_order': False, 'shape': (1,), }").prefix(20)), "runs past the end"),
            (file("['descr']"), "not a Python dict literal"),
            (file("{'descr': '<f4', 'fortran_order': False}"), "'shape' is missing"),
            (file("{'descr': '<f4', 'fortran_order': 0, 'shape': (1,)}"), "'fortran_order' is missing or not True/False"),
            (file("{'descr': '<f4', 'fortran_order': False, 'shape': (-1,)}"), "non-negative"),
            (file("{'descr': '<f4', 'fortran_order': False, 'shape': (1,), 'extra': 1}"), "unexpected header key 'extra'"),
            (file("{'descr': 'f', 'fortran_order': False, 'shape': (1,)}"), "unknown dtype 'f'"),
            (file("{'descr': '<f4', 'fortran_order': False, 'shape': (1,)", data: [0, 0, 0, 0]), "not a Python dict literal"),
        ]
        for (bytes, fragment) in cases {
            assertFormatError(try bytes.withUnsafeBytes { try NPY.decode($0, path: "m.npy") }, contains: ["m.npy", fragment])
        }
        XCTAssertEqual(try [UInt8](file("{'descr': '<f4', 'fortran_order': False, 'shape': (1,)}", version: 2, data: [0, 0, 0x80, 0x3F]))
            .withUnsafeBytes { try NPY.decode($0, path: "ok.npy") }.data, [1])
    }
}
