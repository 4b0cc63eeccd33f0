/// sin and cos of four doubles at once, to within a few ulp for |x| < 2^20: Cody–Waite reduction
/// by π/2 in three parts, then Cephes' minimax polynomials on [−π/4, π/4]. The folded-observable
/// kernel spends most of its time here, and libm has no vector entry point Swift can call.
@inlinable @inline(__always)
public func sinCos(_ x: SIMD4<Double>) -> (sin: SIMD4<Double>, cos: SIMD4<Double>) {
    // Round to nearest by adding and subtracting 1.5·2^52 (no roundpd before SSE4.1, and libm's
    // rint per lane costs more than the polynomial).
    let magic = SIMD4<Double>(repeating: 6755399441055744.0)
    let k = (x * 0.63661977236758134308 + magic) - magic
    var r = x - k * 1.57079632673412561417e+00
    r = r - k * 6.07710050630396597660e-11
    r = r - k * 2.02226624879595063154e-21
    let z = r * r
    var ps = SIMD4<Double>(repeating: 1.58962301576546568060e-10)
    ps = ps * z - 2.50507477628578072866e-8
    ps = ps * z + 2.75573136213857245213e-6
    ps = ps * z - 1.98412698295895385996e-4
    ps = ps * z + 8.33333333332211858878e-3
    ps = ps * z - 1.66666666666666307295e-1
    let s = r + r * z * ps
    var pc = SIMD4<Double>(repeating: -1.13585365213876817300e-11)
    pc = pc * z + 2.08757008419747316778e-9
    pc = pc * z - 2.75573141792967388112e-7
    pc = pc * z + 2.48015872888517045348e-5
    pc = pc * z - 1.38888888888730564116e-3
    pc = pc * z + 4.16666666666665929218e-2
    let c = 1 - 0.5 * z + z * z * pc
    // Quadrant k mod 4 in {0, 1, 2, 3}, kept in doubles.
    var q = k - 4 * ((k * 0.25 + magic) - magic)
    q.replace(with: q + 4, where: q .< 0)
    let odd = (q .== 1) .| (q .== 3)
    var sinv = s.replacing(with: c, where: odd)
    var cosv = c.replacing(with: s, where: odd)
    sinv.replace(with: -sinv, where: q .>= 2)
    cosv.replace(with: -cosv, where: (q .== 1) .| (q .== 2))
    return (sinv, cosv)
}

/// Largest |x| for which `sinCos` keeps full double accuracy.
public let sinCosRange = 1048576.0
