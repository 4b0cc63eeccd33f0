import Foundation
import QEMLTensor

/// The front end's speed, for `qemlc bench-frontend`: the log1p-magnitude STFT of one signal and
/// of a batch: the fastest of many runs (the least disturbed, as `timeit` advises) in CPU time of
/// the calling thread (`CLOCK_THREAD_CPUTIME_ID`), one thread. Ratios against SciPy/librosa/pyFFTW come
/// from `benchmarks/signal/bench_frontend.py`, which runs this in the same session.
public enum FrontEndBenchmark {
    public struct Measurement: Sendable {
        public var name: String
        /// Fastest time per signal, in microseconds.
        public var microsecondsPerSignal: Double
    }

    public static func run(length: Int = 12_000, batch: Int = 256, nFFT: Int = 256, hop: Int = 64,
                           repeats: Int = 300) throws -> [Measurement] {
        let stft = try STFT(nFFT: nFFT, hop: hop, window: .hann, periodic: true, padding: .reflect)
        var rng = SplitMix64(seed: 1)
        let signals = (0..<(length * batch)).map { _ in Float(rng.unit() * 2 - 1) }
        let frames = stft.frameCount(length: length)
        var out = [Float](repeating: 0, count: stft.bins * frames * batch)
        _ = FFTW.shared.realForward(n: nFFT, howMany: stft.tile)  // planning is not timed

        var results: [Measurement] = []
        try signals.withUnsafeBufferPointer { s in
            try out.withUnsafeMutableBufferPointer { o in
                let one = UnsafeBufferPointer(rebasing: s[0..<length])
                let single = try fastest(repeats) {
                    try stft.batch(one, count: 1, output: .log1p, into: o)
                }
                results.append(Measurement(name: "stft_log1p_single", microsecondsPerSignal: single))
                let many = try fastest(max(10, repeats / 20)) {
                    try stft.batch(s, count: batch, output: .log1p, into: o)
                } / Double(batch)
                results.append(Measurement(name: "stft_log1p_batch\(batch)", microsecondsPerSignal: many))
            }
        }
        // The FFTs alone (same plan and tiles, no framing or epilogue): the floor of the fused kernel.
        let work = STFTWorkspace(stft)
        let tiles = (frames + stft.tile - 1) / stft.tile
        let fftOnly = try fastest(repeats) {
            for _ in 0..<tiles { work.plan.execute(input: work.input, output: work.spectrum) }
        }
        results.append(Measurement(name: "fftw_r2c_only", microsecondsPerSignal: fftOnly))
        let signal = Array(signals[0..<length])
        let alloc = try fastest(repeats) { _ = try stft(signal, output: .log1p) }
        results.append(Measurement(name: "stft_log1p_single_alloc", microsecondsPerSignal: alloc))
        return results
    }

    /// One line per measurement: `name microseconds`, for scripts.
    public static func report(_ ms: [Measurement]) -> String {
        ms.map { "\($0.name) \(String(format: "%.2f", $0.microsecondsPerSignal))" }.joined(separator: "\n")
    }

    private static func fastest(_ n: Int, _ body: () throws -> Void) throws -> Double {
        try body()  // warm-up
        var times: [Double] = []
        for _ in 0..<n {
            let t0 = threadCPUNanoseconds()
            try body()
            times.append(Double(threadCPUNanoseconds() - t0) / 1000)
        }
        return times.min() ?? 0
    }
}

/// CPU time of the calling thread: time spent descheduled on a busy machine does not count
/// (a batch lasting many time slices would otherwise measure the other processes).
func threadCPUNanoseconds() -> UInt64 {
    var ts = timespec()
    clock_gettime(CLOCK_THREAD_CPUTIME_ID, &ts)
    return UInt64(ts.tv_sec) * 1_000_000_000 + UInt64(ts.tv_nsec)
}
