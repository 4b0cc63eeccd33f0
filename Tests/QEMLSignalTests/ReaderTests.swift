import Foundation
import XCTest
import QEMLTensor
@testable import QEMLSignal

final class WAVReaderTests: XCTestCase {
    /// Every encoding, decoded as soundfile (librosa's reader) decodes it.
    func testDecodesLikeSoundfile() throws {
        let cases = try XCTUnwrap(Fixtures.json("wav.json") as? [[String: Any]])
        XCTAssertEqual(cases.count, 8)
        for c in cases {
            let file = c.string("file")!
            let rec = try WAVReader.read(Fixtures.path(file))
            XCTAssertEqual(rec.sampleRate, c.int("sample_rate"), file)
            let expected = try XCTUnwrap(c["channels"] as? [[NSNumber]]).map { $0.map(\.floatValue) }
            XCTAssertEqual(rec.channels.count, expected.count, file)
            for (a, e) in zip(rec.channels, expected) { assertClose(a, e, rel: 1e-6, floorShare: 1e-7, file) }
        }
    }

    /// A minimal 16-bit file with a LIST chunk of odd size (padded) before the data.
    private func wav(format: UInt16 = 1, channels: UInt16 = 1, rate: UInt32 = 8000, bits: UInt16 = 16,
                     blockAlign: UInt16? = nil, extraChunks: [UInt8] = [], samples: [Int16] = [0, 16384, -32768, 32767],
                     dataSize: UInt32? = nil, magic: String = "RIFF") -> [UInt8] {
        var b: [UInt8] = []
        func p16(_ v: UInt16) { b += [UInt8(v & 0xff), UInt8(v >> 8)] }
        func p32(_ v: UInt32) { p16(UInt16(v & 0xffff)); p16(UInt16(v >> 16)) }
        b += Array(magic.utf8); p32(0); b += Array("WAVE".utf8)
        b += Array("fmt ".utf8); p32(16); p16(format); p16(channels); p32(rate)
        p32(rate * UInt32(channels) * UInt32(bits / 8)); p16(blockAlign ?? channels * bits / 8); p16(bits)
        b += extraChunks
        b += Array("data".utf8); p32(dataSize ?? UInt32(samples.count * 2))
        for s in samples { p16(UInt16(bitPattern: s)) }
        return b
    }

    private func decode(_ bytes: [UInt8]) throws -> Recording { try WAVReader.decode(Data(bytes), path: "x.wav") }

    private func assertError(_ bytes: [UInt8], _ text: String, file: StaticString = #filePath, line: UInt = #line) {
        XCTAssertThrowsError(try decode(bytes), file: file, line: line) { e in
            XCTAssertEqual("\(e)", text, file: file, line: line)
        }
    }

    func testSkipsUnknownChunksWithPadding() throws {
        let list = Array("LIST".utf8) + [3, 0, 0, 0] + Array("abc".utf8) + [0]
        let rec = try decode(wav(extraChunks: list))
        XCTAssertEqual(rec.channels, [[0, 0.5, -1, Float(32767) / 32768]])
        XCTAssertEqual(rec.sampleRate, 8000)
    }

    func testRefusesBadFilesWithClearErrors() {
        assertError(wav(magic: "RIFX"), "x.wav: byte 0: big-endian WAV (RIFX) is not supported\n  fix: convert it to little-endian RIFF, e.g. `sox in.wav -L out.wav`")
        assertError(Array("RIFF".utf8), "x.wav: byte 0: too short for a WAV file (4 bytes; a header alone is 44)\n  fix: the file is truncated: export it again")
        assertError(wav(dataSize: 1_000_000), "x.wav: byte 36: the data chunk says 1000000 bytes but only 8 follow\n  fix: the file is truncated or its header lies: export it again")
        assertError(wav(dataSize: 0xFFFF_FFFF), "x.wav: byte 36: the data chunk says 4294967295 bytes but only 8 follow\n  fix: the file is truncated or its header lies: export it again")
        assertError(wav(extraChunks: Array("junk".utf8) + [0xff, 0xff, 0xff, 0x7f]),
                    "x.wav: byte 36: chunk 'junk' says 2147483647 bytes but only 16 follow\n  fix: the file is truncated or corrupt: export it again")
        assertError(wav(channels: 0, blockAlign: 0), "x.wav: byte 22: the file declares 0 channels\n  fix: the file is corrupt: export it again")
        assertError(wav(rate: 0), "x.wav: byte 24: the file declares a sample rate of 0 Hz\n  fix: the file is corrupt: export it again")
        assertError(wav(blockAlign: 4), "x.wav: byte 32: block align 4 does not match 1 channel(s) × 2 bytes\n  fix: the file is corrupt: export it again")
        assertError(wav(format: 2), "x.wav: byte 20: compressed WAV (ADPCM) is not supported\n  fix: convert it to PCM, e.g. `sox in.wav -e signed -b 16 out.wav`")
        assertError(wav(bits: 12, blockAlign: 1), "x.wav: byte 34: 12-bit PCM samples are not supported\n  fix: use 8/16/24/32-bit PCM or 32/64-bit float")
        assertError(wav(samples: [1, 2, 3], dataSize: 5), "x.wav: byte 36: the data chunk (5 bytes) is not a whole number of 2-byte frames\n  fix: the file is truncated: export it again")
        var noData = wav()
        noData.removeLast(16)
        assertError(noData, "x.wav: header: no 'data' chunk\n  fix: the file holds no samples: export it again")
        assertError(Array("RIFF\0\0\0\0AVIX".utf8), "x.wav: byte 0: not a WAV file (expected 'RIFF' … 'WAVE')\n  fix: pass a .wav recording, or a .csv/.npy file")
    }

    func testEveryTruncationIsAnErrorNotACrash() throws {
        let full = try Data(contentsOf: URL(fileURLWithPath: Fixtures.path("wavex_pcm_16_2ch.wav")))
        for n in 0..<full.count {
            XCTAssertThrowsError(try WAVReader.decode(full.prefix(n), path: "t.wav"), "prefix \(n)")
        }
        XCTAssertNoThrow(try WAVReader.decode(full, path: "t.wav"))
    }

    func testChannelSelection() throws {
        let rec = try WAVReader.read(Fixtures.path("wav_pcm_16_2ch.wav"))
        XCTAssertEqual(try rec.channel(1, path: "a.wav"), rec.channels[1])
        XCTAssertThrowsError(try rec.channel(2, path: "a.wav")) { e in
            XCTAssertEqual("\(e)", "a.wav: channels: channel 2 requested but the file has 2 channels\n  fix: pass --channel between 0 and 1")
        }
    }

    func testWriterRoundTripsAndRefusesToOverwrite() throws {
        let dir = FileManager.default.temporaryDirectory.appendingPathComponent("qemlc-wav-\(getpid())-\(UInt32.random(in: 0 ... .max))")
        try FileManager.default.createDirectory(at: dir, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: dir) }
        let left: [Float] = [0, 0.25, -0.5, 0.999, -1, 1.5], right: [Float] = [0.1, 0.2, 0.3, 0.4, 0.5, 0.6]
        let p16 = dir.appendingPathComponent("a.wav").path
        try WAVWriter.write([left], sampleRate: 12000, to: p16)
        let r16 = try WAVReader.read(p16)
        XCTAssertEqual(r16.sampleRate, 12000)
        XCTAssertEqual(r16.channels[0], [0, 0.25, -0.5, Float(32735) / 32768, -1, Float(32767) / 32768])  // clipped
        let pf = dir.appendingPathComponent("b.wav").path
        try WAVWriter.write([left, right], sampleRate: 44100, to: pf, encoding: .float32)
        XCTAssertEqual(try WAVReader.read(pf), Recording(channels: [left, right], sampleRate: 44100))
        XCTAssertThrowsError(try WAVWriter.write([left], sampleRate: 12000, to: p16)) { e in
            XCTAssertEqual((e as? FileFormatError)?.message, "already exists")
        }
        XCTAssertNoThrow(try WAVWriter.write([right], sampleRate: 12000, to: p16, overwrite: true))
        XCTAssertEqual(try FileManager.default.contentsOfDirectory(atPath: dir.path).sorted(), ["a.wav", "b.wav"])  // no temp files left
        // NPY signals: [samples, channels] like soundfile.
        let npy = dir.appendingPathComponent("s.npy").path
        try NPY.write(Tensor(shape: [3, 2], data: [1, -1, 2, -2, 3, -3]), to: npy)
        XCTAssertEqual(try SignalFile.read(npy), Recording(channels: [[1, 2, 3], [-1, -2, -3]], sampleRate: nil))
        try NPY.write(Tensor(shape: [1, 2, 3], data: [1, 2, 3, 4, 5, 6]), to: npy, overwrite: true)
        XCTAssertThrowsError(try SignalFile.read(npy)) { e in
            XCTAssertEqual((e as? FileFormatError)?.message, "a signal must be 1-D [samples] or 2-D [samples, channels], this array is [1,2,3]")
        }
    }
}

final class CSVReaderTests: XCTestCase {
    let text = """
        # vibration, 12 kHz
        time,accel,temp

        0.0, 0.5, 20
        0.1,-0.25,20   # a comment
        0.2,1e-3,21
        """

    func testColumnByNameOrIndex() throws {
        XCTAssertEqual(try CSVReader.parse(text, path: "s.csv", column: "accel").channels, [[0.5, -0.25, 0.001]])
        XCTAssertEqual(try CSVReader.parse(text, path: "s.csv", column: "2").channels, [[20, 20, 21]])
        XCTAssertEqual(try CSVReader.parse(text, path: "s.csv").channels.count, 3)
        XCTAssertEqual(try CSVReader.parse("1\n2\n3\n", path: "s.csv").channels, [[1, 2, 3]])
        XCTAssertEqual(try CSVReader.parse("1;2\n3;4", path: "s.csv", column: "1").channels, [[2, 4]])
    }

    /// Windows line ends: "\r\n" is one Swift Character, so splitting Characters at "\n" once
    /// read a whole CRLF file as one line (its numbers then taken for a header: "no data rows").
    func testWindowsLineEnds() throws {
        XCTAssertEqual(try CSVReader.parse("1\r\n2\r\n3\r\n", path: "s.csv").channels, [[1, 2, 3]])
        let crlf = text.replacingOccurrences(of: "\n", with: "\r\n")
        XCTAssertEqual(try CSVReader.parse(crlf, path: "s.csv", column: "accel").channels, [[0.5, -0.25, 0.001]])
        XCTAssertThrowsError(try CSVReader.parse(crlf + "\r\n0.3,abc,22\r\n", path: "s.csv", column: "accel")) { e in
            XCTAssertEqual("\(e)", "s.csv: line 7, column 2: 'abc' is not a number\n  fix: remove or fix the cell (comments start with #)")
        }
    }

    func testErrorsNameLineAndColumn() {
        XCTAssertThrowsError(try CSVReader.parse(text + "\n0.3,abc,22", path: "s.csv", column: "accel")) { e in
            XCTAssertEqual("\(e)", "s.csv: line 7, column 2: 'abc' is not a number\n  fix: remove or fix the cell (comments start with #)")
        }
        XCTAssertThrowsError(try CSVReader.parse(text, path: "s.csv", column: "speed")) { e in
            XCTAssertEqual("\(e)", "s.csv: line 2: no column named 'speed'\n  fix: use one of: time, accel, temp")
        }
        XCTAssertThrowsError(try CSVReader.parse(text, path: "s.csv", column: "5")) { e in
            XCTAssertEqual("\(e)", "s.csv: line 2: column 5 requested but rows have 3 columns\n  fix: pass --column between 0 and 2 or a header name (time, accel, temp)")
        }
        XCTAssertThrowsError(try CSVReader.parse("a,b\n1,2\n3", path: "s.csv", column: "b")) { e in
            XCTAssertEqual("\(e)", "s.csv: line 3: has 1 column(s), column 2 is missing\n  fix: give every row the same number of columns")
        }
        XCTAssertThrowsError(try CSVReader.parse("1\nnan\n", path: "s.csv")) { e in
            XCTAssertEqual((e as? FileFormatError)?.place, "line 2, column 1")
        }
        XCTAssertThrowsError(try CSVReader.parse("1\n1e39\n", path: "s.csv"))
        XCTAssertThrowsError(try CSVReader.parse("# nothing\n\n", path: "s.csv"))
        XCTAssertThrowsError(try SignalFile.read("x.mp3")) { e in
            XCTAssertEqual((e as? FileFormatError)?.message, "unknown signal format '.mp3'")
        }
    }
}
