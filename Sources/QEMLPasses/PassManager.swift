import Foundation
import QEMLIR
import QEMLQuantum
import QEMLTensor

/// A named graph-to-graph rewrite. Passes are pure: they take a graph and return a new one,
/// and tell the context what they did.
public protocol Pass: Sendable {
    /// The name used on the command line (`--after fuse-cbam`) and in reports.
    var name: String { get }
    /// One line: what the pass does.
    var summary: String { get }
    func run(_ g: Graph, _ ctx: PassContext) throws -> Graph
}

/// What a pass may read about the target and where it reports what it did.
public final class PassContext {
    /// Floats per SIMD register on the target (AVX2 8, AVX-512 16, NEON 4): the `c` of NCHWc.
    public var vectorWidth: Int
    /// The target's L1 data cache: the compiled state-vector kernel's stages are sized from it.
    public var l1Bytes: Int
    /// The batch size symbolic batch dimensions bind to where a pass needs one.
    public var batch: Int
    /// The model's weights by state_dict name, when the caller has them (compile, run, export):
    /// `fuse-quantum` binds circuits to them, so its plan is the one that runs.
    public var weights: [String: Tensor]
    /// Circuit plans `fuse-quantum` made with the real weights, by the circuit's result name; the
    /// lowering to the kernel plan uses them (`PassManager.Result.circuitPlans`).
    public internal(set) var circuitPlans: [String: CircuitPlan] = [:]
    /// The numbers of each int8 op `quantize` marked, by the node's first result name
    /// (`PassManager.Result.int8`).
    public internal(set) var int8: [String: Int8Params] = [:]

    /// Rewrites and messages of the pass that is running; the pass manager collects them.
    public private(set) var rewrites = 0
    public private(set) var messages: [String] = []

    public init(vectorWidth: Int = 8, batch: Int = 1, l1Bytes: Int = 32 << 10, weights: [String: Tensor] = [:]) {
        self.weights = weights
        self.vectorWidth = vectorWidth
        self.batch = batch
        self.l1Bytes = l1Bytes
    }

    /// Counts `n` rewrites (fused nodes, folded ops, inserted conversions).
    public func count(_ n: Int = 1) { rewrites += n }

    /// A line for the report, e.g. `folded 53 batchnorms into convs`.
    public func log(_ message: String) { messages.append(message) }

    func take() -> (Int, [String]) {
        defer { rewrites = 0; messages = [] }
        return (rewrites, messages)
    }
}

/// What one pass did.
public struct PassReport: Sendable {
    public var name: String
    public var seconds: Double
    public var rewrites: Int
    public var messages: [String]
    /// True when the pipeline names a pass this build does not provide.
    public var skipped: Bool
    /// The graph after the pass, kept when the options asked to print it.
    public var graphAfter: Graph?

    /// `fold-batchnorm: folded 53 batchnorms into convs`, one line per message.
    public var lines: [String] {
        if skipped { return ["\(name): not available in this build, skipped"] }
        if messages.isEmpty { return ["\(name): no changes"] }
        return messages.map { "\(name): \($0)" }
    }
}

public struct PassOptions: Sendable {
    /// Keep the graph after every pass (for `--print-after-all`).
    public var printAfterAll: Bool
    /// Keep the graph after these passes.
    public var printAfter: Set<String>
    /// Verify the graph after every pass; the first failure names the pass that broke it.
    public var verifyEach: Bool
    /// Run only the first N passes of the pipeline (bisecting a miscompile).
    public var stopAfter: Int?

    public init(printAfterAll: Bool = false, printAfter: Set<String> = [], verifyEach: Bool = false, stopAfter: Int? = nil) {
        self.printAfterAll = printAfterAll
        self.printAfter = printAfter
        self.verifyEach = verifyEach
        self.stopAfter = stopAfter
    }
}

public enum PassError: ExplainedError, Equatable {
    case unknownPass(String, valid: [String])
    case verificationFailed(after: String, problems: [String])
    case invalidStopAfter(Int)

    public var description: String { message }
    public var fix: String? { nil }

    public var message: String {
        switch self {
        case .unknownPass(let name, let valid):
            return "unknown pass '\(name)'; the passes are: " + valid.joined(separator: ", ")
        case .verificationFailed(let pass, let problems):
            return "the graph is invalid after pass '\(pass)':\n" + problems.map { "  " + $0 }.joined(separator: "\n")
        case .invalidStopAfter(let n):
            return "--stop-after must be a non-negative number of passes, got \(n)"
        }
    }
}

/// Runs the pipeline (`Pipeline.entries`) or a prefix of it.
public struct PassManager: Sendable {
    public struct Result: Sendable {
        public var graph: Graph
        public var reports: [PassReport]
        /// `fuse-quantum`'s plans, bound to the real weights (empty when none were given).
        public var circuitPlans: [String: CircuitPlan] = [:]
        /// `quantize`'s int8 ops, by the node's first result name (empty unless the weights are int8).
        public var int8: [String: Int8Params] = [:]
    }

    public var entries: [Pipeline.Entry]

    public init(entries: [Pipeline.Entry] = Pipeline.entries) { self.entries = entries }

    /// Every pass name of the pipeline, in order.
    public var passNames: [String] { entries.map(\.name) }

    /// Runs the passes in order, up to and including `until` if given.
    public func run(_ graph: Graph, until: String? = nil, options: PassOptions = PassOptions(),
                    context: PassContext = PassContext()) throws -> Result {
        for name in options.printAfter.sorted() where !passNames.contains(name) {
            throw PassError.unknownPass(name, valid: passNames)
        }
        var selected = entries
        if let until {
            guard let i = passNames.firstIndex(of: until) else { throw PassError.unknownPass(until, valid: passNames) }
            selected = Array(entries[...i])
        }
        if let n = options.stopAfter {
            guard n >= 0 else { throw PassError.invalidStopAfter(n) }
            selected = Array(selected.prefix(n))
        }

        var g = graph
        var reports: [PassReport] = []
        for entry in selected {
            guard let pass = entry.pass else {
                reports.append(PassReport(name: entry.name, seconds: 0, rewrites: 0, messages: [], skipped: true))
                continue
            }
            let start = DispatchTime.now().uptimeNanoseconds
            g = try pass.run(g, context)
            let seconds = Double(DispatchTime.now().uptimeNanoseconds - start) / 1e9
            let (rewrites, messages) = context.take()
            if options.verifyEach {
                let problems = GraphChecks.problems(in: g)
                if !problems.isEmpty { throw PassError.verificationFailed(after: entry.name, problems: problems) }
            }
            let keep = options.printAfterAll || options.printAfter.contains(entry.name)
            reports.append(PassReport(name: entry.name, seconds: seconds, rewrites: rewrites, messages: messages,
                                      skipped: false, graphAfter: keep ? g : nil))
        }
        return Result(graph: g, reports: reports, circuitPlans: context.circuitPlans, int8: context.int8)
    }

    /// The `--time-passes` table: one row per pass and the total.
    public static func timingTable(_ reports: [PassReport]) -> String {
        let width = max(20, (reports.map(\.name.count).max() ?? 0) + 2)
        func pad(_ s: String) -> String { s + String(repeating: " ", count: max(0, width - s.count)) }
        var lines = [pad("pass") + "    time (ms)  rewrites"]
        for r in reports where !r.skipped {
            lines.append(pad(r.name) + String(format: "%13.3f  %8d", r.seconds * 1000, r.rewrites))
        }
        let total = reports.reduce(0) { $0 + $1.seconds }
        lines.append(pad("total") + String(format: "%13.3f", total * 1000))
        return lines.joined(separator: "\n")
    }
}
