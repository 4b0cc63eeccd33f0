import QEMLIR
import QEMLTensor

/// Windowed pools (PyTorch semantics), global pools and per-pixel channel reductions.
extension Interpreter {
    static let poolKernels: [String: ReferenceKernel] = [
        "maxpool2d": { node, operands, _ in [try windowPool(node, operands, max: true)] },
        "avgpool2d": { node, operands, _ in [try windowPool(node, operands, max: false)] },
        "global_avgpool": { node, operands, _ in
            let x = try operand(operands, 0, node); _ = try requireRank4(x, node)
            return [globalPool(x, max: false)]
        },
        "global_maxpool": { node, operands, _ in
            let x = try operand(operands, 0, node); _ = try requireRank4(x, node)
            return [globalPool(x, max: true)]
        },
        "channel_mean": { node, operands, _ in [try channelReduce(node, operands, max: false)] },
        "channel_max": { node, operands, _ in [try channelReduce(node, operands, max: true)] },
    ]

    /// max/avg over k×k windows. Max ignores padding (PyTorch pads with −inf); avg divides by
    /// the window size clipped to the padded input (count_include_pad=True). With ceil_mode, a
    /// last window that would start in the right padding is dropped, as PyTorch does.
    static func windowPool(_ node: Node, _ operands: [Tensor?], max isMax: Bool) throws(Diagnostic) -> Tensor {
        let x = try operand(operands, 0, node)
        let (n, c, h, w) = try requireRank4(x, node)
        let k = try node.pair("kernel", [1, 1], minimum: 1)
        let s = node.attr("stride") == nil ? k : try node.pair("stride", k, minimum: 1)
        let p = try node.pair("padding", [0, 0], minimum: 0)
        let ceil = node.bool("ceil_mode", false)
        let ho = windowOutput(h, kernel: k[0], stride: s[0], padding: p[0], ceilMode: ceil)
        let wo = windowOutput(w, kernel: k[1], stride: s[1], padding: p[1], ceilMode: ceil)
        var out = [Float](repeating: 0, count: n * c * ho * wo)
        for plane in 0..<n * c {
            let src = plane * h * w
            for oy in 0..<ho {
                for ox in 0..<wo {
                    // Window in padded coordinates, clipped to the padded input (avg's divisor)…
                    let y0 = oy * s[0] - p[0], x0 = ox * s[1] - p[1]
                    let y1 = min(y0 + k[0], h + p[0]), x1 = min(x0 + k[1], w + p[1])
                    let divisor = Double((y1 - y0) * (x1 - x0))
                    // …then to the real input.
                    var best = -Float.infinity
                    var sum = 0.0
                    for iy in max(y0, 0)..<min(y1, h) {
                        for ix in max(x0, 0)..<min(x1, w) {
                            let v = x.data[src + iy * w + ix]
                            best = Swift.max(best, v)
                            sum += Double(v)
                        }
                    }
                    out[(plane * ho + oy) * wo + ox] = isMax ? best : Float(sum / divisor)
                }
            }
        }
        return Tensor(shape: [n, c, ho, wo], data: out)
    }

    /// Mean or max over H×W of an [N,C,H,W] tensor → [N,C,1,1].
    static func globalPool(_ x: Tensor, max isMax: Bool) -> Tensor {
        let (n, c) = (x.shape[0], x.shape[1])
        let hw = x.shape[2] * x.shape[3]
        var out = [Float](repeating: 0, count: n * c)
        for plane in 0..<n * c {
            let values = x.data[plane * hw..<(plane + 1) * hw]
            out[plane] = isMax ? (values.max() ?? -.infinity) : Float(values.reduce(0.0) { $0 + Double($1) } / Double(hw))
        }
        return Tensor(shape: [n, c, 1, 1], data: out)
    }

    /// Mean or max over channels per pixel: [N,C,H,W] → [N,1,H,W].
    static func channelReduce(_ node: Node, _ operands: [Tensor?], max isMax: Bool) throws(Diagnostic) -> Tensor {
        let x = try operand(operands, 0, node)
        let (n, c, h, w) = try requireRank4(x, node)
        let hw = h * w
        var out = [Float](repeating: 0, count: n * hw)
        for b in 0..<n {
            for i in 0..<hw {
                var best = -Float.infinity
                var sum = 0.0
                for ch in 0..<c {
                    let v = x.data[(b * c + ch) * hw + i]
                    best = Swift.max(best, v)
                    sum += Double(v)
                }
                out[b * hw + i] = isMax ? best : Float(sum / Double(c))
            }
        }
        return Tensor(shape: [n, 1, h, w], data: out)
    }
}
