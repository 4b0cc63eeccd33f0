import QEMLCodegen
import QEMLIR
import QEMLPasses
import QEMLTensor

extension PlanBuilder {
    /// `fused_cbam` as the code generator's three CBAM kernels (channel gate, channel mean/max
    /// of the gated tensor, spatial attention + scale + residual + activation), with the gate
    /// and the 2-channel map as arena scratch.
    mutating func planCBAM(_ i: Int, _ n: Node, _ name: String) throws {
        guard let y = n.operand(0), let avg = n.operand(1), let mx = n.operand(2), let r = n.results.first else {
            throw PlanError("fused_cbam %\(nodeName(n)): an operand is missing")
        }
        let s = try storage(of: y)
        let hidden = n.attributes.int("hidden") ?? 0, k = n.attributes.int("kernel") ?? 7
        let act = n.attributes.string("activation") ?? "none"
        let residual = n.operand(9)
        guard (n.attributes.int("padding") ?? k / 2) == k / 2, let activation = Activation(rawValue: act),
              try residual.map({ try storage(of: $0) == s }) ?? true else {
            return try addFallback(node: i, why: "a CBAM variant the generated kernels do not cover")
        }
        // The generated kernels bake the biases in as constants; computed ones run on the reference kernel.
        for (slot, what) in [(6, "fc1 bias"), (7, "fc2 bias"), (8, "spatial bias")] {
            if let b = n.operand(slot), !g[b].isWeight {
                return try addFallback(node: i, why: "its \(what) %\(g[b].name) is computed, not a weight")
            }
        }
        let fc1 = try requireWeight(n.operand(3), n, "fc1 weight"), fc2 = try requireWeight(n.operand(4), n, "fc2 weight")
        let spatial = try requireWeight(n.operand(5), n, "spatial weight")
        let weights = CBAMWeights(fc1: fc1.reshaped([hidden, s.channels, 1, 1]), fc2: fc2.reshaped([s.channels, hidden, 1, 1]),
                                  spatial: spatial.reshaped([1, 2, k, k]), fc1Bias: try n.operand(6).map { try requireWeight($0, n, "fc1 bias").data },
                                  fc2Bias: try n.operand(7).map { try requireWeight($0, n, "fc2 bias").data },
                                  spatialBias: try n.operand(8).map { try requireWeight($0, n, "spatial bias").data.first ?? 0 },
                                  fc1Scale: try n.operand(10).map { try requireWeight($0, n, "fc1 scale").data },
                                  fc2Scale: try n.operand(11).map { try requireWeight($0, n, "fc2 scale").data })
        // The `quantize` pass decided how the MLP's weights are stored; nothing here re-decides.
        let mlp = Precision(rawValue: n.attributes.string("precision") ?? "f32") ?? .f32
        let spec = CBAMSpec(channels: s.channels, height: s.height, width: s.width, hidden: hidden, kernel: k,
                            residual: residual != nil, activation: activation, mlp: mlp)
        let kernels = try KernelDefinition.cbam(spec, weights: packWeights ? weights : nil, target: target, name: name)
        let gate = scratch("\(nodeName(n)).gate", BlockedStorage(channels: s.channels, height: 1, width: 1, lanes: lanes))
        let map = scratch("\(nodeName(n)).map", BlockedStorage(channels: 2, height: s.height, width: s.width, lanes: lanes))
        let out = try newSlot(for: r)
        slotOf[r] = out
        let yIn = try slot(y)
        addKernel(kernels.channelGate, key: [AnyHashable("gate"), AnyHashable(spec)], slots: [try slot(avg), try slot(mx), gate], node: i)
        addKernel(kernels.reduce, key: [AnyHashable("reduce"), AnyHashable(spec)], slots: [yIn, gate, map], node: i)
        addKernel(kernels.apply, key: [AnyHashable("apply"), AnyHashable(spec)], slots: [yIn, gate, map] + (try residual.map { [try slot($0)] } ?? []) + [out], node: i)
    }
}
