import QEMLTensor
import ArgumentParser
import QEMLIR

struct Check: ParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Parse, lower and verify a model; print each layer's shape, parameters and FLOPs.")

    @Argument(help: "The model (.qir).") var model: String
    @Flag(help: "Only the totals, not the per-layer table.") var summary = false

    func run() throws {
        let graph = try ModelFiles.graph(model)
        let report = LayerReport(graph)
        if !summary { print(report.table, terminator: "") }
        let inputs = graph.inputs.map { "%\(graph[$0].name): \(graph.type(of: $0))" }.joined(separator: ", ")
        let outputs = graph.outputs.map { "%\(graph[$0].name): \(graph.type(of: $0))" }.joined(separator: ", ")
        print("model \(graph.name): \(plural(graph.nodes.count, "op")), \(graph.weights.count) weight tensors")
        print("inputs  \(inputs)")
        print("outputs \(outputs)")
        print("parameters \(report.totalParameters) (\(humanCount(report.totalParameters)))")
        print("FLOPs per sample \(report.totalFlops) (\(humanCount(report.totalFlops)))")
    }
}
