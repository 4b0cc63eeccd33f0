import Foundation
import QEMLIR

/// A dense square complex matrix acting on `qubits` wires, row-major, wires[0] of the gate as the
/// most significant bit of the row/column index (PennyLane's ordering).
public struct GateMatrix: Hashable, Sendable {
    public let qubits: Int
    public var entries: [Complex]

    public var dimension: Int { 1 << qubits }

    public init(qubits: Int, entries: [Complex]) {
        self.qubits = qubits
        self.entries = entries
    }

    public static func identity(qubits: Int) -> GateMatrix {
        let d = 1 << qubits
        var e = [Complex](repeating: .zero, count: d * d)
        for i in 0..<d { e[i * d + i] = .one }
        return GateMatrix(qubits: qubits, entries: e)
    }

    public subscript(row: Int, column: Int) -> Complex {
        get { entries[row * dimension + column] }
        set { entries[row * dimension + column] = newValue }
    }

    /// Matrix product `self · other` (apply `other` first).
    public static func * (a: GateMatrix, b: GateMatrix) -> GateMatrix {
        let d = a.dimension
        var out = [Complex](repeating: .zero, count: d * d)
        for i in 0..<d {
            for k in 0..<d {
                let aik = a.entries[i * d + k]
                if aik == .zero { continue }
                for j in 0..<d { out[i * d + j] += aik * b.entries[k * d + j] }
            }
        }
        return GateMatrix(qubits: a.qubits, entries: out)
    }

    public var adjoint: GateMatrix {
        let d = dimension
        var out = entries
        for i in 0..<d { for j in 0..<d { out[j * d + i] = entries[i * d + j].conjugate } }
        return GateMatrix(qubits: qubits, entries: out)
    }

    /// True when every entry is real (imaginary parts below `tolerance`).
    public func isReal(tolerance: Double = 0) -> Bool { entries.allSatisfy { abs($0.im) <= tolerance } }

    /// True when only the diagonal is non-zero.
    public var isDiagonal: Bool {
        let d = dimension
        for i in 0..<d { for j in 0..<d where i != j && entries[i * d + j] != .zero { return false } }
        return true
    }
}

extension GateMatrix {
    /// The matrix of a gate in PennyLane's conventions; `angles` has `kind.parameterCount` values.
    /// For two-qubit gates wires[0] is the control (most significant bit).
    public static func of(_ kind: GateKind, _ angles: [Double]) -> GateMatrix {
        let d = 1 << kind.wireCount
        var entries = [Complex](repeating: .zero, count: d * d)
        let a = (angles.count > 0 ? angles[0] : 0, angles.count > 1 ? angles[1] : 0, angles.count > 2 ? angles[2] : 0)
        entries.withUnsafeMutableBufferPointer { write(kind, a, into: $0.baseAddress!) }
        return GateMatrix(qubits: kind.wireCount, entries: entries)
    }

    /// Writes the gate's 2^k × 2^k matrix (row-major) at `out` without allocating: the per-sample
    /// path of input-dependent gates. `angles` holds the first `kind.parameterCount` angles.
    public static func write(_ kind: GateKind, _ angles: (Double, Double, Double), into out: UnsafeMutablePointer<Complex>) {
        if kind.wireCount == 1 {
            let m = single(kind, angles)
            out[0] = m.0; out[1] = m.1; out[2] = m.2; out[3] = m.3
            return
        }
        for i in 0..<16 { out[i] = i % 5 == 0 ? .one : .zero }
        let u: (Complex, Complex, Complex, Complex)
        switch kind {
        case .cnot: u = single(.x, angles)
        case .cz: u = single(.z, angles)
        case .crx: u = single(.rx, angles)
        case .cry: u = single(.ry, angles)
        case .crz: u = single(.rz, angles)
        case .swap:
            out[5] = .zero; out[6] = .one; out[9] = .one; out[10] = .zero
            return
        default: return
        }
        // |0⟩⟨0| ⊗ I + |1⟩⟨1| ⊗ U, the control on the most significant bit.
        out[10] = u.0; out[11] = u.1; out[14] = u.2; out[15] = u.3
    }

    /// A single-qubit gate's 2×2 matrix, row-major.
    private static func single(_ kind: GateKind, _ a: (Double, Double, Double)) -> (Complex, Complex, Complex, Complex) {
        let r = 1 / 2.0.squareRoot()
        switch kind {
        case .rx:
            let c = cos(a.0 / 2), s = sin(a.0 / 2)
            return (Complex(c), Complex(0, -s), Complex(0, -s), Complex(c))
        case .ry:
            let c = cos(a.0 / 2), s = sin(a.0 / 2)
            return (Complex(c), Complex(-s), Complex(s), Complex(c))
        case .rz: return (.phase(-a.0 / 2), .zero, .zero, .phase(a.0 / 2))
        case .rot:
            // Rot(φ,θ,ω) = RZ(ω) RY(θ) RZ(φ)
            return product(product(single(.rz, (a.2, 0, 0)), single(.ry, (a.1, 0, 0))), single(.rz, (a.0, 0, 0)))
        case .phaseshift: return (.one, .zero, .zero, .phase(a.0))
        case .h: return (Complex(r), Complex(r), Complex(r), Complex(-r))
        case .x: return (.zero, .one, .one, .zero)
        case .y: return (.zero, Complex(0, -1), .i, .zero)
        case .z: return (.one, .zero, .zero, Complex(-1))
        case .s: return (.one, .zero, .zero, .i)
        case .t: return (.one, .zero, .zero, .phase(Double.pi / 4))
        case .cnot, .cz, .swap, .crx, .cry, .crz: return (.one, .zero, .zero, .one)
        }
    }

    private static func product(_ a: (Complex, Complex, Complex, Complex), _ b: (Complex, Complex, Complex, Complex)) -> (Complex, Complex, Complex, Complex) {
        (a.0 * b.0 + a.1 * b.2, a.0 * b.1 + a.1 * b.3, a.2 * b.0 + a.3 * b.2, a.2 * b.1 + a.3 * b.3)
    }

    /// |0⟩⟨0| ⊗ I + |1⟩⟨1| ⊗ U, the control on the most significant bit.
    public static func controlled(_ u: GateMatrix) -> GateMatrix {
        var m = GateMatrix.identity(qubits: 2)
        m[2, 2] = u[0, 0]; m[2, 3] = u[0, 1]; m[3, 2] = u[1, 0]; m[3, 3] = u[1, 1]
        return m
    }

    /// The single-qubit Pauli matrix.
    public static func pauli(_ p: Pauli) -> GateMatrix {
        switch p {
        case .x: return of(.x, [])
        case .y: return of(.y, [])
        case .z: return of(.z, [])
        }
    }
}
