/// Bilinear resize of a row-major [h][w] map to [outH][outW], matching
/// `torch.nn.functional.interpolate(mode="bilinear", align_corners=False, antialias=False)`:
/// output pixel centres map to source coordinates (i + 0.5)·(in/out) − 0.5, clamped at 0 below,
/// the upper neighbour clamped to the last row/column (half-pixel corners, no antialiasing
/// when shrinking).
public func bilinearResize(_ x: [Float], height h: Int, width w: Int, toHeight outH: Int, width outW: Int) -> [Float] {
    let rows = sourceTaps(from: h, to: outH), cols = sourceTaps(from: w, to: outW)
    var out = [Float](repeating: 0, count: outH * outW)
    for (i, r) in rows.enumerated() {
        for (j, c) in cols.enumerated() {
            let top = (1 - c.frac) * x[r.lo * w + c.lo] + c.frac * x[r.lo * w + c.hi]
            let bottom = (1 - c.frac) * x[r.hi * w + c.lo] + c.frac * x[r.hi * w + c.hi]
            out[i * outW + j] = (1 - r.frac) * top + r.frac * bottom
        }
    }
    return out
}

private struct Tap { var lo: Int; var hi: Int; var frac: Float }

private func sourceTaps(from n: Int, to m: Int) -> [Tap] {
    let scale = Float(n) / Float(m)
    return (0..<m).map { i in
        let src = max(0, (Float(i) + 0.5) * scale - 0.5)
        let lo = min(Int(src), n - 1)
        return Tap(lo: lo, hi: min(lo + 1, n - 1), frac: src - Float(lo))
    }
}
