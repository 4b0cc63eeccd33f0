import Foundation

/// One block of the weights payload, as the runtime reads it: a kernel's packed params (f32), a
/// circuit's numbers (f64). Bytes, so the loader and the file format do not depend on the element
/// type (little-endian, as every supported target).
struct WeightBlock: Sendable {
    var bytes: [UInt8]

    init(floats: [Float]) {
        bytes = [UInt8](repeating: 0, count: floats.count * 4)
        bytes.withUnsafeMutableBytes { raw in
            for (i, f) in floats.enumerated() { raw.storeBytes(of: f.bitPattern.littleEndian, toByteOffset: 4 * i, as: UInt32.self) }
        }
    }

    init(doubles: [Double]) {
        bytes = [UInt8](repeating: 0, count: doubles.count * 8)
        bytes.withUnsafeMutableBytes { raw in
            for (i, d) in doubles.enumerated() { raw.storeBytes(of: d.bitPattern.littleEndian, toByteOffset: 8 * i, as: UInt64.self) }
        }
    }
}

/// The `<model>.weights` file: a 64-byte header, then every weight block, each starting at a
/// 64-byte boundary (the file is read into a 64-byte aligned buffer, so blocks are aligned as
/// the kernels' ABI requires).
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
/// The runtime finds a block at its byte offset (generated into `<model>_runtime.c`).
enum WeightsImage {
    static let magic: [UInt8] = Array("QEMLWTS".utf8) + [0]
    static let formatVersion = 1
    static let headerBytes = 64
    static let alignment = 64

    /// Byte offsets of the blocks in the payload, and the payload's size.
    static func offsets(_ blocks: [WeightBlock]) -> (offsets: [Int], totalBytes: Int) {
        var offsets: [Int] = [], total = 0
        for b in blocks {
            offsets.append(total)
            total += (b.bytes.count + alignment - 1) / alignment * alignment
        }
        return (offsets, max(total, alignment))
    }

    static func fileBytes(_ blocks: [WeightBlock]) -> Int { headerBytes + offsets(blocks).totalBytes }

    /// The payload (blocks at their offsets, zeros between).
    static func payload(_ blocks: [WeightBlock]) -> [UInt8] {
        let (offsets, total) = offsets(blocks)
        var bytes = [UInt8](repeating: 0, count: total)
        for (b, o) in zip(blocks, offsets) { bytes.replaceSubrange(o..<(o + b.bytes.count), with: b.bytes) }
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
    static func file(_ blocks: [WeightBlock], modelHash: UInt64) -> [UInt8] {
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
