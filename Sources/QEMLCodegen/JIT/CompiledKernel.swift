/// A callable generated kernel: its definition (name, buffers, work items, FLOPs) and packed
/// weights, and the machine code's entry point. Calls from several threads on disjoint item
/// ranges are safe (the kernel only reads `params` and its inputs).
public final class CompiledKernel: @unchecked Sendable {
    public typealias Entry = @convention(c) (UnsafePointer<UnsafeMutablePointer<Float>?>?, UnsafePointer<Float>?, Int64, Int64) -> Void

    public let definition: KernelDefinition
    public let entry: Entry
    /// The packed constants, 64-byte aligned, immutable after creation.
    private let params: UnsafeMutableRawPointer
    private let owner: AnyObject

    init(definition: KernelDefinition, address: UInt, owner: AnyObject) {
        self.definition = definition
        self.owner = owner
        entry = unsafeBitCast(UnsafeRawPointer(bitPattern: address), to: Entry.self)
        let count = max(definition.params.count, 16)
        params = UnsafeMutableRawPointer.allocate(byteCount: count * 4, alignment: 64)
        let floats = params.bindMemory(to: Float.self, capacity: count)
        floats.initialize(repeating: 0, count: count)
        definition.params.withUnsafeBufferPointer { src in
            if let base = src.baseAddress { floats.update(from: base, count: src.count) }
        }
    }

    deinit { params.deallocate() }

    public var name: String { definition.name }
    public var summary: String { definition.summary }
    public var itemsPerSample: Int { definition.itemsPerSample }
    public var flopsPerSample: Int { definition.flopsPerSample }
    public var packedParams: UnsafePointer<Float> { UnsafePointer(params.assumingMemoryBound(to: Float.self)) }

    /// Runs items `[begin, end)` with `buffers` in the order of `definition.buffers`.
    /// The caller guarantees each buffer holds `batch · elementsPerSample` floats and
    /// `end ≤ batch · itemsPerSample`.
    public func run(_ buffers: UnsafePointer<UnsafeMutablePointer<Float>?>, begin: Int, end: Int) {
        entry(buffers, packedParams, Int64(begin), Int64(end))
    }

    /// Convenience: runs items `[begin, end)` over the given buffers.
    public func run(_ buffers: [UnsafeMutablePointer<Float>], begin: Int, end: Int) {
        let slots: [UnsafeMutablePointer<Float>?] = buffers
        slots.withUnsafeBufferPointer { run($0.baseAddress!, begin: begin, end: end) }
    }
}
