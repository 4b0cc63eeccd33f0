import ArgumentParser

/// Every subcommand, in the order `qemlc --help` lists them: the model's life cycle first, then
/// the signal tools, then the benchmarks' helpers.
let commands: [ParsableCommand.Type] = [
    Check.self, Dump.self, InitWeights.self, Quantize.self, Run.self, Compile.self, Bench.self, Export.self, Targets.self,
    Eval.self, Explain.self,
    Synth.self, Spectrogram.self, Envelope.self,
    BenchFrontend.self, BenchCircuit.self,
]
