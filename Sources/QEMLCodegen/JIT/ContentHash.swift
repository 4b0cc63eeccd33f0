/// FNV-1a with a 128-bit state: a content hash for cache keys (no dependency needed; not
/// cryptographic — the cache trusts its own folder).
struct ContentHash {
    private var hi: UInt64 = 0x6c62272e07bb0142
    private var lo: UInt64 = 0x62b821756295c58d

    mutating func update<S: Sequence>(_ bytes: S) where S.Element == UInt8 {
        // prime = 2^88 + 2^8 + 0x3b
        for byte in bytes {
            lo ^= UInt64(byte)
            // (hi:lo) * (2^88 + 0x13b) mod 2^128
            let p = lo.multipliedFullWidth(by: 0x13b)
            // lo · 2^88 adds lo << 24 to the high word; hi · 2^88 overflows away.
            hi = hi &* 0x13b &+ p.high &+ (lo << 24)
            lo = p.low
        }
    }

    mutating func update(_ s: String) {
        update(s.utf8)
        update([0])  // separator, so ("ab","c") ≠ ("a","bc")
    }

    var hex: String {
        func h(_ v: UInt64) -> String {
            let s = String(v, radix: 16)
            return String(repeating: "0", count: 16 - s.count) + s
        }
        return h(hi) + h(lo)
    }

    static func of(_ bytes: [UInt8]) -> String {
        var hash = ContentHash()
        hash.update(bytes)
        return hash.hex
    }
}
