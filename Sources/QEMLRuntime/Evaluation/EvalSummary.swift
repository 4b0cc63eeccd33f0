import Foundation

/// How long an evaluation took: the whole run, the front end, and each network batch.
public struct EvalTiming: Sendable {
    public var recordings: Int
    public var wall: Double
    public var frontEnd: Double
    public var batches: [Double]
    public var batchSize: Int

    public init(recordings: Int, wall: Double, frontEnd: Double, batches: [Double], batchSize: Int) {
        self.recordings = recordings
        self.wall = wall
        self.frontEnd = frontEnd
        self.batches = batches
        self.batchSize = batchSize
    }

    public var recordingsPerSecond: Double { wall > 0 ? Double(recordings) / wall : 0 }
    /// The median time of one network batch.
    public var p50Batch: Double {
        let s = batches.sorted()
        return s.isEmpty ? 0 : s[s.count / 2]
    }
}

/// What `qemlc eval` reports, as JSON or text.
public struct EvalSummary: Sendable {
    public var model: String
    public var data: String
    public var backend: String
    public var precision: String
    public var report: ClassificationReport
    public var timing: EvalTiming
    public var skipped: [(path: String, error: String)]
    public var breakdown: (column: String, groups: [Breakdown.Group])?

    public init(model: String, data: String, backend: String, precision: String, report: ClassificationReport, timing: EvalTiming,
                skipped: [(path: String, error: String)], breakdown: (column: String, groups: [Breakdown.Group])?) {
        self.model = model
        self.data = data
        self.backend = backend
        self.precision = precision
        self.report = report
        self.timing = timing
        self.skipped = skipped
        self.breakdown = breakdown
    }

    struct JSONForm: Encodable {
        struct Skipped: Encodable { var path: String; var error: String }
        struct By: Encodable { var column: String; var groups: [Breakdown.Group] }
        var model: String, data: String, backend: String, precision: String
        var labels: [String], count: Int, accuracy: Double, macroF1: Double, auc: Double?
        var perClass: [String: ClassificationReport.PerClass], confusion: [[Int]]
        var recordingsPerSecond: Double, latencyP50Ms: Double, batch: Int, frontEndMs: Double
        var skipped: [Skipped], by: By?

        enum CodingKeys: String, CodingKey {
            case model, data, backend, precision, labels, count, accuracy, macroF1 = "macro_f1", auc, perClass = "per_class", confusion
            case recordingsPerSecond = "recordings_per_second", latencyP50Ms = "latency_p50_ms", batch, frontEndMs = "front_end_ms_per_recording"
            case skipped, by
        }

        /// Written out so that a missing AUC or breakdown is `null`, not an absent key.
        func encode(to encoder: Encoder) throws {
            var c = encoder.container(keyedBy: CodingKeys.self)
            try c.encode(model, forKey: .model); try c.encode(data, forKey: .data)
            try c.encode(backend, forKey: .backend); try c.encode(precision, forKey: .precision)
            try c.encode(labels, forKey: .labels); try c.encode(count, forKey: .count)
            try c.encode(accuracy, forKey: .accuracy); try c.encode(macroF1, forKey: .macroF1); try c.encode(auc, forKey: .auc)
            try c.encode(perClass, forKey: .perClass); try c.encode(confusion, forKey: .confusion)
            try c.encode(recordingsPerSecond, forKey: .recordingsPerSecond); try c.encode(latencyP50Ms, forKey: .latencyP50Ms)
            try c.encode(batch, forKey: .batch); try c.encode(frontEndMs, forKey: .frontEndMs)
            try c.encode(skipped, forKey: .skipped); try c.encode(by, forKey: .by)
        }
    }

    /// One JSON object (every number finite: an AUC that does not exist is null).
    public func json() throws -> String {
        let r = report
        let form = JSONForm(model: model, data: data, backend: backend, precision: precision, labels: r.labels, count: r.count,
                            accuracy: r.accuracy, macroF1: r.macroF1, auc: r.auc, perClass: r.perClass, confusion: r.confusion,
                            recordingsPerSecond: timing.recordingsPerSecond, latencyP50Ms: timing.p50Batch * 1e3, batch: timing.batchSize,
                            frontEndMs: timing.frontEnd * 1e3 / Double(max(1, timing.recordings)),
                            skipped: skipped.map { JSONForm.Skipped(path: $0.path, error: $0.error) },
                            by: breakdown.map { JSONForm.By(column: $0.column, groups: $0.groups) })
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.sortedKeys]
        return String(decoding: try encoder.encode(form), as: UTF8.self)
    }
}
