import Foundation

/// The `<model>.weights` file: a 64-byte header, then every weight block packed in the
/// kernels' layouts, each block starting at a 64-byte boundary (the file is read into a
/// 64-byte aligned buffer, so blocks are aligned as the kernels' ABI requires).
///
///     offset  size  field
///          0     8  magic "QEMLWTS\0"
///          8     4  format version (u32, little-endian)
///         12     4  header bytes (64)
///         16     8  model hash (u64): the structure and target the blocks were packed for
///         24     8  payload bytes (u64)
///         32     8  payload checksum (u64): FNV-1a over the payload's little-endian u64 words
///         40     4  block count (u32)
///         44    20  zero
///
/// Floats are IEEE-754 little-endian (every supported target is little-endian).
enum WeightsImage {
    static let magic: [UInt8] = Array("QEMLWTS".utf8) + [0]
    static let formatVersion = 1
    static let headerBytes = 64
    static let alignmentFloats = 16

    /// Offsets of the blocks in the payload, in floats.
    static func offsets(_ blocks: [[Float]]) -> (offsets: [Int], totalFloats: Int) {
        var offsets: [Int] = [], total = 0
        for b in blocks {
            offsets.append(total)
            total += (b.count + alignmentFloats - 1) / alignmentFloats * alignmentFloats
        }
        return (offsets, max(total, alignmentFloats))
    }

    static func fileBytes(_ blocks: [[Float]]) -> Int { headerBytes + offsets(blocks).totalFloats * 4 }

    /// The payload (blocks at their offsets, zeros between).
    static func payload(_ blocks: [[Float]]) -> [UInt8] {
        let (offsets, total) = offsets(blocks)
        var floats = [Float](repeating: 0, count: total)
        for (b, o) in zip(blocks, offsets) { floats.replaceSubrange(o..<(o + b.count), with: b) }
        var bytes = [UInt8](repeating: 0, count: total * 4)
        bytes.withUnsafeMutableBytes { raw in
            for (i, f) in floats.enumerated() { raw.storeBytes(of: f.bitPattern.littleEndian, toByteOffset: 4 * i, as: UInt32.self) }
        }
        return bytes
    }

    /// FNV-1a over little-endian 64-bit words (the payload is a multiple of 64 bytes).
    static func checksum(_ payload: [UInt8]) -> UInt64 {
        var h: UInt64 = 0xcbf2_9ce4_8422_2325
        payload.withUnsafeBytes { raw in
            var i = 0
            while i + 8 <= raw.count {
                let w = UInt64(littleEndian: raw.loadUnaligned(fromByteOffset: i, as: UInt64.self))
                h = (h ^ w) &* 0x0000_0100_0000_01b3
                i += 8
            }
        }
        return h
    }

    /// The whole file.
    static func file(_ blocks: [[Float]], modelHash: UInt64) -> [UInt8] {
        let body = payload(blocks)
        var header = [UInt8](repeating: 0, count: headerBytes)
        func put<T: FixedWidthInteger>(_ v: T, at offset: Int) {
            withUnsafeBytes(of: v.littleEndian) { for (i, b) in $0.enumerated() { header[offset + i] = b } }
        }
        header.replaceSubrange(0..<8, with: magic)
        put(UInt32(formatVersion), at: 8)
        put(UInt32(headerBytes), at: 12)
        put(modelHash, at: 16)
        put(UInt64(body.count), at: 24)
        put(checksum(body), at: 32)
        put(UInt32(blocks.count), at: 40)
        return header + body
    }
}
