/// A place in a `.qir` file.
public struct SourceLocation: Hashable, Sendable, CustomStringConvertible {
    public var file: String
    public var line: Int
    public var column: Int

    public init(file: String, line: Int, column: Int) {
        self.file = file
        self.line = line
        self.column = column
    }

    public var description: String { "\(file):\(line):\(column)" }
}

/// A user-facing error about a model: `file:line:col: error: message`, the source line, a caret,
/// and optional notes (what was expected, how to fix it). Error text is API: tests assert it.
public struct Diagnostic: Error, CustomStringConvertible, Sendable, Equatable {
    public var location: SourceLocation?
    public var message: String
    /// The text of the offending source line, shown under the message with a caret.
    public var sourceLine: String?
    public var notes: [String]

    public init(_ message: String, at location: SourceLocation? = nil, sourceLine: String? = nil, notes: [String] = []) {
        self.message = message
        self.location = location
        self.sourceLine = sourceLine
        self.notes = notes
    }

    public var description: String {
        var s = ""
        if let location { s += "\(location): " }
        s += "error: \(message)"
        if let sourceLine, let location {
            s += "\n  " + sourceLine
            s += "\n  " + String(repeating: " ", count: max(0, location.column - 1)) + "^"
        }
        for n in notes { s += "\n  note: \(n)" }
        return s
    }
}

/// Several diagnostics at once (the parser reports every error it can, not only the first).
public struct DiagnosticList: Error, CustomStringConvertible, Sendable {
    public var diagnostics: [Diagnostic]
    public init(_ diagnostics: [Diagnostic]) { self.diagnostics = diagnostics }
    public var description: String { diagnostics.map(\.description).joined(separator: "\n") }
}
