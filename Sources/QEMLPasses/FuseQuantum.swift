import Foundation
import QEMLIR
import QEMLQuantum

/// `fuse-quantum`: chooses how each `circuit` op is evaluated (folded observables, or a state
/// vector: a cache-blocked compiled kernel, or QEMLQuantum's Swift evaluator above the compiled
/// kernel's size; see `CircuitPlan`) and reports the choice and its reason.
///
/// This is the one place circuits are planned. Given the model's weights (`PassContext.weights`:
/// `compile`, `run`, `bench`, `export`), it binds them and its plan is the one the kernel plan
/// runs (`PassManager.Result.circuitPlans`). Without them (`dump`, `check`) it plans the
/// structure with generic placeholder angles — the same choice of strategy, since that depends
/// only on where the input enters; a trained gate that is exactly the identity can only shorten
/// the compiled schedule — and the note says so. The graph's ops are unchanged; the choice is
/// left as a note, so `qemlc dump --after fuse-quantum` shows it.
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
            var real = true
            for v in node.operands.dropFirst() {
                if let v, let name = g[v].weightName, let t = ctx.weights[name] {
                    weights.append(WeightArray(shape: t.shape, values: t.data.map(Double.init)))
                    continue
                }
                real = false
                let shape = v.flatMap { g.type(of: $0).fixedShape } ?? []
                // Generic values, not zeros: a zero angle makes a gate the identity and would change
                // what the schedule fuses and counts.
                weights.append(WeightArray(shape: shape, values: (0..<shape.reduce(1, *)).map { 2 * sin(1 + Double($0)) }))
            }
            do {
                let plan = Self.plan(try BoundCircuit(body, weights: weights, inputWidth: width), ctx)
                let value = node.results.first.map { g[$0].name } ?? "circuit"
                if real { ctx.circuitPlans[value] = plan }
                let how = real ? "" : " (planned with placeholder weights; compiling binds the real ones)"
                ctx.log("\(place): \(plan.name): \(plan.reason)\(how)")
                out.notes.append("fuse-quantum: %\(value): \(plan.name): \(plan.reason)\(how)")
            } catch {
                ctx.log("\(place): not planned: \(error.message)")
            }
        }
        return out
    }

    /// The circuit planner for a target: `lanes` doubles per vector, stages sized from L1.
    public static func plan(_ circuit: BoundCircuit, _ ctx: PassContext) -> CircuitPlan {
        CircuitPlan(circuit, lanes: max(1, ctx.vectorWidth / 2), localQubits: StateVectorSchedule.localQubits(l1Bytes: ctx.l1Bytes))
    }
}
