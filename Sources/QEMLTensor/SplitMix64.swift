import Foundation

/// SplitMix64 (Steele, Lea, Flood 2014): tiny, fast, and the same sequence on every platform —
/// weights from `init-weights`, synthetic signals and benchmark inputs are reproducible by seed.
public struct SplitMix64: Sendable {
    private var state: UInt64

    public init(seed: UInt64) { state = seed }

    /// A stream per (seed, name): the name's FNV-1a hash mixed into the seed.
    public init(seed: UInt64, name: String) {
        var h: UInt64 = 0xcbf2_9ce4_8422_2325
        for b in name.utf8 { h = (h ^ UInt64(b)) &* 0x0000_0100_0000_01b3 }
        state = seed &* 0x9E37_79B9_7F4A_7C15 ^ h
    }

    public mutating func next() -> UInt64 {
        state &+= 0x9E37_79B9_7F4A_7C15
        var z = state
        z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
        z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
        return z ^ (z >> 31)
    }

    /// Uniform in [0, 1) with 53 random bits.
    public mutating func unit() -> Double { Double(next() >> 11) * 0x1p-53 }

    /// `count` values uniform in [lo, hi).
    public mutating func uniforms(_ count: Int, _ lo: Double, _ hi: Double) -> [Float] {
        [Float](unsafeUninitializedCapacity: count) { buf, done in
            var i = 0
            while i < count { buf[i] = Float(lo + (hi - lo) * unit()); i += 1 }
            done = count
        }
    }

    /// `count` normal values by Box–Muller: each pair of uniforms gives two normals
    /// (r·cos, r·sin). Written as a plain loop because the weights of a ResNet-50 are 25 M
    /// draws and tests run in debug builds.
    public mutating func normals(_ count: Int, mean: Double, std: Double) -> [Float] {
        [Float](unsafeUninitializedCapacity: count) { buf, done in
            var i = 0
            while i < count {
                let u1 = 1 - unit()  // (0, 1]: log is finite
                let u2 = unit()
                let r = (-2 * log(u1)).squareRoot() * std
                let a = 2 * Double.pi * u2
                buf[i] = Float(mean + r * cos(a))
                if i + 1 < count { buf[i + 1] = Float(mean + r * sin(a)) }
                i += 2
            }
            done = count
        }
    }

    /// One standard normal by Box–Muller (the cosine branch only), for signal synthesis.
    public mutating func gaussian() -> Double {
        let u = max(unit(), 0x1p-60), v = unit()
        return (-2 * log(u)).squareRoot() * cos(2 * .pi * v)
    }
}
