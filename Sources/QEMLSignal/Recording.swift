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

/// Reads a recording by file extension: `.wav`, `.csv`/`.txt` (column `column`, a header name or
/// a 0-based index; default the first column).
public enum SignalFile {
    public static func read(_ path: String, column: String? = nil) throws -> Recording {
        switch URL(fileURLWithPath: path).pathExtension.lowercased() {
        case "wav", "wave": return try WAVReader.read(path)
        case "csv", "txt", "tsv": return try CSVReader.read(path, column: column)
        default:
            throw FileFormatError(path: path, place: "file name",
                                  message: "unknown signal format '.\(URL(fileURLWithPath: path).pathExtension)'",
                                  fix: "use a .wav, .csv or .npy file")
        }
    }
}
