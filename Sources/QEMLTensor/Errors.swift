#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// An error about a file the user handed us: which file, where in it, what is wrong and how to fix it.
/// Every reader (safetensors, NPY, WAV, CSV) throws this, so the CLI prints them all alike.
public struct FileFormatError: ExplainedError, Equatable, Sendable {
    public var path: String
    /// Where in the file: "byte 8", "header", "tensor 'fc.weight'", "line 3".
    public var place: String
    public var message: String
    public var fix: String?

    public init(path: String, place: String, message: String, fix: String? = nil) {
        self.path = path
        self.place = place
        self.message = message
        self.fix = fix
    }

    public var location: String? { place.isEmpty ? path : "\(path): \(place)" }

    public var description: String { explanation }
}

extension FileFormatError {
    /// The one wording for a file that is not there: `PATH: no such file`, with the option or
    /// argument that named it in the fix (`check the path given to --weights`).
    public static func missing(_ path: String, given: String? = nil) -> FileFormatError {
        FileFormatError(path: path, place: "", message: "no such file", fix: given.map { "check the path given to \($0)" } ?? "check the path")
    }

    /// The one wording for an output whose folder is not there.
    public static func missingFolder(_ path: String, folder: String) -> FileFormatError {
        FileFormatError(path: path, place: "", message: "the folder '\(folder)' does not exist",
                        fix: "create it first (mkdir -p '\(folder)'), or choose another path")
    }
}

/// Throws `FileFormatError.missing` when nothing is at `path` (a folder counts as missing a file).
public func requireInputFile(_ path: String, given: String? = nil) throws(FileFormatError) {
    var st = stat()
    guard stat(path, &st) == 0 else { throw .missing(path, given: given) }
    guard (st.st_mode & S_IFMT) != S_IFDIR else {
        throw FileFormatError(path: path, place: "", message: "is a folder, not a file", fix: given.map { "check the path given to \($0)" } ?? "check the path")
    }
}

/// Throws `FileFormatError.missingFolder` when the folder `path` would be written into does not exist.
public func requireOutputFolder(_ path: String) throws(FileFormatError) {
    let slash = path.lastIndex(of: "/")
    let dir = slash.map { String(path[..<$0]) } ?? "."
    var st = stat()
    guard dir.isEmpty || (stat(dir, &st) == 0 && (st.st_mode & S_IFMT) == S_IFDIR) else { throw .missingFolder(path, folder: dir) }
}
