import ArgumentParser
import QEMLIR
import QEMLRuntime
import QEMLTensor

struct InitWeights: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "init-weights",
        abstract: "Write deterministic initial weights for a model, so it runs without a trained one.",
        discussion: "He-normal convolutions, BatchNorm with slightly randomized statistics (so folding is exercised), PyTorch-default dense layers, circuit angles uniform in [0, 2π). The same seed gives the same file on every machine.")

    @Argument(help: "The model (.qir).") var model: String
    @Option(help: "Random seed.") var seed: UInt64 = 0
    @Option(name: .shortAndLong, help: "Output .safetensors file.") var output: String
    @Flag(help: "Overwrite an existing output file.") var force = false

    func run() throws {
        let graph = try ModelFiles.graph(model)
        try ModelFiles.checkWritable(output, force: force)
        let weights = WeightInit.initialize(graph, seed: seed)
        try Safetensors.write(weights, to: output, metadata: ["qemlc.model": graph.name, "qemlc.seed": String(seed)], overwrite: force)
        let count = weights.values.reduce(0) { $0 + $1.count }
        print("wrote \(plural(weights.count, "tensor")), \(humanCount(count)) parameters (seed \(seed)) to \(output)")
    }
}
