import Foundation
import QEMLTensor

/// Physically based rolling-bearing vibration, for examples and tests (`qemlc synth`).
///
/// A localized defect makes an impact each time a rolling element meets it; every impact rings
/// the housing's structural resonance as a decaying sinusoid. The impact rate is the defect's
/// characteristic frequency from the bearing geometry (shaft rate fr, n balls of diameter d on
/// pitch diameter D, contact angle φ):
///   BPFO = n/2 · fr · (1 − d/D·cos φ)          outer race (fixed, in the load zone: constant strength)
///   BPFI = n/2 · fr · (1 + d/D·cos φ)          inner race (turns with the shaft: strength modulated at fr)
///   BSF  = D/(2d) · fr · (1 − (d/D·cos φ)²)    ball spin; a ball defect strikes both races: impacts at 2·BSF,
///                                               modulated at the cage rate as the ball orbits the load zone
///   FTF  = fr/2 · (1 − d/D·cos φ)              cage; a broken cage gives weak impacts at FTF
/// Shaft faults add no impacts but change the running-speed tones: unbalance makes 1× dominant,
/// misalignment makes 2× (and 3×) stronger than 1×. `inner_outer` carries both races' trains.
/// Each impact time jitters by a little slip (rolling elements skid: ~1 % of the period, not
/// accumulated, so the mean rate stays exact), the shaft adds 1× and 2× running-speed tones,
/// and white Gaussian noise is added at the requested SNR. Same settings and seed, same signal.
public enum BearingSynth {
    public enum Fault: String, CaseIterable, Sendable {
        // New cases go last: a case's index seeds its signal, so the examples stay as they were.
        case healthy, outerRace = "outer_race", innerRace = "inner_race", ball, cage
        case innerOuter = "inner_outer", misalignment, unbalance
    }

    /// Rolling-bearing geometry (lengths in any one unit).
    public struct Bearing: Sendable {
        public var balls: Int
        public var ballDiameter: Double
        public var pitchDiameter: Double
        /// Radians.
        public var contactAngle: Double

        public init(balls: Int, ballDiameter: Double, pitchDiameter: Double, contactAngle: Double = 0) {
            self.balls = balls
            self.ballDiameter = ballDiameter
            self.pitchDiameter = pitchDiameter
            self.contactAngle = contactAngle
        }

        /// SKF 6205-2RS, the drive-end bearing of the CWRU bearing data set (9 balls,
        /// d = 0.3126 in, D = 1.537 in): BPFO = 3.5848·fr, BPFI = 5.4152·fr, 2·BSF = 4.7135·fr.
        public static let skf6205 = Bearing(balls: 9, ballDiameter: 0.3126, pitchDiameter: 1.537)
        /// SKF 6203 deep-groove ball bearing (8 balls, d = 6.747 mm, D = 28.5 mm).
        public static let skf6203 = Bearing(balls: 8, ballDiameter: 6.747, pitchDiameter: 28.5)
        /// NU205 cylindrical roller bearing (13 rollers, d = 7.5 mm, D = 38.5 mm).
        public static let nu205 = Bearing(balls: 13, ballDiameter: 7.5, pitchDiameter: 38.5)

        /// The bearings `qemlc synth --bearing` knows by name.
        public static let named: [(name: String, bearing: Bearing)] = [("6205-2RS", skf6205), ("6203", skf6203), ("NU205", nu205)]

        /// A bearing by table name (`6205`, `6205-2RS`, `NU205`, case-insensitive) or written out as
        /// `n=9,d=7.94,D=39.04,angle=0` (angle in degrees); nil if neither.
        public static func named(_ text: String) -> Bearing? {
            let t = text.uppercased()
            if let hit = named.first(where: { $0.name.uppercased() == t || $0.name.uppercased().hasPrefix(t + "-") }) { return hit.bearing }
            var fields: [String: Double] = [:]
            for part in text.split(separator: ",") {
                let kv = part.split(separator: "=", maxSplits: 1).map { $0.trimmingCharacters(in: .whitespaces) }
                guard kv.count == 2, let v = Double(kv[1]), v.isFinite else { return nil }
                fields[kv[0]] = v
            }
            guard let n = fields["n"], let d = fields["d"], let D = fields["D"], n >= 3, n == n.rounded(), d > 0, D > d,
                  Set(fields.keys).isSubset(of: ["n", "d", "D", "angle"]) else { return nil }
            return Bearing(balls: Int(n), ballDiameter: d, pitchDiameter: D, contactAngle: (fields["angle"] ?? 0) * .pi / 180)
        }

        public func frequencies(shaftHz fr: Double) -> Frequencies {
            let r = ballDiameter / pitchDiameter * cos(contactAngle)
            let n = Double(balls)
            return Frequencies(shaft: fr, bpfo: n / 2 * fr * (1 - r), bpfi: n / 2 * fr * (1 + r),
                               bsf: pitchDiameter / (2 * ballDiameter) * fr * (1 - r * r), ftf: fr / 2 * (1 - r))
        }
    }

    /// Characteristic defect frequencies, Hz.
    public struct Frequencies: Sendable, Equatable {
        public var shaft, bpfo, bpfi, bsf, ftf: Double
    }

    public struct Settings: Sendable {
        public var fault: Fault
        public var sampleRate = 12_000
        public var duration = 1.0
        public var rpm = 1797.0
        public var bearing = Bearing.skf6205
        /// The structural resonance the impacts excite, Hz, and its damping ratio.
        public var resonance = 3_000.0
        public var damping = 0.05
        /// Signal-to-noise ratio of the added white noise, dB (nil: no noise).
        public var snrDB: Double? = 10
        /// Random timing jitter of each impact, as a share of the impact period.
        public var slip = 0.01
        /// Peak amplitude of the result (fits 16-bit PCM with headroom).
        public var peak = 0.5
        public var seed: UInt64 = 0
        /// Amplitudes of the running-speed tones 1×, 2×, 3×, … (nil: the fault's defaults).
        public var tones: [Double]? = nil
        /// Defect severity: scales every impact.
        public var severity = 1.0
        /// How deeply a turning defect's impacts are modulated as it passes through the load zone
        /// (inner race at the shaft rate, ball at the cage rate), 0…1, and the phase of that pass.
        public var loadModulation = 0.4
        public var loadPhase = 0.0

        public init(fault: Fault) { self.fault = fault }

        /// The running-speed tones the fault gives when none are set: every machine has some 1×
        /// and 2×; unbalance a dominant 1×; misalignment a 2× (and 3×) above 1×.
        public var toneAmplitudes: [Double] {
            if let tones { return tones }
            switch fault {
            case .unbalance: return [0.4, 0.03]
            case .misalignment: return [0.08, 0.28, 0.1]
            default: return [0.08, 0.03]
            }
        }
    }

    /// The machine's vibration and the added noise, before scaling to `peak`.
    static func components(_ s: Settings) throws -> (clean: [Double], noise: [Double]) {
        guard s.sampleRate > 0, s.duration > 0, s.duration * Double(s.sampleRate) <= 1e8 else {
            throw SignalError("cannot synthesize \(s.duration) s at \(s.sampleRate) Hz",
                              fix: "use a positive duration and sample rate, at most 100 million samples")
        }
        guard s.rpm > 0, s.resonance > 0, s.resonance < Double(s.sampleRate) / 2 else {
            throw SignalError("the resonance (\(s.resonance) Hz) must lie below Nyquist (\(s.sampleRate / 2) Hz) and rpm must be positive",
                              fix: "lower --resonance or raise the sample rate")
        }
        var rng = SplitMix64(seed: s.seed &* 0x9E37_79B9 &+ UInt64(Fault.allCases.firstIndex(of: s.fault) ?? 0))
        let n = Int((s.duration * Double(s.sampleRate)).rounded())  // 2.3 s at 12 kHz is 27,600 samples, not 27,599
        let sr = Double(s.sampleRate)
        let f = s.bearing.frequencies(shaftHz: s.rpm / 60)
        var x = [Double](repeating: 0, count: n)

        // Running-speed tones: present in every machine.
        let tones = s.toneAmplitudes
        let phases = tones.indices.map { _ in rng.unit() * 2 * .pi }
        for i in 0..<n {
            let t = Double(i) / sr
            var v = 0.0
            for (h, a) in tones.enumerated() { v += a * sin(2 * .pi * Double(h + 1) * f.shaft * t + phases[h]) }
            x[i] = v
        }

        // Impacts: (rate, strength at time t) per train.
        let m = s.loadModulation, phase = s.loadPhase, sev = s.severity
        let inner: (rate: Double, strength: (Double) -> Double) = (f.bpfi, { t in sev * (1 - m + m * cos(2 * .pi * f.shaft * t + phase)) })
        let outer: (rate: Double, strength: (Double) -> Double) = (f.bpfo, { _ in sev })
        let trains: [(rate: Double, strength: (Double) -> Double)]
        switch s.fault {
        case .healthy, .misalignment, .unbalance: trains = []
        case .outerRace: trains = [outer]
        case .innerRace: trains = [inner]
        case .ball: trains = [(2 * f.bsf, { t in sev * (1 - m + m * cos(2 * .pi * f.ftf * t + phase)) })]
        case .cage: trains = [(f.ftf, { _ in sev * 0.5 })]
        case .innerOuter: trains = [inner, outer]
        }
        for (rate, strength) in trains {
            let omega = 2 * .pi * s.resonance
            let decay = s.damping * omega
            let ringing = Int(min(Double(n), 8 / decay * sr))  // until e^-8 of the start
            var k = 0
            while true {
                let t0 = (Double(k) + s.slip * rng.gaussian()) / rate
                k += 1
                if t0 >= s.duration { break }
                if t0 < 0 { continue }
                let a = strength(t0) * (1 + 0.1 * rng.gaussian())
                let start = Int((t0 * sr).rounded(.up))
                for i in start..<min(n, start + ringing) {
                    let tau = Double(i) / sr - t0
                    x[i] += a * exp(-decay * tau) * sin(omega * tau)
                }
            }
        }

        var noise = [Double](repeating: 0, count: n)
        if let snr = s.snrDB {
            let power = x.reduce(0) { $0 + $1 * $1 } / Double(n)
            let sigma = (power / pow(10, snr / 10)).squareRoot()
            for i in 0..<n { noise[i] = sigma * rng.gaussian() }
        }
        return (x, noise)
    }

    /// A recording whose condition changes: `segments` (fault, seconds) one after another, each
    /// with `base`'s settings and its own seed (base.seed + index), under one gain so levels
    /// keep their proportions (`qemlc synth --timeline healthy:20,outer_race:20`).
    public static func timeline(_ segments: [(fault: Fault, seconds: Double)], base: Settings) throws -> [Float] {
        var x: [Double] = []
        for (i, seg) in segments.enumerated() {
            var s = base
            s.fault = seg.fault
            s.duration = seg.seconds
            s.seed = base.seed &+ UInt64(i)
            let (clean, noise) = try components(s)
            x += zip(clean, noise).map { $0 + $1 }
        }
        let top = x.map(abs).max() ?? 0
        let gain = top > 0 ? base.peak / top : 0
        return x.map { Float($0 * gain) }
    }

    public static func generate(_ s: Settings) throws -> [Float] {
        let (clean, noise) = try components(s)
        let x = zip(clean, noise).map { $0 + $1 }
        let top = x.map(abs).max() ?? 0
        let gain = top > 0 ? s.peak / top : 0
        return x.map { Float($0 * gain) }
    }
}
