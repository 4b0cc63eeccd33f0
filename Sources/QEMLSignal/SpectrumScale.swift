import Foundation

/// Decibels with librosa's `power_to_db` semantics, in place on a power spectrogram:
/// 10·log10(max(amin, S)) − 10·log10(max(amin, ref)), then, with `topDB`, values below
/// max − topDB are raised to it. `ref` and `amin` are powers: librosa's
/// `amplitude_to_db(|X|, ref=r, amin=a)` equals `power_to_db(|X|², ref=r², amin=a²)`
/// (the defaults amin = 1e-10 here and 1e-5 there agree).
public func powerToDB(_ s: inout [Float], ref: Double = 1, amin: Double = 1e-10, topDB: Double? = nil) throws {
    guard amin > 0 else { throw SignalError("amin = \(amin) must be positive", fix: "use e.g. amin = 1e-10") }
    if let topDB, topDB < 0 { throw SignalError("top_db = \(topDB) must be non-negative", fix: "use e.g. top_db = 80") }
    let offset = 10 * log10(max(amin, abs(ref)))
    var peak = -Double.infinity
    for i in s.indices {
        let v = 10 * log10(max(amin, Double(s[i]))) - offset
        s[i] = Float(v)
        peak = max(peak, v)
    }
    if let topDB {
        let floor = Float(peak - topDB)
        for i in s.indices where s[i] < floor { s[i] = floor }
    }
}

/// log(1 + x) elementwise (numpy `log1p`).
public func log1pInPlace(_ s: inout [Float]) {
    for i in s.indices { s[i] = log1p(s[i]) }
}

/// Per-sample standardization: (x − mean) / std with the population std (numpy's default
/// ddof = 0), accumulated in Double; a constant input becomes all zeros.
public func standardize(_ s: inout [Float]) {
    guard !s.isEmpty else { return }
    var sum = 0.0
    for v in s { sum += Double(v) }
    let mean = sum / Double(s.count)
    var sq = 0.0
    for v in s { let d = Double(v) - mean; sq += d * d }
    let std = (sq / Double(s.count)).squareRoot()
    for i in s.indices { s[i] = std > 0 ? Float((Double(s[i]) - mean) / std) : 0 }
}
