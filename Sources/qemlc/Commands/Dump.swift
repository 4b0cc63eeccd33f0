import ArgumentParser
import QEMLCodegen
import QEMLIR
import QEMLPasses
import QEMLRuntime

struct Dump: ParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Print the IR as .qir text (which parses back) or Graphviz DOT, after any pass.",
        discussion: "Passes, in order: " + PassManager().passNames.joined(separator: ", ")
            + "; then `plan`, the lowering to the kernel plan the executor, bench and export run (--after plan prints it, "
            + "with the arena `compile` reports).")

    enum Format: String, ExpressibleByArgument, CaseIterable { case qir, dot }

    @Argument(help: "The model (.qir).") var model: String
    @Option(help: "Run the pipeline up to and including this pass first (`plan`: every pass, then the kernel plan).") var after: String?
    @Flag(help: "Print the IR after every pass.") var printAfterAll = false
    @Option(help: "Output format: qir or dot.") var format: Format = .qir
    @Option(help: "Target whose vector width and L1 size the passes plan for, as `compile` does: a built-in name or a .target file.")
    var target = "host"
    @Option(help: "Vector width (f32 lanes) the layout pass blocks channels by (default: the target's).") var vectorWidth: Int?
    @Option(help: "Weights the passes see (.safetensors): a quantized file (`qemlc quantize`) makes `quantize` mark its ops.") var weights: String?

    func run() throws {
        let graph = try ModelFiles.graph(model)
        if after == "plan" { return try printPlan(graph) }
        var final = graph
        if after != nil || printAfterAll {
            let t = try ExecutableModel.target(target)
            let context = PassContext(vectorWidth: vectorWidth ?? t.vectorWidth, l1Bytes: t.l1Bytes,
                                      weights: try weights.map { try ModelFiles.weights($0, for: graph) } ?? [:])
            let options = PassOptions(printAfterAll: printAfterAll, verifyEach: true)
            let result = try PassManager().run(graph, until: after, options: options, context: context)
            if printAfterAll {
                for r in result.reports {
                    guard let g = r.graphAfter else { continue }
                    print("# ---- after \(r.name) ----")
                    print(render(g))
                }
                return
            }
            final = result.graph
        }
        print(render(final), terminator: "")
    }

    /// The kernel plan, planned exactly as `compile` plans it (zeros stand in for the weights:
    /// the plan does not depend on their values).
    private func printPlan(_ graph: Graph) throws {
        let t = try ExecutableModel.target(target)
        let planWeights = try weights.map { try ModelFiles.weights($0, for: graph) } ?? ExecutableModel.zeroWeights(for: graph)
        let passes = try ExecutableModel.userFacing {
            try PassManager().run(graph, context: PassContext(vectorWidth: vectorWidth ?? t.vectorWidth, l1Bytes: t.l1Bytes, weights: planWeights))
        }
        var planTarget = t
        if let vectorWidth { planTarget.vectorWidth = vectorWidth }
        let plan = try ExecutableModel.userFacing {
            try KernelPlan(graph: passes.graph, weights: planWeights, target: planTarget, circuitPlans: passes.circuitPlans, int8: passes.int8)
        }
        print(plan.text, terminator: "")
        print(ArenaReport.line(plan))
    }

    private func render(_ g: Graph) -> String { format == .dot ? QIR.dot(g) : QIR.print(g) }
}
