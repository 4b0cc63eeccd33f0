import TestSupport
import XCTest
import QEMLCodegen
import QEMLIR
import QEMLTensor
@testable import QEMLRuntime

/// A `dense` or `fused_cbam` bias that is an activation (not a weight) is added by every
/// backend that runs the model — the generated kernels bake biases in as constants, so the step
/// runs on the reference kernel and says why — and the export refuses it with a diagnostic.
final class ComputedBiasTests: XCTestCase {
    private let denseModel = """
    model "dense_bias"
    input %x: f32[1,4]
    %b = dense(%x, @pre.weight, out=3)
    %y = dense(%x, @fc.weight, bias=%b, out=3)
    output %y
    """

    func testDenseWithComputedBiasOnEveryBackend() throws {
        let g = try QIR.parse(denseModel, file: "dense_bias.qir")
        let w = executorTestWeights(g)
        let x = Tensor(shape: [1, 4], data: [0.5, -1, 2, 0.25])
        let weight = try XCTUnwrap(w["fc.weight"]), pre = try XCTUnwrap(w["pre.weight"])
        func row(_ m: Tensor, _ j: Int) -> Float { (0..<4).reduce(0) { $0 + x.data[$1] * m.data[j * 4 + $1] } }
        let expected: [Float] = (0..<3).map { row(pre, $0) + row(weight, $0) }
        let interpreted = try XCTUnwrap(try Interpreter(graph: g, weights: w).evaluate(["y"], inputs: ["x": x])["y"])
        XCTAssertLessThanOrEqual(Agreement.relative(interpreted.data, expected, floor: 1), 1e-6, "interpreter")
        for backend in ConvBackend.allCases {
            let model = try CompiledModel.compile(g, weights: w, options: CompileOptions(backend: backend, threads: 1,
                                                                                          cache: ObjectCache(directory: temporaryObjectCacheDirectory())))
            XCTAssertEqual(model.plan.fallbacks, ["dense %y (its bias %b is computed, not a weight)"], "\(backend)")
            let got = try XCTUnwrap(try model.run(inputs: ["x": x])["y"])
            XCTAssertLessThanOrEqual(Agreement.relative(got.data, expected, floor: 1), 1e-6, "\(backend): \(got.data) vs \(expected)")
        }
        XCTAssertThrowsError(try ExportedModel(graph: g, weights: w, target: .host, stem: "dense_bias")) { e in
            XCTAssertEqual("\(e)", """
            dense %y has no generated kernel (its bias %b is computed, not a weight); the JIT runs it on the reference interpreter, so it cannot be exported
              fix: the exported runtime supports generated kernels and circuits; rewrite the node with supported ops
            """)
        }
    }

    func testCBAMWithComputedBiasRunsOnTheReferenceKernel() throws {
        let text = """
        model "cbam_bias"
        input %y: f32[1,8,5,5]
        %avg = global_avgpool(%y)
        %max = global_maxpool(%y)
        %flat = flatten(%avg)
        %b = dense(%flat, @bias.weight, out=2)
        %out = fused_cbam(%y, %avg, %max, @fc1.weight, @fc2.weight, @sa.weight, fc1_bias=%b, hidden=2, kernel=3, padding=1, activation="relu")
        output %out
        """
        let g = try QIR.parse(text, file: "cbam_bias.qir")
        let w = executorTestWeights(g)
        let inputs = ["y": executorTestInput([1, 8, 5, 5], seed: 1)]
        let want = try XCTUnwrap(try Interpreter(graph: g, weights: w).evaluate(["out"], inputs: inputs)["out"])
        let model = try CompiledModel.compile(g, weights: w, options: CompileOptions(backend: .jit, threads: 1,
                                                                                      cache: ObjectCache(directory: temporaryObjectCacheDirectory())))
        XCTAssertEqual(model.plan.fallbacks, ["fused_cbam %out (its fc1 bias %b is computed, not a weight)"])
        let got = try XCTUnwrap(try model.run(inputs: inputs)["out"])
        XCTAssertLessThanOrEqual(Agreement.relative(got.data, want.data, floor: 1), 1e-6)
        XCTAssertThrowsError(try ExportedModel(graph: g, weights: w, target: .host, stem: "cbam_bias")) { e in
            XCTAssertTrue("\(e)".hasPrefix("fused_cbam %out has no generated kernel (its fc1 bias %b is computed, not a weight)"), "\(e)")
        }
    }
}
