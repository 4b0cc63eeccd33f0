import Foundation

/// The `.qir` front door: text → verified graph, graph → text or Graphviz.
public enum QIR {
    /// Parses and lowers a model: inlines blocks, expands loops and templates, infers every
    /// type, then verifies. Throws a `DiagnosticList` with every error found.
    public static func parse(_ source: String, file: String) throws -> Graph {
        let (items, syntax) = Parser.parse(source, file: file)
        if !syntax.isEmpty { throw finish(syntax, source: source, file: file) }
        let lowering = Lowering(file: file)
        let graph = lowering.lower(items)
        if !lowering.diagnostics.isEmpty { throw finish(lowering.diagnostics, source: source, file: file) }
        do {
            try Verifier.verify(graph)
        } catch let list as DiagnosticList {
            throw finish(list.diagnostics, source: source, file: file)
        }
        return graph
    }

    /// Reads and parses a `.qir` file.
    public static func load(path: String) throws -> Graph {
        guard let data = FileManager.default.contents(atPath: path) else {
            let exists = FileManager.default.fileExists(atPath: path)
            throw DiagnosticList([Diagnostic(exists ? "\(path): cannot be read" : "\(path): no such file",
                                             notes: [exists ? "check the file's permissions" : "check the path; models end in .qir"])])
        }
        guard let text = String(data: data, encoding: .utf8) else {
            throw DiagnosticList([Diagnostic("\(path) is not UTF-8 text", notes: ["a .qir model is a text file"])])
        }
        let graph = try parse(text, file: path)
        // A file is a whole model: something goes in and something comes out.
        let start = SourceLocation(file: path, line: 1, column: 1)
        if graph.inputs.isEmpty {
            throw finish([Diagnostic("the model declares no input" + (text.allSatisfy(\.isWhitespace) ? " (the file is empty)" : ""), at: start,
                                     notes: ["declare one, e.g. `input %spectrogram: f32[1,1,64,64]` (ir/LANGUAGE.md)"])], source: text, file: path)
        }
        if graph.outputs.isEmpty {
            throw finish([Diagnostic("the model has no output", at: start, notes: ["name one, e.g. `output %probs`"])], source: text, file: path)
        }
        return graph
    }

    /// The graph as `.qir` text; `parse(print(g)) == g` for a verified, compacted graph.
    public static func print(_ g: Graph) -> String { Printer.print(g) }

    /// The graph as Graphviz DOT.
    public static func dot(_ g: Graph) -> String { DotPrinter.print(g) }

    /// Sorts nothing, drops repeats (a block called many times repeats its errors), attaches
    /// the source line under each located diagnostic.
    static func finish(_ diagnostics: [Diagnostic], source: String, file: String) -> DiagnosticList {
        // Split at the scalar "\n" as the lexer counts lines ("\r\n" is one Character), once,
        // and each line made printable once however many diagnostics point into it.
        var lines: [Substring.UnicodeScalarView]?
        var shown: [Int: String] = [:]
        var seen: Set<String> = []
        var out: [Diagnostic] = []
        for var d in diagnostics {
            let key = "\(d.location?.description ?? ""): \(d.message)"
            if seen.contains(key) { continue }
            seen.insert(key)
            if d.sourceLine == nil, let l = d.location, l.file == file, l.line >= 1 {
                let all = lines ?? source.unicodeScalars.split(separator: "\n", omittingEmptySubsequences: false)
                lines = all
                if l.line <= all.count {
                    if shown[l.line] == nil { shown[l.line] = printable(all[l.line - 1]) }
                    d.sourceLine = shown[l.line]
                }
            }
            out.append(d)
        }
        return DiagnosticList(out)
    }

    /// A source line for display: without "\r", tabs shown as one space each so the caret (one
    /// column per scalar) lines up.
    /// The source line as shown under a diagnostic: a tab as a space, other control characters as
    /// their one-column Unicode pictures (U+2400…, ␇ for BEL), so the caret stays aligned and no
    /// raw control byte reaches the terminal.
    static func printable(_ line: Substring.UnicodeScalarView) -> String {
        var text = String.UnicodeScalarView()
        for c in line where c != "\r" {
            if c == "\t" { text.append(" ") }
            else if c.value < 0x20, let picture = Unicode.Scalar(0x2400 + c.value) { text.append(picture) }
            else if c.value == 0x7F { text.append("\u{2421}") }
            else { text.append(c) }
        }
        return String(text)
    }
}
