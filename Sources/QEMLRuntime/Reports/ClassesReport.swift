import QEMLTensor

/// `qemlc run --json`: the top classes of each sample,
/// `{"output": NAME, "precision": P, "samples": [{"sample": 0, "top": [{"label": L, NAME: VALUE}, …]}, …]}`
/// where NAME is the output value's name (e.g. `probs`) and a non-finite VALUE is null.
public struct TopClassesReport: Encodable, Sendable {
    public struct Entry: Encodable, Sendable {
        public var label: String
        public var value: Float
        /// The key the value is written under: the output's name.
        public var valueName: String

        public init(label: String, value: Float, valueName: String) {
            self.label = label
            self.value = value
            self.valueName = valueName
        }

        public func encode(to encoder: Encoder) throws {
            var c = encoder.container(keyedBy: DynamicKey.self)
            try c.encode(label, forKey: DynamicKey("label"))
            try c.encode(NullIfNotFinite(wrappedValue: value), forKey: DynamicKey(valueName))
        }
    }

    public struct Sample: Encodable, Sendable {
        public var sample: Int
        public var top: [Entry]
        public init(sample: Int, top: [Entry]) {
            self.sample = sample
            self.top = top
        }
    }

    public var output: String
    /// The weights' precision (`Precision.summary`).
    public var precision: String
    public var samples: [Sample]

    public init(output: String, precision: String, samples: [Sample]) {
        self.output = output
        self.precision = precision
        self.samples = samples
    }

    public var json: String { ReportJSON.encode(self) }
}

/// `qemlc run --stream --json`: one line per window, `{"t", "start", "label", "p", "window", "probs"}`.
public struct StreamWindowReport: Encodable, Sendable {
    /// Seconds: the window's end, and its start.
    @NullIfNotFinite public var t: Double?
    @NullIfNotFinite public var start: Double?
    public var label: String
    @NullIfNotFinite public var p: Float?
    /// `StreamWindows.Kind`'s raw value (full, short, …).
    public var window: String
    /// Every class's score, by label.
    public var probs: [String: NullIfNotFinite<Float>]

    public init(t: Double, start: Double, label: String, p: Float, window: String, probs: [(String, Float)]) {
        self.t = t
        self.start = start
        self.label = label
        self.p = p
        self.window = window
        var byLabel: [String: NullIfNotFinite<Float>] = [:]
        for (l, v) in probs { byLabel[l] = NullIfNotFinite(wrappedValue: v) }
        self.probs = byLabel
    }

    public var json: String { ReportJSON.encode(self) }
}
