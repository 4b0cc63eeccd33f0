import Foundation
import QEMLIR
import QEMLPasses
import QEMLTensor

/// Reference semantics of the ops passes create (declared in `QEMLPasses/FusedOps.swift`):
/// written out with plain loops, independently of the unfused ops they replace, so the
/// "before and after each pass" tests compare two different computations. They are built-in
/// kernels (listed in `Interpreter.builtinKernels`), so they need no registration.
extension Interpreter {
    static let fusedKernels: [String: ReferenceKernel] = ["fused_cbam": FusedKernels.fusedCBAM, "reorder": FusedKernels.reorder]
}

public enum FusedKernels {
    /// The layout changes, the logical tensor does not.
    static let reorder: ReferenceKernel = { node, operands, _ in [try operand(operands, 0, node)] }

    /// y′ = y · σ(fc2(relu(fc1(avg))) + fc2(relu(fc1(max)))) per channel;
    /// out = y′ · σ(conv_k×k([mean_c y′, max_c y′])) per pixel; then + residual, activation.
    static let fusedCBAM: ReferenceKernel = { node, operands, _ in
        let y = try operand(operands, 0, node), avg = try operand(operands, 1, node), mx = try operand(operands, 2, node)
        let codes1 = try operand(operands, 3, node), codes2 = try operand(operands, 4, node), sw = try operand(operands, 5, node)
        let (n, c, h, w) = try requireRank4(y, node)
        let hidden = node.int("hidden", 0), k = node.int("kernel", 7), pad = node.int("padding", 3)
        guard avg.shape == [n, c, 1, 1], mx.shape == [n, c, 1, 1] else {
            throw kernelError(node, "the pooled vectors must be \(describeShape([n, c, 1, 1]))")
        }
        guard codes1.shape == [hidden, c, 1, 1], codes2.shape == [c, hidden, 1, 1], sw.shape == [1, 2, k, k] else {
            throw kernelError(node, "weights \(describeShape(codes1.shape)), \(describeShape(codes2.shape)), \(describeShape(sw.shape)) do not fit C=\(c), hidden=\(hidden), kernel=\(k)")
        }
        // An int8 MLP (weight-only, docs/QUANTIZATION.md): w = code · scale of its output row, in f32.
        func dequantized(_ w: Tensor, _ slot: Int, rows: Int) throws -> Tensor {
            guard operands.count > slot, let s = operands[slot] else { return w }
            guard s.count == rows else { throw kernelError(node, "the int8 scales of an MLP weight must be [\(rows)], got \(describeShape(s.shape))") }
            return QuantizationMath.dequantize(codes: w, rowScales: s)
        }
        let fc1 = try dequantized(codes1, 10, rows: hidden), fc2 = try dequantized(codes2, 11, rows: c)
        let b1 = operands.count > 6 ? operands[6] : nil, b2 = operands.count > 7 ? operands[7] : nil
        let bs = operands.count > 8 ? operands[8] : nil, residual = operands.count > 9 ? operands[9] : nil
        if let residual, residual.shape != y.shape {
            throw kernelError(node, "the residual \(describeShape(residual.shape)) does not match the input \(describeShape(y.shape))")
        }
        let relu = node.string("activation", "none") == "relu"
        func sigmoid(_ x: Double) -> Double { 1 / (1 + exp(-x)) }

        var out = Tensor(zeros: y.shape)
        let plane = h * w
        for b in 0..<n {
            // Channel attention: the shared MLP on both pooled vectors.
            func mlp(_ v: Tensor) -> [Double] {
                var hid = [Double](repeating: 0, count: hidden)
                for j in 0..<hidden {
                    var s = Double(b1?.data[j] ?? 0)
                    for ch in 0..<c { s += Double(fc1.data[j * c + ch]) * Double(v.data[b * c + ch]) }
                    hid[j] = max(s, 0)
                }
                return (0..<c).map { ch in
                    var s = Double(b2?.data[ch] ?? 0)
                    for j in 0..<hidden { s += Double(fc2.data[ch * hidden + j]) * hid[j] }
                    return s
                }
            }
            let a = mlp(avg), m = mlp(mx)
            var scaled = [Float](repeating: 0, count: c * plane)
            for ch in 0..<c {
                let gate = sigmoid(Double(Float(a[ch]) + Float(m[ch])))
                for p in 0..<plane { scaled[ch * plane + p] = Float(Double(y.data[(b * c + ch) * plane + p]) * gate) }
            }
            // Spatial attention: channel mean and max per pixel, a k×k conv, sigmoid.
            var maps = [Float](repeating: 0, count: 2 * plane)
            for p in 0..<plane {
                var sum = 0.0, best = -Float.infinity
                for ch in 0..<c { let v = scaled[ch * plane + p]; sum += Double(v); best = max(best, v) }
                maps[p] = Float(sum / Double(c))
                maps[plane + p] = best
            }
            for i in 0..<h {
                for j in 0..<w {
                    var s = Double(bs?.data[0] ?? 0)
                    for m in 0..<2 {
                        for di in 0..<k {
                            let ii = i + di - pad
                            guard ii >= 0, ii < h else { continue }
                            for dj in 0..<k {
                                let jj = j + dj - pad
                                guard jj >= 0, jj < w else { continue }
                                s += Double(sw.data[(m * k + di) * k + dj]) * Double(maps[m * plane + ii * w + jj])
                            }
                        }
                    }
                    let gate = Float(sigmoid(Double(Float(s))))
                    for ch in 0..<c {
                        let idx = (b * c + ch) * plane + i * w + j
                        var v = scaled[ch * plane + i * w + j] * gate
                        if let residual { v += residual.data[idx] }
                        out.data[idx] = relu ? max(v, 0) : v
                    }
                }
            }
        }
        return [out]
    }
}
