import Foundation

/// What a finished program printed and how it exited.
public struct ProcessOutput: Sendable {
    public var status: Int32
    public var stdout: String
    public var stderr: String
}

/// Runs programs for the tests (the `qemlc` binary, `make`, `cc`, the exported `classify`).
/// Output goes to files in a scratch folder, not pipes: a chatty child never blocks on a full
/// pipe, and several may run at once.
public final class RunningProcess {
    private let process: Process
    private let out: FileHandle, err: FileHandle
    private let outURL: URL, errURL: URL

    init(_ executable: URL, _ arguments: [String], in directory: URL, environment: [String: String], scratch: URL) throws {
        process = Process()
        process.executableURL = executable
        process.arguments = arguments
        process.currentDirectoryURL = directory
        process.environment = ProcessInfo.processInfo.environment.merging(environment) { $1 }
        outURL = scratch.appendingPathComponent("stdout-\(UUID().uuidString)")
        errURL = scratch.appendingPathComponent("stderr-\(UUID().uuidString)")
        guard FileManager.default.createFile(atPath: outURL.path, contents: nil),
              FileManager.default.createFile(atPath: errURL.path, contents: nil) else {
            throw CocoaError(.fileWriteUnknown, userInfo: [NSFilePathErrorKey: scratch.path])
        }
        out = try FileHandle(forWritingTo: outURL)
        err = try FileHandle(forWritingTo: errURL)
        process.standardOutput = out
        process.standardError = err
        try process.run()
    }

    /// Waits for the program and collects its output.
    public func finish() throws -> ProcessOutput {
        process.waitUntilExit()
        try out.close()
        try err.close()
        defer {
            try? FileManager.default.removeItem(at: outURL)
            try? FileManager.default.removeItem(at: errURL)
        }
        return ProcessOutput(status: process.terminationStatus,
                             stdout: String(decoding: try Data(contentsOf: outURL), as: UTF8.self),
                             stderr: String(decoding: try Data(contentsOf: errURL), as: UTF8.self))
    }
}

public enum ProcessRunner {
    /// Starts `executable`; `environment` is added to this process's environment.
    public static func start(_ executable: URL, _ arguments: [String], in directory: URL,
                             environment: [String: String] = [:], scratch: URL) throws -> RunningProcess {
        try RunningProcess(executable, arguments, in: directory, environment: environment, scratch: scratch)
    }

    /// Runs `executable` to the end.
    public static func run(_ executable: URL, _ arguments: [String], in directory: URL,
                           environment: [String: String] = [:], scratch: URL) throws -> ProcessOutput {
        try start(executable, arguments, in: directory, environment: environment, scratch: scratch).finish()
    }

    /// Runs `tool` found on PATH (through `/usr/bin/env`).
    public static func run(tool: String, _ arguments: [String], in directory: URL,
                           environment: [String: String] = [:], scratch: URL) throws -> ProcessOutput {
        try run(URL(fileURLWithPath: "/usr/bin/env"), [tool] + arguments, in: directory, environment: environment, scratch: scratch)
    }

    /// The `qemlc` binary `swift build` put beside the bundle of the test class `test`, or nil.
    public static func qemlcBinary(besideBundleOf test: AnyClass) -> URL? {
        let here = Bundle(for: test).bundleURL
        return [here, here.deletingLastPathComponent()].map { $0.appendingPathComponent("qemlc") }
            .first { FileManager.default.isExecutableFile(atPath: $0.path) }
    }
}
