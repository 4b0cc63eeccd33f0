import QEMLIR
import QEMLTensor

/// A node on the reference interpreter's kernel: its activation operands are copied out of the
/// arena into plain tensors, its results copied back in (the slow path, allocating per run;
/// `KernelPlan.fallbacks` lists every such node). A planned circuit keeps one as its
/// `reference` (`KernelPlan.Action.circuit`) for the export, which turns the node into C.
struct FallbackStep: @unchecked Sendable {
    // @unchecked: `kernel` is a @Sendable closure and every other field is an immutable value.
    enum Source: Sendable {
        case weight(Tensor)
        /// Index into the step's slot pointers, the storage, the per-sample dims.
        case slot(Int, BlockedStorage, [Int])
    }

    let node: Node
    let graph: Graph
    let sources: [Source?]
    let results: [(index: Int, storage: BlockedStorage, dims: [Int])]
    let kernel: ReferenceKernel

    func run(_ buffers: UnsafePointer<UnsafeMutablePointer<Float>?>, batch: Int, pool: ThreadPool? = nil) throws {
        var operands: [Tensor?] = []
        for source in sources {
            switch source {
            case nil: operands.append(nil)
            case .weight(let t): operands.append(t)
            case .slot(let k, let storage, let dims)?:
                var t = Tensor(zeros: [batch] + dims)
                t.data.withUnsafeMutableBufferPointer { p in
                    if let base = p.baseAddress, let src = buffers[k] { storage.unblock(src, into: base, batch: batch) }
                }
                operands.append(t)
            }
        }
        let out = try kernel(node, operands, graph)
        guard out.count == results.count else {
            throw PlanError("the reference \(node.op) kernel returned \(out.count) results, the node has \(results.count)")
        }
        for (t, r) in zip(out, results) {
            guard t.count == batch * r.storage.plainPerSample else {
                throw PlanError("the reference \(node.op) kernel returned \(describeShape(t.shape)), expected \(describeShape([batch] + r.dims))")
            }
            t.data.withUnsafeBufferPointer { p in
                if let base = p.baseAddress, let dst = buffers[r.index] { r.storage.block(base, into: dst, batch: batch) }
            }
        }
    }
}
