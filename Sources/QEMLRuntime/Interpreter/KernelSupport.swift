import QEMLIR
import QEMLTensor

/// Helpers the kernels share: attribute lookup with the declared defaults, operand access,
/// broadcasting.
extension Node {
    /// The attribute, or its default from the op declaration (passes may omit defaults).
    func attr(_ name: String) -> Attribute? {
        attributes[name] ?? OpRegistry.decl(op)?.attributes.first(where: { $0.name == name })?.defaultValue
    }
    func int(_ name: String, _ fallback: Int) -> Int { attr(name)?.int ?? fallback }
    func ints(_ name: String, _ fallback: [Int]) -> [Int] { attr(name)?.ints ?? fallback }
    func double(_ name: String, _ fallback: Double) -> Double { attr(name)?.double ?? fallback }
    func string(_ name: String, _ fallback: String) -> String { attr(name)?.string ?? fallback }
    func bool(_ name: String, _ fallback: Bool) -> Bool { attr(name)?.bool ?? fallback }

    /// A 2-D window attribute (kernel, stride, padding, dilation): two ints, or one meaning both.
    func pair(_ name: String, _ fallback: [Int], minimum: Int) throws(Diagnostic) -> [Int] {
        let v = attr(name)?.ints ?? fallback
        let p = v.count == 1 ? [v[0], v[0]] : v
        guard p.count == 2, p.allSatisfy({ $0 >= minimum }) else {
            throw kernelError(self, "\(name) must be two integers ≥ \(minimum), got \(v)")
        }
        return p
    }
}

func kernelError(_ node: Node, _ message: String) -> Diagnostic {
    Diagnostic("\(node.op): \(message)", at: node.location)
}

/// Operand `i`, which must be present.
func operand(_ operands: [Tensor?], _ i: Int, _ node: Node) throws(Diagnostic) -> Tensor {
    guard i < operands.count, let t = operands[i] else {
        let name = OpRegistry.decl(node.op).flatMap { i < $0.operands.count ? $0.operands[i].name : nil } ?? "operand \(i)"
        throw kernelError(node, "the \(name) operand is missing")
    }
    return t
}

/// Requires an [N,C,H,W] tensor.
func requireRank4(_ t: Tensor, _ node: Node, _ what: String = "the input") throws(Diagnostic) -> (Int, Int, Int, Int) {
    guard t.rank == 4 else { throw kernelError(node, "\(what) must be 4-D [N,C,H,W], got \(describeShape(t.shape))") }
    return (t.shape[0], t.shape[1], t.shape[2], t.shape[3])
}

/// NumPy broadcasting of two shapes.
func broadcastShape(_ a: [Int], _ b: [Int]) -> [Int]? {
    let r = max(a.count, b.count)
    var out: [Int] = []
    for i in 0..<r {
        let da = i < r - a.count ? 1 : a[i - (r - a.count)]
        let db = i < r - b.count ? 1 : b[i - (r - b.count)]
        if da == db || db == 1 { out.append(da) } else if da == 1 { out.append(db) } else { return nil }
    }
    return out
}

/// `t` repeated along its size-1 (and missing leading) dimensions to `shape`.
func broadcast(_ t: Tensor, to shape: [Int]) -> Tensor {
    if t.shape == shape { return t }
    let r = shape.count
    let padded = [Int](repeating: 1, count: r - t.rank) + t.shape
    let srcStrides = Tensor.strides(of: padded)
    // A broadcast dimension reads the same element again: stride 0.
    let strides = (0..<r).map { padded[$0] == 1 && shape[$0] != 1 ? 0 : srcStrides[$0] }
    let count = shape.reduce(1, *)
    var out = [Float](repeating: 0, count: count)
    var index = [Int](repeating: 0, count: r)
    for flat in 0..<count {
        var src = 0
        for d in 0..<r { src += index[d] * strides[d] }
        out[flat] = t.data[src]
        // Advance the odometer.
        var d = r - 1
        while d >= 0 {
            index[d] += 1
            if index[d] < shape[d] { break }
            index[d] = 0
            d -= 1
        }
    }
    return Tensor(shape: shape, data: out)
}
