/// `.qir` tokens. The language is line-oriented: newlines end statements, except inside
/// `( … )` and `[ … ]`, where the lexer drops them so calls may span lines.
struct Token: Sendable {
    enum Kind: Sendable, Equatable {
        case ident(String)
        case int(Int)
        case float(Double)
        /// `"text {expr} text"`.
        case string([TextPart])
        /// `%name`, possibly with `{expr}` parts.
        case value([TextPart])
        /// `@name`, possibly with `{expr}` parts.
        case weight([TextPart])
        case punct(String)
        case newline
        case eof
    }
    var kind: Kind
    var loc: SourceLocation
}

/// A piece of an interpolated string or name: literal text, or the source of an expression
/// (re-lexed by the parser) with the place it starts.
enum TextPart: Sendable, Equatable {
    case text(String)
    case expr(String, SourceLocation)
}

struct Lexer {
    let file: String
    let chars: [Unicode.Scalar]
    var i = 0
    var line = 1
    var col = 1
    var depth = 0   // ( and [ nesting: newlines inside are not statement ends
    var diagnostics: [Diagnostic] = []

    init(_ source: String, file: String, line: Int = 1, column: Int = 1) {
        self.file = file
        var scalars = Array(source.unicodeScalars)
        if scalars.first == "\u{FEFF}" { scalars.removeFirst() }   // a byte-order mark is not content
        self.chars = scalars
        self.line = line
        self.col = column
    }

    static let puncts2: Set<String> = ["==", "!=", "<=", ">=", "..", "&&", "||"]
    static let puncts1: Set<Unicode.Scalar> = ["(", ")", "[", "]", "{", "}", ",", "=", ":", "+", "-", "*", "/", "%", "<", ">", "!", ";"]

    static func isNameChar(_ c: Unicode.Scalar) -> Bool {
        ("a"..."z").contains(c) || ("A"..."Z").contains(c) || ("0"..."9").contains(c) || c == "_" || c == "."
    }
    static func isIdentStart(_ c: Unicode.Scalar) -> Bool { ("a"..."z").contains(c) || ("A"..."Z").contains(c) || c == "_" }
    static func isIdentChar(_ c: Unicode.Scalar) -> Bool { isIdentStart(c) || ("0"..."9").contains(c) }
    static func isDigit(_ c: Unicode.Scalar) -> Bool { ("0"..."9").contains(c) }

    var here: SourceLocation { SourceLocation(file: file, line: line, column: col) }
    func peek(_ k: Int = 0) -> Unicode.Scalar? { i + k < chars.count ? chars[i + k] : nil }

    mutating func advance() {
        if chars[i] == "\n" { line += 1; col = 1 } else { col += 1 }
        i += 1
    }

    mutating func error(_ message: String, at loc: SourceLocation, notes: [String] = []) {
        diagnostics.append(Diagnostic(message, at: loc, sourceLine: nil, notes: notes))
    }

    mutating func tokenize() -> [Token] {
        var out: [Token] = []
        while true {
            // Skip blanks and comments.
            while let c = peek() {
                if c == " " || c == "\t" || c == "\r" { advance() } else if c == "#" {
                    while let d = peek(), d != "\n" { _ = d; advance() }
                } else if c == "\n" && depth > 0 { advance() } else { break }
            }
            let start = here
            guard let c = peek() else { out.append(Token(kind: .eof, loc: start)); return out }
            if c == "\n" {
                advance()
                if case .newline? = out.last?.kind {} else if !out.isEmpty { out.append(Token(kind: .newline, loc: start)) }
                continue
            }
            if Lexer.isIdentStart(c) {
                var s = ""
                while let d = peek(), Lexer.isIdentChar(d) { s.unicodeScalars.append(d); advance() }
                out.append(Token(kind: .ident(s), loc: start))
            } else if Lexer.isDigit(c) {
                out.append(number(start))
            } else if c == "\"" {
                advance()
                if let parts = stringBody(start) { out.append(Token(kind: .string(parts), loc: start)) }
            } else if c == "%" || c == "@" {
                advance()
                let parts = nameBody()
                if parts.isEmpty {
                    if c == "%" {
                        out.append(Token(kind: .punct("%"), loc: start))   // the modulo operator
                    } else {
                        error("expected a weight name after '@'", at: start, notes: ["weight names look like @layer1.0.conv1.weight, or @.conv1.weight relative to the block's scope"])
                    }
                } else {
                    out.append(Token(kind: c == "%" ? .value(parts) : .weight(parts), loc: start))
                }
            } else {
                if let d = peek(1), Lexer.puncts2.contains(String(c) + String(d)) {
                    advance(); advance()
                    out.append(Token(kind: .punct(String(c) + String(d)), loc: start))
                    continue
                }
                guard Lexer.puncts1.contains(c) else {
                    error("unexpected character '\(c.isASCII && c.value >= 32 && c.value < 127 ? String(c) : c.escaped(asASCII: true))'", at: start)
                    advance()
                    continue
                }
                advance()
                if c == "(" || c == "[" { depth += 1 }
                if (c == ")" || c == "]") && depth > 0 { depth -= 1 }
                // A `{` opens a block: statements inside are line-separated again.
                out.append(Token(kind: .punct(String(c)), loc: start))
            }
        }
    }

    mutating func number(_ start: SourceLocation) -> Token {
        var s = ""
        var isFloat = false
        while let d = peek(), Lexer.isDigit(d) { s.unicodeScalars.append(d); advance() }
        if peek() == ".", let d = peek(1), Lexer.isDigit(d) {
            isFloat = true
            s += "."; advance()
            while let d = peek(), Lexer.isDigit(d) { s.unicodeScalars.append(d); advance() }
        }
        if let e = peek(), e == "e" || e == "E" {
            var k = 1
            if let sign = peek(1), sign == "+" || sign == "-" { k = 2 }
            if let d = peek(k), Lexer.isDigit(d) {
                isFloat = true
                for _ in 0..<k { s.unicodeScalars.append(peek()!); advance() }
                while let d = peek(), Lexer.isDigit(d) { s.unicodeScalars.append(d); advance() }
            }
        }
        // `12abc`, `1.5.2`: one bad token rather than a confusing sequence.
        var junk = ""
        while let d = peek(), Lexer.isIdentChar(d) || (d == "." && peek(1) != ".") { junk.unicodeScalars.append(d); advance() }
        if !junk.isEmpty {
            error("bad number '\(s + junk)'", at: start, notes: ["numbers look like 42, 0.5, 1e-5"])
            return Token(kind: .int(0), loc: start)
        }
        if isFloat {
            guard let v = Double(s) else { error("bad number '\(s)'", at: start); return Token(kind: .float(0), loc: start) }
            return Token(kind: .float(v), loc: start)
        }
        guard let v = Int(s) else {
            error("bad number '\(s)': too large for a 64-bit integer", at: start)
            return Token(kind: .int(0), loc: start)
        }
        return Token(kind: .int(v), loc: start)
    }

    /// After the opening quote; nil (and a diagnostic) when the line ends first.
    mutating func stringBody(_ start: SourceLocation) -> [TextPart]? {
        var parts: [TextPart] = []
        var text = ""
        while true {
            guard let c = peek(), c != "\n" else {
                error("unterminated string", at: start, notes: ["close it with \" on the same line"])
                return nil
            }
            advance()
            switch c {
            case "\"":
                if !text.isEmpty || parts.isEmpty { parts.append(.text(text)) }
                return parts
            case "\\":
                guard let e = peek(), e != "\n" else { continue }
                advance()
                switch e {
                case "n": text += "\n"
                case "t": text += "\t"
                case "{": text += "{"
                case "}": text += "}"
                default: text.unicodeScalars.append(e)
                }
            case "{":
                if !text.isEmpty { parts.append(.text(text)); text = "" }
                let exprStart = here
                guard let src = interpolation() else {
                    error("unterminated string", at: start, notes: ["an interpolation {…} is not closed"])
                    return nil
                }
                parts.append(.expr(src, exprStart))
            default:
                text.unicodeScalars.append(c)
            }
        }
    }

    /// The source of `{expr}` after its `{`, through the matching `}` (consumed); nil at end of line.
    mutating func interpolation() -> String? {
        var nest = 0
        var src = ""
        while let c = peek(), c != "\n" {
            advance()
            if c == "{" { nest += 1 }
            if c == "}" { if nest == 0 { return src }; nest -= 1 }
            src.unicodeScalars.append(c)
        }
        return nil
    }

    /// The characters of a `%name` / `@name` after the sigil: `[A-Za-z0-9_.]` and `{expr}` parts
    /// (a `{` right after a sigil or name character starts an interpolation; a block's `{`
    /// always follows a space or `)`).
    mutating func nameBody() -> [TextPart] {
        var parts: [TextPart] = []
        var text = ""
        while let c = peek() {
            if Lexer.isNameChar(c) {
                text.unicodeScalars.append(c); advance()
            } else if c == "{" {
                let open = here
                advance()
                if !text.isEmpty { parts.append(.text(text)); text = "" }
                let exprStart = here
                guard let src = interpolation() else {
                    error("unterminated '{' in a name", at: open)
                    return parts
                }
                parts.append(.expr(src, exprStart))
            } else { break }
        }
        if !text.isEmpty { parts.append(.text(text)) }
        return parts
    }
}
