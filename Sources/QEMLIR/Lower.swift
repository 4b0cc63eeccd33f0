/// Lowering: syntax tree → graph IR. Inlines blocks (`def`), expands `for`/`if`, evaluates
/// compile-time expressions, binds weights by scoped name, infers every type through the op
/// declarations and reports every independent error it finds. A failed statement poisons the
/// names it defines, and whatever reads a poisoned value fails silently, so one mistake gives
/// one diagnostic, not a cascade.
final class Lowering {
    static let maxStatements = 100_000
    static let maxDepth = 64
    static let maxQubits = 24
    static let maxDim = 1 << 31
    /// Elements in one tensor (4 GiB of f32): keeps shape and FLOP arithmetic far from overflow.
    static let maxElements = 1 << 30

    /// Why a type is too large, if it is.
    static func sizeProblem(_ t: TensorType) -> String? {
        var n = 1
        for d in t.dims {
            guard let v = d.value else { continue }
            if v > maxDim { return "dimension \(v) of \(t) exceeds the limit of 2^31" }
            let (p, o) = n.multipliedReportingOverflow(by: v)
            if o || p > maxElements { return "\(t) has more than 2^30 elements per sample (the limit)" }
            n = p
        }
        return nil
    }

    struct LimitExceeded: Error {}

    enum Binding {
        case value(ValueID)
        /// A weight reference not yet typed: it gets its type at its first use as an op operand.
        case weight(String, SourceLocation)
        case poisoned
    }

    struct Entry {
        var binding: Binding
        var loc: SourceLocation
    }

    struct Table {
        var consts: [String: CValue] = [:]
        var values: [String: Entry] = [:]
        var isLoopBody = false
    }

    /// One block invocation (or the top level).
    final class Frame {
        var scope: String
        let inDef: Bool
        var tables: [Table] = [Table()]
        var returned: [Binding]?
        /// Where this block was called from (for notes on errors inside it).
        let callSite: (String, SourceLocation)?

        init(scope: String, inDef: Bool, callSite: (String, SourceLocation)?) {
            self.scope = scope
            self.inDef = inDef
            self.callSite = callSite
        }

        func const(_ name: String) -> CValue? {
            for t in tables.reversed() { if let v = t.consts[name] { return v } }
            return nil
        }

        func value(_ name: String) -> Entry? {
            for t in tables.reversed() { if let v = t.values[name] { return v } }
            return nil
        }

        var knownValueNames: [String] { tables.flatMap { $0.values.keys } }
    }

    let file: String
    var graph = Graph()
    var diagnostics: [Diagnostic] = []
    var defs: [String: Def] = [:]
    var declaredWeights: [String: (TensorType, SourceLocation)] = [:]
    var weightFirstUse: [String: SourceLocation] = [:]
    var usedNames: Set<String> = []
    /// Next `_k` suffix to try per base name, so many same-named values stay linear.
    var nextSuffix: [String: Int] = [:]
    var weightIDs: [String: ValueID] = [:]
    var reserved: Set<String> = []
    var statements = 0
    var callStack: [String] = []
    /// The value the `frontend` section produces (known before the statements are lowered).
    var frontendOutput: String?
    var currentCall: (String, SourceLocation)?

    init(file: String) { self.file = file }

    // MARK: diagnostics

    func report(_ d: Diagnostic) {
        var d = d
        if let (name, at) = currentCall { d.notes.append("in block '\(name)' called at \(at)") }
        diagnostics.append(d)
    }

    func report(_ message: String, _ loc: SourceLocation, notes: [String] = []) {
        report(Diagnostic(message, at: loc, notes: notes))
    }

    func eval(_ f: Frame) -> ConstEval { ConstEval(lookup: { f.const($0) }) }

    func count(_ loc: SourceLocation) throws(LimitExceeded) {
        statements += 1
        if statements > Lowering.maxStatements {
            report("the model expands to more than \(Lowering.maxStatements) statements (the limit)", loc,
                   notes: ["a for loop or block nesting repeats too much; check the loop ranges"])
            throw LimitExceeded()
        }
    }

    // MARK: driver

    func lower(_ items: [TopItem]) -> Graph {
        for case .def(let d) in items {
            if defs[d.name] != nil {
                report("block '\(d.name)' is defined twice", d.loc, notes: ["the first definition is at \(defs[d.name]!.loc)"])
                continue
            }
            if OpRegistry.decl(d.name) != nil {
                report("block '\(d.name)' has the name of an op", d.loc, notes: ["choose another name"])
                continue
            }
            for p in d.params where p.name == "scope" {
                report("'scope' is reserved for the call's weight scope and cannot be a parameter name", p.loc)
            }
            defs[d.name] = d
        }
        for case .stmt(let s) in items { collectReserved(s) }
        for case .frontend(let name, _, _) in items { frontendOutput = name }

        let top = Frame(scope: "", inDef: false, callSite: nil)
        var outputs: [(String, SourceLocation)]?
        var frontend: (String, [(String, Expr, SourceLocation)], SourceLocation)?
        var seen: [String: SourceLocation] = [:]
        func once(_ what: String, _ l: SourceLocation) -> Bool {
            if let first = seen[what] {
                report("'\(what)' is given twice", l, notes: ["the first is at \(first)"])
                return false
            }
            seen[what] = l
            return true
        }
        do {
            for item in items {
                switch item {
                case .model(let name, let l): if once("model", l) { graph.name = name }
                case .labels(let labels, let l): if once("labels", l) { graph.labels = labels }
                case .note(let text, _): graph.notes.append(text)
                case .frontend(let name, let settings, let l): if once("frontend", l) { frontend = (name, settings, l) }
                case .input(let name, let t, let l): input(name, t, l, top)
                case .weightDecl(let name, let t, let l):
                    if let first = declaredWeights[name] {
                        report("weight @\(name) is declared twice", l, notes: ["the first declaration is at \(first.1)"])
                    } else if let type = resolveType(t, top, allowSymbolic: false) {
                        declaredWeights[name] = (type, l)
                    }
                case .output(let names, let l): if once("output", l) { outputs = names }
                case .def: break
                case .stmt(let s): try stmt(s, top)
                }
            }
        } catch {
            return graph
        }
        if let (name, settings, l) = frontend { lowerFrontend(name, settings, l, top) }
        if let outputs {
            for (name, l) in outputs {
                if case .value(let v)? = top.value(name)?.binding {
                    graph.outputs.append(v)
                } else if let v = graph.value(named: name) {
                    graph.outputs.append(v)
                } else if case .poisoned? = top.value(name)?.binding {
                    continue
                } else {
                    report("undefined value %\(name)", l, notes: suggestion(name, top.knownValueNames.map { $0 }))
                }
            }
        } else if let last = graph.nodes.last?.results.last {
            graph.outputs = [last]
        } else if let first = graph.inputs.first, diagnostics.isEmpty {
            graph.outputs = [first]
        }
        // The labels name the classes of the class output (the first output): one per class.
        if let l = seen["labels"], !graph.labels.isEmpty, diagnostics.isEmpty, let first = graph.outputs.first,
           !graph.outputs.contains(where: { graph.type(of: $0).dims.last?.value == graph.labels.count }) {
            let width = graph.type(of: first).dims.last?.value.map(String.init) ?? "?"
            report("labels has \(graph.labels.count) name\(graph.labels.count == 1 ? "" : "s") but the class output %\(graph[first].name) has \(width) classes", l,
                   notes: ["give one label per class (the last dimension of \(graph.type(of: first)))"])
        }
        return graph
    }

    /// Top-level names keep their spelling: generated names inside blocks avoid them.
    func collectReserved(_ s: Stmt) {
        switch s {
        case .assign(let targets, _, _, _, _):
            for t in targets { if let n = t.literal { reserved.insert(n) } }
        case .forLoop(_, _, _, let body, _): body.forEach(collectReserved)
        case .ifStmt(_, let a, let b, _): a.forEach(collectReserved); b?.forEach(collectReserved)
        default: break
        }
    }

    func input(_ name: String, _ t: TypeExpr, _ l: SourceLocation, _ top: Frame) {
        if let prev = top.value(name) {
            report("duplicate name %\(name)", l, notes: ["it is already defined at \(prev.loc)"])
            return
        }
        guard let type = resolveType(t, top, allowSymbolic: true) else {
            top.tables[0].values[name] = Entry(binding: .poisoned, loc: l)
            return
        }
        usedNames.insert(name)
        let id = graph.addInput(name, type)
        top.tables[0].values[name] = Entry(binding: .value(id), loc: l)
    }

    /// A written type; symbols are allowed only as the leading (batch) dimension of inputs.
    func resolveType(_ t: TypeExpr, _ f: Frame, allowSymbolic: Bool) -> TensorType? {
        var dims: [Dim] = []
        for (i, d) in t.dims.enumerated() {
            switch d {
            case .int(let v):
                guard v >= 0 else { report("dimension \(v) is negative", t.loc); return nil }
                guard v <= Lowering.maxDim else {
                    report("dimension \(v) exceeds the limit of 2^31 = \(Lowering.maxDim)", t.loc)
                    return nil
                }
                dims.append(.fixed(v))
            case .name(let s):
                if case .int(let v)? = f.const(s) { dims.append(.fixed(v)); continue }
                guard allowSymbolic, i == 0 else {
                    report("symbolic dimension '\(s)' is only allowed as the leading (batch) dimension of an input", t.loc)
                    return nil
                }
                dims.append(.symbolic(s))
            }
        }
        if let problem = Lowering.sizeProblem(TensorType(dims)) { report(problem, t.loc); return nil }
        return TensorType(dims)
    }

    /// A type annotation: symbols stand for themselves (they must match the inferred type).
    func annotationType(_ t: TypeExpr, _ f: Frame) -> TensorType {
        TensorType(t.dims.map { d in
            switch d {
            case .int(let v): return .fixed(v)
            case .name(let s): if case .int(let v)? = f.const(s) { return .fixed(v) }; return .symbolic(s)
            }
        })
    }

    func lowerFrontend(_ name: String, _ settings: [(String, Expr, SourceLocation)], _ l: SourceLocation, _ top: Frame) {
        var out: [(String, Attribute)] = []
        var ok = true
        for (key, e, kl) in settings {
            guard let spec = FrontendSpec.keys.first(where: { $0.name == key }) else {
                report("unknown frontend setting '\(key)'", kl,
                       notes: suggestion(key, FrontendSpec.keys.map(\.name)) + ["valid settings: " + FrontendSpec.keys.map(\.name).joined(separator: ", ")])
                ok = false
                continue
            }
            if out.contains(where: { $0.0 == key }) { report("frontend setting '\(key)' is given twice", kl); ok = false; continue }
            do throws(Diagnostic) {
                let v = try eval(top).eval(e)
                guard let a = v.attribute, let c = spec.kind.coerce(a) else {
                    report("frontend setting '\(key)' must be \(spec.kind), got \(v.spelled)", e.loc)
                    ok = false
                    continue
                }
                out.append((key, c))
            } catch {
                report(error)
                ok = false
            }
        }
        let produced = FrontendSpec(output: name, settings: out).outputShape()
        let suggested = "input %\(name): f32[" + (produced.map { $0.map(String.init).joined(separator: ",") } ?? "1,1,H,W") + "]"
        if let input = graph.inputs.first(where: { graph[$0].name == name }) {
            // The declared input must be what the front end makes of a signal (batch 1, or symbolic).
            let declared = graph.type(of: input)
            if let produced, ok {
                let fits = declared.rank == produced.count && zip(declared.dims, produced).allSatisfy { d, p in d.value.map { $0 == p } ?? true }
                if !fits {
                    report("the frontend produces f32[\(produced.map(String.init).joined(separator: ","))] but %\(name) is declared \(declared)", l,
                           notes: ["change the input line to `\(suggested)`, or the frontend's resize/length/n_fft/hop/n_mels (ir/LANGUAGE.md says what shape a frontend produces)"])
                    ok = false
                }
            }
        } else {
            report("the frontend produces %\(name), which is not a declared input", l,
                   notes: ["declare it: \(suggested)" + (produced == nil ? " (the frontend fixes no shape: set resize = [H, W] or length)" : "")])
            ok = false
        }
        if ok { graph.frontend = FrontendSpec(output: name, settings: out) }
    }

    // MARK: statements

    func run(_ stmts: [Stmt], _ f: Frame) throws(LimitExceeded) {
        for s in stmts {
            if f.returned != nil { return }
            try stmt(s, f)
        }
    }

    func stmt(_ s: Stmt, _ f: Frame) throws(LimitExceeded) {
        try count(s.loc)
        switch s {
        case .assign(let targets, let tlocs, let e, let types, let l):
            var names: [String] = []
            for t in targets {
                do throws(Diagnostic) { names.append(try eval(f).text(t)) } catch { report(error); names.append("") }
            }
            if names.contains("") { for (n, tl) in zip(names, tlocs) where !n.isEmpty { bind(n, .poisoned, tl, f) }; return }
            var results: [Binding]
            switch e {
            case .call(let name, let args, let body, let cl):
                results = try call(name, args, body, cl, f, targets: names, types: types)
            default:
                results = [try tensor(e, f)]
                if let types, case .value(let v) = results[0] {
                    checkAnnotation(types[0], graph.type(of: v), f, l)
                }
            }
            if results.count != names.count {
                if !results.contains(where: { if case .poisoned = $0 { return true }; return false }) {
                    report("the right side gives \(results.count) value\(results.count == 1 ? "" : "s") but \(names.count) name\(names.count == 1 ? " is" : "s are") assigned", l)
                }
                results = names.map { _ in .poisoned }
            }
            for (k, n) in names.enumerated() { bind(n, results[k], tlocs[k], f) }
        case .expr(let e, _):
            _ = try tensorOrCall(e, f)
        case .ret(let exprs, let l):
            guard f.inDef else { report("'return' outside a block", l); return }
            var out: [Binding] = []
            for e in exprs { out.append(try tensor(e, f)) }
            f.returned = out
        case .forLoop(let v, let lo, let hi, let body, let l):
            let a: Int, b: Int
            do throws(Diagnostic) { a = try eval(f).int(lo); b = try eval(f).int(hi) } catch { report(error); return }
            let (span, overflow) = b.subtractingReportingOverflow(a)
            if b > a, overflow || span > Lowering.maxStatements {
                report("the loop runs \(overflow ? "more than 2^63" : String(span)) times, more than the limit of \(Lowering.maxStatements) statements", l)
                throw LimitExceeded()
            }
            guard a < b else { return }
            for i in a..<b {
                try count(l)
                var t = Table()
                t.consts[v] = .int(i)
                t.isLoopBody = true
                f.tables.append(t)
                defer { f.tables.removeLast() }
                try run(body, f)
                if f.returned != nil { return }
            }
        case .ifStmt(let cond, let then, let otherwise, _):
            let c: Bool
            do throws(Diagnostic) { c = try eval(f).bool(cond) } catch { report(error); return }
            if c { try run(then, f) } else if let otherwise { try run(otherwise, f) }
        case .letStmt(let n, let e, let l):
            if f.tables[f.tables.count - 1].consts[n] != nil {
                report("'\(n)' is already defined here", l)
                return
            }
            do throws(Diagnostic) {
                f.tables[f.tables.count - 1].consts[n] = try eval(f).eval(e)
            } catch { report(error) }
        }
    }

    /// Binds a source-level value name: a new name in the innermost table, or — inside a `for`
    /// body — a rebinding of a name defined before the loop (loop-carried). Anything else is a
    /// duplicate.
    func bind(_ name: String, _ b: Binding, _ l: SourceLocation, _ f: Frame) {
        let inner = f.tables.count - 1
        if let prev = f.tables[inner].values[name] {
            report("duplicate name %\(name)", l, notes: ["it is already defined at \(prev.loc)"])
            return
        }
        for j in stride(from: inner - 1, through: 0, by: -1) {
            if let prev = f.tables[j].values[name] {
                if f.tables[(j + 1)...].contains(where: \.isLoopBody) {
                    f.tables[j].values[name] = Entry(binding: b, loc: prev.loc)
                } else {
                    report("duplicate name %\(name)", l, notes: ["it is already defined at \(prev.loc)"])
                }
                return
            }
        }
        f.tables[inner].values[name] = Entry(binding: b, loc: l)
    }

    func checkAnnotation(_ t: TypeExpr, _ inferred: TensorType, _ f: Frame, _ l: SourceLocation) {
        let written = annotationType(t, f)
        if written != inferred {
            report("type annotation \(written) does not match the inferred type \(inferred)", t.loc)
        }
    }

    // MARK: expressions

    /// An expression in tensor position; reports its own errors and returns `.poisoned` then.
    func tensor(_ e: Expr, _ f: Frame) throws(LimitExceeded) -> Binding {
        switch e {
        case .value(let t, let l):
            let name: String
            do throws(Diagnostic) { name = try eval(f).text(t) } catch { report(error); return .poisoned }
            guard let entry = f.value(name) else {
                let fromFrontend = name == frontendOutput && graph.inputs.allSatisfy { graph[$0].name != name }
                report("undefined value %\(name)", l, notes: fromFrontend
                       ? ["the frontend produces %\(name), but no input line declares it (the frontend's error below gives the line to write)"]
                       : suggestion(name, f.knownValueNames))
                return .poisoned
            }
            return entry.binding
        case .weight(let t, let l):
            let name: String
            do throws(Diagnostic) { name = try eval(f).text(t) } catch { report(error); return .poisoned }
            return .weight(absoluteWeight(name, f.scope), l)
        case .call(let name, _, _, let l):
            let r = try tensorOrCall(e, f)
            guard let first = r.first else {
                report("'\(name)' gives no value", l)
                return .poisoned
            }
            if r.count > 1, defs[name] != nil {
                report("block '\(name)' returns \(r.count) values; assign them: %a, %b = \(name)(…)", l)
                return .poisoned
            }
            return first
        case .ident(let n, let l):
            report("expected a tensor (%value, @weight or a call), found the name '\(n)'", l,
                   notes: f.value(n) != nil ? ["did you mean %\(n)?"] : [])
            return .poisoned
        default:
            report("expected a tensor (%value, @weight or a call) here", e.loc)
            return .poisoned
        }
    }

    func tensorOrCall(_ e: Expr, _ f: Frame) throws(LimitExceeded) -> [Binding] {
        if case .call(let name, let args, let body, let l) = e {
            return try call(name, args, body, l, f, targets: nil, types: nil)
        }
        return [try tensor(e, f)]
    }

    func absoluteWeight(_ name: String, _ scope: String) -> String {
        guard name.hasPrefix(".") else { return name }
        return scope.isEmpty ? String(name.dropFirst()) : scope + name
    }

    /// An op or block call. `targets` are the source names assigned (nil in expression position).
    func call(_ name: String, _ args: [Argument], _ body: [Stmt]?, _ l: SourceLocation, _ f: Frame,
              targets: [String]?, types: [TypeExpr]?) throws(LimitExceeded) -> [Binding] {
        if let d = defs[name] {
            if body != nil { report("block '\(name)' does not take a { … } body", l) }
            let before = graph.values.count
            let r = try defCall(d, args, l, f)
            // At top level, `%n = block(…)` names the block's result `n` (no copy node).
            if let targets, !f.inDef, targets.count == r.count {
                for (k, b) in r.enumerated() {
                    guard case .value(let v) = b, v.raw >= before, !graph[v].isWeight else { continue }
                    usedNames.remove(graph[v].name)
                    graph[v].name = uniqueName(targets[k], f, generated: false)
                }
            }
            if let types, types.count == r.count {
                for (t, b) in zip(types, r) { if case .value(let v) = b { checkAnnotation(t, graph.type(of: v), f, t.loc) } }
            }
            return r
        }
        guard let decl = OpRegistry.decl(name) else {
            if GateKind(rawValue: name) != nil || CircuitLowering.templates.contains(name) {
                report("'\(name)' is a gate; it can only be used inside a circuit { … } body", l)
            } else {
                report("unknown op '\(name)'", l, notes: suggestion(name, OpRegistry.all.map(\.name) + defs.keys.sorted()))
            }
            // Still check the operands (an undefined value there is an independent error).
            for a in args where a.label == nil { _ = try tensorOrCall(a.value, f) }
            return [.poisoned]
        }
        return try opCall(decl, args, body, l, f, targets: targets, types: types)
    }

    /// The graph name for a new value. Names written at top level are kept as written when
    /// free; generated ones (inside blocks, unnamed intermediates) also avoid every name the
    /// top level writes later.
    func uniqueName(_ wanted: String, _ f: Frame, generated: Bool) -> String {
        var base = wanted
        if f.inDef && !f.scope.isEmpty { base = f.scope + "." + wanted }
        let avoidReserved = generated || f.inDef
        func free(_ n: String) -> Bool { !usedNames.contains(n) && !(avoidReserved && reserved.contains(n)) }
        var n = base
        var k = nextSuffix[base] ?? 2
        while !free(n) { n = "\(base)_\(k)"; k += 1 }
        if n != base { nextSuffix[base] = k }
        usedNames.insert(n)
        return n
    }

    func defCall(_ d: Def, _ args: [Argument], _ l: SourceLocation, _ f: Frame) throws(LimitExceeded) -> [Binding] {
        if callStack.contains(d.name) {
            report("recursive block: " + (callStack.drop(while: { $0 != d.name }) + [d.name]).joined(separator: " → "), l,
                   notes: ["blocks are inlined, so a block cannot call itself, directly or through others"])
            return [.poisoned]
        }
        if callStack.count >= Lowering.maxDepth {
            report("blocks nested deeper than \(Lowering.maxDepth) calls (the limit)", l)
            return [.poisoned]
        }
        var consts: [String: CValue] = [:]
        var tensors: [String: Binding] = [:]
        var scope = f.scope
        var failed = false
        var given: Set<String> = []
        var positional = 0
        for a in args {
            let param: Param
            if let label = a.label {
                if label == "scope" {
                    do throws(Diagnostic) {
                        guard case .string(let s) = try eval(f).eval(a.value) else {
                            report("scope= must be a string such as \"layer1.0\" or \".cbam\"", a.value.loc)
                            failed = true
                            continue
                        }
                        scope = s.hasPrefix(".") ? (f.scope.isEmpty ? String(s.dropFirst()) : f.scope + s) : s
                    } catch { report(error); failed = true }
                    continue
                }
                guard let p = d.params.first(where: { $0.name == label }) else {
                    report("block '\(d.name)' has no parameter '\(label)'", a.labelLoc ?? l,
                           notes: suggestion(label, d.params.map(\.name)) + ["parameters: " + d.params.map { ($0.isTensor ? "%" : "") + $0.name }.joined(separator: ", ")])
                    failed = true
                    continue
                }
                param = p
            } else {
                guard positional < d.params.count else {
                    report("block '\(d.name)' takes \(d.params.count) parameter\(d.params.count == 1 ? "" : "s"), got more", a.value.loc)
                    failed = true
                    continue
                }
                param = d.params[positional]
                positional += 1
            }
            if given.contains(param.name) {
                report("parameter '\(param.name)' of '\(d.name)' is given twice", a.labelLoc ?? a.value.loc)
                failed = true
                continue
            }
            given.insert(param.name)
            if param.isTensor {
                let b = try tensor(a.value, f)
                if case .poisoned = b { failed = true }
                tensors[param.name] = b
            } else {
                do throws(Diagnostic) { consts[param.name] = try eval(f).eval(a.value) } catch { report(error); failed = true }
            }
        }
        for p in d.params where !given.contains(p.name) {
            if let e = p.defaultValue {
                // Defaults may refer to earlier parameters.
                let ev = ConstEval(lookup: { consts[$0] })
                do throws(Diagnostic) { consts[p.name] = try ev.eval(e) } catch { report(error); failed = true }
            } else {
                report("block '\(d.name)' needs parameter '\(p.isTensor ? "%" : "")\(p.name)'", l)
                failed = true
            }
        }
        if failed { return [.poisoned] }

        let frame = Frame(scope: scope, inDef: true, callSite: (d.name, l))
        frame.tables[0].consts = consts
        for (n, b) in tensors { frame.tables[0].values[n] = Entry(binding: b, loc: l) }
        callStack.append(d.name)
        let saved = currentCall
        currentCall = (d.name, l)
        defer { callStack.removeLast(); currentCall = saved }
        try run(d.body, frame)
        return frame.returned ?? []
    }

    func opCall(_ decl: OpDecl, _ args: [Argument], _ body: [Stmt]?, _ l: SourceLocation, _ f: Frame,
                targets: [String]?, types: [TypeExpr]?) throws(LimitExceeded) -> [Binding] {
        var failed = false
        let fixedSlots = decl.isVariadic ? decl.operands.count - 1 : decl.operands.count
        var slots: [Binding?] = Array(repeating: nil, count: fixedSlots)
        var variadic: [Binding] = []
        let required = decl.operands.indices.filter { !decl.operands[$0].optional && !decl.operands[$0].variadic }
        let positional = args.filter { $0.label == nil }
        func operandList() -> String { required.map { decl.operands[$0].name }.joined(separator: ", ") }

        for (k, a) in positional.enumerated() {
            let b = try tensor(a.value, f)
            if k < required.count { slots[required[k]] = b } else if decl.isVariadic { variadic.append(b) } else if k == required.count {
                let optionals = decl.operands.filter(\.optional).map { $0.name + "=" }
                report("\(decl.name) takes \(required.count) positional operand\(required.count == 1 ? "" : "s") (\(operandList())), got \(positional.count)", a.value.loc,
                       notes: optionals.isEmpty ? [] : ["optional operands are passed by keyword: " + optionals.joined(separator: ", ")])
                failed = true
            }
        }
        if positional.count < required.count {
            report("\(decl.name) needs \(required.count) operand\(required.count == 1 ? "" : "s") (\(operandList())), got \(positional.count)", l)
            failed = true
        }
        if decl.isVariadic && required.isEmpty && variadic.isEmpty {
            report("\(decl.name) needs at least one operand", l)
            failed = true
        }

        var given: [String: Attribute] = [:]
        var seen: Set<String> = []
        for a in args {
            guard let label = a.label else { continue }
            let ll = a.labelLoc ?? l
            if seen.contains(label) { report("'\(label)' is given twice", ll); failed = true; continue }
            seen.insert(label)
            if let i = decl.operandIndex(label), !decl.operands[i].variadic {
                guard decl.operands[i].optional else {
                    report("operand '\(label)' of \(decl.name) is positional: write it without '\(label)='", ll)
                    failed = true
                    continue
                }
                slots[i] = try tensor(a.value, f)
                continue
            }
            guard let attr = decl.attributes.first(where: { $0.name == label }), attr.kind != .circuit else {
                let names = decl.attributes.filter { $0.kind != .circuit }.map(\.name)
                let opt = decl.operands.filter(\.optional).map(\.name)
                var notes = suggestion(label, names + opt)
                notes.append(names.isEmpty ? "\(decl.name) takes no attributes" : "valid attributes: " + names.joined(separator: ", "))
                if !opt.isEmpty { notes.append("optional operands: " + opt.joined(separator: ", ")) }
                report("unknown attribute '\(label)' for \(decl.name)", ll, notes: notes)
                failed = true
                continue
            }
            do throws(Diagnostic) {
                let v = try eval(f).eval(a.value)
                guard let raw = v.attribute, let c = attr.kind.coerce(raw) else {
                    report("attribute '\(label)' of \(decl.name) must be \(attr.kind), got \(v.spelled)", a.value.loc)
                    failed = true
                    continue
                }
                given[label] = c
            } catch {
                report(error)
                failed = true
            }
        }

        let circuitAttr = decl.attributes.first(where: { $0.kind == .circuit })
        if body != nil && circuitAttr == nil { report("\(decl.name) does not take a { … } body", l); failed = true }
        if body == nil, let c = circuitAttr { report("\(decl.name) needs a body { … } (its '\(c.name)')", l); failed = true }
        for attr in decl.attributes where attr.kind != .circuit && !seen.contains(attr.name) && attr.defaultValue == nil && !attr.optional {
            report("\(decl.name) needs attribute '\(attr.name)' (\(attr.kind))", l)
            failed = true
        }

        let operands = slots + variadic.map { Optional($0) }
        if failed || operands.contains(where: { if case .poisoned? = $0 { return true }; return false }) {
            return poisonedResults(targets)
        }

        // Operand types; weights take a known type (an earlier use or a declaration) when there is one.
        var types_: [TensorType?] = []
        var isWeight: [Bool] = []
        for b in operands {
            switch b {
            case .value(let v)?: types_.append(graph.type(of: v)); isWeight.append(graph[v].isWeight)
            case .weight(let n, _)?: types_.append(knownWeightType(n)); isWeight.append(true)
            default: types_.append(nil); isWeight.append(false)
            }
        }

        if let body, let c = circuitAttr {
            let wires = given["wires"]?.int ?? 0
            let inputColumns = types_.first.flatMap { $0 }.flatMap { $0.rank == 2 ? $0.dims[1].value : nil }
            var lowering = CircuitLowering(owner: self, frame: f, wires: wires, inputColumns: inputColumns,
                                           weightTypes: Array(types_.dropFirst()), loc: l)
            guard let circuit = try lowering.lower(body) else { return poisonedResults(targets) }
            given[c.name] = .circuit(circuit)
        }

        var attributes = Attributes()
        for attr in decl.attributes {
            if let v = given[attr.name] ?? attr.defaultValue { attributes[attr.name] = v }
        }
        for (name, v) in attributes {
            let ints: [Int]
            switch v {
            case .int(let x): ints = [x]
            case .ints(let xs): ints = xs
            default: ints = []
            }
            if ints.contains(where: { $0 > Lowering.maxDim || $0 < -Lowering.maxDim }) {
                report("attribute '\(name)' of \(decl.name) is out of range: integers are limited to ±2^31", l)
                return poisonedResults(targets)
            }
        }

        let ctx = ShapeContext(attributes: attributes, operands: types_, isWeight: isWeight)
        let inferred: ShapeResult
        do throws(ShapeError) { inferred = try decl.infer(ctx) } catch {
            // An untyped weight the rule needed: say which, and how to fix it.
            if error.message.hasSuffix("is not known here"),
               let i = operands.indices.first(where: { if case .weight? = operands[$0], types_[$0] == nil { return true }; return false }),
               case .weight(let n, let wl)? = operands[i] {
                let slot = i < decl.operands.count ? decl.operands[i].name : decl.operands.last?.name ?? "operand"
                report("cannot infer the shape of weight @\(n) (the \(slot) of \(decl.name))", wl,
                       notes: ["declare it at top level: weight @\(n): f32[…]"])
                return poisonedResults(targets)
            }
            report("\(decl.name): \(error.message)", l)
            return poisonedResults(targets)
        }

        // Weights: the op's rule fixes the type; a second use must agree.
        var ids: [ValueID?] = []
        var pending: [(Int, String, TensorType, SourceLocation)] = []
        for (i, b) in operands.enumerated() {
            switch b {
            case .value(let v)?:
                ids.append(v)
                if graph[v].isWeight, let want = inferred.weights[i], want != graph[v].type, let n = graph[v].weightName {
                    weightConflict(n, want, graph[v].type, l)
                    failed = true
                }
            case .weight(let n, let wl)?:
                ids.append(nil)
                let known = knownWeightType(n)
                if let want = inferred.weights[i] {
                    if let known, known != want { weightConflict(n, want, known, wl); failed = true; continue }
                    pending.append((i, n, want, wl))
                } else if let known {
                    pending.append((i, n, known, wl))
                } else {
                    let slot = i < decl.operands.count ? decl.operands[i].name : decl.operands.last?.name ?? "operand"
                    report("cannot infer the shape of weight @\(n) (the \(slot) of \(decl.name))", wl,
                           notes: ["declare it at top level: weight @\(n): f32[…]"])
                    failed = true
                }
            default:
                ids.append(nil)
            }
        }
        for t in inferred.results + inferred.weights.sorted(by: { $0.key < $1.key }).map(\.value) {
            if let problem = Lowering.sizeProblem(t) {
                report("\(decl.name): \(problem)", l)
                failed = true
                break
            }
        }
        if let targets, targets.count != inferred.results.count {
            report("\(decl.name) gives \(inferred.results.count) result\(inferred.results.count == 1 ? "" : "s") but \(targets.count) name\(targets.count == 1 ? " is" : "s are") assigned", l)
            failed = true
        }
        if let types {
            if types.count != inferred.results.count {
                report("\(types.count) type annotation\(types.count == 1 ? "" : "s") for \(inferred.results.count) result\(inferred.results.count == 1 ? "" : "s")", types[0].loc)
                failed = true
            } else {
                for (t, r) in zip(types, inferred.results) where annotationType(t, f) != r {
                    report("type annotation \(annotationType(t, f)) does not match the inferred type \(r)", t.loc)
                    failed = true
                }
            }
        }
        if failed { return poisonedResults(targets) }

        for (i, n, t, wl) in pending {
            if let id = weightIDs[n] { ids[i] = id; continue }
            // New weight (graph.weight would search every value: quadratic on big models).
            let id = ValueID(graph.values.count)
            graph.values.append(Value(name: n, type: t, def: .weight(n)))
            weightIDs[n] = id
            ids[i] = id
            if weightFirstUse[n] == nil { weightFirstUse[n] = wl }
        }
        var resultNames: [(String, TensorType)] = []
        for (k, r) in inferred.results.enumerated() {
            let wanted = targets?[k] ?? decl.name
            resultNames.append((uniqueName(wanted, f, generated: targets == nil), r))
        }
        let results = graph.addNode(decl.name, ids, attributes, results: resultNames, location: l)
        return results.map { .value($0) }
    }

    func poisonedResults(_ targets: [String]?) -> [Binding] {
        Array(repeating: .poisoned, count: max(1, targets?.count ?? 1))
    }

    func knownWeightType(_ name: String) -> TensorType? {
        if let id = weightIDs[name] { return graph.type(of: id) }
        return declaredWeights[name]?.0
    }

    func weightConflict(_ name: String, _ want: TensorType, _ known: TensorType, _ l: SourceLocation) {
        if let first = weightFirstUse[name] {
            report("weight @\(name) is used as \(want) here but as \(known) at \(first)", l)
        } else if let decl = declaredWeights[name] {
            report("weight @\(name) is used as \(want) here but declared as \(known) at \(decl.1)", l)
        } else {
            report("weight @\(name) is used as \(want) here but has type \(known)", l)
        }
    }
}

/// "did you mean 'x'?" for the nearest candidate within a small edit distance.
func suggestion(_ name: String, _ candidates: [String]) -> [String] {
    var best: (String, Int)?
    for c in Set(candidates) {
        let d = editDistance(name, c)
        if d <= max(1, min(3, name.count / 3)), best == nil || d < best!.1 || (d == best!.1 && c < best!.0) { best = (c, d) }
    }
    return best.map { ["did you mean '\($0.0)'?"] } ?? []
}

/// Edit distance counting a swap of two neighbours as one edit (optimal string alignment):
/// `cnto` is one edit from `cnot`.
func editDistance(_ a: String, _ b: String) -> Int {
    let x = Array(a.unicodeScalars), y = Array(b.unicodeScalars)
    if x.isEmpty { return y.count }
    if y.isEmpty { return x.count }
    var before = [Int](repeating: 0, count: y.count + 1)
    var prev = Array(0...y.count)
    for i in 1...x.count {
        var cur = [i] + [Int](repeating: 0, count: y.count)
        for j in 1...y.count {
            cur[j] = min(prev[j] + 1, cur[j - 1] + 1, prev[j - 1] + (x[i - 1] == y[j - 1] ? 0 : 1))
            if i > 1, j > 1, x[i - 1] == y[j - 2], x[i - 2] == y[j - 1] { cur[j] = min(cur[j], before[j - 2] + 1) }
        }
        before = prev
        prev = cur
    }
    return prev[y.count]
}
