import QEMLIR
import QEMLPasses
import QEMLTensor

/// concat, flatten and dense.
extension Interpreter {
    static let shapeKernels: [String: ReferenceKernel] = [
        "concat": { node, operands, _ in [try concat(node, operands)] },
        "flatten": { node, operands, _ in
            let x = try operand(operands, 0, node)
            guard x.rank >= 1 else { throw kernelError(node, "flatten needs at least 1 dimension") }
            return [x.reshaped([x.shape[0], x.shape.dropFirst().reduce(1, *)])]
        },
        "dense": { node, operands, _ in [try dense(node, operands)] },
    ]

    static func concat(_ node: Node, _ operands: [Tensor?]) throws(Diagnostic) -> Tensor {
        var parts: [Tensor] = []
        for i in operands.indices { parts.append(try operand(operands, i, node)) }
        guard let first = parts.first else { throw kernelError(node, "concat needs at least one input") }
        let axis = node.int("axis", 1)
        guard axis >= 0, axis < first.rank else { throw kernelError(node, "axis \(axis) is out of range for \(describeShape(first.shape))") }
        for p in parts where p.rank != first.rank || (0..<first.rank).contains(where: { $0 != axis && p.shape[$0] != first.shape[$0] }) {
            throw kernelError(node, "inputs \(describeShape(first.shape)) and \(describeShape(p.shape)) differ outside axis \(axis)")
        }
        // Each input contributes a contiguous chunk of (its axis size × inner) per outer index.
        let outer = first.shape[..<axis].reduce(1, *)
        var shape = first.shape
        shape[axis] = parts.reduce(0) { $0 + $1.shape[axis] }
        var out: [Float] = []
        out.reserveCapacity(shape.reduce(1, *))
        for o in 0..<outer {
            for p in parts {
                let chunk = p.count / max(outer, 1)
                out.append(contentsOf: p.data[o * chunk..<(o + 1) * chunk])
            }
        }
        return Tensor(shape: shape, data: out)
    }

    /// y = x · weightᵀ + bias, accumulated in Double.
    static func dense(_ node: Node, _ operands: [Tensor?]) throws(Diagnostic) -> Tensor {
        if node.readsInt8Codes { return try Int8Kernels.dense(node, operands) }
        let x = try operand(operands, 0, node), w = try weightOnlyDequantized(node, operands)
        guard x.rank == 2, w.rank == 2, w.shape[1] == x.shape[1] else {
            throw kernelError(node, "input \(describeShape(x.shape)) and weight \(describeShape(w.shape)) do not fit [N,k]·[out,k]ᵀ")
        }
        let (n, k, o) = (x.shape[0], x.shape[1], w.shape[0])
        let bias = operands.count > 2 ? operands[2] : nil
        if let bias, bias.count != o { throw kernelError(node, "the bias has \(bias.count) elements, expected \(o)") }
        var out = [Float](repeating: 0, count: n * o)
        for b in 0..<n {
            for j in 0..<o {
                var acc = Double(bias?.data[j] ?? 0)
                for i in 0..<k { acc += Double(x.data[b * k + i]) * Double(w.data[j * k + i]) }
                out[b * o + j] = Float(acc)
            }
        }
        return Tensor(shape: [n, o], data: out)
    }
}
