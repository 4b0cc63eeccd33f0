import Foundation
import QEMLIR
import QEMLTensor

/// relu, sigmoid, tanh, scale, add/mul with NumPy broadcasting, softmax.
extension Interpreter {
    static let elementwiseKernels: [String: ReferenceKernel] = [
        "relu": { node, operands, _ in [try unary(node, operands) { max($0, 0) }] },
        "sigmoid": { node, operands, _ in [try unary(node, operands) { 1 / (1 + exp(-$0)) }] },
        "tanh": { node, operands, _ in [try unary(node, operands) { tanh($0) }] },
        "scale": { node, operands, _ in
            guard let by = node.attr("by")?.double else { throw kernelError(node, "the attribute 'by' is missing") }
            return [try unary(node, operands) { $0 * by }]
        },
        "add": { node, operands, _ in [try binary(node, operands, +)] },
        "mul": { node, operands, _ in [try binary(node, operands, *)] },
        "softmax": { node, operands, _ in [try softmax(node, operands)] },
    ]

    /// Applies `f` in Double to every element.
    static func unary(_ node: Node, _ operands: [Tensor?], _ f: (Double) -> Double) throws(Diagnostic) -> Tensor {
        let x = try operand(operands, 0, node)
        return Tensor(shape: x.shape, data: x.data.map { Float(f(Double($0))) })
    }

    static func binary(_ node: Node, _ operands: [Tensor?], _ f: (Float, Float) -> Float) throws(Diagnostic) -> Tensor {
        let a = try operand(operands, 0, node), b = try operand(operands, 1, node)
        guard let shape = broadcastShape(a.shape, b.shape) else {
            throw kernelError(node, "shapes \(describeShape(a.shape)) and \(describeShape(b.shape)) do not broadcast")
        }
        let x = broadcast(a, to: shape), y = broadcast(b, to: shape)
        return Tensor(shape: shape, data: zip(x.data, y.data).map(f))
    }

    /// Softmax over the last axis, shifted by the row maximum so large logits do not overflow.
    static func softmax(_ node: Node, _ operands: [Tensor?]) throws(Diagnostic) -> Tensor {
        let x = try operand(operands, 0, node)
        guard let k = x.shape.last, k > 0 else { return x }
        var out = x.data
        for row in stride(from: 0, to: x.count, by: k) {
            let v = x.data[row..<row + k].map(Double.init)
            let m = v.max() ?? 0
            let e = v.map { exp($0 - m) }
            let s = e.reduce(0, +)
            for j in 0..<k { out[row + j] = Float(e[j] / s) }
        }
        return Tensor(shape: x.shape, data: out)
    }
}
