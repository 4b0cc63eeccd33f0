/// Compile-time values: block parameters, loop variables, `let`s and attribute values.
enum CValue: Sendable, Equatable, CustomStringConvertible {
    case int(Int)
    case float(Double)
    case bool(Bool)
    case string(String)
    case list([CValue])

    var kindName: String {
        switch self {
        case .int: return "an integer"
        case .float: return "a number"
        case .bool: return "a boolean"
        case .string: return "a string"
        case .list: return "a list"
        }
    }

    var description: String {
        switch self {
        case .int(let v): return String(v)
        case .float(let v): return formatFloat(v)
        case .bool(let v): return v ? "true" : "false"
        case .string(let s): return s
        case .list(let l): return "[" + l.map(\.description).joined(separator: ", ") + "]"
        }
    }

    /// The value as it would be written in source (strings quoted), for messages.
    var spelled: String {
        switch self {
        case .string(let s): return quoteString(s)
        case .list(let l): return "[" + l.map(\.spelled).joined(separator: ", ") + "]"
        default: return description
        }
    }

    var double: Double? {
        switch self {
        case .int(let v): return Double(v)
        case .float(let v): return v
        default: return nil
        }
    }

    /// The attribute this value spells (lists must be homogeneous).
    var attribute: Attribute? {
        switch self {
        case .int(let v): return .int(v)
        case .float(let v): return .float(v)
        case .bool(let v): return .bool(v)
        case .string(let s): return .string(s)
        case .list(let l):
            if l.allSatisfy({ if case .int = $0 { return true }; return false }) {
                return .ints(l.compactMap { if case .int(let v) = $0 { return v }; return nil })
            }
            if l.allSatisfy({ $0.double != nil }) { return .floats(l.compactMap(\.double)) }
            if l.allSatisfy({ if case .string = $0 { return true }; return false }) {
                return .strings(l.compactMap { if case .string(let s) = $0 { return s }; return nil })
            }
            return nil
        }
    }
}

/// Evaluates compile-time expressions against an environment of names.
struct ConstEval {
    var lookup: (String) -> CValue?

    func fail(_ m: String, _ l: SourceLocation, notes: [String] = []) -> Diagnostic { Diagnostic(m, at: l, notes: notes) }

    func eval(_ e: Expr) throws(Diagnostic) -> CValue {
        switch e {
        case .int(let v, _): return .int(v)
        case .float(let v, _): return .float(v)
        case .bool(let v, _): return .bool(v)
        case .string(let t, _): return .string(try text(t))
        case .list(let elems, _):
            var out: [CValue] = []
            for x in elems { out.append(try eval(x)) }
            return .list(out)
        case .ident(let name, let l):
            if let v = lookup(name) { return v }
            switch name {
            case "pi": return .float(Double.pi)
            case "inf": return .float(.infinity)
            case "nan": return .float(.nan)
            default: throw fail("undefined name '\(name)'", l, notes: ["compile-time names are block parameters, loop variables and lets"])
            }
        case .value(_, let l), .weight(_, let l):
            throw fail("a tensor cannot be used where a compile-time value is expected", l)
        case .call(let name, _, _, let l):
            throw fail("'\(name)(…)' cannot be used where a compile-time value is expected", l)
        case .index(let base, let idx, let l):
            let b = try eval(base)
            guard case .list(let elems) = b else { throw fail("only lists can be indexed, got \(b.kindName)", l) }
            guard idx.count == 1 else { throw fail("a list takes one index, got \(idx.count)", l) }
            let i = try int(idx[0])
            guard i >= 0, i < elems.count else { throw fail("index \(i) is out of range for a list of \(elems.count)", l) }
            return elems[i]
        case .unary(let op, let x, let l):
            let v = try eval(x)
            switch (op, v) {
            case ("-", .int(let a)):
                let (r, o) = 0.subtractingReportingOverflow(a)
                if o { throw fail("integer overflow in -(\(a))", l) }
                return .int(r)
            case ("-", .float(let a)): return .float(-a)
            case ("!", .bool(let a)): return .bool(!a)
            default: throw fail("'\(op)' cannot be applied to \(v.kindName)", l)
            }
        case .binary(let op, let x, let y, let l):
            if op == "&&" || op == "||" {
                guard case .bool(let a) = try eval(x) else { throw fail("'\(op)' needs booleans", x.loc) }
                if op == "&&" && !a { return .bool(false) }
                if op == "||" && a { return .bool(true) }
                guard case .bool(let b) = try eval(y) else { throw fail("'\(op)' needs booleans", y.loc) }
                return .bool(b)
            }
            return try binary(op, try eval(x), try eval(y), l)
        }
    }

    func binary(_ op: String, _ a: CValue, _ b: CValue, _ l: SourceLocation) throws(Diagnostic) -> CValue {
        switch (a, b) {
        case (.int(let x), .int(let y)):
            switch op {
            case "+": let (r, o) = x.addingReportingOverflow(y); if o { throw fail("integer overflow in \(x) + \(y)", l) }; return .int(r)
            case "-": let (r, o) = x.subtractingReportingOverflow(y); if o { throw fail("integer overflow in \(x) - \(y)", l) }; return .int(r)
            case "*": let (r, o) = x.multipliedReportingOverflow(by: y); if o { throw fail("integer overflow in \(x) * \(y)", l) }; return .int(r)
            case "/", "%":
                guard y != 0 else { throw fail("division by zero", l) }
                // Floor division and modulo (Python's), so -1 % 4 == 3 for ring indices.
                let q = x / y, r = x % y
                let adjust = (r != 0) && ((r < 0) != (y < 0))
                return op == "/" ? .int(adjust ? q - 1 : q) : .int(adjust ? r + y : r)
            default: return try compare(op, Double(x), Double(y), l)
            }
        case (.string(let x), .string(let y)):
            switch op {
            case "+": return .string(x + y)
            case "==": return .bool(x == y)
            case "!=": return .bool(x != y)
            default: throw fail("'\(op)' cannot be applied to strings", l)
            }
        case (.bool(let x), .bool(let y)) where op == "==" || op == "!=":
            return .bool(op == "==" ? x == y : x != y)
        default:
            guard let x = a.double, let y = b.double else {
                throw fail("'\(op)' cannot be applied to \(a.kindName) and \(b.kindName)", l)
            }
            switch op {
            case "+": return .float(x + y)
            case "-": return .float(x - y)
            case "*": return .float(x * y)
            case "/": return .float(x / y)
            case "%": return .float(x.truncatingRemainder(dividingBy: y))
            default: return try compare(op, x, y, l)
            }
        }
    }

    func compare(_ op: String, _ x: Double, _ y: Double, _ l: SourceLocation) throws(Diagnostic) -> CValue {
        switch op {
        case "==": return .bool(x == y)
        case "!=": return .bool(x != y)
        case "<": return .bool(x < y)
        case "<=": return .bool(x <= y)
        case ">": return .bool(x > y)
        case ">=": return .bool(x >= y)
        default: throw fail("unknown operator '\(op)'", l)
        }
    }

    func int(_ e: Expr) throws(Diagnostic) -> Int {
        let v = try eval(e)
        guard case .int(let i) = v else { throw fail("expected an integer, got \(v.kindName) (\(v))", e.loc) }
        return i
    }

    func bool(_ e: Expr) throws(Diagnostic) -> Bool {
        let v = try eval(e)
        guard case .bool(let b) = v else { throw fail("expected true or false, got \(v.kindName) (\(v))", e.loc) }
        return b
    }

    func text(_ t: Template) throws(Diagnostic) -> String {
        var s = ""
        for part in t.parts {
            switch part {
            case .text(let x): s += x
            case .expr(let e):
                let v = try eval(e)
                if case .list = v { throw fail("a list cannot be interpolated into a name", e.loc) }
                s += v.description
            }
        }
        return s
    }
}
