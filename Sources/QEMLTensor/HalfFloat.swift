/// Bit-exact conversions from the 16-bit float formats weights are often stored in. Written on
/// the bit patterns (not `Float16`) so they behave the same on every platform.
public enum HalfFloat {
    /// IEEE 754 binary16 → Float, exact (every half value is a float), subnormals, ±inf and NaN included.
    public static func float(fromHalf h: UInt16) -> Float {
        let sign = UInt32(h >> 15) << 31
        let exp = Int((h >> 10) & 0x1F)
        let mant = UInt32(h & 0x3FF)
        if exp == 0x1F { return Float(bitPattern: sign | 0x7F80_0000 | (mant << 13)) }
        if exp == 0 {
            // Zero or subnormal: mant × 2^-24, exact in Float.
            let magnitude = Float(mant) * 0x1p-24
            return sign != 0 ? -magnitude : magnitude
        }
        return Float(bitPattern: sign | UInt32(exp - 15 + 127) << 23 | (mant << 13))
    }

    /// bfloat16 → Float: the upper half of a float's bits.
    public static func float(fromBFloat16 b: UInt16) -> Float {
        Float(bitPattern: UInt32(b) << 16)
    }

    /// Float → binary16, round to nearest even (for writers and tests).
    public static func half(from f: Float) -> UInt16 {
        let bits = f.bitPattern
        let sign = UInt16((bits >> 16) & 0x8000)
        if f.isNaN { return sign | 0x7E00 }
        let a = abs(f)
        if a >= 65520 { return sign | 0x7C00 }  // rounds to infinity
        if a < 0x1p-14 {
            // Subnormal half: round a / 2^-24 to the nearest integer, ties to even.
            let q = (a * 0x1p24).rounded(.toNearestOrEven)
            return sign | UInt16(q)
        }
        let e = Int((bits >> 23) & 0xFF) - 127
        var m = bits & 0x7F_FFFF
        var he = UInt32(e + 15)
        // Keep 10 mantissa bits, round to nearest even on the 13 dropped.
        let dropped = m & 0x1FFF
        m >>= 13
        if dropped > 0x1000 || (dropped == 0x1000 && (m & 1) == 1) { m += 1 }
        if m == 0x400 { m = 0; he += 1 }
        return sign | UInt16(he << 10) | UInt16(m)
    }
}
