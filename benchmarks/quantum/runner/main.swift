// A stand-alone runner for QuantumBenchmark until `qemlc bench-circuit` exists: built by
// build_runner.sh against the release objects of QEMLTensor, QEMLIR and QEMLQuantum (no
// Package.swift product). Usage: qemlc-quantum-bench CASE.json [MIN_SECONDS]
import Foundation
import QEMLQuantum

let args = CommandLine.arguments
guard args.count >= 2 else {
    FileHandle.standardError.write(Data("usage: qemlc-quantum-bench CASE.json [MIN_SECONDS]\n".utf8))
    exit(2)
}
do {
    let report = try QuantumBenchmark.run(caseFile: args[1], minSeconds: args.count > 2 ? Double(args[2]) ?? 1 : 1)
    print(report.json)
} catch {
    FileHandle.standardError.write(Data("\(error)\n".utf8))
    exit(1)
}
