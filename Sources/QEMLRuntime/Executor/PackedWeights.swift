import QEMLTensor

/// Every step's packed constants in one read-only region, each step's blob at a 64-byte aligned
/// offset: either packed now (one allocation) or mapped from a packed-weights cache entry
/// (`PackedWeightsCache`), whose file holds this region byte for byte. Blobs are raw bytes: the
/// region does not care which element type a kernel reads.
final class PackedWeights: @unchecked Sendable {
    // @unchecked: the region never changes after init.
    let base: UnsafeRawPointer
    /// Byte offset and byte count of each step's blob.
    let blobs: [(offset: Int, bytes: Int)]
    let byteCount: Int
    /// What keeps the memory alive: nil for an allocation this object frees, else the mapping.
    private let mapping: MappedFile?

    /// Copies the blobs into one 64-byte aligned allocation.
    init(_ blocks: [[Float]]) {
        var blobs: [(offset: Int, bytes: Int)] = []
        var total = 0
        for b in blocks {
            blobs.append((total, b.count * 4))
            total += (b.count * 4 + 63) / 64 * 64
        }
        byteCount = max(64, total)
        let base = UnsafeMutableRawPointer.allocate(byteCount: byteCount, alignment: 64)
        base.initializeMemory(as: UInt8.self, repeating: 0, count: byteCount)
        for (b, blob) in zip(blocks, blobs) {
            b.withUnsafeBytes { p in if let src = p.baseAddress { (base + blob.offset).copyMemory(from: src, byteCount: p.count) } }
        }
        self.base = UnsafeRawPointer(base)
        self.blobs = blobs
        mapping = nil
    }

    /// Blobs inside a mapped file, the region starting at `offset` (64-byte aligned).
    init(mapping: MappedFile, offset: Int, byteCount: Int, blobs: [(offset: Int, bytes: Int)]) {
        self.mapping = mapping
        base = mapping.bytes.baseAddress! + offset  // the caller checked the file is longer than offset
        self.byteCount = byteCount
        self.blobs = blobs
    }

    deinit {
        if mapping == nil { UnsafeMutableRawPointer(mutating: base).deallocate() }
    }

    var region: UnsafeRawBufferPointer { UnsafeRawBufferPointer(start: base, count: byteCount) }

    func pointer(step: Int) -> UnsafePointer<Float> { (base + blobs[step].offset).assumingMemoryBound(to: Float.self) }
}
