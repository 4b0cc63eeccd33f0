@testable import QEMLIR

/// SplitMix64: a tiny seeded generator so random tests are reproducible.
struct SeededRandom: RandomNumberGenerator {
    var state: UInt64
    init(seed: UInt64) { state = seed }
    mutating func next() -> UInt64 {
        state &+= 0x9E37_79B9_7F4A_7C15
        var z = state
        z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
        z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
        return z ^ (z >> 31)
    }
}

/// Builds random valid graphs over the base ops (shapes consistent, attributes normalized the
/// way the parser stores them), for print → parse round-trip tests.
struct RandomGraphBuilder {
    var rng: SeededRandom
    var g = Graph()
    var names: Set<String> = []
    var counter = 0

    init(seed: UInt64) { rng = SeededRandom(seed: seed) }

    mutating func int(_ r: ClosedRange<Int>) -> Int { Int.random(in: r, using: &rng) }
    mutating func chance(_ p: Double) -> Bool { Double.random(in: 0..<1, using: &rng) < p }
    mutating func pick<T>(_ a: [T]) -> T { a[int(0...(a.count - 1))] }
    mutating func float() -> Double { Double(int(-2000...2000)) / 256 }

    mutating func freshName(_ base: String) -> String {
        counter += 1
        let stems = [base, base + ".\(counter)", "blk\(int(0...3)).\(base)", "\(base)_\(int(0...9))", "layer\(int(1...4)).\(int(0...5)).\(base)"]
        var n = pick(stems)
        while names.contains(n) { n += "_\(int(2...9))" }
        names.insert(n)
        return n
    }

    mutating func weightName() -> String {
        counter += 1
        return pick(["w\(counter)", "layer\(int(1...4)).\(counter).conv.weight", "fc\(counter).bias", "pqc\(counter).weights"])
    }

    /// Attributes in declaration order with defaults filled, as lowering stores them.
    func attributes(_ op: String, _ given: [String: Attribute]) -> Attributes {
        var a = Attributes()
        for d in OpRegistry.decl(op)!.attributes {
            if let v = given[d.name] ?? d.defaultValue { a[d.name] = d.kind.coerce(v) ?? v }
        }
        return a
    }

    /// Adds a node after checking it with the op's rule; weights (by slot) are created first.
    @discardableResult
    mutating func node(_ op: String, _ operands: [ValueID?], weights: [Int: String] = [:], _ given: [String: Attribute]) -> [ValueID]? {
        let decl = OpRegistry.decl(op)!
        let attrs = attributes(op, given)
        var operands = operands
        while operands.count < decl.operands.count && !decl.isVariadic { operands.append(nil) }
        var types = operands.map { $0.map { g.type(of: $0) } }
        var isWeight = operands.map { $0.map { g[$0].isWeight } ?? false }
        for (slot, _) in weights { while types.count <= slot { types.append(nil); isWeight.append(false) }; isWeight[slot] = true }
        guard let r = try? decl.infer(ShapeContext(attributes: attrs, operands: types, isWeight: isWeight)) else { return nil }
        var ids = operands
        while ids.count < types.count { ids.append(nil) }
        for slot in weights.keys.sorted() {
            guard let t = r.weights[slot] else { return nil }
            ids[slot] = g.weight(weights[slot]!, t)
        }
        let results = r.results.map { (freshName(op), $0) }
        return g.addNode(op, ids, attrs, results: results)
    }

    mutating func build() -> Graph {
        let batch: Dim = pick([.fixed(1), .fixed(2), .symbolic("N")])
        g.name = pick(["model", "random-\(int(0...999))", "qemlnet \"test\""])
        if chance(0.5) { g.labels = (0..<int(1...4)).map { "class_\($0)" } + (chance(0.3) ? ["odd {label} \"q\" \\ end"] : []) }
        if chance(0.3) { g.notes = ["fuse-quantum: strategy=folded (4 qubits)", "braces {x} and\nnewline"] }
        let c = int(1...4), h = int(4...9), w = int(4...9)
        let image = g.addInput(freshName("image"), TensorType([batch, .fixed(c), .fixed(h), .fixed(w)]))
        // A front end makes one [1, 1, H, W] spectrogram: only such an input can be its output.
        if chance(0.3), c == 1, batch != .fixed(2) {
            g.frontend = FrontendSpec(output: g[image].name, settings: [("sample_rate", .int(12000)), ("window", .string("hamming")), ("resize", .ints([h, w])), ("fmin", .float(20.5))])
        }
        var pool4: [ValueID] = [image]
        var pool2: [ValueID] = []
        if chance(0.5) { pool2.append(g.addInput(freshName("angles"), TensorType([batch, .fixed(int(1...4))]))) }

        for _ in 0..<int(3...12) {
            let x = pick(pool4)
            let (_, xc, xh, xw) = (g.type(of: x).dims[0], g.type(of: x).dims[1].value!, g.type(of: x).dims[2].value!, g.type(of: x).dims[3].value!)
            switch int(0...12) {
            case 0, 1:
                let k = int(1...min(3, xh, xw)), groups = pick([1, xc])
                let out = groups * int(1...3)
                var operands: [ValueID?] = [x, nil, nil, nil, nil, nil, nil, nil]
                var weights: [Int: String] = [1: weightName()]
                if chance(0.5) { weights[2] = weightName() }
                if chance(0.3) { for s in 3...6 { weights[s] = weightName() } }
                var given: [String: Attribute] = ["out": .int(out), "kernel": pick([.int(k), .ints([k, 1])]), "groups": .int(groups)]
                if chance(0.5) { given["stride"] = .int(int(1...2)) }
                if chance(0.5) { given["padding"] = .int(int(0...1)) }
                if chance(0.3) { given["eps"] = .float(0.001) }
                if chance(0.3) { given["activation"] = .string(pick(["relu", "sigmoid", "none"])) }
                if chance(0.2) { given["pool"] = .string("avgmax") }
                if chance(0.2), given["stride"] == nil || given["stride"] == .int(1), k == 1 {
                    // A residual of the output's type.
                    if let r = pool4.first(where: { g.type(of: $0) == TensorType([g.type(of: x).dims[0], .fixed(out), .fixed(xh), .fixed(xw)]) }) {
                        operands[7] = r
                        given["padding"] = .int(0)
                    }
                }
                if let r = node("conv2d", operands, weights: weights, given) { pool4.append(contentsOf: r) }
            case 2:
                if let r = node("batchnorm", [x], weights: [1: weightName(), 2: weightName(), 3: weightName(), 4: weightName()],
                                chance(0.5) ? ["eps": .float(1e-3)] : [:]) { pool4 += r }
            case 3:
                if let r = node(pick(["relu", "sigmoid", "tanh"]), [x], [:]) { pool4 += r }
            case 4:
                if let r = node("scale", [x], ["by": pick([.float(float()), .int(int(-3...3)), .float(Double.pi)])]) { pool4 += r }
            case 5:
                let others = pool4.filter { (try? broadcast(g.type(of: x), g.type(of: $0))) != nil }
                let y = pick(others)
                if let r = node(pick(["add", "mul"]), [x, y], [:]) { pool4 += r }
                // A weight the op cannot type: printed with a `weight` declaration.
                if chance(0.3) {
                    let t = TensorType(fixed: [xc, 1, 1])
                    let wv = g.weight(weightName(), t)
                    pool4 += g.addNode("mul", [x, wv], Attributes(), results: [(freshName("mul"), g.type(of: x))])
                }
            case 6:
                let k = int(1...min(3, xh, xw))
                var given: [String: Attribute] = ["kernel": .int(k)]
                if chance(0.6) { given["stride"] = .int(int(1...2)) }
                if chance(0.5) { given["padding"] = .int(int(0...(k / 2))) }
                if chance(0.3) { given["ceil_mode"] = .bool(true) }
                if let r = node(pick(["maxpool2d", "avgpool2d"]), [x], given) { pool4 += r }
            case 7:
                if let r = node(pick(["global_avgpool", "global_maxpool", "channel_mean", "channel_max"]), [x], [:]) { pool4 += r }
            case 8:
                let same = pool4.filter { let t = g.type(of: $0); return t.dims[0] == g.type(of: x).dims[0] && t.dims[2...] == g.type(of: x).dims[2...] }
                let parts = (0..<int(1...3)).map { _ in pick(same) }
                if let r = node("concat", [x] + parts, ["axis": .int(1)]) { pool4 += r }
            case 9, 10:
                if let f = node("flatten", [x], [:])?.first {
                    var weights = [1: weightName()]
                    if chance(0.5) { weights[2] = weightName() }
                    if let d = node("dense", [f, nil], weights: weights, ["out": .int(int(1...4))]) { pool2 += d }
                }
            case 11:
                if let v = pool2.first, let r = node("softmax", [pick(pool2 + [v])], [:]) { pool2 += r }
            default:
                guard let v = pool2.first(where: { (g.type(of: $0).dims[1].value ?? 9) <= 4 }) else { continue }
                if let r = circuit(v) { pool2 += r }
            }
        }
        let all = pool4 + pool2
        g.outputs = [all.last!] + (chance(0.5) ? [pick(all)] : [])
        if g.outputs.count == 2 && g.outputs[0] == g.outputs[1] { g.outputs.removeLast() }
        // One label per class of the first output (a mismatch is an error).
        if !g.labels.isEmpty, let width = g.type(of: g.outputs[0]).dims.last?.value, width >= 1 {
            let odd = g.labels.count > 1 && g.labels.last!.hasPrefix("odd")
            g.labels = (0..<width).map { "class_\($0)" }
            if odd { g.labels[width - 1] = "odd {label} \"q\" \\ end" }
        } else {
            g.labels = []
        }
        return g
    }

    mutating func circuit(_ x: ValueID) -> [ValueID]? {
        let k = g.type(of: x).dims[1].value!
        let wires = int(max(1, k)...5)
        let weightOperands = int(0...2)
        var gates: [Gate] = []
        for i in 0..<k { gates.append(Gate(pick([.rx, .ry, .rz]), wires: [i], params: [.input(column: i)])) }
        for op in 0..<weightOperands {
            // Every weight operand is read, up to index [1, wires-1].
            for q in 0..<wires { gates.append(Gate(.ry, wires: [q], params: [.weight(operand: op + 1, index: [int(0...1), q])])) }
        }
        for _ in 0..<int(0...6) {
            let kind = pick(GateKind.allCases)
            var ws = [int(0...(wires - 1))]
            if kind.wireCount == 2 {
                guard wires >= 2 else { continue }
                var b = int(0...(wires - 1))
                while b == ws[0] { b = int(0...(wires - 1)) }
                ws.append(b)
            }
            let params: [GateParam] = (0..<kind.parameterCount).map { _ in
                switch int(0...2) {
                case 0: return .constant(float())
                case 1: return .input(column: int(0...(k - 1)))
                default: return weightOperands > 0 ? .weight(operand: int(1...weightOperands), index: [0, 0]) : .constant(1.5)
                }
            }
            gates.append(Gate(kind, wires: ws, params: params))
        }
        var measurements: [Measurement] = (0..<wires).filter { _ in chance(0.7) }.map { .expval(pick(Pauli.allCases), wire: $0) }
        if measurements.isEmpty || chance(0.3) { measurements.append(.probs(Array(0..<min(2, wires)))) }
        let c = Circuit(qubits: wires, gates: gates, measurements: measurements)
        var weights: [Int: String] = [:]
        for op in 0..<weightOperands { weights[op + 1] = weightName() }
        var operands: [ValueID?] = [x]
        for _ in 0..<weightOperands { operands.append(nil) }
        return node("circuit", operands, weights: weights, ["wires": .int(wires), "body": .circuit(c)])
    }
}
