internal import CLLVM

/// The FMA throughput probe: independent chains of vector FMAs at the target's width, enough of
/// them to hide the FMA latency, so the time per iteration is the CPU's FMA throughput.
/// `bench` measures it once per CPU and reports kernels as a share of it (`PeakProbe`).
public struct FMAProbeSpec: Hashable, Sendable {
    /// Independent accumulators: ≥ latency × FMA ports on every CPU qemlc targets (4 × 2, 5 × 2).
    public static let chains = 12
    public var lanes: Int
}

extension KernelDefinition {
    /// Buffers: the accumulators (`chains × lanes` floats, read and written). Params: the
    /// multiplier and addend vectors. Items: iterations, each `chains` FMAs of `lanes` floats.
    public static func fmaProbe(target: TargetDescription, name: String = "qemlc_fma_probe") -> KernelDefinition {
        let l = target.vectorWidth, n = FMAProbeSpec.chains * l
        return KernelDefinition(name: name, kind: "fma-probe", summary: "\(FMAProbeSpec.chains) chains of \(l)-lane FMAs",
                                buffers: [Buffer(name: "accumulators", role: .output, shape: [n, 1, 1], elementsPerSample: n, layout: .plain)],
                                itemsPerSample: 1, flopsPerSample: 2 * n, lanes: l,
                                params: [Float](repeating: 0.999_999, count: l) + [Float](repeating: 1e-7, count: l),
                                body: .fmaProbe(FMAProbeSpec(lanes: l)))
    }
}

struct FMAProbeGenerator {
    let s: FMAProbeSpec
    let b: IRBuilder

    func emit() {
        let l = s.lanes, out = b.buffers(1)[0]
        let multiplier = b.loadVector(b.param(1), l), addend = b.loadVector(b.gep(b.param(1), l), l)
        let accumulators = (0..<FMAProbeSpec.chains).map { b.variable(b.loadVector(b.gep(out, $0 * l), l)) }
        b.loop(b.param(2), b.param(3), "iteration") { _ in
            for a in accumulators { a.value = b.fma(a.value, multiplier, addend) }
        }
        for (k, a) in accumulators.enumerated() { b.store(a.value, b.gep(out, k * l)) }
        b.retVoid()
    }
}
