import QEMLTensor

/// A problem with a signal or front-end setting (not with a file's bytes — that is
/// `FileFormatError`): what is wrong and how to fix it.
public struct SignalError: ExplainedError, Equatable, Sendable {
    public var message: String
    public var fix: String?

    public init(_ message: String, fix: String? = nil) {
        self.message = message
        self.fix = fix
    }

    public var description: String { rendered }
}
