import Foundation
import QEMLCodegen
import QEMLTensor

/// A convolution as im2col + OpenBLAS `sgemm`, per sample: the blocked input is unfolded into
/// a `[Cin·kh·kw, OH·OW]` column matrix, multiplied by the BatchNorm-folded `[Cout, Cin·kh·kw]`
/// weight, and the epilogue (bias, residual, activation, CBAM's channel avg/max) writes the
/// blocked output. The library baseline the generated convolution is measured against; the
/// unfolding and epilogue are plain Swift loops on the calling thread, the GEMM uses
/// OpenBLAS's threads. Buffers as the generated kernel: input, [residual], output, [avg, max].
struct BLASConvolution: Sendable {
    let spec: Conv2DSpec
    let lanes: Int
    /// `[Cout, Cin·kh·kw]` row-major, BatchNorm folded in.
    let weight: [Float]
    let bias: [Float]

    init(spec: Conv2DSpec, weights: ConvWeights, lanes: Int) throws {
        let o = spec.outChannels, ci = spec.inChannels, kh = spec.kernel[0], kw = spec.kernel[1]
        guard spec.groups == 1 else { throw PlanError("\(spec): the blas backend runs only ungrouped convolutions") }
        guard weights.weight.shape == [o, ci, kh, kw] else {
            throw PlanError("\(spec): the weight is \(describeShape(weights.weight.shape)), expected \(describeShape([o, ci, kh, kw]))")
        }
        if let b = weights.bias, b.count != o { throw PlanError("\(spec): the bias has \(b.count) values, expected \(o)") }
        if let bn = weights.batchNorm, [bn.gamma.count, bn.beta.count, bn.mean.count, bn.variance.count] != [o, o, o, o] {
            throw PlanError("\(spec): the BatchNorm parameters must have \(o) values each")
        }
        self.spec = spec
        self.lanes = lanes
        let k = ci * kh * kw
        var w = [Float](repeating: 0, count: o * k)
        var b = [Float](repeating: 0, count: o)
        for oc in 0..<o {
            var scale = 1.0, shift = Double(weights.bias?[oc] ?? 0)
            if let bn = weights.batchNorm {
                scale = Double(bn.gamma[oc]) / (Double(bn.variance[oc]) + bn.eps).squareRoot()
                shift = (shift - Double(bn.mean[oc])) * scale + Double(bn.beta[oc])
            }
            b[oc] = Float(shift)
            for j in 0..<k { w[oc * k + j] = Float(Double(weights.weight.data[oc * k + j]) * scale) }
        }
        weight = w
        bias = b
    }

    var reduction: Int { spec.inChannels * spec.kernel[0] * spec.kernel[1] }
    var pixels: Int { spec.outHeight * spec.outWidth }
    /// Floats of scratch one sample needs: the column matrix and the GEMM result.
    var scratchFloats: Int { reduction * pixels + spec.outChannels * pixels }

    func run(_ buffers: UnsafePointer<UnsafeMutablePointer<Float>?>, batch: Int, scratch: UnsafeMutablePointer<Float>) {
        let l = lanes, s = spec
        let inStorage = BlockedStorage(channels: s.inChannels, height: s.height, width: s.width, lanes: l)
        let outStorage = BlockedStorage(channels: s.outChannels, height: s.outHeight, width: s.outWidth, lanes: l)
        guard let input = buffers[0] else { return }
        let residual: UnsafeMutablePointer<Float>? = s.residual ? buffers[1] : nil
        let outIndex = s.residual ? 2 : 1
        guard let output = buffers[outIndex] else { return }
        let avg = s.pool ? buffers[outIndex + 1] : nil, mx = s.pool ? buffers[outIndex + 2] : nil
        let columns = scratch, product = scratch + reduction * pixels
        let (kh, kw, sh, sw, ph, pw, dh, dw) = (s.kernel[0], s.kernel[1], s.stride[0], s.stride[1], s.padding[0], s.padding[1], s.dilation[0], s.dilation[1])
        let (h, w, oh, ow) = (s.height, s.width, s.outHeight, s.outWidth)
        weight.withUnsafeBufferPointer { wp in
            guard let wBase = wp.baseAddress else { return }
            for n in 0..<batch {
                let x = input + n * inStorage.elementsPerSample
                // im2col straight from the blocked layout.
                for c in 0..<s.inChannels {
                    let plane = x + (c / l) * h * w * l + c % l
                    for ky in 0..<kh {
                        for kx in 0..<kw {
                            let row = columns + ((c * kh + ky) * kw + kx) * pixels
                            for oy in 0..<oh {
                                let iy = oy * sh - ph + ky * dh
                                let dst = row + oy * ow
                                guard iy >= 0, iy < h else { for ox in 0..<ow { dst[ox] = 0 }; continue }
                                for ox in 0..<ow {
                                    let ix = ox * sw - pw + kx * dw
                                    dst[ox] = ix >= 0 && ix < w ? plane[(iy * w + ix) * l] : 0
                                }
                            }
                        }
                    }
                }
                OpenBLAS.sgemm(m: s.outChannels, n: pixels, k: reduction, a: wBase, b: columns, c: product)
                epilogue(product, residual: residual.map { $0 + n * outStorage.elementsPerSample },
                         output: output + n * outStorage.elementsPerSample,
                         avg: avg.map { $0 + n * outStorage.blocks * l }, max: mx.map { $0 + n * outStorage.blocks * l })
            }
        }
    }

    private func epilogue(_ product: UnsafePointer<Float>, residual: UnsafeMutablePointer<Float>?, output: UnsafeMutablePointer<Float>,
                          avg: UnsafeMutablePointer<Float>?, max mx: UnsafeMutablePointer<Float>?) {
        let l = lanes, p = pixels, co = spec.outChannels
        let padded = (co + l - 1) / l * l
        for c in 0..<padded {
            let base = (c / l) * p * l + c % l
            guard c < co else {
                for i in 0..<p { output[base + i * l] = 0 }
                avg?[c] = 0
                mx?[c] = 0
                continue
            }
            let row = product + c * p, b = bias[c]
            var sum: Float = 0, best = -Float.infinity
            for i in 0..<p {
                var v = row[i] + b
                if let residual { v += residual[base + i * l] }
                switch spec.activation {
                case .none: break
                case .relu: v = Swift.max(v, 0)
                case .sigmoid: v = 1 / (1 + expf(-v))
                case .tanh: v = tanhf(v)
                }
                output[base + i * l] = v
                sum += v
                best = Swift.max(best, v)
            }
            avg?[c] = sum / Float(p)
            mx?[c] = best
        }
    }
}
