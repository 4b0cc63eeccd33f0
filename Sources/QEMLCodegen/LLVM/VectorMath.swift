internal import CLLVM

/// Transcendentals as straight-line polynomial code (no libm call per element), valid for
/// scalars and vectors alike. Accuracy: a few ulp of `expf` (Cephes coefficients).
extension IRBuilder {
    /// e^x, clamped to the float range.
    func exp(_ x: IRValue) -> IRValue {
        let c = { (v: Float) in self.const(v, like: x) }
        let lanes = lanes(of: x)
        let isVector = LLVMGetTypeKind(typeOf(x)) == LLVMVectorTypeKind
        let xc = minnum(maxnum(x, c(-87.3365447505531)), c(88.3762626647949))
        // n = round(x / ln 2); r = x - n ln 2 (in two parts for accuracy)
        let n = floor(fma(xc, c(1.44269504088896341), c(0.5)))
        var r = fsub(xc, fmul(n, c(0.693359375)))
        r = fsub(r, fmul(n, c(-2.12194440e-4)))
        var p = c(1.9875691500e-4)
        for k: Float in [1.3981999507e-3, 8.3334519073e-3, 4.1665795894e-2, 1.6666665459e-1, 5.0000001201e-1] {
            p = fma(p, r, c(k))
        }
        let r2 = fmul(r, r)
        let poly = fadd(fma(p, r2, r), c(1))
        // 2^n from the exponent bits
        let intType = isVector ? m.vector(m.i32, lanes) : m.i32
        let ni = fptosi(n, intType)
        let biased = add(ni, isVector ? m.splatI32(127, lanes) : m.constI32(127))
        let bits = shl(biased, isVector ? m.splatI32(23, lanes) : m.constI32(23))
        let scale = bitcast(bits, typeOf(x))
        return fmul(poly, scale)
    }

    /// 1 / (1 + e^-x)
    func sigmoid(_ x: IRValue) -> IRValue {
        let one = const(1, like: x)
        return fdiv(one, fadd(one, exp(fsub(const(0, like: x), x))))
    }

    /// tanh: an odd polynomial near 0 (no cancellation), 1 − 2/(e^{2|x|}+1) elsewhere.
    func tanh(_ x: IRValue) -> IRValue {
        let c = { (v: Float) in self.const(v, like: x) }
        let ax = fabs(x)
        let z = fmul(x, x)
        var p = c(-5.70498872745e-3)
        for k: Float in [2.06390887954e-2, -5.37397155531e-2, 1.33314422036e-1, -3.33332819422e-1] { p = fma(p, z, c(k)) }
        let small = fma(fmul(p, z), x, x)
        let e = exp(fmul(ax, c(2)))
        let big = fsub(c(1), fdiv(c(2), fadd(e, c(1))))
        let signed = select(fcmp(LLVMRealOLT, x, c(0)), fsub(c(0), big), big)
        return select(fcmp(LLVMRealOLT, ax, c(0.625)), small, signed)
    }

    func relu(_ x: IRValue) -> IRValue { maxnum(x, const(0, like: x)) }
}
