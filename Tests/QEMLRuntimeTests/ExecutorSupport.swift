import TestSupport
import Foundation
import QEMLIR
import QEMLPasses
import QEMLTensor
@testable import QEMLRuntime

/// Deterministic weights for a graph's weight values: small uniform values, BatchNorm
/// variances in [0.5, 1.5] (so the folded scales stay moderate), from a fixed-seed generator.
func executorTestWeights(_ g: Graph, seed: UInt64 = 7) -> [String: Tensor] {
    var state = seed
    func next() -> Float {
        state = state &* 6364136223846793005 &+ 1442695040888963407
        return Float(state >> 40) / Float(1 << 24)
    }
    var out: [String: Tensor] = [:]
    for v in g.weights {
        guard let name = g[v].weightName, let shape = g.type(of: v).fixedShape else { continue }
        let count = shape.reduce(1, *)
        let fanIn = shape.count > 1 ? max(1, count / shape[0]) : 1
        let bound = 1 / Float(fanIn).squareRoot() * 1.7
        let data: [Float] = (0..<count).map { _ in
            if name.hasSuffix("running_var") { return 0.5 + next() }
            if name.hasSuffix("running_mean") || name.hasSuffix(".bias") { return (next() - 0.5) * 0.2 }
            if name.hasSuffix("bn1.weight") || name.hasSuffix("bn2.weight") || name.hasSuffix("bn3.weight") || name.hasSuffix(".1.weight") {
                return 0.8 + 0.4 * next()
            }
            return (next() * 2 - 1) * bound
        }
        out[name] = Tensor(shape: shape, data: data)
    }
    return out
}

/// A deterministic input tensor.
func executorTestInput(_ shape: [Int], seed: UInt64 = 11) -> Tensor {
    var state = seed
    let data: [Float] = (0..<shape.reduce(1, *)).map { _ in
        state = state &* 6364136223846793005 &+ 1442695040888963407
        return Float(state >> 40) / Float(1 << 24) * 2 - 1
    }
    return Tensor(shape: shape, data: data)
}

/// A fresh, empty object cache per test run (tests must not depend on the user's cache).
func temporaryObjectCacheDirectory() -> URL {
    let url = FileManager.default.temporaryDirectory.appendingPathComponent("qemlc-executor-tests-\(getpid())")
    try? FileManager.default.createDirectory(at: url, withIntermediateDirectories: true)
    return url
}

/// `examples/<name>` relative to this file.
func examplePath(_ name: String) -> String {
    URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()
        .appendingPathComponent("examples").appendingPathComponent(name).path
}

/// Worst relative error of `a` against `reference`, relative to the reference's largest magnitude
/// (outputs near zero make an element-wise relative error meaningless).
func relativeError(_ a: Tensor, _ reference: Tensor) -> Float {
    Agreement.relativeToPeak(a.data, reference.data, minimumScale: 1e-6)
}
