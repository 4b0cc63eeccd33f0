/// Every failure in code generation — an LLVM error, a verification failure, an unknown
/// target, a kernel we cannot generate — surfaces as this error, carrying LLVM's own message.
public struct CodegenError: Error, CustomStringConvertible, Equatable, Sendable {
    public enum Stage: String, Sendable {
        case verify, optimize, emit, jit, target, kernel, cache
    }
    public var stage: Stage
    public var message: String

    public init(_ stage: Stage, _ message: String) {
        self.stage = stage
        self.message = message
    }

    public var description: String { "\(stage.rawValue): \(message)" }
}
