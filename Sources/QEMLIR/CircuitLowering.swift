/// Lowers a `circuit(…) { … }` body to a `Circuit`: gates one by one, templates expanded with
/// PennyLane's decompositions, `for`/`if`/`let` evaluated. Inside the body `x` is operand 0
/// (the [N,k] input), `w` or `w1` operand 1, `w2` operand 2, …
struct CircuitLowering {
    static let templates: Set<String> = ["angle_embedding", "rot_layers", "basic_entangler_layers", "strongly_entangling_layers"]
    static let measurements: Set<String> = ["expval", "probs"]

    let owner: Lowering
    let frame: Lowering.Frame
    let wires: Int
    /// k of the [N,k] input, when known.
    let inputColumns: Int?
    /// Types of the weight operands (operand 1, 2, …), when known.
    let weightTypes: [TensorType?]
    let loc: SourceLocation

    var gates: [Gate] = []
    var measurements: [Measurement] = []
    var locals: [[String: CValue]] = [[:]]
    var failed = false

    init(owner: Lowering, frame: Lowering.Frame, wires: Int, inputColumns: Int?, weightTypes: [TensorType?], loc: SourceLocation) {
        self.owner = owner
        self.frame = frame
        self.wires = wires
        self.inputColumns = inputColumns
        self.weightTypes = weightTypes
        self.loc = loc
    }

    var eval: ConstEval {
        let locals = self.locals, frame = self.frame
        return ConstEval(lookup: { name in
            for t in locals.reversed() { if let v = t[name] { return v } }
            return frame.const(name)
        })
    }

    mutating func error(_ m: String, _ l: SourceLocation, notes: [String] = []) {
        owner.report(m, l, notes: notes)
        failed = true
    }

    mutating func lower(_ body: [Stmt]) throws(Lowering.LimitExceeded) -> Circuit? {
        guard wires >= 1 else { error("a circuit needs wires ≥ 1, got \(wires)", loc); return nil }
        guard wires <= Lowering.maxQubits else {
            error("the circuit has \(wires) wires, more than the limit of \(Lowering.maxQubits) qubits", loc)
            return nil
        }
        try run(body)
        if !failed && measurements.isEmpty {
            error("the circuit measures nothing", loc, notes: ["end the body with expval(Z, wires=[…]) or probs(wires=[…])"])
        }
        return failed ? nil : Circuit(qubits: wires, gates: gates, measurements: measurements)
    }

    mutating func run(_ stmts: [Stmt]) throws(Lowering.LimitExceeded) {
        for s in stmts { try stmt(s) }
    }

    mutating func stmt(_ s: Stmt) throws(Lowering.LimitExceeded) {
        try owner.count(s.loc)
        switch s {
        case .expr(.call(let name, let args, let body, let l), _):
            if body != nil { error("'\(name)' does not take a { … } body", l); return }
            do throws(Diagnostic) { try call(name, args, l) } catch { owner.report(error); failed = true }
        case .forLoop(let v, let lo, let hi, let body, let l):
            let a: Int, b: Int
            do throws(Diagnostic) { a = try eval.int(lo); b = try eval.int(hi) } catch { owner.report(error); failed = true; return }
            let (span, overflow) = b.subtractingReportingOverflow(a)
            if b > a, overflow || span > Lowering.maxStatements {
                owner.report("the loop runs \(overflow ? "more than 2^63" : String(span)) times, more than the limit of \(Lowering.maxStatements) statements", l)
                throw Lowering.LimitExceeded()
            }
            guard a < b else { return }
            for i in a..<b {
                try owner.count(l)
                locals.append([v: .int(i)])
                try run(body)
                locals.removeLast()
            }
        case .ifStmt(let cond, let then, let otherwise, _):
            let c: Bool
            do throws(Diagnostic) { c = try eval.bool(cond) } catch { owner.report(error); failed = true; return }
            if c { try run(then) } else if let otherwise { try run(otherwise) }
        case .letStmt(let n, let e, _):
            do throws(Diagnostic) { locals[locals.count - 1][n] = try eval.eval(e) } catch { owner.report(error); failed = true }
        default:
            error("a circuit body holds gates, templates, measurements, for, if and let", s.loc)
        }
    }

    // MARK: calls

    mutating func call(_ name: String, _ args: [Argument], _ l: SourceLocation) throws(Diagnostic) {
        let positional = args.filter { $0.label == nil }.map(\.value)
        var keywords: [String: (Expr, SourceLocation)] = [:]
        for a in args {
            guard let label = a.label else { continue }
            if keywords[label] != nil { throw Diagnostic("'\(label)' is given twice", at: a.labelLoc ?? l) }
            keywords[label] = (a.value, a.labelLoc ?? l)
        }
        func allow(_ valid: [String]) throws(Diagnostic) {
            for (k, (_, kl)) in keywords where !valid.contains(k) {
                throw Diagnostic("unknown argument '\(k)' for \(name)", at: kl,
                                 notes: suggestion(k, valid) + [valid.isEmpty ? "\(name) takes no keyword arguments" : "valid: " + valid.joined(separator: ", ")])
            }
        }

        if let kind = GateKind(rawValue: name) {
            try allow(["wires"])
            if !measurements.isEmpty { throw Diagnostic("gate \(name) after a measurement", at: l, notes: ["measurements end the circuit"]) }
            guard positional.count == kind.parameterCount else {
                throw Diagnostic("\(name) takes \(kind.parameterCount) parameter\(kind.parameterCount == 1 ? "" : "s"), got \(positional.count)", at: l)
            }
            guard let (we, wl) = keywords["wires"] else { throw Diagnostic("\(name) needs wires=", at: l) }
            let ws = try wireList(we, wl)
            guard ws.count == kind.wireCount else {
                throw Diagnostic("\(name) acts on \(kind.wireCount) wire\(kind.wireCount == 1 ? "" : "s"), got \(ws.count)", at: we.loc)
            }
            if ws.count == 2 && ws[0] == ws[1] {
                throw Diagnostic("\(name) needs two different wires, got [\(ws[0]), \(ws[1])]", at: we.loc)
            }
            var params: [GateParam] = []
            for p in positional { params.append(try param(p)) }
            gates.append(Gate(kind, wires: ws, params: params))
            return
        }
        switch name {
        case "expval":
            try allow(["wires"])
            guard positional.count == 1, case .ident(let obs, let ol) = positional[0] else {
                throw Diagnostic("expval takes an observable: expval(Z, wires=[0,1])", at: l)
            }
            guard let pauli = Pauli(rawValue: obs.lowercased()), obs.count == 1 else {
                throw Diagnostic("unknown observable '\(obs)'", at: ol, notes: ["observables: X, Y, Z"])
            }
            guard let (we, wl) = keywords["wires"] else { throw Diagnostic("expval needs wires=", at: l) }
            for w in try wireList(we, wl) { measurements.append(.expval(pauli, wire: w)) }
        case "probs":
            try allow(["wires"])
            guard positional.isEmpty else { throw Diagnostic("probs takes only wires=", at: l) }
            guard let (we, wl) = keywords["wires"] else { throw Diagnostic("probs needs wires=", at: l) }
            let ws = try wireList(we, wl)
            guard Set(ws).count == ws.count else { throw Diagnostic("probs lists a wire twice: \(ws)", at: we.loc) }
            measurements.append(.probs(ws))
        case "angle_embedding":
            try allow(["rotation"])
            try templateStart(name, l)
            guard positional.count == 1, case .ident("x", _) = positional[0] else {
                throw Diagnostic("angle_embedding takes the circuit input: angle_embedding(x, rotation=\"Y\")", at: l)
            }
            let kind = try rotation(keywords["rotation"], default: "X")
            guard let k = inputColumns else { throw Diagnostic("angle_embedding needs an input of known shape [N,k]", at: l) }
            guard k <= wires else { throw Diagnostic("angle_embedding: the input has \(k) columns but the circuit has \(wires) wires", at: l) }
            for i in 0..<k { gates.append(Gate(kind, wires: [i], params: [.input(column: i)])) }
        case "rot_layers", "strongly_entangling_layers":
            try allow(name == "rot_layers" ? ["entangle", "layers"] : ["layers"])
            try templateStart(name, l)
            let (op, layers) = try weightTemplate(name, positional, keywords["layers"], trailing: [wires, 3], l)
            var ring = false
            if name == "rot_layers", let (e, _) = keywords["entangle"] {
                let v = try eval.eval(e)
                guard case .string(let s) = v, s == "linear" || s == "ring" else {
                    throw Diagnostic("entangle must be \"linear\" or \"ring\", got \(v.spelled)", at: e.loc)
                }
                ring = s == "ring"
            }
            for layer in 0..<layers {
                for q in 0..<wires {
                    gates.append(Gate(.rot, wires: [q], params: (0..<3).map { .weight(operand: op, index: [layer, q, $0]) }))
                }
                if name == "rot_layers" {
                    for q in 0..<max(0, wires - 1) { gates.append(Gate(.cnot, wires: [q, q + 1])) }
                    if ring && wires > 2 { gates.append(Gate(.cnot, wires: [wires - 1, 0])) }
                } else if wires > 1 {
                    // PennyLane's default ranges: r = (l mod (n−1)) + 1.
                    let r = (layer % (wires - 1)) + 1
                    for q in 0..<wires { gates.append(Gate(.cnot, wires: [q, (q + r) % wires])) }
                }
            }
        case "basic_entangler_layers":
            try allow(["rotation", "layers"])
            try templateStart(name, l)
            let kind = try rotation(keywords["rotation"], default: "X")
            let (op, layers) = try weightTemplate(name, positional, keywords["layers"], trailing: [wires], l)
            for layer in 0..<layers {
                for q in 0..<wires { gates.append(Gate(kind, wires: [q], params: [.weight(operand: op, index: [layer, q])])) }
                if wires == 2 {
                    gates.append(Gate(.cnot, wires: [0, 1]))
                } else if wires > 2 {
                    for q in 0..<wires { gates.append(Gate(.cnot, wires: [q, (q + 1) % wires])) }
                }
            }
        default:
            let names = GateKind.allCases.map(\.rawValue) + CircuitLowering.templates.sorted() + CircuitLowering.measurements.sorted()
            // The nearest name when there is one (ir/LANGUAGE.md promises it); the list otherwise.
            let near = suggestion(name, names)
            throw Diagnostic("unknown gate '\(name)'", at: l, notes: near.isEmpty ? ["gates: " + GateKind.allCases.map(\.rawValue).joined(separator: " ")] : near)
        }
    }

    func templateStart(_ name: String, _ l: SourceLocation) throws(Diagnostic) {
        if !measurements.isEmpty { throw Diagnostic("template \(name) after a measurement", at: l, notes: ["measurements end the circuit"]) }
    }

    func rotation(_ arg: (Expr, SourceLocation)?, default d: String) throws(Diagnostic) -> GateKind {
        guard let (e, _) = arg else { return GateKind(rawValue: "r" + d.lowercased())! }
        let v = try eval.eval(e)
        guard case .string(let s) = v, ["X", "Y", "Z"].contains(s) else {
            throw Diagnostic("rotation must be \"X\", \"Y\" or \"Z\", got \(v.spelled)", at: e.loc)
        }
        return GateKind(rawValue: "r" + s.lowercased())!
    }

    /// The weight operand a layer template reads and its layer count (from layers= or the
    /// weight's known type, which must be [L, trailing…]).
    func weightTemplate(_ name: String, _ positional: [Expr], _ layersArg: (Expr, SourceLocation)?, trailing: [Int],
                        _ l: SourceLocation) throws(Diagnostic) -> (Int, Int) {
        guard positional.count == 1, case .ident(let w, let wl) = positional[0], let op = weightOperand(w) else {
            throw Diagnostic("\(name) takes a weight operand: \(name)(w)", at: l)
        }
        guard op <= weightTypes.count else { throw noOperand(w, wl) }
        let known = weightTypes[op - 1]
        if let known {
            let want = "[L," + trailing.map(String.init).joined(separator: ",") + "]"
            guard known.rank == trailing.count + 1, Array(known.dims.dropFirst()) == trailing.map(Dim.fixed), let L = known.dims[0].value else {
                throw Diagnostic("\(name) needs \(w) of shape \(want) for \(wires) wires, got \(known)", at: wl)
            }
            if let (e, _) = layersArg {
                let n = try eval.int(e)
                guard n == L else { throw Diagnostic("layers=\(n) but \(w) is \(known) (\(L) layers)", at: e.loc) }
            }
            return (op, L)
        }
        guard let (e, _) = layersArg else {
            throw Diagnostic("\(name) needs layers= here: the shape of \(w) is not known yet", at: l,
                             notes: ["write \(name)(\(w), layers=6) or declare the weight's type"])
        }
        let n = try eval.int(e)
        guard n >= 0, n <= Lowering.maxStatements else { throw Diagnostic("layers must be between 0 and \(Lowering.maxStatements), got \(n)", at: e.loc) }
        return (op, n)
    }

    /// `w`/`w1` → 1, `w2` → 2, …
    func weightOperand(_ name: String) -> Int? {
        guard name.hasPrefix("w") else { return nil }
        let rest = name.dropFirst()
        if rest.isEmpty { return 1 }
        guard let k = Int(rest), k >= 1 else { return nil }
        return k
    }

    func noOperand(_ w: String, _ l: SourceLocation) -> Diagnostic {
        Diagnostic("the circuit has no weight operand \(w) (it has \(weightTypes.count))", at: l,
                   notes: ["pass weights after the input: circuit(%x, @w1, @w2, wires=…)"])
    }

    func wireList(_ e: Expr, _ l: SourceLocation) throws(Diagnostic) -> [Int] {
        let v = try eval.eval(e)
        var ws: [Int]
        switch v {
        case .int(let w): ws = [w]
        case .list(let items):
            ws = []
            for item in items {
                guard case .int(let w) = item else { throw Diagnostic("wires must be integers, got \(v.spelled)", at: e.loc) }
                ws.append(w)
            }
        default: throw Diagnostic("wires must be an integer or a list of integers, got \(v.spelled)", at: e.loc)
        }
        for w in ws where w < 0 || w >= wires {
            throw Diagnostic("wire \(w) is out of range: the circuit has \(wires) wire\(wires == 1 ? "" : "s") (0…\(wires - 1))", at: e.loc)
        }
        return ws
    }

    func param(_ e: Expr) throws(Diagnostic) -> GateParam {
        if case .index(.ident(let base, let bl), let idx, let l) = e, base == "x" || weightOperand(base) != nil {
            var ints: [Int] = []
            for i in idx {
                let v = try eval.int(i)
                guard v >= 0 else { throw Diagnostic("index \(v) is negative", at: i.loc) }
                guard v < Lowering.maxDim else { throw Diagnostic("index \(v) exceeds the limit of 2^31", at: i.loc) }
                ints.append(v)
            }
            if base == "x" {
                guard ints.count == 1 else { throw Diagnostic("x takes one index (a column), got \(ints.count)", at: l) }
                if let k = inputColumns, ints[0] >= k {
                    throw Diagnostic("x column \(ints[0]) is out of range: the input has \(k) column\(k == 1 ? "" : "s")", at: l)
                }
                return .input(column: ints[0])
            }
            let op = weightOperand(base)!
            guard op <= weightTypes.count else { throw noOperand(base, bl) }
            if let t = weightTypes[op - 1] {
                guard t.rank == ints.count else { throw Diagnostic("\(base) is \(t) and takes \(t.rank) indices, got \(ints.count)", at: l) }
                for (i, d) in zip(ints, t.dims) where d.value.map({ i >= $0 }) ?? false {
                    throw Diagnostic("index \(ints) is out of range for \(base) of type \(t)", at: l)
                }
            }
            return .weight(operand: op, index: ints)
        }
        if case .ident(let n, let l) = e, n == "x" || (weightOperand(n) != nil && frame.const(n) == nil) {
            throw Diagnostic("\(n) is a circuit operand; index it: \(n == "x" ? "x[i]" : n + "[l,q,k]")", at: l)
        }
        let v = try eval.eval(e)
        guard let d = v.double else { throw Diagnostic("a gate parameter must be x[i], w[…] or a number, got \(v.kindName)", at: e.loc) }
        return .constant(d)
    }
}
