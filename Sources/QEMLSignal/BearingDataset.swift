import Foundation
import QEMLTensor

/// A labelled data set of synthesized recordings (`qemlc synth --dataset`): `DIR/<label>/<id>.wav`
/// for every fault and `DIR/manifest.csv` with the operating conditions of each recording —
/// the layout `qemlc eval` reads (torchvision's ImageFolder, plus a manifest).
///
/// Each recording draws its own conditions from its own seed, so any subset is reproducible and
/// a different `seed` gives other recordings under the same ranges: shaft speed and SNR in the
/// ranges asked for; the structural resonance (2–4.5 kHz, below 0.4 × the sample rate) and its
/// damping (0.03–0.08); slip (0.5–2 % of the impact period); defect severity (0.6–1.4); how
/// deeply the load zone modulates a turning defect (0.2–0.7) and where it starts; the amplitudes
/// of the running-speed tones (healthy and bearing faults: 1× 0.04–0.08, 2× 0.02–0.04;
/// unbalance: 1× 0.3–0.5 with 2× at most a tenth of it, 0.01–0.03, as ISO 10816-style guides
/// describe it; misalignment: 2× 0.20–0.35 and 3× 0.06–0.14 over a small 1×); and the bearing from the table
/// when `bearing` is nil.
public enum BearingDataset {
    public struct Options: Sendable {
        public var perClass: Int
        public var seed: UInt64 = 0
        public var sampleRate = 12_000
        public var duration = 1.0
        public var rpm: ClosedRange<Double> = 1_500...1_800
        public var snrDB: ClosedRange<Double> = -5...20
        /// One bearing for every recording (name and geometry), or nil: each draws one from the table.
        public var bearing: (name: String, geometry: BearingSynth.Bearing)? = ("6205-2RS", .skf6205)
        public var faults: [BearingSynth.Fault] = BearingSynth.Fault.allCases

        public init(perClass: Int) { self.perClass = perClass }
    }

    /// One recording: where it is (relative to the data set's folder) and how it was made.
    public struct Entry: Sendable {
        public var path: String
        public var settings: BearingSynth.Settings
        public var bearingName: String

        public var label: String { settings.fault.rawValue }

        public static let csvHeader = "path,label,rpm,snr_db,sample_rate,load,bearing,seed,resonance_hz,damping,severity,slip"
        public var csvRow: String {
            let s = settings
            return [path, label, String(format: "%.1f", s.rpm), String(format: "%.2f", s.snrDB ?? .infinity), String(s.sampleRate),
                    String(format: "%.3f", s.loadModulation), bearingName, String(s.seed), String(format: "%.1f", s.resonance),
                    String(format: "%.4f", s.damping), String(format: "%.3f", s.severity), String(format: "%.4f", s.slip)]
                .joined(separator: ",")
        }
    }

    /// Every recording of the data set, in manifest order (fault by fault), without writing.
    public static func entries(_ o: Options) -> [Entry] {
        var out: [Entry] = []
        out.reserveCapacity(o.faults.count * o.perClass)
        let digits = max(4, String(max(0, o.perClass - 1)).count)
        for fault in o.faults {
            for i in 0..<o.perClass {
                var rng = SplitMix64(seed: o.seed, name: "\(fault.rawValue)/\(i)")
                func uniform(_ r: ClosedRange<Double>) -> Double { r.lowerBound + (r.upperBound - r.lowerBound) * rng.unit() }
                var s = BearingSynth.Settings(fault: fault)
                s.sampleRate = o.sampleRate
                s.duration = o.duration
                s.rpm = uniform(o.rpm)
                s.snrDB = uniform(o.snrDB)
                s.resonance = uniform(2_000...min(4_500, 0.4 * Double(o.sampleRate)))
                s.damping = uniform(0.03...0.08)
                s.slip = uniform(0.005...0.02)
                s.severity = uniform(0.6...1.4)
                s.loadModulation = uniform(0.2...0.7)
                s.loadPhase = uniform(0...(2 * .pi))
                switch fault {
                case .unbalance: s.tones = [uniform(0.3...0.5), uniform(0.01...0.03)]
                case .misalignment: s.tones = [uniform(0.05...0.1), uniform(0.2...0.35), uniform(0.06...0.14)]
                default: s.tones = [uniform(0.04...0.08), uniform(0.02...0.04)]
                }
                let (name, geometry) = o.bearing ?? {
                    let pick = BearingSynth.Bearing.named[Int(rng.next() % UInt64(BearingSynth.Bearing.named.count))]
                    return (pick.name, pick.bearing)
                }()
                s.bearing = geometry
                s.seed = rng.next()
                let id = String(repeating: "0", count: max(0, digits - String(i).count)) + String(i)
                out.append(Entry(path: "\(fault.rawValue)/\(id).wav", settings: s, bearingName: name))
            }
        }
        return out
    }

    /// Writes every recording (16-bit PCM) and `manifest.csv` into `folder`, creating it.
    /// Recordings are made in parallel; `progress` hears how many are done, from one thread at a time.
    public static func write(_ o: Options, to folder: String, overwrite: Bool,
                             progress: (@Sendable (Int) -> Void)? = nil) throws -> [Entry] {
        let all = entries(o)
        let fm = FileManager.default
        let manifest = folder + "/manifest.csv"
        if !overwrite, fm.fileExists(atPath: manifest) {
            throw SignalError("\(manifest) exists: \(folder) already holds a data set", fix: "choose another folder, or pass --force to replace it")
        }
        do {
            for fault in o.faults { try fm.createDirectory(atPath: folder + "/" + fault.rawValue, withIntermediateDirectories: true) }
        } catch {
            throw SignalError("cannot create \(folder): \(error.localizedDescription)", fix: "check that the parent folder exists and is writable")
        }
        let failures = Failures()
        let done = Failures.Counter()
        DispatchQueue.concurrentPerform(iterations: all.count) { i in
            do {
                let e = all[i]
                try WAVWriter.write([try BearingSynth.generate(e.settings)], sampleRate: e.settings.sampleRate,
                                    to: folder + "/" + e.path, encoding: .pcm16, overwrite: overwrite)
            } catch {
                failures.add(error)
            }
            done.increment(then: progress)
        }
        if let first = failures.first { throw first }
        let text = ([Entry.csvHeader] + all.map(\.csvRow)).joined(separator: "\n") + "\n"
        try writeFileAtomically(Array(text.utf8), to: manifest, overwrite: overwrite)
        return all
    }

    /// Errors from parallel work, and a shared count (both behind one lock).
    private final class Failures: @unchecked Sendable {
        private let lock = NSLock()
        private var errors: [Error] = []
        func add(_ e: Error) { lock.lock(); errors.append(e); lock.unlock() }
        var first: Error? { lock.lock(); defer { lock.unlock() }; return errors.first }

        final class Counter: @unchecked Sendable {
            private let lock = NSLock()
            private var n = 0
            /// Counts one more and tells `report` the count while still holding the lock.
            func increment(then report: (@Sendable (Int) -> Void)?) {
                lock.lock()
                defer { lock.unlock() }
                n += 1
                report?(n)
            }
        }
    }
}
