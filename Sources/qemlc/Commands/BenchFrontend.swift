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

    func run() throws {
        guard length > 0, batch > 0, nFFT >= 2, hop > 0, repeats > 0 else {
            throw UserError("--length, --batch, --hop and --repeats must be positive and --n-fft at least 2")
        }
        print(FrontEndBenchmark.report(try FrontEndBenchmark.run(length: length, batch: batch, nFFT: nFFT, hop: hop, repeats: repeats)))
    }
}
