import QEMLIR

/// `verify`: fails on a malformed graph instead of letting a later pass or kernel misbehave.
public struct VerifyPass: Pass {
    public init() {}
    public var name: String { "verify" }
    public var summary: String { "check SSA order, operand slots and that every type matches its op's shape rule" }

    public func run(_ g: Graph, _ ctx: PassContext) throws -> Graph {
        let problems = GraphChecks.problems(in: g)
        guard problems.isEmpty else { throw PassError.verificationFailed(after: name, problems: problems) }
        ctx.log("\(g.nodes.count) nodes, \(g.values.count) values: ok")
        return g
    }
}

/// The structural invariants every pass must keep: each value defined once and before use,
/// operands filling the declared slots, and each node's result types equal to what its op
/// declaration infers from its operands.
public enum GraphChecks {
    public static func problems(in g: Graph) -> [String] {
        var out: [String] = []
        func ref(_ v: ValueID) -> String {
            guard v.raw >= 0, v.raw < g.values.count else { return "v\(v.raw)" }
            return (g[v].isWeight ? "@" : "%") + g[v].name
        }
        func valid(_ v: ValueID) -> Bool { v.raw >= 0 && v.raw < g.values.count }

        var defined = Set<ValueID>()
        var names = Set<String>()
        for (i, v) in g.values.enumerated() {
            if case .weight = v.def { defined.insert(ValueID(i)); continue }
            if !names.insert(v.name).inserted { out.append("the name %\(v.name) is defined twice") }
        }
        for v in g.inputs {
            guard valid(v), case .input = g[v].def else { out.append("graph input \(v) is not an input value"); continue }
            defined.insert(v)
        }

        for (i, n) in g.nodes.enumerated() {
            let at = "node \(i) (\(n.op))"
            guard let decl = OpRegistry.decl(n.op) else { out.append("\(at): unknown op '\(n.op)'"); continue }
            // Operand slots.
            if decl.isVariadic {
                if n.operands.count < decl.operands.count - 1 || n.operands.contains(where: { $0 == nil }) {
                    out.append("\(at): expected at least \(decl.operands.count - 1) operands, all present")
                }
            } else if n.operands.count != decl.operands.count {
                out.append("\(at): has \(n.operands.count) operand slots, its declaration \(decl.operands.count)")
            } else {
                for (k, o) in decl.operands.enumerated() where !o.optional && n.operands[k] == nil {
                    out.append("\(at): required operand '\(o.name)' is missing")
                }
            }
            // SSA: operands defined before use.
            for case let v? in n.operands {
                if !valid(v) { out.append("\(at): operand \(v) does not exist"); continue }
                if !defined.contains(v) { out.append("\(at): reads \(ref(v)) before it is defined") }
            }
            // Attributes are declared.
            for a in n.attributes where !decl.attributes.contains(where: { $0.name == a.name }) {
                out.append("\(at): attribute '\(a.name)' is not declared by \(n.op)")
            }
            // Results: defined here, once.
            for (k, r) in n.results.enumerated() {
                guard valid(r) else { out.append("\(at): result \(r) does not exist"); continue }
                if g[r].def != .node(i, result: k) { out.append("\(at): result \(ref(r)) records another definition") }
                if defined.contains(r) { out.append("\(at): \(ref(r)) is defined twice") }
                defined.insert(r)
            }
            // Types: re-infer from the operands.
            var attrs = n.attributes
            for a in decl.attributes where attrs[a.name] == nil { if let d = a.defaultValue { attrs[a.name] = d } }
            let types = n.operands.map { $0.flatMap { valid($0) ? g.type(of: $0) : nil } }
            let weights = n.operands.map { $0.map { valid($0) && g[$0].isWeight } ?? false }
            do {
                let r = try decl.infer(ShapeContext(attributes: attrs, operands: types, isWeight: weights))
                let got = n.results.map { valid($0) ? g.type(of: $0).description : "?" }
                if r.results.map(\.description) != got {
                    out.append("\(at): results are \(got.joined(separator: ", ")) but \(n.op) infers "
                               + r.results.map(\.description).joined(separator: ", "))
                }
                for (slot, t) in r.weights.sorted(by: { $0.key < $1.key }) {
                    if let w = n.operand(slot), valid(w), g[w].isWeight, g.type(of: w) != t {
                        out.append("\(at): weight \(ref(w)) is \(g.type(of: w)) but \(n.op) needs \(t)")
                    }
                }
            } catch {
                out.append("\(at): \(error.message)")
            }
        }
        for v in g.outputs where !valid(v) || !defined.contains(v) { out.append("graph output \(v) is never defined") }
        return out
    }
}
