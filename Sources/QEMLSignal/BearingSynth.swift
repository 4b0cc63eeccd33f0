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
/// Each impact time jitters by a little slip (rolling elements skid: ~1 % of the period, not
/// accumulated, so the mean rate stays exact), the shaft adds 1× and 2× running-speed tones,
/// and white Gaussian noise is added at the requested SNR. Same settings and seed, same signal.
public enum BearingSynth {
    public enum Fault: String, CaseIterable, Sendable {
        case healthy, outerRace = "outer_race", innerRace = "inner_race", ball, cage
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

        public init(fault: Fault) { self.fault = fault }
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
        let n = Int(s.duration * Double(s.sampleRate))
        let sr = Double(s.sampleRate)
        let f = s.bearing.frequencies(shaftHz: s.rpm / 60)
        var x = [Double](repeating: 0, count: n)

        // Running-speed tones: present in every machine.
        let phase1 = rng.unit() * 2 * .pi, phase2 = rng.unit() * 2 * .pi
        for i in 0..<n {
            let t = Double(i) / sr
            x[i] = 0.08 * sin(2 * .pi * f.shaft * t + phase1) + 0.03 * sin(2 * .pi * 2 * f.shaft * t + phase2)
        }

        // Impacts: (rate, strength at time t).
        let impacts: (rate: Double, strength: (Double) -> Double)?
        switch s.fault {
        case .healthy: impacts = nil
        case .outerRace: impacts = (f.bpfo, { _ in 1 })
        case .innerRace: impacts = (f.bpfi, { t in 0.6 + 0.4 * cos(2 * .pi * f.shaft * t) })
        case .ball: impacts = (2 * f.bsf, { t in 0.6 + 0.4 * cos(2 * .pi * f.ftf * t) })
        case .cage: impacts = (f.ftf, { _ in 0.5 })
        }
        if let (rate, strength) = impacts {
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

    public static func generate(_ s: Settings) throws -> [Float] {
        let (clean, noise) = try components(s)
        let x = zip(clean, noise).map { $0 + $1 }
        let top = x.map(abs).max() ?? 0
        let gain = top > 0 ? s.peak / top : 0
        return x.map { Float($0 * gain) }
    }
}
