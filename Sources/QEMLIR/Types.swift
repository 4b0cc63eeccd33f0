/// One dimension of a tensor type: a number, or a symbol bound at run time (the batch `N`).
public enum Dim: Hashable, Sendable, CustomStringConvertible {
    case fixed(Int)
    case symbolic(String)

    public var value: Int? {
        if case .fixed(let v) = self { return v }
        return nil
    }

    public var description: String {
        switch self {
        case .fixed(let v): return String(v)
        case .symbolic(let s): return s
        }
    }
}

/// The type of every graph value: a 32-bit float tensor with a (possibly symbolic-batch) shape.
/// Textual form: `f32[N,1,64,64]`.
public struct TensorType: Hashable, Sendable, CustomStringConvertible {
    public var dims: [Dim]

    public init(_ dims: [Dim]) { self.dims = dims }
    public init(fixed: [Int]) { self.dims = fixed.map(Dim.fixed) }

    public var rank: Int { dims.count }

    /// The shape when no dimension is symbolic.
    public var fixedShape: [Int]? {
        var out: [Int] = []
        for d in dims { guard let v = d.value else { return nil }; out.append(v) }
        return out
    }

    /// The shape with every symbol replaced from `bindings` (nil if one is unbound).
    public func shape(binding bindings: [String: Int]) -> [Int]? {
        var out: [Int] = []
        for d in dims {
            switch d {
            case .fixed(let v): out.append(v)
            case .symbolic(let s): guard let v = bindings[s] else { return nil }; out.append(v)
            }
        }
        return out
    }

    /// Element count, treating symbols as 1 (per-sample size).
    public var elementsPerSample: Int { dims.reduce(1) { $0 * ($1.value ?? 1) } }

    public var description: String { "f32[" + dims.map(\.description).joined(separator: ",") + "]" }
}
