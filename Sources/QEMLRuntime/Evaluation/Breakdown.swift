import Foundation
import QEMLSignal

/// Accuracy by a manifest column (`qemlc eval --by`): by value for text columns, by bins for
/// numeric ones — the given edges, or four equal-width bins over the column's range.
public enum Breakdown {
    public struct Group: Codable, Sendable {
        public var group: String
        public var count: Int
        public var accuracy: Double
    }

    public struct Spec: Sendable {
        public var column: String
        public var edges: [Double]?

        /// `COLUMN` or `COLUMN:E0,E1,…` (ascending edges).
        public init(_ text: String, columns: [String], source: String) throws {
            let parts = text.split(separator: ":", maxSplits: 1).map(String.init)
            column = parts.first ?? ""
            guard columns.contains(column) else {
                throw SignalError("--by \(column): \(source) has no such column" + (columns.isEmpty ? " (a scanned folder has none: use a manifest)" : ""),
                                  fix: columns.isEmpty ? "evaluate on a folder with manifest.csv (qemlc synth --dataset writes one)" : "one of " + columns.joined(separator: ", "))
            }
            if parts.count == 2 {
                let e = parts[1].split(separator: ",").map { Double($0.trimmingCharacters(in: .whitespaces)) }
                guard e.count >= 2, e.allSatisfy({ $0?.isFinite == true }), zip(e, e.dropFirst()).allSatisfy({ $0! < $1! }) else {
                    throw SignalError("--by \(text): the edges must be two or more ascending numbers", fix: "e.g. --by snr_db:-5,0,10,20")
                }
                edges = e.map { $0! }
            }
        }

        public func groups(_ items: [LabelledRecordings.Item], correct: [Bool]) -> [Group] {
            let values = items.map { $0.columns[column] ?? "" }
            let numbers = values.map { Double($0) }
            var keys: [String]
            var order: [String]
            if numbers.allSatisfy({ $0?.isFinite == true }), let lo = numbers.map({ $0! }).min(), let hi = numbers.map({ $0! }).max() {
                let edges = self.edges ?? (0...4).map { lo + (hi - lo) * Double($0) / 4 }
                let names = zip(edges, edges.dropFirst()).map { "\(Self.format($0))…\(Self.format($1))" }
                keys = numbers.map { v in
                    let x = v!
                    if x < edges.first! { return "< \(Self.format(edges.first!))" }
                    if x > edges.last! { return "> \(Self.format(edges.last!))" }
                    let i = min(names.count - 1, edges.lastIndex { $0 <= x } ?? 0)
                    return names[i]
                }
                order = ["< \(Self.format(edges.first!))"] + names + ["> \(Self.format(edges.last!))"]
            } else {
                keys = values
                order = Array(Set(values)).sorted()
            }
            var count: [String: Int] = [:], right: [String: Int] = [:]
            for (k, ok) in zip(keys, correct) {
                count[k, default: 0] += 1
                if ok { right[k, default: 0] += 1 }
            }
            return order.compactMap { k in
                guard let n = count[k] else { return nil }
                return Group(group: k, count: n, accuracy: Double(right[k] ?? 0) / Double(n))
            }
        }

        static func format(_ v: Double) -> String { v == v.rounded() && abs(v) < 1e9 ? String(Int(v)) : String(format: "%.4g", v) }
    }
}
