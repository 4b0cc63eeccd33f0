/// A fast 128-bit content hash for large byte ranges (weights, packed-weight cache entries):
/// four independent 64-bit multiply–xor lanes over 32-byte blocks, so it runs near memory
/// bandwidth (~100 MB in ~10 ms) where a byte-at-a-time hash would take a second. Not
/// cryptographic: it detects damage and tells contents apart; the cache trusts its own folder.
/// The result depends on how the bytes are split into `update` calls: hash the same way each time.
public struct BulkHash: Sendable {
    private var lanes: (UInt64, UInt64, UInt64, UInt64) = (0x9E37_79B9_7F4A_7C15, 0xC2B2_AE3D_27D4_EB4F, 0x1656_67B1_9E37_79F9, 0x85EB_CA77_C2B2_AE63)
    private var length: UInt64 = 0
    private static let prime: UInt64 = 0x9FB2_1C65_1E98_DF25

    public init() {}

    private static func mix(_ h: UInt64, _ w: UInt64) -> UInt64 {
        let x = (h ^ w) &* prime
        return x ^ (x >> 29)
    }

    public mutating func update(_ bytes: UnsafeRawBufferPointer) {
        guard let base = bytes.baseAddress else { return }
        let n = bytes.count
        var i = 0
        var (a, b, c, d) = lanes
        while i + 32 <= n {
            a = Self.mix(a, base.loadUnaligned(fromByteOffset: i, as: UInt64.self))
            b = Self.mix(b, base.loadUnaligned(fromByteOffset: i + 8, as: UInt64.self))
            c = Self.mix(c, base.loadUnaligned(fromByteOffset: i + 16, as: UInt64.self))
            d = Self.mix(d, base.loadUnaligned(fromByteOffset: i + 24, as: UInt64.self))
            i += 32
        }
        var tail: UInt64 = 0, shift: UInt64 = 0
        while i < n {
            tail |= UInt64(base.load(fromByteOffset: i, as: UInt8.self)) << shift
            shift += 8
            i += 1
            if shift == 64 { a = Self.mix(a, tail); tail = 0; shift = 0 }
        }
        if shift > 0 { b = Self.mix(b, tail ^ (shift << 56)) }
        lanes = (a, b, c, d)
        length &+= UInt64(n)
    }

    public mutating func update(_ bytes: [UInt8]) { bytes.withUnsafeBytes { update($0) } }

    public mutating func update(_ floats: [Float]) { floats.withUnsafeBytes { update($0) } }

    /// A string, followed by a separator so ("ab", "c") ≠ ("a", "bc").
    public mutating func update(_ s: String) {
        update(Array(s.utf8) + [0])
    }

    /// The 16-byte digest.
    public var digest: [UInt8] {
        let (a, b, c, d) = lanes
        let hi = Self.mix(Self.mix(a, c), length), lo = Self.mix(Self.mix(b, d), length ^ hi)
        return (0..<16).map { i in UInt8(truncatingIfNeeded: (i < 8 ? hi : lo) >> (8 * UInt64(7 - i % 8))) }
    }

    /// The digest as 32 hex digits.
    public var hex: String { digest.map { ($0 < 16 ? "0" : "") + String($0, radix: 16) }.joined() }
}
