/// The `frontend` section of a model: how a raw signal becomes the network's input tensor.
/// Parsed and verified here; executed by QEMLSignal. The keys, their kinds and defaults are
/// declared once in `FrontendSpec.keys`.
public struct FrontendSpec: Hashable, Sendable {
    /// The graph input the front end produces (e.g. `spectrogram`).
    public var output: String
    /// Settings in source order; absent keys take their default from `keys`.
    public var settings: [(String, Attribute)]

    public init(output: String, settings: [(String, Attribute)]) {
        self.output = output
        self.settings = settings
    }

    public static func == (a: FrontendSpec, b: FrontendSpec) -> Bool {
        a.output == b.output && a.settings.count == b.settings.count
            && zip(a.settings, b.settings).allSatisfy { $0.0 == $1.0 && $0.1 == $1.1 }
    }

    public func hash(into h: inout Hasher) {
        h.combine(output)
        for (k, v) in settings { h.combine(k); h.combine(v) }
    }

    public subscript(key: String) -> Attribute? {
        if let v = settings.last(where: { $0.0 == key })?.1 { return v }
        return FrontendSpec.keys.first(where: { $0.name == key })?.defaultValue
    }

    /// The shape the front end produces for a signal of `samples` samples, `[1, 1, rows, frames]`:
    /// `[1, C, H, W]` with `resize = [H, W]` (C: one channel per `channels` entry, else 1);
    /// otherwise rows = `n_mels`, or the FFT bins from `fmin` to `fmax` (`bins`: all n_fft / 2 + 1 without them),
    /// and frames = 1 + (L + 2·pad − n_fft) / hop (integer division) for L = `length` (else
    /// `samples`) and pad = n_fft / 2 unless `center = "none"`. Nil when neither `resize` nor a
    /// length fixes it, or the signal is too short for one frame. The one rule `check`, the
    /// suggested `input` line and QEMLSignal's `FrontEnd.outputShape` use (ir/LANGUAGE.md).
    public func outputShape(samples: Int? = nil) -> [Int]? {
        var channels = 1
        if case .strings(let names)? = self["channels"] { channels = max(1, names.count) }
        if let r = self["resize"]?.ints, r.count == 2 { return [1, channels, r[0], r[1]] }
        let nFFT = self["n_fft"]?.int ?? 256, hop = self["hop"]?.int ?? 64
        guard nFFT >= 2, hop >= 1, let n = self["length"]?.int ?? samples, n > 0 else { return nil }
        let pad = self["center"]?.string == "none" ? 0 : nFFT / 2
        let padded = n + 2 * pad
        guard padded >= nFFT else { return nil }
        var rows = nFFT / 2 + 1
        if let mels = self["n_mels"]?.int {
            rows = mels
        } else if let sr = self["sample_rate"]?.int, sr > 0 {
            rows = Self.bins(fmin: self["fmin"]?.double ?? 0, fmax: self["fmax"]?.double, nFFT: nFFT, sampleRate: sr).count
        }
        return [1, channels, rows, 1 + (padded - nFFT) / hop]
    }

    /// Without mel bands, the FFT bins kept: those whose frequency k·sr/n_fft lies in [fmin, fmax]
    /// (every bin, 0…n_fft/2, without a band).
    public static func bins(fmin: Double, fmax: Double?, nFFT: Int, sampleRate: Int) -> Range<Int> {
        let hz = Double(sampleRate) / Double(nFFT)
        let lo = Int((fmin / hz - 1e-9).rounded(.up))
        let hi = fmax.map { Int(($0 / hz + 1e-9).rounded(.down)) } ?? nFFT / 2
        return max(0, lo)..<max(max(0, lo), min(nFFT / 2 + 1, hi + 1))
    }

    public struct Key: Sendable {
        public var name: String
        public var kind: AttributeKind
        public var defaultValue: Attribute?
        public var summary: String
    }

    /// Every setting a `frontend` section may hold.
    public static let keys: [Key] = [
        Key(name: "sample_rate", kind: .int, defaultValue: nil, summary: "expected sample rate in Hz"),
        Key(name: "channel", kind: .int, defaultValue: .int(0), summary: "channel of a multi-channel recording"),
        Key(name: "length", kind: .int, defaultValue: nil, summary: "samples taken from the signal (crop or zero-pad); default: all"),
        Key(name: "envelope", kind: .bool, defaultValue: .bool(false), summary: "take the Hilbert envelope before the STFT"),
        Key(name: "channels", kind: .strings, defaultValue: nil,
            summary: "stack spectrograms as input channels, each of \"signal\", \"envelope\" (Hilbert) or \"rectified\" (abs(x)) (default: one, as envelope says)"),
        Key(name: "n_fft", kind: .int, defaultValue: .int(256), summary: "FFT length"),
        Key(name: "hop", kind: .int, defaultValue: .int(64), summary: "hop between frames"),
        Key(name: "win_length", kind: .int, defaultValue: nil, summary: "window length (default n_fft), centred in the frame"),
        Key(name: "window", kind: .choice(["hann", "hamming", "blackman", "rectangular"]), defaultValue: .string("hann"), summary: "window function"),
        Key(name: "periodic", kind: .bool, defaultValue: .bool(true), summary: "periodic (DFT-even) window, as scipy/librosa default"),
        Key(name: "center", kind: .choice(["reflect", "constant", "none"]), defaultValue: .string("reflect"), summary: "pad n_fft/2 on both sides"),
        Key(name: "scaling", kind: .choice(["none", "spectrum", "psd"]), defaultValue: .string("none"), summary: "STFT scaling as scipy.signal.stft's: none (librosa), spectrum (÷ sum(window)), psd (÷ √(sample_rate · sum(window²)))"),
        Key(name: "scale", kind: .choice(["magnitude", "power", "log1p", "db"]), defaultValue: .string("log1p"), summary: "magnitude scaling"),
        Key(name: "ref", kind: .float, defaultValue: .float(1.0), summary: "db: reference amplitude (librosa.amplitude_to_db's ref)"),
        Key(name: "amin", kind: .float, defaultValue: .float(1e-5), summary: "db: amplitude floor (librosa.amplitude_to_db's amin)"),
        Key(name: "top_db", kind: .float, defaultValue: nil, summary: "db: clip below max − top_db"),
        Key(name: "n_mels", kind: .int, defaultValue: nil, summary: "mel bands (none: linear frequency)"),
        Key(name: "fmin", kind: .float, defaultValue: .float(0), summary: "lowest frequency: of the mel bank, or of the FFT bins kept"),
        Key(name: "fmax", kind: .float, defaultValue: nil, summary: "highest frequency: of the mel bank, or of the FFT bins kept (default sr/2)"),
        Key(name: "standardize", kind: .bool, defaultValue: .bool(false), summary: "per-sample and per-channel zero mean, unit variance"),
        Key(name: "resize", kind: .ints(2), defaultValue: nil, summary: "bilinear resize to [H, W] (align_corners=false)"),
    ]
}

/// What an attribute value must look like; used by op declarations and the frontend keys.
public enum AttributeKind: Hashable, Sendable, CustomStringConvertible {
    case int, float, bool, string
    case choice([String])
    /// A list of exactly n ints, or one int meaning n copies (nil: any length).
    case ints(Int?)
    case floats
    case strings
    case circuit

    public var description: String {
        switch self {
        case .int: return "an integer"
        case .float: return "a number"
        case .bool: return "true or false"
        case .string: return "a string"
        case .choice(let c): return "one of " + c.map { "\"\($0)\"" }.joined(separator: ", ")
        case .ints(let n): return n.map { "\($0) integers" } ?? "a list of integers"
        case .floats: return "a list of numbers"
        case .strings: return "a list of strings"
        case .circuit: return "a circuit body"
        }
    }

    /// Coerces a parsed value to this kind (1 → [1,1] for `.ints(2)`, 1 → 1.0 for `.float`),
    /// or nil when it does not fit.
    public func coerce(_ a: Attribute) -> Attribute? {
        switch (self, a) {
        case (.int, .int): return a
        case (.float, .float): return a
        case (.float, .int(let v)): return .float(Double(v))
        case (.bool, .bool): return a
        case (.string, .string): return a
        case (.choice(let c), .string(let s)): return c.contains(s) ? a : nil
        case (.ints(let n), .int(let v)): return .ints([Int](repeating: v, count: n ?? 1))
        case (.ints(let n), .ints(let v)): return (n == nil || v.count == n) ? a : nil
        case (.floats, .floats): return a
        case (.floats, .ints(let v)): return .floats(v.map(Double.init))
        case (.strings, .strings): return a
        case (.circuit, .circuit): return a
        default: return nil
        }
    }
}
