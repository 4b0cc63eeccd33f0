import XCTest
import QEMLIR
import QEMLTensor
@testable import QEMLRuntime

/// Binding, stage skipping, batch symbols, errors and the kernel registry.
final class InterpreterTests: XCTestCase {
    /// x:[N,2] → dense(2→2) → relu → scale ×10 → y
    func smallGraph() -> (Graph, [String: Tensor]) {
        var g = Graph(name: "small")
        let x = g.addInput("x", TensorType([.symbolic("N"), .fixed(2)]))
        let w = g.weight("fc.weight", TensorType(fixed: [2, 2]))
        let h = g.addNode("dense", [x, w, nil], Attributes([("out", .int(2))]), results: [("h", TensorType([.symbolic("N"), .fixed(2)]))])[0]
        let r = g.addNode("relu", [h], results: [("r", TensorType([.symbolic("N"), .fixed(2)]))])[0]
        let y = g.addNode("scale", [r], Attributes([("by", .float(10))]), results: [("y", TensorType([.symbolic("N"), .fixed(2)]))])[0]
        g.outputs = [y]
        return (g, ["fc.weight": tensor([2, 2], [1, 0, 0, -1])])
    }

    func testRunsAndBindsTheBatch() throws {
        let (g, w) = smallGraph()
        let interp = try Interpreter(graph: g, weights: w)
        let out = try interp.evaluate(["y", "h"], inputs: ["x": tensor([3, 2], [1, 2, -3, 4, 5, -6])])
        XCTAssertEqual(out["h"], tensor([3, 2], [1, -2, -3, -4, 5, 6]))
        XCTAssertEqual(out["y"], tensor([3, 2], [10, 0, 0, 0, 50, 60]))
    }

    func testStartsFromAnIntermediateValue() throws {
        let (g, w) = smallGraph()
        let interp = try Interpreter(graph: g, weights: w)
        // Giving "h" skips dense: x is not needed.
        let out = try interp.run(inputs: ["h": tensor([1, 2], [-1, 2])])
        XCTAssertEqual(out[g.outputs[0]], tensor([1, 2], [0, 20]))
        XCTAssertNil(out[g.value(named: "x")!])
    }

    func testErrors() throws {
        let (g, w) = smallGraph()
        func message(_ body: () throws -> Any) -> String {
            do { _ = try body(); return "no error" } catch { return "\(error)" }
        }
        XCTAssertEqual(message { try Interpreter(graph: g, weights: [:]) },
                       "error: missing weight 'fc.weight' (the model needs f32[2,2])\n  note: the weights hold 0 tensors; generate a complete set with `qemlc init-weights`")
        XCTAssertEqual(message { try Interpreter(graph: g, weights: ["fc.weight": iota([2, 3])]) },
                       "error: weight 'fc.weight' has shape [2,3] but the model needs [2,2]")
        let interp = try Interpreter(graph: g, weights: w)
        XCTAssertEqual(message { try interp.run(inputs: [:]) },
                       "error: input 'x' (f32[N,2]) is needed but was not given\n  note: pass it, e.g. --input x=file.npy")
        XCTAssertEqual(message { try interp.run(inputs: ["x": iota([1, 3])]) },
                       "error: input 'x' has shape [1,3] but the model declares f32[N,2]")
        XCTAssertTrue(message { try interp.run(inputs: ["x": iota([1, 2]), "r": iota([2, 2])]) }
            .contains("input 'x' has shape [1,2], which makes N = 1, but N = 2 from an earlier input"))
        XCTAssertTrue(message { try interp.run(inputs: ["nope": iota([1, 2])]) }.contains("the model has no value named 'nope'"))
        XCTAssertTrue(message { try interp.evaluate(["nope"], inputs: [:]) }.contains("the model has no value named 'nope'"))

        var bad = g
        bad.nodes[1].op = "frobnicate"
        XCTAssertTrue(message { try Interpreter(graph: bad, weights: w) }.contains("the reference interpreter has no kernel for op 'frobnicate'"))
    }

    func testKernelsGivenToOneInterpreter() throws {
        var (g, w) = smallGraph()
        g.nodes[1].op = "test_negate_for_registry"
        XCTAssertThrowsError(try Interpreter(graph: g, weights: w))
        // Per-instance kernels …
        let negate: ReferenceKernel = { _, operands, _ in
            let x = operands[0]!
            return [Tensor(shape: x.shape, data: x.data.map { -$0 })]
        }
        let a = try Interpreter(graph: g, weights: w, kernels: ["test_negate_for_registry": negate])
        XCTAssertEqual(try a.evaluate(["r"], inputs: ["x": tensor([1, 2], [1, 2])])["r"], tensor([1, 2], [-1, 2]))
        // There is no global registration: another interpreter does not know the op.
        XCTAssertFalse(Interpreter.knownOps.contains("test_negate_for_registry"))
        XCTAssertThrowsError(try Interpreter(graph: g, weights: w))
    }

    func testKernelErrorsCarryTheNodeLocation() throws {
        var g = Graph()
        let a = g.addInput("a", TensorType(fixed: [2]))
        let b = g.addInput("b", TensorType(fixed: [3]))
        let loc = SourceLocation(file: "m.qir", line: 4, column: 7)
        // A node whose declared type lies (the verifier would refuse it; the kernel still must not crash).
        g.outputs = g.addNode("add", [a, b], results: [("c", TensorType(fixed: [3]))], location: loc)
        let interp = try Interpreter(graph: g, weights: [:])
        XCTAssertThrowsError(try interp.run(inputs: ["a": iota([2]), "b": iota([3])])) { e in
            XCTAssertEqual("\(e)", "m.qir:4:7: error: add: shapes [2] and [3] do not broadcast")
        }
    }

    func testEveryBuiltInOpHasAKernel() {
        // Only qemlc's own ops: other tests in this process may register test-only ops.
        for d in OpRegistry.builtIn {
            XCTAssertNotNil(Interpreter.kernel(for: d.name), d.name)
        }
    }
}

final class GivenValueTests: XCTestCase {
    /// A conv with pool="avgmax" has three results; giving the main one and asking for the
    /// pooled ones runs the node, but the given value must stay as given.
    func testGivenResultOfAMultiResultNodeIsNotOverwritten() throws {
        var g = Graph()
        let x = g.addInput("x", TensorType(fixed: [1, 1, 1, 2]))
        let w = g.weight("w", TensorType(fixed: [1, 1, 1, 1]))
        let r = g.addNode("conv2d", [x, w, nil, nil, nil, nil, nil, nil],
                          Attributes([("out", .int(1)), ("kernel", .ints([1, 1])), ("pool", .string("avgmax"))]),
                          results: [("y", TensorType(fixed: [1, 1, 1, 2])), ("avg", TensorType(fixed: [1, 1, 1, 1])), ("max", TensorType(fixed: [1, 1, 1, 1]))])
        let z = g.addNode("relu", [r[0]], results: [("z", TensorType(fixed: [1, 1, 1, 2]))])[0]
        g.outputs = [z, r[1]]
        let interp = try Interpreter(graph: g, weights: ["w": Tensor(shape: [1, 1, 1, 1], data: [2])])
        let out = try interp.evaluate(["z", "avg"], inputs: ["x": Tensor(shape: [1, 1, 1, 2], data: [1, 3]), "y": Tensor(shape: [1, 1, 1, 2], data: [-5, 7])])
        XCTAssertEqual(out["z"]?.data, [0, 7])  // from the given y, not from the conv's [2, 6]
        XCTAssertEqual(out["avg"]?.data, [4])
    }
}
