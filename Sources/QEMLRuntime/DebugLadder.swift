import Foundation

/// The debug ladder (`QEMLC_DEBUG=N`, after tinygrad's `DEBUG`), on stderr; each level adds to
/// the ones below it:
///
/// 1. compile phases and their times, the object cache's outcome;
/// 2. the executor's time per step after every run; the interpreter's time per op kind;
/// 3. the kernel chosen for every step, with its shapes and fused parts;
/// 4. the generated LLVM IR, optimized;
/// 5. the assembly.
public enum DebugLadder {
    public static let level: Int = ProcessInfo.processInfo.environment["QEMLC_DEBUG"].flatMap { Int($0) } ?? 0

    /// Writes `text` (built only when shown) if the ladder is at `minimum` or above.
    public static func show(_ minimum: Int, _ text: @autoclosure () -> String) {
        guard level >= minimum else { return }
        var s = text()
        if !s.hasSuffix("\n") { s += "\n" }
        FileHandle.standardError.write(Data(s.utf8))
    }
}
