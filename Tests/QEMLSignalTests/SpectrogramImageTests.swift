import XCTest
import QEMLTensor
@testable import QEMLSignal

final class SpectrogramImageTests: XCTestCase {
    func testChecksumsMatchTheirStandards() {
        XCTAssertEqual(PNGEncoder.crc32(Array("123456789".utf8)), 0xCBF4_3926)  // CRC-32/ISO-HDLC check value
        XCTAssertEqual(PNGEncoder.adler32(Array("Wikipedia".utf8)), 0x11E6_0398)
        let big = (0..<100_000).map { UInt8($0 % 251) }
        var a: UInt32 = 1, b: UInt32 = 0
        for v in big { a = (a + UInt32(v)) % 65521; b = (b + a) % 65521 }
        XCTAssertEqual(PNGEncoder.adler32(big), b << 16 | a)
    }

    func testDeflateRoundTrips() throws {
        var data: [UInt8] = []
        for row in 0..<50 { data += [0] + (0..<300).map { UInt8(($0 / 7 + row / 5) % 256) } }
        data += (0..<1000).map { _ in UInt8.random(in: 0...255) }
        let z = PNGEncoder.zlib(data, rowStride: 301)
        XCTAssertLessThan(z.count, data.count)
        XCTAssertEqual(try Inflate.zlib(z), data)
    }

    func testPictureIsAValidPNGWithAxes() throws {
        let bins = 129, frames = 188
        let spec = Tensor(shape: [1, 1, bins, frames], data: (0..<(bins * frames)).map { Float(($0 / frames) % 17) - 8 })
        let png = try SpectrogramImage.png(spec, sampleRate: 12_000, hop: 64, nFFT: 256, unit: "dB")
        XCTAssertEqual(Array(png[0..<8]), [0x89, 0x50, 0x4E, 0x47, 0x0D, 0x0A, 0x1A, 0x0A])
        var i = 8, width = 0, height = 0, idat: [UInt8] = [], types: [String] = []
        while i + 12 <= png.count {
            let n = Int(png[i]) << 24 | Int(png[i + 1]) << 16 | Int(png[i + 2]) << 8 | Int(png[i + 3])
            let body = Array(png[(i + 4)..<(i + 8 + n)])
            let crc = UInt32(png[i + 8 + n]) << 24 | UInt32(png[i + 9 + n]) << 16 | UInt32(png[i + 10 + n]) << 8 | UInt32(png[i + 11 + n])
            XCTAssertEqual(PNGEncoder.crc32(body), crc)
            let type = String(decoding: body[0..<4], as: UTF8.self)
            types.append(type)
            if type == "IHDR" {
                width = Int(body[4]) << 24 | Int(body[5]) << 16 | Int(body[6]) << 8 | Int(body[7])
                height = Int(body[8]) << 24 | Int(body[9]) << 16 | Int(body[10]) << 8 | Int(body[11])
            }
            if type == "IDAT" { idat += body[4...] }
            i += 12 + n
        }
        XCTAssertEqual(types, ["IHDR", "PLTE", "IDAT", "IEND"])
        let raw = try Inflate.zlib(idat)
        XCTAssertEqual(raw.count, (width + 1) * height)
        // Low frequencies at the bottom: the plot's bottom-left pixel has row 0's value (−8:
        // the darkest level), black text and axes exist, the margin is white.
        let pixel = { (x: Int, y: Int) in raw[y * (width + 1) + 1 + x] }
        XCTAssertEqual(pixel(84, 34 + 256 - 1), 0)
        XCTAssertEqual(pixel(0, 0), Canvas.white)
        XCTAssertTrue(raw.contains(Canvas.black))
    }

    /// Every character of the units the CLI writes (`qemlc spectrogram`) has a glyph.
    func testFontCoversUnitLabels() {
        for label in ["dB", "log1p |X|", "|X|²", "|X|", "power", "magnitude", "mel", "kHz", "s", "-0.25", "(a/b)"] {
            for ch in label where ch != " " { XCTAssertNotNil(BitmapFont.glyphs[ch], "\(ch) in \(label)") }
        }
    }

    func testTickLabels() {
        XCTAssertEqual(SpectrogramImage.niceStep(6000, target: 6), 1000)
        XCTAssertEqual(SpectrogramImage.niceStep(0.99, target: 7), 0.2)
        XCTAssertEqual(SpectrogramImage.hertzLabel(2500, step: 500), "2.5k")
        XCTAssertEqual(SpectrogramImage.hertzLabel(250, step: 50), "250")
        XCTAssertEqual(SpectrogramImage.decimalLabel(0.05, step: 0.05), "0.05")
        XCTAssertEqual(SpectrogramImage.decimalLabel(-20, step: 20), "-20")
        XCTAssertThrowsError(try SpectrogramImage.png(Tensor(shape: [3], data: [1, 2, 3]), sampleRate: 1, hop: 1, nFFT: 4))
    }
}

/// Just enough inflate (stored and fixed-Huffman blocks) to check what PNGEncoder writes.
enum Inflate {
    struct Bad: Error {}

    static func zlib(_ z: [UInt8]) throws -> [UInt8] {
        guard z.count >= 6, (Int(z[0]) << 8 | Int(z[1])) % 31 == 0, z[0] & 0x0F == 8 else { throw Bad() }
        var pos = 16  // bit position after the 2-byte header
        func bit() throws -> Int {
            guard pos / 8 < z.count - 4 else { throw Bad() }
            defer { pos += 1 }
            return Int(z[pos / 8] >> (pos % 8)) & 1
        }
        func bits(_ n: Int) throws -> Int { var v = 0; for k in 0..<n { v |= try bit() << k }; return v }
        func code(_ n: Int) throws -> Int { var v = 0; for _ in 0..<n { v = v << 1 | (try bit()) }; return v }
        func literal() throws -> Int {
            var v = try code(7)
            if v <= 0b0010111 { return 256 + v }
            v = v << 1 | (try bit())
            if v >= 0x30 && v <= 0xBF { return v - 0x30 }
            if v >= 0xC0 && v <= 0xC7 { return 280 + v - 0xC0 }
            v = v << 1 | (try bit())
            return 144 + v - 0x190
        }
        let lBase = [3, 4, 5, 6, 7, 8, 9, 10, 11, 13, 15, 17, 19, 23, 27, 31, 35, 43, 51, 59, 67, 83, 99, 115, 131, 163, 195, 227, 258]
        let lExtra = [0, 0, 0, 0, 0, 0, 0, 0, 1, 1, 1, 1, 2, 2, 2, 2, 3, 3, 3, 3, 4, 4, 4, 4, 5, 5, 5, 5, 0]
        let dBase = [1, 2, 3, 4, 5, 7, 9, 13, 17, 25, 33, 49, 65, 97, 129, 193, 257, 385, 513, 769, 1025, 1537, 2049, 3073,
                     4097, 6145, 8193, 12289, 16385, 24577]
        var out: [UInt8] = []
        var final = 0
        repeat {
            final = try bit()
            let type = try bits(2)
            if type == 0 {
                pos = (pos + 7) / 8 * 8
                let len = try bits(16)
                _ = try bits(16)
                for _ in 0..<len { out.append(UInt8(try bits(8))) }
            } else if type == 1 {
                while true {
                    let s = try literal()
                    if s < 256 { out.append(UInt8(s)); continue }
                    if s == 256 { break }
                    let len = lBase[s - 257] + (try bits(lExtra[s - 257]))
                    let dc = try code(5)
                    let dist = dBase[dc] + (try bits(dc < 4 ? 0 : dc / 2 - 1))
                    guard dist <= out.count else { throw Bad() }
                    for _ in 0..<len { out.append(out[out.count - dist]) }
                }
            } else { throw Bad() }
        } while final == 0
        let a = PNGEncoder.adler32(out)
        let tail = z.suffix(4)
        guard Array(tail) == [UInt8(a >> 24), UInt8(a >> 16 & 0xFF), UInt8(a >> 8 & 0xFF), UInt8(a & 0xFF)] else { throw Bad() }
        return out
    }
}
