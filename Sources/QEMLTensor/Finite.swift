import Foundation

/// Non-finite input (NaN, ±Inf) is refused where it enters: a NaN spectrogram or sample
/// otherwise flows through every kernel and comes out as a confident class (or `-nan`). The
/// readers (`WAVReader`, `CSVReader`, `SignalFile`) and the CLI's input binding call this, so
/// every command that reads a signal or tensor (`run`, `eval`, `spectrogram`, `envelope`)
/// refuses it with the same words.
///
///     x.npy: index 17 [0,0,0,17]: NaN is not a finite number
///       fix: qemlc refuses non-finite input; clean the data first (numpy: np.isfinite(x).all())
public func requireFinite<C: RandomAccessCollection>(_ values: C, path: String, shape: [Int]? = nil, what: String = "index") throws
where C.Element == Float, C.Index == Int {
    guard let i = firstNonFinite(values) else { return }
    let v = values[i]
    let offset = i - values.startIndex
    var place = "\(what) \(offset)"
    if let shape, shape.count > 1 { place += " " + describeIndex(offset, shape) }
    throw FileFormatError(path: path, place: place, message: "\(describeNonFinite(v)) is not a finite number",
                          fix: "qemlc refuses non-finite input; clean the data first (numpy: np.isfinite(x).all())")
}

/// The index of the first NaN or ±Inf, or nil.
public func firstNonFinite<C: RandomAccessCollection>(_ values: C) -> Int? where C.Element == Float, C.Index == Int {
    values.firstIndex { !$0.isFinite }
}

/// "NaN", "+Inf" or "-Inf".
public func describeNonFinite(_ v: Float) -> String { v.isNaN ? "NaN" : v > 0 ? "+Inf" : "-Inf" }

/// The multi-index of flat `offset` in a row-major `shape`: `[0,0,3,17]`.
func describeIndex(_ offset: Int, _ shape: [Int]) -> String {
    var rest = offset
    var idx = [Int](repeating: 0, count: shape.count)
    for d in shape.indices.reversed() where shape[d] > 0 {
        idx[d] = rest % shape[d]
        rest /= shape[d]
    }
    return "[" + idx.map(String.init).joined(separator: ",") + "]"
}

extension Tensor {
    /// Throws `FileFormatError` naming `path` and the first non-finite element.
    public func requireFinite(path: String) throws {
        try QEMLTensor.requireFinite(data, path: path, shape: shape)
    }
}

/// "1 block", "2 blocks": a count and its noun (the regular English plural with -s).
public func plural(_ n: Int, _ singular: String) -> String { "\(n) \(singular)\(n == 1 ? "" : "s")" }

/// A byte count in binary units, the one format every report uses: "512 B", "80.0 KiB",
/// "1.25 MiB", "2.00 GiB".
public func formatBytes(_ n: Int) -> String {
    let v = Double(n)
    if v >= 1_073_741_824 { return String(format: "%.2f GiB", v / 1_073_741_824) }
    if v >= 1_048_576 { return String(format: "%.2f MiB", v / 1_048_576) }
    if v >= 1024 { return String(format: "%.1f KiB", v / 1024) }
    return "\(n) B"
}
