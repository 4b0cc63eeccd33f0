/// The syntax tree of a `.qir` file, before lowering (defs not yet inlined, loops not expanded).

/// A name or string that may contain `{expr}` parts: `%conv{i}`, `@.bn{i}.weight`, `"layer{s}"`.
struct Template: Sendable {
    enum Part: Sendable {
        case text(String)
        case expr(Expr)
    }
    var parts: [Part]
    /// The literal text when there is no interpolation.
    var literal: String? {
        var s = ""
        for p in parts {
            guard case .text(let t) = p else { return nil }
            s += t
        }
        return s
    }
}

indirect enum Expr: Sendable {
    case int(Int, SourceLocation)
    case float(Double, SourceLocation)
    case bool(Bool, SourceLocation)
    case string(Template, SourceLocation)
    case list([Expr], SourceLocation)
    /// A compile-time name: a block parameter, loop variable or `let`; in circuit bodies also
    /// `x`, `w`, `w2`… and Pauli names.
    case ident(String, SourceLocation)
    case value(Template, SourceLocation)
    case weight(Template, SourceLocation)
    /// An op, block, gate or template call; `body` is a trailing `{ … }` (circuits).
    case call(String, [Argument], body: [Stmt]?, SourceLocation)
    case index(Expr, [Expr], SourceLocation)
    case unary(String, Expr, SourceLocation)
    case binary(String, Expr, Expr, SourceLocation)

    var loc: SourceLocation {
        switch self {
        case .int(_, let l), .float(_, let l), .bool(_, let l), .string(_, let l), .list(_, let l), .ident(_, let l),
             .value(_, let l), .weight(_, let l), .call(_, _, _, let l), .index(_, _, let l), .unary(_, _, let l),
             .binary(_, _, _, let l):
            return l
        }
    }
}

struct Argument: Sendable {
    var label: String?
    var labelLoc: SourceLocation?
    var value: Expr
}

/// `f32[1,N,64,64]`; a dimension is an integer literal or a name (a compile-time int, else a symbol).
struct TypeExpr: Sendable {
    enum DimExpr: Sendable {
        case int(Int)
        case name(String)
    }
    var dims: [DimExpr]
    var loc: SourceLocation
}

indirect enum Stmt: Sendable {
    /// `%a, %b = expr : type, type`
    case assign([Template], [SourceLocation], Expr, [TypeExpr]?, SourceLocation)
    /// A call on its own line: gates, templates and measurements in circuit bodies.
    case expr(Expr, SourceLocation)
    case ret([Expr], SourceLocation)
    case forLoop(String, Expr, Expr, [Stmt], SourceLocation)
    case ifStmt(Expr, [Stmt], [Stmt]?, SourceLocation)
    /// `let name = expr`: a compile-time constant.
    case letStmt(String, Expr, SourceLocation)

    var loc: SourceLocation {
        switch self {
        case .assign(_, _, _, _, let l), .expr(_, let l), .ret(_, let l), .forLoop(_, _, _, _, let l),
             .ifStmt(_, _, _, let l), .letStmt(_, _, let l):
            return l
        }
    }
}

struct Param: Sendable {
    var name: String
    /// `%x`: a tensor; otherwise a compile-time value.
    var isTensor: Bool
    var defaultValue: Expr?
    var loc: SourceLocation
}

struct Def: Sendable {
    var name: String
    var params: [Param]
    var body: [Stmt]
    var loc: SourceLocation
}

enum TopItem: Sendable {
    case model(String, SourceLocation)
    case labels([String], SourceLocation)
    case note(String, SourceLocation)
    case frontend(String, [(String, Expr, SourceLocation)], SourceLocation)
    case input(String, TypeExpr, SourceLocation)
    /// `weight @name: f32[…]`: the type of a weight whose op cannot infer it.
    case weightDecl(String, TypeExpr, SourceLocation)
    case output([(String, SourceLocation)], SourceLocation)
    case def(Def)
    case stmt(Stmt)
}
