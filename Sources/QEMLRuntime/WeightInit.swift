import Foundation
import QEMLIR
import QEMLTensor

/// Deterministic initial weights, so every model runs without a trained checkpoint
/// (`qemlc init-weights`). Each weight's role comes from the op slot that uses it (via the op
/// declarations), never from its name:
///
/// | slot | distribution |
/// |---|---|
/// | conv weight | He normal, fan_out, ReLU gain: N(0, 2/(out·kh·kw)) — torchvision's ResNet init |
/// | conv / dense bias | U(±1/√fan_in) — PyTorch's default |
/// | dense weight | U(±1/√in) — PyTorch Linear's default |
/// | BatchNorm weight, bias | 1 + N(0, 0.1²), N(0, 0.1²) |
/// | BatchNorm running mean, var | N(0, 0.1²), U(0.5, 1.5) — not the identity, so BN folding is exercised |
/// | circuit angles | U[0, 2π) |
/// | anything else | U(±0.1) |
///
/// Every weight draws from its own SplitMix64 stream seeded by (seed, name), so adding a layer
/// does not change the others, and the numbers are identical on every platform (normals by
/// Box–Muller from libm's log/cos, rounded to f32).
public enum WeightInit {
    public static func initialize(_ g: Graph, seed: UInt64) -> [String: Tensor] {
        var out: [String: Tensor] = [:]
        let users = g.users()
        for v in g.weights {
            guard let name = g[v].weightName, let shape = g[v].type.fixedShape else { continue }
            var rng = SplitMix64(seed: seed, name: name)
            let count = shape.reduce(1, *)
            let role = users[v.raw].first.map { WeightInit.role(of: v, in: g.nodes[$0], g) } ?? Role.other
            let data: [Float]
            switch role {
            case .convWeight:
                let fanOut = shape[0] * shape.dropFirst(2).reduce(1, *)
                data = rng.normals(count, mean: 0, std: (2.0 / Double(max(fanOut, 1))).squareRoot())
            case .bias(let fanIn), .linearWeight(let fanIn):
                let bound = 1 / Double(max(fanIn, 1)).squareRoot()
                data = rng.uniforms(count, -bound, bound)
            case .bnWeight: data = rng.normals(count, mean: 1, std: 0.1)
            case .bnBias, .bnMean: data = rng.normals(count, mean: 0, std: 0.1)
            case .bnVar: data = rng.uniforms(count, 0.5, 1.5)
            case .angle: data = rng.uniforms(count, 0, 2 * Double.pi)
            case .other: data = rng.uniforms(count, -0.1, 0.1)
            }
            out[name] = Tensor(shape: shape, data: data)
        }
        return out
    }

    enum Role: Equatable {
        case convWeight, linearWeight(fanIn: Int), bias(fanIn: Int)
        case bnWeight, bnBias, bnMean, bnVar, angle, other
    }

    /// The role of weight `v` in the node that first uses it, from the slot's declared name.
    static func role(of v: ValueID, in node: Node, _ g: Graph) -> Role {
        guard let slot = node.operands.firstIndex(of: v), let decl = OpRegistry.decl(node.op) else { return .other }
        let slotName = slot < decl.operands.count ? decl.operands[slot].name : (decl.operands.last?.name ?? "")
        // fan_in of the op's main weight (slot 1): in/groups·kh·kw for a conv, in for a dense layer.
        func fanIn() -> Int {
            guard let w = node.operand(1), let s = g.type(of: w).fixedShape, s.count >= 2 else { return 1 }
            return s.dropFirst().reduce(1, *)
        }
        switch (node.op, slotName) {
        case ("batchnorm", "weight"), (_, "bn_weight"): return .bnWeight
        case ("batchnorm", "bias"), (_, "bn_bias"): return .bnBias
        case ("batchnorm", "mean"), (_, "bn_mean"): return .bnMean
        case ("batchnorm", "var"), (_, "bn_var"): return .bnVar
        case ("circuit", _): return .angle
        case (_, "weight"):
            let rank = g.type(of: v).rank
            return rank == 4 ? .convWeight : rank == 2 ? .linearWeight(fanIn: fanIn()) : .other
        case (_, "bias"): return .bias(fanIn: fanIn())
        default: return .other
        }
    }

    /// FNV-1a (64-bit) over names (sorted), shapes and f32 bit patterns: detects any drift in
    /// the generated weights. `scripts/onnx_reference.py` computes the same from a file.
    public static func checksum(_ weights: [String: Tensor]) -> UInt64 {
        var h: UInt64 = 0xcbf2_9ce4_8422_2325
        let prime: UInt64 = 0x0000_0100_0000_01b3
        func eat64(_ v: UInt64) { for i in 0..<8 { h = (h ^ ((v >> (8 * UInt64(i))) & 0xFF)) &* prime } }
        for name in weights.keys.sorted() {
            let t = weights[name]!
            for b in name.utf8 { h = (h ^ UInt64(b)) &* prime }
            h = h &* prime  // the 0 byte ending the name
            eat64(UInt64(t.rank))
            t.shape.forEach { eat64(UInt64($0)) }
            // Plain loop over the bit patterns, little-endian byte order: 25 M floats in debug builds.
            t.data.withUnsafeBufferPointer { p in
                var i = 0
                while i < p.count {
                    let b = UInt64(p[i].bitPattern)
                    h = (h ^ (b & 0xFF)) &* prime
                    h = (h ^ ((b >> 8) & 0xFF)) &* prime
                    h = (h ^ ((b >> 16) & 0xFF)) &* prime
                    h = (h ^ (b >> 24)) &* prime
                    i += 1
                }
            }
        }
        return h
    }
}
