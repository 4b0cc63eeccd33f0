import Foundation

/// Progress for long work (compiling, exporting, benchmarking): a self-rewriting line on a
/// terminal, nothing when stderr is not a terminal (logs and pipes stay clean).
/// Unchecked Sendable: callers that step it from worker threads serialise the calls (a lock).
final class Progress: @unchecked Sendable {
    private let title: String
    private let total: Int
    private let enabled: Bool
    private var done = 0
    private let start = Date()

    init(_ title: String, total: Int) {
        self.title = title
        self.total = total
        self.enabled = isatty(STDERR_FILENO) != 0 && ProcessInfo.processInfo.environment["QEMLC_NO_PROGRESS"] == nil
    }

    func step(_ what: String = "") {
        done += 1
        guard enabled else { return }
        let width = 24
        let filled = total > 0 ? min(width, done * width / total) : 0
        let bar = String(repeating: "█", count: filled) + String(repeating: "·", count: width - filled)
        let line = "\r\(title) [\(bar)] \(done)/\(total) \(what)"
        FileHandle.standardError.write(Data((line.prefix(110) + "\u{1B}[K").utf8))
    }

    func finish() {
        guard enabled else { return }
        FileHandle.standardError.write(Data("\r\u{1B}[K".utf8))
    }

    var elapsed: TimeInterval { Date().timeIntervalSince(start) }
}
