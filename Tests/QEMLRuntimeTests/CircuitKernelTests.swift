import XCTest
import QEMLIR
import QEMLTensor
@testable import QEMLRuntime

/// The circuit kernel against closed forms (PennyLane conventions).
final class CircuitKernelTests: XCTestCase {
    func run(_ c: Circuit, input: Tensor, weights: [Tensor] = []) throws -> Tensor {
        var operands: [Operand] = [.input(input)]
        operands += weights.map { .weight($0) }
        return try runOp("circuit", operands, [("wires", .int(c.qubits)), ("body", .circuit(c))])[0]
    }

    func testRotationsClosedForm() throws {
        let thetas: [Float] = [0.3, -1.2, 2.5]
        // RY(θ)|0⟩: ⟨Z⟩ = cos θ, ⟨X⟩ = sin θ, ⟨Y⟩ = 0. RX(θ)|0⟩: ⟨Y⟩ = −sin θ.
        let c = Circuit(qubits: 2, gates: [Gate(.ry, wires: [0], params: [.input(column: 0)]), Gate(.rx, wires: [1], params: [.input(column: 0)])],
                        measurements: [.expval(.z, wire: 0), .expval(.x, wire: 0), .expval(.y, wire: 0), .expval(.y, wire: 1), .expval(.z, wire: 1)])
        let y = try run(c, input: Tensor(shape: [3, 1], data: thetas))
        var expected: [Float] = []
        for t in thetas.map(Double.init) { expected += [cos(t), sin(t), 0, -sin(t), cos(t)].map { Float($0) } }
        assertClose(y, Tensor(shape: [3, 5], data: expected), tolerance: 1e-6)
    }

    func testRotEqualsRZRYRZ() throws {
        // Rot(φ,θ,ω) on |+⟩: compare to the three rotations written out, with angles from a weight.
        let w = Tensor(shape: [1, 3], data: [0.4, 1.1, -0.7])
        let ms: [QEMLIR.Measurement] = [.expval(.x, wire: 0), .expval(.y, wire: 0), .expval(.z, wire: 0)]
        let a = Circuit(qubits: 1, gates: [Gate(.h, wires: [0]), Gate(.rot, wires: [0], params: [.weight(operand: 1, index: [0, 0]), .weight(operand: 1, index: [0, 1]), .weight(operand: 1, index: [0, 2])])], measurements: ms)
        let b = Circuit(qubits: 1, gates: [Gate(.h, wires: [0]), Gate(.rz, wires: [0], params: [.constant(0.4)]), Gate(.ry, wires: [0], params: [.constant(1.1)]), Gate(.rz, wires: [0], params: [.constant(-0.7)])], measurements: ms)
        let ya = try run(a, input: Tensor(shape: [1, 1], data: [0]), weights: [w])
        let yb = try run(b, input: Tensor(shape: [1, 1], data: [0]))
        assertClose(ya, yb, tolerance: 1e-6)
        // Closed form: RZ(φ) on |+⟩ then RY(θ): ⟨Z⟩ = −sin θ cos φ; RZ(ω) keeps ⟨Z⟩.
        XCTAssertEqual(Double(ya.data[2]), -sin(1.1) * cos(0.4), accuracy: 1e-6)
    }

    func testEntanglingGatesAndProbs() throws {
        // H(0), CNOT(0,1): Bell state. Wire 0 is the most significant bit.
        let bell = Circuit(qubits: 2, gates: [Gate(.h, wires: [0]), Gate(.cnot, wires: [0, 1])], measurements: [.probs([0, 1]), .expval(.z, wire: 1)])
        assertClose(try run(bell, input: Tensor(shape: [1, 1], data: [0])), Tensor(shape: [1, 5], data: [0.5, 0, 0, 0.5, 0]))
        // X(0) then probs: |10⟩ → index 2.
        let x0 = Circuit(qubits: 2, gates: [Gate(.x, wires: [0])], measurements: [.probs([0, 1]), .probs([1, 0])])
        XCTAssertEqual(try run(x0, input: Tensor(shape: [1, 1], data: [0])).data, [0, 0, 1, 0, 0, 1, 0, 0])
        // SWAP moves it to wire 1; CZ on |11⟩ is a phase only; CRX with control 0 rotates wire 1.
        let sw = Circuit(qubits: 2, gates: [Gate(.x, wires: [0]), Gate(.swap, wires: [0, 1])], measurements: [.probs([0, 1])])
        XCTAssertEqual(try run(sw, input: Tensor(shape: [1, 1], data: [0])).data, [0, 1, 0, 0])
        let crx = Circuit(qubits: 2, gates: [Gate(.x, wires: [0]), Gate(.crx, wires: [0, 1], params: [.input(column: 0)])],
                          measurements: [.expval(.z, wire: 1), .expval(.y, wire: 1)])
        let t = 0.9
        assertClose(try run(crx, input: Tensor(shape: [1, 1], data: [Float(t)])), Tensor(shape: [1, 2], data: [Float(cos(t)), Float(-sin(t))]))
        // Control on wire 1, target wire 0.
        let cry = Circuit(qubits: 2, gates: [Gate(.x, wires: [1]), Gate(.cry, wires: [1, 0], params: [.constant(1)])], measurements: [.expval(.z, wire: 0), .expval(.x, wire: 0)])
        assertClose(try run(cry, input: Tensor(shape: [1, 1], data: [0])), Tensor(shape: [1, 2], data: [Float(cos(1.0)), Float(sin(1.0))]))
        // Control off: CRZ does nothing visible, CZ neither.
        let off = Circuit(qubits: 2, gates: [Gate(.h, wires: [1]), Gate(.crz, wires: [0, 1], params: [.constant(2)]), Gate(.cz, wires: [0, 1])], measurements: [.expval(.x, wire: 1)])
        assertClose(try run(off, input: Tensor(shape: [1, 1], data: [0])), Tensor(shape: [1, 1], data: [1]))
    }

    func testPhaseGates() throws {
        // On |+⟩, a phase φ gives ⟨X⟩ = cos φ, ⟨Y⟩ = sin φ: S (π/2), T (π/4), PhaseShift, Z (π), RZ (φ up to global phase).
        let cases: [(Gate, Double)] = [(Gate(.s, wires: [0]), .pi / 2), (Gate(.t, wires: [0]), .pi / 4), (Gate(.z, wires: [0]), .pi),
                                       (Gate(.phaseshift, wires: [0], params: [.constant(0.3)]), 0.3), (Gate(.rz, wires: [0], params: [.constant(-1.3)]), -1.3)]
        for (g, phi) in cases {
            let c = Circuit(qubits: 1, gates: [Gate(.h, wires: [0]), g], measurements: [.expval(.x, wire: 0), .expval(.y, wire: 0)])
            assertClose(try run(c, input: Tensor(shape: [1, 1], data: [0])), Tensor(shape: [1, 2], data: [Float(cos(phi)), Float(sin(phi))]), tolerance: 1e-6, "\(g.kind)")
        }
        // Y|0⟩ = i|1⟩.
        let y = Circuit(qubits: 1, gates: [Gate(.y, wires: [0])], measurements: [.expval(.z, wire: 0)])
        XCTAssertEqual(try run(y, input: Tensor(shape: [1, 1], data: [0])).data, [-1])
    }
}
