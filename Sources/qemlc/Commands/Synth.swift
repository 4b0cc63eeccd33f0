import ArgumentParser
import QEMLSignal

struct Synth: ParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Synthesize a bearing vibration recording (healthy, outer race, inner race, ball, cage) as WAV.",
        discussion: "Impacts at the fault's characteristic frequency (BPFO, BPFI, 2·BSF, FTF from the bearing geometry) ring a structural resonance; inner-race impacts are modulated by the shaft, ball impacts by the cage; noise is added at the SNR asked for. Defaults: a 6205 bearing (9 balls, d = 0.3126, D = 1.537) at 1797 rpm, 12 kHz, like the CWRU test rig.")

    @Argument(help: "Fault: \(BearingSynth.Fault.allCases.map(\.rawValue).joined(separator: ", ")).") var fault: String?
    @Option(name: .shortAndLong, help: "Output .wav file.") var output: String?
    @Option(help: "Duration in seconds.") var duration = 1.0
    @Option(help: "Sample rate in Hz.") var sampleRate = 12_000
    @Option(help: "Shaft speed in revolutions per minute.") var rpm = 1797.0
    @Option(help: "Structural resonance in Hz.") var resonance = 3_000.0
    @Option(help: "Signal-to-noise ratio in dB (omit for --snr none: no noise).") var snr: String = "10"
    @Option(help: "Random seed.") var seed: UInt64 = 0
    @Flag(help: "Write 32-bit float samples instead of 16-bit PCM.") var float32 = false
    @Option(help: "Write the bundled example recordings into this folder instead.") var examples: String?
    @Flag(help: "Overwrite existing files.") var force = false

    func run() throws {
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
        s.rpm = rpm
        s.resonance = resonance
        s.seed = seed
        if snr.lowercased() == "none" { s.snrDB = nil } else {
            guard let v = Double(snr) else { throw UserError("--snr \(snr): not a number", fix: "e.g. --snr 10, or --snr none") }
            s.snrDB = v
        }
        let samples = try BearingSynth.generate(s)
        try ModelFiles.checkWritable(output, force: force)
        try WAVWriter.write([samples], sampleRate: sampleRate, to: output, encoding: float32 ? .float32 : .pcm16, overwrite: force)
        let f = s.bearing.frequencies(shaftHz: rpm / 60)
        print(String(format: "wrote %@: %@, %.2f s at %d Hz (shaft %.2f Hz, BPFO %.1f Hz, BPFI %.1f Hz, BSF %.1f Hz, FTF %.2f Hz)",
                     output, kind.rawValue, duration, sampleRate, f.shaft, f.bpfo, f.bpfi, f.bsf, f.ftf))
    }
}
