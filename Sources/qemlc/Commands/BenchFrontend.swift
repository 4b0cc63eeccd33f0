import ArgumentParser
import QEMLSignal

struct BenchFrontend: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "bench-frontend",
        abstract: "Time the FFTW front end: log1p-magnitude STFT of one signal and of a batch, on this thread.",
        discussion: "Prints `name microseconds-per-signal` lines (fastest of many runs), which benchmarks/signal/bench_frontend.py reads to compare with SciPy, librosa, NumPy and pyFFTW in the same run.")

    @Option(help: "Samples per signal.") var length = 12_000
    @Option(help: "Signals in the batch.") var batch = 256
    @Option(help: "FFT length.") var nFFT = 256
    @Option(help: "Hop between frames.") var hop = 64
    @Option(help: "Timed repetitions.") var repeats = 300

    func validate() throws {
        try Validate.atLeast(length, 1, "--length", maximum: 1 << 24)
        try Validate.atLeast(batch, 1, "--batch", maximum: 65_536)
        try Validate.atLeast(nFFT, 2, "--n-fft", maximum: 1 << 20)
        try Validate.atLeast(hop, 1, "--hop", maximum: 1 << 20)
        try Validate.atLeast(repeats, 1, "--repeats", maximum: 1_000_000)
    }

    func run() throws {
        print(FrontEndBenchmark.report(try FrontEndBenchmark.run(length: length, batch: batch, nFFT: nFFT, hop: hop, repeats: repeats)))
    }
}
