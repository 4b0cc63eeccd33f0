/// A dense, row-major (C order) tensor of 32-bit floats: the one runtime value type of qemlc.
/// Graph values, weights, signals and spectrograms are all `Tensor`s.
public struct Tensor: Equatable, Sendable {
    public var shape: [Int]
    public var data: [Float]

    public init(shape: [Int], data: [Float]) {
        precondition(shape.allSatisfy { $0 >= 0 }, "negative dimension in \(shape)")
        precondition(shape.reduce(1, *) == data.count, "shape \(shape) does not hold \(data.count) elements")
        self.shape = shape
        self.data = data
    }

    public init(zeros shape: [Int]) {
        self.init(shape: shape, data: [Float](repeating: 0, count: shape.reduce(1, *)))
    }

    public init(shape: [Int], repeating value: Float) {
        self.init(shape: shape, data: [Float](repeating: value, count: shape.reduce(1, *)))
    }

    public var count: Int { data.count }
    public var rank: Int { shape.count }

    /// Row-major strides, in elements.
    public var strides: [Int] { Tensor.strides(of: shape) }

    public static func strides(of shape: [Int]) -> [Int] {
        var s = [Int](repeating: 1, count: shape.count)
        var acc = 1
        for i in stride(from: shape.count - 1, through: 0, by: -1) { s[i] = acc; acc *= shape[i] }
        return s
    }

    /// The same elements under another shape with the same element count.
    public func reshaped(_ newShape: [Int]) -> Tensor {
        Tensor(shape: newShape, data: data)
    }

    public subscript(_ index: Int...) -> Float {
        get { data[flatIndex(index)] }
        set { data[flatIndex(index)] = newValue }
    }

    private func flatIndex(_ index: [Int]) -> Int {
        precondition(index.count == shape.count, "index \(index) for shape \(shape)")
        var flat = 0
        for (i, d) in zip(index, shape) { precondition(i >= 0 && i < d); flat = flat * d + i }
        return flat
    }
}

public func describeShape(_ shape: [Int]) -> String {
    "[" + shape.map(String.init).joined(separator: ",") + "]"
}
