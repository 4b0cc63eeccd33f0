import ArgumentParser
import Foundation
import QEMLIR
import QEMLSignal
import QEMLTensor

struct Spectrogram: ParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Draw a signal's spectrogram as a PNG (or write its numbers as .npy).",
        discussion: "The STFT settings come from flags, or from a model's frontend section (--model), flags overriding it. By default the picture shows the spectrogram before the model's resize and standardization, so its axes are true seconds and hertz; --network-input shows exactly what the network is fed.")

    enum Center: String, ExpressibleByArgument, CaseIterable { case reflect, constant, none }
    enum Scale: String, ExpressibleByArgument, CaseIterable { case magnitude, power, log1p, db }
    enum Window: String, ExpressibleByArgument, CaseIterable { case hann, hamming, blackman, rectangular }

    @Argument(help: "The signal (.wav or .csv).") var signal: String
    @Option(name: .shortAndLong, help: "Output file: .png (a picture) or .npy (the numbers).") var output: String
    @Option(help: "Take the front-end settings from this model's frontend section.") var model: String?
    @Option(help: "FFT length.") var nFFT: Int?
    @Option(help: "Hop between frames, in samples.") var hop: Int?
    @Option(help: "Window length (default n_fft).") var winLength: Int?
    @Option(help: "Window: hann, hamming, blackman, rectangular.") var window: Window?
    @Option(help: "Padding at both ends: reflect, constant or none.") var center: Center?
    @Option(help: "Scaling: magnitude, power, log1p or db.") var scale: Scale?
    @Option(help: "Mel bands (omit for linear frequency).") var nMels: Int?
    @Option(help: "Channel of a multi-channel WAV, or column (index or header) of a CSV.") var channel: String?
    @Flag(help: "Apply the model's resize and standardization too (what the network sees).") var networkInput = false
    @Flag(help: "Overwrite an existing output file.") var force = false

    func run() throws {
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

        let (recording, channelIndex) = try InputFiles.readSignal(signal, channel: channel)
        let rate = recording.sampleRate ?? FrontendSpec(output: outputName, settings: settings)["sample_rate"]?.int ?? 0
        guard rate > 0 else {
            throw UserError("\(signal) records no sample rate", fix: "use a WAV file, or --model with a sample_rate in its frontend")
        }
        // The picture's axes are the signal's own: its rate, whatever the model expects.
        set("sample_rate", .int(rate))
        let spec = FrontendSpec(output: outputName, settings: settings)
        let frontEnd = try FrontEnd(spec: spec)
        let (samples, _) = try frontEnd.prepare(recording, path: signal, channel: channelIndex)
        // Before resize and standardization unless asked: the axes stay true seconds and hertz.
        let tensor = networkInput ? try frontEnd.run(samples, sampleRate: rate) : try frontEnd.spectrogram(samples, sampleRate: rate)

        try ModelFiles.checkWritable(output, force: force)
        switch URL(fileURLWithPath: output).pathExtension.lowercased() {
        case "npy":
            try NPY.write(tensor, to: output, overwrite: force)
        case "png":
            let mel = frontEnd.nMels.map { _ in frontEnd.fmin...(frontEnd.fmax ?? Double(rate) / 2) }
            let unit = ["db": "dB", "log1p": "log1p |X|", "power": "|X|²", "magnitude": "|X|"][frontEnd.scale] ?? ""
            let png = try SpectrogramImage.png(tensor, sampleRate: rate, hop: frontEnd.stft.hop, nFFT: frontEnd.stft.nFFT,
                                               melRange: mel, unit: unit)
            try atomicWrite(Data(png), to: output)
        default:
            throw UserError("-o \(output): write a .png picture or .npy numbers")
        }
        let shape = tensor.shape.suffix(2).map(String.init).joined(separator: "×")
        print("wrote \(output): \(shape) (frequency × frames), n_fft \(frontEnd.stft.nFFT), hop \(frontEnd.stft.hop), \(frontEnd.scale)")
    }
}
