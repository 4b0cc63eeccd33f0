/// Graph → `.qir` text that parses back to an equal graph: flat (no defs, loops or templates),
/// every result typed, attributes equal to their declared default omitted.
enum Printer {
    static func print(_ g: Graph) -> String {
        var out = "model \(quote(g.name))\n"
        if !g.labels.isEmpty { out += "labels [" + g.labels.map(quote).joined(separator: ", ") + "]\n" }
        for n in g.notes { out += "note \(quote(n))\n" }
        if let fe = g.frontend {
            out += "frontend %\(fe.output) {\n"
            for (k, v) in fe.settings { out += "  \(k) = \(text(v))\n" }
            out += "}\n"
        }
        for i in g.inputs { out += "input %\(g[i].name): \(g[i].type)\n" }
        for w in weightsNeedingDeclaration(g) { out += "weight @\(g[w].name): \(g[w].type)\n" }
        for n in g.nodes { out += node(n, g) }
        if !g.outputs.isEmpty {
            out += "output " + g.outputs.map { "%" + g[$0].name }.joined(separator: ", ") + "\n"
        }
        return out
    }

    static func operandText(_ v: ValueID, _ g: Graph) -> String {
        g[v].isWeight ? "@" + g[v].name : "%" + g[v].name
    }

    static func node(_ n: Node, _ g: Graph) -> String {
        var line = n.results.map { "%" + g[$0].name }.joined(separator: ", ") + " = " + n.op + "("
        var args: [String] = []
        guard let decl = OpRegistry.decl(n.op) else {
            // Not registered: print what we have; the parser will say the op is unknown.
            args = n.operands.compactMap { $0.map { operandText($0, g) } }
            return line + args.joined(separator: ", ") + ")\n"
        }
        for (i, v) in n.operands.enumerated() {
            guard let v else { continue }
            let slot = i < decl.operands.count ? decl.operands[i] : decl.operands.last
            if let slot, slot.optional { args.append("\(slot.name)=\(operandText(v, g))") } else { args.append(operandText(v, g)) }
        }
        var body: Circuit?
        for (name, value) in n.attributes {
            let attr = decl.attributes.first(where: { $0.name == name })
            if case .circuit(let c) = value { body = c; continue }
            if let d = attr?.defaultValue, d == value { continue }
            args.append("\(name)=\(compact(value, attr?.kind))")
        }
        line += args.joined(separator: ", ") + ")"
        if let body { line += " {\n" + circuitBody(body) + "}" }
        let types = n.results.map { g.type(of: $0).description }.joined(separator: ", ")
        return line + " : " + types + "\n"
    }

    /// `kernel=[3,3]` prints as `kernel=3` (the parser widens it back).
    static func compact(_ a: Attribute, _ kind: AttributeKind?) -> String {
        if case .ints(let n)? = kind, let n, n > 1, case .ints(let v) = a, let first = v.first, v.allSatisfy({ $0 == first }) {
            return String(first)
        }
        return text(a)
    }

    /// An attribute value as source text (strings with `{`/`}` escaped against interpolation).
    static func text(_ a: Attribute) -> String {
        switch a {
        case .string(let s): return quote(s)
        case .strings(let l): return "[" + l.map(quote).joined(separator: ", ") + "]"
        default: return a.description
        }
    }

    static func quote(_ s: String) -> String {
        quoteString(s).replacingOccurrences(of: "{", with: "\\{").replacingOccurrences(of: "}", with: "\\}")
    }

    static func circuitBody(_ c: Circuit) -> String {
        var out = ""
        for gate in c.gates {
            var args = gate.params.map { p -> String in
                switch p {
                case .constant(let v): return formatFloat(v)
                case .input(let col): return "x[\(col)]"
                case .weight(let op, let idx): return (op == 1 ? "w" : "w\(op)") + "[" + idx.map(String.init).joined(separator: ",") + "]"
                }
            }
            args.append("wires=" + (gate.wires.count == 1 ? String(gate.wires[0]) : "[" + gate.wires.map(String.init).joined(separator: ",") + "]"))
            out += "  \(gate.kind.rawValue)(\(args.joined(separator: ", ")))\n"
        }
        // Consecutive expvals of the same observable share one line.
        var k = 0
        while k < c.measurements.count {
            switch c.measurements[k] {
            case .expval(let p, let w):
                var wires = [w]
                while k + 1 < c.measurements.count, case .expval(p, let w2) = c.measurements[k + 1] { wires.append(w2); k += 1 }
                out += "  expval(\(p.rawValue.uppercased()), wires=[\(wires.map(String.init).joined(separator: ","))])\n"
            case .probs(let ws):
                out += "  probs(wires=[\(ws.map(String.init).joined(separator: ","))])\n"
            }
            k += 1
        }
        return out
    }

    /// Weights whose type the op at their first use cannot infer (or infers differently).
    static func weightsNeedingDeclaration(_ g: Graph) -> [ValueID] {
        var out: [ValueID] = []
        var seen: Set<ValueID> = []
        for n in g.nodes {
            guard let decl = OpRegistry.decl(n.op) else { continue }
            let types = n.operands.map { $0.map { g.type(of: $0) } }
            let isWeight = n.operands.map { $0.map { g[$0].isWeight } ?? false }
            let inferred = try? decl.infer(ShapeContext(attributes: n.attributes, operands: types, isWeight: isWeight))
            for (i, v) in n.operands.enumerated() {
                guard let v, g[v].isWeight, !seen.contains(v) else { continue }
                seen.insert(v)
                if inferred?.weights[i] != g[v].type { out.append(v) }
            }
        }
        return out
    }
}
