import ArgumentParser
import QEMLCodegen

struct Targets: ParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "List the built-in targets `--target` accepts (a .target file works too, see targets/README.md).")

    func run() throws {
        var t = TextTable(["name", "triple", "cpu", "lanes", "registers", "FLOP/cycle", "clock", "peak/core", "description"],
                          rightAligned: [3, 4, 5, 6, 7])
        for d in TargetDescription.builtIn {
            t.add([d.name, d.triple, d.cpu, String(d.vectorWidth), String(d.vectorRegisters), String(d.flopsPerCycle),
                   d.clockGHz.map { String(format: "%.2f GHz", $0) } ?? "?",
                   d.peakGFLOPSPerCore.map { String(format: "%.1f GFLOP/s", $0) } ?? "?", d.description])
        }
        print(t.render())
    }
}
