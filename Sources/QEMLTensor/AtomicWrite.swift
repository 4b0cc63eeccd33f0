#if canImport(Glibc)
import Glibc
#elseif canImport(Musl)
import Musl
#elseif canImport(Darwin)
import Darwin
#endif

/// Writes `bytes` to `path` atomically: a temporary file in the same folder, flushed, then
/// renamed over the target, so a crash or full disk never leaves a truncated file behind.
/// Refuses to replace an existing file unless `overwrite` is true. qemlc's one file writer:
/// outputs, exported bundles and cache entries all go through it.
public func writeFileAtomically(_ bytes: [UInt8], to path: String, overwrite: Bool) throws(FileFormatError) {
    var failure: FileFormatError?
    bytes.withUnsafeBytes { b in
        do throws(FileFormatError) { try writeFileAtomically(parts: [b], to: path, overwrite: overwrite) } catch { failure = error }
    }
    if let failure { throw failure }
}

/// The same, for a file made of several byte ranges written one after another (a cache entry's
/// header and its blobs), so large contents need not be copied into one array first.
public func writeFileAtomically(parts: [UnsafeRawBufferPointer], to path: String, overwrite: Bool) throws(FileFormatError) {
    try requireOutputFolder(path)
    if !overwrite, access(path, F_OK) == 0 {
        throw FileFormatError(path: path, place: "file", message: "already exists",
                              fix: "choose another output path or allow overwriting (--force)")
    }
    let slash = path.lastIndex(of: "/")
    let dir = slash.map { String(path[..<$0]) } ?? "."
    let base = slash.map { String(path[path.index(after: $0)...]) } ?? path
    var template = Array("\(dir.isEmpty ? "/" : dir)/.\(base).tmp-XXXXXX".utf8CString)
    let fd = template.withUnsafeMutableBufferPointer { mkstemp($0.baseAddress!) }
    guard fd >= 0 else {
        throw FileFormatError(path: path, place: "file", message: "cannot create a temporary file in '\(dir)': \(String(cString: strerror(errno)))",
                              fix: "check that the folder exists and is writable")
    }
    let tmp = template.withUnsafeBufferPointer { String(cString: $0.baseAddress!) }
    var failure: String?
    for buf in parts where failure == nil {
        var done = 0
        while done < buf.count, let start = buf.baseAddress {
            let n = write(fd, start + done, buf.count - done)
            if n < 0 { if errno == EINTR { continue }; failure = String(cString: strerror(errno)); break }
            done += n
        }
    }
    if failure == nil, fsync(fd) != 0 { failure = String(cString: strerror(errno)) }
    close(fd)
    if failure == nil {
        _ = chmod(tmp, 0o644)
        if rename(tmp, path) != 0 { failure = String(cString: strerror(errno)) }
    }
    if let failure {
        unlink(tmp)
        throw FileFormatError(path: path, place: "file", message: "cannot write: \(failure)", fix: "check free disk space and permissions")
    }
}
