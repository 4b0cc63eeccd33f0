/// A compile-time attribute of an op: `stride=[2,2]`, `eps=1e-5`, `activation="relu"`.
public enum Attribute: Hashable, Sendable, CustomStringConvertible {
    case int(Int)
    case float(Double)
    case bool(Bool)
    case string(String)
    case ints([Int])
    case floats([Double])
    case strings([String])
    /// The body of a `circuit` op.
    case circuit(Circuit)

    public var int: Int? { if case .int(let v) = self { return v }; return nil }
    public var double: Double? {
        switch self {
        case .float(let v): return v
        case .int(let v): return Double(v)
        default: return nil
        }
    }
    public var bool: Bool? { if case .bool(let v) = self { return v }; return nil }
    public var string: String? { if case .string(let v) = self { return v }; return nil }
    public var ints: [Int]? {
        switch self {
        case .ints(let v): return v
        case .int(let v): return [v]
        default: return nil
        }
    }
    public var circuit: Circuit? { if case .circuit(let c) = self { return c }; return nil }

    /// The `.qir` text of the value (circuits print as a block, not here).
    public var description: String {
        switch self {
        case .int(let v): return String(v)
        case .float(let v): return formatFloat(v)
        case .bool(let v): return v ? "true" : "false"
        case .string(let v): return quoteString(v)
        case .ints(let v): return "[" + v.map(String.init).joined(separator: ",") + "]"
        case .floats(let v): return "[" + v.map(formatFloat).joined(separator: ",") + "]"
        case .strings(let v): return "[" + v.map(quoteString).joined(separator: ", ") + "]"
        case .circuit: return "{…}"
        }
    }
}

/// Shortest text that parses back to the same Double, always with a `.` or exponent so it
/// re-parses as a float, not an int.
public func formatFloat(_ v: Double) -> String {
    if v.isNaN { return "nan" }
    if v.isInfinite { return v > 0 ? "inf" : "-inf" }
    let s = "\(v)"
    if s.contains(".") || s.contains("e") { return s }
    return s + ".0"
}

public func quoteString(_ s: String) -> String {
    var out = "\""
    for ch in s {
        switch ch {
        case "\"": out += "\\\""
        case "\\": out += "\\\\"
        case "\n": out += "\\n"
        case "\t": out += "\\t"
        default: out.append(ch)
        }
    }
    return out + "\""
}
