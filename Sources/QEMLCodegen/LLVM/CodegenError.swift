import QEMLTensor

/// Every failure in code generation — an LLVM error, a verification failure, an unknown
/// target, a kernel we cannot generate — surfaces as this error, carrying LLVM's own message.
public struct CodegenError: ExplainedError, Equatable, Sendable {
    public enum Stage: String, Sendable {
        case verify, optimize, emit, jit, target, kernel, cache
    }
    public var stage: Stage
    public var message: String

    public init(_ stage: Stage, _ message: String) {
        self.stage = stage
        self.message = message
    }

    public var fix: String? { nil }
    /// The stage prints before the message (`target: unknown target …`).
    public var category: String? { stage.rawValue }
    public var description: String { explanation }
}
