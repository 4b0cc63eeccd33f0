import TestSupport
import XCTest
import QEMLIR
import QEMLQuantum
@testable import QEMLCodegen

/// The compiled cache-blocked state-vector kernel (double precision) against PennyLane's vectors
/// (1e-10) and against the reference simulator on random circuits of every gate kind, over qubit
/// counts, stage sizes (one in-place stage, contiguous chunks, gathered stages) and vector widths
/// of 1, 2, 4 and 8 doubles.
final class StateVectorKernelTests: XCTestCase {
    /// A random program of every gate kind; angles from the input, fixed, or both.
    func randomCircuit(qubits n: Int, gates count: Int, _ rng: inout Reference.RNG) -> BoundCircuit {
        let width = 3
        let kinds = GateKind.allCases
        var gates: [BoundGate] = []
        for _ in 0..<count {
            let kind = rng.pick(kinds)
            var wires = [rng.int(0...(n - 1))]
            if kind.wireCount == 2 { wires.append((wires[0] + rng.int(1...(n - 1))) % n) }
            let angles: [Angle] = (0..<kind.parameterCount).map { _ in
                rng.int(0...2) == 0 ? .input(column: rng.int(0...(width - 1))) : .fixed(Double(rng.float(-3.2, 3.2)))
            }
            gates.append(BoundGate(kind, wires: wires, angles: angles))
        }
        let measurements: [QEMLIR.Measurement] = (0..<n).map { .expval(.z, wire: $0) }
            + [.expval(.x, wire: rng.int(0...(n - 1))), .expval(.y, wire: rng.int(0...(n - 1))), .probs([n - 1, 0])]
        return BoundCircuit(qubits: n, inputWidth: width, gates: gates, measurements: measurements)
    }

    func compiled(_ c: BoundCircuit, localQubits: Int? = nil, lanes: Int? = nil) throws -> CompiledStateVector {
        try CompiledStateVector(CircuitPlan(c).unfused, cache: nil, localQubits: localQubits, lanes: lanes)
    }

    func testMatchesPennyLane() throws {
        // Configurations rotate over the checks; with few local qubits the random circuits run
        // in many stages, most of them gathered.
        let configurations: [(lanes: Int, local: (Int) -> Int?)] = [
            (8, { _ in nil }), (8, { max(5, $0 - 3) }), (4, { max(4, $0 - 2) }), (2, { max(3, $0 - 4) }),
        ]
        var checked = 0, staged = 0, gathered = 0
        for (i, check) in try pennyLaneChecks().enumerated() {
            let config = configurations[i % configurations.count]
            let kernel = try compiled(check.circuit, localQubits: config.local(check.circuit.qubits), lanes: config.lanes)
            let got = kernel.run(inputs: check.inputs, batch: check.batch)
            XCTAssertEqual(got.count, check.expected.count, check.label)
            let worst = Agreement.absolute(got, check.expected)
            XCTAssertLessThan(worst, 1e-10, "\(check.label): lanes \(config.lanes), \(kernel.schedule.stages.count) stages")
            checked += 1
            if kernel.schedule.stages.count > 1 { staged += 1 }
            if kernel.schedule.stages.contains(where: { !$0.isContiguous }) { gathered += 1 }
        }
        XCTAssertGreaterThan(checked, 40)
        XCTAssertGreaterThan(staged, 5)
        XCTAssertGreaterThan(gathered, 5)
    }

    func testMatchesReferenceSimulatorOverShapes() throws {
        var rng = Reference.RNG(41)
        var gathered = 0
        for trial in 0..<36 {
            let n = rng.int(2...11)
            let lanes = [1, 2, 4, 8][trial % 4]
            let circuit = randomCircuit(qubits: n, gates: rng.int(1...80), &rng)
            let local = trial % 3 == 0 ? nil : rng.int(1...n)
            let batch = rng.int(1...3)
            let inputs = (0..<(batch * circuit.inputWidth)).map { _ in Double(rng.float(-7, 7)) }
            let expected = StateVectorSimulator.run(circuit, inputs: inputs, batch: batch)
            let kernel = try compiled(circuit, localQubits: local, lanes: lanes)
            let got = kernel.run(inputs: inputs, batch: batch)
            let worst = Agreement.absolute(got, expected)
            XCTAssertEqual(got.count, expected.count)
            XCTAssertLessThan(worst, 1e-12, "trial \(trial): \(n) qubits, \(circuit.gates.count) gates, lanes \(lanes), local \(local.map(String.init) ?? "default")")
            if kernel.schedule.stages.contains(where: { !$0.isContiguous }) { gathered += 1 }
        }
        XCTAssertGreaterThan(gathered, 3)
    }

    func testCircuitWithoutGates() throws {
        let c = BoundCircuit(qubits: 5, inputWidth: 1, gates: [], measurements: [.expval(.z, wire: 0), .expval(.x, wire: 4), .probs([0, 1])])
        XCTAssertEqual(try compiled(c).run(inputs: [0.5, 1.5], batch: 2), [1, 0, 1, 0, 0, 0, 1, 0, 1, 0, 0, 0])
    }

    /// A kernel serves several threads at once (each call has its own workspace).
    func testConcurrentCallsAgree() throws {
        var rng = Reference.RNG(7)
        let circuit = randomCircuit(qubits: 10, gates: 60, &rng)
        let kernel = try compiled(circuit, localQubits: 7)
        let inputs = (0..<(8 * circuit.inputWidth)).map { _ in Double(rng.float(-3, 3)) }
        let expected = kernel.run(inputs: inputs, batch: 8)
        let results = ResultBox(count: 4)
        DispatchQueue.concurrentPerform(iterations: 4) { i in results.set(i, kernel.run(inputs: inputs, batch: 8)) }
        for r in results.values { XCTAssertEqual(r, expected) }
    }

    /// Stages split into parts (chunk ranges, each part with its own buffer) give the same bits.
    func testChunkPartsAgreeWithOneThread() throws {
        var rng = Reference.RNG(12)
        let circuit = randomCircuit(qubits: 11, gates: 90, &rng)
        let kernel = try compiled(circuit, localQubits: 6)
        XCTAssertGreaterThan(kernel.schedule.stages.count, 2)
        let inputs = (0..<(2 * circuit.inputWidth)).map { _ in Double(rng.float(-3, 3)) }
        let one = kernel.run(inputs: inputs, batch: 2)
        for parts in [2, 3, 5] {
            let dispatched = Counter()
            let split = kernel.run(inputs: inputs, batch: 2, parts: parts) { work in
                dispatched.add()
                DispatchQueue.concurrentPerform(iterations: parts) { work($0) }
            }
            XCTAssertEqual(split, one, "\(parts) parts")
            XCTAssertGreaterThan(dispatched.value, 0, "no stage was split")
        }
    }

    func testAssemblyIsVectorCode() throws {
        var rng = Reference.RNG(3)
        let program = CircuitPlan(randomCircuit(qubits: 9, gates: 20, &rng)).unfused
        let asm = try CompiledStateVector.assembly(program, target: try .named("x86-64-avx2"), localQubits: 7)
        XCTAssertTrue(asm.contains("vfmadd"), "no FMA in the AVX2 kernel")
        XCTAssertTrue(asm.contains("ymm"), "no 256-bit vectors in the AVX2 kernel")
    }
}

private final class ResultBox: @unchecked Sendable {
    private let lock = NSLock()
    private(set) var values: [[Double]]
    init(count: Int) { values = Array(repeating: [], count: count) }
    func set(_ i: Int, _ v: [Double]) { lock.withLock { values[i] = v } }
}

private final class Counter: @unchecked Sendable {
    private let lock = NSLock()
    private(set) var value = 0
    func add() { lock.withLock { value += 1 } }
}
