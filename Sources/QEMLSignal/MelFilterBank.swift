import Foundation

/// librosa's mel filter bank (`librosa.filters.mel` defaults: Slaney's mel scale, htk = False,
/// norm = "slaney" area normalization): `nMels` triangles over the `nFFT/2 + 1` STFT bins.
public struct MelFilterBank: Sendable {
    public let nMels: Int
    public let bins: Int
    /// Row-major [nMels][bins].
    public let weights: [Float]
    /// Per band, the bins with non-zero weight (the product skips the rest).
    let ranges: [Range<Int>]

    public init(sampleRate: Int, nFFT: Int, nMels: Int, fmin: Double = 0, fmax: Double? = nil) throws {
        let top = fmax ?? Double(sampleRate) / 2
        guard nMels >= 1 else { throw SignalError("n_mels = \(nMels) must be at least 1") }
        guard fmin >= 0, top > fmin, top <= Double(sampleRate) / 2 + 1e-9 else {
            throw SignalError("mel range fmin = \(fmin) Hz, fmax = \(top) Hz does not fit 0 … \(sampleRate / 2) Hz",
                              fix: "choose 0 ≤ fmin < fmax ≤ sample_rate/2")
        }
        let bins = nFFT / 2 + 1
        let fft = (0..<bins).map { Double($0) * Double(sampleRate) / Double(nFFT) }
        let lo = MelFilterBank.hzToMel(fmin), hi = MelFilterBank.hzToMel(top)
        let melF = (0..<(nMels + 2)).map { MelFilterBank.melToHz(lo + (hi - lo) * Double($0) / Double(nMels + 1)) }
        var w = [Float](repeating: 0, count: nMels * bins)
        var ranges: [Range<Int>] = []
        for m in 0..<nMels {
            let enorm = 2 / (melF[m + 2] - melF[m])
            var first = bins, last = 0
            for b in 0..<bins {
                let lower = (fft[b] - melF[m]) / (melF[m + 1] - melF[m])
                let upper = (melF[m + 2] - fft[b]) / (melF[m + 2] - melF[m + 1])
                let v = max(0, min(lower, upper)) * enorm
                if v > 0 { first = min(first, b); last = b + 1 }
                w[m * bins + b] = Float(v)
            }
            ranges.append(first < last ? first..<last : 0..<0)
        }
        self.nMels = nMels
        self.bins = bins
        self.weights = w
        self.ranges = ranges
    }

    /// [nMels][frames] = weights · spectrogram[bins][frames].
    public func apply(_ spec: [Float], frames: Int) -> [Float] {
        var out = [Float](repeating: 0, count: nMels * frames)
        for m in 0..<nMels {
            for b in ranges[m] {
                let w = weights[m * bins + b]
                for t in 0..<frames { out[m * frames + t] += w * spec[b * frames + t] }
            }
        }
        return out
    }

    /// Slaney's scale (librosa `htk=False`): f / (200/3) below 1 kHz, logarithmic above.
    static func hzToMel(_ f: Double) -> Double {
        let fSp = 200.0 / 3, minLogHz = 1000.0, minLogMel = minLogHz / fSp, logStep = log(6.4) / 27
        return f >= minLogHz ? minLogMel + log(f / minLogHz) / logStep : f / fSp
    }

    static func melToHz(_ m: Double) -> Double {
        let fSp = 200.0 / 3, minLogHz = 1000.0, minLogMel = minLogHz / fSp, logStep = log(6.4) / 27
        return m >= minLogMel ? minLogHz * exp(logStep * (m - minLogMel)) : fSp * m
    }
}
