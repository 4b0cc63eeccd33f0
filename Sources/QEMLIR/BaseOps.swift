/// The ops a `.qir` model is written in. The fused ops passes create are declared in
/// `FusedOps.swift`; `OpRegistry.builtIn` lists both.
enum BaseOps {
    static let all: [OpDecl] = [
        conv2d, batchnorm,
        unary("relu", "max(x, 0)", flopsPerElement: 1),
        unary("sigmoid", "1 / (1 + exp(-x))", flopsPerElement: 4),
        unary("tanh", "hyperbolic tangent", flopsPerElement: 4),
        binary("add", "elementwise sum with NumPy broadcasting"),
        binary("mul", "elementwise product with NumPy broadcasting"),
        scale,
        pool("maxpool2d", "max over k×k windows"),
        pool("avgpool2d", "mean over k×k windows (padding counted, as PyTorch's count_include_pad)"),
        globalPool("global_avgpool", "mean over H×W → [N,C,1,1]"),
        globalPool("global_maxpool", "max over H×W → [N,C,1,1]"),
        channelReduce("channel_mean", "mean over channels per pixel → [N,1,H,W]"),
        channelReduce("channel_max", "max over channels per pixel → [N,1,H,W]"),
        concat, flatten, dense, softmax, circuit,
    ]

    static let conv2d = OpDecl(
        name: "conv2d",
        summary: "2-D convolution (cross-correlation, PyTorch semantics) with an optional epilogue: + bias, BatchNorm, + residual, activation",
        example: "%y = conv2d(%x, @conv1.weight, out=64, kernel=7, stride=2, padding=3)",
        operands: [.init("input"), .init("weight"), .init("bias", optional: true),
                   .init("bn_weight", optional: true), .init("bn_bias", optional: true),
                   .init("bn_mean", optional: true), .init("bn_var", optional: true),
                   .init("residual", optional: true),
                   // int8 (docs/QUANTIZATION.md): the per-output-channel weight scales s_w.
                   .init("weight_scale", optional: true)],
        attributes: [.init("out", .int), .init("kernel", .ints(2)), .init("stride", .ints(2), .ints([1, 1])),
                     .init("padding", .ints(2), .ints([0, 0])), .init("dilation", .ints(2), .ints([1, 1])),
                     .init("groups", .int, .int(1)), .init("eps", .float, .float(1e-5)),
                     .init("activation", .choice(["none", "relu", "sigmoid"]), .string("none")),
                     // CBAM's channel pooling fused into the producer: extra results avg and max, [N,C,1,1].
                     .init("pool", .choice(["none", "avgmax"]), .string("none"))] + precisionAttributes,
        infer: { q throws(ShapeError) in
            let (n, c, h, w) = try nchw(try q.type(0, "the input"), "the input")
            let out = q.int("out"), k = q.ints("kernel"), s = q.ints("stride"), p = q.ints("padding"), d = q.ints("dilation"), g = q.int("groups")
            guard out > 0 else { throw ShapeError("out must be positive, got \(out)") }
            guard k.allSatisfy({ $0 > 0 }), s.allSatisfy({ $0 > 0 }), d.allSatisfy({ $0 > 0 }), p.allSatisfy({ $0 >= 0 }) else {
                throw ShapeError("kernel, stride and dilation must be positive and padding non-negative")
            }
            guard g > 0, c % g == 0, out % g == 0 else {
                throw ShapeError("groups=\(g) must divide both the input channels (\(c)) and out (\(out))")
            }
            let ho = windowOutput(h, kernel: k[0], stride: s[0], padding: p[0], dilation: d[0])
            let wo = windowOutput(w, kernel: k[1], stride: s[1], padding: p[1], dilation: d[1])
            guard ho > 0, wo > 0 else {
                throw ShapeError("a \(k[0])×\(k[1]) kernel does not fit the \(h)×\(w) input with padding \(p)")
            }
            let result = TensorType([n, .fixed(out), .fixed(ho), .fixed(wo)])
            var weights: [Int: TensorType] = [1: TensorType(fixed: [out, c / g, k[0], k[1]])]
            for i in [2, 3, 4, 5, 6, 8] where i < q.isWeight.count && q.isWeight[i] { weights[i] = TensorType(fixed: [out]) }
            if let r = q.operands[7], r != result, (try? broadcast(result, r)) != result {
                throw ShapeError("the residual \(r) does not match the convolution's output \(result)")
            }
            if q.attributes.string("pool") == "avgmax" {
                let pooled = TensorType([n, .fixed(out), .fixed(1), .fixed(1)])
                return ShapeResult([result, pooled, pooled], weights: weights)
            }
            return ShapeResult([result], weights: weights)
        },
        flops: { q, r in
            let o = r[0].elementsPerSample, k = q.ints("kernel")
            let cin = (q.operands[0]?.dims[1].value ?? 0) / max(1, q.int("groups"))
            return 2 * o * cin * k[0] * k[1]
        })

    /// Set by the `quantize` pass on conv2d and dense (docs/QUANTIZATION.md): the arithmetic, and
    /// for int8 the activation scales s_x and, when the output is stored as 7-bit for int8
    /// consumers, s_y.
    static let precisionAttributes: [OpDecl.Attr] = [
        .init("precision", .choice(["f32", "bf16", "int8"]), .string("f32")),
        .init("input_scale", .float, optional: true), .init("output_scale", .float, optional: true),
    ]

    static let batchnorm = OpDecl(
        name: "batchnorm",
        summary: "inference BatchNorm over channels: (x − mean) / sqrt(var + eps) · weight + bias",
        example: "%y = batchnorm(%x, @bn1.weight, @bn1.bias, @bn1.running_mean, @bn1.running_var)",
        operands: [.init("input"), .init("weight"), .init("bias"), .init("mean"), .init("var")],
        attributes: [.init("eps", .float, .float(1e-5))],
        infer: { q throws(ShapeError) in
            let x = try q.type(0, "the input")
            guard x.rank >= 2, let c = x.dims[1].value else { throw ShapeError("the input must be [N,C,…] with fixed C, got \(x)") }
            let p = TensorType(fixed: [c])
            return ShapeResult([x], weights: [1: p, 2: p, 3: p, 4: p])
        },
        flops: { _, r in 2 * r[0].elementsPerSample })

    static func unary(_ name: String, _ summary: String, flopsPerElement: Int) -> OpDecl {
        OpDecl(name: name, summary: summary, example: "%y = \(name)(%x)",
               operands: [.init("input")], attributes: [],
               infer: { q throws(ShapeError) in ShapeResult([try q.type(0, "the input")]) },
               flops: { _, r in flopsPerElement * r[0].elementsPerSample })
    }

    static func binary(_ name: String, _ summary: String) -> OpDecl {
        OpDecl(name: name, summary: summary, example: "%y = \(name)(%a, %b)",
               operands: [.init("lhs"), .init("rhs")], attributes: [],
               infer: { q throws(ShapeError) in
                   ShapeResult([try broadcast(try q.type(0, "the left operand"), try q.type(1, "the right operand"))])
               },
               flops: { _, r in r[0].elementsPerSample })
    }

    static let scale = OpDecl(
        name: "scale", summary: "multiply by a constant", example: "%y = scale(%x, by=3.141592653589793)",
        operands: [.init("input")], attributes: [.init("by", .float)],
        infer: { q throws(ShapeError) in ShapeResult([try q.type(0, "the input")]) },
        flops: { _, r in r[0].elementsPerSample })

    static func pool(_ name: String, _ summary: String) -> OpDecl {
        OpDecl(name: name, summary: summary, example: "%y = \(name)(%x, kernel=3, stride=2, padding=1)",
               operands: [.init("input")],
               attributes: [.init("kernel", .ints(2)), .init("stride", .ints(2), nil, optional: true), .init("padding", .ints(2), .ints([0, 0])),
                            .init("ceil_mode", .bool, .bool(false))],
               infer: { q throws(ShapeError) in
                   let (n, c, h, w) = try nchw(try q.type(0, "the input"), "the input")
                   let k = q.ints("kernel"), s = q.attributes.ints("stride") ?? k, p = q.ints("padding")
                   guard k.allSatisfy({ $0 > 0 }), s.allSatisfy({ $0 > 0 }), p.allSatisfy({ $0 >= 0 }) else {
                       throw ShapeError("kernel and stride must be positive and padding non-negative")
                   }
                   guard p[0] * 2 <= k[0], p[1] * 2 <= k[1] else {
                       throw ShapeError("padding \(p) must be at most half the kernel \(k)")
                   }
                   let ceil = q.attributes.bool("ceil_mode") ?? false
                   let ho = windowOutput(h, kernel: k[0], stride: s[0], padding: p[0], ceilMode: ceil)
                   let wo = windowOutput(w, kernel: k[1], stride: s[1], padding: p[1], ceilMode: ceil)
                   guard ho > 0, wo > 0 else { throw ShapeError("a \(k[0])×\(k[1]) window does not fit the \(h)×\(w) input") }
                   return ShapeResult([TensorType([n, .fixed(c), .fixed(ho), .fixed(wo)])])
               },
               flops: { q, r in r[0].elementsPerSample * q.ints("kernel").reduce(1, *) })
    }

    static func globalPool(_ name: String, _ summary: String) -> OpDecl {
        OpDecl(name: name, summary: summary, example: "%y = \(name)(%x)",
               operands: [.init("input")], attributes: [],
               infer: { q throws(ShapeError) in
                   let (n, c, _, _) = try nchw(try q.type(0, "the input"), "the input")
                   return ShapeResult([TensorType([n, .fixed(c), .fixed(1), .fixed(1)])])
               },
               flops: { q, _ in q.operands[0]?.elementsPerSample ?? 0 })
    }

    static func channelReduce(_ name: String, _ summary: String) -> OpDecl {
        OpDecl(name: name, summary: summary, example: "%y = \(name)(%x)",
               operands: [.init("input")], attributes: [],
               infer: { q throws(ShapeError) in
                   let (n, _, h, w) = try nchw(try q.type(0, "the input"), "the input")
                   return ShapeResult([TensorType([n, .fixed(1), .fixed(h), .fixed(w)])])
               },
               flops: { q, _ in q.operands[0]?.elementsPerSample ?? 0 })
    }

    static let concat = OpDecl(
        name: "concat", summary: "join tensors along an axis", example: "%y = concat(%a, %b, axis=1)",
        operands: [.init("inputs", variadic: true)], attributes: [.init("axis", .int, .int(1))],
        infer: { q throws(ShapeError) in
            guard !q.operands.isEmpty else { throw ShapeError("concat needs at least one input") }
            var ts: [TensorType] = []
            for i in q.operands.indices { ts.append(try q.type(i, "input \(i + 1)")) }
            let first = ts[0]
            let axis = q.int("axis")
            guard axis >= 0, axis < first.rank else { throw ShapeError("axis \(axis) is out of range for \(first)") }
            var total = 0
            for (i, t) in ts.enumerated() {
                guard t.rank == first.rank else { throw ShapeError("input \(i + 1) is \(t) but input 1 is \(first): ranks differ") }
                for d in 0..<t.rank where d != axis && t.dims[d] != first.dims[d] {
                    throw ShapeError("input \(i + 1) is \(t) but input 1 is \(first): they differ outside axis \(axis)")
                }
                guard let a = t.dims[axis].value else { throw ShapeError("cannot concatenate along a symbolic dimension") }
                total += a
            }
            var dims = first.dims
            dims[axis] = .fixed(total)
            return ShapeResult([TensorType(dims)])
        },
        flops: { _, _ in 0 })

    static let flatten = OpDecl(
        name: "flatten", summary: "[N, …] → [N, product of the rest]", example: "%y = flatten(%x)",
        operands: [.init("input")], attributes: [],
        infer: { q throws(ShapeError) in
            let x = try q.type(0, "the input")
            guard x.rank >= 1 else { throw ShapeError("flatten needs at least 1 dimension") }
            var rest = 1
            for d in x.dims.dropFirst() {
                guard let v = d.value else { throw ShapeError("only the first dimension may be symbolic, got \(x)") }
                rest *= v
            }
            return ShapeResult([TensorType([x.dims[0], .fixed(rest)])])
        },
        flops: { _, _ in 0 })

    static let dense = OpDecl(
        name: "dense", summary: "fully connected layer: y = x · weightᵀ + bias (PyTorch Linear)",
        example: "%y = dense(%x, @fc.weight, bias=@fc.bias, out=4)",
        operands: [.init("input"), .init("weight"), .init("bias", optional: true), .init("weight_scale", optional: true)],
        attributes: [.init("out", .int)] + precisionAttributes,
        infer: { q throws(ShapeError) in
            let x = try q.type(0, "the input")
            guard x.rank == 2, let k = x.dims[1].value else { throw ShapeError("the input must be [N,features], got \(x)") }
            let out = q.int("out")
            guard out > 0 else { throw ShapeError("out must be positive, got \(out)") }
            var w: [Int: TensorType] = [1: TensorType(fixed: [out, k])]
            for i in [2, 3] where i < q.isWeight.count && q.isWeight[i] { w[i] = TensorType(fixed: [out]) }
            return ShapeResult([TensorType([x.dims[0], .fixed(out)])], weights: w)
        },
        flops: { q, r in 2 * r[0].elementsPerSample * (q.operands[0]?.dims.last?.value ?? 0) })

    static let softmax = OpDecl(
        name: "softmax", summary: "softmax over the last axis", example: "%y = softmax(%x)",
        operands: [.init("input")], attributes: [],
        infer: { q throws(ShapeError) in ShapeResult([try q.type(0, "the input")]) },
        flops: { _, r in 5 * r[0].elementsPerSample })

    static let circuit = OpDecl(
        name: "circuit",
        summary: "a parameterized quantum circuit evaluated per sample: input [N,k] angles, weights, output [N, measurements]",
        example: "%e = circuit(%angles, @pqc.weights, wires=4) { … }",
        operands: [.init("input"), .init("weights", variadic: true)],
        attributes: [.init("wires", .int), .init("body", .circuit)],
        infer: { q throws(ShapeError) in
            let x = try q.type(0, "the input")
            guard x.rank == 2, let k = x.dims[1].value else { throw ShapeError("the circuit input must be [N,k], got \(x)") }
            guard let c = q.attributes["body"]?.circuit else { throw ShapeError("the circuit has no body") }
            let wires = q.int("wires")
            guard wires == c.qubits else { throw ShapeError("wires=\(wires) but the body uses \(c.qubits) wires") }
            // Weight shapes follow from the largest index each weight is read at.
            var extents: [Int: [Int]] = [:]
            for g in c.gates {
                for p in g.params {
                    switch p {
                    case .input(let col):
                        guard col >= 0, col < k else {
                            throw ShapeError("gate \(g.kind.rawValue) reads input column \(col) but the input \(x) has \(k) columns")
                        }
                    case .weight(let op, let idx):
                        guard op >= 1, op < q.operands.count else { throw ShapeError("the body reads weight operand \(op), which is not passed") }
                        var e = extents[op] ?? [Int](repeating: 0, count: idx.count)
                        guard e.count == idx.count else { throw ShapeError("weight operand \(op) is indexed with \(idx.count) and \(e.count) indices") }
                        for (j, i) in idx.enumerated() { e[j] = max(e[j], i + 1) }
                        extents[op] = e
                    case .constant: break
                    }
                }
            }
            var weights: [Int: TensorType] = [:]
            for (op, e) in extents { weights[op] = TensorType(fixed: e) }
            for i in 1..<q.operands.count where weights[i] == nil {
                throw ShapeError("weight operand \(i) is passed but the body never reads it")
            }
            return ShapeResult([TensorType([x.dims[0], .fixed(c.outputWidth)])], weights: weights)
        },
        flops: { q, _ in
            // State-vector cost: 2^n amplitudes × (8 FLOP per 1-qubit gate element pair) per gate.
            guard let c = q.attributes["body"]?.circuit else { return 0 }
            return (1 << c.qubits) * 8 * c.gates.count
        })
}
