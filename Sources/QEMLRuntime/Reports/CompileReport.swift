import Dispatch
import QEMLCodegen
import QEMLIR
import QEMLPasses
import QEMLTensor

/// What `qemlc compile` reports, and the phases that produce it: for this machine, the model
/// compiled exactly as `run` compiles it (`CompiledModel`, both caches); for another target, the
/// pass pipeline, the plan and its object code (emitted, not linked).
public struct CompileReport {
    public var passes: PassManager.Result
    public var plan: KernelPlan
    public var timings: CompiledModel.Timings
    /// The object cache's outcome (`hit`, `miss`, `rebuilt (why)`), and whether LLVM was skipped.
    public var objectCache: String
    public var fromCache: Bool
    public var objectBytes: Int
    /// The packed-weights cache's outcome (nil for another target: nothing runs here).
    public var packedWeights: String?

    /// Compiles `graph` for `target`; `progress` hears each phase's name as it starts.
    public static func compile(_ graph: Graph, weights: [String: Tensor], target: TargetDescription,
                               progress: ((String) -> Void)? = nil) throws -> CompileReport {
        if target.runsOnHost {
            let m = try CompiledModel.compile(graph, weights: weights, options: CompileOptions(target: target, backend: .jit, threads: 1),
                                              progress: progress)
            return CompileReport(passes: m.passes, plan: m.plan, timings: m.timings, objectCache: m.cacheOutcome, fromCache: m.fromCache,
                                 objectBytes: m.objectSize, packedWeights: m.packedWeightsOutcome)
        }
        var timings = CompiledModel.Timings()
        var clock = CompiledModel.Timings.Clock()
        progress?("passes")
        let passes = try PassManager().run(graph, context: PassContext(vectorWidth: target.vectorWidth, l1Bytes: target.l1Bytes, weights: weights))
        timings.passes = clock.lap()
        progress?("kernel plan")
        let plan = try KernelPlan(graph: passes.graph, weights: weights, target: target, circuitPlans: passes.circuitPlans, int8: passes.int8)
        timings.planning = clock.lap()
        progress?("LLVM: \(plural(plan.definitions.count, "kernel"))")
        let compiler = KernelCompiler(target: target)
        let object = try compiler.objectCode(plan.definitions)
        timings.codegen = clock.lap()
        return CompileReport(passes: passes, plan: plan, timings: timings, objectCache: compiler.lastCacheOutcome, fromCache: object.fromCache,
                             objectBytes: object.bytes.count, packedWeights: nil)
    }
}
