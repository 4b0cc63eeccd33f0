/// An error about a file the user handed us: which file, where in it, what is wrong and how to fix it.
/// Every reader (safetensors, NPY, WAV, CSV) throws this, so the CLI prints them all alike.
public struct FileFormatError: Error, CustomStringConvertible, Equatable, Sendable {
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

    public var description: String {
        var s = "\(path): \(place): \(message)"
        if let fix { s += "\n  fix: \(fix)" }
        return s
    }
}
