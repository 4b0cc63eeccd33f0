import ArgumentParser
import Foundation
import QEMLSignal

struct Synth: ParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Synthesize a bearing vibration recording (healthy, outer race, inner race, ball, cage) as WAV.",
        usage: """
            qemlc synth <fault> --output <output> [--duration <duration>] [--sample-rate <sample-rate>] [--rpm <rpm>] [--resonance <resonance>] [--snr <snr>] [--seed <seed>] [--float32] [--force]
            qemlc synth --examples <folder> [--force]
            """,
        discussion: "Impacts at the fault's characteristic frequency (BPFO, BPFI, 2·BSF, FTF from the bearing geometry) ring a structural resonance; inner-race impacts are modulated by the shaft, ball impacts by the cage; noise is added at the SNR asked for. Defaults: a 6205 bearing (9 balls, d = 0.3126, D = 1.537) at 1797 rpm, 12 kHz, like the CWRU test rig.")

    @Argument(help: "Fault: \(BearingSynth.Fault.allCases.map(\.rawValue).joined(separator: ", ")).") var fault: String?  // required unless --examples (the usage says so)
    @Option(name: .shortAndLong, help: "Output .wav file.") var output: String?
    @Option(help: "Duration in seconds.") var duration = 1.0
    @Option(help: "Sample rate in Hz.") var sampleRate = 12_000
    @Option(help: "Shaft speed in revolutions per minute.") var rpm = 1797.0
    @Option(help: "Structural resonance in Hz.") var resonance = 3_000.0
    @Option(help: "Signal-to-noise ratio in dB (omit for --snr none: no noise).") var snr: String = "10"
    @Option(help: "Random seed.") var seed: UInt64 = 0
    @Flag(help: "Write 32-bit float samples instead of 16-bit PCM.") var float32 = false
    @Option(help: "Write the bundled example recordings into this folder instead (created if missing).") var examples: String?
    @Flag(help: "Overwrite existing files.") var force = false

    func validate() throws {
        if examples != nil {
            guard fault == nil, output == nil else { throw ValidationError("--examples writes the bundled recordings: give no <fault> and no --output with it") }
            return
        }
        let faults = BearingSynth.Fault.allCases.map(\.rawValue).joined(separator: ", ")
        guard let fault else { throw ValidationError("Missing expected argument '<fault>' (one of \(faults))") }
        guard BearingSynth.Fault(rawValue: fault) != nil else { throw ValidationError("unknown fault '\(fault)': choose one of \(faults)") }
        guard output != nil else { throw ValidationError("Missing expected argument '--output <output>' (a .wav file)") }
        try Validate.positive(duration, "--duration", maximum: 3600, unit: " seconds")
        try Validate.atLeast(sampleRate, 1000, "--sample-rate", maximum: 1_000_000, unit: " Hz")
        try Validate.positive(rpm, "--rpm", maximum: 100_000, unit: " rpm")
        try Validate.positive(resonance, "--resonance", unit: " Hz")
        if resonance >= Double(sampleRate) / 2 {
            throw ValidationError("--resonance \(Validate.formatted(resonance)): must be below the Nyquist frequency, \(sampleRate / 2) Hz at --sample-rate \(sampleRate)")
        }
        if snr.lowercased() != "none" {
            guard let v = Double(snr), v.isFinite else { throw ValidationError("--snr \(snr): not a number (e.g. --snr 10, or --snr none)") }
            guard v >= -60, v <= 200 else { throw ValidationError("--snr \(snr): must be between -60 and 200 dB, or none") }
        }
    }

    func run() throws {
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
        guard let fault, let kind = BearingSynth.Fault(rawValue: fault), let output else { return }
        var s = BearingSynth.Settings(fault: kind)
        s.duration = duration
        s.sampleRate = sampleRate
        s.rpm = rpm
        s.resonance = resonance
        s.seed = seed
        s.snrDB = snr.lowercased() == "none" ? nil : Double(snr)
        let samples = try BearingSynth.generate(s)
        try ModelFiles.checkWritable(output, force: force)
        try WAVWriter.write([samples], sampleRate: sampleRate, to: output, encoding: float32 ? .float32 : .pcm16, overwrite: force)
        let f = s.bearing.frequencies(shaftHz: rpm / 60)
        print(String(format: "wrote %@: %@, %.2f s at %d Hz (shaft %.2f Hz, BPFO %.1f Hz, BPFI %.1f Hz, BSF %.1f Hz, FTF %.2f Hz)",
                     output, kind.rawValue, duration, sampleRate, f.shaft, f.bpfo, f.bpfi, f.bsf, f.ftf))
    }
}
