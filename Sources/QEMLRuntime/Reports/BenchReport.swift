import QEMLTensor

/// `qemlc bench --json`: what was timed and how fast, one JSON object (through `ReportJSON`:
/// keys below in snake_case, numbers that are absent or not finite as null). New fields are new
/// properties with a default; existing keys never change.
public struct BenchReport: Encodable, Sendable {
    public struct Kernel: Encodable, Sendable {
        public var node: String, kernel: String, shape: String
        @NullIfNotFinite public var p50Ms: Double?
        @NullIfNotFinite public var p90Ms: Double?
        public var flops: Int
        @NullIfNotFinite public var gflops: Double?
        /// Of the FMA peak, at most 1; null without a peak or for a step without FLOPs.
        @NullIfNotFinite public var peakShare: Double?

        public init(node: String, kernel: String, shape: String, p50Ms: Double?, p90Ms: Double?, flops: Int, gflops: Double?, peakShare: Double?) {
            self.node = node
            self.kernel = kernel
            self.shape = shape
            self.p50Ms = p50Ms
            self.p90Ms = p90Ms
            self.flops = flops
            self.gflops = gflops
            self.peakShare = peakShare
        }

        enum CodingKeys: String, CodingKey {
            case node, kernel, shape, p50Ms = "p50_ms", p90Ms = "p90_ms", flops, gflops, peakShare = "peak_share"
        }
    }

    public struct Latency: Encodable, Sendable {
        @NullIfNotFinite public var p50: Double?
        @NullIfNotFinite public var p90: Double?
        @NullIfNotFinite public var p99: Double?
        @NullIfNotFinite public var min: Double?
        public init() {}
    }

    public struct CPUTime: Encodable, Sendable {
        @NullIfNotFinite public var p50: Double?
        @NullIfNotFinite public var min: Double?
        public init() {}
    }

    public var model = "", backend = ""
    /// The weights' precision (`Precision.summary`: "f32", or e.g. "int8 (17 of 19 conv2d/dense ops, the rest f32)").
    public var precision = "f32"
    public var threads = 0, batch = 0
    public var cpu = ""
    public var features: [String] = []
    public var llvm = ""
    @NullIfNotFinite public var peakGflops: Double?
    /// `measured` (the FMA probe) or `nominal` (--clock-ghz); null without a peak.
    @NullIfAbsent public var peakSource: String?
    public var generatedWeights = false
    @NullIfNotFinite public var compileS: Double?
    /// How many timed runs.
    public var runs = 0
    public var latencyMs = Latency()
    @NullIfNotFinite public var fps: Double?
    public var cpuMs = CPUTime()
    @NullIfAbsent public var openblasCore: String?
    public var notGenerated: [String] = []
    public var kernels: [Kernel] = []

    public init() {}

    enum CodingKeys: String, CodingKey {
        case model, backend, precision, threads, batch, cpu, features, llvm, peakGflops = "peak_gflops", peakSource = "peak_source"
        case generatedWeights = "generated_weights", compileS = "compile_s", runs, latencyMs = "latency_ms", fps, cpuMs = "cpu_ms"
        case openblasCore = "openblas_core", notGenerated = "not_generated", kernels
    }

    public var json: String { ReportJSON.encode(self) }
}
