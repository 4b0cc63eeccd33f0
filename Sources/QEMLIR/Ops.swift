/// The op declarations: each op is declared once — operands, attributes, shape rule, FLOP
/// count, a one-line summary and an example — and the parser, printer, verifier, `check`
/// table and interpreter all read it from here.
public struct OpDecl: Sendable {
    public struct Operand: Sendable {
        public var name: String
        /// Optional operands are written as keywords: `conv2d(%x, @w, bias=@b)`.
        public var optional: Bool
        /// A variadic operand takes every remaining positional argument (must be last).
        public var variadic: Bool
        public init(_ name: String, optional: Bool = false, variadic: Bool = false) {
            self.name = name
            self.optional = optional
            self.variadic = variadic
        }
    }

    public struct Attr: Sendable {
        public var name: String
        public var kind: AttributeKind
        /// nil: required, unless `optional`.
        public var defaultValue: Attribute?
        /// May be absent with no default: the op's rule says what absence means (pool stride = kernel).
        public var optional: Bool
        public init(_ name: String, _ kind: AttributeKind, _ defaultValue: Attribute? = nil, optional: Bool = false) {
            self.name = name
            self.kind = kind
            self.defaultValue = defaultValue
            self.optional = optional
        }
    }

    public var name: String
    public var summary: String
    public var example: String
    public var operands: [Operand]
    public var attributes: [Attr]
    /// Result types from operand types and attributes, plus the types the weight operands
    /// must have (so `check` knows every weight's shape without a weights file).
    public var infer: @Sendable (ShapeContext) throws(ShapeError) -> ShapeResult
    /// Floating-point operations for one evaluation (a multiply-add counts 2), per sample.
    public var flops: @Sendable (ShapeContext, [TensorType]) -> Int

    public init(name: String, summary: String, example: String, operands: [Operand], attributes: [Attr],
                infer: @escaping @Sendable (ShapeContext) throws(ShapeError) -> ShapeResult,
                flops: @escaping @Sendable (ShapeContext, [TensorType]) -> Int) {
        self.name = name
        self.summary = summary
        self.example = example
        self.operands = operands
        self.attributes = attributes
        self.infer = infer
        self.flops = flops
    }

    public var isVariadic: Bool { operands.last?.variadic ?? false }
    public var requiredOperandCount: Int { operands.filter { !$0.optional && !$0.variadic }.count }

    public func operandIndex(_ name: String) -> Int? { operands.firstIndex { $0.name == name } }
}

public struct ShapeError: Error, Sendable, Equatable {
    public var message: String
    public init(_ message: String) { self.message = message }
}

public struct ShapeContext: Sendable {
    public var attributes: Attributes
    /// One per operand slot: nil where the optional operand is absent or a weight is not typed yet.
    public var operands: [TensorType?]
    /// Which operand slots hold weights (their types may be unknown and are then inferred).
    public var isWeight: [Bool]

    public init(attributes: Attributes, operands: [TensorType?], isWeight: [Bool]) {
        self.attributes = attributes
        self.operands = operands
        self.isWeight = isWeight
    }

    public func type(_ i: Int, _ what: String) throws(ShapeError) -> TensorType {
        guard i < operands.count, let t = operands[i] else { throw ShapeError("the shape of \(what) is not known here") }
        return t
    }
    public func has(_ i: Int) -> Bool { i < operands.count && (operands[i] != nil || isWeight[i]) }
    public func int(_ n: String) -> Int { attributes.int(n) ?? 0 }
    public func ints(_ n: String) -> [Int] { attributes.ints(n) ?? [] }
}

public struct ShapeResult: Sendable {
    public var results: [TensorType]
    /// Expected types of weight operands, by operand slot.
    public var weights: [Int: TensorType]
    public init(_ results: [TensorType], weights: [Int: TensorType] = [:]) {
        self.results = results
        self.weights = weights
    }
}

public enum OpRegistry {
    public static func decl(_ name: String) -> OpDecl? { table[name] }
    public static var all: [OpDecl] { ordered }

    /// The ops qemlc itself declares: the base ops (those that may be blocked carry the optional
    /// `layout` annotation), then the fused ops passes create. Registration order = documentation order.
    public static let builtIn: [OpDecl] = BaseOps.all.map { d in
        var d = d
        if FusedOps.blockableOps.contains(d.name) { d.attributes.append(FusedOps.layoutAttribute) }
        return d
    } + FusedOps.all

    // Fixed when the program starts: every op, fused ones included, is declared in `builtIn`, so
    // a dump parses back in any process whatever ran before (no run-time registration).
    private static let ordered: [OpDecl] = builtIn
    private static let table: [String: OpDecl] = Dictionary(uniqueKeysWithValues: builtIn.map { ($0.name, $0) })
}

// MARK: shape helpers shared by the declarations

/// Requires a rank-4 NCHW type with fixed C, H, W; returns (N, C, H, W).
func nchw(_ t: TensorType, _ what: String) throws(ShapeError) -> (Dim, Int, Int, Int) {
    guard t.rank == 4 else { throw ShapeError("\(what) must be 4-D [N,C,H,W], got \(t)") }
    guard let c = t.dims[1].value, let h = t.dims[2].value, let w = t.dims[3].value else {
        throw ShapeError("\(what) must have fixed C, H and W, got \(t)")
    }
    return (t.dims[0], c, h, w)
}

/// Output size of a sliding window (conv and pooling), PyTorch's floor rule.
public func windowOutput(_ size: Int, kernel: Int, stride: Int, padding: Int, dilation: Int = 1, ceilMode: Bool = false) -> Int {
    let span = dilation * (kernel - 1) + 1
    let num = size + 2 * padding - span
    if num < 0 { return 0 }
    let out = (ceilMode ? (num + stride - 1) / stride : num / stride) + 1
    // PyTorch: with ceil_mode the last window must start inside the input or its left padding.
    if ceilMode && (out - 1) * stride >= size + padding { return out - 1 }
    return out
}

/// NumPy broadcasting of two types.
public func broadcast(_ a: TensorType, _ b: TensorType) throws(ShapeError) -> TensorType {
    let r = max(a.rank, b.rank)
    var out: [Dim] = []
    for i in 0..<r {
        let da = i < r - a.rank ? Dim.fixed(1) : a.dims[i - (r - a.rank)]
        let db = i < r - b.rank ? Dim.fixed(1) : b.dims[i - (r - b.rank)]
        if da == db { out.append(da) } else if da == .fixed(1) { out.append(db) } else if db == .fixed(1) { out.append(da) } else {
            throw ShapeError("shapes \(a) and \(b) do not broadcast (dimension \(i): \(da) vs \(db))")
        }
    }
    return TensorType(out)
}
