import Foundation
import QEMLTensor

/// CSV signals: one sample per row, the column chosen by header name or 0-based index.
/// `#` comments and blank lines are skipped; the separator is `,`, `;` or tab (from the first
/// data line); a first line with a non-numeric cell is a header. Each numeric column becomes a
/// channel of the recording when no column is chosen.
///
/// The text is scanned as Unicode scalars, not Characters: "\r\n" is one Character, so a
/// Windows file split at Character "\n" would be one line. Lines are trimmed of Unicode
/// white space (with newlines), cells of spaces and tabs — the sets Foundation calls
/// `.whitespacesAndNewlines` and `.whitespaces`, tested here without bridging every cell to
/// NSString (that was most of the time the reader took).
public enum CSVReader {
    public static func read(_ path: String, column: String? = nil) throws -> Recording {
        try requireInputFile(path)
        let text: String
        do { text = try String(contentsOfFile: path, encoding: .utf8) } catch {
            throw FileFormatError(path: path, place: "file", message: "cannot be read as UTF-8 text", fix: "check the path; save the file as UTF-8 CSV")
        }
        return try parse(text, path: path, column: column)
    }

    public static func parse(_ text: String, path: String, column: String? = nil) throws -> Recording {
        var rows: [(line: Int, text: Substring)] = []
        var separator: Unicode.Scalar = ","
        for (i, raw) in text.unicodeScalars.split(separator: "\n", omittingEmptySubsequences: false).enumerated() {
            var line = raw
            if let hash = line.firstIndex(of: "#") { line = line[..<hash] }
            let trimmed = trimming(Substring(line), isLineSpace)
            if trimmed.isEmpty { continue }
            if rows.isEmpty { separator = ([",", ";", "\t"] as [Unicode.Scalar]).first { trimmed.unicodeScalars.contains($0) } ?? "," }
            rows.append((i + 1, trimmed))
        }
        guard let first = rows.first else {
            throw FileFormatError(path: path, place: "file", message: "holds no data rows", fix: "put one sample per line")
        }
        let firstCells = Array(Cells(first.text, separator))
        var header: [String]?
        if firstCells.contains(where: { Double($0) == nil }) {
            header = firstCells.map { String(trimming($0) { $0 == "\"" }) }
            rows.removeFirst()
        }
        let width = firstCells.count
        let wanted: [Int]
        if let column {
            if let h = header, let i = h.firstIndex(of: column) {
                wanted = [i]
            } else if let i = Int(column) {
                guard i >= 0, i < width else {
                    throw FileFormatError(path: path, place: "line \(first.line)", message: "column \(i) requested but rows have \(width) column\(width == 1 ? "" : "s")",
                                          fix: "pass --column between 0 and \(width - 1)" + (header.map { " or a header name (\($0.joined(separator: ", ")))" } ?? ""))
                }
                wanted = [i]
            } else {
                throw FileFormatError(path: path, place: "line \(first.line)", message: "no column named '\(column)'",
                                      fix: header.map { "use one of: \($0.joined(separator: ", "))" } ?? "the file has no header row: pass a 0-based column index")
            }
        } else {
            wanted = Array(0..<width)
        }
        try Recording.checkSampleCount(frames: rows.count, channels: wanted.count, path: path)
        var channels = [[Float]](repeating: [], count: wanted.count)
        for row in rows {
            // `wanted` is ascending: walk the row's cells once, converting the wanted ones.
            var next = 0
            var cells = Cells(row.text, separator)
            var col = 0
            while next < wanted.count {
                guard let cell = cells.next() else {
                    throw FileFormatError(path: path, place: "line \(row.line)", message: "has \(col) column(s), column \(wanted[next] + 1) is missing",
                                          fix: "give every row the same number of columns")
                }
                defer { col += 1 }
                guard col == wanted[next] else { continue }
                guard let v = Double(cell) else {
                    throw FileFormatError(path: path, place: "line \(row.line), column \(col + 1)", message: "'\(cell)' is not a number",
                                          fix: "remove or fix the cell (comments start with #)")
                }
                guard v.isFinite, abs(v) <= Double(Float.greatestFiniteMagnitude) else {
                    throw FileFormatError(path: path, place: "line \(row.line), column \(col + 1)", message: "'\(cell)' is not a finite 32-bit number",
                                          fix: "replace missing or infinite samples (e.g. interpolate them) before running")
                }
                channels[next].append(Float(v))
                next += 1
            }
        }
        guard !channels[0].isEmpty else {
            throw FileFormatError(path: path, place: "file", message: "has a header but no data rows", fix: "put one sample per line under the header")
        }
        return Recording(channels: channels, sampleRate: nil)
    }

    /// The cells of one line, each trimmed of spaces and tabs.
    struct Cells: Sequence, IteratorProtocol {
        var rest: Substring?
        let separator: Unicode.Scalar
        init(_ line: Substring, _ separator: Unicode.Scalar) { (rest, self.separator) = (line, separator) }

        mutating func next() -> Substring? {
            guard let line = rest else { return nil }
            let scalars = line.unicodeScalars
            if let end = scalars.firstIndex(of: separator) {
                rest = Substring(scalars[scalars.index(after: end)...])
                return trimming(Substring(scalars[..<end]), isCellSpace)
            }
            rest = nil
            return trimming(line, isCellSpace)
        }
    }

    /// `text` without the leading and trailing scalars for which `drop` holds.
    static func trimming(_ text: Substring, _ drop: (Unicode.Scalar) -> Bool) -> Substring {
        let scalars = text.unicodeScalars
        guard let start = scalars.firstIndex(where: { !drop($0) }), let last = scalars.lastIndex(where: { !drop($0) }) else {
            return text[text.endIndex...]
        }
        return Substring(scalars[start...last])
    }

    /// Unicode White_Space (Foundation's `.whitespacesAndNewlines`): tab to carriage return,
    /// space, next line, the space separators, line and paragraph separators.
    static func isLineSpace(_ s: Unicode.Scalar) -> Bool {
        s.isASCII ? s == " " || (0x09...0x0D).contains(s.value) : s.properties.isWhitespace
    }

    /// Space separators and tab (Foundation's `.whitespaces`).
    static func isCellSpace(_ s: Unicode.Scalar) -> Bool {
        s.isASCII ? s == " " || s == "\t" : s.properties.generalCategory == .spaceSeparator
    }
}
