/// The ops passes create (`fused_cbam`, `reorder`) and the `layout` annotation the layout pass
/// leaves on existing ops, declared once like the base ops and part of the registry from the
/// start — so a dump parses back in any process, whatever ran before. Their reference semantics
/// live in the interpreter (`QEMLRuntime/Interpreter/FusedKernels.swift`); the passes that create
/// them are in QEMLPasses.
public enum FusedOps {
    static let all: [OpDecl] = [fusedCBAM, reorder]

    /// Ops that run blocked when every activation they read and write is 4-D (channels padded
    /// to a whole block), and so may carry a `layout` annotation (`fused_cbam` declares it itself).
    public static let blockableOps = ["conv2d", "batchnorm", "maxpool2d", "avgpool2d", "global_avgpool", "global_maxpool",
                                      "channel_mean", "channel_max", "concat", "relu", "sigmoid", "tanh", "scale", "add", "mul"]

    /// `layout="nchw8c"`: the op's activation operands and results are stored channel-blocked.
    /// Optional without a default, so graphs made before registration still verify; absent means NCHW.
    public static let layoutAttribute = OpDecl.Attr("layout", .string, nil, optional: true)

    static let fusedCBAM = OpDecl(
        name: "fused_cbam",
        summary: "a whole CBAM attention block: y·σ(fc2(relu(fc1(avg))) + fc2(relu(fc1(max)))) = y′, then "
            + "y′·σ(conv_k×k([mean_c(y′), max_c(y′)])), then + residual and the activation",
        example: "%out = fused_cbam(%y, %y_avg, %y_max, @ca.fc1.weight, @ca.fc2.weight, @sa.conv.weight, residual=%x, hidden=16, kernel=7, padding=3, activation=\"relu\")",
        operands: [.init("input"), .init("avg"), .init("max"),
                   .init("fc1"), .init("fc2"), .init("spatial"),
                   .init("fc1_bias", optional: true), .init("fc2_bias", optional: true), .init("spatial_bias", optional: true),
                   .init("residual", optional: true),
                   .init("fc1_scale", optional: true), .init("fc2_scale", optional: true)],
        attributes: [.init("hidden", .int), .init("kernel", .int, .int(7)), .init("padding", .int, .int(3)),
                     .init("activation", .choice(["none", "relu"]), .string("none")),
                     mlpPrecision, layoutAttribute],
        infer: { q throws(ShapeError) in
            let y = try q.type(0, "the input")
            guard y.rank == 4, let c = y.dims[1].value, y.dims[2].value != nil, y.dims[3].value != nil else {
                throw ShapeError("the input must be [N,C,H,W] with fixed C, H and W, got \(y)")
            }
            let pooled = TensorType([y.dims[0], .fixed(c), .fixed(1), .fixed(1)])
            for (slot, what) in [(1, "avg"), (2, "max")] where !q.isWeight[slot] {
                let t = try q.type(slot, "the pooled \(what)")
                guard t == pooled else { throw ShapeError("the pooled \(what) must be \(pooled), got \(t)") }
            }
            let hidden = q.int("hidden"), k = q.int("kernel"), p = q.int("padding")
            guard hidden > 0 else { throw ShapeError("hidden must be positive, got \(hidden)") }
            guard k > 0, k % 2 == 1, p == k / 2 else {
                throw ShapeError("the spatial kernel must be odd with padding kernel/2 (same size), got kernel=\(k) padding=\(p)")
            }
            if q.has(9) {
                let r = try q.type(9, "the residual")
                guard r == y else { throw ShapeError("the residual \(r) does not match the input \(y)") }
            }
            var weights: [Int: TensorType] = [3: TensorType(fixed: [hidden, c, 1, 1]), 4: TensorType(fixed: [c, hidden, 1, 1]),
                                              5: TensorType(fixed: [1, 2, k, k])]
            if q.has(6) { weights[6] = TensorType(fixed: [hidden]) }
            if q.has(7) { weights[7] = TensorType(fixed: [c]) }
            if q.has(8) { weights[8] = TensorType(fixed: [1]) }
            if q.has(10) { weights[10] = TensorType(fixed: [hidden]) }
            if q.has(11) { weights[11] = TensorType(fixed: [c]) }
            guard q.has(10) == q.has(11), q.has(10) == (q.attributes.string("precision") == "int8") else {
                throw ShapeError("precision=\"int8\" needs both fc1_scale and fc2_scale, and they need it")
            }
            return ShapeResult([y], weights: weights)
        },
        flops: { q, r in
            let e = r[0].elementsPerSample
            let c = r[0].dims.count == 4 ? (r[0].dims[1].value ?? 0) : 0
            let hw = c > 0 ? e / c : 0
            let k = q.int("kernel"), hidden = q.int("hidden")
            // MLP on two vectors, channel scale, mean+max, spatial conv, sigmoid, scale, residual and activation.
            return 8 * c * hidden + e + 2 * e + 4 * k * k * hw + 4 * (c + hw) + e + 2 * e
        })

    /// Set by the `quantize` pass (docs/QUANTIZATION.md): how the channel MLP's weights are
    /// stored. int8 is weight-only — s8 codes with one scale per output row (`fc1_scale`,
    /// `fc2_scale`), f32 activations — because the pooled vectors it reads are signed.
    static let mlpPrecision = OpDecl.Attr("precision", .choice(["f32", "bf16", "int8"]), .string("f32"))

    static let reorder = OpDecl(
        name: "reorder",
        summary: "change the physical layout of a tensor (e.g. NCHW ↔ NCHW8c); the logical value is unchanged",
        example: "%y = reorder(%x, from=\"nchw\", to=\"nchw8c\")",
        operands: [.init("input")],
        attributes: [.init("from", .string), .init("to", .string)],
        infer: { q throws(ShapeError) in
            let x = try q.type(0, "the input")
            for key in ["from", "to"] {
                let l = q.attributes.string(key) ?? ""
                guard layoutBlockSize(l) != nil else {
                    throw ShapeError("\(key)=\"\(l)\" is not a layout; write \"nchw\" or \"nchw<c>c\" such as \"nchw8c\"")
                }
                if l != "nchw", x.rank != 4 { throw ShapeError("a blocked layout needs a 4-D [N,C,H,W] tensor, got \(x)") }
            }
            return ShapeResult([x])
        },
        flops: { _, _ in 0 })
}

/// 1 for plain NCHW, c for `nchw<c>c` (channels blocked by c), nil for anything else.
public func layoutBlockSize(_ layout: String) -> Int? {
    if layout == "nchw" { return 1 }
    guard layout.hasPrefix("nchw"), layout.hasSuffix("c"), layout.count > 5,
          let c = Int(layout.dropFirst(4).dropLast()), c > 1 else { return nil }
    return c
}
