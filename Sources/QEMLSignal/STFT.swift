import Foundation
internal import CQEMLSignalKernels

/// How frames reach past the signal's ends when centring (`center` in the `frontend` section).
public enum Padding: String, CaseIterable, Sendable {
    /// n_fft/2 mirrored samples each side, edge not repeated (numpy `reflect`, scipy `even`).
    case reflect
    /// n_fft/2 zeros each side (numpy `constant`, scipy `zeros`, librosa ≥ 0.10's default).
    case constant
    /// No padding: frame t covers samples [t·hop, t·hop + n_fft).
    case none
}

/// What the fused STFT kernel writes per bin.
public enum STFTOutput: Sendable {
    case magnitude   // |X|
    case power       // |X|²
    case log1p       // log(1 + |X|)
}

/// Short-time Fourier transform with librosa's conventions: frame t covers padded samples
/// [t·hop, t·hop + n_fft), the window (win_length long) sits centred in the frame, no scaling
/// (scipy.signal.stft divides by sum(window): multiply its output by that to compare). The
/// result is bin-major, `[n_fft/2 + 1][frames]`: row 0 is 0 Hz.
///
/// Framing, windowing, the FFT and the magnitude epilogue are fused over tiles of frames small
/// enough to stay in L1/L2, so a batch costs about what its signals cost alone (1.1× per
/// signal for 256, measured: benchmarks/RESULTS.md). Framing and epilogue run in AVX2 + FMA
/// when the CPU has them (`CQEMLSignalKernels`), else in four-lane SIMD (`FastMath.swift`).
public struct STFT: Sendable {
    public let nFFT: Int
    public let hop: Int
    public let winLength: Int
    public let padding: Padding
    /// n_fft values: the window centred in the frame.
    public let window: [Float]

    public var bins: Int { nFFT / 2 + 1 }
    /// Whether framing and epilogue may use the AVX2 kernels (tests turn it off to check the portable ones).
    var allowAVX2 = true

    /// Frames per FFTW call, a multiple of the AVX2 epilogue's 8 lanes: 16 frames of 256 samples are
    /// 16 KB in + 16.5 KB out, resident in L1/L2 (measured: 32+ frames per tile is slower).
    let tile: Int

    public init(nFFT: Int, hop: Int, winLength: Int? = nil, window: WindowKind = .hann,
                periodic: Bool = true, padding: Padding = .reflect) throws {
        guard nFFT >= 2, nFFT <= 1 << 20 else {
            throw SignalError("n_fft = \(nFFT) is out of range", fix: "use an FFT length between 2 and 1048576 (e.g. 256)")
        }
        guard hop >= 1 else { throw SignalError("hop = \(hop) must be at least 1", fix: "set hop to e.g. n_fft/4") }
        let w = winLength ?? nFFT
        guard w >= 1, w <= nFFT else {
            throw SignalError("win_length = \(w) must be between 1 and n_fft = \(nFFT)", fix: "set win_length ≤ n_fft or leave it out")
        }
        self.nFFT = nFFT
        self.hop = hop
        self.winLength = w
        self.padding = padding
        self.window = window.frameWindow(nFFT: nFFT, winLength: w, periodic: periodic)
        tile = max(8, min(64, 4096 / nFFT)).roundedUpToMultiple(of: 8)
    }

    /// Samples added before the signal (and after it) by centring.
    public var padAmount: Int { padding == .none ? 0 : nFFT / 2 }

    /// Frames produced for a signal of `length` samples (0: too short).
    public func frameCount(length: Int) -> Int {
        let padded = length + 2 * padAmount
        return padded < nFFT ? 0 : 1 + (padded - nFFT) / hop
    }

    /// The spectrogram of one signal, `[bins][frames]` row-major.
    public func callAsFunction(_ signal: [Float], output: STFTOutput = .magnitude) throws -> [Float] {
        let frames = try checkedFrameCount(signal.count)
        var out = [Float](repeating: 0, count: bins * frames)
        let work = STFTWorkspace(self)
        signal.withUnsafeBufferPointer { s in
            out.withUnsafeMutableBufferPointer { o in run(s, output: output, into: o, work: work) }
        }
        return out
    }

    /// Spectrograms of `count` signals of equal length stored back to back; `out` receives
    /// `count` blocks of `[bins][frames]`. Scratch buffers are shared across the batch.
    public func batch(_ signals: UnsafeBufferPointer<Float>, count: Int, output: STFTOutput,
                      into out: UnsafeMutableBufferPointer<Float>) throws {
        guard count > 0, signals.count % count == 0 else {
            throw SignalError("a batch of \(signals.count) samples does not split into \(count) equal signals")
        }
        let length = signals.count / count
        let frames = try checkedFrameCount(length)
        let block = bins * frames
        guard out.count >= block * count else {
            throw SignalError("output holds \(out.count) floats, the batch needs \(block * count)")
        }
        let work = STFTWorkspace(self)
        for b in 0..<count {
            run(UnsafeBufferPointer(rebasing: signals[(b * length)..<((b + 1) * length)]), output: output,
                into: UnsafeMutableBufferPointer(rebasing: out[(b * block)..<((b + 1) * block)]), work: work)
        }
    }

    func checkedFrameCount(_ length: Int) throws -> Int {
        guard length > 0 else { throw SignalError("the signal is empty", fix: "pass a recording with at least one sample") }
        let frames = frameCount(length: length)
        guard frames > 0 else {
            throw SignalError("the signal has \(length) samples, fewer than n_fft = \(nFFT) without centring",
                              fix: "use a longer signal, a smaller n_fft, or center = \"reflect\"")
        }
        return frames
    }

    /// The fused kernel. `out` has room for bins × frameCount(signal.count) floats.
    func run(_ signal: UnsafeBufferPointer<Float>, output: STFTOutput, into out: UnsafeMutableBufferPointer<Float>,
             work: STFTWorkspace) {
        let frames = frameCount(length: signal.count)
        let n = nFFT, pad = padAmount
        // The padded signal, built once: frames then read it without edge tests.
        let padded = work.padded(length: signal.count + 2 * pad)
        fillPadding(padded, signal: signal, pad: pad)
        let input = work.input.base, spectrum = work.spectrum.base
        let nb = bins, t = tile
        window.withUnsafeBufferPointer { win in
            let w = win.baseAddress!
            var t0 = 0
            while t0 < frames {
                let valid = min(t, frames - t0)
                // Frame + window: tile rows of n samples.
                if allowAVX2 && STFT.hasAVX2 {
                    qeml_stft_frames_avx2(padded + t0 * hop, hop, valid, w, n, input)
                } else {
                    for j in 0..<valid {
                        let src = padded + (t0 + j) * hop
                        let dst = input + j * n
                        var k = 0
                        while k + 8 <= n {
                            let v = UnsafeRawPointer(src + k).loadUnaligned(as: SIMD8<Float>.self)
                                * UnsafeRawPointer(w + k).loadUnaligned(as: SIMD8<Float>.self)
                            UnsafeMutableRawPointer(dst + k).storeBytes(of: v, as: SIMD8<Float>.self)
                            k += 8
                        }
                        while k < n { dst[k] = src[k] * w[k]; k += 1 }
                    }
                }
                work.plan.execute(input: work.input, output: work.spectrum)
                // Epilogue: bin f of the tile's frames is contiguous (re, im interleaved).
                if allowAVX2 && STFT.hasAVX2 {
                    let mode: Int32 = output == .power ? 0 : output == .magnitude ? 1 : 2
                    qeml_stft_epilogue_avx2(spectrum, t, valid, nb, out.baseAddress! + t0, frames, mode)
                } else {
                    switch output {
                    case .power: epilogue(spectrum, tile: t, valid: valid, bins: nb, out: out.baseAddress! + t0, stride: frames) { $0 }
                    case .magnitude: epilogue(spectrum, tile: t, valid: valid, bins: nb, out: out.baseAddress! + t0, stride: frames) { vectorSqrt($0) }
                    case .log1p: epilogue(spectrum, tile: t, valid: valid, bins: nb, out: out.baseAddress! + t0, stride: frames) { vectorLog1p(vectorSqrt($0)) }
                    }
                }
                t0 += t
            }
        }
    }

    /// AVX2 + FMA present (checked once): eight lanes and fused multiply-adds for framing and epilogue.
    static let hasAVX2 = qeml_signal_avx2_available() != 0

    /// |X|² of `valid` frames per bin, mapped by `f`, written to `out[bin · stride + frame]`.
    @inline(__always)
    private func epilogue(_ spectrum: UnsafeMutablePointer<Float>, tile t: Int, valid: Int, bins: Int,
                          out o: UnsafeMutablePointer<Float>, stride: Int, _ f: (SIMD4<Float>) -> SIMD4<Float>) {
        for b in 0..<bins {
            let row = UnsafeRawPointer(spectrum + 2 * b * t)
            let dst = o + b * stride
            var j = 0
            while j < valid {
                let v = row.loadUnaligned(fromByteOffset: 8 * j, as: SIMD8<Float>.self)
                let re = SIMD4(v[0], v[2], v[4], v[6]), im = SIMD4(v[1], v[3], v[5], v[7])
                let r = f(vadd(vmul(re, re), vmul(im, im)))
                if j + 4 <= valid {
                    UnsafeMutableRawPointer(dst + j).storeBytes(of: r, as: SIMD4<Float>.self)
                } else {
                    for l in 0..<(valid - j) { dst[j + l] = r[l] }
                }
                j += 4
            }
        }
    }

    private func fillPadding(_ p: UnsafeMutablePointer<Float>, signal: UnsafeBufferPointer<Float>, pad: Int) {
        let n = signal.count
        // The signal shifted right by `pad`, then both margins.
        (p + pad).update(from: signal.baseAddress!, count: n)
        for i in 0..<pad {
            switch padding {
            case .reflect:
                p[pad - 1 - i] = signal[reflectIndex(-1 - i, n)]
                p[pad + n + i] = signal[reflectIndex(n + i, n)]
            case .constant, .none:
                p[pad - 1 - i] = 0
                p[pad + n + i] = 0
            }
        }
    }
}

/// numpy's `reflect` index for any distance past the ends (period 2n − 2, edge not repeated).
func reflectIndex(_ i: Int, _ n: Int) -> Int {
    guard n > 1 else { return 0 }
    let period = 2 * n - 2
    var k = i % period
    if k < 0 { k += period }
    return k < n ? k : period - k
}

/// Scratch for one STFT call (or a batch): the padded signal, one tile of frames, its spectrum.
final class STFTWorkspace {
    let plan: RealFFTPlan
    let input: FFTBuffer
    let spectrum: FFTBuffer
    private var paddedStorage: UnsafeMutablePointer<Float>?
    private var paddedCapacity = 0

    init(_ stft: STFT) {
        plan = FFTW.shared.realForward(n: stft.nFFT, howMany: stft.tile)
        input = FFTBuffer(count: stft.nFFT * stft.tile)
        spectrum = FFTBuffer(count: 2 * stft.bins * stft.tile)
    }

    func padded(length: Int) -> UnsafeMutablePointer<Float> {
        if length > paddedCapacity {
            paddedStorage?.deallocate()
            paddedStorage = UnsafeMutablePointer<Float>.allocate(capacity: length + 8)
            paddedCapacity = length
        }
        return paddedStorage!
    }

    deinit { paddedStorage?.deallocate() }
}

extension Int {
    func roundedUpToMultiple(of m: Int) -> Int { (self + m - 1) / m * m }
}
