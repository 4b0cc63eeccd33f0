/// Checks the weights a file provides against the types the graph expects, before running.
public enum WeightCheck {
    /// `available`: weight name → shape, as stored in the weights file `file`. Throws a
    /// `DiagnosticList` with one diagnostic per missing or mis-shaped weight, placed at the
    /// node that first uses it. Weights in `foldedAway` may be absent (a quantized file folds
    /// BatchNorm and bias into the op's weight, see `QuantizedFile.foldedAway`).
    public static func check(_ g: Graph, available: [String: [Int]], file: String, foldedAway: Set<String> = []) throws {
        var firstUse: [ValueID: SourceLocation] = [:]
        for n in g.nodes {
            for case let v? in n.operands where g[v].isWeight && firstUse[v] == nil { firstUse[v] = n.location }
        }
        var errors: [Diagnostic] = []
        for w in g.weights {
            let value = g[w]
            guard let name = value.weightName else { continue }
            let want = value.type.fixedShape ?? []
            guard let have = available[name] else {
                if foldedAway.contains(name) { continue }
                var notes: [String] = []
                if let near = suggestion(name, Array(available.keys)).first { notes.append(near.replacingOccurrences(of: "'", with: "")) }
                let prefixed = available.keys.filter { $0.hasSuffix("." + name) }.sorted()
                if let p = prefixed.first { notes.append("\(file) has '\(p)': strip the prefix when saving the state_dict") }
                errors.append(Diagnostic("missing weight @\(name) (\(value.type)) in \(file)", at: firstUse[w], notes: notes))
                continue
            }
            if have != want {
                errors.append(Diagnostic("weight @\(name) has shape \(describe(have)) in \(file) but the model expects \(describe(want))",
                                         at: firstUse[w]))
            }
        }
        if !errors.isEmpty { throw DiagnosticList(errors) }
    }

    static func describe(_ s: [Int]) -> String { "[" + s.map(String.init).joined(separator: ",") + "]" }
}
