import QEMLTensor

/// A circuit that cannot be simulated as given: what is wrong, where (gate index), and how to fix it.
/// Error text is API: tests assert it word for word.
public struct CircuitError: ExplainedError, Equatable, Sendable {
    public var message: String
    public var fix: String?

    public init(_ message: String, fix: String? = nil) {
        self.message = message
        self.fix = fix
    }

    public var category: String? { "circuit error" }

    public var description: String { explanation }
}
