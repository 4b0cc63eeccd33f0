import XCTest
import Foundation
import QEMLIR
import QEMLPasses
import QEMLRuntime
import QEMLTensor
@testable import QEMLCodegen

/// A whole model through the pass pipeline and `KernelDefinition.lower`, run node by node (the
/// few ops without generated kernels through the interpreter's kernels), against the
/// interpreter on the unfused graph.
final class ModelLoweringTests: XCTestCase {
    var examples: URL {
        URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent().appendingPathComponent("examples")
    }

    func randomWeights(_ g: Graph, seed: UInt64) -> [String: Tensor] {
        var rng = Reference.RNG(seed)
        var out: [String: Tensor] = [:]
        for v in g.weights {
            guard let name = g[v].weightName, let shape = g.type(of: v).fixedShape else { continue }
            let n = shape.reduce(1, *)
            let fanIn = Float(max(1, n / max(1, shape[0])))
            let data: [Float]
            if name.hasSuffix("running_var") { data = rng.floats(n, 0.5, 1.5) }
            else if name.hasSuffix("bn1.weight") || name.hasSuffix("bn2.weight") || name.hasSuffix("bn3.weight") || name.hasSuffix(".1.weight") { data = rng.floats(n, 0.5, 1.5) }
            else { data = rng.floats(n, -1 / fanIn.squareRoot(), 1 / fanIn.squareRoot()) }
            out[name] = Tensor(shape: shape, data: data)
        }
        return out
    }

    func testTinyModelMatchesTheInterpreter() throws {
        for target in [TargetDescription.host, try .named("x86-64-avx2")] {
            try checkModel("qemlnet-tiny.qir", target: target, batch: 2)
        }
    }

    func checkModel(_ file: String, target: TargetDescription, batch n: Int) throws {
        let source = try QIR.load(path: examples.appendingPathComponent(file).path)
        let weights = randomWeights(source, seed: 5)
        let result = try PassManager().run(source, context: PassContext(vectorWidth: target.vectorWidth, batch: n))
        let g = result.graph

        // Lower every node; compile all kernels as one module.
        var lowered: [LoweredNode?] = []
        for (i, node) in g.nodes.enumerated() {
            lowered.append(try KernelDefinition.lower(node: node, in: g, weights: weights, target: target, name: "n\(i)"))
        }
        let module = try KernelCompiler(target: target, cache: nil).compile(lowered.compactMap { $0 }.flatMap(\.kernels))
        var generated = 0, interpreted: [String] = []

        var rng = Reference.RNG(77)
        let inputID = g.inputs[0]
        let inShape = g.type(of: inputID).shape(binding: ["N": n]) ?? []
        let input = Tensor(shape: inShape, data: rng.floats(inShape.reduce(1, *)))
        var store: [ValueID: [Float]] = [inputID: input.data]

        for (i, node) in g.nodes.enumerated() {
            guard let low = lowered[i] else {
                // No generated kernel: the interpreter's kernel on plain tensors.
                interpreted.append(node.op)
                guard let kernel = Interpreter.kernel(for: node.op) else { return XCTFail("no kernel for \(node.op)") }
                let operands: [Tensor?] = node.operands.map { v in
                    guard let v else { return nil }
                    if let w = g[v].weightName { return weights[w] }
                    return Tensor(shape: g.type(of: v).shape(binding: ["N": n]) ?? [], data: store[v] ?? [])
                }
                let outs = try kernel(node, operands, g)
                for (r, t) in zip(node.results, outs) { store[r] = t.data }
                continue
            }
            var scratch = low.scratch.map { [Float](repeating: .nan, count: n * $0) }
            for step in low.steps {
                generated += 1
                guard let k = module[step.kernel.name] else { return XCTFail("kernel \(step.kernel.name) not compiled") }
                let inputs: [[Float]] = zip(step.kernel.buffers, step.slots).filter { $0.0.role == .input }.map { b, slot in
                    switch slot {
                    case .operand(let o): return store[node.operands[o]!]!
                    case .result(let r): return store[node.results[r]]!
                    case .scratch(let s): return scratch[s]
                    }
                }
                let outs = KernelHarness.run(k, batch: n, inputs: inputs)
                for (data, slot) in zip(outs, zip(step.kernel.buffers, step.slots).filter { $0.0.role == .output }.map(\.1)) {
                    switch slot {
                    case .result(let r): store[node.results[r]] = data
                    case .scratch(let s): scratch[s] = data
                    case .operand: XCTFail("a kernel writes an operand")
                    }
                }
            }
        }
        XCTAssertGreaterThan(generated, 20)
        XCTAssertTrue(Set(interpreted).isSubset(of: ["flatten", "circuit", "concat", "fused_quantum"]), "interpreted: \(interpreted)")

        let reference = try Interpreter(graph: source, weights: weights).run(inputs: [source[source.inputs[0]].name: input])
        for (k, out) in g.outputs.enumerated() {
            let ref = reference[source.outputs[k]]!.data
            let got = store[out]!
            XCTAssertEqual(got.count, ref.count)
            let err = Reference.mismatch(got, ref)
            XCTAssertLessThan(err, 1e-4, "\(file) output \(g[out].name) on \(target.name): error \(err)")
        }
    }
}
