import ArgumentParser
import Foundation
import QEMLSignal

struct Synth: ParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Synthesize bearing vibration as WAV: one recording, the bundled examples, or a labelled data set.",
        discussion: """
            Impacts at the fault's characteristic frequency (BPFO, BPFI, 2·BSF, FTF from the bearing geometry) ring a structural resonance; inner-race impacts are modulated by the shaft, ball impacts by the cage; unbalance gives a dominant 1× shaft tone, misalignment strong 2× and 3×; noise is added at the SNR asked for. Defaults: a 6205 bearing (9 balls, d = 0.3126, D = 1.537) at 1797 rpm, 12 kHz, like the CWRU test rig.

            --dataset DIR --per-class N writes DIR/<label>/<id>.wav for every fault and DIR/manifest.csv (path, label, rpm, snr_db, sample_rate, load, bearing, seed, resonance_hz, damping, severity, slip). Each recording draws its speed and SNR from --rpm MIN:MAX and --snr MIN:MAX, and its resonance, damping, slip, severity and load zone from fixed ranges; another --seed gives other recordings. --bearing all draws the bearing per recording from the table.
            """)

    @Argument(help: "Fault: \(BearingSynth.Fault.allCases.map(\.rawValue).joined(separator: ", ")) (not with --dataset or --examples).") var fault: String?
    @Option(name: .shortAndLong, help: "Output .wav file.") var output: String?
    @Option(help: "Duration in seconds.") var duration = 1.0
    @Option(help: "Sample rate in Hz.") var sampleRate = 12_000
    @Option(help: "Shaft speed in revolutions per minute; with --dataset a range MIN:MAX (default 1500:1800).") var rpm: String?
    @Option(help: "Structural resonance in Hz.") var resonance = 3_000.0
    @Option(help: "Signal-to-noise ratio in dB, or none (default 10); with --dataset a range MIN:MAX (default -5:20).") var snr: String?
    @Option(help: "Bearing: \(BearingSynth.Bearing.named.map(\.name).joined(separator: ", ")), or n=…,d=…,D=…,angle=… (degrees); with --dataset also all.") var bearing = "6205-2RS"
    @Option(help: "Random seed.") var seed: UInt64 = 0
    @Flag(help: "Write 32-bit float samples instead of 16-bit PCM.") var float32 = false
    @Option(help: "Write the bundled example recordings into this folder instead.") var examples: String?
    @Option(help: "Write a labelled data set into this folder instead (see below).") var dataset: String?
    @Option(help: "Recordings per fault class, with --dataset.") var perClass: Int?
    @Flag(help: "Overwrite existing files.") var force = false

    func run() throws {
        if let dataset { return try writeDataset(to: dataset) }
        if let examples {
            try ExampleSignals.write(to: examples, overwrite: force)
            print("wrote \(ExampleSignals.all.map(\.file).joined(separator: ", ")) to \(examples)")
            return
        }
        guard let fault, let kind = BearingSynth.Fault(rawValue: fault) else {
            throw UserError("unknown fault '\(fault ?? "")'", fix: "choose one of " + BearingSynth.Fault.allCases.map(\.rawValue).joined(separator: ", "))
        }
        guard let output else { throw UserError("no output file", fix: "pass -o FILE.wav") }
        guard duration > 0, duration <= 3600 else { throw UserError("--duration \(duration): must be in (0, 3600] seconds") }
        guard sampleRate >= 1000, sampleRate <= 1_000_000 else { throw UserError("--sample-rate \(sampleRate): must be 1 kHz to 1 MHz") }
        var s = BearingSynth.Settings(fault: kind)
        s.duration = duration
        s.sampleRate = sampleRate
        s.rpm = try Self.range(rpm ?? "1797", option: "--rpm", limits: 1...100_000, example: "--rpm 1797").lowerBound
        s.resonance = resonance
        s.seed = seed
        s.bearing = try bearingGeometry()
        let snrText = snr ?? "10"
        if snrText.lowercased() == "none" { s.snrDB = nil } else {
            s.snrDB = try Self.range(snrText, option: "--snr", limits: -60...120, example: "--snr 10, or --snr none").lowerBound
        }
        let samples = try BearingSynth.generate(s)
        try ModelFiles.checkWritable(output, force: force)
        try WAVWriter.write([samples], sampleRate: sampleRate, to: output, encoding: float32 ? .float32 : .pcm16, overwrite: force)
        let f = s.bearing.frequencies(shaftHz: s.rpm / 60)
        print(String(format: "wrote %@: %@, %.2f s at %d Hz (shaft %.2f Hz, BPFO %.1f Hz, BPFI %.1f Hz, BSF %.1f Hz, FTF %.2f Hz)",
                     output, kind.rawValue, duration, sampleRate, f.shaft, f.bpfo, f.bpfi, f.bsf, f.ftf))
    }

    private func bearingGeometry() throws -> BearingSynth.Bearing {
        guard let b = BearingSynth.Bearing.named(bearing) else {
            throw UserError("--bearing \(bearing): not a known bearing nor a geometry",
                            fix: "one of \(BearingSynth.Bearing.named.map(\.name).joined(separator: ", ")), or n=9,d=7.94,D=39.04,angle=0")
        }
        return b
    }

    private func writeDataset(to folder: String) throws {
        guard fault == nil, output == nil, examples == nil else {
            throw UserError("--dataset writes every fault class into a folder: it takes no FAULT, -o or --examples", fix: "drop them")
        }
        guard let perClass, perClass >= 1, perClass <= 1_000_000 else {
            throw UserError("--dataset needs --per-class N, from 1 to 1000000", fix: "e.g. --per-class 100")
        }
        guard duration > 0, duration <= 60 else { throw UserError("--duration \(duration): must be in (0, 60] seconds for a data set") }
        guard sampleRate >= 4_000, sampleRate <= 1_000_000 else { throw UserError("--sample-rate \(sampleRate): must be 4 kHz to 1 MHz for a data set (its resonances reach 4.5 kHz)") }
        var o = BearingDataset.Options(perClass: perClass)
        o.seed = seed
        o.sampleRate = sampleRate
        o.duration = duration
        o.rpm = try Self.range(rpm ?? "1500:1800", option: "--rpm", limits: 60...60_000, example: "--rpm 1500:1800")
        o.snrDB = try Self.range(snr ?? "-5:20", option: "--snr", limits: -30...100, example: "--snr -5:20")
        o.bearing = bearing.lowercased() == "all" ? nil : (bearing, try bearingGeometry())
        let total = perClass * o.faults.count
        let progress = Progress("synthesizing", total: total)
        let start = Date()
        let entries = try BearingDataset.write(o, to: folder, overwrite: force) { _ in progress.step() }
        progress.finish()
        print(String(format: "wrote %d recordings (%d classes × %d, %.2f s at %d Hz) and manifest.csv to %@ in %.1f s",
                     entries.count, o.faults.count, perClass, duration, sampleRate, folder, Date().timeIntervalSince(start)))
    }

    /// `VALUE` or `MIN:MAX` within `limits`, for --rpm and --snr.
    static func range(_ text: String, option: String, limits: ClosedRange<Double>, example: String) throws -> ClosedRange<Double> {
        let parts = text.split(separator: ":", omittingEmptySubsequences: false).map { Double($0.trimmingCharacters(in: .whitespaces)) }
        guard (1...2).contains(parts.count), let lo = parts.first!, let hi = parts.last!, lo.isFinite, hi.isFinite else {
            throw UserError("\(option) \(text): not a number or a range MIN:MAX", fix: "e.g. \(example)")
        }
        guard lo <= hi, limits.contains(lo), limits.contains(hi) else {
            throw UserError("\(option) \(text): must lie within \(limits.lowerBound.formatted())…\(limits.upperBound.formatted()) with MIN ≤ MAX", fix: "e.g. \(example)")
        }
        return lo...hi
    }
}
