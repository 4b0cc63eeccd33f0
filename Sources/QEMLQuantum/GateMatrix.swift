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
        func m2(_ a: Complex, _ b: Complex, _ c: Complex, _ d: Complex) -> GateMatrix {
            GateMatrix(qubits: 1, entries: [a, b, c, d])
        }
        let r = 1 / 2.0.squareRoot()
        switch kind {
        case .rx:
            let c = cos(angles[0] / 2), s = sin(angles[0] / 2)
            return m2(Complex(c), Complex(0, -s), Complex(0, -s), Complex(c))
        case .ry:
            let c = cos(angles[0] / 2), s = sin(angles[0] / 2)
            return m2(Complex(c), Complex(-s), Complex(s), Complex(c))
        case .rz:
            return m2(.phase(-angles[0] / 2), .zero, .zero, .phase(angles[0] / 2))
        case .rot:
            // Rot(φ,θ,ω) = RZ(ω) RY(θ) RZ(φ)
            return of(.rz, [angles[2]]) * of(.ry, [angles[1]]) * of(.rz, [angles[0]])
        case .phaseshift:
            return m2(.one, .zero, .zero, .phase(angles[0]))
        case .h: return m2(Complex(r), Complex(r), Complex(r), Complex(-r))
        case .x: return m2(.zero, .one, .one, .zero)
        case .y: return m2(.zero, Complex(0, -1), .i, .zero)
        case .z: return m2(.one, .zero, .zero, Complex(-1))
        case .s: return m2(.one, .zero, .zero, .i)
        case .t: return m2(.one, .zero, .zero, .phase(Double.pi / 4))
        case .cnot: return controlled(of(.x, []))
        case .cz: return controlled(of(.z, []))
        case .crx: return controlled(of(.rx, angles))
        case .cry: return controlled(of(.ry, angles))
        case .crz: return controlled(of(.rz, angles))
        case .swap:
            var m = GateMatrix(qubits: 2, entries: [Complex](repeating: .zero, count: 16))
            m[0, 0] = .one; m[1, 2] = .one; m[2, 1] = .one; m[3, 3] = .one
            return m
        }
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
