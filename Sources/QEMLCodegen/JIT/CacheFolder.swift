import Foundation
import QEMLTensor

/// qemlc's cache folder as a whole: compiled objects (`ObjectCache`, `*.o.qc`) and packed
/// weights (`PackedWeightsCache` in QEMLRuntime, `*.pw.qc`) side by side. An entry's
/// modification time is when it was last used (a hit touches it), so eviction drops the least
/// recently used entries once the folder holds more than the size cap (`QEMLC_CACHE_MAX`,
/// default 2 GiB). Lookups are counted in `usage.log` (one appended line each, atomic for
/// concurrent processes) for `qemlc cache info`.
public struct CacheFolder: Sendable {
    public let directory: URL

    public init(directory: URL) { self.directory = directory }

    /// The kinds of entry, by file-name suffix.
    public enum Kind: String, CaseIterable, Sendable {
        case object = ".o.qc"
        case packedWeights = ".pw.qc"

        public var title: String { self == .object ? "compiled objects" : "packed weights" }
        var tag: Character { self == .object ? "o" : "w" }
    }

    public static let defaultLimit = 2 << 30

    /// Which build of the compiler is running, for cache keys whose contents depend on qemlc's
    /// own code (packed-weight layouts): the LLVM version and the running executable's size and
    /// modification time, so a rebuilt qemlc never reads what an older one packed.
    public static let compilerBuild: String = {
        var st = stat()
        let exe = stat("/proc/self/exe", &st) == 0 ? "\(st.st_size)-\(st.st_mtim.tv_sec).\(st.st_mtim.tv_nsec)" : CommandLine.arguments.first ?? "?"
        return "llvm \(LLVMSupport.version), executable \(exe)"
    }()

    /// The size cap: `QEMLC_CACHE_MAX` (bytes, or with a K, M, G or T suffix: `500M`, `2G`), else 2 GiB.
    public static func limit(environment: [String: String] = ProcessInfo.processInfo.environment) throws -> Int {
        guard let text = environment["QEMLC_CACHE_MAX"], !text.isEmpty else { return defaultLimit }
        guard let bytes = parseSize(text) else {
            throw CodegenError(.cache, "QEMLC_CACHE_MAX='\(text)' is not a size; write bytes or a number with K, M, G or T (e.g. 500M, 2G)")
        }
        return bytes
    }

    /// `123`, `500K`, `500M`, `2G`, `1T` (binary multiples; an optional `B`/`iB` after the letter).
    public static func parseSize(_ text: String) -> Int? {
        var s = text.trimmingCharacters(in: .whitespaces).uppercased()
        for suffix in ["IB", "B"] where s.hasSuffix(suffix) && s.count > suffix.count { s.removeLast(suffix.count) }
        let units: [Character: Int] = ["K": 1 << 10, "M": 1 << 20, "G": 1 << 30, "T": 1 << 40]
        var scale = 1
        if let last = s.last, let u = units[last] { scale = u; s.removeLast() }
        guard let v = Double(s), v.isFinite, v >= 0, v * Double(scale) < 9e18 else { return nil }
        return Int(v * Double(scale))
    }

    public struct Entry: Sendable {
        public var name: String
        public var kind: Kind
        public var bytes: Int
        /// Seconds since 1970 of the last use.
        public var lastUsed: Double
    }

    /// Every entry in the folder (none when it does not exist).
    public func entries() -> [Entry] {
        guard let names = try? FileManager.default.contentsOfDirectory(atPath: directory.path) else { return [] }
        return names.compactMap { name in
            guard !name.hasPrefix("."), let kind = Kind.allCases.first(where: { name.hasSuffix($0.rawValue) }) else { return nil }
            var st = stat()
            guard stat(directory.appendingPathComponent(name).path, &st) == 0 else { return nil }
            return Entry(name: name, kind: kind, bytes: Int(st.st_size),
                         lastUsed: Double(st.st_mtim.tv_sec) + Double(st.st_mtim.tv_nsec) / 1e9)
        }
    }

    /// Marks an entry as used now.
    public func touch(_ url: URL) { _ = utimensat(AT_FDCWD, url.path, nil, 0) }

    /// Deletes least-recently-used entries until the folder holds at most `limit` bytes;
    /// `keep` (the entry just written or read) is never deleted. Returns what was deleted.
    @discardableResult
    public func evict(limit: Int, keep: String? = nil) -> [Entry] {
        var all = entries()
        var total = all.reduce(0) { $0 + $1.bytes }
        guard total > limit else { return [] }
        all.sort { $0.lastUsed < $1.lastUsed }
        var gone: [Entry] = []
        for e in all where total > limit && e.name != keep {
            // Another process may have deleted it already, or be reading it (a mapping outlives unlink).
            if unlink(directory.appendingPathComponent(e.name).path) == 0 || errno == ENOENT {
                total -= e.bytes
                gone.append(e)
            }
        }
        return gone
    }

    /// Evicts with the configured cap (an unreadable `QEMLC_CACHE_MAX` counts as the default;
    /// the CLI reports it before compiling).
    public func evictToConfiguredLimit(keep: String?) {
        evict(limit: (try? CacheFolder.limit()) ?? CacheFolder.defaultLimit, keep: keep)
    }

    /// Deletes every entry and the usage counts; returns the entries deleted.
    @discardableResult
    public func clear() -> [Entry] {
        let all = entries()
        for e in all { unlink(directory.appendingPathComponent(e.name).path) }
        unlink(usageLog.path)
        return all
    }

    var usageLog: URL { directory.appendingPathComponent("usage.log") }

    /// Counts one lookup (best effort: a read-only folder just goes uncounted).
    public func record(_ kind: Kind, hit: Bool) {
        var fd = open(usageLog.path, O_WRONLY | O_APPEND | O_CREAT, 0o644)
        if fd < 0, errno == ENOENT, (try? FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)) != nil {
            fd = open(usageLog.path, O_WRONLY | O_APPEND | O_CREAT, 0o644)
        }
        guard fd >= 0 else { return }
        let line: [UInt8] = [UInt8(ascii: hit ? "h" : "m"), kind.tag.asciiValue ?? 0, 10]
        _ = line.withUnsafeBytes { write(fd, $0.baseAddress, 3) }
        close(fd)
    }

    /// Hits and misses per kind since the folder was last cleared.
    public func usage() -> [Kind: (hits: Int, misses: Int)] {
        var out: [Kind: (hits: Int, misses: Int)] = [:]
        for k in Kind.allCases { out[k] = (0, 0) }
        guard let data = FileManager.default.contents(atPath: usageLog.path) else { return out }
        for line in [UInt8](data).split(separator: 10) where line.count == 2 {
            guard let k = Kind.allCases.first(where: { $0.tag.asciiValue == line[line.startIndex + 1] }) else { continue }
            if line.first == UInt8(ascii: "h") { out[k]?.hits += 1 } else { out[k]?.misses += 1 }
        }
        return out
    }

    /// Writes an entry atomically (temporary file, fsync, rename: concurrent writers of the
    /// same key each leave a whole entry, the last rename wins), then evicts above the cap.
    public func store(_ name: String, parts: [UnsafeRawBufferPointer]) throws {
        do {
            try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
            try writeFileAtomically(parts: parts, to: directory.appendingPathComponent(name).path, overwrite: true)
        } catch {
            throw CodegenError(.cache, "cannot write the cache entry \(name) in \(directory.path): \(error)")
        }
        evictToConfiguredLimit(keep: name)
    }
}
