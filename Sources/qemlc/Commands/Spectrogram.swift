import ArgumentParser
import Foundation
import QEMLIR
import QEMLSignal
import QEMLTensor

struct Spectrogram: ParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Draw a signal's spectrogram as a PNG (or write its numbers as .npy).",
        usage: "qemlc spectrogram <signal> --output <output> [--model <model>] [--n-fft <n-fft>] [--hop <hop>] [--win-length <win-length>] [--window <window>] [--center <center>] [--scaling <scaling>] [--scale <scale>] [--ref <ref>] [--amin <amin>] [--top-db <top-db>] [--n-mels <n-mels>] [--channel <channel>] [--resample] [--network-input] [--force]",
        discussion: "The STFT settings come from flags, or from a model's frontend section (--model), flags overriding it. By default the picture shows the spectrogram before the model's resize and standardization; --network-input shows exactly what the network is fed (what `qemlc run` feeds it), its axes following the resize. Either way the axes are true seconds and hertz. A recording at another rate than the model's sample_rate is refused unless --resample is given, as by `run`. --scaling, --ref, --amin and --top-db are named as SciPy and librosa name them: --scaling spectrum is scipy.signal.stft's default (|X| / sum(window)); --scale db with --ref/--amin/--top-db is librosa.amplitude_to_db(|X|, ref, amin, top_db).",)

    enum Center: String, ExpressibleByArgument, CaseIterable { case reflect, constant, none }
    enum Scale: String, ExpressibleByArgument, CaseIterable { case magnitude, power, log1p, db }
    enum Window: String, ExpressibleByArgument, CaseIterable { case hann, hamming, blackman, rectangular }
    enum Scaling: String, ExpressibleByArgument, CaseIterable { case none, spectrum, psd }

    @Argument(help: "The signal (.wav or .csv).") var signal: String
    @Option(name: .shortAndLong, help: "Output file: .png (a picture) or .npy (the numbers).") var output: String
    @Option(help: "Take the front-end settings from this model's frontend section.") var model: String?
    @Option(help: "FFT length.") var nFFT: Int?
    @Option(help: "Hop between frames, in samples.") var hop: Int?
    @Option(help: "Window length (default n_fft).") var winLength: Int?
    @Option(help: "Window: hann, hamming, blackman, rectangular.") var window: Window?
    @Option(help: "Padding at both ends: reflect, constant or none.") var center: Center?
    @Option(help: "STFT scaling as scipy.signal.stft's: none (librosa's, the default), spectrum (÷ sum(window)), psd (÷ √(rate · sum(window²))).") var scaling: Scaling?
    @Option(help: "Scale: magnitude, power, log1p or db.") var scale: Scale?
    @Option(help: "db: reference amplitude (librosa.amplitude_to_db's ref; default 1).") var ref: Double?
    @Option(help: "db: amplitude floor (librosa.amplitude_to_db's amin; default 1e-5).") var amin: Double?
    @Option(help: "db: clip values below the maximum − top-db (librosa's top_db; default: no clipping).") var topDB: Double?
    @Option(help: "Mel bands (omit for linear frequency).") var nMels: Int?
    @Option(help: "Channel of a multi-channel WAV, or column (index or header) of a CSV.") var channel: String?
    @Flag(help: "Resample a signal whose rate differs from the model's sample_rate (polyphase, as run --resample).") var resample = false
    @Flag(help: "Apply the model's resize and standardization too (what the network sees).") var networkInput = false
    @Flag(help: "Overwrite an existing output file.") var force = false

    func validate() throws {
        try Validate.atLeast(nFFT, 2, "--n-fft", maximum: 1 << 20)
        try Validate.atLeast(hop, 1, "--hop", maximum: 1 << 20)
        try Validate.atLeast(winLength, 1, "--win-length", maximum: nFFT ?? 1 << 20)
        try Validate.atLeast(nMels, 1, "--n-mels", maximum: 4096)
        try Validate.positive(amin, "--amin")
        try Validate.finite(ref, "--ref")
        if ref == 0 { throw ValidationError("--ref 0: must be a non-zero number") }
        if let topDB, !(topDB >= 0) || !topDB.isFinite { throw ValidationError("--top-db \(topDB): must be a non-negative number") }
        if resample && model == nil { throw ValidationError("--resample needs --model (the rate to resample to is the model's sample_rate)") }
        if networkInput && model == nil { throw ValidationError("--network-input needs --model (the resize and standardization are the model's)") }
    }

    func run() throws {
        try requireInputFile(signal, given: "SIGNAL")
        var settings: [(String, Attribute)] = []
        var outputName = "spectrogram"
        if let model {
            let graph = try ModelFiles.graph(model)
            guard let fe = graph.frontend else {
                throw UserError("\(model) has no frontend section", fix: "drop --model and give the STFT settings as flags")
            }
            settings = fe.settings
            outputName = fe.output
        }
        func set(_ key: String, _ value: Attribute?) {
            guard let value else { return }
            settings.removeAll { $0.0 == key }
            settings.append((key, value))
        }
        set("n_fft", nFFT.map(Attribute.int))
        set("hop", hop.map(Attribute.int))
        set("win_length", winLength.map(Attribute.int))
        set("window", window.map { .string($0.rawValue) })
        set("center", center.map { .string($0.rawValue) })
        set("scale", scale.map { .string($0.rawValue) })
        set("n_mels", nMels.map(Attribute.int))
        set("scaling", scaling.map { .string($0.rawValue) })
        set("ref", ref.map(Attribute.float))
        set("amin", amin.map(Attribute.float))
        set("top_db", topDB.map(Attribute.float))

        let (recording, channelIndex) = try InputFiles.readSignal(signal, channel: channel)
        let modelSpec = FrontendSpec(output: outputName, settings: settings)
        if !modelSpec.settings.contains(where: { $0.0 == "channel" }) { InputFiles.warnIfChannelUnchosen(recording, path: signal, channel: channelIndex) }
        let modelRate = modelSpec["sample_rate"]?.int
        guard let fileRate = recording.sampleRate ?? modelRate, fileRate > 0 else {
            throw UserError("\(signal) records no sample rate", fix: "use a WAV file, or --model with a sample_rate in its frontend")
        }
        // The model's rate when it has one: a recording at another rate is resampled when asked
        // (as `run` does) and refused otherwise, so the picture is what the network would see.
        let frontEnd = try FrontEnd(spec: modelSpec)
        let (samples, rate) = try frontEnd.prepare(recording, path: signal, channel: channelIndex, resample: resample)
        if let modelRate, modelRate != rate {
            throw UserError("\(signal) is sampled at \(rate) Hz but the model's front end expects \(modelRate) Hz",
                            fix: "pass --resample to resample it to \(modelRate) Hz (polyphase, like scipy.signal.resample_poly), or record at \(modelRate) Hz")
        }
        if let length = frontEnd.length, samples.count != length {
            let what = samples.count > length ? "the first \(length) samples" : "all \(samples.count) samples, zero-padded to \(length)"
            FileHandle.standardError.write(Data("note: the front end takes \(what) (length = \(length), \(String(format: "%.2f", Double(length) / Double(rate))) s at \(rate) Hz) of \(samples.count)\n".utf8))
        }
        // Before resize and standardization unless asked.
        let tensor = networkInput ? try frontEnd.run(samples, sampleRate: rate) : try frontEnd.spectrogram(samples, sampleRate: rate)
        let kept = frontEnd.keptBins(sampleRate: rate)
        let source = (bins: frontEnd.nMels ?? kept.count, frames: frontEnd.stft.frameCount(length: frontEnd.length ?? samples.count))

        try ModelFiles.checkWritable(output, force: force)
        switch URL(fileURLWithPath: output).pathExtension.lowercased() {
        case "npy":
            try NPY.write(tensor, to: output, overwrite: force)
        case "png":
            let mel = frontEnd.nMels.map { _ in frontEnd.fmin...(frontEnd.fmax ?? Double(rate) / 2) }
            let unit = ["db": "dB", "log1p": "log1p |X|", "power": "|X|²", "magnitude": "|X|"][frontEnd.scale] ?? ""
            // A picture shows one map: the first channel (the .npy holds them all).
            let plane = tensor.shape.suffix(2).reduce(1, *)
            if frontEnd.sources.count > 1 {
                FileHandle.standardError.write(Data("note: the front end makes \(frontEnd.sources.count) channels (\(frontEnd.sources.map(\.rawValue).joined(separator: ", "))); the picture shows the first, a .npy holds all\n".utf8))
            }
            let map = Tensor(shape: Array(tensor.shape.suffix(2)), data: Array(tensor.data.prefix(plane)))
            let png = try SpectrogramImage.png(map, sampleRate: rate, hop: frontEnd.stft.hop, nFFT: frontEnd.stft.nFFT,
                                               melRange: mel, firstBin: frontEnd.nMels == nil ? kept.lowerBound : 0,
                                               unit: networkInput && frontEnd.standardize ? unit + " (standardized)" : unit,
                                               source: source)
            try writeFileAtomically(png, to: output, overwrite: force)
        default:
            throw UserError("-o \(output): write a .png picture or .npy numbers")
        }
        let shape = tensor.shape.suffix(2).map(String.init).joined(separator: "×")
        print("wrote \(output): \(shape) (frequency × frames), n_fft \(frontEnd.stft.nFFT), hop \(frontEnd.stft.hop), \(frontEnd.scale)")
    }
}
