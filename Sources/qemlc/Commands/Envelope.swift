import ArgumentParser
import Foundation
import QEMLSignal
import QEMLTensor

struct Envelope: ParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "The envelope spectrum of a vibration recording, with the bearing's fault frequencies marked (PNG) or as numbers (.npy).",
        discussion: """
            Band-pass to --band (an ideal filter: FFT bins outside it zeroed; default: the whole signal), Hilbert envelope, magnitude of its FFT — np.abs(np.fft.rfft(np.abs(scipy.signal.hilbert(x)))), the mean kept. With --rpm, the PNG marks 1× shaft, BPFO, BPFI, BSF and FTF of --bearing and their harmonics, and names the strongest match (the family whose lines stand highest above the spectrum's median). The .npy holds [2, bins]: row 0 the frequency in Hz, row 1 the amplitude.
            """)

    @Argument(help: "The recording (.wav, .csv or .npy).") var signal: String
    @Option(name: .shortAndLong, help: "Output file: .png (a picture) or .npy (the numbers).") var output: String
    @Option(help: "Band-pass LO:HI in Hz before demodulating, e.g. 2000:4000 around a resonance (default: no band-pass).") var band: String?
    @Option(help: "Shaft speed in revolutions per minute (needed to mark the fault frequencies).") var rpm: Double?
    @Option(help: "Bearing: \(BearingGeometry.known.map(\.name).joined(separator: ", ")), or \"n=9,d=7.94,D=39.04,angle=0\" (balls, ball and pitch diameters, contact angle in degrees).") var bearing = "6205"
    @Option(help: "Highest frequency plotted, in Hz (default: a little above the third BPFI harmonic, or 1 kHz without --rpm).") var maxHz: Double?
    @Option(help: "Channel of a multi-channel WAV, or column (index or header) of a CSV.") var channel: String?
    @Flag(help: "Overwrite an existing output file.") var force = false

    func validate() throws {
        try Validate.positive(rpm, "--rpm", maximum: 100_000, unit: " rpm")
        try Validate.positive(maxHz, "--max-hz", unit: " Hz")
        _ = try parsedBand()
        do { _ = try BearingGeometry.parse(bearing) } catch let e as SignalError {
            throw ValidationError("--bearing: " + e.message + (e.fix.map { " (\($0))" } ?? ""))
        }
    }

    func parsedBand() throws -> ClosedRange<Double>? {
        guard let band else { return nil }
        let parts = band.split(separator: ":", omittingEmptySubsequences: false).map { Double($0) }
        guard parts.count == 2, let lo = parts[0], let hi = parts[1], lo.isFinite, hi.isFinite, lo >= 0, lo < hi else {
            throw ValidationError("--band \(band): give LO:HI in Hz with 0 ≤ LO < HI, e.g. --band 2000:4000")
        }
        return lo...hi
    }

    func run() throws {
        try requireInputFile(signal, given: "SIGNAL")
        let ext = URL(fileURLWithPath: output).pathExtension.lowercased()
        guard ext == "png" || ext == "npy" else { throw UserError("-o \(output): write a .png picture or .npy numbers") }
        try ModelFiles.checkWritable(output, force: force)
        let (recording, channelIndex) = try InputFiles.readSignal(signal, channel: channel)
        InputFiles.warnIfChannelUnchosen(recording, path: signal, channel: channelIndex)
        guard let rate = recording.sampleRate else {
            throw UserError("\(signal) records no sample rate", fix: "use a WAV file")
        }
        let x = try recording.channel(channelIndex ?? 0, path: signal)
        let geometry = try BearingGeometry.parse(bearing)
        let analysis = try EnvelopeAnalysis(x, sampleRate: rate, band: try parsedBand(), shaftHz: rpm.map { $0 / 60 }, bearing: geometry)
        if ext == "npy" {
            try NPY.write(analysis.tensor, to: output, overwrite: force)
        } else {
            try writeFileAtomically(analysis.png(maxHz: maxHz), to: output, overwrite: force)
        }
        print("wrote \(output): envelope spectrum, \(analysis.spectrum.count) bins of \(String(format: "%.3g", analysis.binHz)) Hz"
              + (analysis.band.map { ", band \(Validate.formatted($0.lowerBound))-\(Validate.formatted($0.upperBound)) Hz" } ?? ", no band-pass"))
        guard rpm != nil else {
            print("note: pass --rpm (and --bearing) to mark and score the fault frequencies")
            return
        }
        var t = TextTable(["line", "Hz", "peak/median 1×", "2×", "3×"], rightAligned: [1, 2, 3, 4])
        for f in analysis.families {
            t.add([f.name, String(format: "%.2f", f.hz)] + f.scores.map { String(format: "%.1f", $0) })
        }
        print("bearing \(geometry.name): \(geometry.balls) balls, d \(Validate.formatted(geometry.ballDiameter)), D \(Validate.formatted(geometry.pitchDiameter)), angle \(Validate.formatted(geometry.contactAngleDegrees))°")
        print(t.render())
        if let s = analysis.strongest {
            print(String(format: "strongest match: %@ (%.2f Hz), mean peak/median %.1f over %d harmonics", s.name, s.hz, s.score, EnvelopeAnalysis.harmonics))
        }
    }
}
