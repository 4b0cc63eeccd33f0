import ArgumentParser
import Foundation
import QEMLSignal

struct Synth: ParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Synthesize bearing vibration as WAV: one recording, the bundled examples, or a labelled data set.",
        usage: """
            qemlc synth <fault> --output <output> [--duration <duration>] [--sample-rate <sample-rate>] [--rpm <rpm>] [--resonance <resonance>] [--snr <snr>] [--bearing <bearing>] [--seed <seed>] [--float32] [--force]
            qemlc synth --timeline <fault:seconds,…> --output <output> [--sample-rate <sample-rate>] [--rpm <rpm>] [--snr <snr>] [--bearing <bearing>] [--seed <seed>] [--float32] [--force]
            qemlc synth --examples <folder> [--force]
            qemlc synth --dataset <folder> --per-class <n> [--seed <seed>] [--sample-rate <sample-rate>] [--duration <duration>] [--rpm <min:max>] [--snr <min:max>] [--bearing <bearing>|all] [--force]
            """,
        discussion: """
            Impacts at the fault's characteristic frequency (BPFO, BPFI, 2·BSF, FTF from the bearing geometry) ring a structural resonance; inner-race impacts are modulated by the shaft, ball impacts by the cage; unbalance gives a dominant 1× shaft tone, misalignment strong 2× and 3×; noise is added at the SNR asked for. Defaults: a 6205 bearing (9 balls, d = 0.3126, D = 1.537) at 1797 rpm, 12 kHz, like the CWRU test rig.

            --dataset DIR --per-class N writes DIR/<label>/<id>.wav for every fault and DIR/manifest.csv (path, label, rpm, snr_db, sample_rate, load, bearing, seed, resonance_hz, damping, severity, slip). Each recording draws its speed and SNR from --rpm MIN:MAX and --snr MIN:MAX, and its resonance, damping, slip, severity and load zone from fixed ranges; another --seed gives other recordings. --bearing all draws the bearing per recording from the table.
            """)

    @Argument(help: "Fault: \(BearingSynth.Fault.allCases.map(\.rawValue).joined(separator: ", ")).") var fault: String?  // required unless --examples or --dataset (the usage says so)
    @Option(name: .shortAndLong, help: "Output .wav file.") var output: String?
    @Option(help: "Duration in seconds.") var duration = 1.0
    @Option(help: "Sample rate in Hz.") var sampleRate = 12_000
    @Option(help: "Shaft speed in revolutions per minute (default 1797); with --dataset a range MIN:MAX (default 1500:1800).") var rpm: String?
    @Option(help: "Structural resonance in Hz.") var resonance = 3_000.0
    @Option(help: "Signal-to-noise ratio in dB, or none (default 10); with --dataset a range MIN:MAX (default -5:20).") var snr: String?
    @Option(help: "Bearing: \(BearingSynth.Bearing.named.map(\.name).joined(separator: ", ")), or n=…,d=…,D=…,angle=… (degrees); with --dataset also all.") var bearing = "6205-2RS"
    @Option(help: "Random seed.") var seed: UInt64 = 0
    @Flag(help: "Write 32-bit float samples instead of 16-bit PCM.") var float32 = false
    @Option(help: "Write the bundled example recordings into this folder instead (created if missing).") var examples: String?
    @Option(help: "Write a labelled data set into this folder instead (created if missing; see below).") var dataset: String?
    @Option(help: "Recordings per fault class, with --dataset.") var perClass: Int?
    @Option(help: "A recording whose condition changes, as FAULT:SECONDS,… (e.g. healthy:20,outer_race:20,inner_race:20).") var timeline: String?
    @Flag(help: "Overwrite existing files.") var force = false

    func validate() throws {
        if examples != nil {
            guard fault == nil, output == nil, dataset == nil, timeline == nil else {
                throw ValidationError("--examples writes the bundled recordings: give no <fault>, --output, --dataset or --timeline with it")
            }
            return
        }
        try Validate.positive(duration, "--duration", maximum: 3600, unit: " seconds")
        if dataset != nil {
            guard fault == nil, output == nil, timeline == nil else {
                throw ValidationError("--dataset writes every fault class into a folder: give no <fault>, --output or --timeline with it")
            }
            guard let perClass else { throw ValidationError("Missing expected argument '--per-class <n>' (recordings per fault class)") }
            try Validate.atLeast(perClass, 1, "--per-class", maximum: 1_000_000)
            try Validate.positive(duration, "--duration", maximum: 60, unit: " seconds for a data set")
            try Validate.atLeast(sampleRate, 12_000, "--sample-rate", maximum: 1_000_000, unit: " Hz for a data set (its resonances reach 4.5 kHz)")
            _ = try datasetRanges()
            _ = try geometry(allowAll: true)
            return
        }
        let faults = BearingSynth.Fault.allCases.map(\.rawValue).joined(separator: ", ")
        if timeline != nil {
            guard fault == nil else { throw ValidationError("--timeline names the faults itself: give no <fault> with it") }
            _ = try segments()
        }
        guard let fault = fault ?? (timeline != nil ? "healthy" : nil) else { throw ValidationError("Missing expected argument '<fault>' (one of \(faults))") }
        guard BearingSynth.Fault(rawValue: fault) != nil else { throw ValidationError("unknown fault '\(fault)': choose one of \(faults)") }
        guard output != nil else { throw ValidationError("Missing expected argument '--output <output>' (a .wav file)") }
        guard perClass == nil else { throw ValidationError("--per-class goes with --dataset") }
        try Validate.atLeast(sampleRate, 1000, "--sample-rate", maximum: 1_000_000, unit: " Hz")
        try Validate.positive(resonance, "--resonance", unit: " Hz")
        if resonance >= Double(sampleRate) / 2 {
            throw ValidationError("--resonance \(Validate.formatted(resonance)): must be below the Nyquist frequency, \(sampleRate / 2) Hz at --sample-rate \(sampleRate)")
        }
        _ = try singleRecording()
        _ = try geometry(allowAll: false)
    }

    func run() throws {
        if let dataset { return try writeDataset(to: dataset) }
        if let examples {
            do {
                try FileManager.default.createDirectory(atPath: examples, withIntermediateDirectories: true)
            } catch {
                throw UserError("cannot create \(examples): \(String(cString: strerror(errno)))", fix: "check the path and permissions")
            }
            try ExampleSignals.write(to: examples, overwrite: force)
            print("wrote \(ExampleSignals.all.map(\.file).joined(separator: ", ")) to \(examples)")
            return
        }
        guard let output, let kind = BearingSynth.Fault(rawValue: fault ?? "healthy") else { return }
        var s = BearingSynth.Settings(fault: kind)
        s.duration = duration
        s.sampleRate = sampleRate
        (s.rpm, s.snrDB) = try singleRecording()
        s.resonance = resonance
        s.seed = seed
        s.bearing = try geometry(allowAll: false)!.geometry
        let parts = try timeline.map { _ in try segments() }
        let samples = try parts.map { try BearingSynth.timeline($0, base: s) } ?? BearingSynth.generate(s)
        try ModelFiles.checkWritable(output, force: force)
        try WAVWriter.write([samples], sampleRate: sampleRate, to: output, encoding: float32 ? .float32 : .pcm16, overwrite: force)
        let f = s.bearing.frequencies(shaftHz: s.rpm / 60)
        let what = parts.map { p in
            var t = 0.0
            return p.map { seg in defer { t += seg.seconds }; return String(format: "%@ from %.2f s", seg.fault.rawValue, t) }.joined(separator: ", ")
        } ?? kind.rawValue
        print(String(format: "wrote %@: %@, %.2f s at %d Hz (shaft %.2f Hz, BPFO %.1f Hz, BPFI %.1f Hz, BSF %.1f Hz, FTF %.2f Hz)",
                     output, what, Double(samples.count) / Double(sampleRate), sampleRate, f.shaft, f.bpfo, f.bpfi, f.bsf, f.ftf))
    }

    private func writeDataset(to folder: String) throws {
        guard let perClass else { return }
        var o = BearingDataset.Options(perClass: perClass)
        o.seed = seed
        o.sampleRate = sampleRate
        o.duration = duration
        (o.rpm, o.snrDB) = try datasetRanges()
        o.bearing = try geometry(allowAll: true)
        let progress = Progress("synthesizing", total: perClass * o.faults.count)
        let start = Date()
        let entries = try BearingDataset.write(o, to: folder, overwrite: force) { _ in progress.step() }
        progress.finish()
        print(String(format: "wrote %d recordings (%d classes × %d, %.2f s at %d Hz) and manifest.csv to %@ in %.1f s",
                     entries.count, o.faults.count, perClass, duration, sampleRate, folder, Date().timeIntervalSince(start)))
    }

    /// The --timeline segments: FAULT:SECONDS, comma-separated, at most an hour in all.
    private func segments() throws -> [(fault: BearingSynth.Fault, seconds: Double)] {
        let faults = BearingSynth.Fault.allCases.map(\.rawValue).joined(separator: ", ")
        let parts = (timeline ?? "").split(separator: ",").map { $0.split(separator: ":").map { $0.trimmingCharacters(in: .whitespaces) } }
        let out = try parts.map { p -> (fault: BearingSynth.Fault, seconds: Double) in
            guard p.count == 2, let fault = BearingSynth.Fault(rawValue: p[0]), let seconds = Double(p[1]), seconds.isFinite, seconds > 0 else {
                throw ValidationError("--timeline \(timeline ?? ""): each part is FAULT:SECONDS with FAULT one of \(faults) and SECONDS above 0 (e.g. healthy:20,outer_race:20)")
            }
            return (fault, seconds)
        }
        guard !out.isEmpty, out.reduce(0, { $0 + $1.seconds }) <= 3600 else {
            throw ValidationError("--timeline \(timeline ?? ""): give one or more FAULT:SECONDS parts, an hour at most in all")
        }
        return out
    }

    /// One recording's shaft speed and SNR (nil: no noise).
    private func singleRecording() throws -> (rpm: Double, snr: Double?) {
        let rpm = try Self.range(rpm ?? "1797", "--rpm", within: 1...100_000, unit: "rpm", single: true).lowerBound
        let snrText = snr ?? "10"
        if snrText.lowercased() == "none" { return (rpm, nil) }
        return (rpm, try Self.range(snrText, "--snr", within: -60...200, unit: "dB, or none", single: true).lowerBound)
    }

    /// A data set's ranges of shaft speed and SNR.
    private func datasetRanges() throws -> (rpm: ClosedRange<Double>, snr: ClosedRange<Double>) {
        (try Self.range(rpm ?? "1500:1800", "--rpm", within: 60...60_000, unit: "rpm"),
         try Self.range(snr ?? "-5:20", "--snr", within: -30...100, unit: "dB"))
    }

    /// The bearing named by --bearing; nil for `all` (each recording draws one from the table).
    private func geometry(allowAll: Bool) throws -> (name: String, geometry: BearingSynth.Bearing)? {
        if allowAll, bearing.lowercased() == "all" { return nil }
        guard let b = BearingSynth.Bearing.named(bearing) else {
            throw ValidationError("--bearing \(bearing): not a known bearing nor a geometry (one of \(BearingSynth.Bearing.named.map(\.name).joined(separator: ", "))\(allowAll ? ", all" : ""), or n=9,d=7.94,D=39.04,angle=0)")
        }
        return (bearing, b)
    }

    /// `VALUE`, or with `single: false` also `MIN:MAX`, within `limits`.
    static func range(_ text: String, _ flag: String, within limits: ClosedRange<Double>, unit: String, single: Bool = false) throws -> ClosedRange<Double> {
        let parts = text.split(separator: ":", omittingEmptySubsequences: false).map { Double($0.trimmingCharacters(in: .whitespaces)) }
        let form = single ? "a number" : "a number or a range MIN:MAX"
        guard parts.count == 1 || (!single && parts.count == 2), let lo = parts.first!, let hi = parts.last!, lo.isFinite, hi.isFinite else {
            throw ValidationError("\(flag) \(text): not \(form)")
        }
        guard lo <= hi, limits.contains(lo), limits.contains(hi) else {
            throw ValidationError("\(flag) \(text): must be between \(Validate.formatted(limits.lowerBound)) and \(Validate.formatted(limits.upperBound)) \(unit)\(single ? "" : ", MIN ≤ MAX")")
        }
        return lo...hi
    }
}
