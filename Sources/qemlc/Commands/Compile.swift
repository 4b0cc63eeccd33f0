import ArgumentParser
import Foundation
import QEMLCodegen
import QEMLIR
import QEMLPasses
import QEMLRuntime
import QEMLTensor

struct Compile: ParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Compile a model for a CPU: run the passes, generate and JIT the kernels; print what was fused and what it costs.",
        discussion: "Without --weights the model is compiled with zeros for weights: code, fusions and cost do not depend on their values. Compiled objects are cached (keyed by the IR, the target and the LLVM version), so compiling the same model again skips LLVM.")

    @Argument(help: "The model (.qir).") var model: String
    @Option(help: "Trained weights (.safetensors); default: generated.") var weights: String?
    @Option(help: "Target: a built-in name (see `qemlc targets`) or a .target file.") var target = "host"
    @Option(name: .customLong("emit-llvm"), help: "Write the optimized LLVM IR of the kernels to FILE.") var emitLLVM: String?
    @Option(name: .customLong("emit-asm"), help: "Write the kernels' assembly to FILE.") var emitAsm: String?
    @Flag(help: "Print each pass's time.") var timePasses = false
    @Flag(help: "Print every kernel, not only a summary per kind.") var allKernels = false
    @Flag(help: "Overwrite existing --emit-* files.") var force = false

    func run() throws {
        for path in [emitLLVM, emitAsm].compactMap({ $0 }) { try ModelFiles.checkWritable(path, force: force) }
        let graph = try ModelFiles.graph(model)
        // Code, fusions and cost do not depend on the weights' values: without --weights, zeros
        // of the right shapes stand in (generating 26 M random values would cost more than a
        // cached compile).
        let weightTensors = try weights.map { try ModelFiles.weights($0, for: graph) } ?? ExecutableModel.zeroWeights(for: graph)
        let target = try ExecutableModel.target(target)
        let progress = Progress("compiling \(graph.name)", total: 3)
        let start = DispatchTime.now().uptimeNanoseconds
        let passes = try ExecutableModel.userFacing {
            try PassManager().run(graph, context: PassContext(vectorWidth: target.vectorWidth, l1Bytes: target.l1Bytes, weights: weightTensors))
        }
        progress.step("kernel plan")
        let afterPasses = DispatchTime.now().uptimeNanoseconds
        var plan = try ExecutableModel.userFacing { try KernelPlan(graph: passes.graph, weights: weightTensors, target: target,
                                                                      circuitPlans: passes.circuitPlans, int8: passes.int8) }
        progress.step("LLVM (\(plural(plan.definitions.count, "kernel")))")
        let afterPlan = DispatchTime.now().uptimeNanoseconds
        let compiler = KernelCompiler(target: target)
        let fromCache: Bool, objectBytes: Int
        if target.runsOnHost {
            let module = try ExecutableModel.userFacing { try compiler.compile(plan.definitions) }
            try ExecutableModel.userFacing { try plan.compileStateVectors(cache: compiler.cache) }
            (fromCache, objectBytes) = (module.fromCache, module.objectSize)
        } else {
            let object = try ExecutableModel.userFacing { try compiler.objectCode(plan.definitions) }
            (fromCache, objectBytes) = (object.fromCache, object.bytes.count)
        }
        let end = DispatchTime.now().uptimeNanoseconds
        progress.step()
        progress.finish()

        print("model \(graph.name): \(plural(graph.nodes.count, "op")) → \(passes.graph.nodes.count) after the passes; target \(target.name) (\(target.cpu), \(target.vectorWidth) lanes)")
        if weights == nil { print("weights: none given, packed zeros of the right shapes; pass --weights FILE to pack trained ones") }
        print("precision: \(Precision.summary(passes.graph))")
        print("\npasses:")
        for r in passes.reports { for line in r.lines { print("  " + line) } }
        if timePasses { print("\n" + PassManager.timingTable(passes.reports)) }

        print("\nkernels: \(plural(plan.stepInfo.count, "step")), \(plan.definitions.count) distinct generated functions (same-shape layers share code)"
              + (plan.fallbacks.isEmpty ? "" : ", \(plan.fallbacks.count) on the reference interpreter"))
        print(KernelTables.render(plan, all: allKernels))
        let notGenerated = plan.stepsNotGenerated
        if !notGenerated.isEmpty {
            print("not generated kernels (\(notGenerated.count)):")
            for line in notGenerated { print("  " + line) }
        }

        let ms = { (a: UInt64, b: UInt64) in String(format: "%.0f ms", Double(b - a) / 1e6) }
        print("\ncompile time: \(ms(start, end)) (passes \(ms(start, afterPasses)), planning and weight packing \(ms(afterPasses, afterPlan)), LLVM \(ms(afterPlan, end)))")
        print("object cache: \(compiler.lastCacheOutcome)\(fromCache ? " (LLVM skipped)" : "") — object \(humanBytes(objectBytes))" + (target.runsOnHost ? ", linked by ORC LLJIT" : " (not linked: the target is not this machine)"))
        print(ArenaReport.line(plan))

        if let path = emitLLVM {
            try ModelFiles.writeText(try ExecutableModel.userFacing { try compiler.llvmIR(plan.definitions) }, to: path, force: force)
            print("wrote LLVM IR to \(path)")
        }
        if let path = emitAsm {
            try ModelFiles.writeText(try ExecutableModel.userFacing { try compiler.assembly(plan.definitions) }, to: path, force: force)
            print("wrote assembly to \(path)")
        }
    }
}

/// The arena line `compile` and `dump --after plan` both print: the plan's arena, the one that runs.
enum ArenaReport {
    static func line(_ plan: KernelPlan) -> String {
        let ratio = Double(plan.naiveBytesPerSample) / Double(max(1, plan.arenaBytesPerSample))
        return "arena: \(humanBytes(plan.arenaBytesPerSample)) per sample (one buffer per value: \(humanBytes(plan.naiveBytesPerSample)), "
            + "\(String(format: "%.1f", ratio))× smaller)"
    }
}

/// The kernel table of `compile`: one row per kind (count, FLOPs), or one per kernel.
enum KernelTables {
    static func render(_ plan: KernelPlan, all: Bool) -> String {
        let steps = plan.stepInfo
        if all {
            var t = TextTable(["#", "node", "kernel", "shape", "MFLOP"], rightAligned: [0, 4])
            for (i, s) in steps.enumerated() {
                t.add([String(i), s.node, s.kind, s.summary, String(format: "%.2f", Double(s.flopsPerSample) / 1e6)])
            }
            return t.render()
        }
        var order: [String] = []
        var count: [String: Int] = [:], flops: [String: Int] = [:]
        for s in steps {
            if count[s.kind] == nil { order.append(s.kind) }
            count[s.kind, default: 0] += 1
            flops[s.kind, default: 0] += s.flopsPerSample
        }
        let total = max(1, plan.totalFlopsPerSample)
        var t = TextTable(["kernel", "count", "MFLOP", "share"], rightAligned: [1, 2, 3])
        for k in order {
            t.add([k, String(count[k] ?? 0), String(format: "%.1f", Double(flops[k] ?? 0) / 1e6),
                   String(format: "%.1f%%", 100 * Double(flops[k] ?? 0) / Double(total))])
        }
        t.add(["total", String(steps.count), String(format: "%.1f", Double(plan.totalFlopsPerSample) / 1e6), ""])
        return t.render() + "\n(per sample; --all-kernels lists each kernel with its shape)"
    }
}

/// What `compile`, `run` and `bench` share: weights (given or generated), the target, errors.
enum ExecutableModel {
    /// The weights from `path`, or deterministic generated ones (and `true`) without a path.
    static func weights(_ path: String?, for graph: Graph) throws -> ([String: Tensor], Bool) {
        if path != nil { return (try ModelFiles.weights(path, for: graph), false) }
        return (WeightInit.initialize(graph, seed: 0), true)
    }

    /// Zeros of every weight's shape: enough to plan, pack and compile.
    static func zeroWeights(for graph: Graph) -> [String: Tensor] {
        var out: [String: Tensor] = [:]
        for v in graph.weights {
            guard let name = graph[v].weightName, let shape = graph.type(of: v).fixedShape else { continue }
            out[name] = Tensor(zeros: shape)
        }
        return out
    }

    static func target(_ name: String) throws -> TargetDescription {
        do { return try TargetDescription.named(name) } catch let e as CodegenError {
            throw UserError(e.message, fix: "list the targets with `qemlc targets`")
        }
    }

    /// Runs `body`, turning planning and code generation errors into user errors.
    static func userFacing<T>(_ body: () throws -> T) throws -> T {
        do { return try body() } catch let e as PlanError {
            throw UserError(e.description)
        } catch let e as CodegenError {
            throw UserError("code generation failed (\(e.stage.rawValue)): \(e.message)")
        } catch let e as PassError {
            throw UserError(e.description)
        }
    }

    static func compile(_ graph: Graph, weights: [String: Tensor], target: TargetDescription, backend: ConvBackend,
                        threads: Int?) throws -> CompiledModel {
        let options = CompileOptions(target: target, backend: backend, threads: threads ?? ProcessInfo.processInfo.activeProcessorCount)
        guard target.runsOnHost else {
            throw UserError("target '\(target.name)' (\(target.triple)) cannot run on this machine", fix: "use `qemlc compile --target \(target.name)` to emit code for it")
        }
        let progress = Progress("compiling \(graph.name)", total: 3)
        defer { progress.finish() }
        return try userFacing { try CompiledModel.compile(graph, weights: weights, options: options) { progress.step($0) } }
    }
}
