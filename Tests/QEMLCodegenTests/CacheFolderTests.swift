import Foundation
import XCTest
@testable import QEMLCodegen

/// The cache folder's size cap, least-recently-used eviction and hit counts.
final class CacheFolderTests: XCTestCase {
    var folder: CacheFolder!

    override func setUpWithError() throws {
        let url = FileManager.default.temporaryDirectory.appendingPathComponent("qemlc-cache-folder-\(getpid())-\(UInt64.random(in: 0...UInt64.max))")
        try FileManager.default.createDirectory(at: url, withIntermediateDirectories: true)
        folder = CacheFolder(directory: url)
    }

    override func tearDownWithError() throws { try? FileManager.default.removeItem(at: folder.directory) }

    func testSizesParse() throws {
        XCTAssertEqual(CacheFolder.parseSize("123"), 123)
        XCTAssertEqual(CacheFolder.parseSize("500M"), 500 << 20)
        XCTAssertEqual(CacheFolder.parseSize("2G"), 2 << 30)
        XCTAssertEqual(CacheFolder.parseSize("2g"), 2 << 30)
        XCTAssertEqual(CacheFolder.parseSize("1.5K"), 1536)
        XCTAssertEqual(CacheFolder.parseSize("3GiB"), 3 << 30)
        XCTAssertEqual(CacheFolder.parseSize("64KB"), 64 << 10)
        for bad in ["", "lots", "-1G", "2X", "G", "nan", "1e30T"] { XCTAssertNil(CacheFolder.parseSize(bad), bad) }
        XCTAssertEqual(try CacheFolder.limit(environment: [:]), 2 << 30)
        XCTAssertEqual(try CacheFolder.limit(environment: ["QEMLC_CACHE_MAX": "500M"]), 500 << 20)
        XCTAssertThrowsError(try CacheFolder.limit(environment: ["QEMLC_CACHE_MAX": "big"])) { e in
            XCTAssertTrue("\(e)".contains("QEMLC_CACHE_MAX='big' is not a size"), "\(e)")
        }
    }

    /// Writes an entry of `bytes` bytes last used `age` seconds ago.
    func entry(_ name: String, bytes: Int, age: Double) throws {
        try [UInt8](repeating: 1, count: bytes).withUnsafeBytes { try folder.store(name, parts: [$0]) }
        let when = Date().timeIntervalSince1970 - age
        var times = [timespec(tv_sec: Int(when), tv_nsec: 0), timespec(tv_sec: Int(when), tv_nsec: 0)]
        XCTAssertEqual(utimensat(AT_FDCWD, folder.directory.appendingPathComponent(name).path, &times, 0), 0)
    }

    func testEvictionDropsTheLeastRecentlyUsedFirstAndKeepsTheNewest() throws {
        try entry("a.o.qc", bytes: 1000, age: 300)
        try entry("b.pw.qc", bytes: 1000, age: 100)
        try entry("c.o.qc", bytes: 1000, age: 200)
        try entry("unrelated.txt", bytes: 5000, age: 900)  // not an entry: never counted or deleted
        folder.touch(folder.directory.appendingPathComponent("a.o.qc"))  // a hit makes it the newest
        let gone = folder.evict(limit: 2000, keep: nil)
        XCTAssertEqual(gone.map(\.name), ["c.o.qc"])
        XCTAssertEqual(Set(folder.entries().map(\.name)), ["a.o.qc", "b.pw.qc"])
        XCTAssertEqual(folder.evict(limit: 0, keep: "b.pw.qc").map(\.name), ["a.o.qc"])
        XCTAssertEqual(folder.entries().map(\.name), ["b.pw.qc"])
        XCTAssertTrue(FileManager.default.fileExists(atPath: folder.directory.appendingPathComponent("unrelated.txt").path))
    }

    func testHitsAreCountedPerKindUntilCleared() throws {
        folder.record(.object, hit: true)
        folder.record(.object, hit: true)
        folder.record(.object, hit: false)
        folder.record(.packedWeights, hit: false)
        let u = folder.usage()
        XCTAssertEqual(u[.object]?.hits, 2)
        XCTAssertEqual(u[.object]?.misses, 1)
        XCTAssertEqual(u[.packedWeights]?.hits, 0)
        XCTAssertEqual(u[.packedWeights]?.misses, 1)
        try entry("x.o.qc", bytes: 10, age: 0)
        XCTAssertEqual(folder.clear().map(\.name), ["x.o.qc"])
        XCTAssertEqual(folder.entries().count, 0)
        XCTAssertEqual(folder.usage()[.object]?.hits, 0)
    }
}
