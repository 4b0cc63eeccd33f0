import Foundation
import QEMLSignal

/// The recordings `qemlc eval` (and `quantize --calibrate`) measures a model on: a folder of
/// label-named subfolders (the layout `qemlc synth --dataset` writes, as torchvision's
/// ImageFolder; its `manifest.csv` is used when present) or a manifest CSV with `path` and
/// `label` columns (more columns allowed; paths relative to the manifest's folder).
public struct LabelledRecordings: Sendable {
    public struct Item: Sendable {
        public var path: String
        public var label: String
        /// Every manifest column by name (empty for a scanned folder).
        public var columns: [String: String]
    }

    public var items: [Item]
    /// Where the list came from: the manifest or the scanned folder.
    public var source: String
    public var columnNames: [String]

    static let signalExtensions: Set<String> = ["wav", "wave", "csv"]

    public init(_ path: String) throws {
        var isDir: ObjCBool = false
        guard FileManager.default.fileExists(atPath: path, isDirectory: &isDir) else {
            throw SignalError("\(path): no such file or folder", fix: "give a folder of label-named subfolders or a manifest .csv with path,label columns")
        }
        if isDir.boolValue {
            let manifest = (path as NSString).appendingPathComponent("manifest.csv")
            if FileManager.default.fileExists(atPath: manifest) {
                try self.init(manifest: manifest)
            } else {
                try self.init(folder: path)
            }
        } else {
            try self.init(manifest: path)
        }
        guard !items.isEmpty else {
            throw SignalError("\(source) lists no recordings", fix: "add .wav or .csv files in label-named subfolders, or rows to the manifest")
        }
    }

    private init(folder: String) throws {
        let fm = FileManager.default
        var items: [Item] = []
        let labels = ((try? fm.contentsOfDirectory(atPath: folder)) ?? []).filter { name in
            var d: ObjCBool = false
            return !name.hasPrefix(".") && fm.fileExists(atPath: folder + "/" + name, isDirectory: &d) && d.boolValue
        }.sorted()
        for label in labels {
            let files = ((try? fm.contentsOfDirectory(atPath: folder + "/" + label)) ?? [])
                .filter { Self.signalExtensions.contains(($0 as NSString).pathExtension.lowercased()) }.sorted()
            items += files.map { Item(path: folder + "/" + label + "/" + $0, label: label, columns: [:]) }
        }
        self.items = items
        source = folder
        columnNames = []
    }

    private init(manifest: String) throws {
        let rows = try CSVTable.read(manifest)
        guard let header = rows.first else { throw SignalError("\(manifest) is empty", fix: "write a header line path,label[,…] and one row per recording") }
        guard let pathColumn = header.firstIndex(of: "path"), let labelColumn = header.firstIndex(of: "label") else {
            throw SignalError("\(manifest):1: the header has no path and label columns (it has \(header.joined(separator: ", ")))",
                              fix: "name the columns path and label")
        }
        let base = (manifest as NSString).deletingLastPathComponent
        var items: [Item] = []
        for (i, row) in rows.dropFirst().enumerated() where !(row.count == 1 && row[0].isEmpty) {
            guard row.count == header.count else {
                throw SignalError("\(manifest):\(i + 2): \(row.count) fields, the header has \(header.count)", fix: "give every row one field per column")
            }
            let p = row[pathColumn]
            let full = p.hasPrefix("/") || base.isEmpty ? p : base + "/" + p
            items.append(Item(path: full, label: row[labelColumn], columns: Dictionary(uniqueKeysWithValues: zip(header, row).map { ($0, $1) })))
        }
        self.items = items
        source = manifest
        columnNames = header
    }
}

/// A small CSV reader for manifests: comma-separated, optional double quotes ("" inside).
enum CSVTable {
    static func read(_ path: String) throws -> [[String]] {
        guard let data = FileManager.default.contents(atPath: path), let text = String(data: data, encoding: .utf8) else {
            throw SignalError("\(path): cannot read it as UTF-8 text", fix: "give a manifest .csv (path,label,…)")
        }
        var rows: [[String]] = []
        for line in text.split(omittingEmptySubsequences: false, whereSeparator: \.isNewline) {
            var fields: [String] = [], field = "", quoted = false
            var it = line.makeIterator()
            while let c = it.next() {
                if quoted {
                    if c == "\"" {
                        if let n = it.next() {
                            if n == "\"" { field.append("\"") } else { quoted = false; if n == "," { fields.append(field); field = "" } else { field.append(n) } }
                        } else { quoted = false }
                    } else { field.append(c) }
                } else if c == "\"" { quoted = true } else if c == "," { fields.append(field); field = "" } else { field.append(c) }
            }
            fields.append(field)
            rows.append(fields.map { $0.trimmingCharacters(in: .whitespaces) })
        }
        while rows.last == [""] { rows.removeLast() }
        return rows
    }
}
