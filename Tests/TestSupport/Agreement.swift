/// NaN-aware comparisons for the tests: the one way a test measures how far a result is from
/// its reference.
///
/// `Swift.max(worst, .nan)` returns `worst`, and `[…].max()` drops a NaN anywhere but first, so
/// an error check built on them passes when a kernel produces NaN. Every function here returns
/// NaN when any element (or the reference's scale) is NaN, and infinity when the counts differ;
/// compare the result with `XCTAssertLessThanOrEqual(err, tol)` / `XCTAssertLessThan`, which fail
/// on NaN (`!(err <= tol)`).
public enum Agreement {
    /// The largest element, or NaN if any element is NaN; `empty` for no elements.
    public static func largest<S: Sequence>(_ values: S, empty: S.Element = 0) -> S.Element where S.Element: FloatingPoint {
        var worst: S.Element? = nil
        for v in values {
            if v.isNaN { return .nan }
            if worst == nil || v > worst! { worst = v }
        }
        return worst ?? empty
    }

    /// The smallest element, or NaN if any element is NaN; `empty` for no elements.
    public static func smallest<S: Sequence>(_ values: S, empty: S.Element = 0) -> S.Element where S.Element: FloatingPoint {
        -largest(values.lazy.map { -$0 }, empty: -empty)
    }

    /// max |got − want|.
    public static func absolute<T: FloatingPoint>(_ got: [T], _ want: [T]) -> T {
        guard got.count == want.count else { return .infinity }
        return largest(zip(got, want).lazy.map { abs($0 - $1) })
    }

    /// max |got − want| / max(|want|, floor): relative where the reference is large, absolute
    /// (scaled by `floor`) near zero.
    public static func relative<T: FloatingPoint>(_ got: [T], _ want: [T], floor: T) -> T {
        guard got.count == want.count else { return .infinity }
        return largest(zip(got, want).lazy.map { abs($0 - $1) / max(abs($1), floor) })
    }

    /// max |got − want| / max(max |want|, minimumScale): relative to the reference's largest
    /// magnitude (outputs near zero make an element-wise relative error meaningless).
    public static func relativeToPeak<T: FloatingPoint>(_ got: [T], _ want: [T], minimumScale: T) -> T {
        guard got.count == want.count else { return .infinity }
        let peak = largest(want.lazy.map { abs($0) })
        if peak.isNaN { return .nan }
        let scale = max(peak, minimumScale)
        return largest(zip(got, want).lazy.map { abs($0 - $1) / scale })
    }

    /// max |got − want| / (|want| + share·max|want| + tiny): relative where values are large,
    /// absolute-ish near zero.
    public static func mixed<T: FloatingPoint>(_ got: [T], _ want: [T], share: T, tiny: T) -> T {
        guard got.count == want.count else { return .infinity }
        let peak = largest(want.lazy.map { abs($0) })
        if peak.isNaN { return .nan }
        return largest(zip(got, want).lazy.map { abs($0 - $1) / (abs($1) + share * peak + tiny) })
    }
}
