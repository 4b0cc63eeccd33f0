import Foundation
import QEMLTensor

/// A machine to generate code for: the LLVM triple/CPU/features plus the facts kernel
/// generators size their blocking from. Text form: `targets/README.md`.
public struct TargetDescription: Hashable, Sendable, CustomStringConvertible {
    public var name: String
    public var description: String
    public var triple: String
    public var cpu: String
    public var features: String
    /// f32 lanes per vector register (the `c` of NCHWc).
    public var vectorWidth: Int
    public var vectorRegisters: Int
    public var l1Bytes: Int
    public var l2Bytes: Int
    public var l3Bytes: Int
    /// Peak FP32 FLOP per cycle per core (an FMA counts 2).
    public var flopsPerCycle: Int
    public var clockGHz: Double?

    public init(name: String, description: String = "", triple: String, cpu: String, features: String,
                vectorWidth: Int, vectorRegisters: Int, l1Bytes: Int, l2Bytes: Int, l3Bytes: Int,
                flopsPerCycle: Int, clockGHz: Double? = nil) {
        self.name = name
        self.description = description
        self.triple = triple
        self.cpu = cpu
        self.features = features
        self.vectorWidth = vectorWidth
        self.vectorRegisters = vectorRegisters
        self.l1Bytes = l1Bytes
        self.l2Bytes = l2Bytes
        self.l3Bytes = l3Bytes
        self.flopsPerCycle = flopsPerCycle
        self.clockGHz = clockGHz
    }

    /// Peak GFLOP/s of one core, when the clock is known.
    public var peakGFLOPSPerCore: Double? { clockGHz.map { $0 * Double(flopsPerCycle) } }

    /// The architecture part of the triple (`x86_64`, `aarch64`).
    public var architecture: String { String(triple.split(separator: "-").first ?? "") }

    /// Whether code for this target can run in this process (same architecture as the host).
    public var runsOnHost: Bool {
        architecture == (TargetDescription.host.architecture)
    }

    // MARK: lookup

    /// The built-in targets: `host` first, then the described ones.
    public static var builtIn: [TargetDescription] { [host] + described }

    /// The targets whose text is compiled in (the same text as `targets/*.target`).
    public static let described: [TargetDescription] = BuiltInTargets.files.compactMap {
        try? parse($0.text, path: "<built-in \($0.file)>")
    }

    /// A built-in target by name, or a target file if `nameOrPath` names one.
    public static func named(_ nameOrPath: String) throws -> TargetDescription {
        if let t = builtIn.first(where: { $0.name == nameOrPath }) { return t }
        if nameOrPath.hasSuffix(".target") || nameOrPath.contains("/") || FileManager.default.fileExists(atPath: nameOrPath) {
            return try load(path: nameOrPath)
        }
        throw CodegenError(.target, "unknown target '\(nameOrPath)'; known targets: "
            + builtIn.map(\.name).joined(separator: ", ")
            + "; or pass a target file (key = value lines, see targets/README.md) as --target path/to/file.target")
    }

    public static func load(path: String) throws -> TargetDescription {
        guard let data = FileManager.default.contents(atPath: path) else {
            throw FileFormatError(path: path, place: "file", message: "cannot read the target file",
                                  fix: "check the path; built-in targets: " + builtIn.map(\.name).joined(separator: ", "))
        }
        return try parse(String(decoding: data, as: UTF8.self), path: path)
    }

    static let requiredKeys = ["name", "triple", "cpu", "features", "vector_width", "vector_registers", "l1", "l2", "l3", "flops_per_cycle"]
    static let optionalKeys = ["description", "clock_ghz"]

    /// Parses the `key = value` text form.
    public static func parse(_ text: String, path: String) throws(FileFormatError) -> TargetDescription {
        var values: [String: String] = [:]
        for (i, rawLine) in text.split(separator: "\n", omittingEmptySubsequences: false).enumerated() {
            let line = rawLine.split(separator: "#", maxSplits: 1, omittingEmptySubsequences: false).first.map(String.init) ?? ""
            let trimmed = line.trimmingCharacters(in: .whitespaces)
            if trimmed.isEmpty { continue }
            let place = "line \(i + 1)"
            guard let eq = trimmed.firstIndex(of: "=") else {
                throw FileFormatError(path: path, place: place, message: "expected 'key = value', got '\(trimmed)'")
            }
            let key = trimmed[..<eq].trimmingCharacters(in: .whitespaces)
            let value = trimmed[trimmed.index(after: eq)...].trimmingCharacters(in: .whitespaces)
            guard requiredKeys.contains(key) || optionalKeys.contains(key) else {
                throw FileFormatError(path: path, place: place, message: "unknown key '\(key)'",
                                      fix: "known keys: " + (requiredKeys + optionalKeys).joined(separator: ", "))
            }
            guard values[key] == nil else { throw FileFormatError(path: path, place: place, message: "'\(key)' is given twice") }
            values[key] = value
        }
        for key in requiredKeys where values[key] == nil {
            throw FileFormatError(path: path, place: "file", message: "missing key '\(key)'", fix: "add a line '\(key) = …' (see targets/README.md)")
        }
        func int(_ key: String, min: Int) throws(FileFormatError) -> Int {
            let v = values[key] ?? ""
            guard let n = parseSize(v), n >= min else {
                throw FileFormatError(path: path, place: "key '\(key)'", message: "expected a whole number ≥ \(min) (K/M suffix allowed), got '\(v)'")
            }
            return n
        }
        var clock: Double?
        if let c = values["clock_ghz"] {
            guard let v = Double(c), v > 0 else {
                throw FileFormatError(path: path, place: "key 'clock_ghz'", message: "expected a positive number, got '\(c)'")
            }
            clock = v
        }
        return TargetDescription(
            name: values["name"] ?? "", description: values["description"] ?? "",
            triple: values["triple"] ?? "", cpu: values["cpu"] ?? "", features: values["features"] ?? "",
            vectorWidth: try int("vector_width", min: 1), vectorRegisters: try int("vector_registers", min: 4),
            l1Bytes: try int("l1", min: 0), l2Bytes: try int("l2", min: 0), l3Bytes: try int("l3", min: 0),
            flopsPerCycle: try int("flops_per_cycle", min: 1), clockGHz: clock)
    }

    /// The text form (parses back to an equal description).
    public var text: String {
        var lines = ["name = \(name)"]
        if !description.isEmpty { lines.append("description = \(description)") }
        lines += ["triple = \(triple)", "cpu = \(cpu)", "features = \(features)",
                  "vector_width = \(vectorWidth)", "vector_registers = \(vectorRegisters)",
                  "l1 = \(l1Bytes)", "l2 = \(l2Bytes)", "l3 = \(l3Bytes)", "flops_per_cycle = \(flopsPerCycle)"]
        if let clockGHz { lines.append("clock_ghz = \(clockGHz)") }
        return lines.joined(separator: "\n") + "\n"
    }
}

/// `32K`, `1M`, `4096`.
func parseSize(_ s: String) -> Int? {
    let t = s.trimmingCharacters(in: .whitespaces)
    if let n = Int(t) { return n }
    guard let last = t.last, let n = Int(t.dropLast()) else { return nil }
    switch last {
    case "K", "k": return n * 1024
    case "M", "m": return n * 1024 * 1024
    default: return nil
    }
}
