/// What every error a user can cause says: what is wrong, optionally where, and how to fix it.
/// `FileFormatError`, `SignalError`, `CircuitError` and the CLI's `UserError` conform, and the
/// CLI prints them all through `rendered`, so every message has one shape:
///
///     error: [category: ][location: ]message
///       fix: how to fix it
public protocol ExplainedError: Error, CustomStringConvertible {
    var message: String { get }
    var fix: String? { get }
    /// Where the problem is (a file and a place in it); nil when the message says it.
    var location: String? { get }
    /// What kind of problem, printed before the location ("circuit error"); nil for a plain one.
    var category: String? { get }
}

extension ExplainedError {
    public var location: String? { nil }
    public var category: String? { nil }

    /// `[category: ][location: ]message`, then `\n  fix: …` when there is a fix.
    public var explanation: String {
        var s = [category, location].compactMap { $0 }.map { $0 + ": " }.joined() + message
        if let fix { s += "\n  fix: \(fix)" }
        return s
    }

    /// The explanation as the CLI prints it: `error: ` before it.
    public var rendered: String { "error: " + explanation }
}
