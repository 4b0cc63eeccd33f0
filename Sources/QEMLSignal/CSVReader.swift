import Foundation
import QEMLTensor

/// CSV signals: one sample per row, the column chosen by header name or 0-based index.
/// `#` comments and blank lines are skipped; the separator is `,`, `;` or tab (from the first
/// data line); a first line with a non-numeric cell is a header. Each numeric column becomes a
/// channel of the recording when no column is chosen.
public enum CSVReader {
    public static func read(_ path: String, column: String? = nil) throws -> Recording {
        let text: String
        do { text = try String(contentsOfFile: path, encoding: .utf8) } catch {
            throw FileFormatError(path: path, place: "file", message: "cannot be read as UTF-8 text", fix: "check the path; save the file as UTF-8 CSV")
        }
        return try parse(text, path: path, column: column)
    }

    public static func parse(_ text: String, path: String, column: String? = nil) throws -> Recording {
        var rows: [(line: Int, cells: [Substring])] = []
        var separator: Character?
        for (i, raw) in text.split(separator: "\n", omittingEmptySubsequences: false).enumerated() {
            var line = raw
            if let hash = line.firstIndex(of: "#") { line = line[..<hash] }
            let trimmed = line.trimmingCharacters(in: .whitespacesAndNewlines)
            if trimmed.isEmpty { continue }
            if separator == nil { separator = [",", ";", "\t"].first { trimmed.contains($0) } ?? "," }
            rows.append((i + 1, Substring(trimmed).split(separator: separator!, omittingEmptySubsequences: false)
                .map { Substring($0.trimmingCharacters(in: .whitespaces)) }))
        }
        guard let first = rows.first else {
            throw FileFormatError(path: path, place: "file", message: "holds no data rows", fix: "put one sample per line")
        }
        var header: [String]?
        if first.cells.contains(where: { Double($0) == nil }) {
            header = first.cells.map { String($0).trimmingCharacters(in: CharacterSet(charactersIn: "\"")) }
            rows.removeFirst()
        }
        let width = first.cells.count
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
            for (c, col) in wanted.enumerated() {
                guard col < row.cells.count else {
                    throw FileFormatError(path: path, place: "line \(row.line)", message: "has \(row.cells.count) column(s), column \(col + 1) is missing",
                                          fix: "give every row the same number of columns")
                }
                let cell = row.cells[col]
                guard let v = Double(cell) else {
                    throw FileFormatError(path: path, place: "line \(row.line), column \(col + 1)", message: "'\(cell)' is not a number",
                                          fix: "remove or fix the cell (comments start with #)")
                }
                guard v.isFinite, abs(v) <= Double(Float.greatestFiniteMagnitude) else {
                    throw FileFormatError(path: path, place: "line \(row.line), column \(col + 1)", message: "'\(cell)' is not a finite 32-bit number",
                                          fix: "replace missing or infinite samples (e.g. interpolate them) before running")
                }
                channels[c].append(Float(v))
            }
        }
        guard !channels[0].isEmpty else {
            throw FileFormatError(path: path, place: "file", message: "has a header but no data rows", fix: "put one sample per line under the header")
        }
        return Recording(channels: channels, sampleRate: nil)
    }
}
