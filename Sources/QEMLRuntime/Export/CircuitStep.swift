import QEMLIR
import QEMLTensor

/// A `circuit` node the plan evaluates on a state vector (the JIT runs the compiled cache-blocked
/// kernel, or QEMLQuantum's Swift evaluator when none is compiled; folded-observables circuits are
/// generated kernels and never reach this type) as generated C:
/// the gate list unrolled into calls on a double-precision state vector, angles read from the
/// input row, from the weights file (the circuit's weight operands are blocks of their own, so
/// retrained weights need no new code) or written as constants. Same conventions as the
/// interpreter's kernel: wire 0 is the most significant bit (PennyLane).
struct CircuitStep {
    let qubits: Int
    let gates: [Gate]
    let measurements: [QEMLIR.Measurement]
    let inputWidth: Int
    let outputWidth: Int
    /// The weight operands' data, in operand order (operand `op` is block `firstBlock + blockOf[op]`).
    let weightBlocks: [[Float]]
    let firstBlock: Int
    private let blockOf: [Int: Int]
    private let strides: [Int: [Int]]

    init(_ f: FallbackStep, firstBlock: Int) throws {
        guard let body = f.node.attr("body")?.circuit else { throw ExportError("circuit %\(f.node.results.first.map { f.graph[$0].name } ?? "?") has no body") }
        guard (1...12).contains(body.qubits) else {
            throw ExportError("a circuit of \(body.qubits) qubits is too large for the exported runtime's state vector (at most 12)")
        }
        guard case .slot(_, let inStorage, _)? = f.sources.first ?? nil, inStorage.height == 1, inStorage.width == 1 else {
            throw ExportError("the circuit's input must be an activation of shape [N,k]")
        }
        qubits = body.qubits
        gates = body.gates
        measurements = body.measurements
        inputWidth = inStorage.channels
        outputWidth = body.outputWidth
        self.firstBlock = firstBlock
        var blocks: [[Float]] = [], blockOf: [Int: Int] = [:], strides: [Int: [Int]] = [:]
        for (op, source) in f.sources.enumerated() {
            if case .weight(let t)? = source {
                blockOf[op] = blocks.count
                strides[op] = t.strides
                blocks.append(t.data)
            }
        }
        weightBlocks = blocks
        self.blockOf = blockOf
        self.strides = strides
        // Validate every gate now: the generated code has no checks.
        for g in gates {
            guard g.wires.count == g.kind.wireCount, g.wires.allSatisfy({ (0..<qubits).contains($0) }),
                  Set(g.wires).count == g.wires.count, g.params.count == g.kind.parameterCount else {
                throw ExportError("circuit gate \(g.kind.rawValue) on wires \(g.wires) is malformed")
            }
            for p in g.params { _ = try angle(p, weights: "w") }
        }
        for m in measurements {
            switch m {
            case .expval(_, let w): guard (0..<qubits).contains(w) else { throw ExportError("circuit measures wire \(w) of \(qubits)") }
            case .probs(let ws): guard ws.allSatisfy({ (0..<qubits).contains($0) }) else { throw ExportError("circuit probs on wires \(ws) of \(qubits)") }
            }
        }
    }

    /// A C expression for a gate angle; `weights` names the `const float *` of the first block,
    /// `in` the input row.
    func angle(_ p: GateParam, weights: String) throws -> String {
        switch p {
        case .constant(let v): return cDouble(v)
        case .input(let col):
            guard col >= 0, col < inputWidth else { throw ExportError("a circuit gate reads input column \(col) of \(inputWidth)") }
            return "(double)in[\(col)]"
        case .weight(let op, let index):
            guard let b = blockOf[op], let s = strides[op], index.count == s.count else {
                throw ExportError("a circuit gate reads weight operand \(op) at \(index), which does not exist")
            }
            let shape = weightBlocks[b].count
            let flat = zip(index, s).reduce(0) { $0 + $1.0 * $1.1 }
            guard index.allSatisfy({ $0 >= 0 }), flat < shape else { throw ExportError("a circuit gate reads weight index \(index) out of range") }
            return "(double)\(weights)\(b)[\(flat)]"
        }
    }

    /// What identifies the generated code (for the model hash).
    var signature: String {
        "\(qubits) \(inputWidth)→\(outputWidth) " + gates.map { "\($0.kind.rawValue)\($0.wires)\($0.params)" }.joined(separator: ";")
            + " " + weightBlocks.map { "\($0.count)" }.joined(separator: ",") + " \(measurements)"
    }

    /// The C function `name(const float *in, float *out, const float *const *w)` for this circuit;
    /// `lanes` is the blocked layout's vector width (padded output lanes are zeroed).
    func cFunction(name: String, lanes: Int) throws -> String {
        var lines: [String] = []
        lines.append("static void \(name)(const float *in, float *out, const float *const *wb) {")
        lines.append("    double re[\(1 << qubits)] = {1.0}, im[\(1 << qubits)] = {0.0};")
        for b in weightBlocks.indices { lines.append("    const float *w\(b) = wb[\(b)];") }
        for b in weightBlocks.indices { lines.append("    (void)w\(b);") }
        let q = qubits
        func mask(_ w: Int) -> Int { 1 << (q - 1 - w) }
        for g in gates {
            let a = try g.params.map { try angle($0, weights: "w") }
            let w = g.wires
            switch g.kind {
            case .rot:
                lines.append("    q_rz(re, im, \(q), \(mask(w[0])), 0, \(a[0]));")
                lines.append("    q_ry(re, im, \(q), \(mask(w[0])), 0, \(a[1]));")
                lines.append("    q_rz(re, im, \(q), \(mask(w[0])), 0, \(a[2]));")
            case .rx, .ry, .rz, .phaseshift:
                lines.append("    q_\(g.kind.rawValue)(re, im, \(q), \(mask(w[0])), 0, \(a[0]));")
            case .h, .x, .y, .z, .s, .t:
                lines.append("    q_fixed(re, im, \(q), \(mask(w[0])), 0, Q_\(g.kind.rawValue.uppercased()));")
            case .cnot: lines.append("    q_fixed(re, im, \(q), \(mask(w[1])), \(mask(w[0])), Q_X);")
            case .cz: lines.append("    q_fixed(re, im, \(q), \(mask(w[1])), \(mask(w[0])), Q_Z);")
            case .crx, .cry, .crz:
                lines.append("    q_\(g.kind.rawValue.dropFirst())(re, im, \(q), \(mask(w[1])), \(mask(w[0])), \(a[0]));")
            case .swap: lines.append("    q_swap(re, im, \(q), \(mask(w[0])), \(mask(w[1])));")
            }
        }
        var k = 0
        for m in measurements {
            switch m {
            case .expval(let p, let wire):
                lines.append("    out[\(k)] = (float)q_expval_\(p.rawValue)(re, im, \(q), \(mask(wire)));")
                k += 1
            case .probs(let ws):
                let masks = ws.map { String(mask($0)) }.joined(separator: ", ")
                lines.append("    { static const int m[] = {\(masks)}; q_probs(re, im, \(q), m, \(ws.count), out + \(k)); }")
                k += 1 << ws.count
            }
        }
        let padded = (outputWidth + lanes - 1) / lanes * lanes
        if padded > outputWidth { lines.append("    for (int i = \(outputWidth); i < \(padded); i++) out[i] = 0.0f;") }
        lines.append("}")
        return lines.joined(separator: "\n")
    }
}

/// A double as a C literal that reads back exactly.
func cDouble(_ v: Double) -> String {
    if v.isNaN { return "(0.0/0.0)" }
    if v.isInfinite { return v > 0 ? "(1.0/0.0)" : "(-1.0/0.0)" }
    return "\(v)"  // Swift prints the shortest round-tripping form (e.g. 0.1, 1e-05)
}

/// A float as a C literal that reads back exactly.
func cFloat(_ v: Float) -> String {
    if v.isNaN { return "(0.0f/0.0f)" }
    if v.isInfinite { return v > 0 ? "(1.0f/0.0f)" : "(-1.0f/0.0f)" }
    let s = "\(v)"
    return s.contains(".") || s.contains("e") ? s + "f" : s + ".0f"
}
