#if canImport(Glibc)
import Glibc
#elseif canImport(Musl)
import Musl
#elseif canImport(Darwin)
import Darwin
#endif

/// A read-only memory map of a whole file: large weight files are decoded straight from the
/// page cache instead of being read into memory once more before conversion. (As with any
/// mapping, a file truncated by another process while mapped cannot be guarded against.)
public final class MappedFile: @unchecked Sendable {
    // @unchecked: the mapping is read-only and never changes after init.
    public let path: String
    public let count: Int
    private let base: UnsafeRawPointer?

    public init(path: String) throws(FileFormatError) {
        self.path = path
        let fd = open(path, O_RDONLY)
        if fd < 0, errno == ENOENT { throw .missing(path) }
        guard fd >= 0 else {
            throw FileFormatError(path: path, place: "file", message: "cannot open: \(String(cString: strerror(errno)))",
                                  fix: "check the path and that the file is readable")
        }
        defer { close(fd) }
        var st = stat()
        guard fstat(fd, &st) == 0 else {
            throw FileFormatError(path: path, place: "file", message: "cannot stat: \(String(cString: strerror(errno)))")
        }
        guard (st.st_mode & S_IFMT) == S_IFREG else {
            throw FileFormatError(path: path, place: "file", message: "is not a regular file", fix: "pass the path of a file, not a directory or device")
        }
        count = Int(st.st_size)
        if count == 0 { base = nil; return }
        // Callers read (nearly) the whole file — weights, a packed-weights cache entry they verify —
        // so mapping every page at once beats a page fault per 4 KiB.
        #if os(Linux)
        let flags = MAP_PRIVATE | MAP_POPULATE
        #else
        let flags = MAP_PRIVATE
        #endif
        guard let p = mmap(nil, count, PROT_READ, flags, fd, 0), p != MAP_FAILED else {
            throw FileFormatError(path: path, place: "file", message: "cannot map into memory: \(String(cString: strerror(errno)))")
        }
        base = UnsafeRawPointer(p)
    }

    deinit {
        if let base { munmap(UnsafeMutableRawPointer(mutating: base), count) }
    }

    /// The file's bytes, valid while `self` lives.
    public var bytes: UnsafeRawBufferPointer { UnsafeRawBufferPointer(start: base, count: count) }

    /// Little-endian unsigned integer of `size` bytes at `offset` (caller checks bounds).
    public func littleEndianUInt(at offset: Int, size: Int) -> UInt64 {
        var v: UInt64 = 0
        for i in (0..<size).reversed() { v = v << 8 | UInt64(bytes[offset + i]) }
        return v
    }
}

/// `value`'s low `count` bytes, least significant first (the writers' side of `littleEndianUInt`).
public func littleEndianBytes(_ value: UInt64, count: Int) -> [UInt8] {
    (0..<count).map { UInt8(truncatingIfNeeded: value >> (8 * UInt64($0))) }
}
