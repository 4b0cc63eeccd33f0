import Foundation
import QEMLTensor

/// RIFF/WAVE reader: PCM 8-bit (unsigned), 16-, 24- and 32-bit (signed), IEEE float 32/64, and
/// WAVE_FORMAT_EXTENSIBLE carrying either. Samples become floats the way SciPy users normalise
/// them and librosa/soundfile do: 8-bit (v − 128)/128, 16-bit v/2¹⁵, 24-bit v/2²³, 32-bit v/2³¹,
/// floats unchanged. Unknown chunks (LIST, fact, cue, …) are skipped with their pad byte.
public enum WAVReader {
    public static func read(_ path: String) throws -> Recording {
        try requireInputFile(path)
        let data: Data
        do { data = try Data(contentsOf: URL(fileURLWithPath: path)) } catch {
            throw FileFormatError(path: path, place: "file", message: "cannot be read (\(error.localizedDescription))",
                                  fix: "check the path and permissions")
        }
        return try decode(data, path: path)
    }

    public static func decode(_ data: Data, path: String) throws -> Recording {
        let b = [UInt8](data)
        func fail(_ place: String, _ message: String, _ fix: String? = nil) -> FileFormatError {
            FileFormatError(path: path, place: place, message: message, fix: fix)
        }
        guard b.count >= 12 else {
            throw fail("byte 0", "too short for a WAV file (\(b.count) bytes; a header alone is 44)", "the file is truncated: export it again")
        }
        let magic = String(decoding: b[0..<4], as: UTF8.self)
        if magic == "RIFX" {
            throw fail("byte 0", "big-endian WAV (RIFX) is not supported", "convert it to little-endian RIFF, e.g. `sox in.wav -L out.wav`")
        }
        if magic == "RF64" {
            throw fail("byte 0", "RF64 (WAV larger than 4 GB) is not supported", "cut the recording into shorter RIFF files")
        }
        guard magic == "RIFF", String(decoding: b[8..<12], as: UTF8.self) == "WAVE" else {
            throw fail("byte 0", "not a WAV file (expected 'RIFF' … 'WAVE')", "pass a .wav recording, or a .csv/.npy file")
        }
        var format: Format?
        var dataRange: Range<Int>?
        var pos = 12
        while pos + 8 <= b.count {
            let id = String(decoding: b[pos..<(pos + 4)], as: UTF8.self)
            let size = Int(u32(b, pos + 4))
            let body = pos + 8
            let remaining = b.count - body
            if id == "data" {
                guard size <= remaining else {
                    throw fail("byte \(pos)", "the data chunk says \(size) bytes but only \(remaining) follow",
                               "the file is truncated or its header lies: export it again")
                }
                dataRange = body..<(body + size)
            } else if size > remaining {
                throw fail("byte \(pos)", "chunk '\(printable(id))' says \(size) bytes but only \(remaining) follow",
                           "the file is truncated or corrupt: export it again")
            }
            if id == "fmt " { format = try parseFormat(b, body, size, pos, fail) }
            pos = body + size + (size & 1)  // chunks are padded to even length
        }
        guard let format else { throw fail("header", "no 'fmt ' chunk", "the file is not a valid WAV: export it again") }
        guard let dataRange else { throw fail("header", "no 'data' chunk", "the file holds no samples: export it again") }
        let frameBytes = format.blockAlign
        guard dataRange.count % frameBytes == 0 else {
            throw fail("byte \(dataRange.lowerBound - 8)", "the data chunk (\(dataRange.count) bytes) is not a whole number of \(frameBytes)-byte frames",
                       "the file is truncated: export it again")
        }
        let frames = dataRange.count / frameBytes
        try Recording.checkSampleCount(frames: frames, channels: format.channels, path: path)
        let bytes = format.bits / 8
        var channels = [[Float]](repeating: [Float](repeating: 0, count: frames), count: format.channels)
        for f in 0..<frames {
            for c in 0..<format.channels {
                let o = dataRange.lowerBound + f * frameBytes + c * bytes
                channels[c][f] = sample(b, o, format)
            }
        }
        if format.float {
            for (c, samples) in channels.enumerated() {
                try requireFinite(samples, path: path, what: format.channels > 1 ? "channel \(c), sample" : "sample")
            }
        }
        return Recording(channels: channels, sampleRate: format.sampleRate)
    }

    struct Format {
        var float: Bool
        var channels: Int
        var sampleRate: Int
        var blockAlign: Int
        var bits: Int
    }

    private static func parseFormat(_ b: [UInt8], _ o: Int, _ size: Int, _ chunk: Int,
                                    _ fail: (String, String, String?) -> FileFormatError) throws -> Format {
        guard size >= 16 else { throw fail("byte \(chunk)", "the 'fmt ' chunk is \(size) bytes, at least 16 expected", "the file is corrupt: export it again") }
        var tag = Int(u16(b, o))
        let channels = Int(u16(b, o + 2))
        let rate = Int(u32(b, o + 4))
        let blockAlign = Int(u16(b, o + 12))
        let bits = Int(u16(b, o + 14))
        if tag == 0xFFFE {
            guard size >= 40 else {
                throw fail("byte \(chunk)", "WAVE_FORMAT_EXTENSIBLE needs a 40-byte 'fmt ' chunk, this one is \(size)", "the file is corrupt: export it again")
            }
            // The sub-format GUID's first two bytes are the format tag; the rest is fixed.
            let guidTail: [UInt8] = [0x00, 0x00, 0x00, 0x00, 0x10, 0x00, 0x80, 0x00, 0x00, 0xAA, 0x00, 0x38, 0x9B, 0x71]
            guard Array(b[(o + 26)..<(o + 40)]) == guidTail else {
                throw fail("byte \(chunk + 32)", "unknown WAVE_FORMAT_EXTENSIBLE sub-format GUID", "convert the file to PCM or float WAV")
            }
            tag = Int(u16(b, o + 24))
        }
        let isFloat: Bool
        switch (tag, bits) {
        case (1, 8), (1, 16), (1, 24), (1, 32): isFloat = false
        case (3, 32), (3, 64): isFloat = true
        case (1, _), (3, _):
            throw fail("byte \(chunk + 22)", "\(bits)-bit \(tag == 1 ? "PCM" : "float") samples are not supported",
                       "use 8/16/24/32-bit PCM or 32/64-bit float")
        default:
            let name = [2: "ADPCM", 6: "A-law", 7: "µ-law", 0x55: "MP3"][tag] ?? "format \(tag)"
            throw fail("byte \(chunk + 8)", "compressed WAV (\(name)) is not supported", "convert it to PCM, e.g. `sox in.wav -e signed -b 16 out.wav`")
        }
        guard channels > 0 else { throw fail("byte \(chunk + 10)", "the file declares 0 channels", "the file is corrupt: export it again") }
        guard rate > 0 else { throw fail("byte \(chunk + 12)", "the file declares a sample rate of 0 Hz", "the file is corrupt: export it again") }
        guard blockAlign == channels * bits / 8 else {
            throw fail("byte \(chunk + 20)", "block align \(blockAlign) does not match \(channels) channel(s) × \(bits / 8) bytes",
                       "the file is corrupt: export it again")
        }
        return Format(float: isFloat, channels: channels, sampleRate: rate, blockAlign: blockAlign, bits: bits)
    }

    @inline(__always)
    private static func sample(_ b: [UInt8], _ o: Int, _ f: Format) -> Float {
        switch (f.float, f.bits) {
        case (false, 8): return (Float(b[o]) - 128) / 128
        case (false, 16): return Float(Int16(bitPattern: u16(b, o))) / 32768
        case (false, 24):
            let v = Int32(bitPattern: UInt32(b[o]) << 8 | UInt32(b[o + 1]) << 16 | UInt32(b[o + 2]) << 24) >> 8
            return Float(v) / 8_388_608
        case (false, 32): return Float(Double(Int32(bitPattern: u32(b, o))) / 2_147_483_648)
        case (true, 32): return Float(bitPattern: u32(b, o))
        default: return Float(Double(bitPattern: UInt64(u32(b, o)) | UInt64(u32(b, o + 4)) << 32))
        }
    }

    private static func printable(_ id: String) -> String {
        String(id.unicodeScalars.map { $0.isASCII && $0.value >= 32 && $0.value < 127 ? Character($0) : "?" })
    }
}

@inline(__always) func u16(_ b: [UInt8], _ o: Int) -> UInt16 { UInt16(b[o]) | UInt16(b[o + 1]) << 8 }
@inline(__always) func u32(_ b: [UInt8], _ o: Int) -> UInt32 {
    UInt32(b[o]) | UInt32(b[o + 1]) << 8 | UInt32(b[o + 2]) << 16 | UInt32(b[o + 3]) << 24
}
