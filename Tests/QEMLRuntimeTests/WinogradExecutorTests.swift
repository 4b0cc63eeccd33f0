import TestSupport
import XCTest
import QEMLCodegen
import QEMLIR
import QEMLPasses
import QEMLTensor
@testable import QEMLRuntime

/// bf16 3×3 convolutions on a CPU with `vdpbf16ps` run as Winograd F(2×2, 3×3) in the plan
/// (`WinogradKernels.swift`): the steps say so, and the model agrees with the interpreter, which
/// runs a bf16 op as f32 on its (bf16-valued) weights.
final class WinogradExecutorTests: XCTestCase {
    func testPlanRunsWinogradAndAgreesWithTheInterpreter() throws {
        let cpuinfo = (try? String(contentsOfFile: "/proc/cpuinfo", encoding: .utf8)) ?? ""
        guard cpuinfo.contains(" avx512_bf16") else { throw XCTSkip("this CPU has no AVX512_BF16 (WinogradTests checks the kernels' IR)") }
        let text = """
        model "wino"
        input %x: f32[2,16,9,11]
        %a = conv2d(%x, @c1.weight, bias=@c1.bias, out=32, kernel=3, padding=1, activation="relu", precision="bf16")
        %b = conv2d(%a, @c2.weight, bias=@c2.bias, out=16, kernel=3, padding=1, precision="bf16")
        output %b
        """
        let g = try QIR.parse(text, file: "wino.qir")
        let w = executorTestWeights(g).mapValues { t in Tensor(shape: t.shape, data: t.data.map(QuantizationMath.roundToBF16)) }
        let x = executorTestInput([2, 16, 9, 11], seed: 3)
        let want = try XCTUnwrap(try Interpreter(graph: g, weights: w).evaluate(["b"], inputs: ["x": x])["b"])
        let model = try CompiledModel.compile(g, weights: w, options: CompileOptions(threads: 2, cache: nil))
        let winograd = model.plan.steps.filter { $0.summary.contains("winograd F(2,3) bf16") }
        XCTAssertEqual(winograd.count, 2, model.plan.text)
        XCTAssertTrue(model.plan.fallbacks.isEmpty)
        let got = try XCTUnwrap(try model.run(inputs: ["x": x])["b"])
        let scale = want.data.map(abs).max()!
        XCTAssertLessThan(Agreement.absolute(got.data, want.data) / scale, 0.01, "Winograd plan against the interpreter")
    }
}
