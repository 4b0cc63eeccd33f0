import Foundation

/// The analysis windows of the `frontend` section, with SciPy's definitions
/// (`scipy.signal.get_window`): periodic (DFT-even, `fftbins=True`, the SciPy/librosa default)
/// divides by N, symmetric by N−1.
public enum WindowKind: String, CaseIterable, Sendable {
    case hann, hamming, blackman, rectangular

    public func values(length n: Int, periodic: Bool) -> [Float] {
        guard n > 1 else { return [Float](repeating: 1, count: max(n, 0)) }
        let denom = Double(periodic ? n : n - 1)
        return (0..<n).map { i in
            let x = 2 * Double.pi * Double(i) / denom
            switch self {
            case .hann: return Float(0.5 - 0.5 * cos(x))
            case .hamming: return Float(0.54 - 0.46 * cos(x))
            case .blackman: return Float(0.42 - 0.5 * cos(x) + 0.08 * cos(2 * x))
            case .rectangular: return 1
            }
        }
    }

    /// A `winLength` window centred in an `nFFT` frame, zeros around it
    /// (librosa's `util.pad_center`: the left margin is ⌊(nFFT − winLength)/2⌋).
    public func frameWindow(nFFT: Int, winLength: Int, periodic: Bool) -> [Float] {
        var w = [Float](repeating: 0, count: nFFT)
        let left = (nFFT - winLength) / 2
        for (i, v) in values(length: winLength, periodic: periodic).enumerated() { w[left + i] = v }
        return w
    }
}
