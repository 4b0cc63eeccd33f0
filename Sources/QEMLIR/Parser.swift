/// Recursive-descent parser: tokens → `TopItem`s. On a syntax error it records a diagnostic,
/// skips to the end of the statement and goes on, so one run reports every syntax error.
struct Parser {
    struct Failure: Error {
        var diagnostic: Diagnostic
        /// Already in `diagnostics` (an unterminated block, placed first): parsing resumes at the
        /// top-level keyword that follows.
        var recorded = false
    }

    var tokens: [Token]
    var p = 0
    var diagnostics: [Diagnostic] = []
    let file: String
    /// Nesting of blocks, calls, lists and parentheses: bounded so hostile input cannot
    /// exhaust the stack.
    var depth = 0
    static let maxDepth = 64

    mutating func enter() throws(Failure) {
        depth += 1
        if depth > Parser.maxDepth { throw fail("nesting deeper than \(Parser.maxDepth) levels (the limit)") }
    }

    init(tokens: [Token], file: String) {
        self.tokens = tokens
        self.file = file
    }

    /// Lexes and parses a whole file.
    static func parse(_ source: String, file: String) -> ([TopItem], [Diagnostic]) {
        var lexer = Lexer(source, file: file)
        let tokens = lexer.tokenize()
        var parser = Parser(tokens: tokens, file: file)
        let items = parser.parseFile()
        // A bad token already has its diagnostic: drop the parser's follow-on complaints on that line.
        let badLines = Set(lexer.diagnostics.compactMap { $0.location?.line })
        return (items, lexer.diagnostics + parser.diagnostics.filter { !badLines.contains($0.location?.line ?? -1) })
    }

    // MARK: token helpers

    var tok: Token { tokens[p] }
    var loc: SourceLocation { tokens[p].loc }

    func isPunct(_ s: String) -> Bool { if case .punct(s) = tok.kind { return true }; return false }
    func isIdent(_ s: String) -> Bool { if case .ident(s) = tok.kind { return true }; return false }
    var atLineEnd: Bool {
        switch tok.kind {
        case .newline, .eof: return true
        case .punct(";"), .punct("}"): return true
        default: return false
        }
    }

    mutating func next() { if p < tokens.count - 1 { p += 1 } }

    func fail(_ message: String, at l: SourceLocation? = nil, notes: [String] = []) -> Failure {
        Failure(diagnostic: Diagnostic(message, at: l ?? loc, notes: notes))
    }

    func describe(_ t: Token) -> String {
        switch t.kind {
        case .ident(let s): return "'\(s)'"
        case .int(let v): return "'\(v)'"
        case .float(let v): return "'\(formatFloat(v))'"
        case .string: return "a string"
        case .value(let parts): return "'%\(Parser.spell(parts))'"
        case .weight(let parts): return "'@\(Parser.spell(parts))'"
        case .punct(let s): return "'\(s)'"
        case .newline: return "end of line"
        case .eof: return "end of file"
        }
    }

    static func spell(_ parts: [TextPart]) -> String {
        parts.map { if case .text(let t) = $0 { return t } else if case .expr(let e, _) = $0 { return "{\(e)}" }; return "" }.joined()
    }

    mutating func expect(_ s: String, _ context: String) throws(Failure) {
        guard isPunct(s) else { throw fail("expected '\(s)' \(context), found \(describe(tok))") }
        next()
    }

    mutating func ident(_ context: String) throws(Failure) -> String {
        guard case .ident(let s) = tok.kind else { throw fail("expected \(context), found \(describe(tok))") }
        next()
        return s
    }

    mutating func skipNewlines() { while case .newline = tok.kind { next() } }

    /// Keywords that only begin top-level items. Met at the start of a line inside a block, they
    /// mean the block's `}` is missing: the block is reported unterminated there and parsing
    /// resumes at the keyword instead of cascading through the rest of the file.
    static let topLevelKeywords: Set<String> = ["model", "labels", "note", "frontend", "input", "weight", "output", "def"]

    /// Whether the current token starts a top-level item (`def name(`, `input %x`, `labels [`, …).
    var atTopLevelKeyword: Bool {
        guard case .ident(let kw) = tok.kind, Parser.topLevelKeywords.contains(kw), p + 1 < tokens.count else { return false }
        let previous = p > 0 ? tokens[p - 1].kind : .newline
        guard case .newline = previous else { return false }
        switch (kw, tokens[p + 1].kind) {
        case ("def", .ident), ("frontend", .value), ("input", .value), ("output", .value), ("weight", .weight),
             ("model", .string), ("note", .string), ("labels", .punct("[")):
            return true
        default:
            return false
        }
    }

    /// The unterminated-block diagnostic, placed before the errors recorded since the block opened.
    mutating func unterminated(_ what: String, open: SourceLocation, errorsBefore: Int) -> Failure {
        let next = describe(tok)
        let d = Diagnostic("unterminated \(what): '{' has no matching '}'", at: open,
                           notes: ["the next top-level item, \(next) at line \(loc.line), begins before it is closed"])
        diagnostics.insert(d, at: min(errorsBefore, diagnostics.count))
        return Failure(diagnostic: d, recorded: true)
    }

    /// After an error: skip to the end of the statement (balancing braces), leaving `}` unconsumed.
    mutating func synchronize() {
        var nest = 0
        while true {
            switch tok.kind {
            case .eof: return
            case .newline where nest == 0: return
            case .punct(";") where nest == 0: return
            case .punct("{"): nest += 1
            case .punct("}"):
                if nest == 0 { return }
                nest -= 1
            default: break
            }
            next()
        }
    }

    mutating func endStatement() throws(Failure) {
        switch tok.kind {
        case .newline, .punct(";"): next()
        case .eof, .punct("}"): break
        default: throw fail("expected end of line, found \(describe(tok))")
        }
    }

    // MARK: file

    mutating func parseFile() -> [TopItem] {
        var items: [TopItem] = []
        while true {
            skipNewlines()
            if case .eof = tok.kind { return items }
            if isPunct(";") { next(); continue }
            if isPunct("}") {
                diagnostics.append(Diagnostic("unexpected '}' (no block is open)", at: loc))
                next()
                continue
            }
            do {
                let item = try topItem()
                items.append(item)
                try endStatement()
            } catch {
                if error.recorded { continue }  // resume at the top-level keyword
                diagnostics.append(error.diagnostic)
                synchronize()
                if isPunct("}") { next() }
            }
        }
    }

    mutating func topItem() throws(Failure) -> TopItem {
        let start = loc
        guard case .ident(let kw) = tok.kind else { return .stmt(try statement()) }
        switch kw {
        case "model":
            next()
            return .model(try plainString("a model name string"), start)
        case "labels":
            next()
            let l = loc
            guard case .list(let elems, _) = try primary() else { throw fail("expected a list of strings after 'labels'", at: l) }
            var out: [String] = []
            for e in elems {
                guard case .string(let t, let sl) = e, let s = t.literal else { throw fail("expected a string label", at: e.loc) }
                _ = sl
                out.append(s)
            }
            return .labels(out, start)
        case "note":
            next()
            return .note(try plainString("a note string"), start)
        case "frontend":
            next()
            let name = try valueName("the value the front end produces, e.g. %spectrogram")
            let open = loc
            try expect("{", "to open the frontend section")
            let errorsBefore = diagnostics.count
            var settings: [(String, Expr, SourceLocation)] = []
            while true {
                skipNewlines()
                if isPunct("}") { next(); break }
                if isPunct(";") { next(); continue }  // error recovery stops at ';': step over it
                if case .eof = tok.kind { throw fail("unterminated frontend section: '{' has no matching '}'", at: open) }
                if atTopLevelKeyword { throw unterminated("frontend section", open: open, errorsBefore: errorsBefore) }
                let kl = loc
                do {
                    let key = try ident("a frontend setting name")
                    try expect("=", "after '\(key)'")
                    let v = try expr()
                    settings.append((key, v, kl))
                    try endStatement()
                } catch {
                    diagnostics.append(error.diagnostic)
                    synchronize()
                }
            }
            return .frontend(name, settings, start)
        case "input":
            next()
            let name = try valueName("an input name, e.g. %x")
            try expect(":", "before the input's type")
            return .input(name, try typeExpr(), start)
        case "weight":
            next()
            guard case .weight(let parts) = tok.kind, parts.count == 1, case .text(let name) = parts[0] else {
                throw fail("expected a weight name after 'weight', e.g. weight @fc.bias: f32[8]")
            }
            next()
            try expect(":", "before the weight's type")
            return .weightDecl(name, try typeExpr(), start)
        case "output":
            next()
            var names: [(String, SourceLocation)] = []
            repeat {
                if !names.isEmpty { next() }
                let l = loc
                names.append((try valueName("an output value, e.g. %probs"), l))
            } while isPunct(",")
            return .output(names, start)
        case "def":
            return .def(try def())
        default:
            return .stmt(try statement())
        }
    }

    mutating func plainString(_ what: String) throws(Failure) -> String {
        guard case .string(let parts) = tok.kind else { throw fail("expected \(what), found \(describe(tok))") }
        var s = ""
        for part in parts {
            guard case .text(let t) = part else { throw fail("\(what) cannot contain {…} interpolation") }
            s += t
        }
        next()
        return s
    }

    mutating func valueName(_ what: String) throws(Failure) -> String {
        guard case .value(let parts) = tok.kind, parts.count == 1, case .text(let name) = parts[0] else {
            throw fail("expected \(what), found \(describe(tok))")
        }
        next()
        return name
    }

    mutating func typeExpr() throws(Failure) -> TypeExpr {
        let start = loc
        let elem = try ident("a tensor type such as f32[1,4]")
        guard elem == "f32" else {
            throw fail("unknown element type '\(elem)'", at: start, notes: ["qemlc tensors are f32, e.g. f32[N,4]"])
        }
        try expect("[", "after f32")
        var dims: [TypeExpr.DimExpr] = []
        while !isPunct("]") {
            if !dims.isEmpty { try expect(",", "between dimensions") }
            switch tok.kind {
            case .int(let v): dims.append(.int(v))
            case .ident(let s): dims.append(.name(s))
            default: throw fail("expected a dimension (a number or a symbol such as N), found \(describe(tok))")
            }
            next()
        }
        next()
        return TypeExpr(dims: dims, loc: start)
    }

    mutating func def() throws(Failure) -> Def {
        let start = loc
        next()
        let name = try ident("a block name after 'def'")
        try expect("(", "after the block name")
        var params: [Param] = []
        while !isPunct(")") {
            if !params.isEmpty { try expect(",", "between parameters") }
            let pl = loc
            switch tok.kind {
            case .value(let parts):
                guard parts.count == 1, case .text(let n) = parts[0] else { throw fail("a parameter name cannot be interpolated") }
                next()
                params.append(Param(name: n, isTensor: true, defaultValue: nil, loc: pl))
            case .ident(let n):
                next()
                var d: Expr?
                if isPunct("=") { next(); d = try expr() }
                params.append(Param(name: n, isTensor: false, defaultValue: d, loc: pl))
            default:
                throw fail("expected a parameter (%tensor or name), found \(describe(tok))")
            }
        }
        next()
        let body = try block()
        return Def(name: name, params: params, body: body, loc: start)
    }

    /// `{ statements }`, recovering from errors inside.
    mutating func block() throws(Failure) -> [Stmt] {
        let open = loc
        try expect("{", "to open a block")
        try enter()
        defer { depth -= 1 }
        let errorsBefore = diagnostics.count
        var stmts: [Stmt] = []
        while true {
            skipNewlines()
            if isPunct("}") { next(); return stmts }
            if isPunct(";") { next(); continue }
            if case .eof = tok.kind { throw fail("unterminated block: '{' has no matching '}'", at: open) }
            if atTopLevelKeyword { throw unterminated("block", open: open, errorsBefore: errorsBefore) }
            do {
                stmts.append(try statement())
                try endStatement()
            } catch {
                if error.recorded || error.diagnostic.message.hasPrefix("unterminated block") { throw error }
                diagnostics.append(error.diagnostic)
                synchronize()
            }
        }
    }

    // MARK: statements

    mutating func statement() throws(Failure) -> Stmt {
        let start = loc
        switch tok.kind {
        case .ident("return"):
            next()
            var values: [Expr] = [try expr()]
            while isPunct(",") { next(); values.append(try expr()) }
            return .ret(values, start)
        case .ident("for"):
            next()
            let v = try ident("a loop variable after 'for'")
            guard isIdent("in") else { throw fail("expected 'in' after 'for \(v)', found \(describe(tok))") }
            next()
            let lo = try expr(allowBody: false)
            try expect("..", "in the loop range (for i in 0..4)")
            let hi = try expr(allowBody: false)
            return .forLoop(v, lo, hi, try block(), start)
        case .ident("if"):
            return try ifStatement()
        case .ident("let"):
            next()
            let n = try ident("a name after 'let'")
            try expect("=", "after 'let \(n)'")
            return .letStmt(n, try expr(), start)
        case .value:
            // `%a = …` or `%a, %b = …`
            var targets: [Template] = []
            var locs: [SourceLocation] = []
            let save = p
            while case .value(let parts) = tok.kind {
                locs.append(loc)
                targets.append(try template(parts))
                next()
                if isPunct(",") { next() } else { break }
            }
            guard isPunct("=") else {
                p = save
                return .expr(try expr(), start)
            }
            next()
            let e = try expr()
            var types: [TypeExpr]?
            if isPunct(":") {
                next()
                var ts = [try typeExpr()]
                while isPunct(",") { next(); ts.append(try typeExpr()) }
                types = ts
            }
            return .assign(targets, locs, e, types, start)
        default:
            return .expr(try expr(), start)
        }
    }

    mutating func ifStatement() throws(Failure) -> Stmt {
        let start = loc
        next()
        let cond = try expr(allowBody: false)
        let then = try block()
        var otherwise: [Stmt]?
        // `else` may follow `}` on the same line only.
        if isIdent("else") {
            next()
            if isIdent("if") { otherwise = [try ifStatement()] } else { otherwise = try block() }
        }
        return .ifStmt(cond, then, otherwise, start)
    }

    // MARK: expressions

    mutating func expr(allowBody: Bool = true) throws(Failure) -> Expr { try binary(0, allowBody) }

    static let precedence: [[String]] = [["||"], ["&&"], ["==", "!=", "<", "<=", ">", ">="], ["+", "-"], ["*", "/", "%"]]

    mutating func binary(_ level: Int, _ allowBody: Bool) throws(Failure) -> Expr {
        if level == Parser.precedence.count { return try unary(allowBody) }
        var lhs = try binary(level + 1, allowBody)
        while case .punct(let op) = tok.kind, Parser.precedence[level].contains(op) {
            let l = loc
            next()
            let rhs = try binary(level + 1, allowBody)
            lhs = .binary(op, lhs, rhs, l)
        }
        return lhs
    }

    mutating func unary(_ allowBody: Bool) throws(Failure) -> Expr {
        if isPunct("-") || isPunct("!") {
            let l = loc
            try enter()
            defer { depth -= 1 }
            guard case .punct(let op) = tok.kind else { throw fail("unreachable") }
            next()
            return .unary(op, try unary(allowBody), l)
        }
        return try postfix(allowBody)
    }

    mutating func postfix(_ allowBody: Bool) throws(Failure) -> Expr {
        var e = try primary(allowBody)
        while isPunct("[") {
            let l = loc
            next()
            var idx: [Expr] = []
            while !isPunct("]") {
                if !idx.isEmpty { try expect(",", "between indices") }
                idx.append(try expr())
            }
            next()
            e = .index(e, idx, l)
        }
        return e
    }

    mutating func primary(_ allowBody: Bool = true) throws(Failure) -> Expr {
        let l = loc
        try enter()
        defer { depth -= 1 }
        switch tok.kind {
        case .int(let v): next(); return .int(v, l)
        case .float(let v): next(); return .float(v, l)
        case .string(let parts): next(); return .string(try template(parts), l)
        case .value(let parts): next(); return .value(try template(parts), l)
        case .weight(let parts): next(); return .weight(try template(parts), l)
        case .ident("true"): next(); return .bool(true, l)
        case .ident("false"): next(); return .bool(false, l)
        case .ident(let name):
            next()
            guard isPunct("(") else { return .ident(name, l) }
            next()
            var args: [Argument] = []
            while !isPunct(")") {
                if !args.isEmpty && !isPunct(",") {
                    // Newlines are ignored inside ( … ): an unclosed call runs into the next line.
                    var f = fail("expected ',' or ')' after an argument of \(name)(…), found \(describe(tok))")
                    if loc.line > l.line { f.diagnostic.notes.append("the '(' of \(name) at \(l) is not closed") }
                    throw f
                }
                if !args.isEmpty { next() }
                if isPunct(")") { break }
                if case .ident(let label) = tok.kind, case .punct("=")? = tokens[safe: p + 1]?.kind {
                    let ll = loc
                    next(); next()
                    args.append(Argument(label: label, labelLoc: ll, value: try expr()))
                } else {
                    args.append(Argument(label: nil, labelLoc: nil, value: try expr()))
                }
            }
            next()
            var body: [Stmt]?
            if allowBody && isPunct("{") { body = try block() }
            return .call(name, args, body: body, l)
        case .punct("("):
            next()
            let e = try expr()
            try expect(")", "to close '('")
            return e
        case .punct("["):
            next()
            var elems: [Expr] = []
            while !isPunct("]") {
                if !elems.isEmpty { try expect(",", "between list elements") }
                if isPunct("]") { break }
                elems.append(try expr())
            }
            next()
            return .list(elems, l)
        default:
            throw fail("expected an expression, found \(describe(tok))")
        }
    }

    /// Parses the `{expr}` parts of a string or name.
    mutating func template(_ parts: [TextPart]) throws(Failure) -> Template {
        var out: [Template.Part] = []
        for part in parts {
            switch part {
            case .text(let t): out.append(.text(t))
            case .expr(let src, let at):
                var lexer = Lexer(src, file: file, line: at.line, column: at.column)
                var toks = lexer.tokenize()
                if let d = lexer.diagnostics.first { throw Failure(diagnostic: d) }
                toks.removeAll { if case .newline = $0.kind { return true }; return false }
                var sub = Parser(tokens: toks, file: file)
                sub.depth = depth
                guard case .eof = sub.tok.kind else {
                    let e = try sub.expr()
                    guard case .eof = sub.tok.kind else { throw sub.fail("expected '}' to end the interpolation, found \(sub.describe(sub.tok))") }
                    out.append(.expr(e))
                    continue
                }
                throw Failure(diagnostic: Diagnostic("empty interpolation {}", at: at))
            }
        }
        return Template(parts: out)
    }
}

extension Array {
    subscript(safe i: Int) -> Element? { i >= 0 && i < count ? self[i] : nil }
}
