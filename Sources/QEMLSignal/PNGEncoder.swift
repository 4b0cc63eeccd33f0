/// A small PNG writer for palette images (colour type 3, 8 bits per pixel): zlib stream with
/// one fixed-Huffman deflate block whose LZ77 matches look one pixel left and one row up —
/// the redundancy of an upscaled spectrogram with flat-colour margins — plus CRC-32 and
/// Adler-32 as the formats require.
enum PNGEncoder {
    static func encode(width: Int, height: Int, palette: [(UInt8, UInt8, UInt8)], pixels: [UInt8]) -> [UInt8] {
        precondition(pixels.count == width * height && palette.count <= 256)
        var raw: [UInt8] = []
        raw.reserveCapacity((width + 1) * height)
        for y in 0..<height {
            raw.append(0)  // filter: none
            raw.append(contentsOf: pixels[(y * width)..<((y + 1) * width)])
        }
        var out: [UInt8] = [0x89, 0x50, 0x4E, 0x47, 0x0D, 0x0A, 0x1A, 0x0A]
        var ihdr: [UInt8] = []
        ihdr.appendBigEndian(UInt32(width)); ihdr.appendBigEndian(UInt32(height))
        ihdr += [8, 3, 0, 0, 0]  // depth 8, palette, deflate, adaptive filtering, no interlace
        chunk("IHDR", ihdr, into: &out)
        chunk("PLTE", palette.flatMap { [$0.0, $0.1, $0.2] }, into: &out)
        chunk("IDAT", zlib(raw, rowStride: width + 1), into: &out)
        chunk("IEND", [], into: &out)
        return out
    }

    private static func chunk(_ type: String, _ data: [UInt8], into out: inout [UInt8]) {
        out.appendBigEndian(UInt32(data.count))
        let body = Array(type.utf8) + data
        out += body
        out.appendBigEndian(crc32(body))
    }

    static func zlib(_ data: [UInt8], rowStride: Int) -> [UInt8] {
        var w = BitWriter()
        w.bytes = [0x78, 0x01]
        w.write(1, bits: 1)  // final block
        w.write(1, bits: 2)  // fixed Huffman
        var i = 0
        while i < data.count {
            var best = 0, dist = 0
            for d in [1, rowStride] where d <= i && d <= 32768 {
                var l = 0
                while l < 258, i + l < data.count, data[i + l] == data[i + l - d] { l += 1 }
                if l > best { best = l; dist = d }
            }
            if best >= 3 {
                w.writeLength(best)
                w.writeDistance(dist)
                i += best
            } else {
                w.writeLiteral(Int(data[i]))
                i += 1
            }
        }
        w.writeLiteral(256)  // end of block
        w.flush()
        w.bytes.appendBigEndian(adler32(data))
        return w.bytes
    }

    static func crc32(_ data: [UInt8]) -> UInt32 {
        var c: UInt32 = 0xFFFF_FFFF
        for b in data { c = crcTable[Int((c ^ UInt32(b)) & 0xFF)] ^ (c >> 8) }
        return c ^ 0xFFFF_FFFF
    }

    static func adler32(_ data: [UInt8]) -> UInt32 {
        var a: UInt32 = 1, b: UInt32 = 0
        for chunkStart in stride(from: 0, to: data.count, by: 5552) {  // largest run without overflow
            for v in data[chunkStart..<min(chunkStart + 5552, data.count)] { a += UInt32(v); b += a }
            a %= 65521; b %= 65521
        }
        return b << 16 | a
    }

    private static let crcTable: [UInt32] = (0..<256).map { n in
        var c = UInt32(n)
        for _ in 0..<8 { c = c & 1 != 0 ? 0xEDB8_8320 ^ (c >> 1) : c >> 1 }
        return c
    }
}

/// Deflate's bit order: values LSB first, Huffman codes MSB first.
private struct BitWriter {
    var bytes: [UInt8] = []
    private var acc: UInt64 = 0
    private var count = 0

    mutating func write(_ value: Int, bits: Int) {
        acc |= UInt64(value) << UInt64(count)
        count += bits
        while count >= 8 { bytes.append(UInt8(acc & 0xFF)); acc >>= 8; count -= 8 }
    }

    mutating func writeCode(_ code: Int, bits: Int) {
        var r = 0
        for k in 0..<bits where code & (1 << k) != 0 { r |= 1 << (bits - 1 - k) }
        write(r, bits: bits)
    }

    /// RFC 1951 §3.2.6 fixed literal/length code.
    mutating func writeLiteral(_ v: Int) {
        switch v {
        case 0...143: writeCode(0x30 + v, bits: 8)
        case 144...255: writeCode(0x190 + v - 144, bits: 9)
        case 256...279: writeCode(v - 256, bits: 7)
        default: writeCode(0xC0 + v - 280, bits: 8)
        }
    }

    mutating func writeLength(_ len: Int) {
        let base = [3, 4, 5, 6, 7, 8, 9, 10, 11, 13, 15, 17, 19, 23, 27, 31, 35, 43, 51, 59, 67, 83, 99, 115, 131, 163, 195, 227, 258]
        let extra = [0, 0, 0, 0, 0, 0, 0, 0, 1, 1, 1, 1, 2, 2, 2, 2, 3, 3, 3, 3, 4, 4, 4, 4, 5, 5, 5, 5, 0]
        let i = base.lastIndex { $0 <= len }!
        writeLiteral(257 + i)
        if extra[i] > 0 { write(len - base[i], bits: extra[i]) }
    }

    mutating func writeDistance(_ d: Int) {
        let base = [1, 2, 3, 4, 5, 7, 9, 13, 17, 25, 33, 49, 65, 97, 129, 193, 257, 385, 513, 769, 1025, 1537, 2049, 3073,
                    4097, 6145, 8193, 12289, 16385, 24577]
        let i = base.lastIndex { $0 <= d }!
        writeCode(i, bits: 5)
        let extra = i < 4 ? 0 : i / 2 - 1
        if extra > 0 { write(d - base[i], bits: extra) }
    }

    mutating func flush() {
        if count > 0 { bytes.append(UInt8(acc & 0xFF)) }
        acc = 0
        count = 0
    }
}

extension Array where Element == UInt8 {
    mutating func appendBigEndian(_ v: UInt32) {
        append(contentsOf: [UInt8(v >> 24), UInt8(v >> 16 & 0xFF), UInt8(v >> 8 & 0xFF), UInt8(v & 0xFF)])
    }
}
