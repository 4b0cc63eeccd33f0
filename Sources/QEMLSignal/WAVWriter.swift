import Foundation
import QEMLTensor

/// Writes WAV files: 16-bit PCM (clipped to [−1, 1), rounded to v·32768) or 32-bit float,
/// interleaved channels. The file appears atomically (temporary file, then rename) and an
/// existing file is kept unless `overwrite` is set.
public enum WAVWriter {
    public enum Encoding: Sendable { case pcm16, float32 }

    public static func encode(_ channels: [[Float]], sampleRate: Int, encoding: Encoding) -> [UInt8] {
        let nc = channels.count, frames = channels.first?.count ?? 0
        let bytes = encoding == .pcm16 ? 2 : 4
        let dataSize = frames * nc * bytes
        var out: [UInt8] = []
        out.reserveCapacity(44 + dataSize + (encoding == .float32 ? 12 : 0))
        func put16(_ v: Int) { out += [UInt8(v & 0xff), UInt8(v >> 8 & 0xff)] }
        func put32(_ v: Int) { put16(v & 0xffff); put16(v >> 16 & 0xffff) }
        let factSize = encoding == .float32 ? 12 : 0  // float WAV carries a 'fact' chunk by the spec
        out += Array("RIFF".utf8); put32(4 + 24 + factSize + 8 + dataSize + (dataSize & 1)); out += Array("WAVE".utf8)
        out += Array("fmt ".utf8); put32(16)
        put16(encoding == .pcm16 ? 1 : 3); put16(nc); put32(sampleRate)
        put32(sampleRate * nc * bytes); put16(nc * bytes); put16(bytes * 8)
        if encoding == .float32 { out += Array("fact".utf8); put32(4); put32(frames) }
        out += Array("data".utf8); put32(dataSize)
        for f in 0..<frames {
            for c in 0..<nc {
                let v = channels[c][f]
                switch encoding {
                case .pcm16:
                    let q = Int((Double(v) * 32768).rounded())
                    put16(min(max(q, -32768), 32767) & 0xffff)
                case .float32:
                    put32(Int(v.bitPattern))
                }
            }
        }
        if dataSize & 1 == 1 { out.append(0) }
        return out
    }

    public static func write(_ channels: [[Float]], sampleRate: Int, to path: String,
                             encoding: Encoding = .pcm16, overwrite: Bool = false) throws {
        guard !channels.isEmpty, channels.allSatisfy({ $0.count == channels[0].count }) else {
            throw FileFormatError(path: path, place: "channels", message: "channels must be non-empty and of equal length")
        }
        guard sampleRate > 0 else {
            throw FileFormatError(path: path, place: "header", message: "sample rate \(sampleRate) Hz is not positive", fix: "pass a positive sample rate")
        }
        try writeFileAtomically(encode(channels, sampleRate: sampleRate, encoding: encoding), to: path, overwrite: overwrite)
    }
}
