import Foundation

/// Reports as JSON, one way for every command: a `Codable` structure through `JSONEncoder`
/// (keys sorted, one line), never strings glued together. JSON has no NaN or infinity, so a
/// number that is absent or not finite is written as `null` (`@NullIfNotFinite`), and an absent
/// optional is `null` rather than a missing key (`@NullIfAbsent`), so readers see every key.
public enum ReportJSON {
    public static func encode<T: Encodable>(_ value: T) -> String {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.sortedKeys, .withoutEscapingSlashes]
        // Every report type encodes only strings, integers, booleans and finite numbers (the
        // wrappers below turn the rest into null), so encoding cannot fail.
        guard let data = try? encoder.encode(value) else { return "null" }
        return String(decoding: data, as: UTF8.self)
    }
}

/// A number written as `null` when absent, NaN or infinite.
@propertyWrapper
public struct NullIfNotFinite<Value: BinaryFloatingPoint & Encodable & Sendable>: Encodable, Sendable {
    public var wrappedValue: Value?
    public init(wrappedValue: Value?) { self.wrappedValue = wrappedValue }

    public func encode(to encoder: Encoder) throws {
        var c = encoder.singleValueContainer()
        if let v = wrappedValue, v.isFinite { try c.encode(v) } else { try c.encodeNil() }
    }
}

/// An optional written as `null` when absent (instead of leaving the key out).
@propertyWrapper
public struct NullIfAbsent<Value: Encodable & Sendable>: Encodable, Sendable {
    public var wrappedValue: Value?
    public init(wrappedValue: Value?) { self.wrappedValue = wrappedValue }

    public func encode(to encoder: Encoder) throws {
        var c = encoder.singleValueContainer()
        if let v = wrappedValue { try c.encode(v) } else { try c.encodeNil() }
    }
}

/// A coding key chosen at run time (a report keyed by the model's own names).
public struct DynamicKey: CodingKey {
    public var stringValue: String
    public var intValue: Int? { nil }
    public init(_ s: String) { stringValue = s }
    public init?(stringValue: String) { self.stringValue = stringValue }
    public init?(intValue: Int) { nil }
}
