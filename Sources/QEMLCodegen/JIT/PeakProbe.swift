import Foundation
import QEMLTensor

/// This CPU's measured FMA throughput at a target's vector width, for `bench`'s share of peak.
///
/// A nominal peak (FLOP per cycle × a clock) is wrong on most machines: the clock in
/// `/proc/cpuinfo` is not the one the core runs at under load, and a built-in target's
/// `clock_ghz` describes some other CPU. So the peak is measured: the generated FMA probe
/// (`KernelDefinition.fmaProbe`) runs on one core for a few milliseconds, best of several
/// repetitions, and the result is cached per CPU (model name, target CPU and features, vector
/// width) in the object cache's folder, so only the first `bench` on a machine pays ~0.1 s.
public enum PeakProbe {
    public struct Peak: Sendable {
        /// GFLOP/s of one core.
        public var gflopsPerCore: Double
        public var fromCache: Bool
    }

    public static func measure(target: TargetDescription, cache: ObjectCache? = .standard) throws -> Peak {
        var key = ContentHash()
        key.update("fma-probe v1")
        key.update(cpuModelName())
        key.update(target.cpu)
        key.update(target.features)
        key.update("\(target.vectorWidth)")
        let file = cache.map { $0.directory.appendingPathComponent("peak-\(key.hex).txt") }
        if let file, let text = try? String(contentsOf: file, encoding: .utf8),
           let v = Double(text.trimmingCharacters(in: .whitespacesAndNewlines)), v > 0 {
            return Peak(gflopsPerCore: v, fromCache: true)
        }
        let definition = KernelDefinition.fmaProbe(target: target)
        let module = try KernelCompiler(target: target, cache: cache).compile([definition])
        guard let kernel = module[definition.name] else { throw CodegenError(.kernel, "the FMA probe was not linked") }
        let floats = definition.buffers[0].elementsPerSample
        let accumulators = UnsafeMutablePointer<Float>.allocate(capacity: floats)
        defer { accumulators.deallocate() }
        accumulators.initialize(repeating: 1, count: floats)
        var best = 0.0
        var iterations = 1 << 14
        for _ in 0..<12 {
            let start = DispatchTime.now().uptimeNanoseconds
            kernel.run([accumulators], begin: 0, end: iterations)
            let seconds = Double(DispatchTime.now().uptimeNanoseconds - start) / 1e9
            best = max(best, Double(iterations * definition.flopsPerSample) / seconds / 1e9)
            if seconds < 2e-3 { iterations *= 2 }  // each repetition long enough to time, ~2-5 ms
        }
        if let file {
            try? FileManager.default.createDirectory(at: file.deletingLastPathComponent(), withIntermediateDirectories: true)
            try? writeFileAtomically(Array(String(format: "%.3f\n", best).utf8), to: file.path, overwrite: true)
        }
        return Peak(gflopsPerCore: best, fromCache: false)
    }

    /// `/proc/cpuinfo`'s model name (the CPU, not the target), or "unknown".
    static func cpuModelName() -> String {
        guard let d = FileManager.default.contents(atPath: "/proc/cpuinfo") else { return "unknown" }
        for line in String(decoding: d, as: UTF8.self).split(separator: "\n") where line.hasPrefix("model name") {
            return line.split(separator: ":", maxSplits: 1).last.map { $0.trimmingCharacters(in: .whitespaces) } ?? "unknown"
        }
        return "unknown"
    }
}
