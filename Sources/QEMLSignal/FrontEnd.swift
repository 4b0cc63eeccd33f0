import QEMLIR
import QEMLTensor

/// Executes a model's `frontend` section: raw signal → network input `[1, C, H, W]`.
///
/// Order: crop/zero-pad to `length` → per channel (`channels`: the signal itself, its Hilbert
/// envelope, or its rectified |x|; one channel by default, the envelope if `envelope = true`) → STFT (`n_fft`,
/// `hop`, `win_length`, `window`, `periodic`, `center`) → mel bands (`n_mels`, `fmin`, `fmax`),
/// or without them the FFT bins from `fmin` to `fmax` → `scale` → `resize` → `standardize` (each
/// channel on its own). Rows are frequency (row 0 = lowest), columns are frames, as in librosa.
/// Several channels exist because bearing faults show in the envelope (impact rates, 10–500 Hz) and
/// shaft faults in the signal's own low-frequency lines (1×, 2×, 3×), which the envelope loses.
/// With mel bands the bank is applied to |X| for `magnitude`/`log1p` and to |X|² for
/// `power`/`db` (librosa's `melspectrogram(power=1)` and `power=2`), then scaled.
public struct FrontEnd: Sendable {
    public let spec: FrontendSpec
    public let stft: STFT
    public let sampleRate: Int?
    public let length: Int?
    /// What each input channel is a spectrogram of.
    /// `rectified` (|x|, a full-wave rectifier, demodulated by the STFT's low band) is the
    /// envelope detector the exported C runtime computes; `envelope` is the exact Hilbert one.
    public enum Source: String, CaseIterable, Sendable { case signal, envelope, rectified }
    public let sources: [Source]
    public let scale: String
    /// scipy.signal.stft's `scaling`: "none" (librosa, unscaled), "spectrum" (|X| ÷ sum(window)),
    /// "psd" (|X| ÷ √(sample_rate · sum(window²))).
    public let scaling: String
    /// `db`'s reference and floor as amplitudes, as `librosa.amplitude_to_db(|X|, ref, amin, top_db)`
    /// takes them (= `power_to_db(|X|², ref², amin², top_db)`).
    public let ref: Double, amin: Double, topDB: Double?
    /// `ref` and `amin` as powers, what `powerToDB` takes.
    public var powerRef: Double { ref * ref }
    public var powerAmin: Double { amin * amin }
    public let nMels: Int?, fmin: Double, fmax: Double?
    public let standardize: Bool
    public let resize: (height: Int, width: Int)?

    public init(spec: FrontendSpec) throws {
        self.spec = spec
        let r = SpecReader(spec)
        sampleRate = try r.int("sample_rate")
        if let sr = sampleRate, sr <= 0 { throw r.bad("sample_rate", "must be positive") }
        length = try r.int("length")
        if let l = length, l <= 0 { throw r.bad("length", "must be positive") }
        if let l = length, l > Recording.maxSamples { throw r.bad("length", "must be at most \(Recording.maxSamples) samples (the limit)") }
        let envelope = try r.bool("envelope") ?? false
        if let names = try r.strings("channels") {
            if spec.settings.contains(where: { $0.0 == "envelope" }) {
                throw r.bad("channels", "and envelope cannot both be set", fix: "write channels = [\"envelope\"] instead of envelope = true")
            }
            guard !names.isEmpty, names.count <= 4, Set(names).count == names.count else {
                throw r.bad("channels", "must list one to four different sources")
            }
            sources = try names.map { n in
                guard let s = Source(rawValue: n) else {
                    throw r.bad("channels", "has an unknown source \"\(n)\": the sources are " + Source.allCases.map { "\"\($0.rawValue)\"" }.joined(separator: ", "))
                }
                return s
            }
        } else {
            sources = [envelope ? .envelope : .signal]
        }
        let window = try r.string("window") ?? "hann"
        guard let kind = WindowKind(rawValue: window) else {
            throw r.bad("window", "must be one of " + WindowKind.allCases.map { "\"\($0.rawValue)\"" }.joined(separator: ", "))
        }
        let center = try r.string("center") ?? "reflect"
        guard let padding = Padding(rawValue: center) else { throw r.bad("center", "must be \"reflect\", \"constant\" or \"none\"") }
        let nFFT = try r.int("n_fft") ?? 256, hop = try r.int("hop") ?? 64, winLength = try r.int("win_length")
        let periodic = try r.bool("periodic") ?? true
        do {
            stft = try STFT(nFFT: nFFT, hop: hop, winLength: winLength, window: kind, periodic: periodic, padding: padding)
        } catch let e as SignalError {
            throw SignalError("frontend: " + e.message, fix: e.fix)
        }
        scale = try r.string("scale") ?? "log1p"
        guard ["magnitude", "power", "log1p", "db"].contains(scale) else {
            throw r.bad("scale", "must be \"magnitude\", \"power\", \"log1p\" or \"db\"")
        }
        scaling = try r.string("scaling") ?? "none"
        guard ["none", "spectrum", "psd"].contains(scaling) else { throw r.bad("scaling", "must be \"none\", \"spectrum\" or \"psd\"") }
        if scaling == "psd", sampleRate == nil { throw r.bad("scaling", "\"psd\" needs the sample_rate setting") }
        ref = try r.double("ref") ?? 1
        amin = try r.double("amin") ?? 1e-5
        if !ref.isFinite || ref == 0 { throw r.bad("ref", "must be a finite non-zero number") }
        topDB = try r.double("top_db")
        if !(amin > 0) || !amin.isFinite { throw r.bad("amin", "must be positive") }
        if let t = topDB, !(t >= 0) || !t.isFinite { throw r.bad("top_db", "must be non-negative") }
        nMels = try r.int("n_mels")
        if let m = nMels, m <= 0 { throw r.bad("n_mels", "must be positive") }
        if let m = nMels, m > 4096 { throw r.bad("n_mels", "must be at most 4096 (the limit)") }
        fmin = try r.double("fmin") ?? 0
        fmax = try r.double("fmax")
        if fmin < 0 || !fmin.isFinite { throw r.bad("fmin", "must be a non-negative number") }
        if let f = fmax, !(f > fmin) { throw r.bad("fmax", "must be above fmin (\(fmin))") }
        if nMels == nil, fmin > 0 || fmax != nil {
            guard let sr = sampleRate else { throw r.bad("fmax", "without n_mels keeps the FFT bins up to it, which needs sample_rate", fix: "add sample_rate") }
            let bins = Self.bins(fmin: fmin, fmax: fmax, nFFT: nFFT, sampleRate: sr)
            guard !bins.isEmpty else { throw r.bad("fmin", "and fmax keep no FFT bin (one bin is \(Double(sr) / Double(nFFT)) Hz)") }
        }
        standardize = try r.bool("standardize") ?? false
        if let s = try r.ints("resize") {
            guard s.count == 2, s[0] > 0, s[1] > 0 else { throw r.bad("resize", "must be two positive integers [H, W]") }
            guard s[0] <= 1 << 15, s[1] <= 1 << 15, s[0] * s[1] <= 1 << 24 else {
                throw r.bad("resize", "must be at most 2^24 pixels, each side at most 32768 (the limit)")
            }
            resize = (s[0], s[1])
        } else {
            resize = nil
        }
    }

    /// The network input for a recording read from `path`: channel `channel` (default: the
    /// section's `channel`), resampled to `sample_rate` when `resample` is set (polyphase,
    /// `resamplePoly`), otherwise a rate mismatch is an error saying how to ask. Files without a
    /// rate (CSV, NPY) are taken to be at the model's rate.
    public func run(_ recording: Recording, path: String, channel: Int? = nil, resample: Bool = false) throws -> Tensor {
        let (x, rate) = try prepare(recording, path: path, channel: channel, resample: resample)
        return try run(x, sampleRate: rate)
    }

    /// The selected channel at the rate the front end will see.
    public func prepare(_ recording: Recording, path: String, channel: Int? = nil, resample: Bool = false) throws -> ([Float], Int) {
        let x = try recording.channel(channel ?? (spec["channel"]?.int ?? 0), path: path)
        guard let rate = recording.sampleRate ?? sampleRate else {
            throw SignalError("\(path) records no sample rate and the model's frontend sets no sample_rate",
                              fix: "add sample_rate to the frontend section or use a WAV file")
        }
        if resample, let expected = sampleRate, expected != rate {
            return (try resamplePoly(x, from: rate, to: expected), expected)
        }
        return (x, rate)
    }

    /// The network input for one signal sampled at `sampleRate` Hz.
    public func run(_ signal: [Float], sampleRate rate: Int) throws -> Tensor {
        var (s, rows, cols) = try spectrogramRows(signal, sampleRate: rate)
        let channels = sources.count
        if let resize {
            var out: [Float] = []
            out.reserveCapacity(channels * resize.height * resize.width)
            for c in 0..<channels {
                out += bilinearResize(Array(s[(c * rows * cols)..<((c + 1) * rows * cols)]), height: rows, width: cols,
                                      toHeight: resize.height, width: resize.width)
            }
            s = out
            (rows, cols) = resize
        }
        if standardize {
            let plane = rows * cols
            for c in 0..<channels {
                var p = Array(s[(c * plane)..<((c + 1) * plane)])
                QEMLSignal.standardize(&p)
                s.replaceSubrange((c * plane)..<((c + 1) * plane), with: p)
            }
        }
        return Tensor(shape: [1, channels, rows, cols], data: s)
    }

    /// The FFT bins whose frequency k·sr/n_fft lies in [fmin, fmax] (all without a band).
    static func bins(fmin: Double, fmax: Double?, nFFT: Int, sampleRate: Int) -> Range<Int> {
        FrontendSpec.bins(fmin: fmin, fmax: fmax, nFFT: nFFT, sampleRate: sampleRate)
    }

    /// The FFT bins kept without mel bands.
    public func keptBins(sampleRate rate: Int) -> Range<Int> {
        nMels == nil ? Self.bins(fmin: fmin, fmax: fmax, nFFT: stft.nFFT, sampleRate: sampleRate ?? rate) : 0..<stft.bins
    }

    /// The scaled spectrogram before `resize` and `standardize`, `[1, C, bins or n_mels, frames]`:
    /// what `SpectrogramImage` draws with true time and frequency axes.
    public func spectrogram(_ signal: [Float], sampleRate rate: Int) throws -> Tensor {
        let (s, rows, cols) = try spectrogramRows(signal, sampleRate: rate)
        return Tensor(shape: [1, sources.count, rows, cols], data: s)
    }

    /// A picture of one channel of `spectrogram(signal)` with this front end's axes.
    public func picture(_ signal: [Float], sampleRate rate: Int, channel: Int = 0) throws -> [UInt8] {
        let melRange = nMels.map { _ in fmin...(fmax ?? Double(sampleRate ?? rate) / 2) }
        let all = try spectrogram(signal, sampleRate: rate)
        let plane = all.shape[2] * all.shape[3], c = min(max(0, channel), sources.count - 1)
        let map = Tensor(shape: [all.shape[2], all.shape[3]], data: Array(all.data[(c * plane)..<((c + 1) * plane)]))
        return try SpectrogramImage.png(map, sampleRate: sampleRate ?? rate, hop: stft.hop, nFFT: stft.nFFT, melRange: melRange,
                                        firstBin: keptBins(sampleRate: rate).lowerBound, unit: scale == "db" ? "dB" : "")
    }

    /// The signal's own spectrogram (first kind of channel: the signal itself) over the whole
    /// recording, not cropped to `length` and not resized: the strip a timeline draws.
    public func strip(_ signal: [Float], sampleRate rate: Int) throws -> (map: Tensor, hop: Int, nFFT: Int, firstBin: Int) {
        let frames = try stft.checkedFrameCount(signal.count)
        let (s, rows) = try channelRows(signal, frames: frames, sampleRate: rate)
        return (Tensor(shape: [rows, frames], data: s), stft.hop, stft.nFFT, nMels == nil ? keptBins(sampleRate: rate).lowerBound : 0)
    }

    private func spectrogramRows(_ signal: [Float], sampleRate rate: Int) throws -> ([Float], Int, Int) {
        if let expected = sampleRate, expected != rate {
            throw SignalError("the signal is sampled at \(rate) Hz but the model's front end expects \(expected) Hz",
                              fix: "pass --resample to resample it to \(expected) Hz (polyphase, like scipy.signal.resample_poly), or record at \(expected) Hz")
        }
        var x = signal
        if let length {
            if x.count > length { x.removeLast(x.count - length) } else { x.append(contentsOf: [Float](repeating: 0, count: length - x.count)) }
        }
        let frames = try stft.checkedFrameCount(x.count)
        var all: [Float] = []
        var rows = 0
        for source in sources {
            let input: [Float]
            switch source {
            case .signal: input = x
            case .envelope: input = hilbertEnvelope(x)
            case .rectified: input = x.map(abs)
            }
            let (s, r) = try channelRows(input, frames: frames, sampleRate: rate)
            all += s
            rows = r
        }
        return (all, rows, frames)
    }

    /// One channel's scaled map, `rows` × `frames`.
    private func channelRows(_ x: [Float], frames: Int, sampleRate rate: Int) throws -> ([Float], rows: Int) {
        let usesPower = scale == "power" || scale == "db"
        let factor = scalingFactor(sampleRate: sampleRate ?? rate)
        var rows = stft.bins
        var s: [Float]
        if nMels == nil, factor == 1 {
            s = try stft(x, output: scale == "log1p" ? .log1p : usesPower ? .power : .magnitude)  // the fused epilogue
        } else {
            s = try stft(x, output: usesPower ? .power : .magnitude)
            if factor != 1 {
                let f = Float(usesPower ? factor * factor : factor)
                for i in s.indices { s[i] *= f }
            }
            if let nMels {
                let bank = try MelFilterBank(sampleRate: sampleRate ?? rate, nFFT: stft.nFFT, nMels: nMels, fmin: fmin, fmax: fmax)
                s = bank.apply(s, frames: frames)
                rows = nMels
            }
            if scale == "log1p" { log1pInPlace(&s) }
        }
        let kept = keptBins(sampleRate: rate)
        if nMels == nil, kept.count != rows {
            s = Array(s[(kept.lowerBound * frames)..<(kept.upperBound * frames)])
            rows = kept.count
        }
        if scale == "db" { try powerToDB(&s, ref: powerRef, amin: powerAmin, topDB: topDB) }
        return (s, rows)
    }

    /// The factor `scaling` multiplies |X| by: 1, 1 / sum(w) or 1 / √(fs · sum(w²)) (scipy.signal.stft's).
    public func scalingFactor(sampleRate fs: Int) -> Double {
        switch scaling {
        case "spectrum": return 1 / stft.window.reduce(0.0) { $0 + Double($1) }
        case "psd": return 1 / (Double(fs) * stft.window.reduce(0.0) { $0 + Double($1) * Double($1) }).squareRoot()
        default: return 1
        }
    }

    /// The output shape for a signal of `samples` samples (after `length`), or nil if too short:
    /// `FrontendSpec.outputShape`, the one rule.
    public func outputShape(samples: Int) -> [Int]? {
        spec.outputShape(samples: samples)
    }
}

/// Typed access to `frontend` settings with errors that name the key.
private struct SpecReader {
    let spec: FrontendSpec
    init(_ spec: FrontendSpec) { self.spec = spec }

    func bad(_ key: String, _ what: String, fix: String? = nil) -> SignalError {
        SignalError("frontend: \(key) \(what)", fix: fix ?? FrontendSpec.keys.first { $0.name == key }.map { "\(key): \($0.summary)" })
    }

    private func value(_ key: String) -> Attribute? { spec[key] }

    func int(_ key: String) throws -> Int? {
        guard let v = value(key) else { return nil }
        guard let i = v.int else { throw bad(key, "must be an integer, not \(v)") }
        return i
    }
    func double(_ key: String) throws -> Double? {
        guard let v = value(key) else { return nil }
        guard let d = v.double else { throw bad(key, "must be a number, not \(v)") }
        return d
    }
    func bool(_ key: String) throws -> Bool? {
        guard let v = value(key) else { return nil }
        guard let b = v.bool else { throw bad(key, "must be true or false, not \(v)") }
        return b
    }
    func string(_ key: String) throws -> String? {
        guard let v = value(key) else { return nil }
        guard let s = v.string else { throw bad(key, "must be a string, not \(v)") }
        return s
    }
    func strings(_ key: String) throws -> [String]? {
        guard let v = value(key) else { return nil }
        guard case .strings(let s) = v else { throw bad(key, "must be a list of strings, not \(v)") }
        return s
    }
    func ints(_ key: String) throws -> [Int]? {
        guard let v = value(key) else { return nil }
        guard let s = v.ints else { throw bad(key, "must be a list of integers, not \(v)") }
        return s
    }
}
