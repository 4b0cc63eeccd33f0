import Foundation
import QEMLTensor

/// A signal read from a file: one array per channel, and the sample rate when the file
/// records one (WAV does; CSV and NPY do not).
public struct Recording: Equatable, Sendable {
    public var channels: [[Float]]
    public var sampleRate: Int?

    public init(channels: [[Float]], sampleRate: Int?) {
        self.channels = channels
        self.sampleRate = sampleRate
    }

    public var frameCount: Int { channels.first?.count ?? 0 }

    /// Samples (all channels) one recording may hold: 2^28, 1 GiB of f32 (six hours at 12 kHz).
    /// Readers check a file's declared count against it before decoding anything.
    public static let maxSamples = 1 << 28

    public static func checkSampleCount(frames: Int, channels: Int, path: String) throws {
        let (total, overflow) = frames.multipliedReportingOverflow(by: channels)
        guard overflow || total > maxSamples else { return }
        throw FileFormatError(path: path, place: "data",
                              message: "\(overflow ? "more than 2^63" : String(total)) samples (\(channels) channel\(channels == 1 ? "" : "s") × \(frames)), more than the limit of \(maxSamples)",
                              fix: "cut the recording into shorter files")
    }

    /// One channel, with an error that says how many there are.
    public func channel(_ index: Int, path: String) throws -> [Float] {
        guard channels.indices.contains(index) else {
            throw FileFormatError(path: path, place: "channels",
                                  message: "channel \(index) requested but the file has \(channels.count) channel\(channels.count == 1 ? "" : "s")",
                                  fix: "pass --channel between 0 and \(max(channels.count - 1, 0))")
        }
        return channels[index]
    }
}

/// Reads a recording by file extension: `.wav`; `.csv`/`.txt`/`.tsv` (column `column`, a header
/// name or a 0-based index; default every column); `.npy` (1-D: one channel; 2-D: [samples,
/// channels], the layout of `soundfile.read` and `scipy.io.wavfile.read`).
public enum SignalFile {
    public static func read(_ path: String, column: String? = nil) throws -> Recording {
        switch URL(fileURLWithPath: path).pathExtension.lowercased() {
        case "wav", "wave": return try WAVReader.read(path)
        case "csv", "txt", "tsv": return try CSVReader.read(path, column: column)
        case "npy": return try npy(path)
        default:
            throw FileFormatError(path: path, place: "file name",
                                  message: "unknown signal format '.\(URL(fileURLWithPath: path).pathExtension)'",
                                  fix: "use a .wav, .csv or .npy file")
        }
    }

    static func npy(_ path: String) throws -> Recording {
        let t = try NPY.read(path: path)
        try Recording.checkSampleCount(frames: t.count, channels: 1, path: path)
        try t.requireFinite(path: path)
        switch t.rank {
        case 1: return Recording(channels: [t.data], sampleRate: nil)
        case 2:
            let (n, c) = (t.shape[0], t.shape[1])
            return Recording(channels: (0..<c).map { ch in (0..<n).map { t.data[$0 * c + ch] } }, sampleRate: nil)
        default:
            throw FileFormatError(path: path, place: "header", message: "a signal must be 1-D [samples] or 2-D [samples, channels], this array is \(describeShape(t.shape))",
                                  fix: "save the signal with numpy.save as x of shape (n,) or (n, channels)")
        }
    }
}
