import Foundation
import QEMLTensor

/// Compiled object files on disk, keyed by a content hash. An entry is
///
///     "QEMLCOBJ" | format version (u32 LE) | payload size (u64 LE) | FNV-1a-128 of the payload (16 bytes) | payload
///
/// written through `CacheFolder.store` (temporary file, fsync, rename), so readers never see half
/// an entry. An entry with a bad magic, size or checksum counts as a miss (and is overwritten).
/// A hit marks the entry used (the folder evicts least-recently-used entries above its cap).
public struct ObjectCache: Sendable {
    public let directory: URL
    static let magic = Array("QEMLCOBJ".utf8)
    static let formatVersion: UInt32 = 1
    static let headerSize = 8 + 4 + 8 + 16

    public init(directory: URL) { self.directory = directory }

    /// `$XDG_CACHE_HOME/qemlc`, else `~/.cache/qemlc`.
    public static var defaultDirectory: URL {
        let env = ProcessInfo.processInfo.environment
        if let xdg = env["XDG_CACHE_HOME"], !xdg.isEmpty { return URL(fileURLWithPath: xdg).appendingPathComponent("qemlc") }
        let home = env["HOME"].map { URL(fileURLWithPath: $0) } ?? FileManager.default.homeDirectoryForCurrentUser
        return home.appendingPathComponent(".cache").appendingPathComponent("qemlc")
    }

    public static var standard: ObjectCache { ObjectCache(directory: defaultDirectory) }

    public func path(for key: String) -> URL { directory.appendingPathComponent(key + CacheFolder.Kind.object.rawValue) }

    public var folder: CacheFolder { CacheFolder(directory: directory) }

    public enum Lookup: Equatable, Sendable {
        case hit([UInt8])
        case miss
        /// Present but damaged: the reason (the caller rebuilds and overwrites it).
        case corrupt(String)
    }

    public func lookup(_ key: String) -> Lookup {
        let result = read(key)
        let hit: Bool
        if case .hit = result { hit = true } else { hit = false }
        if hit { folder.touch(path(for: key)) }
        folder.record(.object, hit: hit)
        return result
    }

    private func read(_ key: String) -> Lookup {
        guard let data = FileManager.default.contents(atPath: path(for: key).path) else { return .miss }
        let bytes = [UInt8](data)
        guard bytes.count >= ObjectCache.headerSize, Array(bytes[0..<8]) == ObjectCache.magic else { return .corrupt("bad magic") }
        guard readLE(bytes, 8, 4) == UInt64(ObjectCache.formatVersion) else { return .corrupt("format version") }
        let size = Int(readLE(bytes, 12, 8))
        guard size == bytes.count - ObjectCache.headerSize else { return .corrupt("size \(size) but \(bytes.count - ObjectCache.headerSize) bytes present") }
        let payload = Array(bytes[ObjectCache.headerSize...])
        let sum = Array(bytes[20..<36])
        guard sum == Array(ContentHash.of(payload).utf8Hex) else { return .corrupt("checksum mismatch") }
        return .hit(payload)
    }

    public func store(_ key: String, _ payload: [UInt8]) throws {
        var bytes = ObjectCache.magic
        bytes += le(UInt64(ObjectCache.formatVersion), 4)
        bytes += le(UInt64(payload.count), 8)
        bytes += ContentHash.of(payload).utf8Hex
        bytes += payload
        try bytes.withUnsafeBytes { try folder.store(key + CacheFolder.Kind.object.rawValue, parts: [$0]) }
    }

    private func readLE(_ b: [UInt8], _ at: Int, _ n: Int) -> UInt64 {
        var v: UInt64 = 0
        for i in (0..<n).reversed() { v = v << 8 | UInt64(b[at + i]) }
        return v
    }
    private func le(_ v: UInt64, _ n: Int) -> [UInt8] { littleEndianBytes(v, count: n) }
}

extension String {
    /// 32 hex digits → 16 bytes.
    var utf8Hex: [UInt8] {
        var out: [UInt8] = []
        var i = startIndex
        while i < endIndex, let j = index(i, offsetBy: 2, limitedBy: endIndex) {
            out.append(UInt8(self[i..<j], radix: 16) ?? 0)
            i = j
        }
        return out
    }
}
