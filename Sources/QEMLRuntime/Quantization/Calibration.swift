import Foundation

/// How an activation's range 0…r is chosen from the values calibration saw (docs/QUANTIZATION.md):
/// `minmax` the largest value; `percentile` the value below which that share of values lies;
/// `entropy` the threshold whose 128-level quantized histogram is closest to the observed one in
/// KL divergence (TensorRT's calibration, "8-bit Inference with TensorRT", Migacz 2017).
public enum CalibrationMethod: String, CaseIterable, Sendable {
    case minmax, percentile, entropy
}

/// The values one tensor took over the calibration set, for the int8 ops reading it (their
/// inputs are non-negative: negative values, never seen on a proven non-negative tensor, count
/// as 0). Two sweeps: the first finds the maximum, the second histograms into `bins` bins over
/// 0…max; `minmax` needs only the first. Deterministic: sums of counts, no sampling.
public struct RangeCollector: Sendable {
    public static let bins = 2048
    public private(set) var maximum: Float = 0
    /// Counts of the positive values in `bins` bins over 0…maximum.
    public private(set) var histogram: [Int] = []
    /// Values ≤ 0 (a ReLU's zeros): code 0 holds them exactly whatever the range, so the entropy
    /// search leaves them out (with them, the zero spike dominates and the range collapses).
    public private(set) var zeros = 0
    public private(set) var count = 0

    public init() {}

    /// Sweep 1.
    public mutating func observeMaximum(_ values: UnsafeBufferPointer<Float>) {
        var m = maximum
        for v in values where v > m && v.isFinite { m = v }
        maximum = m
    }

    /// Sweep 2 (after every sample went through sweep 1).
    public mutating func observeHistogram(_ values: UnsafeBufferPointer<Float>) {
        if histogram.isEmpty { histogram = Array(repeating: 0, count: Self.bins) }
        count += values.count
        let scale = maximum > 0 ? Float(Self.bins) / maximum : 0
        for v in values {
            if v > 0 { histogram[min(Self.bins - 1, Int(v * scale))] += 1 } else { zeros += 1 }
        }
    }

    /// The range for `method` (`percentile` in percent, e.g. 99.99).
    public func range(_ method: CalibrationMethod, percentile: Double = 99.99) -> Float {
        guard maximum > 0 else { return 0 }
        let width = maximum / Float(Self.bins)
        switch method {
        case .minmax:
            return maximum
        case .percentile:
            guard count > 0 else { return maximum }
            let target = Double(count) * percentile / 100
            var seen = zeros
            for (i, h) in histogram.enumerated() {
                seen += h
                if Double(seen) >= target { return Float(i + 1) * width }
            }
            return maximum
        case .entropy:
            return Float(entropyThresholdBins()) * width
        }
    }

    /// The number of histogram bins (from 128 up) whose 128-level quantization loses least
    /// information: TensorRT's search. P is the first i bins with the clipped tail added to the
    /// last; Q merges those i bins into `levels` levels and spreads each level's mass evenly over
    /// its non-empty bins; the threshold minimizes KL(P‖Q).
    func entropyThresholdBins(levels: Int = 128) -> Int {
        let h = histogram.map(Double.init)
        let total = h.reduce(0, +)
        guard total > 0, h.count == Self.bins else { return Self.bins }
        var mass = [0.0], nonEmpty = [0]  // prefix sums
        for v in h {
            mass.append(mass.last! + v)
            nonEmpty.append(nonEmpty.last! + (v > 0 ? 1 : 0))
        }
        var best = (kl: Double.infinity, bins: Self.bins)
        for i in levels...Self.bins {
            let tail = total - mass[i], qTotal = mass[i]
            guard qTotal > 0 else { continue }
            var kl = 0.0
            for l in 0..<levels {
                let lo = l * i / levels, hi = (l + 1) * i / levels
                let n = nonEmpty[hi] - nonEmpty[lo]
                let q = n > 0 ? (mass[hi] - mass[lo]) / Double(n) / qTotal : 0
                for j in lo..<hi {
                    let p = (h[j] + (j == i - 1 ? tail : 0)) / total
                    guard p > 0 else { continue }
                    // A bin with mass in P but none in Q (only the last, from the tail): TensorRT
                    // smooths it; a small epsilon does the same.
                    kl += p * log(p / (h[j] > 0 ? q : 1e-12))
                }
            }
            if kl < best.kl { best = (kl, i) }
        }
        return best.bins
    }
}
