import QEMLCodegen
import QEMLIR
import QEMLPasses

/// Lowering of the `quantize` pass's int8 nodes (docs/QUANTIZATION.md): each reads its input
/// as u7 codes — the producer's own (an int8 op with an output scale stores codes) or a
/// quantize step's, shared by every int8 reader with that scale — and runs the generated int8
/// conv2d or dense with the node's `Int8Params`.
extension PlanBuilder {
    struct CodesKey: Hashable { var value: Int, scale: UInt32 }

    mutating func planInt8(_ i: Int, _ n: Node, _ name: String) throws {
        let node = nodeName(n)
        let p = try params(n)
        guard let x = n.operand(0), let y = n.results.first else { throw PlanError("\(n.op) %\(node) without an operand") }
        let s = try storage(of: x), o = try storage(of: y)
        let act = n.attributes.string("activation") ?? "none"
        guard n.op == "conv2d" || n.op == "dense", let activation = Activation(rawValue: act), activation == .none || activation == .relu else {
            throw PlanError("\(n.op) %\(node): int8 covers conv2d and dense with no activation or ReLU, not \(n.op) with \(act)")
        }
        let residual = n.operand(7)
        if let residual, try storage(of: residual) != o || g[residual].isWeight {
            throw PlanError("conv2d %\(node): an int8 conv's residual must be shaped like its output")
        }
        let input = try codes(of: x, scale: p.inputScale, storage: s, reader: node)
        var used = [input]
        if let residual { used.append(try slot(residual)) }
        for (k, r) in n.results.enumerated() {
            var rs = try storage(of: r)
            if k == 0 && p.outputScale != nil { rs.element = .u8 }
            slots.append(KernelPlan.Slot(name: g[r].name, storage: rs))
            slotOf[r] = slots.count - 1
            used.append(slots.count - 1)
        }
        let d: KernelDefinition
        if n.op == "dense" {
            guard g.type(of: x).rank == 2 else { throw PlanError("dense %\(node): int8 dense needs a [N,features] input") }
            d = try KernelDefinition.denseInt8(inFeatures: s.channels, outFeatures: o.channels, weight: p.weights, weightScales: p.weightScales,
                                               bias: p.bias, inputScale: p.inputScale, outputScale: p.outputScale,
                                               activation: activation, target: target, name: name)
        } else {
            let spec = Conv2DSpec(inChannels: s.channels, height: s.height, width: s.width, outChannels: o.channels,
                                  kernel: n.attributes.ints("kernel") ?? [1, 1], stride: n.attributes.ints("stride") ?? [1, 1],
                                  padding: n.attributes.ints("padding") ?? [0, 0], dilation: n.attributes.ints("dilation") ?? [1, 1],
                                  groups: n.attributes.int("groups") ?? 1, activation: activation, residual: residual != nil,
                                  pool: n.attributes.string("pool") == "avgmax")
            d = try KernelDefinition.conv2dInt8(spec, weight: p.weights, weightScales: p.weightScales, bias: p.bias,
                                                inputScale: p.inputScale, outputScale: p.outputScale, target: target, name: name)
        }
        addKernel(d, key: "\(d.kind) \(d.summary)", slots: used, node: i)
        guard let sy = p.outputScale, let codes = slotOf[y] else { return }
        codeSlots[CodesKey(value: y.raw, scale: sy.bitPattern)] = codes
        // Codes for int8 readers; a graph output or any other reader gets `Float(q)·s_y`, the
        // value the interpreter stores for a requantized output.
        let onlyInt8Readers = !g.outputs.contains(y) && users[y.raw].allSatisfy { u in
            g.nodes[u].readsInt8Codes && g.nodes[u].operands.enumerated().allSatisfy { $0.element != y || $0.offset == 0 }
        }
        if onlyInt8Readers { return }
        let values = scratch(g[y].name, o)
        addKernel(try KernelDefinition.dequantize(channels: o.channels, height: o.height, width: o.width, scale: sy, target: target, name: "q\(slots.count)_dequantize"),
                  key: "dequantize \(o.shape)", slots: [codes, values], named: g[y].name)
        slotOf[y] = values
    }

    /// The node's int8 numbers: `quantize`'s (`PassManager.Result.int8`), by the node's name; a
    /// node a later pass renamed (`layout` renames a graph output) reads the same numbers from
    /// its operands and attributes, as the interpreter does.
    private func params(_ n: Node) throws -> Int8Params {
        if let p = int8[nodeName(n)] { return p }
        let operands = n.operands.map { v in v.flatMap { g[$0].weightName }.flatMap { weights[$0] } }
        do {
            return try Int8Kernels.params(n, operands, weightScaleSlot: n.op == "dense" ? 3 : 8)
        } catch {
            throw PlanError("\(n.op) %\(nodeName(n)) is marked int8 but its int8 numbers are missing (\(error)); pass the weights file `qemlc quantize` wrote")
        }
    }

    /// The slot holding `x` as u7 codes with `scale`: the producer's codes, or a quantize step
    /// added now (once per value and scale).
    private mutating func codes(of x: ValueID, scale: Float, storage s: BlockedStorage, reader: String) throws -> Int {
        let key = CodesKey(value: x.raw, scale: scale.bitPattern)
        if let slot = codeSlots[key] { return slot }
        let source = try slot(x)
        guard slots[source].storage.element == .f32 else {
            throw PlanError("%\(reader) reads %\(g[x].name) with input scale \(scale), but its producer stored it as codes of another scale; "
                            + "the weights file's scales do not fit this model (quantize it again)")
        }
        var codes = s
        codes.element = .u8
        let out = scratch("\(g[x].name).u7", codes)
        let d = try KernelDefinition.quantize(channels: s.channels, height: s.height, width: s.width, scale: scale,
                                              target: target, name: "q\(slots.count)_quantize")
        addKernel(d, key: "quantize \(s.shape)", slots: [source, out], named: g[x].name)
        codeSlots[key] = out
        return out
    }
}
