#if arch(x86_64)
import _Builtin_intrinsics.intel
#endif

// Four-lane float arithmetic for the STFT's fused epilogue. Swift's generic SIMD operators are
// lane loops that LLVM's SLP vectorizer only partly re-vectorizes (a long polynomial came out
// three lanes vector, one scalar), and `squareRoot()` becomes four errno-checking `sqrtf`
// calls; on x86-64 these wrappers pin each step to one SSE instruction. Elsewhere the plain
// operators are used.
typealias F4 = SIMD4<Float>
typealias I4 = SIMD4<Int32>

#if arch(x86_64)
@inline(__always) func vadd(_ a: F4, _ b: F4) -> F4 { _mm_add_ps(a, b) }
@inline(__always) func vsub(_ a: F4, _ b: F4) -> F4 { _mm_sub_ps(a, b) }
@inline(__always) func vmul(_ a: F4, _ b: F4) -> F4 { _mm_mul_ps(a, b) }
@inline(__always) func vdiv(_ a: F4, _ b: F4) -> F4 { _mm_div_ps(a, b) }
@inline(__always) func vsqrt(_ a: F4) -> F4 { _mm_sqrt_ps(a) }
@inline(__always) func vbits(_ a: F4) -> I4 { unsafeBitCast(a, to: I4.self) }
@inline(__always) func vfloatBits(_ a: I4) -> F4 { unsafeBitCast(a, to: F4.self) }
@inline(__always) func vaddi(_ a: I4, _ b: I4) -> I4 {
    unsafeBitCast(_mm_add_epi32(unsafeBitCast(a, to: __m128i.self), unsafeBitCast(b, to: __m128i.self)), to: I4.self)
}
@inline(__always) func vandi(_ a: I4, _ b: I4) -> I4 {
    unsafeBitCast(_mm_and_si128(unsafeBitCast(a, to: __m128i.self), unsafeBitCast(b, to: __m128i.self)), to: I4.self)
}
@inline(__always) func vshr23(_ a: I4) -> I4 {
    unsafeBitCast(_mm_srai_epi32(unsafeBitCast(a, to: __m128i.self), 23), to: I4.self)
}
@inline(__always) func vtoFloat(_ a: I4) -> F4 { _mm_cvtepi32_ps(unsafeBitCast(a, to: __m128i.self)) }
#else
@inline(__always) func vadd(_ a: F4, _ b: F4) -> F4 { a + b }
@inline(__always) func vsub(_ a: F4, _ b: F4) -> F4 { a - b }
@inline(__always) func vmul(_ a: F4, _ b: F4) -> F4 { a * b }
@inline(__always) func vdiv(_ a: F4, _ b: F4) -> F4 { a / b }
@inline(__always) func vsqrt(_ a: F4) -> F4 { a.squareRoot() }
@inline(__always) func vbits(_ a: F4) -> I4 { unsafeBitCast(a, to: I4.self) }
@inline(__always) func vfloatBits(_ a: I4) -> F4 { unsafeBitCast(a, to: F4.self) }
@inline(__always) func vaddi(_ a: I4, _ b: I4) -> I4 { a &+ b }
@inline(__always) func vandi(_ a: I4, _ b: I4) -> I4 { a & b }
@inline(__always) func vshr23(_ a: I4) -> I4 { a &>> 23 }
@inline(__always) func vtoFloat(_ a: I4) -> F4 { F4(a) }
#endif

@inline(__always) private func k(_ v: Float) -> F4 { F4(repeating: v) }

/// Natural logarithm of positive normal floats, four lanes: Cephes' `logf` polynomial (max
/// relative error ≈ 1e-7), with musl's integer range reduction (no lane selects).
@inline(__always)
func vectorLog(_ u: F4) -> F4 {
    // u = m · 2^e with m in [√½, √2).
    let ix = vaddi(vbits(u), I4(repeating: 0x3f80_0000 - 0x3f35_04f3))
    let e = vtoFloat(vaddi(vshr23(ix), I4(repeating: -0x7f)))
    let m = vfloatBits(vaddi(vandi(ix, I4(repeating: 0x007f_ffff)), I4(repeating: 0x3f35_04f3)))
    let x = vsub(m, k(1))
    let z = vmul(x, x)
    var y = k(7.0376836292e-2)
    y = vadd(vmul(y, x), k(-1.1514610310e-1))
    y = vadd(vmul(y, x), k(1.1676998740e-1))
    y = vadd(vmul(y, x), k(-1.2420140846e-1))
    y = vadd(vmul(y, x), k(1.4249322787e-1))
    y = vadd(vmul(y, x), k(-1.6668057665e-1))
    y = vadd(vmul(y, x), k(2.0000714765e-1))
    y = vadd(vmul(y, x), k(-2.4999993993e-1))
    y = vadd(vmul(y, x), k(3.3333331174e-1))
    y = vmul(vmul(y, x), z)
    y = vadd(y, vmul(e, k(-2.12194440e-4)))
    y = vsub(y, vmul(k(0.5), z))
    return vadd(vadd(x, y), vmul(e, k(0.693359375)))
}

/// log(1 + x) for x ≥ 0 (magnitudes), accurate for tiny x too: with u = fl(1 + x),
/// log1p(x) ≈ log(u) + (x − (u − 1)) / u corrects the rounding of u to first order.
/// (For tiny x the correction is the whole answer, so it needs a true division.)
@inline(__always)
func vectorLog1p(_ x: F4) -> F4 {
    let u = vadd(k(1), x)
    return vadd(vectorLog(u), vdiv(vsub(x, vsub(u, k(1))), u))
}

/// Correctly rounded √x (`sqrtps` on x86-64).
@inline(__always)
func vectorSqrt(_ x: F4) -> F4 { vsqrt(x) }
