/// Structural and per-op invariants of a graph, read from the op declarations: every pass's
/// output must satisfy them. Throws a `DiagnosticList` naming the node (and its source place).
public enum Verifier {
    public static func verify(_ g: Graph) throws {
        var errors: [Diagnostic] = []
        func fail(_ m: String, _ n: Node? = nil) {
            errors.append(Diagnostic(n.map { "\($0.op) defining \(names($0.results, g)): " } .map { $0 + m } ?? m, at: n?.location))
        }

        // Values: names, definitions.
        var valueNames: [String: ValueID] = [:]
        var weightNames: Set<String> = []
        for (i, v) in g.values.enumerated() {
            if v.name.isEmpty || !v.name.unicodeScalars.allSatisfy(Lexer.isNameChar) {
                fail("value v\(i) has the name '\(v.name)', which is not [A-Za-z0-9_.]+")
            }
            switch v.def {
            case .weight(let n):
                if n != v.name { fail("weight value '\(v.name)' refers to weight '\(n)'") }
                if !weightNames.insert(n).inserted { fail("weight @\(n) appears twice") }
            case .input:
                if !g.inputs.contains(ValueID(i)) { fail("value %\(v.name) is an input but not in the input list") }
                fallthrough
            case .node:
                if let other = valueNames[v.name] { fail("the name %\(v.name) is used by v\(other.raw) and v\(i)") }
                valueNames[v.name] = ValueID(i)
            }
            if case .node(let n, let r) = v.def {
                guard n >= 0, n < g.nodes.count, r < g.nodes[n].results.count, g.nodes[n].results[r] == ValueID(i) else {
                    fail("value %\(v.name) claims to be result \(r) of node \(n), which does not list it")
                    continue
                }
            }
            for d in v.type.dims { if let x = d.value, x < 0 { fail("value %\(v.name) has a negative dimension: \(v.type)") } }
        }
        for i in g.inputs where i.raw >= g.values.count || g[i].def != .input {
            fail("input v\(i.raw) is not an input value")
        }
        for o in g.outputs where o.raw < 0 || o.raw >= g.values.count { fail("output v\(o.raw) does not exist") }

        // Nodes: declared op, operands defined before use, attributes of the declared kinds, types as inferred.
        var defined = Set(g.inputs)
        for v in g.weights { defined.insert(v) }
        for (index, n) in g.nodes.enumerated() {
            guard let decl = OpRegistry.decl(n.op) else { fail("unknown op '\(n.op)'", n); continue }
            let fixed = decl.isVariadic ? decl.operands.count - 1 : decl.operands.count
            if decl.isVariadic ? n.operands.count < fixed : n.operands.count != fixed {
                fail("has \(n.operands.count) operand slots, the declaration has \(decl.operands.count)\(decl.isVariadic ? " (last variadic)" : "")", n)
                continue
            }
            var ok = true
            for (i, v) in n.operands.enumerated() {
                let slot = i < fixed ? decl.operands[i] : decl.operands[decl.operands.count - 1]
                guard let v else {
                    if !slot.optional { fail("operand '\(slot.name)' is missing", n); ok = false }
                    continue
                }
                guard v.raw >= 0, v.raw < g.values.count else { fail("operand '\(slot.name)' is v\(v.raw), which does not exist", n); ok = false; continue }
                if !defined.contains(v) { fail("operand %\(g[v].name) is used before it is defined", n); ok = false }
            }
            var expectedOrder: [String] = []
            for a in decl.attributes {
                guard let value = n.attributes[a.name] else {
                    if a.defaultValue != nil || !a.optional { fail("attribute '\(a.name)' is missing", n); ok = false }
                    continue
                }
                expectedOrder.append(a.name)
                if a.kind.coerce(value) != value { fail("attribute '\(a.name)' = \(value) is not \(a.kind)", n); ok = false }
            }
            let actualOrder = n.attributes.map(\.name)
            if actualOrder != expectedOrder {
                let unknown = actualOrder.filter { name in !decl.attributes.contains { $0.name == name } }
                fail(unknown.isEmpty ? "attributes are not in declaration order (\(actualOrder.joined(separator: ", ")))"
                                     : "unknown attribute\(unknown.count == 1 ? "" : "s") \(unknown.joined(separator: ", "))", n)
                ok = false
            }
            if case .circuit(let c)? = n.attributes["body"] { for m in circuitProblems(c) { fail(m, n) }; }
            for (k, r) in n.results.enumerated() {
                if r.raw < 0 || r.raw >= g.values.count || g[r].def != .node(index, result: k) {
                    fail("result \(k) is not defined by this node", n); ok = false
                }
            }
            guard ok else { continue }
            let ctx = ShapeContext(attributes: n.attributes, operands: n.operands.map { $0.map { g.type(of: $0) } },
                                   isWeight: n.operands.map { $0.map { g[$0].isWeight } ?? false })
            do throws(ShapeError) {
                let r = try decl.infer(ctx)
                if r.results != n.results.map({ g.type(of: $0) }) {
                    fail("result types \(n.results.map { g.type(of: $0).description }.joined(separator: ", ")) differ from the inferred \(r.results.map(\.description).joined(separator: ", "))", n)
                }
                for (i, t) in r.weights.sorted(by: { $0.key < $1.key }) {
                    if let v = n.operand(i), g[v].isWeight, g.type(of: v) != t {
                        fail("weight @\(g[v].name) is \(g.type(of: v)) but the op needs \(t)", n)
                    }
                }
            } catch {
                fail(error.message, n)
            }
            n.results.forEach { defined.insert($0) }
        }
        if let fe = g.frontend {
            if !g.inputs.contains(where: { g[$0].name == fe.output }) { fail("the frontend produces %\(fe.output), which is not an input") }
            for (k, v) in fe.settings {
                guard let key = FrontendSpec.keys.first(where: { $0.name == k }) else { fail("unknown frontend setting '\(k)'"); continue }
                if key.kind.coerce(v) != v { fail("frontend setting '\(k)' = \(v) is not \(key.kind)") }
            }
        }
        if !errors.isEmpty { throw DiagnosticList(errors) }
    }

    static func names(_ ids: [ValueID], _ g: Graph) -> String {
        ids.map { $0.raw >= 0 && $0.raw < g.values.count ? "%" + g[$0].name : "v\($0.raw)" }.joined(separator: ", ")
    }

    /// Gate wires and parameter counts, measurement wires.
    static func circuitProblems(_ c: Circuit) -> [String] {
        var out: [String] = []
        if c.qubits < 1 || c.qubits > Lowering.maxQubits { out.append("the circuit has \(c.qubits) qubits (1…\(Lowering.maxQubits) allowed)") }
        for (i, gate) in c.gates.enumerated() {
            if gate.wires.count != gate.kind.wireCount { out.append("gate \(i) (\(gate.kind.rawValue)) acts on \(gate.wires.count) wires") }
            if gate.params.count != gate.kind.parameterCount { out.append("gate \(i) (\(gate.kind.rawValue)) has \(gate.params.count) parameters") }
            if gate.wires.contains(where: { $0 < 0 || $0 >= c.qubits }) { out.append("gate \(i) (\(gate.kind.rawValue)) uses a wire outside 0…\(c.qubits - 1)") }
            if Set(gate.wires).count != gate.wires.count { out.append("gate \(i) (\(gate.kind.rawValue)) repeats a wire") }
        }
        for m in c.measurements {
            switch m {
            case .expval(_, let w): if w < 0 || w >= c.qubits { out.append("expval on wire \(w), outside 0…\(c.qubits - 1)") }
            case .probs(let ws): if ws.contains(where: { $0 < 0 || $0 >= c.qubits }) || Set(ws).count != ws.count { out.append("probs on wires \(ws)") }
            }
        }
        if c.measurements.isEmpty { out.append("the circuit measures nothing") }
        return out
    }
}
