import QEMLIR
@testable import QEMLPasses

/// Builds small graphs in code: result and weight types come from the op declarations.
struct GraphBuilder {
    enum Arg { case v(ValueID), w(String), none }

    var g = Graph(name: "test")
    private var counter = 0


    mutating func input(_ name: String, _ shape: [Int]) -> ValueID { g.addInput(name, TensorType(fixed: shape)) }

    /// Adds `op`; weights named by `.w` are created with the types the op declares for them.
    @discardableResult
    mutating func op(_ op: String, _ args: [Arg], _ attrs: [(String, Attribute)] = [], name: String? = nil) -> [ValueID] {
        guard let decl = OpRegistry.decl(op) else { fatalError("unknown op \(op)") }
        var attributes = Attributes()
        for a in decl.attributes where a.defaultValue != nil { attributes[a.name] = a.defaultValue }
        for (k, v) in attrs { attributes[k] = v }
        let types: [TensorType?] = args.map { if case .v(let id) = $0 { return g.type(of: id) } else { return nil } }
        let isWeight: [Bool] = args.map { if case .w = $0 { return true } else { return false } }
        let r: ShapeResult
        do { r = try decl.infer(ShapeContext(attributes: attributes, operands: types, isWeight: isWeight)) } catch {
            fatalError("\(op): \(error.message)")
        }
        var operands: [ValueID?] = []
        for (i, a) in args.enumerated() {
            switch a {
            case .v(let id): operands.append(id)
            case .w(let n): operands.append(g.weight(n, r.weights[i] ?? TensorType(fixed: [1])))
            case .none: operands.append(nil)
            }
        }
        // Every declared attribute, defaults filled in, in declaration order (as lowering does).
        var node = Node(op: op, operands: [])
        for a in decl.attributes { if let v = attrs.first(where: { $0.0 == a.name })?.1 ?? a.defaultValue { node.attributes[a.name] = v } }
        counter += 1
        let base = name ?? "\(op)\(counter)"
        let names = r.results.indices.map { $0 == 0 ? base : "\(base)_\($0)" }
        return g.addNode(op, operands, node.attributes, results: Array(zip(names, r.results)))
    }

    mutating func v(_ op: String, _ args: [Arg], _ attrs: [(String, Attribute)] = [], name: String? = nil) -> ValueID {
        self.op(op, args, attrs, name: name)[0]
    }

    // Shorthands.
    mutating func conv(_ x: ValueID, _ w: String, out: Int, k: Int = 3, pad: Int = 1, stride: Int = 1,
                       extra: [(String, Attribute)] = [], bias: String? = nil, name: String? = nil) -> ValueID {
        var args: [Arg] = [.v(x), .w(w)]
        if let bias { args.append(.w(bias)) } else { args.append(.none) }
        args += [.none, .none, .none, .none, .none]
        return v("conv2d", args, [("out", .int(out)), ("kernel", .ints([k, k])), ("stride", .ints([stride, stride])),
                                  ("padding", .ints([pad, pad]))] + extra, name: name)
    }

    mutating func bn(_ x: ValueID, _ p: String, name: String? = nil) -> ValueID {
        v("batchnorm", [.v(x), .w("\(p).weight"), .w("\(p).bias"), .w("\(p).running_mean"), .w("\(p).running_var")], name: name)
    }

    mutating func output(_ v: ValueID) { g.outputs.append(v) }

    func ops() -> [String] { g.nodes.map(\.op) }
}

/// Ways to write (or break) a CBAM block, for positive and negative tests.
struct CBAMVariant {
    var reluInFC1 = false          // fc1 conv with activation="relu" instead of a relu op
    var sigmoidInSpatial = false   // spatial conv with activation="sigmoid"
    var swapOperands = false       // mul/add operands in the other order
    var residual = true
    var relu = true
    var maxBranch = true           // false: only the avg branch (not CBAM)
    var sharedFC = true            // false: the max branch has its own fc weights
    var concatMaxFirst = false     // [max, mean] instead of [mean, max]
    var extraUserOfScaled = false  // y1 also feeds the graph output
}

extension GraphBuilder {
    /// y → CBAM(y) (+ residual, relu); returns the block output.
    mutating func cbam(_ y: ValueID, channels c: Int, hidden: Int, prefix p: String, residual r: ValueID?,
                       _ o: CBAMVariant = CBAMVariant(), extraOutputs: inout [ValueID]) -> ValueID {
        func mlp(_ pooled: ValueID, _ fc: String) -> ValueID {
            let fc1Act: [(String, Attribute)] = o.reluInFC1 ? [("activation", .string("relu"))] : []
            var h = conv(pooled, "\(fc).fc1.weight", out: hidden, k: 1, pad: 0, extra: fc1Act)
            if !o.reluInFC1 { h = v("relu", [.v(h)]) }
            return conv(h, "\(fc).fc2.weight", out: c, k: 1, pad: 0)
        }
        let avg = v("global_avgpool", [.v(y)])
        var s = mlp(avg, "\(p).ca")
        if o.maxBranch {
            let mx = v("global_maxpool", [.v(y)])
            let m = mlp(mx, o.sharedFC ? "\(p).ca" : "\(p).ca2")
            s = o.swapOperands ? v("add", [.v(m), .v(s)]) : v("add", [.v(s), .v(m)])
        }
        let gate = v("sigmoid", [.v(s)])
        let y1 = o.swapOperands ? v("mul", [.v(gate), .v(y)]) : v("mul", [.v(y), .v(gate)])
        if o.extraUserOfScaled { extraOutputs.append(y1) }
        let mean = v("channel_mean", [.v(y1)]), mx = v("channel_max", [.v(y1)])
        let cat = v("concat", o.concatMaxFirst ? [.v(mx), .v(mean)] : [.v(mean), .v(mx)])
        var sp = conv(cat, "\(p).sa.weight", out: 1, k: 7, pad: 3, extra: o.sigmoidInSpatial ? [("activation", .string("sigmoid"))] : [])
        if !o.sigmoidInSpatial { sp = v("sigmoid", [.v(sp)]) }
        var out = o.swapOperands ? v("mul", [.v(sp), .v(y1)]) : v("mul", [.v(y1), .v(sp)])
        if o.residual, let r { out = o.swapOperands ? v("add", [.v(r), .v(out)]) : v("add", [.v(out), .v(r)]) }
        if o.relu { out = v("relu", [.v(out)]) }
        return out
    }
}
