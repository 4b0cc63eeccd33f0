import Foundation
import QEMLCodegen
import QEMLIR
import QEMLTensor

/// A plan's packed weights on disk, beside the compiled objects, so compiling the same model
/// with the same weights again maps them instead of packing them (packing the edge model's
/// 26 M weights takes ~0.25 s). An entry (`KEY.pw.qc`) is
///
///     "QEMLCPWT" | format version (u32 LE) | blob count (u32 LE) | region bytes (u64 LE)
///     | BulkHash of the table and region (16 bytes) | table: per blob (offset u64 LE, bytes u64 LE)
///     | zeros up to a multiple of 64 | the region (`PackedWeights`, byte for byte)
///
/// The key covers everything the packed bytes depend on: the graph after the passes (printed),
/// the weights' names, shapes and values, the target, the backend and the compiler build. An
/// entry that is short, damaged or does not fit the plan counts as a miss and is rewritten.
struct PackedWeightsCache {
    let folder: CacheFolder
    static let magic = Array("QEMLCPWT".utf8)
    static let formatVersion: UInt32 = 1
    static let fixedHeader = 8 + 4 + 4 + 8 + 16

    func path(_ key: String) -> URL { folder.directory.appendingPathComponent(key + CacheFolder.Kind.packedWeights.rawValue) }

    static func key(graph: Graph, weights: [String: Tensor], target: TargetDescription, backend: ConvBackend) -> String {
        var h = BulkHash()
        h.update("qemlc-packed-weights-v\(formatVersion)")
        h.update(CacheFolder.compilerBuild)
        h.update(target.text)
        h.update(backend.rawValue)
        h.update(QIR.print(graph))
        for name in weights.keys.sorted() {
            guard let t = weights[name] else { continue }
            h.update(name)
            h.update(t.shape.map(String.init).joined(separator: "x"))
            h.update(t.data)
        }
        return h.hex
    }

    enum Lookup {
        case hit(PackedWeights)
        case miss
        case corrupt(String)
    }

    /// The entry for `key` with `blobCount` blobs, mapped and verified.
    func lookup(_ key: String, blobCount: Int) -> Lookup {
        let result = read(key, blobCount: blobCount)
        let hit: Bool
        if case .hit = result { hit = true } else { hit = false }
        if hit { folder.touch(path(key)) }
        folder.record(.packedWeights, hit: hit)
        return result
    }

    private func read(_ key: String, blobCount: Int) -> Lookup {
        guard let file = try? MappedFile(path: path(key).path) else { return .miss }
        let b = file.bytes
        guard b.count >= Self.fixedHeader, Array(b[0..<8]) == Self.magic else { return .corrupt("bad magic") }
        guard file.littleEndianUInt(at: 8, size: 4) == UInt64(Self.formatVersion) else { return .corrupt("format version") }
        let count = Int(file.littleEndianUInt(at: 12, size: 4))
        guard count == blobCount else { return .corrupt("\(count) blobs for a plan of \(blobCount) steps") }
        let regionBytes = file.littleEndianUInt(at: 16, size: 8)
        let regionStart = Self.regionStart(blobs: count)
        guard regionBytes == UInt64(b.count - min(b.count, regionStart)), b.count >= regionStart else {
            return .corrupt("size: \(b.count) bytes, expected \(UInt64(regionStart) &+ regionBytes)")
        }
        var h = BulkHash()  // as `store` hashes: the table with its padding, then the region
        h.update(UnsafeRawBufferPointer(rebasing: b[Self.fixedHeader..<regionStart]))
        h.update(UnsafeRawBufferPointer(rebasing: b[regionStart...]))
        guard Array(b[24..<40]) == h.digest else { return .corrupt("checksum mismatch") }
        var blobs: [(offset: Int, bytes: Int)] = []
        for i in 0..<count {
            let o = Int(file.littleEndianUInt(at: Self.fixedHeader + 16 * i, size: 8))
            let n = Int(file.littleEndianUInt(at: Self.fixedHeader + 16 * i + 8, size: 8))
            guard o % 64 == 0, n >= 0, o <= Int(regionBytes), n <= Int(regionBytes) - o else { return .corrupt("blob \(i) lies outside the entry") }
            blobs.append((o, n))
        }
        return .hit(PackedWeights(mapping: file, offset: regionStart, byteCount: Int(regionBytes), blobs: blobs))
    }

    func store(_ key: String, _ weights: PackedWeights) throws {
        var table: [UInt8] = []
        for blob in weights.blobs { table += le(UInt64(blob.offset), 8) + le(UInt64(blob.bytes), 8) }
        let pad = [UInt8](repeating: 0, count: Self.regionStart(blobs: weights.blobs.count) - Self.fixedHeader - table.count)
        let hashed = table + pad
        var h = BulkHash()
        h.update(hashed)
        h.update(weights.region)
        var header = Self.magic + le(UInt64(Self.formatVersion), 4) + le(UInt64(weights.blobs.count), 4) + le(UInt64(weights.byteCount), 8)
        header += h.digest
        try header.withUnsafeBytes { hp in
            try hashed.withUnsafeBytes { tp in
                try folder.store(key + CacheFolder.Kind.packedWeights.rawValue, parts: [hp, tp, weights.region])
            }
        }
    }

    /// The region starts after the header and the table, at a multiple of 64 bytes.
    static func regionStart(blobs: Int) -> Int { (fixedHeader + 16 * blobs + 63) / 64 * 64 }

    private func le(_ v: UInt64, _ n: Int) -> [UInt8] { littleEndianBytes(v, count: n) }
}
