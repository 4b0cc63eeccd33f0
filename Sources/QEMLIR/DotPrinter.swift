/// Graph → Graphviz DOT: inputs as ellipses, ops as boxes labelled with op, result names and
/// shapes; weights are listed inside the op box rather than drawn (ResNet-50 has ~300).
enum DotPrinter {
    static func print(_ g: Graph) -> String {
        var out = "digraph \(quoteString(g.name)) {\n  rankdir=TB;\n  node [fontname=\"Helvetica\", fontsize=10];\n"
        for i in g.inputs {
            out += "  v\(i.raw) [shape=ellipse, label=\(quoteString("%" + g[i].name + "\n" + g[i].type.description))];\n"
        }
        for (k, n) in g.nodes.enumerated() {
            var label = n.op
            for r in n.results { label += "\n%" + g[r].name + " " + g.type(of: r).description }
            let weights = n.operands.compactMap { $0 }.filter { g[$0].isWeight }
            for w in weights { label += "\n@" + g[w].name }
            out += "  n\(k) [shape=box, label=\(quoteString(label))];\n"
        }
        // Edges: producer (input or node) → consumer node.
        for (k, n) in g.nodes.enumerated() {
            for case let v? in n.operands where !g[v].isWeight {
                let from: String
                switch g[v].def {
                case .input: from = "v\(v.raw)"
                case .node(let p, _): from = "n\(p)"
                case .weight: continue
                }
                out += "  \(from) -> n\(k);\n"
            }
        }
        for (k, o) in g.outputs.enumerated() {
            out += "  out\(k) [shape=ellipse, style=bold, label=\(quoteString("output %" + g[o].name))];\n"
            switch g[o].def {
            case .input: out += "  v\(o.raw) -> out\(k);\n"
            case .node(let p, _): out += "  n\(p) -> out\(k);\n"
            case .weight: break
            }
        }
        return out + "}\n"
    }
}
