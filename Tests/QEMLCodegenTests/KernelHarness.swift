import XCTest
@testable import QEMLCodegen

/// Runs a compiled kernel over a batch: inputs given as the kernel stores them, outputs
/// allocated (NaN-filled, so unwritten floats show), the item range split in two like two threads.
enum KernelHarness {
    static func run(_ k: CompiledKernel, batch n: Int, inputs: [[Float]]) -> [[Float]] {
        let defs = k.definition.buffers
        var inputIndex = 0
        var ptrs: [UnsafeMutablePointer<Float>] = []
        for b in defs {
            let count = n * b.elementsPerSample
            let p = UnsafeMutablePointer<Float>.allocate(capacity: max(count, 1))
            if b.role == .input {
                precondition(inputs[inputIndex].count == count, "\(k.name): input \(b.name) needs \(count) floats, got \(inputs[inputIndex].count)")
                p.initialize(from: inputs[inputIndex], count: count)
                inputIndex += 1
            } else {
                p.initialize(repeating: .nan, count: count)
            }
            ptrs.append(p)
        }
        defer { ptrs.forEach { $0.deallocate() } }
        let total = n * k.itemsPerSample
        k.run(ptrs, begin: 0, end: total / 2)
        k.run(ptrs, begin: total / 2, end: total)
        return zip(defs, ptrs).filter { $0.0.role == .output }.map { Array(UnsafeBufferPointer(start: $0.1, count: n * $0.0.elementsPerSample)) }
    }
}
