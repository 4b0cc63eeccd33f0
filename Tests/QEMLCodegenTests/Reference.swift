import TestSupport
import QEMLTensor
import Foundation
@testable import QEMLCodegen

/// Plain-loop reference implementations (NCHW) and layout helpers the kernel tests compare against.
enum Reference {
    /// A deterministic generator (tests must reproduce).
    struct RNG {
        var state: UInt64
        init(_ seed: UInt64) { state = seed &* 0x9E3779B97F4A7C15 | 1 }
        mutating func next() -> UInt64 {
            state ^= state << 13; state ^= state >> 7; state ^= state << 17
            return state
        }
        mutating func float(_ lo: Float = -1, _ hi: Float = 1) -> Float {
            lo + (hi - lo) * Float(next() >> 40) / Float(1 << 24)
        }
        mutating func int(_ r: ClosedRange<Int>) -> Int { r.lowerBound + Int(next() % UInt64(r.count)) }
        mutating func floats(_ n: Int, _ lo: Float = -1, _ hi: Float = 1) -> [Float] { (0..<n).map { _ in float(lo, hi) } }
        mutating func pick<T>(_ xs: [T]) -> T { xs[int(0...(xs.count - 1))] }
    }

    /// NCHW → NCHWc with zero padded lanes.
    static func blocked(_ x: [Float], n: Int, c: Int, h: Int, w: Int, lanes: Int) -> [Float] {
        let cb = (c + lanes - 1) / lanes
        var out = [Float](repeating: 0, count: n * cb * h * w * lanes)
        for i in 0..<n { for ch in 0..<c { for y in 0..<h { for x in 0..<w {
            out[(((i * cb + ch / lanes) * h + y) * w + x) * lanes + ch % lanes] = x_(x, i, ch, y, c, h, w)
        } } } }
        func x_(_ xx: Int, _ i: Int, _ ch: Int, _ y: Int, _ c: Int, _ h: Int, _ w: Int) -> Float { x[((i * c + ch) * h + y) * w + xx] }
        return out
    }

    /// NCHWc → NCHW; also returns the largest |value| found in a padded lane.
    static func unblocked(_ x: [Float], n: Int, c: Int, h: Int, w: Int, lanes: Int) -> (values: [Float], padMax: Float) {
        let cb = (c + lanes - 1) / lanes
        var out = [Float](repeating: 0, count: n * c * h * w)
        var padMax: Float = 0
        for i in 0..<n { for b in 0..<cb { for y in 0..<h { for xx in 0..<w { for l in 0..<lanes {
            let v = x[(((i * cb + b) * h + y) * w + xx) * lanes + l]
            let ch = b * lanes + l
            if ch < c { out[((i * c + ch) * h + y) * w + xx] = v } else { padMax = max(padMax, abs(v)) }
        } } } } }
        return (out, padMax)
    }

    static func activate(_ v: Float, _ a: Activation) -> Float {
        switch a {
        case .none: return v
        case .relu: return max(v, 0)
        case .sigmoid: return Float(1 / (1 + Foundation.exp(-Double(v))))
        case .tanh: return Float(Foundation.tanh(Double(v)))
        }
    }

    /// PyTorch conv2d + BatchNorm + residual + activation; also the per-channel avg and max.
    static func conv2d(_ s: Conv2DSpec, n: Int, input: [Float], weights: ConvWeights, residual: [Float]?)
        -> (out: [Float], avg: [Float], max: [Float]) {
        let oh = s.outHeight, ow = s.outWidth, ig = s.inChannels / s.groups, og = s.outChannels / s.groups
        let kh = s.kernel[0], kw = s.kernel[1]
        var out = [Float](repeating: 0, count: n * s.outChannels * oh * ow)
        var avg = [Float](repeating: 0, count: n * s.outChannels), mx = [Float](repeating: -.infinity, count: n * s.outChannels)
        for i in 0..<n { for o in 0..<s.outChannels {
            let g = o / og
            var scale = 1.0, shift = Double(weights.bias?[o] ?? 0)
            if let bn = weights.batchNorm {
                scale = Double(bn.gamma[o]) / (Double(bn.variance[o]) + bn.eps).squareRoot()
                shift = (shift - Double(bn.mean[o])) * scale + Double(bn.beta[o])
            }
            for y in 0..<oh { for x in 0..<ow {
                var acc = 0.0
                for ci in 0..<ig { for ky in 0..<kh { for kx in 0..<kw {
                    let iy = y * s.stride[0] - s.padding[0] + ky * s.dilation[0]
                    let ix = x * s.stride[1] - s.padding[1] + kx * s.dilation[1]
                    guard iy >= 0, iy < s.height, ix >= 0, ix < s.width else { continue }
                    let xv = input[((i * s.inChannels + g * ig + ci) * s.height + iy) * s.width + ix]
                    acc += Double(xv) * Double(weights.weight.data[((o * ig + ci) * kh + ky) * kw + kx])
                } } }
                let at = ((i * s.outChannels + o) * oh + y) * ow + x
                var v = Float(acc * scale + shift)
                if let residual { v += residual[at] }
                v = activate(v, s.activation)
                out[at] = v
                avg[i * s.outChannels + o] += v / Float(oh * ow)
                mx[i * s.outChannels + o] = max(mx[i * s.outChannels + o], v)
            } }
        } }
        return (out, avg, mx)
    }

    /// Worst |a−b| / (|b| + 0.1·max|b|): relative where values are large, absolute-ish near zero.
    static func mismatch(_ a: [Float], _ b: [Float]) -> Float {
        Agreement.mixed(a, b, share: 0.1, tiny: 1e-12)
    }
}
