import Foundation
import QEMLIR
import QEMLQuantum

/// `fuse-quantum`: chooses how each `circuit` op is evaluated (folded observables, or a state
/// vector: a cache-blocked compiled kernel, with fixed-unitary folding or qsim-style block fusion
/// as the Swift fallback; see `CircuitPlan`) and reports the choice and its reason.
/// The choice depends only on the circuit's structure, so it is made here with placeholder
/// weights; the runtime rebuilds the same plan with the real weights (trained weights that make a
/// gate exactly the identity can only shorten the compiled schedule). The graph's ops are
/// unchanged; the choice is left as a note, so `qemlc dump --after fuse-quantum` shows it.
public struct FuseQuantum: Pass {
    public init() {}
    public var name: String { "fuse-quantum" }
    public var summary: String { "choose the evaluation strategy of each circuit (fold into observables or fuse gate blocks)" }

    public func run(_ g: Graph, _ ctx: PassContext) throws -> Graph {
        var out = g
        for node in g.nodes where node.op == "circuit" {
            guard let body = node.attributes["body"]?.circuit, let x = node.operand(0),
                  let width = g.type(of: x).dims.last?.value else { continue }
            let place = node.location.map { "\($0)" } ?? "circuit"
            var weights: [WeightArray] = []
            for v in node.operands.dropFirst() {
                let shape = v.flatMap { g.type(of: $0).fixedShape } ?? []
                // Generic values, not zeros: a zero angle makes a gate the identity and would change
                // what the schedule fuses and counts.
                weights.append(WeightArray(shape: shape, values: (0..<shape.reduce(1, *)).map { 2 * sin(1 + Double($0)) }))
            }
            do {
                let plan = CircuitPlan(try BoundCircuit(body, weights: weights, inputWidth: width), lanes: max(1, ctx.vectorWidth / 2),
                                       localQubits: StateVectorSchedule.localQubits(l1Bytes: ctx.l1Bytes))
                ctx.log("\(place): \(plan.name): \(plan.reason)")
                let value = node.results.first.map { "%" + g[$0].name } ?? "circuit"
                out.notes.append("fuse-quantum: \(value): \(plan.name): \(plan.reason)")
            } catch {
                ctx.log("\(place): not planned: \(error.message)")
            }
        }
        return out
    }
}
