import Foundation
import QEMLIR
import QEMLTensor

/// The circuit op: a plain double-precision state-vector simulation per sample. Deliberately
/// small and separate from QEMLQuantum's fast simulator, so each checks the other.
extension Interpreter {
    static let circuitKernels: [String: ReferenceKernel] = [
        "circuit": { node, operands, _ in [try circuit(node, operands)] },
    ]

    static func circuit(_ node: Node, _ operands: [Tensor?]) throws(Diagnostic) -> Tensor {
        let x = try operand(operands, 0, node)
        guard let body = node.attr("body")?.circuit else { throw kernelError(node, "the circuit has no body") }
        guard x.rank == 2 else { throw kernelError(node, "the input must be [N,k], got \(describeShape(x.shape))") }
        guard body.qubits >= 1, body.qubits <= 20 else { throw kernelError(node, "\(body.qubits) qubits is outside 1…20 for the reference simulator") }
        let (n, k) = (x.shape[0], x.shape[1])
        var out: [Float] = []
        for b in 0..<n {
            func angle(_ p: GateParam) throws(Diagnostic) -> Double {
                switch p {
                case .constant(let v): return v
                case .input(let col):
                    guard col >= 0, col < k else { throw kernelError(node, "a gate reads input column \(col) of a [\(n),\(k)] input") }
                    return Double(x.data[b * k + col])
                case .weight(let op, let index):
                    guard op >= 1, op < operands.count, let w = operands[op] else { throw kernelError(node, "a gate reads weight operand \(op), which is missing") }
                    guard index.count == w.rank, zip(index, w.shape).allSatisfy({ $0 >= 0 && $0 < $1 }) else {
                        throw kernelError(node, "a gate reads index \(index) of a weight of shape \(describeShape(w.shape))")
                    }
                    return Double(w.data[zip(index, w.strides).reduce(0) { $0 + $1.0 * $1.1 }])
                }
            }
            var state = ReferenceStateVector(qubits: body.qubits)
            for g in body.gates {
                guard g.wires.count == g.kind.wireCount, g.wires.allSatisfy({ $0 >= 0 && $0 < body.qubits }),
                      Set(g.wires).count == g.wires.count, g.params.count == g.kind.parameterCount else {
                    throw kernelError(node, "gate \(g.kind.rawValue) on wires \(g.wires) with \(g.params.count) parameters is malformed")
                }
                var a: [Double] = []
                for p in g.params { a.append(try angle(p)) }
                state.apply(g.kind, wires: g.wires, angles: a)
            }
            for m in body.measurements {
                switch m {
                case .expval(let pauli, let wire):
                    guard wire >= 0, wire < body.qubits else { throw kernelError(node, "measurement on wire \(wire) of \(body.qubits)") }
                    out.append(Float(state.expval(pauli, wire: wire)))
                case .probs(let wires):
                    guard wires.allSatisfy({ $0 >= 0 && $0 < body.qubits }) else { throw kernelError(node, "probs on wires \(wires) of \(body.qubits)") }
                    out.append(contentsOf: state.probabilities(wires).map(Float.init))
                }
            }
        }
        return Tensor(shape: [n, body.outputWidth], data: out)
    }
}

/// 2^n complex amplitudes; wire 0 is the most significant bit of the basis index (PennyLane).
struct ReferenceStateVector {
    let qubits: Int
    var re: [Double]
    var im: [Double]

    init(qubits: Int) {
        self.qubits = qubits
        re = [Double](repeating: 0, count: 1 << qubits)
        im = re
        re[0] = 1
    }

    private func mask(_ wire: Int) -> Int { 1 << (qubits - 1 - wire) }

    /// Applies the 2×2 matrix [[m00, m01], [m10, m11]] (pairs re, im) to `wire`, on the basis
    /// states where every wire in `controls` is 1.
    mutating func apply(_ m: [(Double, Double)], wire: Int, controls: [Int] = []) {
        let t = mask(wire)
        let c = controls.reduce(0) { $0 | mask($1) }
        let ((ar, ai), (br, bi), (cr, ci), (dr, di)) = (m[0], m[1], m[2], m[3])
        let count = re.count
        // Raw pointers and `while`: a 16-qubit state is 65 536 amplitudes and tests run in debug builds.
        re.withUnsafeMutableBufferPointer { rp in
            im.withUnsafeMutableBufferPointer { ip in
                guard let re = rp.baseAddress, let im = ip.baseAddress else { return }
                var i = 0
                while i < count {
                    if i & t == 0 && i & c == c {
                        let j = i | t
                        let (a0r, a0i, a1r, a1i) = (re[i], im[i], re[j], im[j])
                        re[i] = ar * a0r - ai * a0i + br * a1r - bi * a1i
                        im[i] = ar * a0i + ai * a0r + br * a1i + bi * a1r
                        re[j] = cr * a0r - ci * a0i + dr * a1r - di * a1i
                        im[j] = cr * a0i + ci * a0r + dr * a1i + di * a1r
                    }
                    i += 1
                }
            }
        }
    }

    mutating func apply(_ kind: GateKind, wires: [Int], angles a: [Double]) {
        switch kind {
        case .rx, .ry, .rz, .phaseshift, .h, .x, .y, .z, .s, .t:
            apply(ReferenceStateVector.matrix(kind, a.first ?? 0), wire: wires[0])
        case .rot:
            // Rot(φ, θ, ω) = RZ(ω) RY(θ) RZ(φ): RZ(φ) acts first.
            apply(ReferenceStateVector.matrix(.rz, a[0]), wire: wires[0])
            apply(ReferenceStateVector.matrix(.ry, a[1]), wire: wires[0])
            apply(ReferenceStateVector.matrix(.rz, a[2]), wire: wires[0])
        case .cnot: apply(ReferenceStateVector.matrix(.x, 0), wire: wires[1], controls: [wires[0]])
        case .cz: apply(ReferenceStateVector.matrix(.z, 0), wire: wires[1], controls: [wires[0]])
        case .crx: apply(ReferenceStateVector.matrix(.rx, a[0]), wire: wires[1], controls: [wires[0]])
        case .cry: apply(ReferenceStateVector.matrix(.ry, a[0]), wire: wires[1], controls: [wires[0]])
        case .crz: apply(ReferenceStateVector.matrix(.rz, a[0]), wire: wires[1], controls: [wires[0]])
        case .swap:
            let (m0, m1) = (mask(wires[0]), mask(wires[1]))
            for i in 0..<re.count where i & m0 != 0 && i & m1 == 0 {
                let j = (i & ~m0) | m1
                re.swapAt(i, j)
                im.swapAt(i, j)
            }
        }
    }

    /// Single-qubit matrices, row-major, PennyLane's definitions.
    static func matrix(_ kind: GateKind, _ theta: Double) -> [(Double, Double)] {
        let c = cos(theta / 2), s = sin(theta / 2), r = 1 / 2.0.squareRoot()
        switch kind {
        case .rx: return [(c, 0), (0, -s), (0, -s), (c, 0)]  // exp(−iθX/2)
        case .ry: return [(c, 0), (-s, 0), (s, 0), (c, 0)]  // exp(−iθY/2)
        case .rz: return [(c, -s), (0, 0), (0, 0), (c, s)]  // diag(e^{−iθ/2}, e^{iθ/2})
        case .phaseshift: return [(1, 0), (0, 0), (0, 0), (cos(theta), sin(theta))]
        case .h: return [(r, 0), (r, 0), (r, 0), (-r, 0)]
        case .x: return [(0, 0), (1, 0), (1, 0), (0, 0)]
        case .y: return [(0, 0), (0, -1), (0, 1), (0, 0)]
        case .z: return [(1, 0), (0, 0), (0, 0), (-1, 0)]
        case .s: return [(1, 0), (0, 0), (0, 0), (0, 1)]
        case .t: return [(1, 0), (0, 0), (0, 0), (r, r)]
        default: return [(1, 0), (0, 0), (0, 0), (1, 0)]
        }
    }

    func expval(_ p: Pauli, wire: Int) -> Double {
        let t = mask(wire)
        var sum = 0.0
        for i in 0..<re.count where i & t == 0 {
            let j = i | t
            switch p {
            case .z: sum += re[i] * re[i] + im[i] * im[i] - re[j] * re[j] - im[j] * im[j]
            case .x: sum += 2 * (re[i] * re[j] + im[i] * im[j])  // 2 Re(conj(a_i) a_j)
            case .y: sum += 2 * (re[i] * im[j] - im[i] * re[j])  // 2 Im(conj(a_i) a_j)
            }
        }
        return sum
    }

    /// Probabilities of the basis states of `wires`, wires[0] most significant.
    func probabilities(_ wires: [Int]) -> [Double] {
        var p = [Double](repeating: 0, count: 1 << wires.count)
        for i in 0..<re.count {
            var k = 0
            for w in wires { k = k << 1 | (i & mask(w) != 0 ? 1 : 0) }
            p[k] += re[i] * re[i] + im[i] * im[i]
        }
        return p
    }
}
