import ArgumentParser
import Foundation

/// Checks of numeric options, shared by every command so a bad value reads the same
/// everywhere. They throw `ValidationError`: a usage error, exit 64 with the usage line, as
/// swift-argument-parser reports a value it cannot parse.
enum Validate {
    /// `value` must be at least `minimum` (and at most `maximum`).
    static func atLeast<T: Comparable & CustomStringConvertible>(_ value: T?, _ minimum: T, _ flag: String, maximum: T? = nil, unit: String = "") throws {
        guard let value else { return }
        guard value >= minimum else { throw ValidationError("\(flag) \(value): must be at least \(minimum)\(unit)") }
        if let maximum, value > maximum { throw ValidationError("\(flag) \(value): must be at most \(maximum)\(unit)") }
    }

    /// `value` must be a finite number above zero (and at most `maximum`).
    static func positive(_ value: Double?, _ flag: String, maximum: Double? = nil, unit: String = "") throws {
        guard let value else { return }
        guard value.isFinite, value > 0 else { throw ValidationError("\(flag) \(formatted(value)): must be a positive number\(unit)") }
        if let maximum, value > maximum { throw ValidationError("\(flag) \(formatted(value)): must be at most \(formatted(maximum))\(unit)") }
    }

    /// `value` must be a finite number.
    static func finite(_ value: Double?, _ flag: String) throws {
        guard let value else { return }
        guard value.isFinite else { throw ValidationError("\(flag) \(formatted(value)): must be a finite number") }
    }

    static func formatted(_ v: Double) -> String { v == v.rounded() && abs(v) < 1e15 ? String(Int(v)) : String(v) }

    /// At least one thread, and no more than `threadsPerCore` × the cores: more only wait for
    /// each other (and 100 000 threads never finish starting). A larger value is lowered to the
    /// cap with a note on stderr.
    static func threads(_ value: Int?) throws -> Int? {
        guard let value else { return nil }
        guard value >= 1 else { throw ValidationError("--threads \(value): must be at least 1") }
        let cores = ProcessInfo.processInfo.activeProcessorCount
        let cap = threadsPerCore * max(1, cores)
        guard value > cap else { return value }
        FileHandle.standardError.write(Data("note: --threads \(value) lowered to \(cap) (\(threadsPerCore) per core, \(cores) core\(cores == 1 ? "" : "s")): more threads than that only wait for each other\n".utf8))
        return cap
    }

    static let threadsPerCore = 4
}
