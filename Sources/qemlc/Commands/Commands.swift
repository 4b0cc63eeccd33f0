import ArgumentParser

/// Every subcommand, in the order `qemlc --help` lists them.
let commands: [ParsableCommand.Type] = [
    Check.self, Dump.self, Run.self, InitWeights.self, Synth.self,
    Compile.self, Bench.self, Targets.self,
    Spectrogram.self, BenchFrontend.self, Export.self,
]
