import Foundation
import QEMLSignal

/// The model's `frontend` section for the exported runtime: the checks, and the constants and
/// tables `C/qeml_frontend.c` (the fixed code, with QEMLSignal's `FrontEnd` conventions) is
/// compiled with. Everything the signal's length does not change is a constant: the window, the
/// FFT's bit-reversal and twiddles, the mel bank, the resize taps (computed here by the same
/// formulas as QEMLSignal, so both resize alike).
enum CFrontEnd {
    /// Refuses settings the generated front end does not implement, and a network input that
    /// does not match the front end's output.
    static func check(_ fe: FrontEnd, input: BlockedStorage) throws {
        guard let length = fe.length else {
            throw ExportError("the frontend section sets no length; the exported runtime sizes its buffers for a fixed signal length",
                              fix: "add `length = <samples>` to the frontend section (signals are cropped or zero-padded to it)")
        }
        if fe.sources.contains(.envelope) {
            throw ExportError("the exported runtime's front end does not compute the Hilbert envelope (frontend envelope / channels \"envelope\")",
                              fix: "use channels = [\"rectified\"] (|x|, the envelope detector the runtime computes), or classify with `qemlc run`")
        }
        if fe.scaling != "none" {
            throw ExportError("frontend scaling = \"\(fe.scaling)\" is not supported by the exported runtime yet", fix: "export a model without the scaling setting (scaling = \"none\")")
        }
        if fe.nMels != nil, fe.sampleRate == nil {
            throw ExportError("frontend n_mels needs sample_rate: the exported runtime's mel bank is built at export time",
                              fix: "add `sample_rate = <Hz>` to the frontend section")
        }
        guard let shape = fe.outputShape(samples: length) else {
            throw ExportError("the frontend produces no frames for length = \(length)", fix: "raise length or lower n_fft")
        }
        guard input.channels == shape[1], input.height == shape[2], input.width == shape[3] else {
            throw ExportError("the frontend produces [\(shape[1]), \(shape[2]), \(shape[3])] but the model's input is [\(input.channels), \(input.height), \(input.width)]",
                              fix: "make the frontend's channels and resize match the input shape")
        }
    }

    static func isPowerOfTwo(_ n: Int) -> Bool { n > 0 && n & (n - 1) == 0 }

    /// Frames per FFT call (`FE_TILE`).
    static let tile = 8

    /// The mel bank as QEMLSignal builds it, or nil without `n_mels`.
    static func melBank(_ fe: FrontEnd) throws -> MelFilterBank? {
        guard let nMels = fe.nMels, let rate = fe.sampleRate else { return nil }
        return try MelFilterBank(sampleRate: rate, nFFT: fe.stft.nFFT, nMels: nMels, fmin: fe.fmin, fmax: fe.fmax)
    }

    /// Rows of the map before resizing: mel bands or the FFT bins kept (`fmin`…`fmax`).
    static func mapRows(_ fe: FrontEnd) -> Int { fe.nMels ?? fe.keptBins(sampleRate: fe.sampleRate ?? 1).count }

    /// Floats of the network input: every channel's [rows][cols].
    static func outputFloats(_ fe: FrontEnd) -> Int {
        let (rows, cols) = fe.resize ?? (mapRows(fe), fe.stft.frameCount(length: fe.length ?? 0))
        return fe.sources.count * rows * cols
    }

    /// Floats of the spectrogram buffer: the STFT, then (with mel bands) the mel map after it.
    static func specFloats(_ fe: FrontEnd, frames: Int) -> Int { (fe.stft.bins + (fe.nMels ?? 0)) * frames }

    /// The front end's constants and tables for `qeml_frontend.c` (which `#include`s after them):
    /// sizes, which steps run, the window, the FFT's bit-reversal and twiddles (or the DFT's
    /// table), the mel bank, the resize taps.
    static func tables(_ fe: FrontEnd) throws -> String {
        let n = fe.stft.nFFT, hop = fe.stft.hop, pad = fe.stft.padAmount
        let length = fe.length ?? 0
        let frames = fe.stft.frameCount(length: length), bins = fe.stft.bins
        let (rows, cols) = fe.resize ?? (mapRows(fe), frames)
        let mel = try melBank(fe)
        let radix2 = isPowerOfTwo(n) && n >= 2
        let scale = ["power": 0, "magnitude": 1, "log1p": 2, "db": 3][fe.scale] ?? 0
        var c: [String] = []
        c.append("""
            /* ---- front end: \(fe.spec.settings.map { "\($0.0) = \($0.1)" }.joined(separator: ", ")) ---- */
            #define FE_NFFT \(n)
            #define FE_HOP \(hop)
            #define FE_PAD \(pad)
            #define FE_LENGTH \(length)
            #define FE_FRAMES \(frames)
            #define FE_BINS \(bins)
            #define FE_ROWS \(rows)
            #define FE_COLS \(cols)
            #define FE_SAMPLE_RATE \(fe.sampleRate ?? 0)
            #define FE_CHANNELS \(fe.sources.count)
            /* the first FFT bin of the map (fmin) */
            #define FE_BIN0 \(fe.nMels == nil ? fe.keptBins(sampleRate: fe.sampleRate ?? 1).lowerBound : 0)
            #define FE_MAP_ROWS \(mapRows(fe))
            #define FE_SPEC_FLOATS \(specFloats(fe, frames: frames))
            #define FE_TILE \(tile)
            #define FE_RADIX2 \(radix2 ? 1 : 0)
            #define FE_REFLECT \(fe.stft.padding == .reflect ? 1 : 0)
            #define FE_SCALE \(scale) /* \(fe.scale) */
            #define FE_MEL \(mel != nil ? 1 : 0)
            #define FE_RESIZE \(fe.resize != nil ? 1 : 0)
            #define FE_STANDARDIZE \(fe.standardize ? 1 : 0)

            static const float fe_window[FE_NFFT] = {\(floats(fe.stft.window))};
            /* Per channel: the signal itself (0) or its full-wave rectification |x| (1), an envelope detector. */
            static const int fe_rectify[FE_CHANNELS] = {\(fe.sources.map { $0 == .rectified ? "1" : "0" }.joined(separator: ", "))};

            """)
        if radix2 {
            let m = n / 2
            let bits = m.trailingZeroBitCount
            let bitrev = (0..<m).map { k -> Int in
                var r = 0
                for b in 0..<bits where k & (1 << b) != 0 { r |= 1 << (bits - 1 - b) }
                return r
            }
            // Stage twiddles e^(-2πij/size), j < half = size/2, stored at [half, 2·half).
            var tw = [Double](repeating: 0, count: max(2, m))
            var twIm = tw
            var half = 1
            while half < m {
                for j in 0..<half {
                    tw[half + j] = cos(-Double.pi * Double(j) / Double(half))
                    twIm[half + j] = sin(-Double.pi * Double(j) / Double(half))
                }
                half *= 2
            }
            let split = (0...m).map { Double($0) * -2 * Double.pi / Double(n) }
            c.append("""
                /* Real FFT of n = \(n): a complex radix-2 FFT of m = \(m) points, then the split step. */
                #define FE_M \(m)
                static const unsigned short fe_bitrev[FE_M] = {\(bitrev.map(String.init).joined(separator: ","))};
                static const float fe_tw_re[\(tw.count)] = {\(floats(tw.map { Float($0) }))};
                static const float fe_tw_im[\(tw.count)] = {\(floats(twIm.map { Float($0) }))};
                static const float fe_split_re[FE_M + 1] = {\(floats(split.map { Float(cos($0)) }))};
                static const float fe_split_im[FE_M + 1] = {\(floats(split.map { Float(sin($0)) }))};

                """)
        } else {
            let angles = (0..<n).map { Double($0) * -2 * Double.pi / Double(n) }
            c.append("""
                /* n = \(n) is not a power of two: a direct DFT over one table of e^(-2πij/n). */
                static const double fe_dft_re[FE_NFFT] = {\(doubles(angles.map(cos)))};
                static const double fe_dft_im[FE_NFFT] = {\(doubles(angles.map(sin)))};

                """)
        }
        if let mel {
            var first: [Int] = [], count: [Int] = [], offset: [Int] = [], weights: [Float] = []
            for m in 0..<mel.nMels {
                let row = mel.weights[(m * mel.bins)..<((m + 1) * mel.bins)]
                let lo = row.firstIndex { $0 != 0 } ?? row.startIndex, hi = (row.lastIndex { $0 != 0 } ?? (row.startIndex - 1)) + 1
                first.append(lo - row.startIndex)
                count.append(max(0, hi - lo))
                offset.append(weights.count)
                if hi > lo { weights.append(contentsOf: row[lo..<hi]) }
            }
            c.append("""
                /* Mel bands: band m over bins [first, first + count), the bank's weights from offset. */
                static const int fe_mel_first[FE_MAP_ROWS] = {\(first.map(String.init).joined(separator: ","))};
                static const int fe_mel_count[FE_MAP_ROWS] = {\(count.map(String.init).joined(separator: ","))};
                static const int fe_mel_offset[FE_MAP_ROWS] = {\(offset.map(String.init).joined(separator: ","))};
                static const float fe_mel_w[\(max(1, weights.count))] = {\(floats(weights.isEmpty ? [0] : weights))};

                """)
        }
        if fe.scale == "db" {
            c.append("""
                /* power_to_db: amin, 10 log10(max(amin, |ref|))\(fe.topDB != nil ? ", top_db" : "") */
                #define FE_DB_AMIN \(cDouble(fe.powerAmin))
                #define FE_DB_OFFSET \(cDouble(10 * log10(max(fe.powerAmin, abs(fe.powerRef)))))
                \(fe.topDB.map { "#define FE_TOP_DB \(cDouble($0))" } ?? "")

                """)
        }
        if let resize = fe.resize {
            let rowTaps = taps(from: mapRows(fe), to: resize.height), colTaps = taps(from: frames, to: resize.width)
            c.append("""
                /* Bilinear resize taps (QEMLSignal's). */
                static const int fe_row_lo[FE_ROWS] = {\(rowTaps.map { String($0.lo) }.joined(separator: ","))};
                static const int fe_row_hi[FE_ROWS] = {\(rowTaps.map { String($0.hi) }.joined(separator: ","))};
                static const float fe_row_frac[FE_ROWS] = {\(floats(rowTaps.map(\.frac)))};
                static const int fe_col_lo[FE_COLS] = {\(colTaps.map { String($0.lo) }.joined(separator: ","))};
                static const int fe_col_hi[FE_COLS] = {\(colTaps.map { String($0.hi) }.joined(separator: ","))};
                static const float fe_col_frac[FE_COLS] = {\(floats(colTaps.map(\.frac)))};

                """)
        }
        return c.joined(separator: "\n")
    }

    /// QEMLSignal's bilinear taps (`bilinearResize`), in the same Float arithmetic.
    static func taps(from n: Int, to m: Int) -> [(lo: Int, hi: Int, frac: Float)] {
        let scale = Float(n) / Float(m)
        return (0..<m).map { i in
            let src = max(0, (Float(i) + 0.5) * scale - 0.5)
            let lo = min(Int(src), n - 1)
            return (lo, min(lo + 1, n - 1), src - Float(lo))
        }
    }

    static func floats(_ v: [Float]) -> String { wrap(v.map(cFloat)) }
    static func doubles(_ v: [Double]) -> String { wrap(v.map(cDouble)) }

    /// Comma-separated, eight per line.
    static func wrap(_ items: [String]) -> String {
        stride(from: 0, to: items.count, by: 8).map { "\n    " + items[$0..<min($0 + 8, items.count)].joined(separator: ", ") }
            .joined(separator: ",") + "\n"
    }
}
